// Live payments: Stripe's Payment Element collects the card inside Stripe's iframe and
// confirms the PaymentIntent; Stripe then sends the customer back to the order page.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || !form.dataset.stripeKey || typeof Stripe === "undefined") {
    return;
  }
  // Stripe's form and its messages in the page's language.
  var stripe = Stripe(form.dataset.stripeKey, { locale: form.dataset.locale || "auto" });
  var elements = stripe.elements({ clientSecret: form.dataset.secret });
  elements.create("payment").mount("#payment-element");
  var button = form.querySelector("button[type=submit]");
  var result = document.getElementById("payment-result");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    result.textContent = form.dataset.msgProcessing;
    stripe
      .confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (outcome) {
        // Only reached when the payment could not be confirmed (a redirect happens otherwise).
        result.textContent = outcome.error.message;
        result.classList.add("payment-result--error");
        button.disabled = false;
      });
  });
})();

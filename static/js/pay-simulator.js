// Offline payments: the card number goes from the browser straight to the Stripe
// simulator (as Stripe.js would send it to Stripe), never to the shop's server.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || !form.dataset.simulator) {
    return;
  }
  var input = form.querySelector("#card-number");
  var button = form.querySelector("button[type=submit]");
  var result = document.getElementById("payment-result");
  // The page's language: the messages come translated in data-msg-* attributes, and
  // Stripe's own (English) messages through the data-messages map.
  var text = form.dataset;
  var stripeMessages = JSON.parse(text.messages || "{}");

  function show(message, isError) {
    result.textContent = message;
    result.classList.toggle("payment-result--error", Boolean(isError));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var number = input.value.replace(/[\s-]/g, "");
    if (!/^\d{12,19}$/.test(number)) {
      show(text.msgNumber, true);
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    button.disabled = true;
    show(text.msgProcessing);
    var body = new URLSearchParams();
    body.set("payment_method_data[type]", "card");
    body.set("payment_method_data[card][number]", number);
    body.set("client_secret", form.dataset.secret);
    var url = form.dataset.simulator + "/v1/payment_intents/" +
      encodeURIComponent(form.dataset.intent) + "/confirm";
    fetch(url, {
      method: "POST",
      headers: {
        "Authorization": "Bearer " + form.dataset.key,
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: body
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (answer) {
        var status = answer.data.status;
        if (answer.ok && (status === "succeeded" || status === "processing")) {
          show(text.msgReceived);
          window.location.assign(form.dataset.next);
          return;
        }
        var error = answer.data.error || {};
        show(stripeMessages[error.message] || error.message || text.msgFailed, true);
        button.disabled = false;
        input.select();
      })
      .catch(function () {
        show(text.msgUnreachable, true);
        button.disabled = false;
      });
  });
})();

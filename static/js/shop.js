// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Forms marked data-once: a second click while the first submit is on its way does
  // nothing (the server's idempotency token covers resubmits that get through anyway).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = "true";
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.setAttribute("aria-disabled", "true");
      });
    });
  });

  // Forms marked data-confirm ask before they submit (cancelling an order cannot be
  // undone); without scripts they submit at once, as they always did.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });

  // The reservation countdown on the payment page.
  var countdown = document.querySelector("[data-countdown]");
  if (countdown) {
    var text = countdown.querySelector("[data-countdown-text]");
    var deadline = Date.now() + Number(countdown.dataset.seconds) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = String(left % 60).padStart(2, "0");
      text.textContent = minutes + ":" + seconds + " min";
      if (left > 0) {
        return;
      }
      clearInterval(timer);
      countdown.hidden = true;
      var expired = document.querySelector("[data-countdown-expired]");
      if (expired) {
        expired.hidden = false;
      }
      document.querySelectorAll("#payment-form input, #payment-form button").forEach(function (el) {
        el.disabled = true;
      });
    };
    var timer = setInterval(tick, 1000);
    tick();
  }
})();

// While an order waits for its payment, ask the shop every 2 s whether a webhook has
// moved it; reload the page once it has (timeline and actions change with it).
(function () {
  "use strict";
  var badge = document.querySelector("[data-poll]");
  if (!badge) {
    return;
  }
  var current = badge.dataset.status;
  var poll = function () {
    fetch(badge.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.status !== current) {
          badge.textContent = data.label;
          badge.className = "status status--" + data.status;
          window.location.reload();
          return;
        }
        setTimeout(poll, 2000);
      })
      .catch(function () {
        setTimeout(poll, 2000);
      });
  };
  setTimeout(poll, 2000);
})();

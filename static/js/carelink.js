// CareLink: small behaviours that do not need a framework.
(function () {
  "use strict";

  // Idle logoff. The server ends the session N seconds after the last request;
  // this only makes the screen follow, so record content does not stay on an
  // unattended display. Reloading lands on the sign-in page.
  var seconds = parseInt(document.body.dataset.idleLogoutSeconds || "", 10);
  if (seconds > 0) {
    var timer = null;
    var arm = function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () { window.location.reload(); }, (seconds + 5) * 1000);
    };
    arm();
    // Every htmx request reaches the server and so extends the session.
    document.addEventListener("htmx:after:request", arm);
  }

  // Confirm destructive or exceptional actions (revoke consent, break the glass).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
})();

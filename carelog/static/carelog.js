// carelog on a shared tablet: sign out when idle, tell the server while the tablet is in use.
(function () {
  "use strict";
  var body = document.body;
  var userId = body.dataset.user;
  if (!userId) { return; }

  var idleMs = Number(body.dataset.idleMinutes || 15) * 60 * 1000;
  var lastActivity = Date.now();
  var lastPing = Date.now();
  var PING_EVERY_MS = 60 * 1000;

  function keepAlive() {
    if (Date.now() - lastPing < PING_EVERY_MS) { return; }
    lastPing = Date.now();
    fetch(body.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": body.dataset.csrf },
      credentials: "same-origin"
    }).catch(function () { /* offline: the draft is kept locally anyway */ });
  }

  function activity() {
    lastActivity = Date.now();
    keepAlive();
  }
  ["pointerdown", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });
  document.addEventListener("carelog:busy", activity);

  window.setInterval(function () {
    if (Date.now() - lastActivity >= idleMs) {
      window.location.assign(body.dataset.signInUrl);
    }
  }, 15 * 1000);

  window.carelog = { userId: userId, activity: activity };
})();

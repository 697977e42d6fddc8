// carelog's service worker: keeps the app's own files and the offline page shells, so the
// board and the session forms open with no connection. It keeps no one's data: the roster and
// the outbox live in the page's storage, and pages with resident data are never cached.
"use strict";
var VERSION = {{ version|tojson }};
var CACHE = "carelog-shell-" + VERSION;
var URLS = {{ urls|tojson }};
var BOARD = /^\/ward\/?$/;
var SESSION_FORM = /^\/residents\/\d+\/session$/;
var FOLLOW_UPS = /^\/ward\/follow-ups$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(URLS.map(function (url) { return new Request(url, { cache: "reload" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("carelog-shell-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

var PATIENCE_MS = 5000;

function hasShell(path) {
  return BOARD.test(path) || SESSION_FORM.test(path) || FOLLOW_UPS.test(path);
}

function shellFor(path) {
  if (BOARD.test(path)) { return "/offline/board"; }
  if (SESSION_FORM.test(path)) { return "/offline/session"; }
  if (FOLLOW_UPS.test(path)) { return "/offline/follow-ups"; }
  return "/offline/unavailable";
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    // Always the server's page when it answers; the page kept on the tablet when it cannot be
    // reached, or when a proxy in front of it says it is down (502, 503, 504). Wi-Fi that is
    // connected but carries nothing leaves a request hanging for minutes: the board, the form
    // and the follow-ups (fast pages on the server) wait PATIENCE_MS for it, then are drawn here.
    var kept = function () {
      return caches.open(CACHE).then(function (cache) { return cache.match(shellFor(url.pathname)); });
    };
    var answered = fetch(request).then(function (response) {
      return [502, 503, 504].indexOf(response.status) === -1 ? response : kept().then(function (shell) {
        return shell || response;
      });
    }, kept);
    if (!hasShell(url.pathname)) { event.respondWith(answered); return; }
    var waited = new Promise(function (resolve) { setTimeout(resolve, PATIENCE_MS); }).then(kept);
    event.respondWith(Promise.race([answered, waited]));
    return;
  }
  if (URLS.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(url.pathname).then(function (kept) {
        return kept || fetch(request);
      });
    }));
  }
});

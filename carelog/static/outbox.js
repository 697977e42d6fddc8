// carelog's outbox: a session saved while the tablet is offline waits on the tablet and is
// sent when the connection returns (on each page, when the tablet comes back online, every 30
// seconds while any wait, and on "Send now"). Each entry keeps its form's one-time key, so a
// second sending is only ever answered as a replay: nothing twice. Entries belong to the nurse
// who saved them and are sent only while she is signed in; a refusal is kept, with the
// server's words, until she opens it.
(function () {
  "use strict";
  var body = document.body;
  var userId = body.dataset.user;
  if (!userId || !window.indexedDB || !window.fetch) { return; }
  var DB_NAME = "carelog-outbox";
  var STORE = "entries";
  var EVERY_MS = 30 * 1000;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = window.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function inStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }
  function mine() {
    return inStore("readonly", function (store) { return store.getAll(); }).then(function (entries) {
      return (entries || []).filter(function (e) { return e.user === userId; })
        .sort(function (a, b) { return a.savedAt - b.savedAt; });
    });
  }
  function put(entry) { return inStore("readwrite", function (store) { return store.put(entry); }); }
  function remove(key) { return inStore("readwrite", function (store) { return store.delete(key); }); }

  // ---- What every page shows ----------------------------------------------------------------
  var panel = document.querySelector("[data-outbox]");
  function clock(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function show() {
    if (!panel) { return Promise.resolve(); }
    return mine().then(function (entries) {
      var waiting = entries.filter(function (e) { return e.state === "waiting"; });
      var attention = entries.filter(function (e) { return e.state === "attention"; });
      var count = panel.querySelector("[data-outbox-count]");
      var list = panel.querySelector("[data-outbox-attention]");
      panel.hidden = !waiting.length && !attention.length && navigator.onLine;
      panel.classList.toggle("offline", !navigator.onLine);
      var state = "Nothing waiting to send";
      if (waiting.length) {
        state = waiting.length + (waiting.length === 1 ? " entry" : " entries") + " waiting to send";
      } else if (attention.length) {
        state = attention.length + (attention.length === 1 ? " entry needs" : " entries need") +
          " attention: the server refused it";
      }
      count.textContent = (navigator.onLine ? "" : "Offline. ") + state;
      panel.querySelector("[data-outbox-send]").hidden = !waiting.length;
      list.textContent = "";
      attention.forEach(function (entry) {
        var item = document.createElement("li");
        item.textContent = entry.title + " (saved " + clock(entry.savedAt) + "): " + entry.message + " ";
        var open = document.createElement("a");
        open.href = entry.page;
        open.textContent = "Open and fix";
        open.addEventListener("click", function () { remove(entry.key); });
        item.appendChild(open);
        list.appendChild(item);
      });
    });
  }

  // ---- Saving while offline ----------------------------------------------------------------
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented || navigator.onLine) { return; }
      event.preventDefault();
      var key = form.elements.namedItem("submission_key");
      if (!key || !key.value) { return; }
      var heading = document.querySelector("h1");
      var entry = {
        key: key.value,
        user: userId,
        url: form.action,
        page: window.location.pathname,
        body: new URLSearchParams(new FormData(form)).toString(),
        title: heading ? heading.textContent.replace(/\s+/g, " ").trim() : document.title,
        savedAt: Date.now(),
        state: "waiting",
        message: ""
      };
      put(entry).then(function () {
        var notice = document.createElement("p");
        notice.className = "flash flash-info outbox-notice";
        notice.setAttribute("role", "status");
        notice.textContent = "No connection: saved on this tablet at " + clock(entry.savedAt) +
          ", waiting to send. It is sent by itself when the connection returns.";
        form.parentNode.insertBefore(notice, form);
        return show();
      });
    });
  });

  // ---- Sending --------------------------------------------------------------------------------
  var sending = false;
  function forgetDraft(key) {
    try {
      var store = window.localStorage;
      for (var i = store.length - 1; i >= 0; i--) {
        var name = store.key(i);
        if (name && name.indexOf("carelog:draft:" + userId + ":") === 0) {
          var draft = JSON.parse(store.getItem(name) || "null");
          if (draft && draft.submissionKey === key) { store.removeItem(name); }
        }
      }
    } catch (e) { /* storage blocked: the board drops a saved draft anyway */ }
  }
  function refusal(response) {
    return response.text().then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      function texts(selector) {
        var found = [];
        page.querySelectorAll(selector).forEach(function (el) {
          var text = el.textContent.replace(/\s+/g, " ").trim();
          if (text && found.indexOf(text) === -1) { found.push(text); }
        });
        return found;
      }
      var words = texts(".error, .flash-error");
      if (!words.length) { words = texts("main p").slice(0, 1); }
      return words.slice(0, 2).join(" ") || ("The server refused it (" + response.status + ").");
    });
  }
  function sendOne(entry) {
    // The form's token belonged to the sign-in it was typed in; she may have signed in again
    // since (after an idle sign-out): send it with this page's, which is hers too.
    var fields = new URLSearchParams(entry.body);
    if (body.dataset.csrf) { fields.set("csrf_token", body.dataset.csrf); }
    return fetch(entry.url, {
      method: "POST",
      body: fields.toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Carelog-Outbox": "1" },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.ok && /\/sessions\/\d+/.test(response.url)) {
        forgetDraft(entry.key);
        return remove(entry.key);
      }
      if (/\/auth\/sign-in/.test(response.url) || response.status === 401 || response.status >= 500) {
        return null;  // signed out, or the server is busy or down: it waits and is tried again
      }
      return refusal(response).then(function (message) {
        entry.state = "attention";
        entry.message = message;
        return put(entry);
      });
    }, function () { return null; });  // no connection after all: it waits
  }
  function send() {
    if (sending || !navigator.onLine) { return show(); }
    sending = true;
    return mine().then(function (entries) {
      return entries.filter(function (e) { return e.state === "waiting"; }).reduce(function (done, entry) {
        return done.then(function () { return sendOne(entry); });
      }, Promise.resolve());
    }).catch(function () { /* tried again on the next trigger */ }).then(function () {
      sending = false;
      return show();
    });
  }
  if (panel) {
    panel.querySelector("[data-outbox-send]").addEventListener("click", send);
  }
  window.addEventListener("online", send);
  window.addEventListener("offline", show);
  window.setInterval(function () { if (navigator.onLine) { send(); } }, EVERY_MS);
  send();
})();

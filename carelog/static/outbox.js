// carelog's outbox: entries a nurse saves with no connection (or with the server down) wait on
// the tablet, sealed, and are sent exactly once when it can be reached again.
//
// - Signed: each entry is signed with the key of the sign-in it was made in (from the roster,
//   kept as a non-extractable WebCrypto key and forgotten at sign-out or a switch), so it is
//   recorded as hers whoever is signed in when it is sent.
// - Sealed: each entry is encrypted to the server's public key (ECDH P-256, HKDF, AES-GCM);
//   nobody can read it from the tablet's storage, and a changed one is refused.
// - Exactly once: its one-time key goes with it; a resend is answered as a replay.
// - Sent oldest first when a page loads, when the connection returns, every 30 seconds while
//   any wait and on "Send now"; 503 or 429 with Retry-After pauses it that long. No Background
//   Sync (iPads have none). Tabs take turns (Web Locks) and the server drops doubles anyway.
// - What the nurse may read (the roster, which residents her waiting entries are for, why one
//   was refused) is kept for her only while she is signed in.
(function () {
  "use strict";
  var body = document.body;
  var subtle = window.crypto && window.crypto.subtle;
  if (!window.indexedDB || !window.fetch || !window.localStorage) { return; }
  var shell = body.dataset.offlinePage;  // a page drawn on the tablet (offline.js)
  var userId = body.dataset.user || "";
  var store = window.localStorage;
  var CURRENT = "carelog:current";
  var ROSTER = "carelog:roster:";
  var PENDING = "carelog:pending:";
  var ACTIVE = "carelog:active:";  // when she last touched the tablet (carelog.js)
  // Requests the page makes by itself: the server does not count them as use (idle limit).
  var BACKGROUND = { "X-Carelog-Background": "1" };
  var FLASH = "carelog:flash";
  var EVERY_MS = 30 * 1000;
  var ROSTER_EVERY_MS = 60 * 1000;
  var REPEAT_MS = 120 * 60 * 1000;
  var SEAL_INFO = new TextEncoder().encode("carelog offline entry v1");

  // ---- Storage ------------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = window.indexedDB.open("carelog-offline", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("entries", { keyPath: "key" });
        request.result.createObjectStore("keys", { keyPath: "user" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function inStore(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode);
        var request = work(transaction.objectStore(name));
        transaction.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }
  function allEntries() {
    return inStore("entries", "readonly", function (s) { return s.getAll(); }).then(function (list) {
      return (list || []).sort(function (a, b) { return a.savedAt - b.savedAt; });
    });
  }
  function putEntry(entry) { return inStore("entries", "readwrite", function (s) { return s.put(entry); }); }
  function dropEntry(key) { return inStore("entries", "readwrite", function (s) { return s.delete(key); }); }
  function json(name) {
    try { return JSON.parse(store.getItem(name) || "null"); } catch (e) { return null; }
  }
  function pending(user) { return json(PENDING + user) || {}; }
  function setPending(user, map) {
    if (Object.keys(map).length) { store.setItem(PENDING + user, JSON.stringify(map)); }
    else { store.removeItem(PENDING + user); }
  }
  function roster(user) { return user ? json(ROSTER + user) : null; }

  // ---- Forgetting: a switch or a sign-out leaves only sealed entries --------------------------
  function forgetAllBut(keep) {
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (!name) { continue; }
      var owned = name.indexOf(ROSTER) === 0 || name.indexOf(PENDING) === 0 || name.indexOf(ACTIVE) === 0;
      if (owned && name.slice(name.lastIndexOf(":") + 1) !== keep) { store.removeItem(name); }
    }
    if (!keep) { store.removeItem(CURRENT); }
    return inStore("keys", "readwrite", function (s) {
      var request = s.getAllKeys();
      request.onsuccess = function () {
        request.result.forEach(function (user) { if (user !== keep) { s.delete(user); } });
      };
      return request;
    }).catch(function () { /* nothing kept */ });
  }
  window.carelogForget = function () { return forgetAllBut(""); };
  var forgotten;
  if (shell) {
    userId = body.dataset.user || "";  // offline.js set it from the roster it found
    forgotten = Promise.resolve();
  } else {
    if (userId) { store.setItem(CURRENT, userId); }
    forgotten = forgetAllBut(userId);
  }
  document.querySelectorAll("form[data-clears-drafts]").forEach(function (form) {
    form.addEventListener("submit", function () { forgetAllBut(""); });
  });
  document.querySelectorAll("[data-offline-sign-out]").forEach(function (button) {
    // On a page kept on the tablet: forget her roster and key here and now.
    button.addEventListener("click", function () {
      forgetAllBut("").then(function () { window.location.reload(); });
    });
  });

  // ---- Crypto -------------------------------------------------------------------------------
  function b64(bytes) {
    var text = "";
    new Uint8Array(bytes).forEach(function (b) { text += String.fromCharCode(b); });
    return window.btoa(text);
  }
  function unb64(text) {
    return Uint8Array.from(window.atob(text), function (c) { return c.charCodeAt(0); });
  }
  function seal(sealKey, text) {
    var ecdh = { name: "ECDH", namedCurve: "P-256" };
    return Promise.all([
      subtle.importKey("raw", unb64(sealKey), ecdh, false, []),
      subtle.generateKey(ecdh, true, ["deriveBits"])
    ]).then(function (both) {
      var server = both[0], mine = both[1];
      return subtle.deriveBits({ name: "ECDH", public: server }, mine.privateKey, 256).then(function (bits) {
        return subtle.importKey("raw", bits, "HKDF", false, ["deriveKey"]);
      }).then(function (shared) {
        return subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: SEAL_INFO },
          shared, { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
      }).then(function (aes) {
        var iv = window.crypto.getRandomValues(new Uint8Array(12));
        return Promise.all([
          subtle.encrypt({ name: "AES-GCM", iv: iv }, aes, new TextEncoder().encode(text)),
          subtle.exportKey("raw", mine.publicKey)
        ]).then(function (done) { return { epk: b64(done[1]), iv: b64(iv), data: b64(done[0]) }; });
      });
    });
  }

  // ---- The roster and the sign-in's key -------------------------------------------------------
  var carer = !!document.querySelector("[data-outbox]") && !shell && userId;
  function refreshRoster(force) {
    if (!carer || !subtle || !navigator.onLine) { return Promise.resolve(); }
    var kept = roster(userId);
    if (!force && kept && Date.now() - kept.fetchedAt < ROSTER_EVERY_MS) { return Promise.resolve(); }
    return fetch("/offline/roster", { credentials: "same-origin", headers: Object.assign({ Accept: "application/json" }, BACKGROUND) })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { return forgetAllBut("").then(function () { return null; }); }
        return response.ok && !response.redirected ? response.json() : null;
      })
      .then(function (fresh) {
        if (!fresh || String(fresh.user.id) !== userId) { return null; }
        var raw = unb64(fresh.signing_key);
        delete fresh.signing_key;
        return subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]).then(function (key) {
          return inStore("keys", "readwrite", function (s) {
            return s.put({ user: userId, login: fresh.login, key: key, endsAt: fresh.ends_at });
          });
        }).then(function () {
          fresh.fetchedAt = Date.now();
          store.setItem(ROSTER + userId, JSON.stringify(fresh));
          if (navigator.storage && navigator.storage.persist) { navigator.storage.persist(); }
        });
      }).catch(function () { /* no connection after all: the kept roster stands */ });
  }

  // ---- Saving on the tablet -------------------------------------------------------------------
  function clock(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function kindWords(kind) {
    return { session: "Session", declined: "Declined", not_done: "Not done", sleep: "Sleep" }[kind] || "Entry";
  }
  function complain(form, words) {
    var notice = form.querySelector(".outbox-problem") || document.createElement("p");
    notice.className = "flash flash-error outbox-problem";
    notice.setAttribute("role", "alert");
    notice.textContent = words;
    form.insertBefore(notice, form.firstChild);
  }
  function freshKey() {
    if (window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function saveOnTablet(form) {
    var kept = roster(userId);
    if (!subtle || !kept) {
      complain(form, "No connection, and this tablet cannot keep it (" + (subtle ? "sign in again when the connection returns" : "it needs a secure https address") + "). What you entered is kept here: save again when the connection returns.");
      return Promise.resolve();
    }
    return inStore("keys", "readonly", function (s) { return s.get(userId); }).then(function (signing) {
      if (!signing || signing.endsAt < Date.now()) {
        complain(form, "Your sign-in on this tablet has ended, so this cannot be kept as yours. What you entered is kept here: sign in again when the connection returns, then save.");
        return null;
      }
      var resident = Number(form.dataset.resident);
      var kind = form.dataset.entryKind;
      var mine = pending(userId);
      var now = Date.now();
      var session = form.dataset.session ? Number(form.dataset.session) : undefined;
      var earlier = Object.keys(mine).map(function (k) { return mine[k]; }).filter(function (p) {
        return kind !== "sleep" && p.resident === resident && p.kind === kind && now - p.savedAt < REPEAT_MS;
      })[0];
      var fields = [];
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrf_token" && typeof value === "string") { fields.push([name, value]); }
      });
      if (earlier) {
        if (!window.confirm(kindWords(kind) + " already saved on this tablet at " + clock(earlier.savedAt) + " for " + kept.residents.filter(function (r) { return r.id === resident; }).map(function (r) { return r.name; })[0] + ": save another?")) { return null; }
        fields.push(["repeat_confirmed", "y"]);
      }
      var keyField = form.elements.namedItem("submission_key");
      if (!keyField.value) { keyField.value = freshKey(); }
      var payload = JSON.stringify({
        v: 1, id: keyField.value, user: Number(userId), login: signing.login, resident: resident,
        session: session, kind: kind, fields: fields, saved_at: now
      });
      return subtle.sign("HMAC", signing.key, new TextEncoder().encode(payload)).then(function (signature) {
        return seal(kept.seal_key, JSON.stringify({ payload: payload, signature: b64(signature) }));
      }).then(function (sealed) {
        return putEntry({ key: keyField.value, user: userId, state: "waiting", savedAt: now, sealed: sealed });
      }).then(function () {
        var person = kept.residents.filter(function (r) { return r.id === resident; })[0];
        mine[keyField.value] = { resident: resident, name: person ? person.name : "", kind: kind, session: session, savedAt: now };
        setPending(userId, mine);
        store.removeItem("carelog:draft:" + userId + ":" + form.dataset.draft);
        store.setItem(FLASH, kindWords(kind) + (person ? " for " + person.name : "") +
          " saved on this tablet at " + clock(now) + ", waiting to send. It is sent by itself when the connection returns.");
        window.location.assign(form.dataset.after || "/ward/");
        return true;
      });
    });
  }
  function reachable() {
    if (!navigator.onLine) { return Promise.resolve(false); }
    var stop = window.AbortController ? new AbortController() : { signal: undefined, abort: function () {} };
    var timer = window.setTimeout(function () { stop.abort(); }, 4000);
    return fetch("/offline/ping", { cache: "no-store", signal: stop.signal, headers: BACKGROUND })
      .then(function (r) { return r.status === 204; }, function () { return false; })
      .then(function (up) { window.clearTimeout(timer); return up; });
  }
  document.querySelectorAll("form[data-entry-kind]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      event.preventDefault();
      if (form.dataset.busy) { return; }
      form.dataset.busy = "1";
      var done = function () { delete form.dataset.busy; };
      var failed = function () {
        done();
        complain(form, "This tablet could not keep it (its browser lacks what is needed). What you entered is kept here: save again when the connection returns.");
      };
      if (shell) { saveOnTablet(form).then(done, failed); return; }
      reachable().then(function (up) {
        if (up) { form.submit(); return null; }
        return saveOnTablet(form);
      }).then(done, failed);
    });
  });

  // ---- Sending ----------------------------------------------------------------------------------
  var pausedUntil = 0;
  var sending = false;
  var reached = false;  // the server answered this page's last try (a kept page starts without)
  function settle(entry, message, answers) {
    var mine = entry.user === userId ? pending(userId) : null;
    if (message === null) {
      if (mine) { delete mine[entry.key]; setPending(userId, mine); }
      return dropEntry(entry.key);
    }
    if (mine && mine[entry.key]) {
      mine[entry.key].message = message;
      if (answers) { mine[entry.key].answers = answers; }
      setPending(userId, mine);
    }
    // Only if it is still there: another tab may have had it confirmed meanwhile.
    return inStore("entries", "readwrite", function (s) {
      var request = s.get(entry.key);
      request.onsuccess = function () {
        if (request.result) { request.result.state = "attention"; s.put(request.result); }
      };
      return request;
    });
  }
  function sendOne(entry) {
    // A request that hangs (a dead connection) is given up after 20 s and tried again later.
    var stop = new AbortController();
    var timer = window.setTimeout(function () { stop.abort(); }, 20 * 1000);
    return fetch("/offline/entries", {
      method: "POST",
      body: JSON.stringify({ id: entry.key, sealed: entry.sealed }),
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, BACKGROUND),
      credentials: "same-origin",
      signal: stop.signal
    }).then(function (response) {
      window.clearTimeout(timer);
      var json = /application\/json/.test(response.headers.get("Content-Type") || "");
      if (response.redirected || !json) { reached = false; return false; }  // not carelog answering
      reached = true;
      if (response.status === 200 || response.status === 201) {
        return response.json().then(function (answer) {
          if (answer.state !== "saved") { return false; }
          return settle(entry, null).then(function () { return true; });
        });
      }
      if (response.status === 429 || response.status >= 500) {
        var wait = Number(response.headers.get("Retry-After")) || 5;
        pausedUntil = Date.now() + wait * 1000;
        window.setTimeout(send, wait * 1000 + 50);
        return false;
      }
      return response.json().catch(function () { return {}; }).then(function (answer) {
        return settle(entry, answer.error || ("Refused by the server (" + response.status + ")."), answer.answers);
      }).then(function () { return true; });
    }, function () {  // no connection after all, or no answer: it waits
      window.clearTimeout(timer);
      reached = false;
      return false;
    });
  }
  function sendAll() {
    return allEntries().then(function (entries) {
      var waiting = entries.filter(function (e) { return e.state === "waiting"; });
      if (!waiting.length && shell) {  // a kept page with nothing to send: is the server back?
        return reachable().then(function (up) { reached = up; });
      }
      return waiting.reduce(function (going, entry) {
        return going.then(function (on) { return on ? sendOne(entry) : false; });
      }, Promise.resolve(true));
    });
  }
  function send() {
    if (sending || !navigator.onLine || Date.now() < pausedUntil) { return show(); }
    sending = true;
    var round = navigator.locks ? navigator.locks.request("carelog-outbox", sendAll) : sendAll();
    return round.catch(function () { /* tried again on the next trigger */ }).then(function () {
      sending = false;
      return show();
    });
  }

  // ---- What every page shows ------------------------------------------------------------------
  var panel = document.querySelector("[data-outbox]");
  function show() {
    if (!panel) { return Promise.resolve(); }
    return allEntries().then(function (entries) {
      var waiting = entries.filter(function (e) { return e.state === "waiting"; });
      var hers = waiting.filter(function (e) { return e.user === userId; }).length;
      var attention = entries.filter(function (e) { return e.state === "attention" && e.user === userId; });
      var mine = pending(userId);
      panel.hidden = false;  // every page says whether the tablet is online and what waits
      panel.classList.toggle("offline", !navigator.onLine || !!shell);
      panel.classList.toggle("quiet", !waiting.length && !attention.length && navigator.onLine && !shell);
      var words = "Nothing waiting to send";
      if (waiting.length) {
        words = waiting.length + (waiting.length === 1 ? " entry" : " entries") + " waiting to send" +
          (hers && hers < waiting.length ? " (" + hers + " yours)" : "");
      } else if (attention.length) {
        words = attention.length + (attention.length === 1 ? " entry needs" : " entries need") + " attention";
      }
      panel.querySelector("[data-outbox-count]").textContent =
        (navigator.onLine ? (shell ? (reached ? "Connected again. " : "No answer from the server. ") : "Online. ") : "Offline. ") + words;
      panel.querySelector("[data-outbox-send]").hidden = !waiting.length;
      var reload = panel.querySelector("[data-outbox-reload]");
      if (shell && navigator.onLine && reached && !reload) {
        // A page drawn on the tablet: once there is a connection, the server's page is better.
        reload = document.createElement("button");
        reload.type = "button";
        reload.className = "button secondary";
        reload.dataset.outboxReload = "";
        reload.textContent = "Open the live page";
        reload.addEventListener("click", function () { window.location.reload(); });
        panel.querySelector("p").appendChild(reload);
      } else if (reload && !navigator.onLine) {
        reload.remove();
      }
      var list = panel.querySelector("[data-outbox-attention]");
      list.textContent = "";
      attention.forEach(function (entry) {
        var about = mine[entry.key] || {};
        var item = document.createElement("li");
        item.textContent = kindWords(about.kind) + (about.name ? " for " + about.name : "") +
          " saved " + clock(entry.savedAt) + ": " + (about.message || "refused by the server; tap Send again to see why.") + " ";
        if (about.resident) {
          var open = document.createElement("a");
          open.href = about.kind === "sleep" ? "/ward/follow-ups" : "/residents/" + about.resident + "/session";
          open.textContent = "Open and fix";
          open.addEventListener("click", function () {
            // Her answers come back as a draft of the form, to put right and save again.
            var drafts = { session: "session-", declined: "declined-", not_done: "not-done-" };
            if (about.answers && drafts[about.kind]) {
              store.setItem("carelog:draft:" + userId + ":" + drafts[about.kind] + about.resident, JSON.stringify({
                savedAt: Date.now(), url: open.getAttribute("href"), title: about.name,
                submissionKey: entry.key, fields: about.answers, timer: null, step: "0"
              }));
            }
            var map = pending(userId); delete map[entry.key]; setPending(userId, map);
            dropEntry(entry.key);
          });
          item.appendChild(open);
        }
        var again = document.createElement("button");
        again.type = "button";
        again.className = "button secondary";
        again.textContent = "Send again";
        again.addEventListener("click", function () { entry.state = "waiting"; putEntry(entry).then(send); });
        item.appendChild(document.createTextNode(" "));
        item.appendChild(again);
        list.appendChild(item);
      });
      markBoard(mine, entries);
    });
  }
  function markBoard(mine, entries) {
    var waitingKeys = entries.filter(function (e) { return e.state === "waiting"; }).map(function (e) { return e.key; });
    var residents = {};
    Object.keys(mine).forEach(function (key) {
      if (waitingKeys.indexOf(key) !== -1) { residents[mine[key].resident] = mine[key]; }
    });
    document.querySelectorAll(".board-link").forEach(function (link) {
      var match = /\/residents\/(\d+)\/session/.exec(link.getAttribute("href") || "");
      var old = link.querySelector(".waiting-to-send");
      if (old) { old.remove(); }
      if (match && residents[match[1]]) {
        var tag = document.createElement("span");
        tag.className = "waiting-to-send";
        tag.textContent = kindWords(residents[match[1]].kind) + ", waiting to send";
        link.appendChild(tag);
      }
    });
  }

  var flash = store.getItem(FLASH);
  if (flash) {
    store.removeItem(FLASH);
    var main = document.getElementById("main");
    var note = document.createElement("p");
    note.className = "flash flash-info outbox-notice";
    note.setAttribute("role", "status");
    note.textContent = flash;
    if (main) { main.insertBefore(note, main.firstChild); }
  }
  if (panel) { panel.querySelector("[data-outbox-send]").addEventListener("click", send); }
  window.addEventListener("online", function () { refreshRoster(true); send(); });
  window.addEventListener("offline", show);
  window.setInterval(function () { send(); }, EVERY_MS);
  var touched = Date.now();
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(name, function () { touched = Date.now(); }, { passive: true });
  });
  window.setInterval(function () {  // kept fresh while she uses the page, not while it lies idle
    if (Date.now() - touched < ROSTER_EVERY_MS * 5) { refreshRoster(false); }
  }, ROSTER_EVERY_MS);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* no offline pages then */ });
  }
  forgotten.then(show).then(function () { return refreshRoster(false); }).then(send);
})();

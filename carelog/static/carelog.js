// carelog on a shared tablet: idle sign-out, keep-alive while in use, drafts kept on the
// tablet for the same nurse only, and the 10-minute massage timer.
(function () {
  "use strict";
  var body = document.body;
  var userId = body.dataset.user;
  if (!userId) { return; }

  // ---- Idle sign-out and keep-alive -------------------------------------------------------
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
    }).catch(function () { /* offline: drafts are kept on the tablet anyway */ });
  }
  function activity() { lastActivity = Date.now(); keepAlive(); }
  ["pointerdown", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });
  var signingOut = false;
  window.setInterval(function () {
    if (signingOut || Date.now() - lastActivity < idleMs) { return; }
    // End the session on the server too, then show the sign-in page. Drafts stay on the
    // tablet for this nurse; only the Sign out button clears them.
    signingOut = true;
    var done = function () { window.location.assign(body.dataset.signInUrl); };
    var form = new FormData();
    form.append("csrf_token", body.dataset.csrf);
    form.append("reason", "idle");
    fetch(body.dataset.signOutUrl, { method: "POST", body: form, credentials: "same-origin" })
      .then(done, done);
  }, 5 * 1000);

  // ---- Drafts -----------------------------------------------------------------------------
  var PREFIX = "carelog:draft:" + userId + ":";
  var MAX_AGE_MS = 12 * 60 * 60 * 1000;

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function readDraft(key) {
    var store = storage();
    if (!store) { return null; }
    try {
      var draft = JSON.parse(store.getItem(key));
      if (draft && Date.now() - draft.savedAt < MAX_AGE_MS) { return draft; }
    } catch (e) { /* unreadable: drop it */ }
    store.removeItem(key);
    return null;
  }
  function allDraftKeys() {
    var store = storage();
    var keys = [];
    if (!store) { return keys; }
    for (var i = 0; i < store.length; i++) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) { keys.push(key); }
    }
    return keys;
  }
  function serialise(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "submit" || el.type === "button") { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      fields.push([el.name, el.value]);
    });
    return fields;
  }
  function restoreInto(form, fields) {
    var values = {};
    fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || !(el.name in values)) { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values[el.name].indexOf(el.value) !== -1;
      } else if (el.type !== "submit" && el.type !== "button") {
        el.value = values[el.name][0];
      }
    });
    // Radios and checkboxes that were unticked in the draft are unticked here too.
    Array.prototype.forEach.call(form.elements, function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && el.name && !(el.name in values)) {
        el.checked = false;
      }
    });
  }
  function submissionKey(form) {
    var field = form.elements.namedItem("submission_key");
    return field ? field.value : "";
  }
  function touched(form) {
    return serialise(form).some(function (pair) {
      var el = form.elements.namedItem(pair[0]);
      return el && (el.type === "radio" || el.type === "checkbox" || pair[0] === "note");
    });
  }

  function watch(form) {
    var key = PREFIX + form.dataset.draft;
    var draft = readDraft(key);
    var notice = document.createElement("p");
    notice.className = "flash flash-info draft-notice";
    notice.setAttribute("role", "status");
    if (draft && draft.submissionKey) {
      restoreInto(form, draft.fields);
      if (form.timer) { form.timer.restore(draft.timer); }
      form.dataset.restoreStep = draft.step || "0";
      notice.textContent = "Restored what you had entered at " +
        new Date(draft.savedAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ". ";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button secondary";
      discard.textContent = "Start again";
      discard.addEventListener("click", function () {
        storage().removeItem(key);
        window.location.reload();
      });
      notice.appendChild(discard);
      form.insertBefore(notice, form.firstChild);
    }
    function save() {
      var store = storage();
      if (!store || !touched(form)) { return; }
      try {
        store.setItem(key, JSON.stringify({
          savedAt: Date.now(),
          url: window.location.pathname,
          title: form.dataset.residentName || document.title,
          submissionKey: submissionKey(form),
          fields: serialise(form),
          timer: form.timer ? form.timer.state() : null,
          step: form.dataset.currentStep || "0"
        }));
      } catch (e) { /* storage full or blocked: nothing more we can do here */ }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("carelog:timer", save);
  }

  function clearSavedDrafts() {
    // The saved page names its key; the board names every key this nurse saved today, so a
    // save whose answer was lost on the way back does not linger as "not saved yet".
    var saved = [];
    document.querySelectorAll("[data-saved-key], [data-saved-keys]").forEach(function (el) {
      saved = saved.concat((el.dataset.savedKey || el.dataset.savedKeys || "").split(" "));
    });
    saved = saved.filter(Boolean);
    if (!saved.length) { return; }
    allDraftKeys().forEach(function (key) {
      var draft = readDraft(key);
      if (draft && saved.indexOf(draft.submissionKey) !== -1) { storage().removeItem(key); }
    });
  }

  function listDrafts() {
    var holder = document.getElementById("draft-notice");
    if (!holder) { return; }
    var drafts = allDraftKeys().map(readDraft).filter(function (d) { return d && d.url; });
    if (!drafts.length) { return; }
    holder.textContent = "Not saved yet: ";
    drafts.forEach(function (draft, index) {
      var link = document.createElement("a");
      link.href = draft.url;
      link.textContent = draft.title;
      if (index) { holder.appendChild(document.createTextNode(", ")); }
      holder.appendChild(link);
    });
    holder.hidden = false;
  }

  document.querySelectorAll("form[data-clears-drafts]").forEach(function (form) {
    form.addEventListener("submit", function () {
      allDraftKeys().forEach(function (key) { storage().removeItem(key); });
    });
  });

  // ---- The massage timer ------------------------------------------------------------------
  function Timer(root, form) {
    var minutes = Number(root.dataset.minutes || 10);
    var display = root.querySelector(".timer-display");
    var status = root.querySelector(".timer-status");
    var startButton = root.querySelector("[data-timer-start]");
    var pauseButton = root.querySelector("[data-timer-pause]");
    var stopButton = root.querySelector("[data-timer-stop]");
    var duration = form.elements.namedItem("duration_minutes");
    var elapsedBefore = 0;
    var startedAt = null;
    var stopped = false;
    var ticking = null;

    function elapsed() { return elapsedBefore + (startedAt ? Date.now() - startedAt : 0); }
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function clock(ms) {
      var seconds = Math.floor(ms / 1000);
      return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
    }
    function render() {
      var remaining = minutes * 60 * 1000 - elapsed();
      if (remaining > 0) {
        display.textContent = clock(remaining + 999);
        display.classList.remove("timer-overtime");
      } else {
        display.textContent = "+" + clock(-remaining);
        display.classList.add("timer-overtime");
        if (startedAt) {
          status.textContent = minutes + " minutes are up. Stop when you finish.";
          root.classList.add("done");
        }
      }
      if (startedAt) { activity(); }
    }
    function buttons() {
      startButton.hidden = Boolean(startedAt);
      startButton.textContent = stopped ? "Restart timer" : (elapsedBefore ? "Resume" : "Start timer");
      pauseButton.hidden = !startedAt;
      stopButton.hidden = stopped || (!startedAt && !elapsedBefore);
    }
    function changed() { form.dispatchEvent(new Event("carelog:timer")); }
    function start() {
      if (stopped) { elapsedBefore = 0; stopped = false; root.classList.remove("done"); }
      startedAt = Date.now();
      ticking = window.setInterval(render, 250);
      status.textContent = "Timer running.";
      buttons(); render(); changed();
    }
    function pause() {
      elapsedBefore = elapsed();
      startedAt = null;
      window.clearInterval(ticking);
      status.textContent = "Paused.";
      buttons(); render(); changed();
    }
    function stop() {
      if (startedAt) { pause(); }
      stopped = true;
      var taken = Math.max(1, Math.round(elapsedBefore / 60000));
      duration.value = String(taken);
      status.textContent = "Stopped: duration set to " + taken + " minute" + (taken === 1 ? "" : "s") + ".";
      buttons(); changed();
      duration.dispatchEvent(new Event("input", { bubbles: true }));
    }
    startButton.addEventListener("click", start);
    pauseButton.addEventListener("click", pause);
    stopButton.addEventListener("click", stop);
    root.hidden = false;
    render();
    return {
      state: function () { return { elapsedBefore: elapsedBefore, startedAt: startedAt, stopped: stopped }; },
      restore: function (saved) {
        if (!saved) { return; }
        elapsedBefore = saved.elapsedBefore || 0;
        stopped = Boolean(saved.stopped);
        if (saved.startedAt) { startedAt = saved.startedAt; ticking = window.setInterval(render, 250); }
        buttons(); render();
      }
    };
  }

  // ---- One step at a time, and fields that only matter after a given answer --------------
  function Stepper(form) {
    var steps = Array.prototype.slice.call(form.querySelectorAll("[data-step]"));
    if (steps.length < 2) { return null; }
    var saveBar = form.querySelector(".save-bar");
    var indicator = document.createElement("p");
    indicator.className = "step-indicator";
    indicator.setAttribute("aria-live", "polite");
    steps[0].parentNode.insertBefore(indicator, steps[0]);
    function show(index, scroll) {
      steps.forEach(function (step, i) { step.hidden = i !== index; });
      if (saveBar) { saveBar.hidden = index !== steps.length - 1; }
      indicator.textContent = "Step " + (index + 1) + " of " + steps.length;
      form.dataset.currentStep = String(index);
      if (scroll) { indicator.scrollIntoView({ block: "start" }); }
    }
    steps.forEach(function (step, i) {
      var nav = document.createElement("div");
      nav.className = "step-nav";
      if (i > 0) {
        var back = document.createElement("button");
        back.type = "button";
        back.className = "button big secondary";
        back.textContent = "Back";
        back.addEventListener("click", function () { show(i - 1, true); });
        nav.appendChild(back);
      }
      if (i < steps.length - 1) {
        var next = document.createElement("button");
        next.type = "button";
        next.className = "button big primary";
        next.textContent = "Next: " + steps[i + 1].querySelector("h2").textContent.replace(/^\d+ · /, "");
        next.setAttribute("data-next-step", "");
        next.addEventListener("click", function () { show(i + 1, true); });
        nav.appendChild(next);
      }
      step.appendChild(nav);
    });
    var firstError = form.querySelector(".error");
    var withError = firstError ? steps.findIndex(function (s) { return s.contains(firstError); }) : -1;
    var restored = Math.min(Number(form.dataset.restoreStep || 0), steps.length - 1);
    show(withError >= 0 ? withError : restored, false);
    form.addEventListener("click", function (event) {
      if (event.target.closest(".step-nav")) { form.dispatchEvent(new Event("carelog:timer")); }
    });
    return { show: show, steps: steps };
  }

  function showWhen(form) {
    var dependants = form.querySelectorAll("[data-show-when]");
    function update() {
      dependants.forEach(function (el) {
        var rule = el.dataset.showWhen.split("=");
        var checked = form.querySelectorAll('input[name="' + rule[0] + '"]:checked');
        var visible = Array.prototype.some.call(checked, function (input) {
          return rule[1] === "*" || input.value === rule[1];
        });
        el.hidden = !visible && !el.querySelector(".error");
      });
    }
    form.addEventListener("change", update);
    form.addEventListener("carelog:restored", update);
    update();
  }

  function focusFirstError() {
    var error = document.querySelector("main .error");
    if (!error) { return; }
    var holder = error.closest(".field, fieldset") || error.parentNode;
    var input = holder.querySelector("input:not([type=hidden]), select, textarea");
    if (input) { input.focus({ preventScroll: true }); }
    holder.scrollIntoView({ block: "center" });
  }

  // ---- The board: find a resident by name or room ----------------------------------------
  var search = document.getElementById("board-search");
  if (search) {
    var boardRows = document.querySelectorAll("[data-board] [data-search]");
    var noMatch = document.getElementById("board-no-match");
    search.addEventListener("input", function () {
      var wanted = search.value.trim().toLowerCase();
      var shown = 0;
      boardRows.forEach(function (row) {
        row.hidden = Boolean(wanted) && row.dataset.search.indexOf(wanted) === -1;
        if (!row.hidden) { shown++; }
      });
      if (noMatch) { noMatch.hidden = shown > 0 || !boardRows.length; }
    });
  }

  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var timerRoot = form.querySelector("[data-timer]");
    if (timerRoot) { form.timer = new Timer(timerRoot, form); }
    watch(form);
    form.dispatchEvent(new Event("carelog:restored"));
  });
  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-show-when]")) { showWhen(form); }
    if (form.querySelector("[data-step]")) { form.stepper = new Stepper(form); }
  });
  focusFirstError();
  clearSavedDrafts();
  listDrafts();
})();

// carelog on a shared tablet: idle sign-out, keep-alive while in use, drafts kept on the
// tablet for the same nurse only, and the 10-minute massage timer.
(function () {
  "use strict";
  var body = document.body;
  var userId = body.dataset.user;

  // ---- Switch nurse: tapping a name moves straight to the PIN ------------------------------
  document.querySelectorAll("[data-switch]").forEach(function (form) {
    var pin = form.querySelector("input[name=pin]");
    form.querySelectorAll("[data-switch-name]").forEach(function (name) {
      // click, not change: after a wrong PIN her name is still chosen, and a tap must still work
      name.addEventListener("click", function () { if (pin) { pin.value = ""; pin.focus(); } });
    });
    if (pin && form.querySelector("[data-switch-name]:checked")) { pin.focus(); }
  });

  // ---- Back after a switch never shows the last nurse's page ------------------------------
  // A page kept in the browser's back-forward cache belongs to whoever was signed in when it
  // was drawn: if that is not who is signed in now, ask the server for it again.
  var WHO = "carelog:who";
  try { window.sessionStorage.setItem(WHO, userId || ""); } catch (e) { /* storage blocked */ }
  window.addEventListener("pageshow", function (event) {
    var now = null;
    try { now = window.sessionStorage.getItem(WHO); } catch (e) { return; }
    if (event.persisted && now !== (userId || "")) { window.location.reload(); }
    else { try { window.sessionStorage.setItem(WHO, userId || ""); } catch (e) { /* blocked */ } }
  });
  if (!userId) { return; }

  // ---- Idle sign-out and keep-alive -------------------------------------------------------
  var idleMs = Number(body.dataset.idleMinutes || 15) * 60 * 1000;
  var lastActivity = Date.now();
  var lastPing = Date.now();
  var PING_EVERY_MS = 60 * 1000;
  // When she last touched the tablet, kept on it: a page kept for working offline, reopened
  // after she walked away (a reload, the browser started again), signs out at once.
  var ACTIVE = "carelog:active:" + userId;
  var remembered = 0;
  function rememberActivity() {
    if (lastActivity - remembered < 10 * 1000) { return; }
    remembered = lastActivity;
    try { window.localStorage.setItem(ACTIVE, String(lastActivity)); } catch (e) { /* blocked */ }
  }
  if (body.dataset.offlinePage) {
    var kept = 0;
    try { kept = Number(window.localStorage.getItem(ACTIVE) || 0); } catch (e) { kept = 0; }
    if (kept) { lastActivity = kept; }
  }
  rememberActivity();

  function keepAlive() {
    if (Date.now() - lastPing < PING_EVERY_MS) { return; }
    lastPing = Date.now();
    fetch(body.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": body.dataset.csrf },
      credentials: "same-origin"
    }).catch(function () { /* offline: drafts are kept on the tablet anyway */ });
  }
  function activity() { lastActivity = Date.now(); rememberActivity(); keepAlive(); }
  ["pointerdown", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });
  var signingOut = false;
  function idleCheck() {
    if (signingOut || Date.now() - lastActivity < idleMs) { return; }
    // End the session on the server too, then show the sign-in page. Drafts stay on the
    // tablet for this nurse; only the Sign out button clears them.
    signingOut = true;
    var done = function () { window.location.assign(body.dataset.signInUrl); };
    var form = new FormData();
    form.append("csrf_token", body.dataset.csrf);
    form.append("reason", "idle");
    // The roster and her signing key go first (outbox.js); drafts stay for her.
    var forget = window.carelogForget ? window.carelogForget() : Promise.resolve();
    forget.catch(function () { /* nothing kept */ }).then(function () {
      return fetch(body.dataset.signOutUrl, { method: "POST", body: form, credentials: "same-origin" });
    }).then(done, done);
  }
  window.setInterval(idleCheck, 5 * 1000);
  window.setTimeout(idleCheck, 0);

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
    var used = {};  // several controls of one name (a day and a time) take their values in turn
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || !(el.name in values)) { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values[el.name].indexOf(el.value) !== -1;
      } else if (el.type !== "submit" && el.type !== "button") {
        var index = used[el.name] || 0;
        if (index < values[el.name].length) { el.value = values[el.name][index]; }
        used[el.name] = index + 1;
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
      notice.textContent = "Restored what you had entered at " + clockTime(draft.savedAt) + ". ";
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
  // The display counts down while it runs; stopped, it shows the time taken, and the duration
  // is that time in whole minutes (at least one). At the set minutes it signals once: a chime
  // served by the app, a vibration where the tablet has one, and a visible change. The screen
  // is kept awake while it runs (Screen Wake Lock API, where the browser has it).
  function Timer(root, form) {
    var minutes = Number(root.dataset.minutes || 10);
    var display = root.querySelector(".timer-display");
    var status = root.querySelector(".timer-status");
    var startButton = root.querySelector("[data-timer-start]");
    var pauseButton = root.querySelector("[data-timer-pause]");
    var stopButton = root.querySelector("[data-timer-stop]");
    var duration = form.elements.namedItem("duration_minutes");
    var chime = root.dataset.chime ? new Audio(root.dataset.chime) : null;
    var elapsedBefore = 0;
    var startedAt = null;
    var stopped = false;
    var signalled = false;
    var ticking = null;
    var wakeLock = null;

    function elapsed() { return elapsedBefore + (startedAt ? Date.now() - startedAt : 0); }
    function clock(ms) {
      var seconds = Math.floor(ms / 1000);
      return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
    }
    function keepAwake() {
      if (!("wakeLock" in navigator) || wakeLock) { return; }
      navigator.wakeLock.request("screen").then(function (lock) {
        wakeLock = lock;
        lock.addEventListener("release", function () { wakeLock = null; });
      }).catch(function () { /* refused (battery saver): the timer still runs */ });
    }
    function letSleep() {
      if (wakeLock) { wakeLock.release().catch(function () {}); wakeLock = null; }
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && startedAt) { keepAwake(); }
    });
    function signal() {
      signalled = true;
      root.classList.add("done");
      root.dataset.signalled = "yes";
      status.textContent = minutes + " minutes are up. Stop the timer when you finish.";
      if (chime) { chime.play().catch(function () { /* no sound allowed: the screen shows it */ }); }
      if (navigator.vibrate) { navigator.vibrate([300, 150, 300]); }
      root.dispatchEvent(new Event("carelog:timer-done", { bubbles: true }));
    }
    function render() {
      if (stopped) {
        display.textContent = clock(elapsedBefore);
        display.classList.remove("timer-overtime");
        return;
      }
      var remaining = minutes * 60 * 1000 - elapsed();
      if (remaining > 0) {
        display.textContent = clock(remaining + 999);
        display.classList.remove("timer-overtime");
      } else {
        display.textContent = "+" + clock(-remaining);
        display.classList.add("timer-overtime");
        if (startedAt && !signalled) { signal(); }
      }
      if (startedAt) { activity(); }
    }
    function buttons() {
      startButton.hidden = Boolean(startedAt);
      startButton.textContent = stopped ? "Restart timer" : (elapsedBefore ? "Resume" : "Start timer");
      pauseButton.hidden = !startedAt;
      stopButton.hidden = stopped || (!startedAt && !elapsedBefore);
      root.classList.toggle("stopped", stopped);
    }
    function changed() { form.dispatchEvent(new Event("carelog:timer")); }
    function start() {
      if (stopped) {
        elapsedBefore = 0; stopped = false; signalled = false;
        root.classList.remove("done"); delete root.dataset.signalled;
      }
      startedAt = Date.now();
      ticking = window.setInterval(render, 250);
      status.textContent = "Timer running.";
      keepAwake();
      buttons(); render(); changed();
    }
    function pause() {
      elapsedBefore = elapsed();
      startedAt = null;
      window.clearInterval(ticking);
      status.textContent = "Paused.";
      letSleep();
      buttons(); render(); changed();
    }
    function stop() {
      if (startedAt) { pause(); }
      stopped = true;
      var taken = Math.max(1, Math.round(elapsedBefore / 60000));
      setDuration(form, taken);
      status.textContent = "Stopped after " + clock(elapsedBefore) + ": duration " +
        plural(taken, "minute") + (elapsedBefore < 30000 ? " (the shortest that can be recorded): check it." : ".");
      buttons(); render(); changed();
    }
    startButton.addEventListener("click", start);
    pauseButton.addEventListener("click", pause);
    stopButton.addEventListener("click", stop);
    root.hidden = false;
    render();
    return {
      state: function () { return { elapsedBefore: elapsedBefore, startedAt: startedAt, stopped: stopped, signalled: signalled }; },
      restore: function (saved) {
        if (!saved) { return; }
        elapsedBefore = saved.elapsedBefore || 0;
        stopped = Boolean(saved.stopped);
        signalled = Boolean(saved.signalled);
        if (saved.startedAt) {
          startedAt = saved.startedAt;
          ticking = window.setInterval(render, 250);
          keepAwake();
        }
        buttons(); render();
      }
    };
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function clockTime(when) {  // the home's 24-hour clock
    var date = new Date(when);
    return pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  // ---- The duration: one tap for 5, 10 or 15 minutes, or any number ----------------------
  function setDuration(form, minutes) {
    var field = form.elements.namedItem("duration_minutes");
    if (!field) { return; }
    field.value = String(minutes);
    markDuration(form);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function markDuration(form) {
    var field = form.elements.namedItem("duration_minutes");
    form.querySelectorAll(".duration-choice").forEach(function (button) {
      button.setAttribute("aria-pressed", String(field && field.value === button.dataset.minutes));
    });
  }
  function durationChoices(form) {
    form.querySelectorAll(".duration-choice").forEach(function (button) {
      button.addEventListener("click", function () { setDuration(form, Number(button.dataset.minutes)); });
    });
    var field = form.elements.namedItem("duration_minutes");
    if (field) { field.addEventListener("input", function () { markDuration(form); }); }
    form.addEventListener("carelog:restored", function () { markDuration(form); });
    markDuration(form);
  }

  // ---- "Rated by" once per step ------------------------------------------------------------
  function stepRaters(form) {
    form.querySelectorAll("[data-step-rater]").forEach(function (group) {
      var step = group.closest("[data-step]") || form;
      group.addEventListener("change", function (event) {
        var chosen = event.target.value;
        step.querySelectorAll("[data-rater]").forEach(function (rating) {
          var option = form.querySelector('input[name="' + rating.dataset.rater + '"][value="' + chosen + '"]');
          if (option) { option.checked = true; }
        });
        form.dispatchEvent(new Event("change"));
        clearPageErrors(step);
      });
    });
  }

  // ---- Checking a step on Next, with the server's own words --------------------------------
  function checked(form, name) {
    var found = form.querySelector('input[name="' + name + '"]:checked');
    return found ? found.value : "";
  }
  function showPageError(holder, message) {
    holder.classList.add("has-error");
    var error = document.createElement("p");
    error.className = "error";
    error.setAttribute("data-page-check", "");
    error.textContent = message;
    holder.appendChild(error);
  }
  function clearPageErrors(scope) {
    scope.querySelectorAll("[data-page-check]").forEach(function (error) {
      var holder = error.parentNode;
      error.remove();
      if (!holder.querySelector(".error")) { holder.classList.remove("has-error"); }
    });
  }
  function problemsIn(form, step) {
    var problems = [];
    step.querySelectorAll("[data-required-message]").forEach(function (holder) {
      var hiddenPart = holder.closest("[hidden]");
      if (hiddenPart && hiddenPart !== step) { return; }  // a part shown only after some answer
      var message = holder.dataset.requiredMessage;
      if (holder.dataset.rating) {
        var answer = checked(form, holder.dataset.rating);
        if (!answer) { problems.push([holder, message]); }
        else if (/^\d+$/.test(answer) && holder.dataset.rater && !checked(form, holder.dataset.rater)) {
          problems.push([holder, "Say who gave this rating."]);
        }
      } else if (holder.dataset.choice) {
        if (message && !checked(form, holder.dataset.choice)) { problems.push([holder, message]); }
      } else if (holder.hasAttribute("data-confirm-field")) {
        var box = holder.querySelector("input[type=checkbox]");
        if (box && !box.checked) { problems.push([holder, message]); }
      } else {
        var input = holder.querySelector("input:not([type=hidden]):not([type=radio]), textarea");
        if (message && input && !input.value.trim()) { problems.push([holder, message]); }
        else if (input && input.type === "number" && input.value &&
                 (Number(input.value) < Number(input.min || -Infinity) || Number(input.value) > Number(input.max || Infinity))) {
          problems.push([holder, "Give a duration from " + input.min + " to " + input.max + " minutes."]);
        }
      }
    });
    return problems;
  }
  function checkStep(form, step) {
    clearPageErrors(step);
    var problems = problemsIn(form, step);
    problems.forEach(function (problem) { showPageError(problem[0], problem[1]); });
    if (problems.length) {
      var first = problems[0][0];
      var input = first.querySelector("input:not([type=hidden]), textarea");
      if (input) { input.focus({ preventScroll: true }); }
      first.scrollIntoView({ block: "center" });
    }
    return !problems.length;
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
    var current = 0;
    function show(index, scroll) {
      current = index;
      steps.forEach(function (step, i) { step.hidden = i !== index; });
      if (saveBar) { saveBar.hidden = index !== steps.length - 1; }
      indicator.textContent = "Step " + (index + 1) + " of " + steps.length;
      form.dataset.currentStep = String(index);
      if (scroll) { indicator.scrollIntoView({ block: "start" }); }
    }
    steps.forEach(function (step, i) {
      var nav = document.createElement("div");
      nav.className = "step-nav action-bar";
      if (i > 0) {
        var back = document.createElement("button");
        back.type = "button";
        back.className = "button big secondary";
        back.textContent = "Back";
        back.addEventListener("click", function () { show(i - 1, true); });
        nav.appendChild(back);
      }
      if (i === steps.length - 1 && saveBar) {
        // The last step's bar holds Back and Save together, always in view.
        var saveButton = saveBar.querySelector("button[type=submit]");
        if (saveButton) { nav.appendChild(saveButton); }
        step.appendChild(saveBar);  // with the "record another?" question, above the bar
      }
      if (i < steps.length - 1) {
        var next = document.createElement("button");
        var confirm = step.querySelector("[data-confirm-field] input[type=checkbox]");
        next.type = "button";
        next.className = "button big primary";
        next.textContent = confirm ? "I have read them: next" :
          "Next: " + steps[i + 1].querySelector("h2").textContent.replace(/^\d+ · /, "");
        next.setAttribute("data-next-step", "");
        next.addEventListener("click", function () {
          // The first step's button says the nurse has read the precautions: it ticks the box.
          if (confirm && !confirm.checked) {
            confirm.checked = true;
            confirm.dispatchEvent(new Event("change", { bubbles: true }));
          }
          if (checkStep(form, step)) { show(i + 1, true); }
        });
        nav.appendChild(next);
      }
      step.appendChild(nav);
    });
    clearErrorsOnAnswer(form);
    form.addEventListener("submit", function (event) {
      // Every step again before sending: a restored draft may have skipped one.
      for (var i = 0; i < steps.length; i++) {
        if (!problemsIn(form, steps[i]).length) { continue; }
        event.preventDefault();
        show(i, false);
        checkStep(form, steps[i]);
        return;
      }
    });
    var firstError = form.querySelector(".error");
    var withError = firstError ? steps.findIndex(function (s) { return s.contains(firstError); }) : -1;
    if (firstError && withError < 0) { withError = steps.length - 1; }  // by the Save button
    var restored = Math.min(Number(form.dataset.restoreStep || 0), steps.length - 1);
    show(withError >= 0 ? withError : restored, false);
    form.addEventListener("click", function (event) {
      if (event.target.closest(".step-nav")) { form.dispatchEvent(new Event("carelog:timer")); }
    });
    return { show: show, steps: steps, current: function () { return current; } };
  }

  function clearErrorsOnAnswer(form) {
    // An answer clears the page's own message beside it.
    form.addEventListener("change", function (event) {
      var holder = event.target.closest && event.target.closest("[data-required-message]");
      if (holder) { clearPageErrors(holder); }
    });
    form.addEventListener("input", function (event) {
      var holder = event.target.closest && event.target.closest("[data-required-message]");
      if (holder) { clearPageErrors(holder); }
    });
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
    // The control the message is about ("Rated by" sits in its rating's fieldset), else the first.
    var about = error.id ? error.id.replace(/-error$/, "") : "";
    var input = (about && (document.getElementById(about + "-0") || document.getElementById(about))) ||
      holder.querySelector("input:not([type=hidden]), select, textarea");
    if (input && input.type === "hidden") { input = null; }
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

  // ---- Door cards: a scanner that types, the search box, or the tablet's camera -----------
  var CARD = /R\d{1,12}-[0-9a-f]{6}/i;
  var scanButton = document.querySelector("[data-camera-scan]");
  function openCard(text) {
    window.location.assign(scanButton.dataset.scanUrl + "?code=" + encodeURIComponent(text.trim()));
  }
  function loadDecoder() {
    if (window.jsQR) { return Promise.resolve(); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = scanButton.dataset.decoderUrl;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  function qrReader() {
    // The browser's own detector where there is one (Android); jsQR, served by carelog, elsewhere.
    if ("BarcodeDetector" in window) {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return Promise.resolve(function (video) {
        return detector.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        }, function () { return null; });
      });
    }
    return loadDecoder().then(function () {
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function (video) {
        if (!video.videoWidth) { return Promise.resolve(null); }
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        var frame = context.getImageData(0, 0, canvas.width, canvas.height);
        var found = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
        return Promise.resolve(found ? found.data : null);
      };
    });
  }
  function scanWithCamera() {
    var dialog = document.getElementById("camera-scan");
    var video = dialog.querySelector("video");
    var status = dialog.querySelector("[data-camera-status]");
    var stream = null;
    var stopped = false;
    function stop() {
      stopped = true;
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
      if (dialog.open) { dialog.close(); }
    }
    dialog.querySelector("[data-camera-close]").onclick = stop;
    dialog.addEventListener("close", stop, { once: true });
    dialog.showModal();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = "This browser cannot use the camera: type the code printed under the square into the search box.";
      return;
    }
    function look(read) {
      if (stopped) { return; }
      read(video).then(function (text) {
        if (text && CARD.test(text)) { stop(); openCard(text); return; }
        window.setTimeout(function () { look(read); }, 150);
      });
    }
    qrReader().then(function (read) {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (opened) {
          stream = opened;
          if (stopped) { stop(); return; }
          video.srcObject = opened;
          return video.play().then(function () { look(read); });
        });
    }).catch(function () {
      status.textContent = "The camera could not be opened. Allow carelog to use it, or type the code printed under the square into the search box.";
    });
  }
  if (scanButton) {
    scanButton.addEventListener("click", scanWithCamera);
    var cardSearch = document.getElementById("board-search");
    if (cardSearch) {
      cardSearch.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && CARD.test(cardSearch.value)) {
          event.preventDefault();
          openCard(cardSearch.value);
        }
      });
    }
    // A scanner that types, with nothing focused: its keys come faster than anyone types.
    var scanned = "";
    var lastKeyAt = 0;
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
      var now = Date.now();
      if (now - lastKeyAt > 100) { scanned = ""; }
      lastKeyAt = now;
      if (event.key === "Enter") {
        if (CARD.test(scanned)) { event.preventDefault(); openCard(scanned); }
        scanned = "";
      } else if (event.key.length === 1) {
        scanned += event.key;
      }
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
    if (form.querySelector("[data-step-rater]")) { stepRaters(form); }
    if (form.querySelector("[data-duration-group]")) { durationChoices(form); }
  });
  // ---- Back, forward and the page cache never send a saved form again --------------------
  // A page restored from the browser's cache still holds the key of the form it sent: reload
  // it, so the nurse gets a fresh form (the server would answer a resend as a replay anyway).
  var SENT = "carelog:sent";
  function sentKeys() {
    try { return JSON.parse(window.sessionStorage.getItem(SENT) || "[]"); } catch (e) { return []; }
  }
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      try {
        window.sessionStorage.setItem(SENT, JSON.stringify(sentKeys().concat([submissionKey(form)]).slice(-50)));
      } catch (e) { /* storage blocked: the server still answers a resend as a replay */ }
    });
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    var sent = sentKeys();
    var stale = Array.prototype.some.call(document.querySelectorAll("form[data-draft]"), function (form) {
      return sent.indexOf(submissionKey(form)) !== -1;
    });
    if (stale) { window.location.reload(); }
  });

  focusFirstError();
  clearSavedDrafts();
  listDrafts();
})();

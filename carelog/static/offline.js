// The pages a tablet keeps for working offline (the board and the session form) are drawn for
// no one; this fills them from the roster kept for the nurse signed in on the tablet. It runs
// before carelog.js and outbox.js, so that drafts, the form's steps and the outbox see a page
// like the server's.
(function () {
  "use strict";
  var body = document.body;
  var page = body.dataset.offlinePage;
  if (!page) { return; }
  var roster = null;
  try {
    var who = window.localStorage.getItem("carelog:current");
    roster = who ? JSON.parse(window.localStorage.getItem("carelog:roster:" + who) || "null") : null;
  } catch (e) { roster = null; }
  if (!roster || roster.ends_at < Date.now()) {
    document.querySelectorAll("[data-roster-missing]").forEach(function (el) { el.hidden = false; });
    return;
  }
  function all(selector, work) { document.querySelectorAll(selector).forEach(work); }
  function text(selector, words) { all(selector, function (el) { el.textContent = words; }); }
  function clock(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function el(tag, className, words) {
    var made = document.createElement(tag);
    if (className) { made.className = className; }
    if (words) { made.textContent = words; }
    return made;
  }
  // The nurse, for drafts, the outbox and the idle sign-out (as a server page would say).
  body.dataset.user = String(roster.user.id);
  body.dataset.idleMinutes = String(roster.idle_minutes || 15);
  body.dataset.signInUrl = "/auth/sign-in?reason=idle";
  body.dataset.signOutUrl = "/auth/sign-out";
  body.dataset.keepaliveUrl = "/auth/keepalive";
  text("[data-roster-user]", roster.user.name + " · offline");
  text("[data-roster-ward]", roster.ward);
  text("[data-roster-refreshed]", clock(roster.refreshed_at));
  all("[data-roster-only]", function (node) { node.hidden = false; });

  function precautions(resident) {
    var list = [];
    if (resident.avoid_left) { list.push("Do not massage the left hand."); }
    if (resident.avoid_right) { list.push("Do not massage the right hand."); }
    if (resident.light_pressure) { list.push("Light pressure only."); }
    if (resident.allergies) { list.push("Allergies: " + resident.allergies + "."); }
    if (resident.product) { list.push("Product: " + resident.product + "."); }
    return list;
  }

  var pending = {};
  try { pending = JSON.parse(window.localStorage.getItem("carelog:pending:" + roster.user.id) || "{}"); } catch (e) { pending = {}; }
  var askedAlready = Object.keys(pending).map(function (k) { return pending[k].session; });
  var toAsk = (roster.follow_ups || []).filter(function (f) { return askedAlready.indexOf(f.session) === -1; });

  if (page === "follow-ups") {
    var holder = document.querySelector("[data-follow-up-list]");
    var card = document.querySelector("template[data-follow-up-card]");
    toAsk.forEach(function (ask) {
      var copy = card.content.cloneNode(true);
      copy.querySelector("[data-card-name]").textContent = ask.name;
      copy.querySelector("[data-card-room]").textContent = ask.room;
      var at = new Date(ask.massage_at);
      copy.querySelector("[data-card-when]").textContent =
        at.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" }) + " " + clock(ask.massage_at);
      var form = copy.querySelector("form");
      form.dataset.entryKind = "sleep";
      form.dataset.resident = String(ask.resident);
      form.dataset.session = String(ask.session);
      form.dataset.after = "/ward/follow-ups";
      form.dataset.residentName = ask.name;
      form.action = "/ward/follow-ups/" + ask.session;
      form.elements.namedItem("expected_version").value = String(ask.version);
      form.querySelector("button[type=submit]").textContent = "Save sleep for " + ask.name;
      holder.appendChild(copy);
    });
    document.querySelector("[data-follow-up-none]").hidden = toAsk.length > 0;
    return;
  }

  if (page === "board") {
    if (toAsk.length) {
      var ask = document.querySelector("[data-follow-up-link]");
      ask.querySelector("a").textContent = toAsk.length + " resident" + (toAsk.length === 1 ? "" : "s") +
        " to ask how they slept after a massage";
      ask.hidden = false;
    }
    var board = document.querySelector("[data-roster-board]");
    roster.residents.forEach(function (resident) {
      var row = el("li", "board-row state-" + resident.state + (resident.stop.length ? " board-stop" : ""));
      row.dataset.search = resident.search;
      var link = el("a", "board-link");
      link.href = "/residents/" + resident.id + "/session";
      var name = el("span", "resident-name");
      var inner = el("span", "", resident.name + " ");
      inner.appendChild(el("small", "", "Room " + resident.room));
      name.appendChild(inner);
      link.appendChild(name);
      link.appendChild(el("span", "board-state state-word-" + resident.state, resident.state_words));
      var detail = resident.stop.length ? "Do not massage: " + resident.stop.join(" and ") : resident.week;
      var precaution = precautions(resident).slice(0, -1).join(" ");
      link.appendChild(el("span", "board-detail", detail + (precaution ? " · " + precaution : "")));
      row.appendChild(link);
      board.appendChild(row);
    });
    var search = document.querySelector("[data-board-search]");
    search.addEventListener("input", function () {
      var wanted = search.value.trim().toLowerCase();
      board.querySelectorAll(".board-row").forEach(function (row) {
        row.hidden = wanted && row.dataset.search.indexOf(wanted) === -1;
      });
    });
    return;
  }
  if (page !== "session") { return; }

  var match = /^\/residents\/(\d+)\/session$/.exec(window.location.pathname);
  var resident = match && roster.residents.filter(function (r) { return String(r.id) === match[1]; })[0];
  if (!resident) {
    all("[data-roster-only]", function (node) { node.hidden = true; });
    var missing = document.querySelector("[data-roster-missing]");
    missing.textContent = "This resident is not on the ward kept on this tablet. Open the board to find them.";
    missing.hidden = false;
    return;
  }
  document.title = "Session · " + resident.name + " · carelog";
  text("[data-roster-name]", resident.name);
  text("[data-roster-room]", resident.room);
  var list = document.querySelector("[data-roster-precautions]");
  precautions(resident).forEach(function (words) { list.appendChild(el("li", "", words)); });
  var consent = {
    valid: "Consent: yes" + (resident.consent.hands && resident.consent.hands !== "both" ? ", " + resident.consent.hands + " hand only" : "") + ".",
    none: "No consent recorded. Ask the care manager before a massage.",
    refuses: "Consent: NO. Do not massage.",
    review_overdue: "Consent review overdue. Do not massage until it is reviewed."
  };
  text("[data-roster-consent]", consent[resident.consent.standing] || "");

  var kinds = { session: "session-", declined: "declined-", not_done: "not-done-" };
  all("form[data-offline-form]", function (form) {
    var kind = form.dataset.offlineForm;
    form.dataset.entryKind = kind;
    form.dataset.resident = String(resident.id);
    form.dataset.draft = kinds[kind] + resident.id;
    form.dataset.residentName = resident.name;
    form.action = "/residents/" + resident.id + "/session" + (kind === "session" ? "" : kind === "declined" ? "/declined" : "/not-done");
  });

  var form = document.getElementById("session-form");
  if (resident.stop.length) {
    var banner = document.querySelector("[data-roster-stop]");
    banner.textContent = "Do not give a hand massage: " + resident.stop.join(" and ") + ". Record a decline, or \"not done\" with the reason \"deferred\".";
    banner.hidden = false;
    var closed = document.querySelector("[data-roster-closed]");
    closed.textContent = "The session form is closed while " + resident.stop.join(" and ") + ".";
    closed.hidden = false;
    form.remove();
    all("[data-open-when-stopped]", function (details) { details.open = true; });
    var deferred = document.querySelector("input[name=not_done_reason][value=deferred]");
    if (deferred) { deferred.checked = true; }
    return;
  }
  function pick(name, value) {
    form.querySelectorAll("input[name=" + name + "]").forEach(function (input) {
      input.checked = input.value === value;
    });
  }
  // When it started: today and the six days before by the tablet's clock, and the time now.
  var day = form.querySelector("select[name=occurred_at]");
  var time = form.querySelector("input[name=occurred_at]");
  var now = new Date();
  if (day) {
    day.textContent = "";
    for (var n = 0; n < 7; n++) {
      var d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - n);
      var iso = d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
      var words = d.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" });
      var option = el("option", "", (n === 0 ? "Today, " : n === 1 ? "Yesterday, " : "") + words);
      option.value = iso;
      day.appendChild(option);
    }
    day.value = day.options[0].value;
  }
  if (time) { time.value = clock(now.getTime()); }
  var product = form.elements.namedItem("product");
  if (product) { product.value = resident.product || ""; }
  pick("pressure", resident.pressure);
  if (resident.hands) { pick("hands", resident.hands); }
  pick("outcome", "completed");
  var avoid = [];
  if (resident.avoid_left) { avoid.push("left", "both"); }
  if (resident.avoid_right) { avoid.push("right", "both"); }
  form.querySelectorAll("input[name=hands]").forEach(function (input) {
    if (avoid.indexOf(input.value) !== -1) {
      input.closest("label").classList.add("caution");
      input.nextElementSibling.textContent += " (precaution)";
    }
  });
})();

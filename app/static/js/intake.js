/* Điểm Tựa intake page: keyboard first, sections that follow the answers, the repeat-caller panel,
   and a sealed server-side draft every few seconds so nothing typed during a call is lost.
   Without this script the page still works: every section shows and the form posts as usual.
   Three scripts, loaded in this order: intake-drafts.js (the drafts, the session, one tab per
   intake and the save of the call), intake-merge.js (a newer copy of the draft taken in), then
   this one, which starts the other two with `intake`, what the three share. */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) { return; }
  var scripts = window.diemtuaIntake || {};
  if (!scripts.drafts || !scripts.merge) { return; }  // a part not loaded: the page as without a script
  var shortReasons = (form.dataset.shortReasons || "").split(" ");
  /* What the three scripts share, passed to each part: the elements and the state more than one
     of them uses, and this file's functions they call. intake-drafts.js adds the session's and
     the autosave's (saving, submitting, fields(), refreshToken() ...), intake-merge.js those of
     the draft copy this page shows (revision, base, takeNewer() ...). */
  var intake = {
    form: form,
    csrf: document.querySelector("meta[name=csrf-token]").content,
    keyInput: form.querySelector("[name=intake_key]"),
    statusLine: document.getElementById("draft-status"),
    linkedNotice: document.getElementById("linked-case"),
    mergedNote: document.getElementById("draft-merged"),
    phone: $("caller_phone"),
    callerType: $("caller_type"),
    callerSet: form.querySelector("[name=caller_set]"),
    // A page sent back (errors, or a save refused with a message) holds what was posted and
    // not yet in the draft: kept at the first tick.
    dirty: !!document.getElementById("form-errors") || form.dataset.posted === "yes",
    lookedUp: "",  // the number whose cases the repeat-caller panel shows
    $: $, markDirty: markDirty, lookup: lookup,
    showSections: showSections, showChild: showChild, showRisk: showRisk, showNewCase: showNewCase
  };

  function $(name) { return form.querySelector("[name=" + name + "]"); }
  function checkedValue(name) {
    var el = form.querySelector("[name=" + name + "]:checked");
    return el ? el.value : "";
  }
  function markDirty() { intake.dirty = true; }
  function nowText() {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.day + "/" + parts.month + "/" + parts.year + " " + parts.hour + ":" + parts.minute;
  }

  /* ---- sections that open as the answers need them ---- */
  var hasErrors = !!document.getElementById("form-errors");
  function typedIn(el) {
    // Something typed, ticked or chosen here (a choice other than the blank or "unknown": the
    // survivor's fields start so).
    return Array.prototype.some.call(el.querySelectorAll("input, textarea, select"), function (input) {
      if (input.tagName === "SELECT") { return input.value !== "" && input.value !== "unknown"; }
      if (input.type === "radio") { return input.checked && input.value !== "unknown"; }
      if (input.type === "checkbox") { return input.checked; }
      return input.type !== "hidden" && input.type !== "button" && input.value.trim() !== "";
    });
  }
  function holdsAnswers(el) {
    // A section is never hidden over its answers (a stray key on the reason would otherwise
    // hide them; the server says what a reason without a case drops), nor on a page sent back
    // with errors, whose answers must stay in sight.
    return hasErrors || answered(el);
  }
  function answered(el) {
    // Anything typed, ticked or chosen here. A list counts when it differs from a new form's
    // choice (data-default, from the server): a page brought back from its draft, or sent
    // back, is drawn with the operator's own choices, which count too.
    return Array.prototype.some.call(el.querySelectorAll("input, textarea, select"), function (input) {
      if (input.tagName === "SELECT") {
        if ("default" in input.dataset) { return input.value !== input.dataset.default; }
        return Array.prototype.some.call(input.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (input.type === "radio") { return input.checked && input.value !== "unknown"; }
      if (input.type === "checkbox") { return input.checked; }
      return input.type !== "hidden" && input.type !== "button" && input.value.trim() !== "";
    });
  }
  function showSections() {
    var reason = checkedValue("reason");
    form.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.hidden = el.dataset.showFor.split(" ").indexOf(reason) < 0 && !holdsAnswers(el);
    });
    form.querySelectorAll("[data-hide-for-short]").forEach(function (el) {
      el.hidden = shortReasons.indexOf(reason) >= 0 && !holdsAnswers(el);
    });
  }

  /* ---- a child under 16 puts the case on the child-protection path ---- */
  function ageFromBirth(text) {
    var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec((text || "").trim());
    if (!m) { return null; }
    // On the call's day, as the case counts it (a call written up the day after, about a
    // girl who turned 16 in between, is a child's); today as in Vietnam when none is typed,
    // whatever the office PC's own time zone.
    var called = /^(\d{1,2})\/(\d{1,2})\/(\d{4})/.exec((($("started_at") || {}).value || "").trim());
    var today = (called ? called[0] : nowText().split(" ")[0]).split("/").map(Number);  // [d, m, y]
    var age = today[2] - Number(m[3]);
    if (today[1] < Number(m[2]) || (today[1] === Number(m[2]) && today[0] < Number(m[1]))) { age -= 1; }
    return age;
  }
  function isChild() {
    // A call joining a case: the case's own flag counts (the server's), not this page's fields.
    if ((($("case_number") || {}).value || "").trim() || ($("case_id") || {}).value) { return false; }
    // The date of birth when it reads (exact, as the save counts it), else the age typed.
    var ageText = ($("survivor_age") || {}).value || "";
    var age = ageFromBirth(($("survivor_birth_date") || {}).value);
    if (age === null && ageText.trim() !== "") { age = Number(ageText); }
    if (age !== null && !isNaN(age)) { return age < 16; }
    var band = ($("survivor_age_band") || {}).value;
    if (band === "under_16") { return true; }
    if (band && band !== "unknown") { return false; }
    // A child calling for themself, or "a child is involved", and no age saying otherwise: the
    // child-protection path, as saved.
    if (($("caller_type") || {}).value === "child_self") { return true; }
    var involved = form.querySelector("[name=danger][value=child_involved]");
    return !!(involved && involved.checked);
  }
  function joinsChild() {
    // The case joined: a child's or not, as its page said; one typed by number may be.
    var linked = document.getElementById("linked-case");
    if (($("case_id") || {}).value && linked) { return linked.dataset.child === "yes"; }
    return !!((($("case_number") || {}).value || "").trim());
  }
  function showChild() {
    var child = isChild();
    document.getElementById("child-banner").hidden = !child;
    var inline = document.getElementById("child-inline");
    if (inline) { inline.hidden = !child; }
    // A child's questions (the helpline category, the child's and a guardian's consent) are
    // asked of a call joining a child's case too.
    var asked = child || joinsChild();
    form.querySelectorAll("[data-child-only]").forEach(function (el) {
      // Never put away over an answer, nor one the server refused: the save checks a child's
      // answers unless the survivor is known to be 16 or over, so none may block it unseen.
      el.hidden = !asked && !answered(el) && !el.querySelector(".has-error");
    });
  }

  /* ---- the risk checklist, scored as app/cases/risk.py does (the server decides) ---- */
  var RED_FLAGS = ["strangulation", "threats_to_kill", "weapon_used"];
  var riskLine = document.getElementById("risk-result");
  var LEVEL_TEXT = riskLine ? JSON.parse(riskLine.dataset.levels || "{}") : {};
  // "The checklist was gone through", ticked by the page with a first answer: unticked with the
  // last one taken back (a stray Space while tabbing through the boxes makes up no assessment).
  // One the operator ticks is theirs.
  var riskBy = form.querySelector("[name=risk_checked_by]");  // kept by the draft
  var riskTicked = !!riskBy && riskBy.value === "page";
  function riskTickedBy(who) {
    riskTicked = who === "page";
    if (riskBy) { riskBy.value = who; }
  }
  if (riskLine) {
    document.getElementById("risk_checked").addEventListener("change", function () { riskTickedBy("operator"); });
  }
  function showRisk() {
    if (!riskLine) { return; }
    var yes = Array.prototype.map.call(form.querySelectorAll("[name=risk_answers]:checked"), function (el) { return el.value; });
    var expecting = form.querySelector("[name=danger][value=pregnant]");
    if (yes.length && expecting && expecting.checked && yes.indexOf("pregnant") < 0) {
      yes.push("pregnant");  // told in the danger questions: counted by the checklist too (server)
    }
    var red = RED_FLAGS.filter(function (f) { return yes.indexOf(f) >= 0; }).length;
    var level = (red >= 2 || yes.length >= 10) ? "severe" : (red === 1 || yes.length >= 6) ? "high" : yes.length >= 3 ? "medium" : "low";
    var gone = document.getElementById("risk_checked");
    if (yes.length && !gone.checked) { gone.checked = true; riskTickedBy("page"); }
    if (!yes.length && riskTicked) { gone.checked = false; riskTickedBy(""); }  // taken back
    var counts = (riskLine.dataset.counts || "{yes} · {red}")
      .replace("{yes}", yes.length).replace("{red}", red);  // what the level comes from, in words
    riskLine.textContent = (riskLine.dataset.prefix || "") + " " + (LEVEL_TEXT[level] || level) +
      " (" + counts + ")";
    riskLine.dataset.level = level;
  }

  /* ---- keyboard: Enter moves on, Ctrl+Enter saves, 1-7 pick the reason ---- */
  form.addEventListener("keydown", function (event) {
    var t = event.target;
    if (window.DiemTua.enterMoves(event, form)) { return; }  // app.js: Enter never submits
    if (t.name === "reason" && /^[1-9]$/.test(event.key)) {
      var options = form.querySelectorAll("[name=reason]");
      var pick = options[Number(event.key) - 1];
      if (pick) {
        event.preventDefault();
        pick.checked = true;
        pick.focus();
        // As a click does: "input" first (it starts the call's clock on a page left open),
        // then "change".
        pick.dispatchEvent(new Event("input", { bubbles: true }));
        pick.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  });

  /* ---- times: "End now", and the time of each emergency action when ticked ---- */
  document.getElementById("end-call").addEventListener("click", function () {
    $("ended_at").value = nowText();
    markDirty();
  });
  form.querySelectorAll("[name=emergency]").forEach(function (box) {
    box.addEventListener("change", function () {
      var time = document.getElementById("emergency_time_" + box.value);
      if (box.checked && time && !time.value) { time.value = nowText(); }
      if (!box.checked && time) { time.value = ""; }  // ticked by mistake: the real time later
    });
    var time = document.getElementById("emergency_time_" + box.value);
    if (time) {  // a time typed first ticks its action: never a time kept without its action
      time.addEventListener("input", function () {
        if (time.value.trim() && !box.checked) { box.checked = true; }
      });
    }
  });

  /* ---- repeat callers: the panel fills as soon as the number is known ---- */
  var phone = intake.phone, panel = document.getElementById("repeat-panel");
  var emptyPanel = panel.innerHTML;
  var lookupTimer = null, retried = false;
  function lookup() {
    var value = phone.value.trim();
    if (value.replace(/\D/g, "").length < 7) {  // a province's landline without its area code
      // Too short to look up: another number's cases must not stay on show (nor be linked).
      if (intake.lookedUp) { intake.lookedUp = ""; panel.innerHTML = emptyPanel; shown(); }
      return;
    }
    if (value === intake.lookedUp) { return; }
    intake.lookedUp = value;
    var body = new FormData();
    body.append("phone", value);
    fetch(form.dataset.lookupUrl, {
      method: "POST", credentials: "same-origin", body: body, headers: { "X-CSRFToken": intake.csrf }
    }).then(function (r) {
      if (r.ok) { retried = false; return r.text(); }
      intake.lookedUp = "";  // not looked up: tried again on the next keystroke, blur or draft save
      panel.innerHTML = emptyPanel;  // never another number's cases on show
      shown();
      if (r.status === 401) { intake.endSession(); }
      if (r.status === 400 && !retried) {  // a stale token: once more with the new one
        retried = true;
        intake.refreshToken().then(function (ours) { if (ours) { lookup(); } });
      }
      return null;
    }).then(function (html) {
      if (html !== null && phone.value.trim() === value) { panel.innerHTML = html; shown(); }
    }).catch(function () { intake.lookedUp = ""; panel.innerHTML = emptyPanel; shown(); });
  }
  /* What is known of the number (its cases' safe contact, "Add this call to…") goes to the
     top of the side column, above the call's times, so a 1366x768 screen shows it without
     scrolling; the order of Tab stays the page's (Shift+Tab from the number reaches it). */
  function shown() {
    var found = !!panel.querySelector(".panel-case, .panel-count");
    panel.classList.toggle("found", found);
    if (found && panel.parentNode) { panel.parentNode.scrollTop = 0; }
  }
  if (phone) {
    phone.addEventListener("input", function () { clearTimeout(lookupTimer); lookupTimer = setTimeout(lookup, 400); });
    phone.addEventListener("blur", lookup);
    if (phone.value) { lookup(); }
  }
  panel.addEventListener("click", function (event) {
    var button = event.target.closest(".use-case");
    if (!button) { return; }
    $("case_number").value = button.dataset.caseNumber;
    unlink();
    if (!checkedValue("reason")) {
      var followUp = form.querySelector("[name=reason][value=follow_up]");
      if (followUp) { followUp.checked = true; }
    }
    showSections();
    showChild();
    markDirty();
    $("case_number").focus();
  });

  /* ---- the case the call joins: the number shown is the one used ---- */
  var caseNumber = $("case_number"), newCase = form.querySelector("[data-new-case]");
  var linkedNotice = intake.linkedNotice;
  function unlink() {
    // A case chosen or typed now replaces the one the page was opened for (?case=).
    if ($("case_id").value) { $("case_id").value = ""; }
    if (linkedNotice) { linkedNotice.hidden = true; }
    showNewCase();
  }
  var joinWarning = document.getElementById("join-survivor");
  function showNewCase() {
    // The survivor's details are those of a new case: a call joining a case does not change
    // it. What was typed there before the case was chosen stays in sight, with a word on it
    // (the server refuses to drop it unsaid).
    if (!newCase) { return; }
    var joining = !!(caseNumber.value.trim() || $("case_id").value);
    var holds = joining && (typedIn(newCase) || newCase.hasAttribute("data-keep-open"));
    newCase.hidden = joining && !holds;
    if (joinWarning) { joinWarning.hidden = !holds; }
  }
  if (caseNumber) { caseNumber.addEventListener("input", unlink); }

  /* ---- drafts (intake-drafts.js), then a newer copy of the draft taken in (intake-merge.js):
     the copy this page shows is read with the drafts' fields() ---- */
  scripts.drafts(intake);
  scripts.merge(intake);
  /* A page opened before the phone rang (after the last save, say) starts the call when the
     first thing is typed, not when it was opened. */
  var started = $("started_at"), startUntouched = form.dataset.fresh === "yes";
  if (started) { started.addEventListener("input", function () { startUntouched = false; }); }
  form.addEventListener("input", function (event) {
    if (!startUntouched || !started || event.target === started) { return; }
    startUntouched = false;
    started.value = nowText();
  }, true);
  form.addEventListener("input", markDirty);
  /* ---- a silent, prank or wrong-number call: no one said who was calling ---- */
  var NO_ONE_SAID = ["silent", "prank", "wrong_number"];
  // Who set the caller ("page", "operator", or nobody yet) is kept in the draft with the rest,
  // so an intake brought back still knows a "Would not say" the page chose from one the
  // operator chose (and a copy taken in says it again: intake-merge.js).
  var callerType = intake.callerType, callerSet = intake.callerSet;
  intake.callerSetByPage = !!callerSet && callerSet.value === "page";
  function callerSetBy(who) {
    intake.callerSetByPage = who === "page";
    if (callerSet) { callerSet.value = who; }
  }
  if (callerType) {
    if (callerSet && callerSet.value === "operator") { callerType.dataset.touched = "yes"; }
    callerType.addEventListener("change", function () {
      callerType.dataset.touched = "yes";  // the operator's choice is never changed
      callerSetBy("operator");
    });
  }
  function callerForReason() {
    if (!callerType || callerType.dataset.touched === "yes") { return; }
    var noOneSaid = NO_ONE_SAID.indexOf(checkedValue("reason")) >= 0;
    if (noOneSaid && callerType.value === "survivor") {
      callerType.value = "anonymous";  // the default, "the survivor", would be a guess
      callerSetBy("page");
    } else if (!noOneSaid && intake.callerSetByPage) {
      callerType.value = "survivor";
      callerSetBy("");
    }
  }
  form.addEventListener("change", function (event) {
    markDirty();
    if (event.target.name === "reason") { showSections(); callerForReason(); }
    showChild();
    showRisk();
  });
  form.addEventListener("input", function () { showChild(); });

  showSections();
  showChild();
  showRisk();
  showNewCase();
  // The errors, or a copy kept apart that was not saved, said where the eye and the keys go.
  var errors = document.getElementById("form-errors") ||
    document.querySelector("#kept-apart[data-refused]");
  if (errors) { errors.focus(); }
  else if (phone && (!document.activeElement || document.activeElement === document.body)) {
    phone.focus();  // autofocus can land late on a slow PC: the first keys go to the number
  }
  if (phone && document.activeElement === phone && phone.value) {
    // A number handed over (the phone system, a draft): the keys go after it, never before.
    phone.setSelectionRange(phone.value.length, phone.value.length);
  }
})();

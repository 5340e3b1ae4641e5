/* Điểm Tựa intake page: keyboard first, sections that follow the answers, the repeat-caller panel,
   and a sealed server-side draft every few seconds so nothing typed during a call is lost.
   Without this script the page still works: every section shows and the form posts as usual. */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) { return; }
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var shortReasons = (form.dataset.shortReasons || "").split(" ");
  var keyInput = form.querySelector("[name=intake_key]");
  var statusLine = document.getElementById("draft-status");
  var caseErased = document.getElementById("case-erased");
  var linkedNotice = document.getElementById("linked-case");
  var endedNotice = document.getElementById("session-ended");
  var otherAccount = document.getElementById("other-account");
  // A page sent back (errors, or a save refused with a message) holds what was posted and
  // not yet in the draft: kept at the first tick.
  var dirty = !!document.getElementById("form-errors") || form.dataset.posted === "yes";
  var saving = false, sessionEnded = false, lastSaved = "", formSaved = false;
  var elsewhere = false;  // the same intake open in another tab: that one saves, not this one

  document.body.dataset.keepOnSignOut = "yes";
  document.addEventListener("diemtua:signed-out", function () { endSession(); dirty = true; });

  function $(name) { return form.querySelector("[name=" + name + "]"); }
  function checkedValue(name) {
    var el = form.querySelector("[name=" + name + "]:checked");
    return el ? el.value : "";
  }
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
    if (hasErrors) { return true; }
    return Array.prototype.some.call(el.querySelectorAll("input, textarea, select"), function (input) {
      if (input.tagName === "SELECT") {
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
    // Today as in Vietnam (the server's rule), whatever the office PC's own time zone.
    var today = nowText().split(" ")[0].split("/").map(Number);  // [day, month, year]
    var age = today[2] - Number(m[3]);
    if (today[1] < Number(m[2]) || (today[1] === Number(m[2]) && today[0] < Number(m[1]))) { age -= 1; }
    return age;
  }
  function isChild() {
    // A call joining a case: the case's own flag counts (the server's), not this page's fields.
    if ((($("case_number") || {}).value || "").trim() || ($("case_id") || {}).value) { return false; }
    var ageText = ($("survivor_age") || {}).value || "";
    var age = ageText.trim() === "" ? ageFromBirth(($("survivor_birth_date") || {}).value) : Number(ageText);
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
    // A child's questions (the helpline category, the child's and a guardian's consent) are
    // asked of a call joining a child's case too.
    var asked = child || joinsChild();
    form.querySelectorAll("[data-child-only]").forEach(function (el) { el.hidden = !asked; });
  }

  /* ---- the risk checklist, scored as app/cases/risk.py does (the server decides) ---- */
  var RED_FLAGS = ["strangulation", "threats_to_kill", "weapon_used"];
  var riskLine = document.getElementById("risk-result");
  var LEVEL_TEXT = riskLine ? JSON.parse(riskLine.dataset.levels || "{}") : {};
  function showRisk() {
    if (!riskLine) { return; }
    var yes = Array.prototype.map.call(form.querySelectorAll("[name=risk_answers]:checked"), function (el) { return el.value; });
    var expecting = form.querySelector("[name=danger][value=pregnant]");
    if (yes.length && expecting && expecting.checked && yes.indexOf("pregnant") < 0) {
      yes.push("pregnant");  // told in the danger questions: counted by the checklist too (server)
    }
    var red = RED_FLAGS.filter(function (f) { return yes.indexOf(f) >= 0; }).length;
    var level = (red >= 2 || yes.length >= 10) ? "severe" : (red === 1 || yes.length >= 6) ? "high" : yes.length >= 3 ? "medium" : "low";
    if (yes.length) { document.getElementById("risk_checked").checked = true; }
    riskLine.textContent = (riskLine.dataset.prefix || "") + " " + (LEVEL_TEXT[level] || level) +
      " (" + yes.length + " · " + red + ")";
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
  var phone = $("caller_phone"), panel = document.getElementById("repeat-panel");
  var emptyPanel = panel.innerHTML;
  var lookedUp = "", lookupTimer = null, retried = false;
  function lookup() {
    var value = phone.value.trim();
    if (value.replace(/\D/g, "").length < 8) {
      // Too short to look up: another number's cases must not stay on show (nor be linked).
      if (lookedUp) { lookedUp = ""; panel.innerHTML = emptyPanel; }
      return;
    }
    if (value === lookedUp) { return; }
    lookedUp = value;
    var body = new FormData();
    body.append("phone", value);
    fetch(form.dataset.lookupUrl, {
      method: "POST", credentials: "same-origin", body: body, headers: { "X-CSRFToken": csrf }
    }).then(function (r) {
      if (r.ok) { retried = false; return r.text(); }
      lookedUp = "";  // not looked up: tried again on the next keystroke, blur or draft save
      panel.innerHTML = emptyPanel;  // never another number's cases on show
      if (r.status === 401) { endSession(); }
      if (r.status === 400 && !retried) {  // a stale token: once more with the new one
        retried = true;
        refreshToken().then(function (ours) { if (ours) { lookup(); } });
      }
      return null;
    }).then(function (html) {
      if (html !== null && phone.value.trim() === value) { panel.innerHTML = html; }
    }).catch(function () { lookedUp = ""; panel.innerHTML = emptyPanel; });
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

  /* ---- drafts: sealed on the server every few seconds while the call goes on ---- */
  function fields() {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || name === "draft_revision" || name === "draft_page") { return; }
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        if (!Array.isArray(out[name])) { out[name] = [out[name]]; }
        out[name].push(value);
      } else {
        out[name] = value;
      }
    });
    form.querySelectorAll("select[multiple], [type=checkbox]").forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(out, el.name)) { out[el.name] = []; }
    });
    return out;
  }
  function markDirty() { dirty = true; }
  function endSession() {
    sessionEnded = true;
    endedNotice.hidden = false;
  }
  document.addEventListener("diemtua:other-account", function () {
    endSession();
    otherAccount.hidden = false;
    endedNotice.hidden = true;
  });
  function resumeSession() {
    if (!sessionEnded) { return; }
    sessionEnded = false;
    document.dispatchEvent(new CustomEvent("diemtua:resumed"));
    endedNotice.hidden = true;
    otherAccount.hidden = true;
    if (phone) { lookup(); }  // the panel, if the number was typed while signed out
  }
  /* After signing in again (in another tab) this page's CSRF token is stale: fetch the new one. */
  function refreshToken() {
    return fetch(form.dataset.tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401) { endSession(); }
        return r.ok ? r.json() : null;
      })
      .then(function (answer) {
        if (!answer) { return false; }
        if (form.dataset.owner && answer.user !== form.dataset.owner) {
          // Someone else signed in on this browser: this page is not theirs to save.
          endSession();
          otherAccount.hidden = false;
          endedNotice.hidden = true;
          return false;
        }
        csrf = answer.csrf;
        document.querySelector("meta[name=csrf-token]").content = csrf;
        form.querySelector("[name=csrf_token]").value = csrf;
        return true;
      }).catch(function () { return false; });
  }
  /* One intake, one tab: a draft opened again (from the sign-in page's list, say) while the
     page that was typing it is still open defers to that page, whose copy is the newer. */
  var tabs = window.BroadcastChannel ? new BroadcastChannel("diemtua-intake") : null;
  var openedAt = [Date.now(), Math.random()];  // the older page of two keeps the intake
  function older(a, b) { return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]); }
  if (tabs) {
    tabs.onmessage = function (event) {
      var said = event.data || {};
      if (said.key !== keyInput.value) { return; }
      if (said.gone && elsewhere) {
        window.location.reload();  // the other tab is done: the intake as it saved it
        return;
      }
      if (formSaved || elsewhere || !said.at) { return; }
      if (older(said.at, openedAt)) {
        elsewhere = true;
        form.setAttribute("inert", "");  // read-only: nothing typed here could be kept
        var notice = document.getElementById("open-elsewhere");
        notice.hidden = false;
        notice.focus();
      } else if (said.ask) {
        tabs.postMessage({ key: keyInput.value, at: openedAt });  // "here, and older"
      }
    };
    tabs.postMessage({ key: keyInput.value, at: openedAt, ask: true });
  }
  var draftSent = null;  // the autosave under way, if any: a save of the form waits for it
  function saveDraft(beforeSubmit) {
    if (!dirty || saving || formSaved || elsewhere || (submitting && !beforeSubmit)) { return; }
    var typed = JSON.stringify(fields());
    if (typed === lastSaved) { dirty = false; return; }
    copies += 1;
    var snapshot = JSON.stringify({
      intake_key: keyInput.value, revision: revision, page: pageKey, seq: copies, fields: JSON.parse(typed)
    });
    saving = true; dirty = false;
    var stalled = window.AbortController ? new AbortController() : null;
    var giveUp = stalled ? window.setTimeout(function () { stalled.abort(); }, 10000) : null;
    draftSent = fetch(form.dataset.draftUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual", body: snapshot,
      signal: stalled ? stalled.signal : undefined,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (r) {
      if (r.status === 401 || r.type === "opaqueredirect") { endSession(); dirty = true; return null; }
      if (r.status === 400) { dirty = true; return refreshToken().then(function () { return null; }); }
      if (r.status === 409) {
        return r.json().catch(function () { return {}; }).then(function (answer) {
          if (answer.error === "already_saved") {  // saved (in another tab, or just now)
            formSaved = true;
            statusLine.textContent = statusLine.dataset.alreadySaved || "";
            return null;
          }
          if (answer.error === "draft_newer") {  // another page's copy landed since: taken in
            takeNewer(answer.fields || {}, answer.revision);
            return null;
          }
          dirty = true;  // another account's session: refreshToken says so on the page
          return refreshToken().then(function () { return null; });
        });
      }
      if (!r.ok) { dirty = true; statusLine.textContent = statusLine.dataset.failed || ""; return null; }
      return r.json();
    }).then(function (answer) {
      if (answer) {
        lastSaved = typed;
        base = JSON.parse(typed);  // what the server now holds, at the revision it names
        if (typeof answer.revision === "number") { setRevision(answer.revision); }
        resumeSession();
        keepInAddress();
        if (answer.case_erased) {  // the case was erased meanwhile: the call is saved on its own
          var sent = JSON.parse(snapshot).fields;
          ["case_id", "case_number"].forEach(function (name) {
            // Only the link that was sent: one chosen while the save was on its way stays.
            if ($(name).value === (sent[name] || "")) { $(name).value = ""; }
          });
          if (!$("case_id").value && linkedNotice) { linkedNotice.hidden = true; }
          showNewCase();
          caseErased.hidden = false;
          dirty = true;
        }
        statusLine.textContent = (statusLine.dataset.saved || "") + " " + answer.saved_at;
      }
    }).catch(function () {
      dirty = true;
      statusLine.textContent = statusLine.dataset.offline || "";
    }).finally(function () { saving = false; draftSent = null; if (giveUp) { window.clearTimeout(giveUp); } });
  }
  /* Once a draft is on the server, the address names it: a reload, or the browser reopening
     the tab after a crash, brings the intake back whole (the key is no secret: only its
     author's session opens it). */
  function keepInAddress() {
    if (!window.history || !history.replaceState) { return; }
    var wanted = "draft=" + encodeURIComponent(keyInput.value);
    if (window.location.search !== "?" + wanted) {
      history.replaceState(history.state, "", window.location.pathname + "?" + wanted);
    }
  }
  /* ---- a reload's race: a reload within seconds of typing can draw this page from the draft
     before the closing page's last copy (sent as it went) reached the server. Each copy of a
     draft is numbered: this page names the one it shows, and a copy another page wrote since is
     taken in, never overwritten: a field changed there only takes its value, a list takes both
     sides' ticks, a long text both sides added to keeps both additions; any other field changed
     on both sides keeps this page's value. The note at the top names the fields. ---- */
  var revision = Number(form.dataset.draftRevision || 0);
  var pageKey = String(Date.now()) + "-" + String(Math.random()).slice(2, 14);
  var copies = 0;  // this page's copies sent: one overtaken on the way by its next is not kept
  var revisionInput = form.querySelector("[name=draft_revision]");
  var pageInput = form.querySelector("[name=draft_page]");
  if (pageInput) { pageInput.value = pageKey; }  // a save checks no other page's copy landed since
  function setRevision(value) {
    revision = value;
    if (revisionInput) { revisionInput.value = String(value); }
  }
  var base = fields();  // what the server's copy at `revision` holds, as this page shows it
  var mergedNote = document.getElementById("draft-merged");
  var takenIn = false;  // something was taken in while the call was being saved: look first
  var reloading = false;
  var NOT_MERGED = ["csrf_token", "intake_key", "owner", "province_code", "commune_code"];
  function asList(value) {
    if (value === undefined || value === null) { return []; }
    return (Array.isArray(value) ? value : [value]).map(String).filter(function (v) { return v !== ""; });
  }
  function same(a, b) { return JSON.stringify(asList(a).sort()) === JSON.stringify(asList(b).sort()); }
  function isList(el) { return el.type === "checkbox" || el.multiple; }
  function placeable(els, values) {
    var choices = null;
    if (els[0].tagName === "SELECT") { choices = Array.prototype.map.call(els[0].options, function (o) { return o.value; }); }
    if (els[0].type === "checkbox" || els[0].type === "radio") { choices = Array.prototype.map.call(els, function (el) { return el.value; }); }
    return !choices || values.every(function (v) { return choices.indexOf(v) >= 0; });
  }
  function put(els, values) {
    Array.prototype.forEach.call(els, function (el, i) {
      if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) >= 0; }
      else if (el.multiple) { Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; }); }
      else { el.value = values[i] !== undefined ? values[i] : ""; }
    });
  }
  function joined(was, their, mine) {
    // A long text both pages added to: what was added before the reload, then what since.
    // Anything else (a word deleted or changed on either page) keeps this page's text.
    if (their.indexOf(was) !== 0 || mine.indexOf(was) !== 0) { return null; }
    if (mine.indexOf(their) === 0) { return mine; }  // the lost words typed again, and more
    if (their.indexOf(mine) === 0) { return their; }
    var before = their.slice(was.length), since = mine.slice(was.length);
    var gap = /\S$/.test(their) && /^[\p{L}\p{N}]/u.test(since) ? " " : "";
    return was + before + gap + since;
  }
  function merged(mine, their, was, els) {
    // What the field holds once both copies are taken in, or null: this page's value stays.
    if (same(mine, was)) { return asList(their); }
    if (isList(els[0])) {
      var w = asList(was), t = asList(their), m = asList(mine);
      var out = w.filter(function (v) { return t.indexOf(v) >= 0 && m.indexOf(v) >= 0; });
      t.concat(m).forEach(function (v) { if (w.indexOf(v) < 0 && out.indexOf(v) < 0) { out.push(v); } });
      return out;
    }
    if (els[0].tagName === "TEXTAREA") {  // never a time, a number or an age run together
      var text = joined(asList(was)[0] || "", asList(their)[0] || "", asList(mine)[0] || "");
      return text === null ? null : [text];
    }
    return null;
  }
  function labelOf(el) {
    if (el.name.indexOf("emergency_time_") === 0) {  // "Time": named by its action
      var action = form.querySelector("[name=emergency][value='" + el.name.slice(15) + "']");
      return action ? labelOf(action) : "";
    }
    if (el.type === "hidden") { return ""; }
    var group = (el.type === "checkbox" || el.type === "radio") && el.closest("fieldset");
    var found = group ? group.querySelector("legend") : el.id && form.querySelector("label[for='" + el.id + "']");
    if (el.type === "checkbox" && el.name === "emergency") { found = el.closest("label"); }
    return ((found || {}).textContent || "").trim().replace(/\s+/g, " ");
  }
  function takePlace(theirs, now, added, kept) {
    // The province and its commune go together: the commune list is the province's.
    var province = $("province_code"), commune = $("commune_code");
    if (!province || !commune || theirs.province_code === undefined) { return; }
    var mine = [now.province_code, now.commune_code], their = [theirs.province_code, theirs.commune_code];
    var was = [base.province_code, base.commune_code];
    function same2(a, b) { return same(a[0], b[0]) && same(a[1], b[1]); }
    if (same2(their, was) || same2(their, mine)) { return; }
    if (!same2(mine, was)) { kept.push(province); return; }
    var code = asList(their[1])[0] || "";
    added.push(province);
    if (same(their[0], mine[0])) { commune.value = code; return; }
    province.value = asList(their[0])[0] || "";
    var watch = window.MutationObserver && code ? new MutationObserver(function () {
      if (!Array.prototype.some.call(commune.options, function (o) { return o.value === code; })) { return; }
      commune.value = code;  // the province's communes are in (app.js fetched them)
      watch.disconnect();
      markDirty();
    }) : null;
    if (watch) {
      watch.observe(commune, { childList: true });
      window.setTimeout(function () { watch.disconnect(); }, 15000);
    }
    province.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function sayTaken(added, kept) {
    function names(list) {
      return list.map(labelOf).filter(function (t, i, all) { return t && all.indexOf(t) === i; }).join(", ");
    }
    [[".merged-added", names(added)], [".merged-kept", names(kept)]].forEach(function (part) {
      var line = mergedNote.querySelector(part[0]);
      line.querySelector("span").textContent = part[1] + ".";
      line.hidden = !part[1];
    });
    mergedNote.hidden = false;
  }
  function takeNewer(theirs, newRevision) {
    var now = fields(), added = [], kept = [];
    var untouched = Object.keys(now).every(function (name) { return same(now[name], base[name]); });
    Object.keys(theirs).forEach(function (name) {
      if (NOT_MERGED.indexOf(name) >= 0) { return; }
      var their = theirs[name], mine = now[name], was = base[name];
      if (same(their, was) || same(their, mine)) { return; }  // nothing new there
      var els = form.querySelectorAll("[name='" + name + "']");
      if (!els.length) { return; }
      var out = merged(mine, their, was, els);
      if (out !== null && name === "case_id" && out.length) { out = null; }  // its notice is this page's
      if (out === null || !placeable(els, out)) { kept.push(els[0]); return; }
      put(els, out);
      if (name === "case_id" && linkedNotice) { linkedNotice.hidden = true; }  // no longer that case
      added.push(els[0]);
    });
    takePlace(theirs, now, added, kept);
    if (callerSet) {  // who chose the caller, as the copy taken in says
      callerSetByPage = callerSet.value === "page";
      if (callerType && callerSet.value === "operator") { callerType.dataset.touched = "yes"; }
    }
    setRevision(newRevision);
    Object.keys(theirs).forEach(function (name) { base[name] = theirs[name]; });
    if (kept.length && untouched && !submitting) {
      // Nothing typed here yet: the server draws the newer copy whole (a GET of the draft's
      // address, even on a page sent back after a save was refused).
      dirty = false;
      reloading = true;  // nothing to send as it goes: the server's copy is the newer
      window.location.replace(window.location.pathname + "?draft=" + encodeURIComponent(keyInput.value));
      return;
    }
    dirty = true;  // this page's text, with what was taken in, is saved at the new revision
    showSections(); showChild(); showRisk(); showNewCase();
    if (phone && phone.value.trim() !== lookedUp) { lookup(); }
    if (!added.length && !kept.length) { return; }
    takenIn = true;
    sayTaken(added, kept);
  }
  function askNewer() {
    // A page drawn from a draft asks, as it opens, whether a newer copy landed meanwhile.
    if (saving || formSaved || elsewhere || sessionEnded || submitting) { return; }
    fetch(form.dataset.newerUrl + "?revision=" + encodeURIComponent(revision), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) {
      if (r.status === 409) { formSaved = true; statusLine.textContent = statusLine.dataset.alreadySaved || ""; }
      return r.status === 200 ? r.json() : null;
    }).then(function (answer) {
      // Only a copy newer than the page's own (an answer held up on the way may be older).
      if (!answer || !(answer.revision > revision) || saving || submitting) { return; }
      if (answer.page === pageKey) {  // this page's own copy, whose answer never came
        setRevision(answer.revision);
        return;
      }
      takeNewer(answer.fields || {}, answer.revision);
    }).catch(function () { /* no answer: the next autosave finds out */ });
  }
  if (revision > 0) {
    window.setTimeout(askNewer, 1200);
    window.setTimeout(askNewer, 4500);
  }
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
  // operator chose.
  var callerType = $("caller_type"), callerSet = form.querySelector("[name=caller_set]");
  var callerSetByPage = !!callerSet && callerSet.value === "page";
  function callerSetBy(who) {
    callerSetByPage = who === "page";
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
    } else if (!noOneSaid && callerSetByPage) {
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
  window.setInterval(saveDraft, 4000);
  window.addEventListener("pagehide", function () {
    // Leaving (a save, a close): a copy of this intake waiting in another tab takes over.
    if (tabs && !elsewhere) { tabs.postMessage({ key: keyInput.value, gone: true }); }
  });
  window.addEventListener("pagehide", function () {
    // An autosave on its way may yet be refused (another page's copy landed): this copy goes
    // too, counted after it, so the server keeps whichever of the two is the later.
    if ((!dirty && !saving) || sessionEnded || submitting || elsewhere || reloading || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("csrf_token", csrf);
    data.append("intake_key", keyInput.value);
    copies += 1;
    data.append("revision", String(revision));
    data.append("page", pageKey);
    data.append("seq", String(copies));
    data.append("fields", JSON.stringify(fields()));
    navigator.sendBeacon(form.dataset.draftUrl, data);
  });

  /* ---- saving the call: never while signed out (the page keeps it); once only ----
     The session is checked first: a post with an ended session would be turned away to the
     sign-in page and what was typed since the last draft would be lost. */
  var submitting = false;
  function submitFailed(message) {
    submitting = false;
    delete form.dataset.submitted;
    form.querySelectorAll(".is-busy").forEach(function (b) { b.classList.remove("is-busy"); b.removeAttribute("aria-disabled"); });
    if (message) { statusLine.textContent = message; }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (elsewhere) { document.getElementById("open-elsewhere").focus(); return; }
    if (submitting) { return; }
    submitting = true;
    takenIn = false;  // taken in before this save was asked for: on the page, seen
    // An autosave under way finishes first (sent after the form, it would leave a draft of a
    // call already saved); then what was typed since goes too, so a save the network cuts
    // leaves every keystroke on the server for the page the back button brings back.
    function settled() { return Promise.resolve(draftSent).catch(function () { return null; }); }
    settled().then(function () { saveDraft(true); return settled(); }).then(function () {
      if (takenIn) { return "taken in"; }
      return fetch(form.dataset.tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    })
      .then(function (r) {
        if (r === "taken in") {
          // What the page held before its reload came in just now: seen before it is saved.
          submitFailed("");
          mergedNote.focus();
          return;
        }
        if (r.status === 401) {
          endSession();
          dirty = true;
          submitFailed("");
          endedNotice.focus();
          return;
        }
        // form.submit is the "submit" button here (a field of that name): call the method itself.
        return refreshToken().then(function (ours) {
          if (!ours) { submitFailed(""); return; }  // another account, or no answer: kept here
          // An empty end time is the time the server saves the call (never a failed try's).
          HTMLFormElement.prototype.submit.call(form);
        });
      }).catch(function () { submitFailed(statusLine.dataset.offline || ""); });
  });

  window.addEventListener("pageshow", function (event) {
    // Brought back by the back button from the browser's memory: the page can be saved again
    // (the server knows whether it was, and says so rather than saving twice).
    if (event.persisted && submitting) { submitFailed(""); }
  });

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
})();

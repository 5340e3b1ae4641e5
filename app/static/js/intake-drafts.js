/* Điểm Tựa intake page, its drafts: sealed on the server every few seconds while the call goes on,
   the session that may end meanwhile, one tab per intake, and the save of the call itself.
   Loaded before intake.js, which calls diemtuaIntake.drafts(intake) with what the page's three
   scripts share; this part adds its own state and functions to `intake` (see intake.js). */
window.diemtuaIntake = window.diemtuaIntake || {};
window.diemtuaIntake.drafts = function (intake) {
  "use strict";
  var form = intake.form, keyInput = intake.keyInput, statusLine = intake.statusLine, $ = intake.$;
  var caseErased = document.getElementById("case-erased");
  var endedNotice = document.getElementById("session-ended");
  var otherAccount = document.getElementById("other-account");
  var lastSaved = "";
  intake.saving = false; intake.sessionEnded = false; intake.formSaved = false;
  intake.elsewhere = false;  // the same intake open in another tab: that one saves, not this one

  document.body.dataset.keepOnSignOut = "yes";
  document.addEventListener("diemtua:signed-out", function () {
    // Signed out elsewhere (the operator leaving the desk, say): a page whose every keystroke
    // is in the draft on the server goes, as a case page does, so nothing of the call stays
    // on the screen (its owner finds it among their unsaved intakes after signing in). One
    // holding typing not yet kept stays, to be saved once signed in again.
    if (!unsaved()) { leave(); return; }
    endSession();
    intake.dirty = true;
  });

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
  function endSession() {
    intake.sessionEnded = true;
    endedNotice.hidden = false;
  }
  /* What the page holds that the server does not: typed since the last draft was kept (or,
     before any was kept here, since the page was drawn, from the draft or blank). */
  var drawn = null;
  window.setTimeout(function () { if (!intake.dirty) { drawn = JSON.stringify(fields()); } }, 0);
  function unsaved() {
    if (intake.elsewhere) { return false; }  // read-only here: the other tab keeps it
    if (intake.saving) { return true; }
    return JSON.stringify(fields()) !== (lastSaved || drawn);
  }
  intake.unsaved = unsaved;
  function leave() {
    intake.sessionEnded = true;  // nothing more sent from here, not even as the page goes
    intake.leaving = true;
    window.location.assign(document.body.dataset.loginUrl);
  }
  /* Someone else signed in on this browser: the page is not theirs to see. All kept on the
     server: it goes. Typing not yet kept: it stays for its owner, but hidden (the form, the
     repeat-caller panel, every notice about the case), until its owner signs in again. */
  var covers = 0;  // how many times the page was covered: an answer asked for before does not uncover it
  function otherAccountHere() {
    covers += 1;
    if (!unsaved()) { leave(); return; }
    endSession();
    endedNotice.hidden = true;
    otherAccount.hidden = false;
    intake.dirty = true;  // tried again each tick: its owner signed in again, it is saved
    form.classList.add("covered");
    Array.prototype.forEach.call(form.children, function (el) {
      if (el !== otherAccount) { el.inert = true; }
    });
    otherAccount.focus();
  }
  function uncover() {
    if (!form.classList.contains("covered")) { return; }
    form.classList.remove("covered");
    Array.prototype.forEach.call(form.children, function (el) { el.inert = false; });
  }
  document.addEventListener("diemtua:other-account", otherAccountHere);
  function resumeSession() {
    if (!intake.sessionEnded) { return; }
    intake.sessionEnded = false;
    document.dispatchEvent(new CustomEvent("diemtua:resumed"));
    endedNotice.hidden = true;
    otherAccount.hidden = true;
    uncover();
    if (intake.phone) { intake.lookup(); }  // the panel, if the number was typed while signed out
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
          otherAccountHere();
          return false;
        }
        intake.csrf = answer.csrf;
        document.querySelector("meta[name=csrf-token]").content = intake.csrf;
        form.querySelector("[name=csrf_token]").value = intake.csrf;
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
      if (said.gone && intake.elsewhere) {
        window.location.reload();  // the other tab is done: the intake as it saved it
        return;
      }
      if (intake.formSaved || intake.elsewhere || !said.at) { return; }
      if (older(said.at, openedAt)) {
        intake.elsewhere = true;
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
  var copies = 0;  // this page's copies sent: one overtaken on the way by its next is not kept
  var draftSent = null;  // the autosave under way, if any: a save of the form waits for it
  function saveDraft(beforeSubmit) {
    if (!intake.dirty || intake.saving || intake.formSaved || intake.elsewhere || (intake.submitting && !beforeSubmit)) { return; }
    var typed = JSON.stringify(fields());
    if (typed === lastSaved) { intake.dirty = false; return; }
    copies += 1;
    var snapshot = JSON.stringify({
      intake_key: keyInput.value, revision: intake.revision, page: intake.pageKey, seq: copies, fields: JSON.parse(typed)
    });
    intake.saving = true; intake.dirty = false;
    var askedAt = covers;  // the page's covering when asked: a later one is not undone by it
    var stalled = window.AbortController ? new AbortController() : null;
    var giveUp = stalled ? window.setTimeout(function () { stalled.abort(); }, 10000) : null;
    draftSent = fetch(form.dataset.draftUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual", body: snapshot,
      signal: stalled ? stalled.signal : undefined,
      headers: { "Content-Type": "application/json", "X-CSRFToken": intake.csrf, "Accept": "application/json" }
    }).then(function (r) {
      if (r.status === 401 || r.type === "opaqueredirect") { endSession(); intake.dirty = true; return null; }
      if (r.status === 400) { intake.dirty = true; return refreshToken().then(function () { return null; }); }
      if (r.status === 409) {
        return r.json().catch(function () { return {}; }).then(function (answer) {
          if (answer.error === "already_saved") {  // saved (in another tab, or just now)
            intake.formSaved = true;
            statusLine.textContent = statusLine.dataset.alreadySaved || "";
            return null;
          }
          if (answer.error === "draft_newer") {  // another page's copy landed since: taken in
            intake.takeNewer(answer.fields || {}, answer.revision);
            return null;
          }
          intake.dirty = true;  // another account's session: refreshToken says so on the page
          return refreshToken().then(function () { return null; });
        });
      }
      if (!r.ok) { intake.dirty = true; statusLine.textContent = statusLine.dataset.failed || ""; return null; }
      return r.json();
    }).then(function (answer) {
      if (answer) {
        lastSaved = typed;
        intake.base = JSON.parse(typed);  // what the server now holds, at the revision it names
        if (typeof answer.revision === "number") { intake.setRevision(answer.revision); }
        // Asked before someone else signed in: it says nothing of who is signed in now (all
        // kept now, the page goes; else it stays covered).
        if (askedAt !== covers) { intake.saving = false; otherAccountHere(); return; }
        resumeSession();
        keepInAddress();
        if (answer.case_erased) {  // the case was erased meanwhile: the call is saved on its own
          var sent = JSON.parse(snapshot).fields;
          ["case_id", "case_number"].forEach(function (name) {
            // Only the link that was sent: one chosen while the save was on its way stays.
            if ($(name).value === (sent[name] || "")) { $(name).value = ""; }
          });
          if (!$("case_id").value && intake.linkedNotice) { intake.linkedNotice.hidden = true; }
          intake.showNewCase();
          caseErased.hidden = false;
          intake.dirty = true;
        }
        statusLine.textContent = (statusLine.dataset.saved || "") + " " + answer.saved_at;
      }
    }).catch(function () {
      intake.dirty = true;
      statusLine.textContent = statusLine.dataset.offline || "";
    }).finally(function () { intake.saving = false; draftSent = null; if (giveUp) { window.clearTimeout(giveUp); } });
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
  window.setInterval(saveDraft, 4000);
  window.addEventListener("pagehide", function () {
    // Leaving (a save, a close): a copy of this intake waiting in another tab takes over.
    if (tabs && !intake.elsewhere) { tabs.postMessage({ key: keyInput.value, gone: true }); }
  });
  window.addEventListener("pagehide", function () {
    // An autosave on its way may yet be refused (another page's copy landed): this copy goes
    // too, counted after it, so the server keeps whichever of the two is the later.
    if ((!intake.dirty && !intake.saving) || intake.sessionEnded || intake.submitting || intake.elsewhere || intake.reloading || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("csrf_token", intake.csrf);
    data.append("intake_key", keyInput.value);
    copies += 1;
    data.append("revision", String(intake.revision));
    data.append("page", intake.pageKey);
    data.append("seq", String(copies));
    data.append("fields", JSON.stringify(fields()));
    navigator.sendBeacon(form.dataset.draftUrl, data);
  });

  /* ---- saving the call: never while signed out (the page keeps it); once only ----
     The session is checked first: a post with an ended session would be turned away to the
     sign-in page and what was typed since the last draft would be lost. */
  intake.submitting = false;
  function submitFailed(message) {
    intake.submitting = false;
    delete form.dataset.submitted;
    form.querySelectorAll(".is-busy").forEach(function (b) { b.classList.remove("is-busy"); b.removeAttribute("aria-disabled"); });
    if (message) { statusLine.textContent = message; }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (intake.elsewhere) { document.getElementById("open-elsewhere").focus(); return; }
    if (intake.submitting) { return; }
    intake.submitting = true;
    intake.takenIn = false;  // taken in before this save was asked for: on the page, seen
    // An autosave under way finishes first (sent after the form, it would leave a draft of a
    // call already saved); then what was typed since goes too, so a save the network cuts
    // leaves every keystroke on the server for the page the back button brings back.
    function settled() { return Promise.resolve(draftSent).catch(function () { return null; }); }
    settled().then(function () { saveDraft(true); return settled(); }).then(function () {
      if (intake.takenIn) { return "taken in"; }
      return fetch(form.dataset.tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    })
      .then(function (r) {
        if (r === "taken in") {
          // What the page held before its reload came in just now: seen before it is saved.
          submitFailed("");
          intake.mergedNote.focus();
          return;
        }
        if (r.status === 401) {
          endSession();
          intake.dirty = true;
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

  /* Leaving a page whose typing the server cannot take (the session ended, no connection):
     the browser asks first. Otherwise its last copy goes as the page goes (below). */
  window.addEventListener("beforeunload", function (event) {
    // The screen cleared after the idle time (app.js): nobody is there to answer a question.
    if (intake.submitting || intake.leaving || intake.formSaved || document.body.dataset.leaving === "yes") { return; }
    if ((intake.sessionEnded || navigator.onLine === false) && unsaved()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  window.addEventListener("pageshow", function (event) {
    // Brought back by the back button from the browser's memory: the page can be saved again
    // (the server knows whether it was, and says so rather than saving twice).
    if (event.persisted && intake.submitting) { submitFailed(""); }
  });

  intake.fields = fields;
  intake.endSession = endSession;
  intake.refreshToken = refreshToken;
};

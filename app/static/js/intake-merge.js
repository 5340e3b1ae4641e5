/* Điểm Tựa intake page, a newer copy of its draft taken in (see the reload's race below).
   Loaded before intake.js, which calls diemtuaIntake.merge(intake) after diemtuaIntake.drafts:
   the copy this page shows is read with the drafts' fields(). This part adds its own state and
   functions to `intake` (see intake.js). */
window.diemtuaIntake = window.diemtuaIntake || {};
window.diemtuaIntake.merge = function (intake) {
  "use strict";
  var form = intake.form, keyInput = intake.keyInput, statusLine = intake.statusLine, $ = intake.$;
  var linkedNotice = intake.linkedNotice, mergedNote = intake.mergedNote;
  var callerType = intake.callerType, callerSet = intake.callerSet;
  /* ---- a reload's race: a reload within seconds of typing can draw this page from the draft
     before the closing page's last copy (sent as it went) reached the server. Each copy of a
     draft is numbered: this page names the one it shows, and a copy another page wrote since is
     taken in, never overwritten: a field changed there only takes its value, a list takes both
     sides' ticks, a long text both sides added to keeps both additions; any other field changed
     on both sides keeps this page's value. The note at the top names the fields. ---- */
  intake.revision = Number(form.dataset.draftRevision || 0);
  intake.pageKey = String(Date.now()) + "-" + String(Math.random()).slice(2, 14);
  var revisionInput = form.querySelector("[name=draft_revision]");
  var pageInput = form.querySelector("[name=draft_page]");
  if (pageInput) { pageInput.value = intake.pageKey; }  // a save checks no other page's copy landed since
  function setRevision(value) {
    intake.revision = value;
    if (revisionInput) { revisionInput.value = String(value); }
  }
  intake.base = intake.fields();  // what the server's copy at `revision` holds, as this page shows it
  intake.takenIn = false;  // something was taken in while the call was being saved: look first
  intake.reloading = false;
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
    var was = [intake.base.province_code, intake.base.commune_code];
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
      intake.markDirty();
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
    var now = intake.fields(), added = [], kept = [];
    var untouched = Object.keys(now).every(function (name) { return same(now[name], intake.base[name]); });
    Object.keys(theirs).forEach(function (name) {
      if (NOT_MERGED.indexOf(name) >= 0) { return; }
      var their = theirs[name], mine = now[name], was = intake.base[name];
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
      intake.callerSetByPage = callerSet.value === "page";
      if (callerType && callerSet.value === "operator") { callerType.dataset.touched = "yes"; }
    }
    setRevision(newRevision);
    Object.keys(theirs).forEach(function (name) { intake.base[name] = theirs[name]; });
    if (kept.length && untouched && !intake.submitting) {
      // Nothing typed here yet: the server draws the newer copy whole (a GET of the draft's
      // address, even on a page sent back after a save was refused).
      intake.dirty = false;
      intake.reloading = true;  // nothing to send as it goes: the server's copy is the newer
      window.location.replace(window.location.pathname + "?draft=" + encodeURIComponent(keyInput.value));
      return;
    }
    intake.dirty = true;  // this page's text, with what was taken in, is saved at the new revision
    intake.showSections(); intake.showChild(); intake.showRisk(); intake.showNewCase();
    if (intake.phone && intake.phone.value.trim() !== intake.lookedUp) { intake.lookup(); }
    if (!added.length && !kept.length) { return; }
    intake.takenIn = true;
    sayTaken(added, kept);
  }
  function askNewer() {
    // A page drawn from a draft asks, as it opens, whether a newer copy landed meanwhile.
    if (intake.saving || intake.formSaved || intake.elsewhere || intake.sessionEnded || intake.submitting) { return; }
    fetch(form.dataset.newerUrl + "?revision=" + encodeURIComponent(intake.revision), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) {
      if (r.status === 409) { intake.formSaved = true; statusLine.textContent = statusLine.dataset.alreadySaved || ""; }
      return r.status === 200 ? r.json() : null;
    }).then(function (answer) {
      // Only a copy newer than the page's own (an answer held up on the way may be older).
      if (!answer || !(answer.revision > intake.revision) || intake.saving || intake.submitting) { return; }
      if (answer.page === intake.pageKey) {  // this page's own copy, whose answer never came
        setRevision(answer.revision);
        return;
      }
      takeNewer(answer.fields || {}, answer.revision);
    }).catch(function () { /* no answer: the next autosave finds out */ });
  }
  if (intake.revision > 0) {
    window.setTimeout(askNewer, 1200);
    window.setTimeout(askNewer, 4500);
  }

  intake.setRevision = setRevision;
  intake.takeNewer = takeNewer;
};

/* Điểm Tựa page script: session time-out warning, keep-alive on activity, one submit per form.
   No inline script anywhere (strict Content-Security-Policy); settings come from data attributes. */
(function () {
  "use strict";
  var body = document.body;

  /* ---- a case-number box in a search sent by GET: a phone number or a name typed there by
     mistake would land in the address (history, server logs), so it is stopped here, with the
     message the box carries in its data-case-number attribute. As numbers.case_number: a
     code of digits only passes only as the user's own (data-own-code), or every phone number
     grouped 3-4-3 around a year-like middle (098 2019 888) would pass; one unbroken block is cut
     into parts only when its code holds a letter or it begins with the user's own all-digit code
     (02033123456 is a landline) ---- */
  function isCaseNumber(value, ownCode) {
    var own = (ownCode || "").toUpperCase();
    var parts = value.toUpperCase().split(/[\s\-\u2013\u2014_.\/]+/).filter(Boolean);
    var whole = parts.length === 1 && /^(?=\d*[A-Z])([A-Z0-9]+?)(\d{4})(\d{6})$/.exec(parts[0]);
    if (whole) { parts = [whole[1], whole[2], whole[3]]; }
    var rest = parts.length === 1 && /^\d+$/.test(own) && parts[0].indexOf(own) === 0 &&
      parts[0].slice(own.length);
    if (rest && /^\d{10}$/.test(rest)) { parts = [own, rest.slice(0, 4), rest.slice(4)]; }
    var isCode = function (code) { return /[A-Z]/.test(code) || code === own; };
    if (parts.length === 2 && /^\d+$/.test(parts[1])) {  // "HN 2026000123", "HN2026 123"
      var joined = /^([A-Z0-9]+?)((?:19|20)\d\d)$/.exec(parts[0]);
      if (/^\d{10}$/.test(parts[1]) && isCode(parts[0])) {
        parts = [parts[0], parts[1].slice(0, 4), parts[1].slice(4)];
      } else if (joined && isCode(joined[1])) {
        parts = [joined[1], joined[2], parts[1]];
      }
    }
    return parts.length === 3 && /^[A-Z0-9]{1,12}$/.test(parts[0]) &&
      isCode(parts[0]) &&
      /^(19|20)\d\d$/.test(parts[1]) && /^\d{1,9}$/.test(parts[2]);
  }
  function notACaseNumber(form) {
    var wrong = null;
    form.querySelectorAll("input[data-case-number]").forEach(function (input) {
      var bad = input.value.trim() !== "" && !isCaseNumber(input.value.trim(), input.dataset.ownCode);
      var id = input.id + "-shape-error", shown = document.getElementById(id);
      if (shown) { shown.remove(); }
      input.removeAttribute("aria-invalid");
      if (!bad) { return; }
      var message = document.createElement("p");
      message.className = "field-error";
      message.id = id;
      message.setAttribute("role", "alert");
      message.textContent = input.dataset.caseNumber;
      input.insertAdjacentElement("afterend", message);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
      if (!wrong) { wrong = input; }
    });
    if (wrong) { wrong.focus(); }
    return wrong !== null;
  }

  /* ---- a form sent back with a mistake: the keyboard goes to the first field marked, so a
     screen reader says its message (the intake does its own, to its list of mistakes) ---- */
  if (!document.getElementById("intake-form")) {
    // A duty of law sent without what was done comes back to its own box (#done-note-<task>).
    var asked = /^#done-note-[a-z-]+-[0-9a-f-]{36}$/.test(window.location.hash) &&
      document.getElementById(window.location.hash.slice(1));
    if (asked) {
      asked.setAttribute("aria-invalid", "true");
      var said = document.querySelector(".flash-error");
      if (said && !asked.getAttribute("aria-describedby")) {  // the page says it beside the box
        said.id = said.id || "flash-error"; asked.setAttribute("aria-describedby", said.id);
      }
    }
    var marked = document.querySelector("main [aria-invalid=true]");
    if (marked && (document.activeElement === body || !document.activeElement)) { marked.focus(); }
    // A page that is one form (a correction, a part, an edit, a status change) opens with the
    // keyboard on its first field, as the intake does; not when the address names a place.
    // Not either when the page says something first (a refusal, a colleague's change): the
    // reader starts at the top, where it is said.
    var warned = document.querySelector(".flash-error, main [role=alert]:not([hidden])");
    var only = !marked && !warned && !window.location.hash &&
      document.querySelector("form[data-focus-first]");
    var first = only && only.querySelector(
      "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])");
    if (first && (document.activeElement === body || !document.activeElement)) { first.focus(); }
  }

  /* ---- a form's Enter guard (_macros/forms.html enter_guard) never sends it: with the script,
     Enter moves on before it could; caught here first, whatever else listens ---- */
  window.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.classList.contains("enter-guard")) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  /* ---- one submit per form: a double click or Enter twice sends the form once ---- */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "yes") { event.preventDefault(); return; }
    var checked = (form.method || "get").toLowerCase() === "get" || form.hasAttribute("data-check-case-number");
    if (checked && notACaseNumber(form)) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "yes";
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
      b.setAttribute("aria-disabled", "true");
      b.classList.add("is-busy");
    });
  }, true);
  function release(form) {  // the form may be sent again
    delete form.dataset.submitted;
    form.querySelectorAll(".is-busy").forEach(function (b) {
      b.classList.remove("is-busy"); b.removeAttribute("aria-disabled");
    });
  }
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(release);
  });

  /* ---- a "saved" message is said once: its marks leave the address bar, so a reload or a
     copied address does not say it again ---- */
  if (window.history.replaceState && /[?&]saved=/.test(window.location.search)) {
    var marks = new URLSearchParams(window.location.search);
    marks.delete("saved");
    marks.delete("again");
    marks.delete("kept");
    var rest = marks.toString();
    window.history.replaceState(window.history.state, "",
      window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
  }

  /* ---- a commune list follows its province (the intake and the case's edit page): the
     form's data-communes-url, with CODE for the province, answers its communes ---- */
  document.querySelectorAll("form[data-communes-url]").forEach(function (form) {
    var province = form.querySelector("select[name=province_code]");
    var commune = form.querySelector("select[name=commune_code]");
    if (!province || !commune) { return; }
    var asked = 0;
    province.addEventListener("change", function () {
      commune.innerHTML = "<option value=\"\"></option>";
      var mine = ++asked;  // arrowing through provinces: only the last answer counts
      if (!province.value) { return; }
      fetch(form.dataset.communesUrl.replace("CODE", encodeURIComponent(province.value)),
        { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) {
          if (mine !== asked) { return; }
          rows.forEach(function (row) {
            var option = document.createElement("option");
            option.value = row.code; option.textContent = row.name;
            commune.appendChild(option);
          });
        }).catch(function () { /* offline: the server says if the commune is not of the province */ });
    });
  });

  /* ---- language switch submits on change when scripts run ---- */
  var languageSelect = document.getElementById("footer-language");
  if (languageSelect) {
    languageSelect.addEventListener("change", function () { languageSelect.form.requestSubmit(); });
  }

  /* ---- which account this browser is signed in as, shared across tabs: a page of an account
     that signed out, or of one another person has signed in after, does not stay on screen ---- */
  var ACCOUNT_KEY = "diemtua.account";
  function noteAccount(value) {
    try { window.localStorage.setItem(ACCOUNT_KEY, value); } catch (e) { /* private mode */ }
  }
  if (body.dataset.signedIn !== "yes") { noteAccount(""); return; }
  var account = body.dataset.account || "";
  noteAccount(account);

  /* ---- what is typed on a case page outlives an ended session ----
     A form marked data-keep-typed (a note, a task, a case part, an edit, a status change)
     checks the session before it is sent: a post with an ended session would be turned away to
     the sign-in page and the text lost. Ended: the page stays as it is, with a notice and a
     link that signs in again in a new tab; the next press of the button then sends the form
     with the new session's token. When the session ends elsewhere while such a form holds
     typing (signed out in another tab, ended on the server), the page stays too. The idle
     time-out still clears the screen: typing counts as activity, so it comes only after a
     warning to a page nobody has touched. */
  var tokenUrl = body.dataset.tokenUrl;
  // The session ended elsewhere and this page (the intake, or a case page holding typing) stays
  // for what it holds: no more keep-alive pings, and the screen still clears when left alone.
  var kept = false;
  var NOTICES = ["typed-kept", "typed-offline"];
  function keepsTyping(form) { return !!form && form.nodeName === "FORM" && form.hasAttribute("data-keep-typed"); }
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (keepsTyping(form)) { form.dataset.typed = "yes"; }
  }, true);

  /* ---- a link from a form's list of mistakes to its field: the keys go where Tab would put
     them, a line of text chosen whole (typing replaces the wrong value), a text area's end
     (typing adds to what is there, never over it) ---- */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".form-alert a[href^='#']") : null;
    if (!link) { return; }
    var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (field && field.placeFind) { field = field.placeFind.box; }  // a place list's stop is its box (places.js)
    if (!field || (field.tagName !== "INPUT" && field.tagName !== "TEXTAREA")) { return; }
    if (field.tagName === "INPUT" && ["text", "tel", "email", "search", "number"].indexOf(field.type) < 0) { return; }
    event.preventDefault();
    field.focus();
    if (field.tagName === "TEXTAREA") {
      field.setSelectionRange(field.value.length, field.value.length);
    } else if (field.select) {
      field.select();
    }
  });

  /* ---- Enter never sends a form by accident (the intake, and the case-page forms): on a
     box, a choice, a list or a line of text it moves to the next field, as Tab does but never
     onto a button; Ctrl+Enter sends the form with its main button ---- */
  function nextField(form, from) {
    var fields = Array.prototype.filter.call(form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && el.offsetParent !== null && el.tabIndex >= 0 &&
        el.type !== "submit" && el.tagName !== "BUTTON" && el.tagName !== "FIELDSET";
    });
    for (var i = fields.indexOf(from) + 1; i < fields.length; i += 1) {
      // The rest of a group of choices is one stop, as Tab makes it.
      if (from.type === "radio" && fields[i].type === "radio" && fields[i].name === from.name) { continue; }
      if (fields[i].type === "radio") {
        return form.querySelector("[name='" + fields[i].name + "']:checked") || fields[i];
      }
      return fields[i];
    }
    return null;
  }
  function enterMoves(event, form) {
    var t = event.target;
    if (event.key !== "Enter" || event.isComposing) { return false; }
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      var main = form.querySelector("[type=submit]:not([formaction]):not([disabled]):not(.enter-guard)");
      if (main) { form.requestSubmit(main); } else { form.requestSubmit(); }
      return true;
    }
    if (t.tagName === "SELECT" || (t.tagName === "INPUT" && t.type !== "submit" && t.type !== "button")) {
      event.preventDefault();
      var next = nextField(form, t);
      if (next) { next.focus(); }
      return true;
    }
    return false;
  }
  window.DiemTua = { enterMoves: enterMoves };
  document.addEventListener("keydown", function (event) {
    // The forms that keep what is typed, and those whose Enter is guarded (an account, an
    // organisation, a phone line): Enter moves on, Ctrl+Enter sends.
    var form = event.target.form;
    if (keepsTyping(form) || (form && form.querySelector(".enter-guard"))) { enterMoves(event, form); }
  });
  function showKept(id, form, pressed) {
    NOTICES.forEach(function (other) {
      var shown = document.getElementById(other);
      if (shown && other !== id) { shown.hidden = true; }
    });
    var notice = document.getElementById(id);
    if (!notice) { return; }
    form = form || document.querySelector("form[data-keep-typed][data-typed=yes]");
    if (form && notice.nextElementSibling !== form) { form.insertAdjacentElement("beforebegin", notice); }
    notice.hidden = false;
    if (pressed) { notice.focus(); }  // the button was pressed: say why nothing happened
    // Otherwise the alert role reads it out; the keyboard stays where the person types.
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !keepsTyping(form) || !tokenUrl) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    // A draft of it on its way goes first (else it could land after the save and bring the
    // text back); then no more drafts of it while it is sent.
    var draft = draftOf(form), before = (draft && draft.pending) || Promise.resolve();
    if (draft) { draft.done = true; }
    before.catch(function () { /* the save below says what matters */ }).then(function () {
      return fetch(tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    }).then(function (r) {
        if (r.status === 401) {
          form.dataset.typed = "yes";  // what it holds is kept from now on, typed or not
          kept = true;
          if (draft) { draft.done = false; }
          release(form);
          showKept("typed-kept", form, true);
          return null;
        }
        if (!r.ok) { throw new Error("token " + r.status); }
        return r.json();
      }).then(function (answer) {
        if (!answer) { return; }
        if (answer.user !== account) { goToSignIn(true); return; }  // another person's session
        var token = form.querySelector("input[name=csrf_token]");
        if (token) { token.value = answer.csrf; }
        if (submitter && submitter.name) {  // the button pressed, as the browser would send it
          var pressed = document.createElement("input");
          pressed.type = "hidden"; pressed.name = submitter.name; pressed.value = submitter.value;
          form.appendChild(pressed);
        }
        NOTICES.forEach(function (id) { var n = document.getElementById(id); if (n) { n.hidden = true; } });
        kept = false;
        formSent = true;
        HTMLFormElement.prototype.submit.call(form);
      }).catch(function () {
        form.dataset.typed = "yes";
        if (draft) { draft.done = false; }
        release(form);
        showKept("typed-offline", form, true);
      });
  }, true);
  // The intake found its session again by itself (its draft saved): this page is live again.
  document.addEventListener("diemtua:resumed", function () { kept = false; });
  window.addEventListener("storage", function (event) {
    if (event.key !== ACCOUNT_KEY || event.newValue === null) { return; }
    if (event.newValue === account) { kept = false; return; }  // signed in again in another tab
    // Signed out in another tab: leave (the intake keeps its page, to be saved once signed in
    // again). Another account signed in: leave, but for the intake, which keeps what its owner
    // typed (to be saved under their account only) and says whose page it is.
    if (event.newValue !== "" && body.dataset.keepOnSignOut === "yes") {
      kept = true;
      document.dispatchEvent(new CustomEvent("diemtua:other-account"));
      return;
    }
    goToSignIn(event.newValue !== "");
  });

  /* ---- idle time-out: warn before, count typing as activity, share state across tabs ---- */
  var idleMs = Number(body.dataset.idleSeconds) * 1000;
  var warnMs = Math.min(Number(body.dataset.warningSeconds) * 1000, idleMs / 2);
  var pingEveryMs = Math.min(60000, idleMs / 4);
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var dialog = document.getElementById("session-warning");
  var countdown = document.getElementById("session-countdown");
  var stayButton = document.getElementById("stay-signed-in");
  var logoutForm = document.getElementById("logout-form");
  var SEEN_KEY = "diemtua.serverSeen";
  var lastSeen = Date.now();        // when the server last counted this session as active
  var lastActivity = Date.now();    // when the person last typed or clicked
  var pinging = false, leaving = false;

  function shareSeen(time) {
    lastSeen = Math.max(lastSeen, time);
    try { window.localStorage.setItem(SEEN_KEY, String(lastSeen)); } catch (e) { /* private mode */ }
  }
  window.addEventListener("storage", function (event) {
    if (event.key === SEEN_KEY && event.newValue) { lastSeen = Math.max(lastSeen, Number(event.newValue)); }
  });
  shareSeen(Date.now());

  function goToSignIn(idle) {
    // Idle: the screen must not go on showing anything, whatever the page. Otherwise (the
    // session was ended elsewhere while the person works) a page that must not lose what is
    // typed (the intake) handles it itself, and a case page's form holding typing stays.
    if (!idle && body.dataset.keepOnSignOut === "yes") {
      kept = true;
      document.dispatchEvent(new CustomEvent("diemtua:signed-out"));
      return;
    }
    // Text already kept as a draft on the server needs no page left on screen for it.
    if (!idle && holdsUnsent()) { kept = true; showKept("typed-kept"); return; }
    leaving = true;
    body.dataset.leaving = "yes";  // the page's own scripts ask nothing as it goes
    window.location.assign(body.dataset.loginUrl);
  }

  function ping() {
    if (pinging || leaving || kept) { return; }
    pinging = true;
    var sent = Date.now();
    fetch(body.dataset.keepaliveUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok) { shareSeen(sent); hideWarning(); } else { checkAndLeave(); }
    }).catch(function () { /* offline: try again at the next activity */ })
      .finally(function () { pinging = false; });
  }

  function checkAndLeave(idle) {
    if (leaving) { return; }
    fetch(body.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (status) {
        if (status.signed_in && status.user !== account) {
          goToSignIn(true);  // someone else's session now: this page is not theirs
        } else if (status.signed_in && status.remaining > 1) {
          shareSeen(Date.now() - (idleMs - status.remaining * 1000));
        } else if (status.signed_in) {
          leaving = true;
          body.dataset.leaving = "yes";
          document.getElementById("logout-reason").value = "idle";
          logoutForm.submit();
        } else {
          goToSignIn(idle);
        }
      }).catch(function () { /* offline: the server signs the session out on its own */ });
  }

  function showWarning(remainingMs) {
    countdown.textContent = String(Math.max(0, Math.ceil(remainingMs / 1000)));
    // Typing not yet kept as a draft goes with the screen: a case page's form without drafts,
    // or typed since its last draft was kept (drafts are not kept while signed out, on a case
    // page as on the intake). Said as long as it is so: a draft kept meanwhile takes it back.
    draftForms.forEach(keepDraft);
    var losing = holdsUnsent() || (kept && body.dataset.keepOnSignOut === "yes");
    document.getElementById("session-warning-typed").hidden = !losing;
    if (dialog.hidden) {
      // The field being typed in gets the keyboard back when the warning goes (Enter on
      // "Stay signed in", or another tab keeping the session), and the page behind is out of
      // reach meanwhile: the warning is a modal dialog.
      typingIn = document.activeElement;
      dialog.hidden = false;
      behind().forEach(function (el) { el.inert = true; });
      stayButton.focus();
    }
  }
  var typingIn = null;
  dialog.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") { return; }
    // Tab goes round the warning's own buttons: leaving it would reach nothing (the page
    // behind is inert) but the browser's own bar.
    var stops = Array.prototype.filter.call(
      dialog.querySelectorAll("button, a[href], input, select, textarea"),
      function (el) { return !el.disabled && el.offsetParent !== null; }
    );
    if (!stops.length) { return; }
    var at = stops.indexOf(document.activeElement);
    var next = event.shiftKey ? (at <= 0 ? stops.length - 1 : at - 1) : (at + 1) % stops.length;
    event.preventDefault();
    stops[next].focus();
  });
  function behind() {
    return Array.prototype.filter.call(document.body.children, function (el) {
      return el !== dialog && !el.contains(dialog) && el.tagName !== "SCRIPT";
    });
  }
  function hideWarning() {
    if (dialog.hidden) { return; }
    dialog.hidden = true;
    behind().forEach(function (el) { el.inert = false; });
    if (typingIn && document.contains(typingIn) && typingIn !== document.body) { typingIn.focus(); }
    typingIn = null;
  }

  function activity(event) {
    if (event && dialog.contains(event.target)) { return; }
    lastActivity = Date.now();
    if (lastActivity - lastSeen > pingEveryMs) { ping(); }
  }
  ["keydown", "input", "click", "touchstart"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  stayButton.addEventListener("click", function () { lastActivity = Date.now(); ping(); });

  window.setInterval(function () {
    if (leaving) { return; }
    var remaining = idleMs - (Date.now() - lastSeen);
    if (kept) {  // signed out, the page kept: it still clears when left alone, warned first
      var left = idleMs - (Date.now() - lastActivity);
      if (left <= 0) { goToSignIn(true); }
      else if (left <= warnMs) { showWarning(left); }
      else { hideWarning(); }
      return;
    }
    if (lastActivity > lastSeen && remaining < warnMs + 5000) { ping(); return; }
    if (remaining <= 0) { checkAndLeave(true); }
    else if (remaining <= warnMs) { showWarning(remaining); }
    else { hideWarning(); }
  }, 1000);

  /* ---- drafts of a case page's forms: what is typed into a form marked data-draft-url is
     sealed on the server every few seconds, as the intake's is, so a session that times out,
     a tab closed or a crashed browser loses at most the last few seconds; the form brings it
     back when opened again. A form that holds typing from the start (brought back, or sent
     back with errors) is kept whole at the first tick; one put back as it was opened deletes
     its draft. ---- */
  var draftForms = [];
  function formFields(form) {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || typeof value !== "string") { return; }
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        if (!Array.isArray(out[name])) { out[name] = [out[name]]; }
        out[name].push(value);
      } else {
        out[name] = value;
      }
    });
    return JSON.stringify(out);
  }
  function draftOf(form) {
    for (var i = 0; i < draftForms.length; i++) { if (draftForms[i].form === form) { return draftForms[i]; } }
    return null;
  }
  function draftBody(draft) {  // the page's own draft (its form key names it), or null: none
    var now = formFields(draft.form), key = draft.form.querySelector("input[name=form_key]");
    return JSON.stringify({ page: key ? key.value : "", fields: now === draft.start ? null : JSON.parse(now) });
  }
  function holdsUnsent() {
    return Array.prototype.some.call(document.querySelectorAll("form[data-keep-typed][data-typed=yes]"), function (form) {
      var draft = draftOf(form);
      return !draft || kept || draftBody(draft) !== draft.sent;
    });
  }
  function sayDraft(draft, savedAt) {
    if (!draft.line) { return; }
    if (savedAt === null) { draft.line.textContent = draft.line.dataset.failed || ""; return; }
    // "dd/mm/yyyy hh:mm": the time is enough beside the form being typed.
    draft.line.textContent = savedAt ? (draft.line.dataset.saved || "") + " " + savedAt.split(" ").pop() : "";
  }
  function freshToken(draft) {  // the token refused: signed in again elsewhere, or signed out
    return fetch(tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401) {  // the session ended: the page holds what was typed
          kept = true;
          showKept("typed-kept", draft.form);
          return null;
        }
        return r.ok ? r.json() : null;
      })
      .then(function (answer) {
        if (!answer) { return; }
        if (answer.user !== account) { goToSignIn(true); return; }  // another person's session
        csrf = answer.csrf;
        document.querySelector("meta[name=csrf-token]").content = csrf;
      });
  }
  function keepDraft(draft) {
    if (draft.done || draft.pending || kept || leaving) { return; }
    var sent = draftBody(draft);
    if (sent === draft.sent) { return; }
    draft.pending = fetch(draft.url, {
      method: "POST", credentials: "same-origin", redirect: "manual", body: sent,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (r) {
      if (r.status === 401 || r.type === "opaqueredirect") {  // the session ended on the server
        kept = true;
        showKept("typed-kept", draft.form);
        return null;
      }
      if (r.status === 400 || r.status === 403 || r.status === 404 || r.status === 409 || r.status === 413) {
        return r.json().catch(function () { return {}; }).then(function (answer) {
          if (answer.error === "csrf") { return freshToken(draft); }
          // Not this person's any more, closed, saved already, or not a draft it can keep:
          // no more tries (what is typed stays on the page, and the idle warning says so).
          draft.done = true;
          if (answer.error !== "already_saved") {
            // The line under the form no longer says it is kept: it is not, from now on.
            draft.gone = true;
            if (draft.line) { draft.line.textContent = draft.line.dataset.gone || ""; }
          }
          return null;
        });
      }
      if (!r.ok) { sayDraft(draft, null); return null; }
      return r.json().then(function (answer) { draft.sent = sent; sayDraft(draft, answer.saved_at); });
    }).catch(function () { sayDraft(draft, null); })
      .finally(function () { draft.pending = null; });
  }
  // The intake keeps its own drafts (intake-drafts.js), under its own address and rules.
  document.querySelectorAll("form[data-draft-url]:not(#intake-form)").forEach(function (form) {
    var typed = form.dataset.typed === "yes";
    var draft = {
      form: form, url: form.dataset.draftUrl, line: form.querySelector(".draft-status"),
      start: typed ? null : formFields(form),  // as opened: no draft
      sent: "", pending: null, done: false
    };
    if (!typed) { draft.sent = draftBody(draft); }  // as opened: the server holds no draft of it
    // Brought back: the server holds just that. Sent back with errors: kept at the first tick.
    if (form.hasAttribute("data-draft-restored")) { draft.sent = draftBody(draft); }
    draftForms.push(draft);
  });
  // Leaving a page whose typing the server no longer takes (the session ended, the case closed
  // or no longer this person's): the browser asks first.
  window.addEventListener("beforeunload", function (event) {
    if (formSent || leaving) { return; }
    var stuck = kept || draftForms.some(function (d) { return d.gone; });
    if (stuck && holdsUnsent()) { event.preventDefault(); event.returnValue = ""; }
  });
  document.addEventListener("submit", function (event) {
    // Throwing a draft away: the form it was of keeps no more drafts (nor sends one as the
    // page goes, which would bring it back).
    var form = event.target, url = form.dataset && form.dataset.discardsDraft;
    if (!url || event.defaultPrevented) { return; }
    var pending = [];
    draftForms.forEach(function (draft) {
      if (draft.url !== url) { return; }
      draft.done = true;
      if (draft.pending) { pending.push(draft.pending); }
    });
    if (pending.length) {  // a draft on its way lands first, then goes with the rest
      event.preventDefault();
      Promise.all(pending).then(function () { formSent = true; HTMLFormElement.prototype.submit.call(form); });
    }
  });
  // A reload's race: the closing page's last copy (its beacon) can reach the server after the
  // page that replaces it was drawn, which then shows the form without it. The closing page
  // names, for this tab only, the forms it sent (their newer-draft address and page key: no
  // text); the new page, while nothing is typed in it, asks a moment later whether one landed
  // after it was drawn, and then opens again to bring it back (once: the next page is drawn
  // after it landed).
  var CLOSING = "diemtua-closing";
  function closingAsks() {
    var said = null;
    try {
      said = JSON.parse(window.sessionStorage.getItem(CLOSING) || "null");
      window.sessionStorage.removeItem(CLOSING);
    } catch (e) { return []; }
    if (!said || said.path !== window.location.pathname || Date.now() - said.at > 10000) { return []; }
    return Array.isArray(said.asks) ? said.asks : [];
  }
  var typedSinceOpened = false, formSent = false;
  document.addEventListener("input", function () { typedSinceOpened = true; }, true);
  // A page left by sending one of its forms: the page that answers says what was done (a
  // message shown once), and is not opened again for another form's copy (it waits in the
  // list of unsent text, and comes back when that form is opened).
  window.addEventListener("submit", function (event) {  // after the page's own handlers
    if (!event.defaultPrevented) { formSent = true; }
  });
  function askNewer(asks) {
    if (typedSinceOpened || kept || leaving) { return; }
    Promise.all(asks.map(function (ask) {
      return fetch(ask.url + "&page=" + encodeURIComponent(ask.page), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : {}; }).catch(function () { return {}; });
    })).then(function (answers) {
      if (!typedSinceOpened && !kept && !leaving && answers.some(function (a) { return a && a.newer; })) {
        window.location.reload();
      }
    });
  }
  if (draftForms.length) {
    window.setInterval(function () { draftForms.forEach(keepDraft); }, 4000);
    var asks = closingAsks().filter(function (ask) {
      return ask && typeof ask.url === "string" && ask.url.charAt(0) === "/" && typeof ask.page === "string";
    }).map(function (ask) {  // this page's own address for the form, with its drawing time
      var form = draftForms.filter(function (d) { return d.url === ask.url.split("/newer")[0]; })[0];
      return form && form.form.dataset.newerUrl ? { url: form.form.dataset.newerUrl, page: ask.page } : null;
    }).filter(Boolean);
    if (asks.length) {
      window.setTimeout(function () { askNewer(asks); }, 1200);
      window.setTimeout(function () { askNewer(asks); }, 3500);
    }
    window.addEventListener("pagehide", function () {
      // Leaving (a link, a close, a reload): what was typed since the last tick goes too.
      if (kept || leaving || !navigator.sendBeacon) { return; }
      var sentNow = [];
      draftForms.forEach(function (draft) {
        if (draft.done || draftBody(draft) === draft.sent) { return; }
        var data = new FormData(), sent = JSON.parse(draftBody(draft));
        data.append("csrf_token", csrf);
        data.append("page", sent.page);
        data.append("fields", JSON.stringify(sent.fields));
        if (navigator.sendBeacon(draft.url, data) && sent.page) {
          sentNow.push({ url: draft.url + "/newer", page: sent.page });
        }
      });
      if (sentNow.length && !formSent) {
        try {
          window.sessionStorage.setItem(CLOSING, JSON.stringify({
            path: window.location.pathname, at: Date.now(), asks: sentNow
          }));
        } catch (e) { /* storage refused: the text waits in the list of unsent text */ }
      }
    });
  }
})();

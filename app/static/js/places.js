/* Điểm Tựa: a province or a commune found by typing. Before each list marked data-find
   (app/places/form_choices.py find_box) this puts a box, with its own label, that finds a place
   as it is typed: accents and letter case need not be typed ("dien bien", "hue"), nor the
   kind ("Xã", "Phường", "Thành phố"); each word typed begins a word of the name ("hoan kiem",
   "ho chi minh"), or the words' first letters stand for it ("hcm"); a province is found by a
   former province's name too ("binh duong"), when no province's own name matches. A name typed
   whole comes first, with its accents when they were typed ("Long Hồ" before "Long Hòa"). The
   list keeps the value and shows only what matches; the best match is chosen at once, so Tab
   moves on with it (the list itself is no stop of its own: the box is). When nothing matches,
   the list is put back as it was when the box got the keys, and the box is marked. Up and
   Down choose among the matches, Enter moves to the next field and never sends the form,
   Ctrl+Enter sends it, Escape empties the box. A province chosen so loads its communes as
   choosing it in the list does (app.js). Without this script the lists work as they are. */
(function () {
  "use strict";
  // The official names' kinds, as typed without accents, and what else people type for them.
  var KINDS = ["thanh pho", "tinh", "xa", "phuong", "dac khu"];
  var TYPED_KINDS = {
    "thanh pho": "thanh pho", "tp": "thanh pho", "tinh": "tinh", "xa": "xa", "x": "xa",
    "phuong": "phuong", "p": "phuong", "dac khu": "dac khu"
  };
  var TONES = /[\u0300\u0301\u0303\u0309\u0323]/g;  // huyền, sắc, ngã, hỏi, nặng
  var SAY_AFTER_MS = 500;  // the live line speaks once the keys rest, not at every key

  function spelled(text) {
    // The words of a name, each as its letters (ă, ê, đ kept), its tone apart (so "hoà" and
    // "hòa" are one), and bare: no accents, "đ" as "d"; apostrophes dropped ("M’Drắk").
    return String(text).toLowerCase().normalize("NFC").replace(/['’‘`´]/g, "")
      .split(/[^\p{L}\p{N}]+/u).map(function (word) {
        var parts = word.normalize("NFD"), tone = (parts.match(TONES) || [""]).pop();
        var letters = parts.replace(TONES, "").normalize("NFC");
        var bare = letters.replace(/đ/g, "d").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
          .replace(/[^a-z0-9]/g, "");
        return { letters: letters, tone: tone, bare: bare };
      }).filter(function (w) { return w.bare; });
  }

  function bare(words) { return words.map(function (w) { return w.bare; }).join(" "); }
  function fold(text) { return bare(spelled(text)); }
  function accented(words) { return words.some(function (w) { return w.tone || w.letters !== w.bare; }); }

  function named(label) {
    // An official name's kind, as it leads the name ("Phường Ba Đình") or follows it in
    // brackets as a list shows a city ("Hồ Chí Minh (thành phố)"): the name's words, and the kind.
    var after = /^(.*)\(([^()]*)\)\s*$/.exec(label);
    if (after && KINDS.indexOf(fold(after[2])) >= 0) { return { words: spelled(after[1]), kind: fold(after[2]) }; }
    var words = spelled(label), text = bare(words);
    for (var i = 0; i < KINDS.length; i += 1) {
      if (text.indexOf(KINDS[i] + " ") === 0) { return { words: words.slice(KINDS[i].split(" ").length), kind: KINDS[i] }; }
    }
    return { words: words, kind: "" };
  }

  function known(words, name) {
    return { words: words, name: name, joined: bare(words).replace(/ /g, ""),
      initials: words.map(function (w) { return w.bare.charAt(0); }).join("") };
  }

  var places = new WeakMap();  // an option's names, read once (a list refilled brings new ones)
  function entry(option) {
    var place = places.get(option);
    if (place) { return place; }
    var own = named(option.textContent), others = function (names) {
      return (names || "").split("|").filter(Boolean).map(function (name) { return known(spelled(name), name); });
    };
    place = { kind: own.kind, names: [known(own.words, "")].concat(others(option.dataset.also)),
      former: others(option.dataset.former) };
    places.set(option, place);
    return place;
  }

  function readings(typed) {
    // What is typed, and without a kind it starts with ("phuong hoan": "hoan", a ward).
    var words = spelled(typed), found = [{ words: words, kind: "", stripped: 0, accented: accented(words) }];
    Object.keys(TYPED_KINDS).forEach(function (lead) {
      var size = lead.split(" ").length;
      if (words.length > size && bare(words.slice(0, size)) === lead) {
        var rest = words.slice(size);
        found.push({ words: rest, kind: TYPED_KINDS[lead], stripped: 1, accented: accented(rest) });
      }
    });
    return found;
  }

  function fits(typed, word) {
    // A word typed with accents begins the name's word with those accents (a tone not yet typed fits).
    return word.letters.indexOf(typed.letters) === 0 && (!typed.tone || typed.tone === word.tone);
  }

  function level(known, reading) {
    // 0: the whole name as typed, with its accents; 1: the whole name without accents;
    // 2: the name begins with the words typed (or, typed as one word, its letters run
    // together: "hoankiem"); 4: they begin words of it, in order; 6: the first letters of its
    // words; one more when accents typed are not the name's; -1: no match.
    var name = known.words, typed = reading.words, t = typed.length, off = reading.accented ? 1 : 0;
    if (!t) { return -1; }
    if (t === name.length && typed.every(function (w, i) { return w.bare === name[i].bare; })) {
      return off && typed.every(function (w, i) { return w.letters === name[i].letters && w.tone === name[i].tone; }) ? 0 : 1;
    }
    if (typed.every(function (w, i) { return i < name.length && name[i].bare.indexOf(w.bare) === 0; })) {
      return 2 + (off && !typed.every(function (w, i) { return fits(w, name[i]); }) ? 1 : 0);
    }
    if (t === 1 && known.joined.indexOf(typed[0].bare) === 0) { return 2 + off; }
    var at = 0, fit = true;
    var inOrder = typed.every(function (w) {
      while (at < name.length && name[at].bare.indexOf(w.bare) !== 0) { at += 1; }
      fit = fit && at < name.length && fits(w, name[at]);
      at += 1;
      return at <= name.length;
    });
    if (inOrder) { return 4 + (off && !fit ? 1 : 0); }
    if (t === 1 && typed[0].bare.length > 1 && known.initials.indexOf(typed[0].bare) === 0) { return 6 + off; }
    return -1;
  }

  function score(place, names, ways) {
    // The best of a place's names against the readings of what is typed: a better level first,
    // then what is read as typed before what is read without a kind ("phuong binh" is Xã
    // Phương Bình before Phường Bình Thủy); a kind typed that is not the place's, after all.
    var best = null;
    names.forEach(function (name) {
      ways.forEach(function (reading) {
        var found = level(name, reading);
        if (found < 0) { return; }
        var wrongKind = reading.kind && reading.kind !== place.kind ? 1 : 0;
        var value = (wrongKind * 8 + found) * 2 + reading.stripped;
        if (!best || value < best.value) { best = { value: value, name: name.name }; }
      });
    });
    return best;
  }

  function matches(select, typed) {
    // The options that match, best first, in the list's own order within a score; by a former
    // province's name only when no place's own names match ("ha" is not Hà Giang's Tuyên Quang).
    var ways = readings(typed), found = [];
    ["names", "former"].some(function (which) {
      Array.prototype.forEach.call(select.options, function (option, index) {
        if (!option.value) { return; }
        var place = entry(option), best = score(place, place[which], ways);
        if (best) { found.push({ option: option, value: best.value, index: index, former: which === "former" ? best.name : "" }); }
      });
      return found.length > 0;
    });
    found.sort(function (a, b) { return a.value - b.value || a.index - b.index; });
    return found;
  }

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  function enhance(select, index) {
    var form = select.form, data = select.dataset;
    var box = document.createElement("input"), label = document.createElement("label");
    var status = document.createElement("p"), holder = document.createElement("div");
    var chosenLine = document.createElement("span");
    box.type = "text";
    box.id = (select.id || "place-" + index) + "-find";
    box.className = "place-find-box";
    box.autocomplete = "off";
    box.spellcheck = false;
    box.setAttribute("enterkeyhint", "next");
    box.setAttribute("aria-controls", select.id);
    status.id = box.id + "-status";
    status.className = "hint place-find-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    // What the list holds, heard on the box as the keys reach it (not live: typing says the rest).
    chosenLine.id = box.id + "-chosen";
    chosenLine.hidden = true;
    // A mistake said of the list is heard on the box, where the keyboard stops.
    box.setAttribute("aria-describedby",
      [select.getAttribute("aria-describedby"), chosenLine.id, status.id].filter(Boolean).join(" "));
    label.htmlFor = box.id;
    label.className = "place-find-label";
    label.textContent = data.find;
    holder.className = "place-find";
    holder.appendChild(label);
    holder.appendChild(box);
    holder.appendChild(chosenLine);
    holder.appendChild(status);
    select.parentNode.insertBefore(holder, select);
    select.tabIndex = -1;  // the box is the keyboard's stop; a click still opens the list

    // found: the matches of what is typed; atFocus: the list's value when the box got the keys.
    var found = [], choosing = false, atFocus = select.value, timer = 0, unmatched = false;
    var drawn = Array.prototype.slice.call(select.options), drawnFor = select.value;  // as the page drew them
    function empty() { return !Array.prototype.some.call(select.options, function (o) { return o.value; }); }
    function describe() {
      var option = select.value && select.selectedOptions[0];
      chosenLine.textContent = option ? fill(data.findChosen, { name: option.textContent }) : "";
    }
    function mark() {
      var refused = select.getAttribute("aria-invalid") === "true";  // the server's word stands
      if (refused || unmatched) { box.setAttribute("aria-invalid", "true"); } else { box.removeAttribute("aria-invalid"); }
    }
    function say(template, values) {
      var text = fill(template, values || {});
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        if (status.textContent !== text) { status.textContent = text; }
      }, SAY_AFTER_MS);
    }
    function showAll() {
      Array.prototype.forEach.call(select.options, function (o) { o.hidden = false; });
    }
    function choose(value) {
      if (select.value === value) { return; }
      choosing = true;
      select.value = value;
      // As a choice in the list does: the form's own handlers (app.js loads the communes).
      select.dispatchEvent(new Event("input", { bubbles: true }));
      select.dispatchEvent(new Event("change", { bubbles: true }));
      choosing = false;
    }
    function sayChosen() {
      var option = select.selectedOptions[0], at = -1;
      found.forEach(function (f, i) { if (f.option === option) { at = i; } });
      if (at < 0) { return; }
      var name = option.textContent;
      if (found[at].former) { name = fill(data.findFormer, { name: name, former: found[at].former }); }
      say(found.length > 1 ? data.findMore : data.findChosen, { name: name, n: at + 1, count: found.length });
    }
    function putBack() {
      // Nothing matches: not a place a few letters matched on the way, but the one held before.
      var held = Array.prototype.some.call(select.options, function (o) { return o.value === atFocus; });
      choose(held ? atFocus : "");
    }
    function filter() {
      var typed = box.value;
      found = fold(typed) ? matches(select, typed) : [];
      unmatched = false;
      if (!found.length) {
        showAll();
        if (!fold(typed)) { say(""); }
        else if (empty() && data.findEmpty) { say(data.findEmpty); }
        else { putBack(); unmatched = true; say(data.findNone, { typed: typed.trim() }); }
        mark();
        return;
      }
      mark();
      var shown = new Set(found.map(function (f) { return f.option; }));
      Array.prototype.forEach.call(select.options, function (o) { o.hidden = !shown.has(o); });
      choose(found[0].option.value);
      sayChosen();
    }
    function clear() {
      box.value = "";
      found = [];
      unmatched = false;
      window.clearTimeout(timer);
      status.textContent = "";
      showAll();
      mark();
    }
    function follow(drawnFor) {
      // Another province chosen: no commune of the one before stays chosen. Where no script
      // loads its communes (the case search), the list holds the communes drawn only while
      // their province is chosen again; else just the blank option until a search.
      clear();
      if (!(form && form.dataset.communesUrl)) {
        var keep = drawnFor ? drawn : drawn.filter(function (o) { return !o.value; });
        if (keep.length !== select.options.length) { select.replaceChildren.apply(select, keep); }
      }
      choose("");
    }
    function step(by) {
      // Up and Down: the next match (every place when nothing is typed), as in the list.
      var list = found.length ? found.map(function (f) { return f.option; }) : Array.prototype.slice.call(select.options);
      if (!list.length) { return; }
      var at = list.indexOf(select.selectedOptions[0]);
      var next = at < 0 ? 0 : Math.min(list.length - 1, Math.max(0, at + by));
      choose(list[next].value);
      if (found.length) { sayChosen(); } else { say(data.findChosen, { name: list[next].textContent }); }
    }

    box.addEventListener("focus", function () { atFocus = select.value; });
    box.addEventListener("input", filter);
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        step(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Escape" && box.value) {
        event.preventDefault();
        clear();
      } else if (event.key === "Enter" && !event.isComposing) {
        // Enter never sends the form: it moves on, as in the form's other fields (app.js);
        // Ctrl+Enter sends it with its main button, here alone (the form's own keys would too).
        event.preventDefault();
        if (window.DiemTua && form) { window.DiemTua.enterMoves(event, form); }
        if (event.ctrlKey || event.metaKey) { event.stopPropagation(); }
      }
    });
    select.addEventListener("change", function () {
      if (!choosing) { clear(); atFocus = select.value; }  // chosen in the list itself, or put back by a draft
      describe();
      var resets = data.findResets && document.getElementById(data.findResets);
      if (resets && resets.placeFind) { resets.placeFind.follow(select.value === drawnFor); }
    });
    // The list filled again (a province's communes, loaded): what is typed finds among them.
    new MutationObserver(function () {
      if (fold(box.value)) { filter(); } else { showAll(); }
      describe();
    }).observe(select, { childList: true });
    select.placeFind = { box: box, clear: clear, follow: follow };
    describe();
    mark();
    if (document.activeElement === select) { box.focus(); }  // a page sent back put it there
  }

  document.querySelectorAll("select[data-find]").forEach(enhance);
})();

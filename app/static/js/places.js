/* Điểm Tựa: a province or a commune found by typing. Before each list marked data-find
   (app/places/form_choices.py find_box) this puts a box, with its own label, that finds a place
   as it is typed: accents and letter case need not be typed ("dien bien", "hue"), nor the
   kind ("Xã", "Phường", "Thành phố"); each word typed begins a word of the name ("hoan kiem",
   "ho chi minh"), or the words' first letters stand for it ("hcm"). The list keeps the value
   and shows only what matches; the best match is chosen at once, so Tab moves on with it
   (the list itself is no stop of its own: the box is). Up and Down choose among the matches,
   Enter moves to the next field and never sends the form, Escape empties the box. A province
   chosen so loads its communes as choosing it in the list does (app.js). Without this script
   the lists work as they are. */
(function () {
  "use strict";
  // The official names' kinds, as typed without accents, and what else people type for them.
  var KINDS = ["thanh pho", "tinh", "xa", "phuong", "dac khu"];
  var TYPED_KINDS = {
    "thanh pho": "thanh pho", "tp": "thanh pho", "tinh": "tinh", "xa": "xa", "x": "xa",
    "phuong": "phuong", "p": "phuong", "dac khu": "dac khu"
  };

  function fold(text) {
    // Lower case, "đ" as "d", no accents, apostrophes dropped ("M’Drắk"), words split by one space.
    return String(text).toLowerCase().replace(/đ/g, "d").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").replace(/['’‘`´]/g, "")
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  function kindOf(label) {
    // An official name's kind, as it leads the name ("Phường Ba Đình") or follows it in
    // brackets as a list shows a city ("Hồ Chí Minh (thành phố)"): the name's words, and the kind.
    var after = /^(.*)\(([^()]*)\)\s*$/.exec(label);
    if (after && KINDS.indexOf(fold(after[2])) >= 0) {
      return { words: fold(after[1]).split(" ").filter(Boolean), kind: fold(after[2]) };
    }
    var words = fold(label).split(" ").filter(Boolean), text = words.join(" ");
    for (var i = 0; i < KINDS.length; i += 1) {
      var kind = KINDS[i];
      if (text.indexOf(kind + " ") === 0) { return { words: words.slice(kind.split(" ").length), kind: kind }; }
    }
    return { words: words, kind: "" };
  }

  function entry(option) {
    var named = kindOf(option.textContent);
    return {
      option: option, words: named.words, kind: named.kind, joined: named.words.join(""),
      initials: named.words.map(function (w) { return w.charAt(0); }).join("")
    };
  }

  function readings(typed) {
    // What is typed, and without a kind it starts with ("phuong hoan": "hoan", a ward).
    var words = fold(typed).split(" ").filter(Boolean), found = [{ words: words, kind: "" }];
    Object.keys(TYPED_KINDS).forEach(function (lead) {
      var size = lead.split(" ").length;
      if (words.length > size && words.slice(0, size).join(" ") === lead) {
        found.push({ words: words.slice(size), kind: TYPED_KINDS[lead] });
      }
    });
    return found;
  }

  function rank(place, reading) {
    // 0: the name begins with the words typed; 1: they begin words of it, in order;
    // 2: the first letters of its words; -1: no match. A kind typed that is not the place's
    // puts it after those of that kind.
    var typed = reading.words, words = place.words, found = -1;
    if (!typed.length) { return -1; }
    var leads = typed.every(function (w, i) { return i < words.length && words[i].indexOf(w) === 0; });
    if (leads || place.joined.indexOf(typed.join("")) === 0) {
      found = 0;
    } else {
      var at = 0;
      var inOrder = typed.every(function (w) {
        while (at < words.length && words[at].indexOf(w) !== 0) { at += 1; }
        at += 1;
        return at <= words.length;
      });
      if (inOrder) { found = 1; }
      else if (typed.length === 1 && typed[0].length > 1 && place.initials.indexOf(typed[0]) === 0) { found = 2; }
    }
    if (found >= 0 && reading.kind && reading.kind !== place.kind) { found += 3; }
    return found;
  }

  function matches(select, typed) {
    // The options that match, best first, in the list's own order within a rank.
    var ways = readings(typed), found = [];
    Array.prototype.forEach.call(select.options, function (option, index) {
      if (!option.value) { return; }
      var place = entry(option), best = -1;
      ways.forEach(function (reading) {
        var r = rank(place, reading);
        if (r >= 0 && (best < 0 || r < best)) { best = r; }
      });
      if (best >= 0) { found.push({ option: option, rank: best, index: index }); }
    });
    found.sort(function (a, b) { return a.rank - b.rank || a.index - b.index; });
    return found.map(function (f) { return f.option; });
  }

  function say(status, template, values) {
    status.textContent = template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  function enhance(select, index) {
    var form = select.form, data = select.dataset;
    var box = document.createElement("input"), label = document.createElement("label");
    var status = document.createElement("p"), holder = document.createElement("div");
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
    // A mistake said of the list is heard on the box, where the keyboard stops.
    box.setAttribute("aria-describedby", ((select.getAttribute("aria-describedby") || "") + " " + status.id).trim());
    if (select.getAttribute("aria-invalid") === "true") { box.setAttribute("aria-invalid", "true"); }
    label.htmlFor = box.id;
    label.className = "place-find-label";
    label.textContent = data.find;
    holder.className = "place-find";
    holder.appendChild(label);
    holder.appendChild(box);
    holder.appendChild(status);
    select.parentNode.insertBefore(holder, select);
    select.tabIndex = -1;  // the box is the keyboard's stop; a click still opens the list
    if (document.activeElement === select) { box.focus(); }  // a page sent back put it there

    var found = [], choosing = false;
    function showAll() {
      Array.prototype.forEach.call(select.options, function (o) { o.hidden = false; });
    }
    function choose(option) {
      if (select.value === option.value) { return; }
      choosing = true;
      select.value = option.value;
      // As a choice in the list does: the form's own handlers (app.js loads the communes).
      select.dispatchEvent(new Event("input", { bubbles: true }));
      select.dispatchEvent(new Event("change", { bubbles: true }));
      choosing = false;
    }
    function sayChosen() {
      var at = found.indexOf(select.selectedOptions[0]);
      if (at < 0) { return; }
      say(status, found.length > 1 ? data.findMore : data.findChosen,
        { name: found[at].textContent, n: at + 1, count: found.length });
    }
    function filter() {
      var typed = box.value;
      found = fold(typed) ? matches(select, typed) : [];
      if (!found.length) {
        showAll();
        status.textContent = "";
        if (fold(typed)) { say(status, data.findNone, { typed: typed.trim() }); }
        return;
      }
      var shown = new Set(found);
      Array.prototype.forEach.call(select.options, function (o) { o.hidden = !shown.has(o); });
      choose(found[0]);
      sayChosen();
    }
    function clear() {
      box.value = "";
      found = [];
      status.textContent = "";
      showAll();
    }
    function step(by) {
      // Up and Down: the next match (every place when nothing is typed), as in the list.
      var list = found.length ? found : Array.prototype.slice.call(select.options);
      if (!list.length) { return; }
      var at = list.indexOf(select.selectedOptions[0]);
      var next = at < 0 ? 0 : Math.min(list.length - 1, Math.max(0, at + by));
      choose(list[next]);
      if (found.length) { sayChosen(); } else { say(status, data.findChosen, { name: list[next].textContent }); }
    }

    box.addEventListener("input", filter);
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        step(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Escape" && box.value) {
        event.preventDefault();
        clear();
      } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && !event.isComposing) {
        // Never sends the form: moves on, as Enter does in the form's other fields (app.js).
        event.preventDefault();
        if (window.DiemTua && form) { window.DiemTua.enterMoves(event, form); }
      }
    });
    select.addEventListener("change", function () {
      if (!choosing) { clear(); }  // chosen in the list itself, or put back by a draft
      var resets = data.findResets && document.getElementById(data.findResets);
      if (resets && resets.placeFind) { resets.placeFind.clear(); }  // another province's communes
    });
    // The list filled again (a province's communes, loaded): what is typed finds among them.
    new MutationObserver(function () {
      if (fold(box.value)) { filter(); } else { showAll(); }
    }).observe(select, { childList: true });
    select.placeFind = { clear: clear };
  }

  document.querySelectorAll("select[data-find]").forEach(enhance);
})();

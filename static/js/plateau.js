// Plateau's small conveniences on top of pages that work without JavaScript:
// copy a link to a transcript line or a citation, bring the marked line into view, "/" to search;
// on an episode, a line's actions (share, copy its citation, quote a passage of several lines).
(function () {
  "use strict";

  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.classList.add("is-visible");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.classList.remove("is-visible"); }, 2200);
  }

  function copy(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { toast(done); }, function () { fallbackCopy(text, done); });
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    toast(ok ? done : "Copie impossible : sélectionnez le texte à la main.");
  }

  // Controls that only make sense with JavaScript are sent hidden and revealed here.
  function reveal(root) {
    root.querySelectorAll("button.copy-link[hidden], button[data-copy-text][hidden], button[data-share-passage][hidden]").forEach(function (b) {
      b.hidden = false;
    });
  }

  function bringMarkedLineIntoView() {
    var line = document.querySelector(".transcript .line.is-marked");
    if (!line) return;
    // With a #t-… or #l-… fragment the browser has already scrolled; centre the line anyway, the header is sticky.
    line.scrollIntoView({ block: "center" });
  }
  // the browser may scroll to a #l-… fragment again once the page has loaded: the line is centred then too,
  // unless the reader has moved on
  window.addEventListener("load", function () {
    var line = document.querySelector(".transcript .line.is-marked");
    if (!line) return;
    var box = line.getBoundingClientRect();
    if (box.bottom > 0 && box.top < window.innerHeight) bringMarkedLineIntoView();
  });

  // ---- an episode's lines: their links, their actions, a passage of several of them ----------
  // A line is `.transcript .line` in both views: the reading view's inline span or the lines
  // view's <li>. It holds data-start, its own anchor "l-POSITION" and, when it is the first line
  // said in its second, "t-SECOND". Citations are never rebuilt here: the page's own URL, asked
  // for its "passage" fragment, answers with the citation the server makes for that link.

  function transcript() { return document.querySelector(".transcript[data-episode]"); }

  function pageUrl(list) {
    return list.getAttribute("data-url") || location.origin + "/episodes/" + list.getAttribute("data-episode");
  }

  function lineText(line) {
    var own = line.querySelector("[id^='l-']");
    return (own || line).textContent.replace(/\s+/g, " ").trim();
  }

  function secondOf(line) { return Math.floor(parseFloat(line.getAttribute("data-start")) || 0); }

  function stampOf(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + two(m) + ":" + two(s) : two(m) + ":" + two(s);
  }

  // ?t=SECOND, and &l=POSITION when the line is not the first said in that second (?t=772&l=288)
  function lineQuery(line) {
    var query = "t=" + secondOf(line);
    if (!/^t-/.test(line.id)) {
      var own = line.querySelector("[id^='l-']");
      if (own) query += "&l=" + own.id.slice(2);
    }
    return query;
  }

  var passages = {};  // query -> promise of {url, text, citation}, as the server writes them
  var known = {};     // query -> the same, once it has arrived (sharing must not wait: browsers want a fresh tap)

  function passage(query) {
    if (!passages[query]) {
      var list = transcript();
      passages[query] = fetch("/episodes/" + encodeURIComponent(list.getAttribute("data-episode")) + "?" + query, {
        headers: { "HX-Request": "true", "HX-Target": "passage" },
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var figure = doc.querySelector(".passage"), citation = doc.getElementById("citation");
        var found = {
          url: figure ? figure.getAttribute("data-share-url") : pageUrl(list) + "?" + query,
          text: figure ? figure.getAttribute("data-share-text") : "",
          citation: citation ? citation.textContent.trim() : ""
        };
        known[query] = found;
        return found;
      });
      passages[query].catch(function () { delete passages[query]; });
    }
    return passages[query];
  }

  // The Web Share API where the browser has it (phones, mostly), else the link to the clipboard.
  function share(data) {
    if (navigator.share) {
      navigator.share(data).catch(function (error) {
        if (!error || error.name !== "AbortError") copy(data.url, "Lien copié : " + data.url);
      });
    } else {
      copy(data.url, "Lien copié : " + data.url);
    }
  }

  function shareQuery(query, fallbackText) {
    var list = transcript(), found = known[query];
    share({
      title: list.getAttribute("data-title") || document.title,
      text: found ? found.text : fallbackText,
      url: found ? found.url : pageUrl(list) + "?" + query
    });
  }

  function copyCitation(query) {
    if (known[query]) {
      copy(known[query].citation, "Citation copiée.");
      return;
    }
    passage(query).then(function (found) { copy(found.citation, "Citation copiée."); },
      function () { toast("Citation indisponible : réessayez."); });
  }

  function button(label, action, className) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = className || "button button-ghost";
    b.setAttribute("data-action", action);
    b.textContent = label;
    return b;
  }

  function allLines() { return Array.prototype.slice.call(transcript().querySelectorAll(".line[data-start]")); }

  // ---- a line's actions: a small non-modal dialog beside it ------------------------------------
  var actions = null;  // {box, line, opener}
  var chosen = null;   // the last line whose actions were opened: where a shift-click's passage starts

  function closeActions(refocus) {
    if (!actions) return;
    var opener = actions.opener;
    actions.line.classList.remove("is-selected");
    actions.box.remove();
    actions = null;
    if (refocus && opener && document.contains(opener)) opener.focus();
  }

  function place(box, line) {
    var rects = line.getClientRects(), r = rects.length ? rects[rects.length - 1] : line.getBoundingClientRect();
    var parent = (box.offsetParent || document.body).getBoundingClientRect();
    var left = Math.max(8, Math.min(r.left, window.innerWidth - box.offsetWidth - 8));
    box.style.top = (r.bottom - parent.top + 6) + "px";
    box.style.left = (left - parent.left) + "px";
  }

  function openActions(line, opener, focusAction) {
    closeActions(false);
    var list = transcript(), query = lineQuery(line), stamp = stampOf(secondOf(line));
    var box = document.createElement("div");
    box.className = "line-actions";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "Actions pour la ligne " + stamp);
    var head = document.createElement("p");
    head.className = "line-actions-head";
    var strong = document.createElement("strong");
    strong.textContent = stamp;
    head.appendChild(document.createTextNode("Ligne "));
    head.appendChild(strong);
    var nav = document.createElement("span");
    nav.className = "nav";
    [["‹", "previous", "Ligne précédente"], ["›", "next", "Ligne suivante"], ["×", "close", "Fermer"]].forEach(function (item) {
      var b = button(item[0], item[1], "icon-button");
      b.setAttribute("aria-label", item[2]);
      nav.appendChild(b);
    });
    head.appendChild(nav);
    box.appendChild(head);
    var row = document.createElement("div");
    row.className = "line-actions-buttons";
    row.appendChild(button("Partager", "share", "button"));
    row.appendChild(button("Copier la citation", "copy-citation"));
    row.appendChild(button("Citer un passage", "range"));
    if (list.hasAttribute("data-editing")) {  // an editor corrects a line from here too
      var own = line.querySelector("[id^='l-']");
      var edit = document.createElement("a");
      edit.className = "button button-ghost edit";
      edit.href = "/episodes/" + encodeURIComponent(list.getAttribute("data-episode")) + "/lines/" + own.id.slice(2) + "/edit";
      edit.textContent = "Modifier la ligne";
      row.appendChild(edit);
    }
    box.appendChild(row);
    // after the line's paragraph (or inside its row): Tab goes on to the next paragraph from here
    var holder = line.closest(".para") || line;
    if (holder === line) line.appendChild(box); else holder.insertAdjacentElement("afterend", box);
    line.classList.add("is-selected");
    chosen = line;
    actions = { box: box, line: line, opener: opener || line.closest(".para") || line };
    place(box, line);
    var focus = box.querySelector("[data-action='" + (focusAction || "share") + "']");
    focus.focus({ preventScroll: true });
    passage(query).catch(function () {});  // ready by the time "Copier la citation" is pressed
  }

  function act(action, line) {
    var query = lineQuery(line);
    if (action === "share") shareQuery(query, "« " + lineText(line) + " »");
    else if (action === "copy-citation") copyCitation(query);
    else if (action === "range") startRange(line);
    else if (action === "close") closeActions(true);
    else if (action === "previous" || action === "next") {
      var lines = allLines(), i = lines.indexOf(line) + (action === "next" ? 1 : -1);
      if (i >= 0 && i < lines.length) {
        var opener = actions && actions.opener;
        lines[i].scrollIntoView({ block: "nearest" });
        openActions(lines[i], lines[i].closest(".para") || opener, action);
      }
    }
  }

  // ---- a passage of several lines: its ?t=a-b link and citation --------------------------------
  var range = null;  // {from, to, bar, query}

  function rangeLines() {
    var lines = allLines(), a = lines.indexOf(range.from), b = lines.indexOf(range.to);
    return lines.slice(Math.min(a, b), Math.max(a, b) + 1);
  }

  function rangeQuery(lines) {
    var first = lines[0], last = lines[lines.length - 1];
    var query = "t=" + secondOf(first) + "-" + secondOf(last);
    var l = lineQuery(first).match(/&l=\d+/);  // the first line, when its second's first line is not it
    return l ? query + l[0] : query;
  }

  function rangeBar() {
    var bar = document.createElement("section");
    bar.className = "range-bar";
    bar.setAttribute("aria-labelledby", "range-title");
    bar.tabIndex = -1;
    bar.innerHTML = '<h2 id="range-title"></h2>' +
      '<p class="range-help">Cliquez la dernière ligne du passage (ou Maj+clic), ou ajustez ligne par ligne. Échap pour quitter.</p>' +
      '<a class="range-link"></a><pre class="range-citation" aria-live="polite"></pre><div class="range-bar-buttons"></div>';
    var row = bar.querySelector(".range-bar-buttons");
    [["− 1 ligne", "less"], ["+ 1 ligne", "more"], ["Copier la citation", "copy-citation"], ["Partager", "share"],
      ["Copier le lien", "copy-link"], ["Terminer", "cancel"]].forEach(function (item, i) {
      row.appendChild(button(item[0], item[1], i === 2 ? "button button-small" : "button button-small button-ghost"));
    });
    document.body.appendChild(bar);
    return bar;
  }

  function showRange() {
    document.querySelectorAll(".transcript .is-in-range").forEach(function (l) { l.classList.remove("is-in-range"); });
    var lines = rangeLines();
    lines.forEach(function (l) { l.classList.add("is-in-range"); });
    var query = rangeQuery(lines), url = pageUrl(transcript()) + "?" + query;
    range.query = query;
    var bar = range.bar;
    var first = stampOf(secondOf(lines[0])), last = stampOf(secondOf(lines[lines.length - 1]));
    bar.querySelector("h2").textContent = "Citer un passage · " + first + (last !== first ? "–" + last : "") +
      " (" + lines.length + (lines.length > 1 ? " lignes)" : " ligne)");
    var link = bar.querySelector(".range-link");
    link.href = url;
    link.textContent = url;
    var pre = bar.querySelector(".range-citation");
    pre.textContent = "« " + lines.map(lineText).join(" ") + " »";
    passage(query).then(function (found) {
      if (!range || range.query !== query) return;
      pre.textContent = found.citation;
      link.href = found.url;
      link.textContent = found.url;
    }, function () {});
  }

  function startRange(line) {
    closeActions(false);
    if (!range) range = { bar: rangeBar() };
    range.from = line;
    range.to = line;
    showRange();
    range.bar.focus({ preventScroll: true });
  }

  function endRange() {
    if (!range) return;
    document.querySelectorAll(".transcript .is-in-range").forEach(function (l) { l.classList.remove("is-in-range"); });
    var back = range.from;
    range.bar.remove();
    range = null;
    var para = back && back.closest(".para");
    if (para) para.focus({ preventScroll: true });
  }

  function rangeAction(action) {
    if (action === "less" || action === "more") {
      var lines = allLines(), i = lines.indexOf(range.to) + (action === "more" ? 1 : -1);
      if (i >= 0 && i < lines.length) { range.to = lines[i]; showRange(); }
    } else if (action === "copy-citation") copyCitation(range.query);
    else if (action === "share") shareQuery(range.query, range.bar.querySelector(".range-citation").textContent);
    else if (action === "copy-link") copy(range.bar.querySelector(".range-link").href, "Lien copié.");
    else if (action === "cancel") endRange();
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (actions && actions.box.contains(target)) {
      var inside = target.closest("button[data-action]");
      if (inside) act(inside.getAttribute("data-action"), actions.line);
      return;
    }
    if (range && range.bar.contains(target)) {
      var control = target.closest("button[data-action]");
      if (control) rangeAction(control.getAttribute("data-action"));
      return;
    }
    var button = target.closest("button");
    if (button) {
      if (button.classList.contains("copy-link")) {
        var list = button.closest(".transcript");
        var url = pageUrl(list) + "?t=" + button.getAttribute("data-t");
        // a line that is not the first said in its second names itself: ?t=772&l=288
        if (button.hasAttribute("data-l")) url += "&l=" + button.getAttribute("data-l");
        copy(url, "Lien copié : " + url);
      } else if (button.hasAttribute("data-copy-text")) {
        var source = document.getElementById(button.getAttribute("data-copy-text"));
        if (source) copy(source.textContent.trim(), "Citation copiée.");
      } else if (button.hasAttribute("data-share-passage")) {
        var figure = document.querySelector(".passage[data-share-url]");
        var episode = transcript();
        if (figure) share({
          title: (episode && episode.getAttribute("data-title")) || document.title,
          text: figure.getAttribute("data-share-text"),
          url: figure.getAttribute("data-share-url")
        });
      }
      return;
    }
    var line = target.closest(".transcript .line[data-start]");
    if (!line || target.closest("a, input, textarea, select")) {
      if (actions && !target.closest(".line-actions")) closeActions(false);
      return;
    }
    var selection = window.getSelection();
    if (selection && !selection.isCollapsed && line.contains(selection.anchorNode)) return;  // selecting text
    if (range) {
      range.to = line;
      showRange();
    } else if (event.shiftKey && chosen && document.contains(chosen)) {
      startRange(chosen);
      range.to = line;
      showRange();
    } else if (actions && actions.line === line) {
      closeActions(false);
    } else {
      openActions(line, line.closest(".para") || line);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (actions) { event.preventDefault(); closeActions(true); return; }
      if (range) { event.preventDefault(); endRange(); return; }
    }
    var para = event.target.classList && event.target.classList.contains("para") ? event.target : null;
    if (para && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      var lines = para.querySelectorAll(".line[data-start]");
      var line = para.querySelector(".line.is-marked") || lines[0];
      if (!line) return;
      if (range) { range.to = line; showRange(); } else openActions(line, para);
    }
  });

  // a line's actions close when focus moves on elsewhere (Tab past them, a click on a link)
  document.addEventListener("focusin", function (event) {
    if (actions && !actions.box.contains(event.target) && event.target !== actions.opener) closeActions(false);
  });
  window.addEventListener("resize", function () { if (actions) place(actions.box, actions.line); });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    var box = document.querySelector("input[data-shortcut='/']");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    reveal(document);
    bringMarkedLineIntoView();
  });
  document.addEventListener("htmx:afterSettle", function (event) { reveal(event.target); });

  // htmx restores "back" from a snapshot taken when the page was left, by which time the search box
  // already held the next query; the URL is the truth, so the filters are put back from it.
  function fillFormsFromUrl() {
    var params = new URLSearchParams(location.search);
    document.querySelectorAll("form[hx-push-url]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || field.type === "submit") return;
        field.value = params.get(field.name) || "";
        if (field.tagName === "SELECT" && field.selectedIndex < 0) field.selectedIndex = 0;
      });
    });
  }
  document.addEventListener("htmx:historyRestore", fillFormsFromUrl);

  // Shared URLs stay short: no empty filters, no sort when it is the default one.
  document.addEventListener("htmx:configRequest", function (event) {
    var parameters = event.detail.parameters;
    if (!parameters || typeof parameters.keys !== "function") return;
    var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    Array.from(parameters.keys()).forEach(function (name) {
      var value = parameters.get(name);
      var field = form && form.elements.namedItem(name);
      if (value === "" || (field && field.getAttribute && field.getAttribute("data-default") === value)) {
        parameters.delete(name);
      }
    });
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) fillFormsFromUrl(); });
})();

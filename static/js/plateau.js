// Plateau's small conveniences on top of pages that work without JavaScript:
// copy a link to a transcript line or a citation, bring the marked line into view, "/" to search.
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
    root.querySelectorAll("button.copy-link[hidden], button[data-copy-text][hidden]").forEach(function (b) {
      b.hidden = false;
    });
  }

  function bringMarkedLineIntoView() {
    var line = document.querySelector(".transcript .line.is-marked");
    if (!line) return;
    // With a #t-… or #l-… fragment the browser has already scrolled; centre the line anyway, the header is sticky.
    line.scrollIntoView({ block: "center" });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("copy-link")) {
      var list = button.closest(".transcript");
      var url = location.origin + "/episodes/" + list.getAttribute("data-episode") + "?t=" + button.getAttribute("data-t");
      // a line that is not the first said in its second names itself: ?t=772&l=288
      if (button.hasAttribute("data-l")) url += "&l=" + button.getAttribute("data-l");
      copy(url, "Lien copié : " + url);
    } else if (button.hasAttribute("data-copy-text")) {
      var source = document.getElementById(button.getAttribute("data-copy-text"));
      if (source) copy(source.textContent.trim(), "Citation copiée.");
    }
  });

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

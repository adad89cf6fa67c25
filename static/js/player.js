// The episode's player and its transcript together: a click on a line seeks the player there, the
// line being played is highlighted (`is-current`) and, unless the reader says otherwise, kept in view.
// Loaded only on pages with a player (templates/player.html); the player itself is sent inert and
// put in place here, so without JavaScript the page keeps its plain link to the video.
(function () {
  "use strict";

  var box = document.getElementById("lecteur");
  if (!box) return;
  var template = box.querySelector("template");
  if (!template) return;

  var kind = box.getAttribute("data-kind");
  var origin = box.getAttribute("data-origin");  // an embed's: the only window commands go to, or messages come from
  var cue = parseFloat(box.getAttribute("data-cue")) || 0;
  var follow = document.getElementById("suivre-lecture");
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var LEEWAY = 0.05;  // a player set to 3 may report 2.9999
  var MANUAL_PAUSE_MS = 8000;  // after the reader scrolls by hand, following waits this long

  box.insertBefore(template.content.cloneNode(true), template);
  var media = box.querySelector("audio, video");
  var frame = box.querySelector("iframe");
  if (frame && kind === "youtube") {
    // the IFrame API answers only a page that names its origin
    frame.src += "&origin=" + encodeURIComponent(location.origin);
  }
  box.hidden = false;

  // ---- the caption lines: their starts, read once per transcript (a swapped transcript is read again)

  var lines = [];
  var starts = [];

  function readLines() {
    lines = Array.prototype.filter.call(document.querySelectorAll(".transcript [data-start]"), function (el) {
      return !el.closest("[hidden]");
    });
    starts = lines.map(function (el) { return parseFloat(el.getAttribute("data-start")) || 0; });
    if (current) current.classList.remove("is-current");
    current = null;
  }

  function linesAreStale() {
    return !lines.length || !lines[0].isConnected || lines[0].closest("[hidden]") !== null;
  }

  // the last line that starts at or before `seconds` (-1 before the first): a binary search, since
  // timeupdate fires four times a second and a three-hour episode has 4,000 lines
  function lineAt(seconds) {
    var low = 0, high = starts.length - 1, found = -1;
    while (low <= high) {
      var mid = (low + high) >> 1;
      if (starts[mid] <= seconds + LEEWAY) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  // ---- highlight and follow

  var current = null;
  var playing = false;
  var manualUntil = 0;
  var programmaticUntil = 0;

  function show(seconds) {
    if (linesAreStale()) readLines();
    var index = lineAt(seconds);
    var line = index >= 0 ? lines[index] : null;
    if (line === current) return;
    if (current) current.classList.remove("is-current");
    current = line;
    if (!line) return;
    line.classList.add("is-current");
    if (playing) keepInView(line);
  }

  function keepInView(line) {
    if (!follow || !follow.checked || Date.now() < manualUntil) return;
    var rect = line.getBoundingClientRect();
    var top = Math.max(0, box.getBoundingClientRect().bottom);  // the player is sticky: below it
    var bottom = window.innerHeight;
    if (rect.top >= top + 8 && rect.bottom <= bottom - 48) return;
    programmaticUntil = Date.now() + 1000;
    window.scrollBy({ top: rect.top - (top + (bottom - top) / 3), behavior: reducedMotion ? "auto" : "smooth" });
  }

  // a reader who scrolls by hand is reading elsewhere: following waits a while
  function byHand() {
    if (Date.now() > programmaticUntil) manualUntil = Date.now() + MANUAL_PAUSE_MS;
  }
  window.addEventListener("wheel", byHand, { passive: true });
  window.addEventListener("touchmove", byHand, { passive: true });
  window.addEventListener("keydown", function (event) {
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    if (["PageUp", "PageDown", "ArrowUp", "ArrowDown", "Home", "End", " "].indexOf(event.key) >= 0) byHand();
  });
  if (follow) {
    follow.addEventListener("change", function () {
      manualUntil = 0;
      if (follow.checked && current && playing) keepInView(current);
    });
  }

  // ---- the players: seek, and the time they are at

  function post(message) {
    if (frame && frame.contentWindow && origin) frame.contentWindow.postMessage(JSON.stringify(message), origin);
  }

  function seek(seconds) {
    if (media) {
      media.currentTime = seconds;
    } else if (kind === "youtube") {
      post({ event: "command", func: "seekTo", args: [seconds, true] });
    } else if (kind === "dailymotion") {
      post({ command: "seek", parameters: [seconds] });
    }
    show(seconds);
  }

  if (media) {
    // before its metadata arrives this sets where the player will start: cued, not played
    if (cue > 0) {
      media.currentTime = cue;
      media.addEventListener("loadedmetadata", function () {
        if (media.currentTime < cue - 1) media.currentTime = cue;
      }, { once: true });
    }
    // (a seek fires timeupdate too)
    media.addEventListener("timeupdate", function () { show(media.currentTime); });
    media.addEventListener("play", function () {
      playing = true;
      manualUntil = 0;
      if (current) keepInView(current);
    });
    media.addEventListener("pause", function () { playing = false; });
    media.addEventListener("ended", function () { playing = false; });
  } else if (frame) {
    // Best effort: the embeds say where they are only if asked, and only as their APIs allow.
    // YouTube sends its time once told someone listens; the player inside may not be ready when the
    // frame has loaded, so it is told again each second until it answers (ten times at most)
    var heard = false;
    frame.addEventListener("load", function () {
      if (kind !== "youtube") return;
      var tries = 0;
      (function listen() {
        if (heard || tries++ >= 10) return;
        post({ event: "listening", id: "plateau", channel: "widget" });
        setTimeout(listen, 1000);
      })();
    });
    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      heard = true;
      var data = event.data;
      if (kind === "youtube") {
        try { data = typeof data === "string" ? JSON.parse(data) : data; } catch (e) { return; }
        if (!data || data.event !== "infoDelivery" || !data.info) return;
        if (typeof data.info.playerState === "number") playing = data.info.playerState === 1;
        if (typeof data.info.currentTime === "number") show(data.info.currentTime);
      } else if (typeof data === "string") {  // Dailymotion: "event=timeupdate&time=12.3"
        var fields = new URLSearchParams(data);
        var name = fields.get("event");
        if (name === "play" || name === "playing") playing = true;
        if (name === "pause" || name === "end" || name === "ended") playing = false;
        var time = parseFloat(fields.get("time"));
        if (!isNaN(time) && (name === "timeupdate" || /^seek/.test(name || ""))) show(time);
      }
    });
  }

  // ---- clicks on the transcript: a timestamp or a line's text seeks instead of opening a page

  function secondsOfLink(link) {
    var line = link.closest("[data-start]");
    if (line) return parseFloat(line.getAttribute("data-start"));
    var url = new URL(link.href, location.href);
    if (url.pathname !== location.pathname) return NaN;  // another episode's
    var anchor = url.hash && document.getElementById(decodeURIComponent(url.hash.slice(1)));
    var target = anchor && anchor.closest("[data-start]");
    if (target) return parseFloat(target.getAttribute("data-start"));
    var t = url.searchParams.get("t") || "";
    return /^[0-9]+(\.[0-9]+)?$/.test(t) ? parseFloat(t) : NaN;
  }

  // the address of a line, as its timestamp links to it: ?t=SECOND (#t-SECOND on the first line said
  // in that second), and &l= for another; the view (?vue=) is kept
  function addressOf(line, link, seconds) {
    var url = new URL(location.href);
    var anchor = link || (line && line.querySelector("a.ts"));
    if (anchor) {
      url = new URL(anchor.href, location.href);
    } else {
      var view = url.searchParams.get("vue");
      var own = /^l-[0-9]+$/.test(line.id) ? line : line.querySelector("[id^='l-']");
      url.search = "";
      url.searchParams.set("t", String(Math.floor(seconds)));
      if (/^t-[0-9]+$/.test(line.id)) {
        url.hash = line.id;
      } else if (own) {
        url.searchParams.set("l", own.id.slice(2));
        url.hash = own.id;
      } else {
        url.hash = "";
      }
      if (view) url.searchParams.set("vue", view);
    }
    return url.pathname + url.search + url.hash;
  }

  document.addEventListener("click", function (event) {
    // not `defaultPrevented`: a line's click may also open the sharing menu (plateau.js); it seeks all the same
    if (event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;  // a new tab, a download…
    var target = event.target;
    if (!(target instanceof Element) || !target.closest(".transcript") || target.closest(".moment-bar")) return;
    var link = target.closest("a");
    var line = target.closest("[data-start]");
    var seconds;
    if (link) {
      if (!link.classList.contains("ts")) return;  // a guest's page, "Modifier": they go where they say
      seconds = secondsOfLink(link);
    } else {
      if (!line || target.closest("button, input, select, textarea, label, summary")) return;
      var selection = window.getSelection();
      if (selection && !selection.isCollapsed && selection.toString().trim()) return;  // the end of a selection
      seconds = parseFloat(line.getAttribute("data-start"));
    }
    if (isNaN(seconds)) return;
    event.preventDefault();
    seek(Math.max(0, seconds));
    history.replaceState(history.state, "", addressOf(line, link, seconds));
  });

  // from the keyboard: Enter on a paragraph of the reading view (its one tab stop) seeks to its start
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var target = event.target;
    if (!(target instanceof Element) || !target.matches(".transcript [tabindex]:not(a, button)")) return;
    var first = target.querySelector("[data-start]");
    if (!first) return;
    var seconds = parseFloat(first.getAttribute("data-start"));
    if (isNaN(seconds)) return;
    seek(Math.max(0, seconds));
    history.replaceState(history.state, "", addressOf(first, null, seconds));
  });

  readLines();
  if (cue > 0) show(cue);

  // the player stays in view below the header, which is sticky on wide screens and taller when it
  // wraps; an anchor the page scrolls to lands below both (the stylesheet's scroll-padding)
  function placeBelowHeader() {
    var header = document.querySelector(".site-header");
    var sticky = header && getComputedStyle(header).position === "sticky";
    var root = document.documentElement.style;
    root.setProperty("--player-top", (sticky ? header.getBoundingClientRect().height : 0) + "px");
    root.setProperty("--player-height", box.getBoundingClientRect().height + "px");
  }
  placeBelowHeader();
  window.addEventListener("resize", placeBelowHeader);
  if (window.ResizeObserver) new ResizeObserver(placeBelowHeader).observe(box);
  document.addEventListener("htmx:afterSettle", readLines);
})();

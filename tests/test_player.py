"""An episode's player: which one a media_url gets, what the page sends, and, in Chromium, a local audio
file playing in step with its transcript."""

import http.server
import math
import re
import struct
import tempfile
import threading
import wave
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import html5lib
import pytest
from conftest import free_port
from playwright import sync_api
from small_archives import add_episode
from test_accessibility import AXE, check_pages
from test_browser import CHROMIUM, CHROMIUM_ARGS, WATCH, Tab, shoot

from app.web.media import (
    EMBED_ORIGINS,
    Player,
    dailymotion_embed,
    dailymotion_id,
    file_kind,
    player_for,
    youtube_embed,
    youtube_id,
)

# --- which player for which address ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com/watch?feature=share&v=dQw4w9WgXcQ&t=42",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?si=abc&t=12",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ?start=3",
        "https://www.youtube.com/live/dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        "HTTPS://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ",
    ],
)
def test_youtube_addresses_give_their_video_id(url):
    assert youtube_id(url) == "dQw4w9WgXcQ"
    assert dailymotion_id(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://www.dailymotion.com/video/x8abc12",
        "https://dailymotion.com/video/x8abc12_le-titre-de-la-video_news",
        "https://www.dailymotion.com/embed/video/x8abc12?autoplay=1",
        "https://dai.ly/x8abc12",
        "http://dai.ly/x8abc12?start=30",
        "https://geo.dailymotion.com/player.html?video=x8abc12",
    ],
)
def test_dailymotion_addresses_give_their_video_id(url):
    assert dailymotion_id(url) == "x8abc12"
    assert youtube_id(url) is None


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://cdn.example/podcast/ep12.mp3", "audio"),
        ("https://cdn.example/ep12.M4A?token=abc", "audio"),
        ("https://cdn.example/a.ogg", "audio"),
        ("https://cdn.example/a.oga", "audio"),
        ("https://cdn.example/a.opus", "audio"),
        ("http://cdn.example/a.wav", "audio"),
        ("https://cdn.example/a.flac#t=3", "audio"),
        ("https://cdn.example/replay/ep12.mp4", "video"),
        ("https://cdn.example/a.webm", "video"),
        ("https://cdn.example/a.ogv", "video"),
        ("https://cdn.example/a.MOV", "video"),
        ("https://cdn.example/ep12.html", None),
        ("https://cdn.example/mp3", None),
        ("https://cdn.example/?file=a.mp3", None),
        ("https://www.france.tv/emission/ep12", None),
    ],
)
def test_direct_files_are_told_by_their_extension(url, kind):
    assert file_kind(url) == kind
    player = player_for(url)
    assert (player.kind if player else None) == kind
    if player:
        assert player.src == url and player.origin is None and not player.embedded


def test_embeds_are_the_official_ones_cued_at_the_second():
    assert youtube_embed("dQw4w9WgXcQ") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?enablejsapi=1"
    assert youtube_embed("dQw4w9WgXcQ", 754.6) == (
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?enablejsapi=1&start=754"
    )
    assert dailymotion_embed("x8abc12", 30) == (
        "https://www.dailymotion.com/embed/video/x8abc12?api=postMessage&autoplay=0&start=30"
    )
    assert player_for("https://youtu.be/dQw4w9WgXcQ?t=99", 12.0) == Player(
        "youtube", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?enablejsapi=1&start=12", 12.0, EMBED_ORIGINS[0]
    )
    dailymotion = player_for("https://dai.ly/x8abc12", 5)
    assert dailymotion is not None and dailymotion.embedded and dailymotion.origin == "https://www.dailymotion.com"
    assert dailymotion.src.endswith("&start=5")


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "javascript:alert(1)//.mp3",
        "ftp://cdn.example/a.mp3",
        "https://",
        "http://[x",
        "http://a:99999/a.mp3",
        "https://www.youtube.com/watch",
        "https://www.youtube.com/watch?v=",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ%22%3E%3Cscript%3E",
        'https://www.youtube.com/watch?v=dQw4w9WgXc"',
        "https://www.youtube.com/channel/UCabcdefghijk",
        "https://www.youtube.com/shorts/",
        "https://youtu.be/",
        "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "https://evil.example/?v=dQw4w9WgXcQ",
        "https://www.dailymotion.com/video/",
        "https://www.dailymotion.com/video/x8abc12<script>",
        "https://dai.ly/",
        "https://www.dailymotion.com/",
        "https://notdailymotion.com/video/x8abc12",
        "https://www.youtube.com/watch?v=plateau42",
        "\x00\x01",
        "https://cdn.example/a.mp3" + "a" * 5000,
    ],
)
def test_junk_addresses_get_no_embed_and_never_raise(url):
    player = player_for(url, 12)
    assert player is None or player.kind in ("audio", "video")
    # none of them gives an id: an embed URL is only ever made of a well-formed one
    assert youtube_id(url or "") is None and dailymotion_id(url or "") is None
    assert file_kind(url or "") == (player.kind if player else None)


def test_a_start_that_is_no_second_cues_at_zero():
    assert player_for("https://cdn.example/a.mp3", -4).start == 0
    assert player_for("https://cdn.example/a.mp3", float("nan")).start == 0
    assert "start" not in player_for("https://youtu.be/dQw4w9WgXcQ", float("inf")).src


# --- what the page sends ----------------------------------------------------------------------------

YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
LINES = [(float(second), f"ligne {second} dite à la seconde {second}") for second in range(60)]


def with_media(session, index, slug: str, media_url: str | None, lines=LINES):
    episode = add_episode(session, index, slug, lines, step=1.0, indexed=False)
    episode.media_url = media_url
    session.add(episode)
    session.commit()
    return episode


def player_box(html: str) -> str | None:
    found = re.search(r'<div class="player[^"]*" id="lecteur".*?</div>', html, re.S)
    return found.group(0) if found else None


def test_a_youtube_episode_embeds_the_nocookie_player_and_the_csp_lets_only_it_in(client, session, index):
    with_media(session, index, "sur-youtube", YOUTUBE)
    response = client.get("/episodes/sur-youtube", params={"t": "12"})
    assert response.status_code == 200
    box = player_box(response.text)
    assert box is not None
    src = unescape(re.search(r'<iframe class="player-media player-frame" src="([^"]+)"', box).group(1))
    assert src == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?enablejsapi=1&start=12"
    assert 'data-origin="https://www.youtube-nocookie.com"' in box and "<template>" in box
    assert 'id="suivre-lecture" checked' in box and "Suivre la lecture" in box
    assert re.search(r'<script src="/static/v/[0-9a-f]+/js/player\.js" defer></script>', response.text)
    csp = {part.split()[0]: part.split()[1:] for part in response.headers["content-security-policy"].split(";") if part}
    assert csp["frame-src"] == ["https://www.youtube-nocookie.com", "https://www.dailymotion.com"]
    assert csp["script-src" if "script-src" in csp else "default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    html5lib.HTMLParser(strict=True).parse(response.text)  # the <template> and its frame are well-formed
    # the plain link stays, for readers without JavaScript
    assert f'href="{YOUTUBE}&amp;t=12"' in response.text and "Voir la vidéo à 00:12" in response.text


def test_a_dailymotion_episode_embeds_dailymotion(client, session, index):
    with_media(session, index, "sur-dailymotion", "https://www.dailymotion.com/video/x8abc12")
    box = player_box(client.get("/episodes/sur-dailymotion").text)
    assert box is not None
    assert 'src="https://www.dailymotion.com/embed/video/x8abc12?api=postMessage&amp;autoplay=0"' in box


@pytest.mark.parametrize(
    ("url", "tag"), [("https://cdn.example/replay.mp4", "video"), ("https://cdn.example/emission.wav", "audio")]
)
def test_a_media_file_gets_the_browsers_own_player(client, session, index, url, tag):
    with_media(session, index, "fichier", url)
    html = client.get("/episodes/fichier", params={"t": "7"}).text
    html5lib.HTMLParser(strict=True).parse(html)
    box = player_box(html)
    assert box is not None
    assert re.search(rf'<{tag} class="player-media" controls[^>]* src="{re.escape(url)}"', box)
    assert 'data-cue="7.0"' in box and "<iframe" not in box
    assert "Voir la vidéo" in html  # the side column's link to the file, as before


def test_without_a_player_the_page_is_as_it_was(client, session, index):
    with_media(session, index, "sans-media", None, [(0.0, "Bonjour <script>alert(1)</script> & <b>gras</b>")])
    with_media(session, index, "page-web", "https://www.france.tv/emission/ep12")
    plain = client.get("/episodes/sans-media").text
    assert player_box(plain) is None and "player.js" not in plain and "Voir la vidéo" not in plain
    assert "Bonjour &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;gras&lt;/b&gt;" in plain
    linked = client.get("/episodes/page-web").text
    assert player_box(linked) is None and "player.js" not in linked
    assert 'href="https://www.france.tv/emission/ep12"' in linked and "Voir la vidéo" in linked


def test_a_hostile_media_url_is_escaped_in_the_player(client, session, index):
    with_media(session, index, "hostile", 'https://cdn.example/a"><script>alert(1)</script>.mp3')
    html = client.get("/episodes/hostile").text
    assert "<script>alert(1)" not in html
    assert 'src="https://cdn.example/a&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.mp3"' in html


# --- in Chromium: a local audio file and its transcript ---------------------------------------------

SAMPLE_RATE = 8000
SECONDS = 60


def tone(path: Path, seconds: int = SECONDS) -> None:
    """A quiet 440 Hz tone, 8 kHz mono 16-bit: a WAV Chromium plays in <audio>."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        samples = (int(3000 * math.sin(2 * math.pi * 440 * n / SAMPLE_RATE)) for n in range(seconds * SAMPLE_RATE))
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))


class RangeFiles(http.server.SimpleHTTPRequestHandler):
    """A folder over HTTP with byte ranges, as any media host serves them: without them Chromium
    cannot seek in a file it is still loading."""

    def log_message(self, *args):
        pass

    def send_head(self):
        ranged = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if not ranged or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first = int(ranged.group(1) or 0)
        last = min(int(ranged.group(2) or size - 1), size - 1)
        if first > last:
            self.send_error(416)
            return None
        body = path.open("rb")
        body.seek(first)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        self.remaining = last - first + 1
        return body

    def copyfile(self, source, outputfile):
        remaining = getattr(self, "remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(remaining))


@pytest.fixture
def media_host(tmp_path) -> Iterator[str]:
    """The folder's files at http://127.0.0.1:PORT/, another origin than the app's, as a podcast host is."""
    folder = tmp_path / "media"
    folder.mkdir()
    tone(folder / "emission.wav")
    handler = lambda *args: RangeFiles(*args, directory=str(folder))  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def playwright():
    """One Playwright for this module's two browsers (its sync API runs one at a time per thread)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set PLATEAU_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def listening_browser(playwright):
    """test_browser's Chromium, allowed to play sound that no click started (a script calls play())."""
    with tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
            headless=True,
            locale="fr-FR",
            viewport={"width": 1280, "height": 800},
        )
        context.add_init_script(WATCH)
        yield context
        context.close()


AUDIO = "document.querySelector('#lecteur audio')"
CURRENT = "Array.from(document.querySelectorAll('.transcript .is-current')).map(l => l.dataset.start)"
# the current line is in view below the sticky player
CURRENT_IN_VIEW = """() => { const line = document.querySelector('.transcript .is-current');
    if (!line) return false;
    const r = line.getBoundingClientRect(), top = document.getElementById('lecteur').getBoundingClientRect().bottom;
    return r.top >= top && r.bottom <= window.innerHeight; }"""


def line(page, second: int):
    return page.locator(f".transcript [data-start='{float(second)}']")


def test_a_local_audio_file_plays_in_step_with_its_transcript(listening_browser, server, session, index, media_host):
    with_media(session, index, "a-ecouter", f"{media_host}/emission.wav")
    tab = Tab(listening_browser, server.url)
    page = tab.open("/episodes/a-ecouter?t=2")
    # a ?t= link cues the player at its second, without playing
    page.wait_for_function(f"() => {AUDIO} && {AUDIO}.readyState >= 1")
    assert page.locator("#lecteur").is_visible()
    assert page.evaluate(f"{AUDIO}.paused") is True
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(2, abs=0.25)
    assert page.evaluate(CURRENT) == ["2.0"]

    # a click on a line seeks there and highlights it, and the address names the line
    line(page, 3).click()
    page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - 3) < 0.25")
    assert page.evaluate(CURRENT) == ["3.0"]
    assert page.url.endswith("/episodes/a-ecouter?t=3#t-3")
    # so does a paragraph's timestamp, instead of opening the page again
    page.evaluate("window.__samePage = true")
    stamp = page.locator(".transcript a.ts").nth(1)
    second = int(re.search(r"[?&]t=(\d+)", stamp.get_attribute("href")).group(1))
    stamp.click()
    page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - {second}) < 0.25")
    assert page.evaluate("window.__samePage") is True and page.evaluate(CURRENT) == [f"{second}.0"]
    assert f"t={second}" in page.url
    # a click that ends a selection selects
    page.evaluate(f"{AUDIO}.currentTime = 3")
    page.wait_for_function(f"() => {CURRENT}.join() === '3.0'")
    box = line(page, 8).bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert page.evaluate("window.getSelection().toString()") != ""
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(3, abs=0.25)

    # playing moves the highlight from line to line
    page.evaluate(f"{AUDIO}.play()")
    page.wait_for_function(f"() => {AUDIO}.currentTime > 4.2", timeout=10000)
    page.wait_for_function(f"() => {CURRENT}.join() === String(Math.floor({AUDIO}.currentTime)) + '.0'")
    assert page.locator(".transcript .is-current").count() == 1
    assert page.locator(".transcript [data-start='3.0'].is-current").count() == 0

    # while it plays, the transcript follows: a line far below is brought into view...
    page.evaluate("window.scrollTo(0, 0)")
    page.evaluate(f"{AUDIO}.currentTime = 45")
    page.wait_for_function(f"() => {CURRENT}.join() === '45.0'")
    page.wait_for_function(CURRENT_IN_VIEW)
    page.wait_for_timeout(400)  # the smooth scroll's end
    shoot(page, "player-following")
    # ...unless the reader switches it off
    follow = page.get_by_label("Suivre la lecture")
    assert follow.is_checked()
    follow.uncheck()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    top = page.evaluate("window.scrollY")
    assert top < 100
    page.evaluate(f"{AUDIO}.currentTime = 52")
    page.wait_for_function(f"() => {CURRENT}.join() === '52.0'")
    page.wait_for_timeout(600)
    # (Chromium's scroll anchoring may move the page a few pixels; following would move it a screen or more)
    assert abs(page.evaluate("window.scrollY") - top) < 100 and not page.evaluate(f"({CURRENT_IN_VIEW})()")
    # back on, it follows again
    follow.check()
    page.evaluate(f"{AUDIO}.currentTime = 20")
    page.wait_for_function(f"() => {CURRENT}.join() === '20.0'")
    page.wait_for_function(CURRENT_IN_VIEW)
    # a reader who scrolls by hand is left where they are for a while
    page.wait_for_timeout(1100)
    page.mouse.move(640, 600)
    page.mouse.wheel(0, -5000)
    page.wait_for_function("() => window.scrollY < 100")
    top = page.evaluate("window.scrollY")
    page.evaluate(f"{AUDIO}.currentTime = 50")
    page.wait_for_function(f"() => {CURRENT}.join() === '50.0'")
    page.wait_for_timeout(600)
    assert abs(page.evaluate("window.scrollY") - top) < 100 and not page.evaluate(f"({CURRENT_IN_VIEW})()")
    page.evaluate(f"{AUDIO}.pause()")
    # from the keyboard, Enter on a paragraph (its one tab stop) seeks to it
    paragraph = page.locator(".transcript .para").nth(1)
    start = float(paragraph.locator("[data-start]").first.get_attribute("data-start"))
    paragraph.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - {start}) < 0.25")
    assert page.evaluate(CURRENT) == [str(start)]

    # the lines view works the same: a line's text seeks, and the address keeps the view
    page = tab.open("/episodes/a-ecouter?vue=lignes")
    page.wait_for_function(f"() => {AUDIO} && {AUDIO}.readyState >= 1")
    line(page, 6).locator("[id^='l-']").click()
    page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - 6) < 0.25")
    assert page.evaluate(CURRENT) == ["6.0"] and "vue=lignes" in page.url and "t=6" in page.url
    # on a phone the player stays on top, and most of the screen is the transcript's
    page.set_viewport_size({"width": 390, "height": 844})
    page = tab.open("/episodes/a-ecouter?t=30")
    page.wait_for_function(f"() => {AUDIO} && {AUDIO}.readyState >= 1")
    page.evaluate("document.querySelector('.transcript .is-current').scrollIntoView({block: 'center'})")
    player = page.locator("#lecteur").bounding_box()
    assert player is not None and player["y"] >= 0 and player["height"] < 844 / 4
    shoot(page, "player-phone")
    assert tab.problems() == []
    tab.close()


def test_a_youtube_player_is_put_in_place_without_csp_violations(listening_browser, server, session, index):
    """No network here: the embed cannot load, but the frame is let in and named as the CSP expects."""
    with_media(session, index, "video-youtube", YOUTUBE)
    tab = Tab(listening_browser, server.url)
    tab.page.route(
        re.compile(r"^https://www\.youtube-nocookie\.com/"), lambda route: route.fulfill(body="<p>lecteur</p>")
    )
    page = tab.open("/episodes/video-youtube?t=4")
    frame = page.locator("#lecteur iframe")
    assert frame.get_attribute("src").startswith(
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?enablejsapi=1&start=4"
    )
    assert page.evaluate(CURRENT) == ["4.0"]
    line(page, 6).click()
    assert page.evaluate(CURRENT) == ["6.0"]
    assert tab.problems() == []
    tab.close()


@pytest.fixture(scope="module")
def axe_browser(playwright):
    """Chromium as test_accessibility.py runs it: the CSP bypassed, so that axe can be injected."""
    assert AXE.exists(), AXE
    with tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="fr-FR", bypass_csp=True
        )
        yield context
        context.close()


def test_pages_with_a_player_have_no_serious_accessibility_violation(axe_browser, server, session, index, media_host):
    with_media(session, index, "a-ecouter", f"{media_host}/emission.wav")
    with_media(session, index, "a-regarder", f"{media_host}/replay.mp4")  # not there: the player says so
    check_pages(
        axe_browser, server.url, ["/episodes/a-ecouter?t=12", "/episodes/a-ecouter?vue=lignes", "/episodes/a-regarder"]
    )

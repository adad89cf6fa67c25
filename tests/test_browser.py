"""The pages in a real browser (Debian's Chromium through Playwright): live search, links to the second, no errors."""

import os
import re
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT
from playwright import sync_api
from test_pages import EPISODE, published_archive

CHROMIUM = os.environ.get("PLATEAU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

# Records CSP violations and uncaught errors from the first script on; init scripts are not subject to the CSP.
WATCH = """
window.__problems = [];
document.addEventListener('securitypolicyviolation',
    e => window.__problems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('error', e => window.__problems.push('error ' + e.message));
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with published_archive(tmp_path_factory.mktemp("browser")) as (live, slugs):
        live.slugs = slugs
        yield live


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set PLATEAU_CHROMIUM)")
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            locale="fr-FR",
            viewport={"width": 1280, "height": 900},
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        context.add_init_script(WATCH)
        yield context
        context.close()


class Tab:
    """A page that remembers its console errors, uncaught exceptions and script dialogs."""

    def __init__(self, context, base: str):
        self.page = context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("dialog", self._dialog)

    def _console(self, message):
        # an error page's own status is not a script error: Chromium logs it as "Failed to load resource"
        if message.type == "error" and not (
            message.location.get("url") == self.page.url and message.text.startswith("Failed to load resource")
        ):
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str):
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def problems(self) -> list[str]:
        return self.errors + self.page.evaluate("window.__problems || []")

    def close(self):
        self.page.close()


@pytest.fixture
def tab(browser, site):
    tab = Tab(browser, site.url)
    yield tab
    assert tab.problems() == []
    tab.close()


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """sel => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        selector,
    )


def shoot(page, name: str, full_page: bool = False):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_typing_updates_results_live_and_the_url_follows(tab):
    page = tab.open("/search")
    shoot(page, "search-empty")
    page.evaluate("window.__sameDocument = true")
    page.locator("#q").press_sequentially("souveraineté numérique", delay=20)
    page.wait_for_url(re.compile(r"q=souverainet"))
    page.wait_for_selector("#results .result")
    assert "numérique" in page.url or "num%C3%A9rique" in page.url
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, not reloaded
    assert page.locator("#results mark").count() > 0
    count = page.locator(".results-head .count").inner_text()
    assert re.search(r"\d+ passages? dans \d+ épisodes?", count)
    shoot(page, "search", full_page=True)
    page.locator(".filters summary").click()
    # every episode this finds is SMART TECH's (003's show is inferred): a guest filter narrows them
    page.select_option("#f-guest", "julien-pillot")
    page.wait_for_url(re.compile(r"guest=julien-pillot"))
    page.wait_for_function("() => document.querySelectorAll('#results .result').length === 3")
    assert "Face aux enjeux" not in page.locator("#results").inner_text()


def test_opening_a_hit_lands_on_its_line_marked_and_in_view(tab):
    page = tab.open("/search?q=" + "souveraineté numérique")
    hit = page.locator("#results .hit .ts").first
    href = hit.get_attribute("href")
    second = re.search(r"\?t=(\d+)", href).group(1)
    hit.click()
    page.wait_for_load_state("networkidle")
    assert f"t={second}" in page.url
    marked = page.locator(".transcript .line.is-marked")
    assert marked.count() == 1
    assert marked.first.locator("mark").count() >= 1
    assert in_viewport(page, ".transcript .line.is-marked")
    shoot(page, "episode-at-timestamp")


def test_a_hit_in_the_second_line_of_a_second_lands_on_that_line(tab):
    page = tab.open('/search?q="toucher du doigt"')  # 12:52 is said twice: "D'accord ?", then this
    hit = page.locator("#results .hit .ts").first
    line = re.search(r"[?&]l=(\d+)", hit.get_attribute("href")).group(1)
    hit.click()
    page.wait_for_load_state("networkidle")
    marked = page.locator(".transcript .line.is-marked")
    assert marked.count() == 1
    assert marked.locator("[id^='l-']").get_attribute("id") == f"l-{line}"
    assert "toucher du doigt" in marked.inner_text()
    assert page.locator("#t-772").get_attribute("class") == "line"  # "D'accord ?", the second's first line
    assert in_viewport(page, ".transcript .line.is-marked")
    marked.click()  # the line's actions: « Partager » copies its link where the browser cannot share
    page.locator(".line-actions").get_by_role("button", name="Partager").click()
    page.wait_for_selector("#toast.is-visible")
    assert page.evaluate("navigator.clipboard.readText()").endswith(f"?t=772&l={line}")
    page = tab.open(f"/episodes/{EPISODE}#l-{line}")  # a bare line anchor: brought into view and shown by :target
    assert in_viewport(page, f"#l-{line}")
    page.mouse.move(0, 0)  # a hovered line has a background too
    color = "id => getComputedStyle(document.getElementById(id).closest('.line')).backgroundColor"
    assert page.evaluate(color, "t-772") in ("rgba(0, 0, 0, 0)", "transparent")  # the line before it is not shown
    assert page.evaluate(color, f"l-{line}") not in ("rgba(0, 0, 0, 0)", "transparent")


def test_t_links_open_cold_on_a_line_and_on_a_range(tab):
    for view in ("", "&vue=lignes"):
        page = tab.open(f"/episodes/{EPISODE}?t=12:34{view}")
        assert page.locator(".line.is-marked").get_attribute("id") == "t-754"
        assert in_viewport(page, ".line.is-marked")
    page.locator(".line.is-marked .copy-link").click()  # the lines view's own button on each line
    page.wait_for_selector("#toast.is-visible")
    assert page.evaluate("navigator.clipboard.readText()").endswith(f"/episodes/{EPISODE}?t=754")
    page = tab.open(f"/episodes/{EPISODE}?t=754-790")
    assert page.locator(".line.is-marked").count() > 10
    assert in_viewport(page, ".line.is-marked")
    assert "nullité" in page.locator(".passage blockquote").inner_text()
    page = tab.open(f"/episodes/{EPISODE}#t-754")  # a bare anchor: marked by :target alone
    background = page.evaluate("getComputedStyle(document.getElementById('t-754')).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")


def test_back_and_forward_restore_each_search(tab):
    page = tab.open("/search")
    page.locator("#q").fill("cloud")
    page.wait_for_url(re.compile(r"q=cloud"))
    page.wait_for_selector("#results .result")
    page.locator("#q").fill("satellites")
    page.wait_for_url(re.compile(r"q=satellites"))
    page.wait_for_function("() => document.querySelector('#results').textContent.includes('satellites')")
    page.go_back()
    page.wait_for_url(re.compile(r"q=cloud"))
    page.wait_for_function("() => document.querySelector('#q').value === 'cloud'")
    assert "Test Vidéo" not in page.locator("#results").inner_text()
    page.go_forward()
    page.wait_for_url(re.compile(r"q=satellites"))
    page.wait_for_function("() => document.querySelector('#q').value === 'satellites'")
    page.wait_for_selector("#results .result")
    page.go_back()
    page.go_back()
    page.wait_for_url(re.compile(r"/search$"))
    page.wait_for_selector("text=Que cherchez-vous")


def test_search_with_the_keyboard_alone(tab):
    page = tab.open("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "home-q":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "home-q"
    page.keyboard.type("souveraineté")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=souverainet"))
    page.wait_for_selector("#results .hit")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('ts')"):
            break
    assert page.evaluate("document.activeElement.closest('.hit') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/episodes/.+\?t=\d+"))
    page.wait_for_load_state("networkidle")
    assert in_viewport(page, ".line.is-marked")


def test_hostile_caption_shows_its_text_and_runs_nothing(tab, site):
    page = tab.open(f"/episodes/{site.slugs['hostile']}")
    text = page.locator(".transcript").inner_text()
    assert "<script>alert(1)</script>" in text
    assert '"><img src=x onerror=alert(1)>' in text
    assert page.locator(".transcript img, .transcript script, .transcript b").count() == 0
    page.goto(site.url + "/search?q=onerror")
    page.wait_for_load_state("networkidle")
    assert page.locator("#results img").count() == 0
    assert tab.dialogs == []


PAGES = [
    "/",
    "/search",
    "/search?q=cloud",
    "/search?q=souvraineté",
    "/search?q=%22pas%20ferm%C3%A9",
    "/episodes",
    f"/episodes/{EPISODE}?t=754-790",
    "/guests",
    "/guests/julien-pillot",
    "/shows",
    "/shows/smart-tech",
    "/episodes/inconnu",
    "/docs",
]


def test_no_javascript_errors_on_any_page(tab):
    for path in PAGES:
        page = tab.open(path)
        if path == "/docs":
            page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        assert tab.problems() == [], path
    page = tab.open("/guests/julien-pillot")
    shoot(page, "guest", full_page=True)
    page = tab.open("/")
    shoot(page, "home", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page = tab.open(f"/episodes/{EPISODE}?t=754")
    shoot(page, "episode-phone")

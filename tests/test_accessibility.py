"""Accessibility in a real browser: axe-core (vendored, tests/vendor) on every page type, desktop and phone,
and the keyboard path past a transcript."""

import tempfile
from pathlib import Path

import pytest
from conftest import ROOT
from playwright import sync_api
from test_browser import CHROMIUM, CHROMIUM_ARGS, WATCH, shoot
from test_pages import EPISODE, published_archive

AXE = ROOT / "tests" / "vendor" / "axe-core-4.14.1.min.js"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")

# Every page type of the seeded archive; the lists' second pages are checked on the generated catalogue.
PAGES = [
    "/",
    "/episodes",
    f"/episodes/{EPISODE}",
    f"/episodes/{EPISODE}?t=754&q=souveraineté",
    f"/episodes/{EPISODE}?t=754-790",
    f"/episodes/{EPISODE}/history",
    "/search",
    "/search?q=souveraineté numérique",
    "/search?q=zzzxqwv",  # no result
    "/search?q=%22pas%20ferm%C3%A9",  # a query error
    "/guests",
    "/guests/julien-pillot",
    "/shows",
    "/shows/smart-tech",
    "/login",
    "/episodes/inconnu",  # a 404
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with published_archive(tmp_path_factory.mktemp("a11y")) as (live, slugs):
        live.slugs = slugs
        yield live


@pytest.fixture(scope="module")
def browser():
    assert AXE.exists(), AXE
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set PLATEAU_CHROMIUM)")
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="fr-FR", bypass_csp=True
        )
        context.add_init_script(WATCH)
        yield context
        context.close()


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it stands, injected from the vendored file (the context
    bypasses the CSP for it: the pages' own scripts are checked against it in test_browser.py)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' ') + (n.any[0] ? ' — ' + n.any[0].message : ''))}));
        }"""
    )


# axe leaves placeholders out: the header search's is measured here, against its field's background
PLACEHOLDER_CONTRAST = """() => {
    const input = document.getElementById('header-q');
    if (!input) return null;
    const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = c => {
        const [r, g, b] = rgb(c).map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const a = lum(getComputedStyle(input, '::placeholder').color), b = lum(getComputedStyle(input).backgroundColor);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def report(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}")
            lines.extend(f"    {target}" for target in v["targets"][:8])
    return "\n".join(lines)


def check_pages(browser, base: str, paths: list[str]) -> None:
    found: dict[str, list[dict]] = {}
    page = browser.new_page()
    try:
        for name, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            for path in paths:
                response = page.goto(base + path)
                page.wait_for_load_state("networkidle")
                assert response is not None and response.status == (404 if "inconnu" in path else 200), path
                bad = blocking(axe_violations(page))
                contrast = page.evaluate(PLACEHOLDER_CONTRAST)
                if contrast is not None and contrast < 4.5:
                    bad.append(
                        {"id": "placeholder-contrast", "impact": "serious", "help": f"{contrast:.2f}:1", "targets": []}
                    )
                if bad:
                    found[f"{name} {path}"] = bad
    finally:
        page.close()
    assert not found, "axe: serious or critical violations\n" + report(found)


def test_no_serious_violation_on_any_page_desktop_and_phone(browser, site):
    check_pages(browser, site.url, PAGES)


def test_no_serious_violation_on_second_pages(browser, catalogued, server):
    check_pages(browser, server.url, ["/episodes?page=2", "/shows", "/guests?page=2"])


def test_skip_the_transcript_by_keyboard(browser, site):
    page = browser.new_page()
    page.set_viewport_size(VIEWPORTS["desktop"])
    try:
        page.goto(f"{site.url}/episodes/{EPISODE}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate(PLACEHOLDER_CONTRAST) >= 4.5  # the header search field's placeholder
        skip = page.locator("a.skip-transcript")
        assert skip.inner_text() == "Passer la transcription"
        hidden = skip.bounding_box()
        assert hidden is None or hidden["y"] + hidden["height"] <= 0  # out of sight until focused
        focused = "document.activeElement.classList.contains('skip-transcript')"
        stops = 0  # early: before any of the transcript's hundreds of stops
        while not page.evaluate(focused):
            assert stops < 30, "Tab from the top does not reach « Passer la transcription » early"
            page.keyboard.press("Tab")
            stops += 1
        box = skip.bounding_box()
        assert box is not None and box["y"] >= 0 and box["height"] > 10  # in sight once focused
        shoot(page, "skip-transcript-focused")
        page.keyboard.press("Enter")
        # focus lands past the transcript: the next Tab reaches nothing inside it
        assert page.evaluate("document.activeElement.id") == "apres-transcription"
        after_transcript = """() => {
            const list = document.querySelector('.transcript');
            return !!(list.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING)
                && !list.contains(document.activeElement);
        }"""
        assert page.evaluate(after_transcript)
        shoot(page, "after-transcript")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('.transcript') === null")
        assert page.evaluate(after_transcript)
    finally:
        page.close()

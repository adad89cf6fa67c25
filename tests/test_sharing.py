"""Sharing a quote from anywhere: a hit opened on a phone, a line's actions, a passage of several
lines quoted with its ?t=a-b link, and a transcript printed as text."""

import re

import pytest
from browsers import NO_SHARE, PHONE, RECORD_SHARES, chromium, context  # noqa: F401  (chromium: a fixture)
from test_browser import Tab, in_viewport, shoot, site  # noqa: F401  (site: the published archive, a fixture)
from test_pages import EPISODE

BASE = "https://plateau.example"  # the published archive's PLATEAU_BASE_URL: every shared link uses it


def opened(browser, live, *scripts, **device) -> Tab:
    return Tab(context(browser, *scripts, **device), live.url)


def close(tab):
    assert tab.problems() == []
    tab.page.context.close()


def open_a_hit(tab, query: str):
    """Search, then tap the first hit's link, as someone who found a quote on their phone does."""
    page = tab.open(f"/search?q={query}")
    link = page.locator("#results .hit a[href*='?t=']").first
    href = link.get_attribute("href")
    link.tap()
    page.wait_for_url(re.compile(r"/episodes/.+\?t=\d+"))
    page.wait_for_load_state("networkidle")
    return page, href


def test_a_hit_opened_on_a_phone_shows_the_title_and_shares_the_passage(chromium, site):  # noqa: F811
    tab = opened(chromium, site, RECORD_SHARES, **PHONE)
    page, href = open_a_hit(tab, "nullité")
    second = re.search(r"\?t=(\d+)", href).group(1)
    title = page.locator("h1").inner_text()
    bar = page.locator(".moment-bar")
    assert bar.locator(".moment-title").inner_text() == title
    assert page.evaluate("(e => e.scrollWidth <= e.clientWidth)(document.querySelector('.moment-title'))")  # whole
    share = bar.get_by_role("button", name="Partager ce passage")
    for shown in (".line.is-marked", ".moment-bar .moment-title", ".moment-bar .moment-share"):
        assert in_viewport(page, shown), shown
    gap = page.evaluate(
        """() => document.querySelector('.line.is-marked').getBoundingClientRect().top
                 - document.querySelector('.moment-bar').getBoundingClientRect().bottom"""
    )
    assert 0 <= gap < 420, gap  # beside the marked line, not a page away
    shoot(page, "phone-hit-share-bar")
    share.tap()
    shared = page.evaluate("window.__shared")
    assert len(shared) == 1
    assert shared[0]["url"].startswith(f"{BASE}/episodes/") and f"?t={second}" in shared[0]["url"]
    assert shared[0]["title"] == title
    quote = page.locator(".passage blockquote").inner_text()
    assert shared[0]["text"].startswith("« ") and quote in shared[0]["text"]
    # any line, on a phone too: a tap opens its actions
    other = page.locator(".transcript .line").nth(3)
    other.tap()
    actions = page.get_by_role("dialog", name=re.compile("Actions pour la ligne"))
    assert actions.is_visible() and in_viewport(page, ".line-actions")
    shoot(page, "phone-line-actions")
    wanted = page.evaluate("document.querySelectorAll('.transcript .line')[3].getAttribute('data-start')")
    actions.get_by_role("button", name="Partager").tap()
    page.wait_for_function("() => window.__shared.length === 2")
    assert page.evaluate("window.__shared[1].url") == f"{BASE}/episodes/{EPISODE}?t={int(float(wanted))}"
    close(tab)


def test_without_the_web_share_api_a_phone_copies_the_link(chromium, site):  # noqa: F811
    tab = opened(chromium, site, NO_SHARE, **PHONE)
    page, _ = open_a_hit(tab, "nullité")
    page.locator(".moment-bar").get_by_role("button", name="Partager ce passage").tap()
    page.wait_for_selector("#toast.is-visible")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator(".passage").get_attribute("data-share-url")
    assert copied.startswith(f"{BASE}/episodes/{EPISODE}?t=")
    # the lines view's per-line button is there on a phone too
    page = tab.open(f"/episodes/{EPISODE}?vue=lignes")
    assert page.locator(".line .copy-link").first.is_visible()
    close(tab)


def test_a_range_citation_from_two_lines_links_to_and_quotes_them(chromium, site):  # noqa: F811
    tab = opened(chromium, site, NO_SHARE)
    page = tab.open(f"/episodes/{EPISODE}")
    page.locator("#t-754").click()
    page.locator(".line-actions").get_by_role("button", name="Citer un passage").click()
    bar = page.get_by_role("region", name=re.compile("Citer un passage"))
    page.locator("#t-766").click()  # the second click ends the passage
    expected = f"{BASE}/episodes/{EPISODE}?t=754-766"
    sync = page.locator(".range-bar .range-link")
    page.wait_for_function("() => document.querySelector('.range-bar .range-citation').textContent.includes('http')")
    assert sync.inner_text() == expected
    selected = page.locator(".transcript .line.is-in-range")
    count = selected.count()
    assert count >= 3 and selected.first.get_attribute("id") == "t-754"
    citation = bar.locator(".range-citation").inner_text()
    assert citation.startswith("« et cette nullité est reconnue.")
    assert citation.rstrip().endswith(expected) and "SMART TECH" in citation and "jeudi 23 octobre 2025" in citation
    shoot(page, "range-citation")
    bar.get_by_role("button", name="Copier la citation").click()
    page.wait_for_selector("#toast.is-visible")
    assert page.evaluate("navigator.clipboard.readText()") == citation
    # shift-click moves the end; one line more with the keyboard-friendly button
    bar.get_by_role("button", name="+ 1 ligne").click()
    assert page.locator(".transcript .line.is-in-range").count() == count + 1
    bar.get_by_role("button", name="− 1 ligne").click()
    page.keyboard.press("Escape")
    assert page.locator(".range-bar").count() == 0 and page.locator(".is-in-range").count() == 0
    # the link opened cold: the same lines marked, the same citation quoted
    page = tab.open(f"/episodes/{EPISODE}?t=754-766")
    assert page.locator(".line.is-marked").count() == count
    assert page.locator("#citation").text_content().strip() == citation.strip()
    assert page.locator(".passage blockquote").inner_text().startswith("et cette nullité est reconnue.")
    close(tab)


def test_shift_click_quotes_from_the_chosen_line_to_another(chromium, site):  # noqa: F811
    tab = opened(chromium, site, NO_SHARE)
    page = tab.open(f"/episodes/{EPISODE}?t=754")
    page.locator("#t-754").click()
    page.locator("#t-790").click(modifiers=["Shift"])  # past the line's actions, which close
    assert page.locator(".line-actions").count() == 0
    assert page.locator(".range-bar .range-link").inner_text() == f"{BASE}/episodes/{EPISODE}?t=754-790"
    assert page.locator(".transcript .line.is-in-range").last.get_attribute("id") == "t-790"
    close(tab)


def test_printing_shows_the_transcript_without_the_page_furniture(chromium, site):  # noqa: F811
    tab = opened(chromium, site)
    page = tab.open(f"/episodes/{EPISODE}?t=754")
    page.emulate_media(media="print")
    for hidden in ("header.site-header", "footer", "nav", "form", ".episode-side", ".moment-bar", ".view-switch"):
        assert all(not e.is_visible() for e in page.locator(hidden).all()), hidden
    assert page.locator("button:visible").count() == 0
    assert page.locator("h1").is_visible() and page.locator("p.para").first.is_visible()
    after = page.evaluate("getComputedStyle(document.querySelector('p.para a.ts'), '::after').content")
    assert after in ("none", "normal")  # no link address printed after each timestamp
    shoot(page, "print", full_page=False)
    close(tab)


@pytest.mark.parametrize("view", ["", "?vue=lignes"])
def test_a_line_copies_its_citation_as_the_server_writes_it(chromium, site, view):  # noqa: F811
    tab = opened(chromium, site, NO_SHARE)
    page = tab.open(f"/episodes/{EPISODE}{view}")
    page.locator("#t-754 [id^='l-']").click()
    page.locator(".line-actions").get_by_role("button", name="Copier la citation").click()
    page.wait_for_selector("#toast.is-visible")
    copied = page.evaluate("navigator.clipboard.readText()")
    page = tab.open(f"/episodes/{EPISODE}?t=754")
    assert copied == page.locator("#citation").text_content().strip()
    close(tab)

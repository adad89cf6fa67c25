"""The episode page reads like a text: caption lines flow into paragraphs, every line keeps its
anchors, `?t=` links land inside a paragraph, and a "Lignes" toggle keeps the list of lines."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from browsers import chromium, context  # noqa: F401  (chromium: the module's browser, a fixture)
from sqlmodel import Session
from test_browser import Tab, in_viewport, shoot, site  # noqa: F401  (site: the published archive, a fixture)
from test_pages import EPISODE

from app.web.transcript import PARAGRAPH_MAX_CHARS, Line, Turn, paragraphs
from bench.generate import generate


def line(position: int, start: float, text: str, *, end: float | None = None, turn: str | None = None) -> Line:
    return Line(
        position, start, int(start), f"t-{int(start)}", text, end=end,
        turn=Turn(turn, None, None) if turn else None,
    )  # fmt: skip


def texts(found) -> list[list[str]]:
    return [[line.text for line in paragraph.lines] for paragraph in found]


# --- the paragraphs ------------------------------------------------------------------------------


def test_a_change_of_speaker_opens_a_paragraph_and_names_them():
    lines = [
        line(0, 0, "Bonjour à tous,", turn="Delphine Sabattier"),
        line(1, 2, "bienvenue dans Smart Tech."),
        line(2, 4, "Merci Delphine, ravi", turn="Julien Pillot"),
        line(3, 6, "d'être avec vous."),
    ]
    found = paragraphs(lines)
    assert texts(found) == [
        ["Bonjour à tous,", "bienvenue dans Smart Tech."],
        ["Merci Delphine, ravi", "d'être avec vous."],
    ]
    assert [p.turn.name for p in found] == ["Delphine Sabattier", "Julien Pillot"]


def test_a_sentence_end_closes_a_paragraph_once_it_says_enough():
    long = "une phrase assez longue pour remplir un paragraphe de lecture agréable " * 5  # ~370 chars
    lines = [
        line(0, 0, "C'est court."),  # a sentence end, but the paragraph has barely started
        line(1, 3, long.strip() + "."),
        line(2, 9, "Et la suite commence ici,"),
        line(3, 12, "sans s'arrêter"),
    ]
    assert texts(paragraphs(lines)) == [
        ["C'est court.", long.strip() + "."],
        ["Et la suite commence ici,", "sans s'arrêter"],
    ]


def test_a_pause_closes_a_paragraph_where_the_file_gives_real_ends():
    said = "une réponse qui dit déjà quelque chose d'entier et de suffisant"  # 60 chars: two make a paragraph
    timed = [line(0, 0, said, end=3.0), line(1, 3, said, end=5.0), line(2, 9, "Après un silence.", end=11.0)]
    assert len(paragraphs(timed)) == 2
    # a saved page ends each line where the next one starts: no pause can be seen there
    untimed = [line(0, 0, said, end=3.0), line(1, 3, said, end=9.0), line(2, 9, "Après un silence.", end=11.0)]
    assert len(paragraphs(untimed)) == 1


def test_no_paragraph_is_a_wall_of_text_and_every_line_is_in_one():
    lines = [line(i, i * 2, f"fragment numéro {i} sans aucun point") for i in range(200)]
    found = paragraphs(lines)
    assert [ln for p in found for ln in p.lines] == lines
    assert all(sum(len(ln.text) + 1 for ln in p.lines) <= PARAGRAPH_MAX_CHARS for p in found)
    assert len(found) > 5
    assert paragraphs([]) == []


# --- the page over HTTP ----------------------------------------------------------------------------


def test_a_thousand_line_episode_weighs_at_most_150_kb_in_the_reading_view(tmp_path, session: Session, index, client):
    from app.services.ingest import ingest_paths

    generate(tmp_path / "pages", 1, 1000, seed=3)
    (outcome,) = ingest_paths(session, [tmp_path / "pages"], index=index)
    reading = client.get(f"/episodes/{outcome.slug}")
    assert reading.status_code == 200
    assert reading.text.count('class="line"') == 1000  # every line is there, as an inline span
    assert len(reading.content) <= 150_000, len(reading.content)
    paragraph_count = reading.text.count('<p class="para"')
    assert 1000 / 40 < paragraph_count < 1000 / 5
    # each paragraph, not each line, is a stop for the keyboard
    assert reading.text.count('tabindex="0"') == paragraph_count
    lines = client.get(f"/episodes/{outcome.slug}", params={"vue": "lignes"})
    assert lines.text.count('<li id="t-') + lines.text.count('<li class="line') == 1000


def test_the_toggle_links_keep_the_moment_the_line_and_the_search(site):  # noqa: F811
    import httpx

    html = httpx.get(f"{site.url}/episodes/{EPISODE}", params={"t": "9", "l": "3", "q": "cloud"}).text
    switch = re.search(r'<nav class="view-switch"[^>]*>(.*?)</nav>', html, re.S).group(1)
    links = {name: href.replace("&amp;", "&") for href, name in re.findall(r'href="([^"]+)"[^>]*>(\w+)</a>', switch)}
    assert parse_qs(urlsplit(links["Lignes"]).query) == {"t": ["9"], "l": ["3"], "q": ["cloud"], "vue": ["lignes"]}
    assert parse_qs(urlsplit(links["Lecture"]).query) == {"t": ["9"], "l": ["3"], "q": ["cloud"]}
    assert re.search(r'aria-current="page">Lecture<', switch)


# --- in Chromium -----------------------------------------------------------------------------------


@pytest.fixture
def tab(chromium, site):  # noqa: F811
    opened = context(chromium)
    tab = Tab(opened, site.url)
    yield tab
    assert tab.problems() == []
    opened.close()


def test_a_t_link_lands_inside_a_paragraph_on_its_line_marked_and_in_view(tab):
    page = tab.open(f"/episodes/{EPISODE}?t=12:34")
    marked = page.locator(".transcript .line.is-marked")
    assert marked.count() == 1
    assert marked.get_attribute("id") == "t-754"
    assert page.evaluate("document.querySelector('.line.is-marked').closest('p.para') !== null")
    assert "et cette nullité est reconnue." in marked.inner_text()
    assert in_viewport(page, ".line.is-marked")
    # the paragraph holding it reads on: lines before and after it are in the same paragraph
    assert (
        page.evaluate("document.querySelector('.line.is-marked').closest('p.para').querySelectorAll('.line').length")
        > 2
    )
    shoot(page, "reading-view-at-timestamp")
    # a range: every line of it marked, inside paragraphs
    page = tab.open(f"/episodes/{EPISODE}?t=754-790")
    assert page.locator("p.para .line.is-marked").count() == page.locator(".line.is-marked").count() > 10
    assert in_viewport(page, ".line.is-marked")


def test_a_line_anchor_and_a_second_anchor_land_on_their_line(tab):
    page = tab.open(f"/episodes/{EPISODE}?vue=lignes")
    position = page.locator("#t-788 .text").get_attribute("id")
    page = tab.open(f"/episodes/{EPISODE}#{position}")
    assert in_viewport(page, f"#{position}")
    page.mouse.move(0, 0)
    shown = "id => getComputedStyle(document.getElementById(id).closest('.line')).backgroundColor"
    assert page.evaluate(shown, position) not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.evaluate(shown, "t-754") in ("rgba(0, 0, 0, 0)", "transparent")
    page = tab.open(f"/episodes/{EPISODE}#t-754")
    assert in_viewport(page, "#t-754")
    assert page.evaluate(shown, "t-754") not in ("rgba(0, 0, 0, 0)", "transparent")


def test_the_lines_toggle_gives_the_list_at_the_same_moment(tab):
    page = tab.open(f"/episodes/{EPISODE}?t=754&q=nullité")
    assert page.locator(".view-switch a[aria-current='page']").inner_text() == "Lecture"
    page.locator(".view-switch").get_by_role("link", name="Lignes").click()
    page.wait_for_load_state("networkidle")
    assert parse_qs(urlsplit(page.url).query) == {"t": ["754"], "q": ["nullité"], "vue": ["lignes"]}
    rows = page.locator("ol.transcript > li.line")
    assert rows.count() == tab.page.evaluate("document.querySelectorAll('.transcript .line').length") > 100
    assert page.locator("li.line.is-marked").get_attribute("id") == "t-754"
    assert page.locator("li.line.is-marked mark").first.inner_text() == "nullité"
    assert in_viewport(page, "li.line.is-marked")
    page.locator(".view-switch").get_by_role("link", name="Lecture").click()
    page.wait_for_load_state("networkidle")
    assert "vue=" not in page.url and page.locator("p.para .line.is-marked").count() == 1


def test_one_tab_stop_per_paragraph_and_enter_opens_a_lines_actions(tab):
    page = tab.open(f"/episodes/{EPISODE}")
    stops = page.evaluate(
        """() => Array.from(document.querySelector('.transcript').querySelectorAll(
            'a[href], button, input, select, textarea, [tabindex]'))
            .filter(e => e.tabIndex >= 0 && !e.hidden).length"""
    )
    paragraph_count = page.locator(".transcript p.para").count()
    lines = page.locator(".transcript .line").count()
    assert stops == paragraph_count  # this episode names no speaker: no speaker link among them
    assert lines > 5 * paragraph_count
    # Tab walks from paragraph to paragraph; Enter opens the first line's actions, Escape closes them
    page.locator(".transcript p.para").first.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement === document.querySelectorAll('.transcript p.para')[1]")
    page.keyboard.press("Enter")
    actions = page.get_by_role("dialog", name=re.compile("Actions pour la ligne"))
    assert actions.is_visible()
    assert page.evaluate("document.activeElement.textContent") == "Partager"
    names = [b.inner_text() for b in actions.locator(".line-actions-buttons button").all()]
    assert names == ["Partager", "Copier la citation", "Citer un passage"]
    page.keyboard.press("Escape")
    assert actions.count() == 0
    assert page.evaluate("document.activeElement === document.querySelectorAll('.transcript p.para')[1]")


def test_without_javascript_the_page_shows_the_transcript_and_the_citation(chromium, site):  # noqa: F811
    opened = context(chromium, javascript=False)
    page = opened.new_page()
    page.goto(f"{site.url}/episodes/{EPISODE}?t=754")
    assert page.locator("p.para").first.is_visible()
    assert page.locator(".line.is-marked").inner_text().startswith("et cette nullité")
    assert "?t=754" in page.locator("#citation").text_content()  # in its <details>, as without the page script
    assert page.locator(".moment-bar .moment-title").is_visible()
    assert page.locator("button[data-share-passage]:visible").count() == 0  # sharing needs the script
    page.locator(".view-switch").get_by_role("link", name="Lignes").click()
    assert page.locator("li.line.is-marked").get_attribute("id") == "t-754"
    opened.close()

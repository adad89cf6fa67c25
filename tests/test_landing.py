"""Exact landing: every caption line has its own anchor, and a hit's link marks the line holding the
match even when other lines start in the same second."""

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest

from tests.conftest import ON_BOTH_BACKENDS
from tests.small_archives import add_episode

SLUG = "meme-seconde"
# Three lines start at 0:09; the searched word is in the second of them.
LINES = [
    (0.0, "Bonjour à tous sur le plateau."),
    (4.0, "On commence tout de suite."),
    (9.0, "D'accord ?"),
    (9.0, "Et la cryptographie post-quantique arrive dans nos téléphones."),
    (9.0, "Oui, tout à fait."),
    (14.0, "Merci à vous."),
]
MATCH = 3  # position of the line holding "cryptographie"


@pytest.fixture
def episode(session, index):
    return add_episode(session, index, SLUG, LINES)


def page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(response.text)


def transcript_lines(document) -> list:
    """The caption lines of either view: the reading view's spans, the lines view's <li>."""
    transcript = next(e for e in document.iter() if "transcript" in (e.get("class") or "").split())
    return [e for e in transcript.iter() if "line" in (e.get("class") or "").split()]


def own_anchor(line):
    """The element holding a line's own anchor, "l-POSITION", and its text."""
    return next(e for e in line.iter() if (e.get("id") or "").startswith("l-"))


def marked_texts(document) -> list[str]:
    return ["".join(own_anchor(line).itertext()) for line in transcript_lines(document) if line.get("aria-current")]


def meta(document, prop: str) -> str:
    return next(m.get("content") for m in document.iter("meta") if m.get("property") == prop)


@pytest.mark.parametrize("view", ["", "?vue=lignes"])
def test_every_line_has_its_own_anchor_and_each_second_keeps_its_own(client, episode, view):
    lines = transcript_lines(page(client, f"/episodes/{SLUG}{view}"))
    assert [own_anchor(line).get("id") for line in lines] == [f"l-{n}" for n in range(len(LINES))]
    assert [line.get("id") for line in lines] == ["t-0", "t-4", "t-9", None, None, "t-14"]
    assert [line.get("data-start") for line in lines] == [str(start) for start, _ in LINES]


def test_in_the_lines_view_each_line_links_to_itself_and_copies_its_link(client, episode):
    lines = transcript_lines(page(client, f"/episodes/{SLUG}?vue=lignes"))
    # a line's own timestamp links to that line, with `l` only where its second is not enough
    links = [li.find("a[@class='ts']").get("href") for li in lines]
    assert links[2] == f"/episodes/{SLUG}?t=9&vue=lignes#t-9"
    assert links[3] == f"/episodes/{SLUG}?t=9&l=3&vue=lignes#l-3"
    copy = lines[3].find("button[@class='copy-link']")
    assert (copy.get("data-t"), copy.get("data-l")) == ("9", "3")
    assert lines[2].find("button[@class='copy-link']").get("data-l") is None


@ON_BOTH_BACKENDS
def test_a_hit_in_the_second_line_of_a_second_links_to_and_marks_that_line(client, episode):
    (hit,) = client.get("/api/search", params={"q": "cryptographie"}).json()["hits"]
    assert hit["timestamp"] == "00:09"
    assert parse_qs(urlsplit(hit["url"]).query) == {"t": ["9"], "l": [str(MATCH)]}
    document = page(client, hit["url"])
    assert marked_texts(document) == ["Et la cryptographie post-quantique arrive dans nos téléphones."]
    first_of_second = next(li for li in transcript_lines(document) if li.get("id") == "t-9")
    assert first_of_second.get("class") == "line"  # "D'accord ?" starts in that second too, and is not marked
    # the quote, its title link and the shared link start on that line
    passage = document.find(".//figure[@class='passage']")
    assert "".join(passage.find("blockquote").itertext()).startswith("Et la cryptographie")
    assert passage.find(".//h2/a").get("href") == f"#l-{MATCH}"
    assert meta(document, "og:url").endswith(f"/episodes/{SLUG}?t=9&l={MATCH}")
    assert f"?t=9&l={MATCH}" in "".join(document.find(".//pre[@id='citation']").itertext())


@ON_BOTH_BACKENDS
def test_every_link_to_the_hit_lands_on_its_line(client, episode):
    expected = f"/episodes/{SLUG}?t=9&l={MATCH}"
    results = page(client, "/search?q=cryptographie")
    fragment = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parseFragment(
        client.get("/search", params={"q": "cryptographie"}, headers={"HX-Request": "true"}).text
    )
    inside = page(client, f"/episodes/{SLUG}?q=cryptographie")
    hrefs = [
        next(a.get("href") for a in document.iter("a") if a.get("class") == "ts")
        for document in (results, fragment, inside)
    ]
    assert hrefs == [f"{expected}&q=cryptographie#l-{MATCH}"] * 3
    feed = ET.fromstring(client.get("/search.atom", params={"q": "cryptographie"}).content)
    (link,) = feed.findall(".//{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}link")
    assert link.get("href").endswith(f"{expected}#l-{MATCH}")
    for href in hrefs:
        opened = page(client, href.split("#")[0])
        assert marked_texts(opened) == ["Et la cryptographie post-quantique arrive dans nos téléphones."]
        assert opened.find(f".//span[@id='l-{MATCH}']") is not None  # the anchor the link's fragment names


def test_a_link_without_a_line_still_marks_the_first_line_of_its_second(client, episode):
    document = page(client, f"/episodes/{SLUG}?t=9")
    assert marked_texts(document) == ["D'accord ?"]
    assert meta(document, "og:url").endswith(f"/episodes/{SLUG}?t=9")


def test_a_range_can_start_on_a_line_inside_its_first_second(client, episode):
    document = page(client, f"/episodes/{SLUG}?t=9-14&l=4")
    assert marked_texts(document) == ["Oui, tout à fait.", "Merci à vous."]
    assert meta(document, "og:url").endswith(f"/episodes/{SLUG}?t=9-14&l=4")


@pytest.mark.parametrize(
    "line",
    ["", "abc", "-1", "3.5", "1e3", "99", "9" * 40, "٣", "0", "5", " ", "3 3", "%00"],
)
def test_a_line_that_is_not_in_that_second_falls_back_to_the_second_never_500(client, episode, line):
    # 0 and 5 are lines of the episode, but at 0:00 and 0:14: the second wins
    document = page(client, f"/episodes/{SLUG}?t=9&l={line}")
    assert marked_texts(document) == ["D'accord ?"]


def test_a_line_without_a_second_marks_nothing(client, episode):
    document = page(client, f"/episodes/{SLUG}?l={MATCH}")
    assert marked_texts(document) == []
    assert document.find(".//figure[@class='passage']") is None

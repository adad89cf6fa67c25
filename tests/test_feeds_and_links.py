"""Absolute links that work wherever Plateau runs, and Atom feeds that are valid (RFC 4287).

A real server on a random port: citations, share cards, canonical links and feeds name that server
unless PLATEAU_BASE_URL is set. Feeds are read with a real feed parser (feedparser) and checked
against the rules of RFC 4287 the parser lets pass.
"""

import re
import time
import xml.etree.ElementTree as ET
from html import unescape
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest
from conftest import LiveServer
from sqlmodel import select

from app.config import get_settings
from app.models import Episode

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SECOND = 754  # a second said in seed 000 (SMART TECH, 23 octobre 2025)
FEEDS = ["/feed.atom", "/search.atom?q=souverainet%C3%A9", "/search.atom?q=cloud+souverain"]


def plateau_links(html: str) -> list[str]:
    """Every absolute http(s) URL in a page, attributes and text alike (the citation is text)."""
    return [unescape(u) for u in re.findall(r"https?://[^\s\"'<>]+", html)]


def head_link(html: str, pattern: str) -> str:
    found = re.search(pattern, html)
    assert found, pattern
    return unescape(found.group(1))


def episode_links(html: str) -> dict[str, str]:
    citation = head_link(html, r'<pre id="citation" class="citation">([^<]*)</pre>')
    (cited,) = re.findall(r"https?://\S+", citation)
    return {
        "canonical": head_link(html, r'<link rel="canonical" href="([^"]+)"'),
        "og:url": head_link(html, r'<meta property="og:url" content="([^"]+)"'),
        "citation": cited,
    }


def feed_links(xml: bytes) -> list[str]:
    root = ET.fromstring(xml)
    return [e.text or "" for e in root.iter(f"{A}id")] + [e.get("href", "") for e in root.iter(f"{A}link")]


def check_links(http, slug: str, site: str) -> None:
    html = http.get(f"/episodes/{slug}", params={"t": str(SECOND)}).text
    named = episode_links(html)
    assert named["canonical"] == f"{site}/episodes/{slug}"
    assert named["og:url"] == named["citation"] == f"{site}/episodes/{slug}?t={SECOND}", named
    # and no other absolute link to Plateau names another site (the old default, 127.0.0.1:8000)
    hosts = ("127.0.0.1", "localhost", urlsplit(site).hostname)
    ours = [u for u in plateau_links(html) if urlsplit(u).hostname in hosts]
    assert ours and all(u.startswith(site + "/") for u in ours), ours
    for path in FEEDS:
        links = feed_links(http.get(path).content)
        assert links and all(u.startswith(site + "/") for u in links), (path, links)


def test_absolute_links_name_the_server_that_answers(seeded, server):
    assert get_settings().base_url is None
    with httpx.Client(base_url=server.url, timeout=30) as http:
        check_links(http, seeded["000"], server.url)
        # another name for the same server: the links follow the Host the request came with
        renamed = httpx.Client(base_url=server.url, timeout=30, headers={"Host": f"archive.test:{server.port}"})
        with renamed:
            check_links(renamed, seeded["000"], f"http://archive.test:{server.port}")


def test_a_configured_base_url_wins(seeded, monkeypatch):
    monkeypatch.setenv("PLATEAU_BASE_URL", "https://plateau.example/")
    get_settings.cache_clear()
    with LiveServer() as live, httpx.Client(base_url=live.url, timeout=30) as http:
        check_links(http, seeded["000"], "https://plateau.example")


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "plateau.example", "X-Forwarded-For": "203.0.113.7"}


@pytest.mark.parametrize(("peer", "site"), [("10.0.0.5", "https://plateau.example"), ("10.0.0.9", "http://testserver")])
def test_a_trusted_proxy_names_the_site_and_no_one_else_does(seeded, monkeypatch, peer, site):
    from fastapi.testclient import TestClient

    from app.main import create_app

    monkeypatch.setenv("PLATEAU_TRUSTED_PROXIES", "10.0.0.5")
    get_settings.cache_clear()
    with TestClient(create_app(), client=(peer, 40000), headers=FORWARDED) as http:
        check_links(http, seeded["000"], site)


# --- Atom ---------------------------------------------------------------------------------------


def check_atom(response: httpx.Response, url: str) -> ET.Element:
    """The rules of RFC 4287 that matter to a reader; returns the parsed feed."""
    assert response.headers["content-type"].startswith("application/atom+xml"), response.headers
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = ET.fromstring(response.content)
    assert root.tag == f"{A}feed"

    def one(element: ET.Element, name: str) -> str:
        found = element.findall(f"{A}{name}")
        assert len(found) == 1, f"<{name}> appears {len(found)} times"
        return found[0].text or ""

    def absolute(iri: str) -> str:
        parts = urlsplit(iri)
        assert parts.scheme in ("http", "https", "tag") and (parts.netloc or parts.scheme == "tag"), iri
        return iri

    for name in ("title", "id", "updated"):
        assert one(root, name).strip(), name
    absolute(one(root, "id"))
    assert RFC3339.match(one(root, "updated"))
    assert root.find(f"{A}author/{A}name") is not None  # entries have no author of their own
    selves = [link.get("href") for link in root.findall(f"{A}link") if link.get("rel") == "self"]
    assert selves == [url], selves
    ids = []
    for entry in root.findall(f"{A}entry"):
        for name in ("title", "id", "updated", "published"):
            assert one(entry, name).strip(), name
        ids.append(absolute(one(entry, "id")))
        assert RFC3339.match(one(entry, "updated")) and RFC3339.match(one(entry, "published"))
        alternates = [link for link in entry.findall(f"{A}link") if link.get("rel", "alternate") == "alternate"]
        assert len(alternates) == 1 and absolute(alternates[0].get("href", ""))
    assert len(ids) == len(set(ids)), "entry ids repeat"
    return root


@pytest.fixture
def feeds(seeded, server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def test_every_feed_is_valid_atom_with_its_own_id_and_self_link(feeds):
    ids = []
    for path in FEEDS:
        root = check_atom(feeds.get(path), f"{feeds.base_url}".rstrip("/") + path)
        assert root.findall(f"{A}entry"), path
        ids.append(root.find(f"{A}id").text)
    assert len(set(ids)) == len(FEEDS), ids
    # the same saved search, written another way, is the same feed
    same = ET.fromstring(feeds.get("/search.atom", params={"q": "  souveraineté "}).content)
    assert same.find(f"{A}id").text == ids[1]


def test_feeds_are_the_same_from_one_request_to_the_next(feeds):
    first = {path: feeds.get(path).content for path in FEEDS}
    time.sleep(1.1)  # a date taken from the clock would move
    assert {path: feeds.get(path).content for path in FEEDS} == first


def test_entries_are_updated_when_plateau_got_them_not_when_aired(feeds, session):
    got = {e.slug: e for e in session.exec(select(Episode))}
    root = ET.fromstring(feeds.get("/feed.atom").content)
    entries = root.findall(f"{A}entry")
    assert len(entries) == len(got)
    for entry in entries:
        slug = urlsplit(entry.find(f"{A}id").text).path.rsplit("/", 1)[-1]
        episode = got[slug]
        assert entry.find(f"{A}published").text == episode.ingested_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert entry.find(f"{A}updated").text == episode.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert episode.aired_on is None or not entry.find(f"{A}updated").text.startswith(episode.aired_on.isoformat())
    newest = max(e.find(f"{A}updated").text for e in entries)
    assert root.find(f"{A}updated").text == newest
    for hit in ET.fromstring(feeds.get("/search.atom", params={"q": "souveraineté"}).content).findall(f"{A}entry"):
        slug = urlsplit(hit.find(f"{A}id").text).path.rsplit("/", 1)[-1]
        assert hit.find(f"{A}updated").text == got[slug].updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("query", ["?q=-cloud", "?q=NOT+cloud", "", "?q=%20"])
def test_a_feed_that_cannot_run_answers_in_atom_with_the_reason(feeds, query):
    response = feeds.get("/search.atom" + query)
    assert response.status_code == 400
    root = check_atom(response, str(feeds.base_url).rstrip("/") + "/search.atom" + query)
    assert root.findall(f"{A}entry") == []
    assert (root.find(f"{A}subtitle").text or "").strip()

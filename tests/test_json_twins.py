"""Every page advertises its JSON twin (a Link header and a <link> in its head), and the twin answers the same thing."""

import importlib
import pkgutil
import re

import html5lib
import pytest

import app.web
from app.web.errors import PageRoute
from app.web.templating import format_number

LINK = re.compile(r'^<([^>]+)>;\s*rel="alternate";\s*type="application/json"$')
# Page routes that are not data: the API's own docs, the Atom feeds (their own alternates), signing in,
# the editors' forms and what they post to.
NOT_DATA = {"/docs", "/feed.atom", "/search.atom", "/login", "/logout"} | {
    "/episodes/{slug}/edit",
    "/episodes/{slug}/lines/{position}/edit",
    "/episodes/{slug}/lines/{position}",
    "/episodes/{slug}/turns",
    "/episodes/{slug}/labels",
    "/episodes/{slug}/history/{revision_id}/undo",
}


def twin_of(client, url: str, **headers) -> tuple[str, object, object]:
    """Open a page, read where it says its JSON twin is (header and head agree), and fetch the twin.

    Returns the twin's URL, its data, and the page's main content."""
    page = client.get(url, headers=headers)
    assert page.status_code == 200, (url, page.status_code)
    assert page.headers["content-type"].startswith("text/html")
    header = LINK.match(page.headers.get("link", ""))
    assert header, f"{url}: no JSON alternate in the Link header: {page.headers.get('link')!r}"
    twin = header[1]
    assert twin.startswith("/api/"), (url, twin)
    document = html5lib.parse(page.text, namespaceHTMLElements=False)
    if "HX-Request" not in headers:
        links = [
            link.get("href")
            for link in document.find("head").iter("link")
            if link.get("rel") == "alternate" and link.get("type") == "application/json"
        ]
        assert links == [twin], f"{url}: the <link> in the head ({links}) is not the Link header ({twin})"
    answer = client.get(twin)
    assert answer.status_code == 200, (url, twin, answer.status_code, answer.text[:200])
    assert answer.headers["content-type"].startswith("application/json")
    return twin, answer.json(), document.find(".//main")


def first_listed(main, kind: str) -> str | None:
    """The slug of the first episode, guest or show a page lists in its main content."""
    pattern = re.compile(rf"^/{kind}/([^/?#]+)$")
    for link in main.iter("a"):
        if match := pattern.match(link.get("href") or ""):
            return match[1]
    return None


def heading(main) -> str:
    return " ".join("".join(main.find(".//h1").itertext()).split())


def says_total(main, total: int, word: str) -> bool:
    """The page states the count ("27 passages", "5 épisodes"), French digit grouping included."""
    text = re.sub(r"[ \t\r\n]+", " ", " ".join(main.itertext()))  # not \s: it would take the narrow space too
    return re.search(rf"(?<![\d\u202f]){re.escape(format_number(total))} {word}", text) is not None


def page_routes() -> set[str]:
    """The path of every page route, read from the routers of app/web (a new page is checked here too)."""
    paths = set()
    for module in pkgutil.iter_modules(app.web.__path__, "app.web."):
        router = getattr(importlib.import_module(module.name), "router", None)
        paths |= {route.path for route in getattr(router, "routes", []) if isinstance(route, PageRoute)}
    return paths


def check_pages(client, pages: list[tuple[str, str]]) -> set[str]:
    """Open each page, fetch its twin, check they describe the same thing; the page kinds walked."""
    kinds = set()
    for kind, url in pages:
        twin, data, main = twin_of(client, url)
        kinds.add(kind)
        if kind == "/":
            assert twin == "/api/episodes"
            assert says_total(main, data["total"], "épisode")
            assert first_listed(main, "episodes") == data["items"][0]["slug"]
        elif kind == "/episodes":
            assert says_total(main, data["total"], "épisode")
            if data["items"]:
                assert first_listed(main, "episodes") == data["items"][0]["slug"]
        elif kind == "/search":
            if data["hits"]:
                assert says_total(main, data["total"], "passage")
                # episodes found by title, guests, show or description come first, above the passages
                first = (data["episode_matches"] or [data["hits"][0]["episode"]])[0]["slug"]
                assert first_listed(main, "episodes") == first
        elif kind == "/guests":
            assert says_total(main, data["total"], "personne")
            assert first_listed(main, "guests") == data["items"][0]["slug"]
        elif kind == "/shows":
            assert first_listed(main, "shows") == data["items"][0]["slug"]
            assert data["total"] == len(data["items"])
        elif kind == "/shows/{slug}":
            assert data["slug"] == url.split("/")[2].split("?")[0] and heading(main) == data["name"]
            assert says_total(main, data["total"], "épisode")
            assert first_listed(main, "episodes") == data["items"][0]["slug"]
        elif kind == "/episodes/{slug}":
            assert data["slug"] == url.split("/")[2].split("?")[0] and heading(main) == data["title"]
        elif kind == "/guests/{slug}":
            assert data["slug"] == url.split("/")[2] and heading(main) == data["name"]
        elif kind == "/episodes/{slug}/history":
            assert data["episode"] == url.split("/")[2] and heading(main) == "Historique des modifications"
            assert len(main.findall(".//li[@class='revision']")) == data["total"]
        else:
            raise AssertionError(f"no check for the page kind {kind}")
        # the page's filters and page number went along
        page = re.search(r"[?&]page=(\d+)", url)
        if page and "page" in data:
            assert data["page"] == int(page[1]), (url, twin)
    return kinds


def test_every_page_kind_advertises_a_json_twin_that_answers_the_same(client, seeded):
    episode = seeded["002"]
    pages = [
        ("/", "/"),
        ("/search", "/search"),
        ("/search", "/search?q=souveraineté"),
        ("/search", "/search?q=cloud&show=smart-tech&guest=&from=2025-01-01&to=&sort=date"),
        ("/episodes", "/episodes"),
        ("/episodes", "/episodes?show=smart-tech&guest=&year="),
        ("/episodes", "/episodes?guest=julien-pillot&year=2025"),
        ("/episodes/{slug}", f"/episodes/{episode}"),
        ("/episodes/{slug}", f"/episodes/{episode}?t=12:34&q=cloud"),
        ("/episodes/{slug}/history", f"/episodes/{episode}/history"),
        ("/guests", "/guests"),
        ("/guests/{slug}", "/guests/imene-kabouya"),
        ("/shows", "/shows"),
        ("/shows/{slug}", "/shows/smart-tech"),
    ]
    walked = check_pages(client, pages)
    pages_with_data = page_routes() - NOT_DATA
    assert len(pages_with_data) >= 8 and walked == pages_with_data, (
        f"page kinds without a checked twin: {pages_with_data - walked}"
    )

    # The twin keeps the filters a visitor chose, and drops the empty fields of a submitted form.
    twin, data, _ = twin_of(client, "/episodes?show=smart-tech&guest=&year=")
    assert twin == "/api/episodes?show=smart-tech" and data["total"] == 4  # 003's show is inferred
    twin, _, _ = twin_of(client, "/search?q=cloud&show=smart-tech&guest=&from=2025-01-01&to=&sort=date")
    assert twin == "/api/search?q=cloud&show=smart-tech&from=2025-01-01&sort=date"
    assert twin_of(client, f"/episodes/{episode}?t=12:34")[0] == f"/api/episodes/{episode}"
    # An HTMX fragment of a list carries it too (the URL it pushes is the page's).
    assert twin_of(client, "/episodes?show=smart-tech", **{"HX-Request": "true"})[0] == "/api/episodes?show=smart-tech"


def test_later_pages_of_lists_have_twins_on_the_same_page(client, catalogued):
    shows = client.get("/api/shows").json()["items"]
    show = max(shows, key=lambda s: s["episodes"])["slug"]
    guest = max(client.get("/api/guests", params={"per_page": 500}).json()["items"], key=lambda g: g["appearances"])[
        "slug"
    ]
    assert check_pages(
        client,
        [
            ("/episodes", "/episodes?page=2"),
            ("/episodes", f"/episodes?show={show}&page=2"),
            ("/episodes", f"/episodes?guest={guest}&page=2"),
            ("/shows/{slug}", f"/shows/{show}?page=2"),
            ("/search", "/search?q=données&page=2"),
            ("/search", "/search?q=données&sort=date&page=3"),
            ("/guests", "/guests"),
        ],
    ) == {"/episodes", "/shows/{slug}", "/search", "/guests"}
    twin, data, _ = twin_of(client, "/episodes?page=2")
    assert twin == "/api/episodes?page=2" and data["page"] == 2 and data["total"] == len(catalogued.slugs)


@pytest.mark.parametrize("url", ["/episodes/inconnu", "/guests/inconnu", "/episodes?page=abc", "/docs", "/nulle-part"])
def test_error_pages_and_docs_advertise_no_twin(client, seeded, url):
    response = client.get(url)
    assert "link" not in response.headers
    assert 'type="application/json"' not in response.text.split("</head>")[0]

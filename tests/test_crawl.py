"""Every page of a 300-episode catalogue, reached by following links from the home page, answers well-formed."""

import time

import httpx
from crawler import Crawl

from app.config import get_settings

# Typed in the search box: a planted quote, a frequent word (many result pages), the query syntax.
SEARCHES = [
    '"une panne géante du cloud"',
    "données",
    "numéri*",
    "cloud OR nuage",
    "Keepit~",
    "souveraineté -européenne",
    "Julien Pillot",
    "zzzaucunresultat",
]
FREQUENT = "données"
# Typed in the other fields: a year of the episode list, a date range of the search.
TYPED = {"q": SEARCHES, "year": ["2021", "2024"], "from": ["2023-01-01"], "to": ["2023-12-31"]}


def test_every_reachable_page_answers_well_formed(catalogued, server):
    api = httpx.Client(base_url=server.url, timeout=30)
    episodes = api.get("/api/episodes").json()["total"]
    guests = [g["slug"] for g in api.get("/api/guests", params={"per_page": 500}).json()["items"]]
    shows = api.get("/api/shows").json()["items"]
    frequent_pages = api.get("/api/search", params={"q": FREQUENT}).json()["pages"]
    assert episodes == len(catalogued.slugs) and len(guests) >= 60 and len(shows) >= 4
    assert frequent_pages > 3, f"« {FREQUENT} » should fill several result pages, not {frequent_pages}"

    started = time.perf_counter()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        crawl = Crawl(client, also_same_site=tuple(filter(None, [get_settings().base_url])), typed=TYPED)
        crawl.add("/")
        for path in ("/api/episodes", "/api/guests", "/api/shows", "/feed.atom", "/healthz"):
            crawl.add(path, force=True)
        crawl.run()
    print(
        f"catalogue built in {catalogued.build_seconds:.1f} s; crawl: {time.perf_counter() - started:.1f} s, "
        f"{crawl.report()}"
    )

    assert not crawl.problems, f"{len(crawl.problems)} bad answers:\n" + "\n".join(crawl.problems)
    # The crawl went everywhere a visitor can go, so its silence means something.
    last = -(-episodes // 20)
    assert last > 1 and crawl.visited("/episodes", page=str(last)) and crawl.visited("/api/episodes", page=str(last))
    missing = [s for s in catalogued.slugs if not crawl.visited(f"/episodes/{s}")]
    assert not missing, f"episode pages never reached: {missing[:10]}"
    for extension in ("vtt", "srt", "txt", "json"):
        assert crawl.visited(f"/episodes/{catalogued.slugs[0]}/transcript.{extension}")
    missing = [s for s in guests if not (crawl.visited(f"/guests/{s}") and crawl.visited(f"/api/guests/{s}"))]
    assert not missing, f"guest pages never reached: {missing}"
    for show in shows:
        show_last = -(-show["episodes"] // 20)
        page = {"page": str(show_last)} if show_last > 1 else {}
        assert crawl.visited(f"/shows/{show['slug']}", **page), f"last page of {show['slug']} never reached"
    assert crawl.visited("/search", q=FREQUENT, sort="relevance", page=str(frequent_pages))
    assert crawl.visited("/api/search", q=FREQUENT, sort="relevance", page=str(frequent_pages))
    assert crawl.visited("/search.atom", q=FREQUENT)
    kinds = {v.kind for v in crawl.visits.values()}
    assert {"html", "json", "atom", "vtt", "srt", "txt", "css", "js", "svg"} <= kinds, kinds

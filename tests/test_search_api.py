"""GET /api/search over real HTTP: the SPEC shape on the seeds, and malformed input never a 500."""

from urllib.parse import quote

import pytest

from app.search import SearchRequest

MALFORMED = [
    '"',
    '""',
    '"souveraineté',
    'souveraineté"',
    '"a" "',
    "(",
    ")",
    "((",
    "))",
    "(cloud",
    "cloud)",
    "(()())",
    "OR",
    "AND",
    "NOT",
    "-",
    "--",
    "- -",
    "OR OR",
    "cloud OR",
    "OR cloud",
    "NOT NOT",
    "cloud NOT",
    "cloud -",
    "*",
    "**",
    "cloud*",
    "*cloud",
    "~",
    "cloud~~",
    "cloud~9",
    "~cloud",
    "title:x",
    "show:smart",
    "text:cloud*",
    "x" * 10_000,
    "a " * 3000,
    "\x00",
    "cloud\x00data",
    "\ud800",
    "cloud \udfff",
    "\u200f\u202e",
    "\u202ecloud",
    "🤖",
    "cloud 🤖 IA",
    "☁️*",
    "'",
    "’",
    "l'",
    "qu’",
    "%",
    "\\",
    '\\"',
    "[cloud]",
    "{x}",
    "<script>",
    "&amp;",
    "a:b:c",
    "^2",
    "cloud^3",
    "\t\n\r",
    " ",
    "+",
    "+cloud",
    "!cloud",
    "?",
    "cloud?",
    "/",
    "AND OR NOT",
    '"OR"',
    '"-"',
    "(" * 200 + "cloud" + ")" * 200,
    "a" * 61,
    "a*" * 30,
    "x~ " * 20,
    "NOT (cloud)",
]


def test_search_the_seeds_lands_on_the_right_second(client, seeded):
    response = client.get("/api/search", params={"q": '"souveraineté numérique"'})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4 and body["page"] == 1 and body["suggestion"] is None
    hits = {(h["episode"]["slug"], h["timestamp"]) for h in body["hits"]}
    assert (seeded["000"], "13:08") in hits and (seeded["004"], "04:41") in hits and (seeded["003"], "01:45") in hits
    hit = next(h for h in body["hits"] if h["timestamp"] == "13:08")
    assert set(hit) >= {"episode", "start", "timestamp", "text", "snippet", "url"}
    assert set(hit["episode"]) >= {"slug", "title", "show", "aired_on", "source"}
    assert hit["episode"]["show"] == "SMART TECH" and hit["episode"]["aired_on"] == "2025-10-23"
    assert hit["episode"]["source"] == "000_6bda1f189f294344.txt"
    assert hit["start"] == 788 and hit["url"] == f"/episodes/{seeded['000']}?t=788&l=292"
    assert "<mark>souveraineté numérique</mark>" in hit["snippet"]
    assert hit["text"].startswith("c'est effectivement la souveraineté numérique.")
    # hits of one episode come together
    slugs = [h["episode"]["slug"] for h in body["hits"]]
    assert slugs == sorted(slugs, key=slugs.index)


def test_search_api_filters_sorts_and_suggests(client, seeded):
    everything = client.get("/api/search", params={"q": "données"}).json()
    by_date = client.get("/api/search", params={"q": "données", "sort": "date"}).json()
    dates = [h["episode"]["aired_on"] for h in by_date["hits"] if h["episode"]["aired_on"]]
    assert len(set(dates)) >= 2 and dates == sorted(dates, reverse=True)
    assert by_date["total"] == everything["total"] > 0
    autumn = client.get("/api/search", params={"q": "données", "from": "2025-10-01", "to": "2025-10-31"}).json()
    assert {h["episode"]["aired_on"] for h in autumn["hits"]} == {"2025-10-23"}
    guest = client.get("/api/search", params={"q": "données", "guest": "garance-mathias"}).json()
    assert guest["total"] and {h["episode"]["slug"] for h in guest["hits"]} == {seeded["000"]}
    inside = client.get("/api/search", params={"q": "données", "episode": seeded["000"], "per_page": 50}).json()
    starts = [h["start"] for h in inside["hits"]]
    assert inside["total"] > 1 and starts == sorted(starts) and len(starts) == inside["total"]
    typo = client.get("/api/search", params={"q": "souvreaineté"}).json()
    assert typo["total"] > 0 and typo["suggestion"] == typo["corrected_query"] == "souveraineté"
    as_typed = client.get("/api/search", params={"q": "souvreaineté", "as_typed": "1"}).json()
    assert (as_typed["total"], as_typed["suggestion"], as_typed["corrected_query"]) == (0, "souveraineté", None)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "cloud", "page": "0"},
        {"q": "cloud", "page": "-1"},
        {"q": "cloud", "page": "abc"},
        {"q": "cloud", "from": "2025-13-01"},
        {"q": "cloud", "to": "hier"},
        {"q": "cloud", "sort": "random"},
        {"q": "cloud", "per_page": "1000"},
        {"q": "cloud", "from": "2025-12-01", "to": "2025-01-01"},
        {"q": "x" * 10_000},
    ],
)
def test_invalid_parameters_are_a_4xx_with_a_detail(client, params):
    response = client.get("/api/search", params=params)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def test_malformed_queries_never_fail(client, seeded):
    assert len(MALFORMED) >= 40
    for q in MALFORMED:
        # lone surrogates travel as the bytes a careless client would send
        response = client.get("/api/search?q=" + quote(q.encode("utf-8", "surrogatepass"), safe=""))
        assert response.status_code in (200, 400), (q[:30], response.status_code, response.text[:200])
        body = response.json()
        assert ("hits" in body) if response.status_code == 200 else body["detail"], q[:30]


def test_malformed_queries_never_raise_in_the_service(session, index, seeded):
    for q in MALFORMED:
        results = index.search(session, SearchRequest(q=q))
        assert results.error is None or results.error.endswith((".", "»")), (q[:30], results.error)


def test_a_long_phrase_past_its_passage_lands_on_its_first_word(client, seeded):
    # The phrase starts near the end of a passage and runs through short and empty caption lines.
    q = '"Bezos en fait il fabriquait des pertes parce que moi j\'avais discuté"'
    body = client.get("/api/search", params={"q": q}).json()
    assert body["total"] == 1
    hit = body["hits"][0]
    # the phrase starts on the line "il faut que Bezos" (21:17) of seed 002, and runs on for six lines
    assert (hit["episode"]["source"], hit["start"], hit["timestamp"]) == ("002_e96e7b13769030ec.txt", 1277, "21:17")
    assert hit["text"].startswith("il faut que Bezos en fait il fabriquait des pertes")
    assert "il faut que <mark>Bezos</mark>" in hit["snippet"]
    lines = client.get(f"/api/episodes/{hit['episode']['slug']}").json()["segments"]
    first = next(s for s in lines if s["start"] == hit["start"])
    assert first["text"] == "il faut que Bezos"


def test_pas_is_searchable_and_can_be_excluded(client, seeded):
    with_pas = client.get("/api/search", params={"q": "souveraineté pas"}).json()["total"]
    without = client.get("/api/search", params={"q": "souveraineté -pas"}).json()["total"]
    every = client.get("/api/search", params={"q": "souveraineté"}).json()["total"]
    assert with_pas > 0 and without < every


def test_an_exclusion_inside_an_or_is_a_400_that_says_why(client, seeded):
    for q in ["données OR -cloud", "-cloud OR données", "données OR (NOT cloud)"]:
        response = client.get("/api/search", params={"q": q})
        assert response.status_code == 400, (q, response.text[:200])
        detail = response.json()["detail"]
        assert "OR" in detail and "(a OR b) -c" in detail, detail

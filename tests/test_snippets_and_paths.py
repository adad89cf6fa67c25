"""What people do after a search: scan a cropped snippet, open its line, read the whole passage; follow
a guest's page to their passages; find hosts among the people; and never meet a list that is just empty."""

import json
import re

import html5lib
from conftest import TODAY

from app.services.ingest import ingest_bytes

SIDECAR = json.dumps(
    {
        "title": "Le débat du quantique",
        "show": "SMART TECH",
        "aired_on": "2025-10-23",
        "host": "Delphine Sabattier",
        "guests": [{"name": "Julien Pillot", "role": "économiste"}],
    }
).encode()

FILLER = "nous parlons ici de plusieurs sujets de la semaine avec beaucoup de détails et de chiffres précis"
TRANSCRIPT = f"""WEBVTT

00:00:00.000 --> 00:00:05.000
<v Delphine Sabattier>Bonjour à tous, {FILLER}.

00:00:05.000 --> 00:00:10.000
<v Julien Pillot>Je veux dire que {FILLER}, encore et encore.

00:00:10.000 --> 00:00:15.000
<v Julien Pillot>Et puis {FILLER} sans oublier le reste.

00:00:15.000 --> 00:00:20.000
<v Julien Pillot>Le calcul quantique change la donne pour {FILLER} dans les laboratoires.

00:00:20.000 --> 00:00:25.000
<v Julien Pillot>On a vu <script>alert("pirate")</script> dans le chat, {FILLER}.

00:00:25.000 --> 00:00:30.000
<v Julien Pillot>Enfin {FILLER} pour finir cette longue intervention.
""".encode()


def ingest(session, index) -> str:
    outcome = ingest_bytes(session, "quantique.vtt", TRANSCRIPT, index=index, sidecar=SIDECAR, today=TODAY)
    assert outcome.status == "added", outcome.reason
    assert outcome.slug is not None
    return outcome.slug


def parse(text: str):
    return html5lib.parse(text, namespaceHTMLElements=False)


def classed(document, tag: str, name: str) -> list:
    return [e for e in document.iter(tag) if name in (e.get("class") or "").split()]


def words(element) -> list[str]:
    return "".join(element.itertext()).split()


def hits_of(client, **params) -> list:
    page = client.get("/search", params=params)
    assert page.status_code == 200
    return classed(parse(page.text), "li", "hit")


def test_snippet_is_about_thirty_words_around_the_match_with_an_ellipsis(client, session, index):
    ingest(session, index)
    (hit,) = hits_of(client, q="quantique")
    (link,) = classed(hit, "a", "snippet-link")
    shown = words(link)
    assert 20 <= len(shown) <= 45
    assert "…" in shown
    assert [m.text for m in link.iter("mark")] == ["quantique"]
    # the match is inside, with a few words before it
    assert 0 < shown.index("quantique") < 15
    body = client.get("/api/search", params={"q": "quantique"}).json()
    (api_hit,) = body["hits"]
    assert "<mark>quantique</mark>" in api_hit["snippet"] and "…" in api_hit["snippet"]
    assert len(api_hit["snippet"].split()) <= 45


def test_the_whole_snippet_links_to_the_hits_second_and_line(client, session, index):
    slug = ingest(session, index)
    (hit,) = hits_of(client, q="quantique")
    (link,) = classed(hit, "a", "snippet-link")
    (chip,) = classed(hit, "a", "ts")
    assert link.get("href") == chip.get("href")
    assert re.fullmatch(rf"/episodes/{slug}\?t=15&l=\d+&q=quantique#l-\d+", link.get("href"))
    opened = client.get(link.get("href"))
    assert opened.status_code == 200


def test_afficher_le_passage_holds_the_whole_passage_in_a_details(client, session, index):
    ingest(session, index)
    (hit,) = hits_of(client, q="quantique")
    (details,) = classed(hit, "details", "hit-passage")
    assert details.find("summary").text == "Afficher le passage"
    whole = " ".join(words(details))
    snippet = " ".join(words(classed(hit, "a", "snippet-link")[0]))
    assert "quantique" in whole and len(whole) > len(snippet)
    assert [m.text for m in details.iter("mark")] == ["quantique"]


def test_a_caption_with_markup_stays_text_in_snippet_and_passage(client, session, index):
    # WebVTT drops tags from cues; a Whisper-style JSON keeps the text as the machine wrote it
    hostile = [f"Avant tout {FILLER}.", f'On a vu <script>alert("pirate")</script> dans le chat, {FILLER}.', FILLER]
    data = json.dumps({"segments": [{"start": 5 * i, "end": 5 * i + 5, "text": t} for i, t in enumerate(hostile)]})
    outcome = ingest_bytes(session, "hostile.json", data.encode(), index=index, today=TODAY)
    assert outcome.status == "added", outcome.reason
    page = client.get("/search", params={"q": "pirate"})
    assert page.status_code == 200
    assert '<script>alert("pirate")' not in page.text
    (hit,) = classed(parse(page.text), "li", "hit")
    assert not list(hit.iter("script"))
    snippet = "".join(classed(hit, "a", "snippet-link")[0].itertext())
    assert '<script>alert("pirate")</script>' in snippet
    (details,) = classed(hit, "details", "hit-passage")
    assert '<script>alert("pirate")</script>' in "".join(details.itertext())
    assert {m.text for m in hit.iter("mark")} == {"pirate"}
    api = client.get("/api/search", params={"q": "pirate"}).json()["hits"][0]["snippet"]
    assert "&lt;script&gt;alert(&#34;<mark>pirate</mark>&#34;)&lt;/script&gt;" in api


def test_hosts_are_listed_among_the_people_marked_as_hosts(client, session, index):
    ingest(session, index)
    document = parse(client.get("/guests").text)
    rows = {}
    for ul in classed(document, "ul", "guest-list"):
        for li in ul.iter("li"):
            rows[li.find("a").text] = " ".join(words(li))
    assert "anime l'émission" in rows["Delphine Sabattier"]
    assert "anime" not in rows["Julien Pillot"]
    people = {p["slug"]: p for p in client.get("/api/guests", params={"hosts": "true"}).json()["items"]}
    assert people["delphine-sabattier"]["hosted"] == 1
    assert people["julien-pillot"]["hosted"] == 0 and people["julien-pillot"]["appearances"] == 1
    assert "delphine-sabattier" not in {p["slug"] for p in client.get("/api/guests").json()["items"]}


def test_the_guest_pages_search_leads_to_their_passages_newest_first(client, session, index):
    ingest(session, index)
    document = parse(client.get("/guests/julien-pillot").text)
    (form,) = classed(document, "form", "guest-search")
    assert form.find(".//input[@name='q']").get("required") is None  # without words: their passages or episodes
    hidden = {i.get("name"): i.get("value") for i in form.iter("input") if i.get("type") == "hidden"}
    assert hidden == {"sort": "date"}
    for button in form.iter("button"):
        params = {"q": "quantique", **hidden, button.get("name"): button.get("value")}
        hits = hits_of(client, **params)
        assert hits, button.text
    # opened without words: every passage he says, newest episode first, each a link to its second
    listed = client.get("/api/search", params={"speaker": "julien-pillot"}).json()
    assert listed["total"] > 0 and {h["speaker"]["slug"] for h in listed["hits"]} == {"julien-pillot"}
    dates = [h["episode"]["aired_on"] or "" for h in listed["hits"]]
    assert dates == sorted(dates, reverse=True)
    page = parse(client.get("/search", params={"speaker": "julien-pillot"}).text)
    links = {a.get("href").split("#")[0] for a in page.iter("a") if "?t=" in (a.get("href") or "")}
    assert links >= {h["url"] for h in listed["hits"]}


def test_every_list_of_an_empty_archive_says_what_to_do(client):
    for path, says in (
        ("/episodes", "plateau ingest"),
        ("/episodes?year=1999", "affichez tous les épisodes"),
        ("/guests", "plateau ingest"),
        ("/shows", "plateau ingest"),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        empty = classed(parse(page.text), "*", "empty")
        assert empty, path
        assert says in " ".join(" ".join(words(e)) for e in empty), path
    page = client.get("/search", params={"q": "quantique"})
    assert page.status_code == 200
    (none,) = classed(parse(page.text), "div", "no-results")
    assert "Essayez" in " ".join(words(none))

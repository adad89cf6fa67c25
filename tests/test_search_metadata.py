"""Episodes found by title, guests, show or description; corrected results when a query finds nothing."""

import threading
from urllib.parse import parse_qs, urlsplit

import html5lib
from sqlmodel import Session

from app.db import get_engine
from app.search import metadata
from app.search.metadata import known_names, metadata_index, name_variants
from app.services.episodes import delete_episode, edit_episode
from tests.conftest import ON_BOTH_BACKENDS, SEEDS, TOKEN
from tests.small_archives import add_episode

AUTH = {"Authorization": f"Bearer {TOKEN}"}


# --- reading the page as a browser does ---------------------------------------------------------


def page(client, **params):
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text[:300]
    return html5lib.parse(response.text, namespaceHTMLElements=False)


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def by_class(root, name: str) -> list:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def episode_cards(root) -> list[tuple[str, str]]:
    """(episode link, where it matched) of each episode result, in order."""
    cards = []
    for card in by_class(root, "episode-match"):
        (title,) = by_class(card, "card-title")
        (where,) = by_class(card, "matched-in")
        cards.append((title.find("a").get("href"), text_of(where)))
    return cards


def api(client, **params) -> dict:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def matches(body: dict) -> list[tuple[str, str]]:
    return [(m["slug"], m["matched_in"]) for m in body["episode_matches"]]


# --- metadata is searchable ---------------------------------------------------------------------


def test_keepit_finds_the_episode_whose_guest_is_at_keepit(client, seeded):
    body = api(client, q="Keepit")
    assert matches(body) == [(seeded["000"], "guests")] and body["episode_matches_total"] == 1
    (match,) = body["episode_matches"]
    assert {"slug": "cyril-vanagt", "name": "Cyril VanAgt", "role": "Vice-président EMEA, Keepit"} in match["guests"]
    assert match["show"] == "SMART TECH" and match["aired_on"] == "2025-10-23"
    assert body["episodes"] == len({h["episode"]["slug"] for h in body["hits"]})  # the count stays the passages'

    root = page(client, q="Keepit")
    (section,) = by_class(root, "episode-matches")
    assert text_of(section.find("h2")) == "Épisodes"
    assert episode_cards(root) == [
        (f"/episodes/{seeded['000']}", "Trouvé parmi les invités (nom, rôle ou affiliation)")
    ]
    assert "Cyril VanAgt (Vice-président EMEA, Keepit)" in text_of(section)
    # above the passages, or above the message that says there are none
    results = root.find(".//*[@id='results']")
    children = [c for c in results if c.tag in ("section", "div", "ol")]
    assert children[0] is section


def test_live_search_fragment_shows_episode_results(client, seeded):
    response = client.get("/search", params={"q": "Keepit"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    fragment = html5lib.parseFragment(response.text, namespaceHTMLElements=False)
    assert episode_cards(fragment) == [
        (f"/episodes/{seeded['000']}", "Trouvé parmi les invités (nom, rôle ou affiliation)")
    ]


def test_matched_in_says_where_the_words_are(client, seeded):
    # title before guests, show and description: the first field holding a word looked for
    assert matches(api(client, q='"souveraineté numérique"'))[0] == (seeded["003"], "title")
    assert matches(api(client, q="cafetech")) == [(seeded["002"], "guests")]  # also in its description
    assert matches(api(client, q="Suncatcher")) == [(seeded["002"], "description")]
    assert matches(api(client, q="Weborama")) == [(seeded["001"], "guests")]
    # all the words, in any of the fields; OR, NOT, prefixes, typos: as for passages
    assert matches(api(client, q="Pillot Weborama")) == [(seeded["001"], "guests")]
    assert {s for s, _ in matches(api(client, q="Keepit OR Weborama"))} == {seeded["000"], seeded["001"]}
    assert matches(api(client, q="Keepit -Cyril")) == []
    assert matches(api(client, q="Webora*")) == [(seeded["001"], "guests")]
    assert matches(api(client, q="Weboramma~")) == [(seeded["001"], "guests")]
    assert matches(api(client, q='"EMEA Keepit"')) == [(seeded["000"], "guests")]
    assert matches(api(client, q='"Keepit EMEA"')) == []  # a phrase keeps its order
    # but not its number, as in the captions: "enjeux" of the title is found in the singular
    assert matches(api(client, q='"face aux enjeux"'))[0] == (seeded["003"], "title")
    assert matches(api(client, q='"face aux enjeu"'))[0] == (seeded["003"], "title")
    # a query that only excludes is refused for episodes as for passages
    refused = client.get("/api/search", params={"q": "-Keepit"})
    assert refused.status_code == 400 and "exclu" in refused.json()["detail"]


def test_episode_results_follow_the_filters_and_the_sort(client, seeded):
    everywhere = api(client, q="Pillot")
    assert {s for s, where in matches(everywhere)} == {seeded["000"], seeded["001"], seeded["004"]}
    assert {where for _, where in matches(everywhere)} == {"guests"}
    by_date = api(client, q="Pillot", sort="date")
    assert [s for s, _ in matches(by_date)] == [seeded["004"], seeded["000"], seeded["001"]]
    assert matches(api(client, q="Pillot", show="tech-co-la-quotidienne")) == []
    assert [s for s, _ in matches(api(client, q="Pillot", **{"from": "2025-10-01", "to": "2025-10-31"}))] == [
        seeded["000"]
    ]
    assert [s for s, _ in matches(api(client, q="Pillot", guest="garance-mathias"))] == [seeded["000"]]
    # inside one episode there is no episode to find
    inside = api(client, q="Pillot", episode=seeded["000"])
    assert inside["episode_matches"] == [] and inside["episode_matches_total"] == 0
    # counted on every page, shown on the first
    second = api(client, q="Pillot", page=2)
    assert second["episode_matches"] == [] and second["episode_matches_total"] == 3


def test_an_edit_or_an_ingest_is_searched_at_once(admin_token, client, seeded):
    slug = seeded["000"]
    assert api(client, q="Zorglub")["episode_matches"] == []
    edited = client.patch(f"/api/episodes/{slug}", json={"title": "<b>Zorglub</b> et les satellites"}, headers=AUTH)
    assert edited.status_code == 200
    assert matches(api(client, q="Zorglub")) == [(slug, "title")]
    response = client.get("/search", params={"q": "Zorglub"})
    assert "&lt;b&gt;Zorglub&lt;/b&gt; et les satellites" in response.text and "<b>Zorglub" not in response.text

    client.patch(f"/api/episodes/{slug}", json={"show": "Les Marsupilamis"}, headers=AUTH)
    assert matches(api(client, q="Marsupilamis")) == [(slug, "show")]
    assert matches(api(client, q="Marsupilamis", show="smart-tech")) == []
    client.patch(f"/api/episodes/{slug}", json={"description": "Un débat sur la Palombie."}, headers=AUTH)
    assert matches(api(client, q="Palombie")) == [(slug, "description")]
    assert matches(api(client, q="Keepit")) == [(slug, "guests")]  # the guests stay

    added = client.post(
        "/api/episodes",
        files={"file": ("ada.txt", (SEEDS / "001_17b833aa618b417f.txt").read_bytes())},
        data={"title": "Épisode d'Ada", "guests": '[{"name": "Ada Lovelace", "role": "mathématicienne, Analytical"}]'},
        headers=AUTH,
    )
    assert added.status_code == 201
    assert matches(api(client, q="Analytical")) == [(added.json()["slug"], "guests")]
    assert client.delete(f"/api/episodes/{added.json()['slug']}", headers=AUTH).status_code == 204
    assert matches(api(client, q="Analytical")) == []


# --- spelling help that helps -------------------------------------------------------------------


def test_no_hit_shows_the_correction_results_at_once(client, seeded):
    root = page(client, q="souverainté numérique")
    (notice,) = by_class(root, "correction")
    assert text_of(notice) == "Résultats pour « souveraineté numérique ». Chercher plutôt « souverainté numérique »"
    link = notice.find("a")
    assert parse_qs(urlsplit(link.get("href")).query) == {"q": ["souverainté numérique"], "as_typed": ["1"]}
    hits = by_class(root, "hit")
    assert hits and all("souveraineté" in text_of(h).lower() or "numérique" in text_of(h).lower() for h in hits)
    assert any(m.text == "souveraineté numérique" for h in hits for m in h.iter("mark"))
    # the hits open their episode searched for the corrected words
    first = hits[0].find("a").get("href")
    assert parse_qs(urlsplit(first).query)["q"] == ["souveraineté numérique"]

    # as typed: nothing found, the correction offered as a link (filters kept)
    as_typed = page(client, q="souverainté numérique", as_typed="1", show="smart-tech")
    assert not by_class(as_typed, "correction") and not by_class(as_typed, "hit")
    (none,) = by_class(as_typed, "no-results")
    assert text_of(none.find("h2")) == "Aucun passage ne contient « souverainté numérique » avec ces filtres."
    (offer,) = by_class(none, "suggestion")
    assert text_of(offer) == "Vouliez-vous dire souveraineté numérique ?"
    assert parse_qs(urlsplit(offer.find("a").get("href")).query) == {
        "q": ["souveraineté numérique"],
        "show": ["smart-tech"],
    }


def test_api_gives_the_corrected_results_and_says_so(client, seeded):
    corrected = api(client, q="souverainté numérique")
    assert corrected["corrected_query"] == corrected["suggestion"] == "souveraineté numérique"
    assert corrected["total"] == api(client, q="souveraineté numérique")["total"] > 0
    assert matches(corrected)[0] == (seeded["003"], "title")
    as_typed = api(client, q="souverainté numérique", as_typed="true")
    assert (as_typed["total"], as_typed["hits"], as_typed["corrected_query"]) == (0, [], None)
    assert as_typed["suggestion"] == "souveraineté numérique"
    # found as typed: no correction
    exact = api(client, q="souveraineté")
    assert exact["suggestion"] is None and exact["corrected_query"] is None
    # nothing close enough: nothing offered
    nothing = api(client, q="zzzaucunresultat")
    assert (nothing["total"], nothing["suggestion"], nothing["corrected_query"]) == (0, None, None)


def test_suggestions_are_words_as_the_transcripts_write_them(client, seeded):
    seeds_text = " ".join(path.read_text(encoding="utf-8") for path in SEEDS.glob("*.txt"))
    for typed, written in [
        ("souvreaineté numerique", "souveraineté numérique"),  # a right word typed without accents gets them
        ("réglementaton", "réglementation"),
        ("donées personnelles", "données personnelles"),
        ('"intelligense artificielle"', '"intelligence artificielle"'),
    ]:
        body = api(client, q=typed, as_typed="1")
        assert body["suggestion"] == written, typed
        for word in written.strip('"').split():
            assert word in seeds_text, word


def test_known_names_are_known_words_and_corrections(client, seeded):
    # spelled right in a description, never in the captions: not a typo
    keepit = api(client, q="Keepit")
    assert keepit["suggestion"] is None and keepit["corrected_query"] is None
    # misspelled: corrected to the name as the description writes it
    typo = api(client, q="Kepit")
    assert typo["corrected_query"] == "Keepit" and matches(typo) == [(seeded["000"], "guests")]
    root = page(client, q="Kepit")
    (notice,) = by_class(root, "correction")
    assert text_of(notice) == "Résultats pour « Keepit ». Chercher plutôt « Kepit »"
    # six letters two edits away from "Staron": a name that long is corrected within two edits, as
    # the captions' words are; within one, "start" was offered
    assert api(client, q="Staorn", as_typed="1")["suggestion"] == "Staron"


def test_name_variants_are_the_captions_spellings_of_a_name(session, index, seeded):
    vocabulary = index.searcher().vocabulary
    names = known_names(session)
    assert {"keepit", "artifeel", "maurel", "pillot", "weborama", "smart"} <= names
    assert name_variants("Keepit", vocabulary, names) == ["kipit"]  # "la société Kipit" at 01:44
    assert name_variants("Artifeel", vocabulary, names) == ["artifil"]
    # within two edits of "maurel" are also "aurez" and "matures": only the one that sounds alike
    assert name_variants("Maurel", vocabulary, names) == ["morel"]
    assert name_variants("Pillot", vocabulary, names) == []  # written right in the captions
    assert name_variants("numérique", vocabulary, names) == []  # not a name


def test_the_right_spelling_of_a_name_finds_the_captions_misspelling(client, seeded):
    """Keepit, as the description writes it, finds the line where the captions heard "Kipit"."""
    body = api(client, q="Keepit")
    kipit = [h for h in body["hits"] if "<mark>Kipit</mark>" in h["snippet"]]
    assert kipit and kipit[0]["episode"]["slug"] == seeded["000"] and kipit[0]["start"] == 104  # 01:44
    assert [h["start"] for h in api(client, q="Kipit")["hits"]] == [h["start"] for h in body["hits"]]
    # with the other words of the sentence, the window finds it too
    near = api(client, q="Keepit société")["hits"]
    assert near and near[0]["start"] == 104


@ON_BOTH_BACKENDS
def test_the_index_after_a_change_is_the_one_a_full_build_makes(session, index):
    """After a write, the metadata index is made from the one before it, only the changed episodes'
    texts indexed again: added, retitled, described anew or deleted, it holds exactly what a build
    from nothing holds, and the index before it is left as it was (searches may be reading it)."""
    first = add_episode(session, index, "un", ["du texte"], show="SMART TECH", guests=("Garance Mathias",))
    gone = add_episode(session, index, "deux", ["du texte"], show="Tech & Co", guests=("Julien Pillot",))
    before = metadata_index(session)
    words_before = {name: {w: set(ids) for w, ids in words.items()} for name, words in before.words.items()}
    add_episode(session, index, "trois", ["du texte"], show="01 Hebdo", guests=("Alain Staron",))
    edit_episode(session, first, {"title": "La souveraineté numérique", "description": "Le cloud de confiance"})
    delete_episode(session, gone, index)
    after = metadata_index(session)
    built = metadata._build(session)
    assert after is not before and after.episodes.keys() == built.episodes.keys()
    assert (after.words, after.stems, after._vocabulary) == (built.words, built.stems, built._vocabulary)
    assert {w for words in after.words.values() for w in words} >= {"souverainete", "cloud", "staron"}
    assert not any("pillot" in words for words in after.words.values())
    assert {name: {w: set(ids) for w, ids in words.items()} for name, words in before.words.items()} == words_before


def test_searches_while_it_is_rebuilt_read_the_last_one_and_the_next_the_new(session, index, settings, monkeypatch):
    """The request that finds the metadata changed rebuilds the index; the others, meanwhile, read
    the last one instead of waiting (writes in a row had a worker's searches queue behind six
    builds in two seconds); once built, everyone reads the new one."""
    add_episode(session, index, "un", ["du texte"], guests=("Garance Mathias",))
    before = metadata_index(session)
    add_episode(session, index, "deux", ["du texte"], guests=("Julien Pillot",))
    building, finish = threading.Event(), threading.Event()
    real_build = metadata._build

    def slow_build(*args, **kwargs):
        building.set()
        finish.wait(30)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(metadata, "_build", slow_build)
    engine = get_engine(settings)
    read: dict[str, metadata.MetadataIndex] = {}

    def read_in(name: str) -> None:
        with Session(engine) as own:
            read[name] = metadata_index(own)

    builder = threading.Thread(target=read_in, args=("builder",))
    builder.start()
    assert building.wait(30)
    meanwhile = threading.Thread(target=read_in, args=("meanwhile",))
    meanwhile.start()
    meanwhile.join(10)
    finished_meanwhile = not meanwhile.is_alive()
    finish.set()
    builder.join(30)
    meanwhile.join(30)
    assert finished_meanwhile, "a search waited for another's build"
    assert read["meanwhile"] is before
    new = read["builder"]
    assert new is not before and {e.slug for e in new.episodes.values()} == {"un", "deux"}
    assert metadata_index(session) is new

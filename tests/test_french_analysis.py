"""French analysis of issue 9: singular and plural meet, French or borrowed, in plain words and in
quoted phrases; hyphenated and glued forms meet (e-mail, email, "e mail")."""

import html5lib
import pytest

from app.search.analysis import compounds, fold, stem
from tests.small_archives import add_episode, filler


def same_stem(a: str, b: str) -> bool:
    return stem(fold(a)) == stem(fold(b))


@pytest.mark.parametrize(
    "singular, plural",
    [
        # borrowed words: Snowball alone stems the -er singular as a verb ("hyperscal") and not the plural
        ("hyperscaler", "hyperscalers"),
        ("deepfake", "deepfakes"),
        ("token", "tokens"),
        ("cloud", "clouds"),
        ("data center", "data centers"),
        ("startup", "startups"),
        ("prompt", "prompts"),
        ("leader", "leaders"),
        ("manager", "managers"),
        ("player", "players"),
        ("newsletter", "newsletters"),
        # French: -s after a vowel, -x, -al/-aux, and the singulars Snowball cuts as verbs
        ("donnée", "données"),
        ("vidéo", "vidéos"),
        ("loi", "lois"),
        ("techno", "technos"),
        ("réseau", "réseaux"),
        ("journal", "journaux"),
        ("canal", "canaux"),
        ("travail", "travaux"),
        ("enjeu", "enjeux"),
        ("jeu", "jeux"),
        ("bijou", "bijoux"),
        ("petit", "petits"),
        ("profit", "profits"),
        ("étranger", "étrangers"),
        ("connexion", "connexions"),
    ],
)
def test_singular_and_plural_share_a_stem(singular, plural):
    for one, many in zip(singular.split(), plural.split(), strict=True):
        assert same_stem(one, many), (one, many, stem(fold(one)), stem(fold(many)))


@pytest.mark.parametrize(
    "words",
    [
        ("européen", "européenne", "européennes", "européens"),
        ("heureux", "heureuse", "heureuses"),
        ("nombreux", "nombreuse", "nombreuses"),
        ("ambitieux", "ambitieuses"),
        ("souveraineté", "souverainetés"),
        ("régulation", "régulations"),
    ],
)
def test_french_inflections_snowball_joined_still_meet(words):
    assert len({stem(fold(w)) for w in words}) == 1, [stem(fold(w)) for w in words]


@pytest.mark.parametrize(
    "one, other",
    [
        ("fois", "foi"),  # a plural-looking s that is none
        ("Paris", "pari"),
        ("peux", "peu"),
        ("mois", "moi"),
        ("bus", "bu"),
        ("process", "procès"),
        ("voix", "vois"),
    ],
)
def test_words_that_differ_keep_apart(one, other):
    assert not same_stem(one, other), (one, other, stem(fold(one)))


def test_hyphenated_words_are_glued_and_grammatical_hyphens_are_not():
    text = "Un e-mail aux start-ups, peut-être, dit-il ; a-t-il lu celui-ci en 2020-2025 ? Le Wi-Fi et l'e-commerce."
    assert compounds(text) == ["email", "startups", "wifi", "ecommerce"]


# --- through the search API, on small archives -------------------------------------------------


def search(client, q: str, **params) -> dict:
    response = client.get("/api/search", params={"q": q, "per_page": 50, "as_typed": True, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None, body["error"]
    return body


def found(client, q: str) -> dict[str, float]:
    """Episode slug -> start second of each hit (one hit per episode in these archives)."""
    return {h["episode"]["slug"]: h["start"] for h in search(client, q)["hits"]}


@pytest.fixture
def hyperscalers(session, index):
    add_episode(session, index, "pluriel", [*filler(7, "un"), "les hyperscalers américains dominent", *filler(7, "un")])
    add_episode(session, index, "singulier", [*filler(3, "deux"), "les hyperscaler américains dominent", *filler(9)])
    add_episode(session, index, "autre-article", [*filler(5, "trois"), "des hyperscalers américains", *filler(5)])
    add_episode(session, index, "autre-ordre", [*filler(2, "quatre"), "américains les hyperscalers", *filler(5)])


def test_plain_words_find_singular_and_plural(client, hyperscalers):
    expected = {"pluriel": 28.0, "singulier": 12.0, "autre-article": 20.0, "autre-ordre": 8.0}
    assert found(client, "hyperscaler") == expected
    assert found(client, "hyperscalers") == expected
    snippets = [h["snippet"] for h in search(client, "hyperscaler")["hits"]]
    assert any("<mark>hyperscalers</mark>" in s for s in snippets)
    assert any("<mark>hyperscaler</mark>" in s for s in snippets)


def test_quoted_phrase_meets_the_other_number_and_stays_exact_otherwise(client, hyperscalers):
    for q in ['"les hyperscalers américains"', '"les hyperscaler américains"', '"les hyperscaler américain"']:
        # the same words in that order, whatever their number; not "des ...", not "américains les ..."
        assert found(client, q) == {"pluriel": 28.0, "singulier": 12.0}, q
    hits = search(client, '"les hyperscaler américains"')["hits"]
    snippets = {h["episode"]["slug"]: h["snippet"] for h in hits}
    assert "<mark>les hyperscalers américains</mark>" in snippets["pluriel"]
    assert "<mark>les hyperscaler américains</mark>" in snippets["singulier"]


def test_the_episode_page_marks_the_other_number_too(client, hyperscalers):
    for q in ['"les hyperscaler américains"', '"hyperscaler"', "hyperscaler"]:
        page = client.get("/episodes/pluriel", params={"q": q})
        assert page.status_code == 200
        tree = html5lib.parse(page.text, namespaceHTMLElements=False)
        marked = ["".join(m.itertext()) for m in tree.iterfind(".//div[@class='transcript transcript-reading']//mark")]
        expected = ["les", "hyperscalers", "américains"] if " " in q else ["hyperscalers"]
        assert marked == expected, q


def test_quoted_single_word_meets_the_other_number(client, hyperscalers):
    assert found(client, '"hyperscaler"') == found(client, "hyperscaler")
    pluriel = next(h for h in search(client, '"hyperscaler"')["hits"] if h["episode"]["slug"] == "pluriel")
    assert "<mark>hyperscalers</mark>" in pluriel["snippet"]


def test_plural_phrase_across_a_line_break_lands_on_its_first_word(client, session, index):
    lines = [*filler(10), "et donc les réseaux", "sociaux américains ont gagné", *filler(10)]
    add_episode(session, index, "coupure", lines, step=3)
    for q in ['"réseaux sociaux américains"', '"réseau social américain"']:
        (hit,) = search(client, q)["hits"]
        assert hit["start"] == 30 and hit["url"] == "/episodes/coupure?t=30&l=10", q
        assert "<mark>réseaux</mark>" in hit["snippet"] and "<mark>sociaux américains</mark>" in hit["snippet"]


def test_french_plurals_in_x_and_aux_meet_in_words_and_phrases(client, session, index):
    add_episode(session, index, "journaux", [*filler(4), "les journaux régionaux et les grands enjeux", *filler(4)])
    add_episode(session, index, "journal", [*filler(6), "un journal régional face à un enjeu", *filler(2)])
    for q in ["journal", "journaux", "enjeu", "enjeux", '"journal régional"', '"journaux régionaux"']:
        assert found(client, q) == {"journaux": 16.0, "journal": 24.0}, q


@pytest.fixture
def mails(session, index):
    add_episode(session, index, "trait-d-union", [*filler(4, "a"), "envoyez-nous un e-mail demain", *filler(4, "a")])
    add_episode(session, index, "colle", [*filler(6, "b"), "il reçoit un email de phishing", *filler(2, "b")])
    add_episode(session, index, "deux-mots", [*filler(2, "c"), "un e mail de relance", *filler(6, "c")])


def test_hyphenated_word_typed_finds_every_spelling(client, mails):
    everywhere = {"trait-d-union": 16.0, "colle": 24.0, "deux-mots": 8.0}
    assert found(client, "e-mail") == everywhere
    assert found(client, '"e mail"') == everywhere
    assert found(client, '"un e-mail"') == everywhere


def test_words_are_not_glued_with_a_stop_word(client, session, index):
    add_episode(session, index, "enfin", [*filler(3), "enfin une bonne nouvelle", *filler(3)])
    assert found(client, '"en fin"') == {}
    assert found(client, "enfin") == {"enfin": 12.0}


def test_glued_word_finds_the_hyphenated_one(client, mails):
    # the index holds the glued form of a caption's hyphenated word (compounds)
    assert found(client, "email") == {"trait-d-union": 16.0, "colle": 24.0}
    assert found(client, '"email"') == {"trait-d-union": 16.0, "colle": 24.0}
    hyphenated = next(h for h in search(client, "email")["hits"] if h["episode"]["slug"] == "trait-d-union")
    assert "<mark>e-mail</mark>" in hyphenated["snippet"]


def test_glued_plural_meets_the_hyphenated_singular(client, session, index):
    add_episode(session, index, "startups", [*filler(3), "les start-up françaises lèvent des fonds", *filler(3)])
    add_episode(session, index, "startup", [*filler(5), "une startup française", *filler(1)])
    assert found(client, "startups") == {"startups": 12.0, "startup": 20.0}
    assert found(client, "start-up") == {"startups": 12.0, "startup": 20.0}

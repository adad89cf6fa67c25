"""Search behaviour on small archives: French analysis, operators, passages, filters, snippets."""

from datetime import date

import pytest
from sqlmodel import select

from app import limits
from app.models import CaptionLine, Episode
from app.search import SearchRequest, postings
from app.search.passages import CORE_LINES, cut_passages
from tests.small_archives import add_episode, filler


def search(index, session, q, **kw):
    results = index.search(session, SearchRequest(q=q, **kw))
    assert results.error is None, results.error
    return results


def test_phrase_matches_across_caption_lines_at_the_second_of_its_first_word(session, index):
    lines = [*filler(20), "et c'est là que la souveraineté", "numérique devient un vrai sujet", *filler(20)]
    add_episode(session, index, "coupure", lines, step=3)
    results = search(index, session, '"souveraineté numérique"')
    assert results.total == 1
    (hit,) = results.hits
    assert hit.start == 20 * 3 and hit.timestamp == "01:00"
    assert hit.url == "/episodes/coupure?t=60&l=20"  # the second, and the line the phrase starts on
    assert "<mark>souveraineté</mark>" in hit.snippet and "<mark>numérique</mark>" in hit.snippet


def test_long_phrase_across_a_passage_boundary_is_found_once(session, index):
    for cut in range(1, 9):  # wherever the passages end, the quote is one hit, at its first line
        slug = f"bord-{cut}"
        lines = [
            *filler(cut, slug),
            "les hyperscalers américains",
            "dominent le marché du cloud européen",
            *filler(15, slug),
        ]
        add_episode(session, index, slug, lines, step=2)
    results = search(index, session, '"hyperscalers américains dominent le marché du cloud"', per_page=20)
    assert results.total == 8 and results.episodes == 8
    assert sorted(h.start for h in results.hits) == [2.0 * cut for cut in range(1, 9)]


def test_accents_case_and_stems_are_folded(session, index):
    add_episode(session, index, "accents", [*filler(3), "La SOUVERAINETÉ des données européennes", *filler(3)])
    for q in ["souverainete", "Souveraineté", "SOUVERAINETE", "donnée", "donnees", "DONNÉE", "européen"]:
        results = search(index, session, q)
        assert results.total == 1, q
        assert results.hits[0].start == 12.0


def test_oe_and_ae_ligatures_fold_to_their_two_letters(session, index):
    add_episode(session, index, "ligature", [*filler(3), "au cœur du sujet avec Lætitia", *filler(3)])
    add_episode(session, index, "deux-lettres", [*filler(5), "le coeur du réacteur, dit Laetitia"])
    for q in [
        "cœur",
        "coeur",
        "CŒUR",
        "Coeur",
        '"cœur du"',
        '"coeur du"',
        "cœu*",
        "Lætitia",
        "laetitia",
        "LÆTITIA",
        "Laetitia",
        "læt*",
    ]:
        results = search(index, session, q)
        assert (results.total, sorted(h.start for h in results.hits)) == (2, [12.0, 20.0]), q
    (hit,) = search(index, session, "cœur", episode="ligature").hits
    assert "<mark>cœur</mark>" in hit.snippet


def test_prefix_fuzzy_and_exclusion(session, index):
    add_episode(session, index, "cloud", ["le numérique et le cloud", "la société Kipit sauvegarde"])
    add_episode(session, index, "amazon", ["le cloud d'Amazon est tombé en panne"])
    assert search(index, session, "numéri*").total == 1
    assert search(index, session, "numeri*").hits[0].episode.slug == "cloud"
    assert search(index, session, "Keepit~").hits[0].episode.slug == "cloud"
    assert search(index, session, "kipot~").total == 1
    assert search(index, session, "cloud").episodes == 2
    for q in ["cloud -amazon", "cloud NOT amazon", "cloud AND NOT Amazon"]:
        assert [h.episode.slug for h in search(index, session, q).hits] == ["cloud"], q
    assert search(index, session, "kipit OR panne").episodes == 2
    assert search(index, session, "kipit panne").total == 0  # every word must be there (AND)


def test_exclusion_drops_the_passages_of_an_episode_that_holds_the_excluded_word(session, index):
    # the excluded passage is the better match for "cloud" (shorter, and the word twice)
    lines = ["le cloud d'Amazon, le cloud", *filler(11), "on parle aussi du cloud souverain européen", *filler(11)]
    add_episode(session, index, "melange", lines)
    results = search(index, session, "cloud -amazon")
    assert results.total == 1 and [h.start for h in results.hits] == [48.0]
    assert [h.start for h in search(index, session, "cloud").hits] == [0.0, 48.0]


def test_elisions_are_split(session, index):
    add_episode(session, index, "ia", ["l'intelligence artificielle d’aujourd'hui", "qu'elle soit générative"])
    assert search(index, session, "intelligence").total == 1
    assert search(index, session, "l'intelligence").total == 1
    assert search(index, session, "d’aujourd'hui").total == 1
    assert search(index, session, '"l’intelligence artificielle"').total == 1
    assert search(index, session, "générative").total == 1


def test_overlap_never_gives_the_same_quote_twice(session, index):
    # the quote straddles two caption lines every 7 lines: passages own 6 lines and borrow the next ones
    lines = []
    for i in range(63):
        lines.append(
            "on parle de la cybersécurité"
            if i % 7 == 0
            else "des hôpitaux français ce matin"
            if i % 7 == 1
            else f"autre ligne {i}"
        )
    add_episode(session, index, "hopitaux", lines, step=1)
    for q in ["cybersécurité", '"cybersécurité des hôpitaux"', '"la cybersécurité des hôpitaux français"']:
        results = search(index, session, q, episode="hopitaux", per_page=50)
        starts = [h.start for h in results.hits]
        assert starts == [float(i) for i in range(0, 63, 7)], q
        assert results.total == 9, q
    # each hit of a word that only the second line holds starts there
    assert [h.start for h in search(index, session, "hôpitaux", episode="hopitaux", per_page=50).hits] == [
        float(i) for i in range(1, 63, 7)
    ]


def test_hits_are_grouped_by_episode_with_a_count_of_the_rest(session, index):
    add_episode(session, index, "bavard", [f"on parle de blockchain encore {i}" for i in range(80)], step=1)
    add_episode(session, index, "discret", [*filler(10), "une fois la blockchain"])
    results = search(index, session, "blockchain")
    assert results.episodes == 2 and results.total == 80 // 6 + 1 + 1
    slugs = [h.episode.slug for h in results.hits]
    assert slugs == sorted(slugs, key=slugs.index)  # each episode's hits are together
    bavard = next(g for g in results.groups if g.episode.slug == "bavard")
    assert len(bavard.hits) == 3 and bavard.more == bavard.matches - 3


# 'frequent': every term's postings kept decoded and grouped by score, as the common words' are.
# PostgreSQL reads its passages one way only, with 'rare' (conftest.pytest_generate_tests).
WHOOSH_READINGS = ["rare", "frequent"]


@pytest.fixture
def terms(request, monkeypatch):
    """One of WHOOSH_READINGS."""
    if request.param == "frequent":
        monkeypatch.setattr(postings.DecodedPostings, "MIN_POSTINGS", 0)
        monkeypatch.setattr(postings, "decoded", postings.DecodedPostings())
    return request.param


def test_passages_tied_in_score_past_the_ranking_cut_are_all_listed(session, index, terms):
    # seventy episodes holding the same passage: more ties than the first ranking cut keeps
    episodes = [
        add_episode(session, index, f"egal-{i:02d}", ["on parle de quantique"], indexed=False) for i in range(70)
    ]
    index.index_episodes(session, [e.id for e in episodes])
    pages = [search(index, session, "quantique", page=p, per_page=10) for p in range(1, 9)]
    assert [len(p.groups) for p in pages] == [10] * 7 + [0]
    assert all((p.total, p.episodes, p.pages) == (70, 70, 7) for p in pages)
    seen = [g.episode.slug for p in pages for g in p.groups]
    assert sorted(seen) == [f"egal-{i:02d}" for i in range(70)]
    assert len({h.score for p in pages for h in p.hits}) == 1  # tied indeed


def test_one_episode_whose_tied_passages_fill_the_ranking_cut_leaves_room_for_the_others(session, index, terms):
    # "bavard" holds seventy passages tied at the best score: the first cut of the ranking holds
    # nothing else, yet the first page shows ten episodes
    episodes = [add_episode(session, index, "bavard", ["quantique quantique"] * 6 * 70, step=1, indexed=False)]
    for i in range(10):
        episodes.append(
            add_episode(
                session,
                index,
                f"discret-{i}",
                [f"et puis, dans un tout autre registre, le quantique {i}"],
                indexed=False,
            )
        )
    index.index_episodes(session, [e.id for e in episodes])  # one index segment for them all
    first, second = (search(index, session, "quantique", page=p, per_page=10) for p in (1, 2))
    assert (first.total, first.episodes) == (80, 11)
    assert next(g.episode.slug for g in first.groups) == "bavard" and len(first.groups) == 10
    assert len(first.groups[0].hits) == 3 and first.groups[0].more == 67
    shown = [g.episode.slug for p in (first, second) for g in p.groups]
    assert sorted(shown[1:]) == [f"discret-{i}" for i in range(10)]


def test_filters_by_show_guest_and_dates_and_sort_by_date(session, index):
    add_episode(
        session,
        index,
        "a",
        ["la 5G arrive"],
        show="SMART TECH",
        aired_on=date(2025, 1, 10),
        guests=("Garance Mathias",),
    )
    add_episode(
        session,
        index,
        "b",
        ["la 5G encore la 5G et la 5G"],
        show="Tech & Co",
        aired_on=date(2025, 3, 5),
        guests=("Julien Pillot",),
    )
    add_episode(
        session,
        index,
        "c",
        ["la 5G enfin, la 5G"],
        show="SMART TECH",
        aired_on=date(2024, 12, 1),
        guests=("Julien Pillot",),
    )

    def slugs(**kw):
        return [g.episode.slug for g in search(index, session, "5G", **kw).groups]

    assert slugs() == slugs(sort="relevance") == ["b", "c", "a"]  # "5G" three times, twice, once
    assert slugs(show="smart-tech") == ["c", "a"]
    assert slugs(guest="julien-pillot") == ["b", "c"]
    assert slugs(date_from=date(2025, 1, 1)) == ["b", "a"]
    assert slugs(date_to=date(2024, 12, 31)) == ["c"]
    assert slugs(date_from=date(2025, 1, 10)) == ["b", "a"]  # both bounds hold their own day
    assert slugs(date_to=date(2024, 12, 1)) == ["c"]
    assert slugs(sort="date") == ["b", "a", "c"]
    assert slugs(show="nulle-part") == []


def test_pagination_over_episodes_keeps_a_total(session, index):
    for i in range(7):
        add_episode(session, index, f"ep-{i}", [*filler(2), "le quantique avance"])
    pages = [search(index, session, "quantique", page=p, per_page=3) for p in (1, 2, 3, 4)]
    assert [len(p.groups) for p in pages] == [3, 3, 1, 0]
    assert all(p.total == 7 and p.episodes == 7 and p.pages == 3 for p in pages)
    seen = [g.episode.slug for p in pages for g in p.groups]
    assert sorted(seen) == [f"ep-{i}" for i in range(7)]


def test_snippet_escapes_caption_html_and_marks_matches(session, index):
    add_episode(session, index, "xss", ['il a tapé <script>alert("pirate")</script> dans le chat & le forum'])
    (hit,) = search(index, session, "pirate").hits
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;alert(&#34;<mark>pirate</mark>&#34;)&lt;/script&gt;" in hit.snippet
    assert "&amp; le forum" in hit.snippet
    assert hit.text.startswith("il a tapé <script>")


def test_did_you_mean_when_nothing_matches(session, index):
    add_episode(session, index, "s", ["la souveraineté numérique européenne"])
    results = search(index, session, "souvreaineté numerique")
    # the correction's results at once, written as the transcripts write it
    assert (results.total, results.suggestion, results.corrected) == (1, "souveraineté numérique", True)
    as_typed = search(index, session, "souvreaineté numerique", as_typed=True)
    assert (as_typed.total, as_typed.suggestion, as_typed.corrected) == (0, "souveraineté numérique", False)
    assert search(index, session, "souveraineté").suggestion is None


def test_a_correction_is_written_as_the_lines_of_its_passages_write_it(session, index):
    """The spelling is read from the lines of the first five passages holding the word, those
    lines only: the lines just past a passage, here two that write the word without accents
    three times each, are not counted with it."""
    own = [f"la souveraineté numéro {n} puis du remplissage" for n in range(5)]
    lines = [line for n in range(5) for line in [own[n], *filler(CORE_LINES - 1)]]
    lines += ["souverainete souverainete souverainete"] * 2 + filler(CORE_LINES - 2)
    add_episode(session, index, "souverainete", lines)
    assert search(index, session, "souveraineté").total == 6  # six passages, five read for the spelling
    assert search(index, session, "souvreaineté").suggestion == "souveraineté"


def test_a_corrected_line_holds_the_words_the_machine_heard_and_its_new_ones():
    """An editor's correction keeps the replaced words searchable (the old spelling of a name
    still finds the line), each once: the words both versions share are not counted twice."""
    corrected = (0, 0.0, "la société Keepit lève des fonds", None, "la société Kipit lève des fonds")
    (passage,) = cut_passages([corrected, (1, 4.0, "et recrute", None, None)])
    assert {"keepit", "kipit"} <= set(passage.exact)
    assert passage.exact.count("societe") == 1 and passage.exact.count("fonds") == 1


def test_search_inside_one_episode_lists_hits_in_order(session, index):
    add_episode(session, index, "un", [f"le robot numéro {i}" for i in range(30)], step=10)
    add_episode(session, index, "deux", ["un robot ailleurs"])
    results = search(index, session, "robot", episode="un", per_page=50)
    assert {h.episode.slug for h in results.hits} == {"un"}
    assert [h.start for h in results.hits] == [10.0 * i for i in range(0, 30, 6)]


def test_queries_that_cannot_run_say_why(session, index):
    add_episode(session, index, "x", ["du texte"])
    for q, words in [
        ("x" * 10_000, "trop longue"),
        ("le la les", "trop courants"),
        ("-texte", "exclu"),
        ("a*", "préfixe"),
        ('"' + " ".join(["mot"] * 20) + '"', "limitée"),
    ]:
        results = index.search(session, SearchRequest(q=q))
        assert results.error and words in results.error, (q[:20], results.error)
    assert index.search(session, SearchRequest(q="texte", page=0)).error


def test_four_word_phrase_across_a_caption_line_and_a_passage_boundary(session, index):
    for cut in range(1, 8):  # the quote's line break falls at every place around the passage's end
        slug = f"quatre-{cut}"
        lines = [*filler(cut, slug), "on parle de la cybersécurité", "des hôpitaux français ce soir", *filler(12, slug)]
        add_episode(session, index, slug, lines, step=2)
    results = search(index, session, '"cybersécurité des hôpitaux français"', per_page=20)
    assert results.total == 7 and results.episodes == 7
    assert sorted(h.start for h in results.hits) == [2.0 * cut for cut in range(1, 8)]
    assert all("<mark>cybersécurité</mark>" in h.snippet for h in results.hits)


def test_phrase_with_repeated_words_matches_only_in_that_order(session, index):
    add_episode(session, index, "repete", [*filler(3), "c'est le cloud, le cloud et encore le cloud", *filler(3)])
    assert search(index, session, '"le cloud le cloud"').total == 1
    assert search(index, session, '"cloud le cloud et"').total == 1
    assert search(index, session, '"le cloud le cloud le cloud"').total == 0  # "et encore" breaks the run
    assert search(index, session, '"cloud cloud le le"').total == 0


def test_phrase_whose_words_appear_but_not_adjacent_does_not_match(session, index):
    lines = ["la panne du cloud", "une géante panne", "et le cloud géante une", *filler(10)]
    add_episode(session, index, "epars", lines)
    assert search(index, session, '"une panne géante du cloud"').total == 0
    assert search(index, session, '"une panne géante du"').total == 0
    assert search(index, session, '"panne du cloud géante"').total == 0
    assert search(index, session, '"panne du cloud une"').total == 1  # across the line break: adjacent
    assert search(index, session, '"la panne du cloud"').total == 1


def test_a_minus_glued_to_a_quote_or_a_group_excludes_it(session, index, seeded):
    every = search(index, session, "souveraineté", per_page=50)
    without = search(index, session, 'souveraineté -"souveraineté numérique"', per_page=50)
    assert 0 < without.total < every.total
    assert search(index, session, 'souveraineté NOT "souveraineté numérique"', per_page=50).total == without.total
    quoted = search(index, session, '"souveraineté numérique"', per_page=50)
    assert quoted.total and not {(h.episode.slug, h.position) for h in without.hits} & {
        (h.episode.slug, h.position) for h in quoted.hits
    }
    # no hit's line holds the phrase (a hit's text may run on into the next passage, where it does)
    lines = {
        (e.slug, c.position): c.text.lower()
        for c, e in session.exec(select(CaptionLine, Episode).join(Episode, Episode.id == CaptionLine.episode_id))
    }
    assert without.hits and all("souveraineté numérique" not in lines[h.episode.slug, h.position] for h in without.hits)
    assert any("souveraineté numérique" in lines[h.episode.slug, h.position] for h in quoted.hits)
    grouped = search(index, session, "souveraineté -(numérique OR européenne)", per_page=50)
    spelled = search(index, session, "souveraineté NOT (numérique OR européenne)", per_page=50)
    assert grouped.total < every.total
    assert (grouped.total, grouped.episodes) == (spelled.total, spelled.episodes)
    assert [(h.episode.slug, h.position) for h in grouped.hits] == [(h.episode.slug, h.position) for h in spelled.hits]
    # a lone "-" before a word is not an exclusion, and one glued to a word still is
    assert (
        search(index, session, "souveraineté - numérique").total
        == search(index, session, "souveraineté numérique").total
    )
    assert (
        search(index, session, "souveraineté -numérique").total
        == search(index, session, "souveraineté NOT numérique").total
    )
    assert "exclu" in index.search(session, SearchRequest(q='-"souveraineté numérique"')).error


def test_an_exclusion_as_a_branch_of_an_or_is_refused_with_a_reason(session, index, seeded):
    for q in [
        "données OR -cloud",
        "-cloud OR données",
        "données OR (NOT cloud)",
        "données OR NOT cloud",
        'données OR -"cloud souverain"',
        "données OR -(cloud OR panne)",
        "données OR (NOT cloud NOT panne)",
    ]:
        results = index.search(session, SearchRequest(q=q))
        assert results.error and "OR" in results.error and "(a OR b) -c" in results.error, (q, results.error)
        assert not results.hits
    # an exclusion that narrows a branch, or the whole OR, is fine
    assert search(index, session, "(données -cloud) OR souveraineté").total
    assert search(index, session, "(données OR souveraineté) -cloud").total


def test_the_time_budget_stops_a_slow_query_with_a_message(session, index, seeded, monkeypatch):
    from app.search import service

    q = "pa* OR co* OR de* OR qu*"
    assert search(index, session, q).total  # within the budget it runs to the end
    monkeypatch.setattr(limits, "TIME_BUDGET", 1e-9)
    results = index.search(session, SearchRequest(q=q))
    said = [results.error] if results.error else results.notices
    assert any("temps" in m for m in said), said
    assert results.error is None or results.error == service.TOO_SLOW
    for kw in [{"sort": "date"}, {"page": 2}]:
        results = index.search(session, SearchRequest(q=q, **kw))
        assert (results.error or "") == service.TOO_SLOW or service.PARTIAL in results.notices


@pytest.fixture
def whoosh_archive(tmp_path):
    """A session and a Whoosh index whatever the backend: for what only Whoosh's segments do."""
    from sqlmodel import Session

    from app.config import Settings
    from app.db import get_engine
    from app.search import get_search_index
    from app.startup import prepare_data

    settings = Settings(data_dir=tmp_path / "whoosh")
    prepare_data(settings)
    with Session(get_engine(settings)) as session:
        yield session, get_search_index(settings)
    get_engine(settings).dispose()


def test_the_time_budget_cut_inside_the_segments_keeps_what_was_read(whoosh_archive, monkeypatch):
    from app.search import matching, ranking, service

    session, index = whoosh_archive

    for n in range(3):  # one segment per episode
        add_episode(session, index, f"seg-{n}", [f"le cloud numéro {n}", *filler(3, f"seg-{n}")])
    segments = list(index.searcher().segments())
    assert len(segments) == 3
    compiled = index.searcher()
    from app.search.query import compile_query, parse

    q = compile_query(parse("cloud OR numéro"), compiled.vocabulary).query
    ticks = iter(range(10_000))
    monkeypatch.setattr(matching.time, "monotonic", lambda: float(next(ticks)))  # a second per look
    matches = matching.find_matches(q, segments, deadline=next(ticks) + 4.5)
    assert matches.partial and 0 < len(matches.per_episode) < 3  # the segments read whole, no more
    ranked = ranking.top_passages(q, compiled.searcher, matches, compiled.lengths, 10)
    assert len(ranked) == sum(matches.per_episode.values())
    assert ranking.top_passages(q, compiled.searcher, matches, compiled.lengths, 10, deadline=0.0) == []
    assert not matching.find_matches(q, segments, deadline=1e12).partial

    # through the service: never an exception; either nothing in time, or the counts read, said partial
    kinds, totals = set(), []
    for budget in [0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 1e6]:
        monkeypatch.setattr(limits, "TIME_BUDGET", budget)
        results = index.search(session, SearchRequest(q="cloud OR numéro"))
        if results.error:
            assert results.error == service.TOO_SLOW
            kinds.add("slow")
        elif service.PARTIAL in results.notices:
            assert 0 < results.total <= 3  # cut in the counting, or later in the ranking
            kinds.add("partial")
        else:
            assert results.total == 3
            kinds.add("whole")
        totals.append(results.total)
    assert kinds == {"slow", "partial", "whole"} and totals == sorted(totals)

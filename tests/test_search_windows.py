"""Plain words as people remember them: all within a few consecutive lines, whichever passages own
those lines; the hit stamped where the smallest such window begins; close words ranked first."""

import pytest

from app.search import SearchRequest
from app.search.passages import CORE_LINES, WINDOW_LINES
from app.search.windows import smallest_window
from tests.small_archives import add_episode, filler


def search(index, session, q, **kwargs):
    results = index.search(session, SearchRequest(q=q, per_page=50, **kwargs))
    assert results.error is None, results.error
    return results


def test_words_on_both_sides_of_a_passage_boundary_are_found_once_where_they_start(session, index):
    # line 5 ends the first passage, line 6 starts the second
    lines = [*filler(5), "et là on parle des hyperscalers", "américains qui dominent le marché", *filler(10)]
    add_episode(session, index, "frontiere", lines)
    for q in ["hyperscalers américains", "américains hyperscalers"]:
        results = search(index, session, q)
        assert results.total == 1 and results.episodes == 1, q
        (hit,) = results.hits
        assert hit.position == CORE_LINES - 1 and hit.start == (CORE_LINES - 1) * 4.0
        assert "<mark>hyperscalers</mark>" in hit.snippet and "<mark>américains</mark>" in hit.snippet


def test_each_word_alone_finds_the_same_spot(session, index):
    lines = [*filler(5), "et là on parle des hyperscalers", "américains qui dominent le marché", *filler(10)]
    add_episode(session, index, "frontiere", lines)
    assert [h.position for h in search(index, session, "hyperscalers").hits] == [5]
    assert [h.position for h in search(index, session, "américains").hits] == [6]


def test_the_hit_is_stamped_at_the_smallest_window_not_at_the_first_word(session, index):
    lines = [
        "le marché du cloud a beaucoup changé",  # "cloud" alone, 12 seconds before the quote
        "ligne sans rapport numéro un",
        "ligne sans rapport numéro deux",
        "on veut un cloud vraiment souverain",  # the quote
        "ligne sans rapport numéro trois",
        "ligne sans rapport numéro quatre",
        *filler(6),
    ]
    add_episode(session, index, "fenetre", lines)
    (hit,) = search(index, session, "cloud souverain").hits
    assert hit.position == 3 and hit.start == 12.0
    assert hit.url.startswith("/episodes/fenetre?t=12")


def test_words_too_far_apart_do_not_match_and_the_window_is_counted_once(session, index):
    far = ["on parle de cloud ici", *filler(WINDOW_LINES), "et de souveraineté là", *filler(12)]
    add_episode(session, index, "loin", far)
    assert search(index, session, "cloud souveraineté").total == 0
    # the words again at the start of the second passage, and "cloud" alone late in the first one:
    # the second passage owns the smallest window; the first one has no window of its own
    near = [*filler(3), "on parle de cloud ici", *filler(2), "le cloud et la souveraineté", *filler(11)]
    add_episode(session, index, "proche", near)
    results = search(index, session, "cloud souveraineté")
    assert results.total == 1
    assert [(h.episode.slug, h.position) for h in results.hits] == [("proche", CORE_LINES)]


def test_two_windows_in_two_passages_are_two_hits(session, index):
    lines = ["le cloud souverain", *filler(5), "un cloud souverain encore", *filler(5)]
    add_episode(session, index, "deux", lines)
    results = search(index, session, "cloud souverain")
    assert results.total == 2 and [h.position for h in results.hits] in ([0, 6], [6, 0])


def test_words_close_together_rank_above_the_same_words_spread_over_a_passage(session, index):
    spread = ["le cloud dont on parle", "ligne sans rapport un", "ligne sans rapport deux"]
    spread += ["ligne sans rapport trois", "ligne sans rapport quatre", "doit être souverain"]
    close = ["ligne sans rapport un", "ligne sans rapport deux", "ligne sans rapport trois"]
    close += ["le cloud dont on parle doit être souverain", "ligne sans rapport quatre", "ligne sans rapport"]
    add_episode(session, index, "etale", spread + filler(6))
    add_episode(session, index, "serre", close + filler(6))
    results = search(index, session, "cloud souverain")
    assert [h.episode.slug for h in results.hits] == ["serre", "etale"]
    assert results.hits[0].score > results.hits[1].score


def test_in_episode_search_and_other_operators_keep_the_window(session, index):
    lines = [*filler(5), "les hyperscalers", "américains dominent", *filler(10)]
    add_episode(session, index, "frontiere", lines)
    inside = search(index, session, "hyperscalers américains", episode="frontiere")
    assert [h.position for h in inside.hits] == [5]
    # an excluded word excludes the passages whose own lines hold it, as it always has
    assert search(index, session, "hyperscalers américains -remplissage").total == 0
    assert search(index, session, "hyperscalers américains -européens").total == 1
    assert search(index, session, '(hyperscalers américains) OR "nulle part"').total == 1
    # a quoted phrase still needs its words side by side
    assert search(index, session, '"hyperscalers dominent"').total == 0


@pytest.mark.parametrize(
    ("lines_of", "expected"),
    [
        ([[0], [0]], (1, 0)),
        ([[5], [6]], (2, 5)),
        ([[0, 3], [3]], (1, 3)),  # the smallest window, not the first word
        ([[3], [6]], (4, 3)),  # over the boundary: four lines, owned where they start
        ([[3, 6], [6]], None),  # the next passage owns [6, 6]; [3, 6] is not minimal
        ([[0], [6]], None),  # seven lines: too far apart
        ([[0], []], None),
        ([[7], [8]], None),  # starts in the next passage's lines
    ],
)
def test_smallest_window(lines_of, expected):
    assert smallest_window(lines_of) == expected


def test_of_two_windows_as_short_the_one_in_the_order_typed_wins(session, index):
    lines = ["il ne faut pas hésiter à le dire", "et il faut le faire", "il ne faut pas hésiter", *filler(9)]
    add_episode(session, index, "ordre", lines)
    (hit,) = search(index, session, "faire faut hésiter").hits
    # lines 0-1 and 1-2 hold the three words; only from line 1 do they read "faire", "faut", "hésiter"
    assert hit.position == 1
    assert smallest_window([[1, 2], [0, 1, 2], [0, 2]]) == (1, 2)  # one line holding all three: smallest
    assert smallest_window([[1], [0, 1], [0, 2]]) == (2, 1)  # [0, 1] and [1, 2] are as short; [1, 2] in order

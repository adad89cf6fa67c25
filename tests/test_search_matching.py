"""The fast matching paths (decoded postings and positions kept in memory, prefix expansions summed
per term) find and rank exactly what the plain reading of the index does."""

import pytest

from app.search import SearchRequest, matching, postings, ranking
from app.search.query import compile_query, parse
from tests.small_archives import add_episode, filler

QUERIES = [
    '"le cloud souverain"',
    '"cloud souverain européen"',
    '"la panne du cloud géante"',
    '"le cloud le cloud"',
    "clou*",
    "souv*",
    "cloud OR panne",
    "cloud -panne",
    "cloud souverain",
    '"le cloud"',
    "cloud",
]


def outcome(index, session, q):
    results = index.search(session, SearchRequest(q=q, per_page=50))
    assert results.error is None, (q, results.error)
    return results.total, [(h.episode.slug, h.start, round(h.score, 6)) for h in results.hits]


@pytest.fixture
def archive(session, index):
    lines = ["le cloud souverain européen", "la panne du cloud géante", "le cloud le cloud et le clou"]
    for n in range(6):
        add_episode(session, index, f"ep-{n}", filler(n) + lines * (n + 1) + ["souveraineté des nuages"] + filler(8))
    # a reindexed episode leaves deleted documents in the first segment
    first = add_episode(session, index, "refait", lines + filler(4))
    index.index_episodes(session, [first.id])
    return session, index


def test_cached_postings_and_positions_give_the_same_hits_and_scores(archive, monkeypatch):
    session, index = archive
    assert any(leaf.reader().has_deletions() for leaf, _ in index.searcher().searcher.leaf_searchers())
    plain = {q: outcome(index, session, q) for q in QUERIES}
    assert {slug for slug, _, _ in plain['"la panne du cloud géante"'][1]} == {f"ep-{n}" for n in range(6)} | {"refait"}
    assert plain['"le cloud le cloud"'][0] > 0 and plain["clou*"][0] > 0
    monkeypatch.setattr(postings.DecodedPostings, "MIN_POSTINGS", 0)
    monkeypatch.setattr(postings, "decoded", postings.DecodedPostings())
    for _ in range(2):  # filling the cache, then reading from it
        assert {q: outcome(index, session, q) for q in QUERIES} == plain


def test_prefix_and_or_rank_as_whoosh_scores(archive):
    _session, index = archive
    current = index.searcher()
    for q in ["clou*", "souv*", "cloud OR panne", "cloud OR souveraineté"]:
        compiled = compile_query(parse(q), current.vocabulary)
        matches = matching.find_matches(compiled.query, current.segments())
        ours = ranking.top_passages(compiled.query, current.searcher, matches, current.lengths, 20)
        theirs = [(hit.docnum, hit.score) for hit in current.searcher.search(compiled.query, limit=20)]
        assert sorted(round(s, 6) for _, s in ours) == sorted(round(s, 6) for _, s in theirs), q
        assert {d for d, _ in ours} <= matches.docnums(matches.per_episode)

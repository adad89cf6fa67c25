"""The best passages among a query's matches, scored from the posting lists as Whoosh's BM25F scores them.

A match's score is the sum, over the query's positive terms (not the excluded ones) that the passage
holds, of the term's BM25F score: scoring_query(q) as Whoosh scores it. Ranking every match
through Whoosh's matchers costs a Python call per posting; here a term's score depends only on its
weight in the passage and the passage's length byte, so it is computed once per distinct pair and
the postings are mapped through that cache in C. A frequent term's postings are kept grouped by
(weight, length byte) (postings.decoded), so that its best passages come from its best groups
without scoring every posting.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from heapq import heappush, heappushpop, nlargest
from itertools import chain, compress, repeat
from typing import TYPE_CHECKING

from whoosh import query as wq

from app.search import postings, whoosh_internals
from app.search.passages import BODY, SHINGLES
from app.search.phrases import ShinglePhrase
from app.search.windows import WordsNear, proximity

if TYPE_CHECKING:
    from app.search.matching import Matches


def positive_terms(q: wq.Query) -> list[wq.Term] | None:
    """The terms that score a match (not the excluded ones); None for a query this module cannot rank."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return []
    if type(q) is wq.Term:
        return [q]
    if type(q) is ShinglePhrase:
        return [wq.Term(SHINGLES, t) for i in range(len(q.pairs)) for t in q.forms(i)]
    if type(q) is WordsNear:
        # scored on the words of the passage's own lines, as plain words always were (their
        # postings are cheap to read, the window's carry lines); closeness multiplies it
        return [wq.Term(BODY, t) for forms in q.words for t in forms]
    if type(q) in (wq.And, wq.Or):
        terms = []
        for child in q.subqueries:
            found = positive_terms(child)
            if found is None:
                return None
            terms.extend(found)
        return terms
    if type(q) is wq.AndNot:
        return positive_terms(q.a) if positive_terms(q.b) is not None else None
    return None


def _words_near(q: wq.Query):
    """The WordsNear parts of q that score (not the excluded ones)."""
    if type(q) is WordsNear:
        yield q
    elif type(q) in (wq.And, wq.Or):
        for child in q.subqueries:
            yield from _words_near(child)
    elif type(q) is wq.AndNot:
        yield from _words_near(q.a)


def with_proximity(q: wq.Query, found: list[tuple[int, float]], segments, limit: int | None) -> list[tuple[int, float]]:
    """(global docnum, score) from Whoosh's collector on scoring_query(q), with the closeness of the
    words multiplied in as top_passages does: the limit best, best first, ties in index order.

    segments: (leaf searcher, docnum offset, ...) of the searcher the docnums come from."""
    windows = list(_words_near(q))
    if not windows:
        return found[:limit] if limit is not None else found
    bounds = sorted((offset, leaf.reader().segment().segment_id()) for leaf, offset, *_ in segments)
    offsets = [offset for offset, _ in bounds]
    scored = []
    for d, score in found:
        offset, segment_id = bounds[bisect_right(offsets, d) - 1]
        for near in windows:
            span = near.span(segment_id, d - offset)
            if span is not None:
                score *= proximity(span)
        scored.append((d, score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit] if limit is not None else scored


def _with_closeness(scores: dict[int, float], windows: list[WordsNear], segment_id: str, limit: int | None) -> None:
    """Multiply each score by its window's closeness, in place. With one window and a limit, the
    spans still unread are read best first, and only while the passage could still rank among the
    limit best (closeness at most doubles a score); the others are dropped: they cannot."""
    if limit is None or len(windows) > 1:
        for near in windows:
            for d in scores:
                span = near.span(segment_id, d)
                if span is not None:
                    scores[d] *= proximity(span)
        return
    (near,) = windows
    known = near.spans.get(segment_id, {})
    best: list[float] = []  # the limit best final scores so far (a min-heap)
    unread = []
    for d, score in scores.items():
        span = known.get(d)
        if span is None and d in known:
            unread.append((score, d))
            continue
        if span is not None:
            score = scores[d] = score * proximity(span)
        (heappush if len(best) < limit else heappushpop)(best, score)
    unread.sort(key=lambda item: (-item[0], item[1]))
    for n, (score, d) in enumerate(unread):
        if len(best) >= limit and score * proximity(1) < best[0]:
            for _, left in unread[n:]:
                del scores[left]
            break
        span = near.span(segment_id, d)
        assert span is not None  # known holds d: a match
        score = scores[d] = score * proximity(span)
        (heappush if len(best) < limit else heappushpop)(best, score)


def scoring_query(q: wq.Query) -> wq.Query:
    """The query whose Whoosh score, on a passage that matches q, is the score top_passages gives
    it: the Or of q's positive terms (a phrase's every bi-word form, a branch of an OR that the
    passage does not match but whose words it holds). For Whoosh's own collector, when the posting
    lists cannot be read here; q itself when this module cannot rank it."""
    terms = positive_terms(q)
    if terms is None:
        return q
    return wq.Or(terms) if terms else wq.NullQuery


def _best_of_groups(groups, by_pair, limit: int, base: int, deleted):
    """(score, -global docnum) of the postings that may be among the limit best: every posting of
    the best-scoring groups until limit live postings are covered (ties included)."""
    ranked = sorted(((by_pair[w, lb], docs) for w, lb, docs in groups), key=lambda g: g[0], reverse=True)
    items, covered, floor = [], 0, None
    for score, docs in ranked:
        if floor is not None and score < floor:
            break
        live = [d for d in docs if d not in deleted] if deleted else docs
        items.append(zip(repeat(score), map(base.__sub__, live)))
        covered += len(live)
        if covered >= limit and floor is None:
            floor = score
    return chain.from_iterable(items)


class _Scores(dict):
    """A term's score by (weight, length byte) of a posting, or by length byte for a given weight,
    computed on first use: then looked up in C."""

    def __init__(self, scorer, weight: float | None = None):
        super().__init__()
        self.scorer = scorer
        self.weight = weight

    def __missing__(self, key):
        weight, length_byte = key if self.weight is None else (self.weight, key)
        found = self[key] = whoosh_internals.posting_score(self.scorer, weight, length_byte)
        return found


def top_passages(
    q: wq.Query,
    top_searcher,
    matches: Matches,
    lengths_of,
    limit: int | None,
    every_match: bool = True,
    deadline: float | None = None,
):
    """The limit best (global docnum, score) among the matches (all of them when limit is None),
    best first, ties in index order; None when this module cannot rank q, or cannot read its
    posting lists (whoosh_internals.FAST off): Whoosh's collector on scoring_query(q) then does.

    every_match: matches holds every passage matching q (not a filtered part of them).
    lengths_of(leaf searcher, field name): the length byte of each of its documents.

    deadline (time.monotonic()): checked before each segment and each term; once passed, the best
    of what was scored so far (a passage may then miss the score of the terms left unread)."""
    terms = positive_terms(q)
    if terms is None:
        return None
    windows = list(_words_near(q))
    weighting = top_searcher.weighting
    leaves = {offset: leaf for leaf, offset in top_searcher.leaf_searchers()}
    heap: list[tuple[float, int]] = []
    top = (lambda items: nlargest(limit, items)) if limit is not None else list
    for offset, docs, _ in matches.segments:
        if deadline is not None and time.monotonic() > deadline:
            break
        leaf = leaves[offset]
        reader = leaf.reader()
        raws = [(t, whoosh_internals.raw_postings(reader, t.fieldname, t.text)) for t in terms]
        if any(raw is not None and not whoosh_internals.readable(raw) for _, raw in raws):
            return None
        deleted = reader.deleted_docs_set if reader.has_deletions() else None
        # an Or of terms over every match (a prefix, a fuzzy word, a OR b): each posting is a match
        all_match = every_match and type(q) is wq.Or and all(type(c) is wq.Term for c in q.subqueries)
        known = q.weights.get(reader.segment().segment_id()) if type(q) is ShinglePhrase else None
        wanted = None
        scores: dict[int, float] = {}
        for term, raw in raws:
            if raw is None:
                continue
            if deadline is not None and time.monotonic() > deadline:
                break
            lengths = lengths_of(leaf, term.fieldname)
            scorer = weighting.scorer(leaf, term.fieldname, term.text)
            by_pair = _Scores(scorer)
            by_length = _Scores(scorer, weight=1.0)  # most postings have weight 1

            # bound now: the function is used in this iteration only
            def contributions(ids, weights, by_length=by_length, by_pair=by_pair, lengths=lengths):
                if weights is None:
                    return map(by_length.__getitem__, map(lengths.__getitem__, ids))
                return map(by_pair.__getitem__, zip(weights, map(lengths.__getitem__, ids), strict=True))

            if type(q) is wq.Term and every_match:
                cached = postings.decoded.get(reader, term.fieldname, term.text, raw)
                # every posting is a match (but the deleted ones): straight into the heap
                base = -offset
                if cached is not None and limit is not None:
                    # a frequent term: its postings grouped by (weight, length byte), so the best
                    # are found group by group instead of scoring every posting
                    groups = postings.decoded.groups(reader, term.fieldname, term.text, cached, lengths)
                    items = _best_of_groups(groups, by_pair, limit, base, deleted)
                else:
                    if cached is None:
                        cached = matches.read.get((reader.segment().segment_id(), term.fieldname, term.text))
                    blocks = (
                        cached
                        if cached is not None
                        else ((ids, whoosh_internals.block_weights(r)) for ids, r in whoosh_internals.blocks(raw))
                    )
                    items = chain.from_iterable(
                        zip(contributions(ids, weights), map(base.__sub__, ids), strict=True) for ids, weights in blocks
                    )
                    if deleted:
                        items = ((sc, g) for sc, g in items if (-g - offset) not in deleted)
                heap = top(chain(heap, items))
            elif known is not None:
                # a phrase of three words or more: its match kept each bi-word's weight
                matched = known.get(term.text, {})  # docnum -> the bi-word's weight
                get = scores.get
                for d in docs & matched.keys():
                    scores[d] = get(d, 0.0) + by_pair[matched[d], lengths[d]]
            else:
                # read only the blocks that hold matches when they are few beside the postings
                sparse = len(docs) * 16 < postings.doc_frequency(reader, term.fieldname, term.text)
                if sparse and wanted is None:
                    wanted = sorted(docs)
                cached = (
                    postings.decoded.peek(reader, term.fieldname, term.text)
                    if sparse
                    else postings.decoded.get(reader, term.fieldname, term.text, raw)
                )
                if cached is None:
                    cached = matches.read.get((reader.segment().segment_id(), term.fieldname, term.text))
                if cached is not None:
                    blocks = postings.holding(cached, wanted if sparse else None)
                else:
                    blocks = (
                        (ids, whoosh_internals.block_weights(r))
                        for ids, r in whoosh_internals.blocks(raw, wanted if sparse else None)
                    )
                # a term's postings as a dict built in C; only the passages already scored by an
                # earlier term are summed in Python (few, for the expansions of a prefix)
                mine: dict[int, float] = {}
                for ids, weights in blocks:
                    pairs = zip(ids, contributions(ids, weights), strict=True)
                    mine.update(pairs if all_match else compress(pairs, map(docs.__contains__, ids)))
                if scores:
                    for d in mine.keys() & scores.keys():
                        mine[d] += scores[d]
                scores.update(mine)
        if all_match and deleted:
            for d in deleted:
                scores.pop(d, None)
        if windows and scores:
            # words close together rank above the same words spread over the window
            _with_closeness(scores, windows, reader.segment().segment_id(), limit)
        if scores:
            heap = top(chain(heap, zip(scores.values(), map((-offset).__sub__, scores.keys()), strict=True)))
    return [(-g, sc) for sc, g in sorted(heap, reverse=True)]

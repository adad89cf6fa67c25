"""Which passages match a query, unscored: sets of document numbers, read a posting block at a time.

Counting every match through Whoosh's matchers costs a Python call per posting; the totals and the
per-episode counts only need the set of matching passages, so word queries are answered from the
posting blocks directly (decoded in C by itertools) and combined with set algebra. Positional
queries (phrases of three words or more) fall back to Whoosh's own matcher.
"""
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from heapq import nlargest
from itertools import accumulate, chain

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.util.numeric import byte_to_length
from whoosh.matching.wrappers import FilterMatcher


def _term_docs(reader, fieldname: str, text: str) -> set[int]:
    if (fieldname, text) not in reader:
        return set()
    matcher = reader.postings(fieldname, text)
    raw = matcher.child if isinstance(matcher, FilterMatcher) else matcher
    if not isinstance(raw, W3LeafMatcher) or raw._byteids:
        return set(matcher.all_ids())
    docs: set[int] = set()
    raw.reset()
    while raw.is_active():
        if raw._data is None:
            raw._read_data()
        docs.update(accumulate(raw._data[0]))  # ids are delta-encoded from 0 in each block
        if raw._lastblock:
            break
        raw._next_block()
    if reader.has_deletions():
        docs -= reader.deleted_docs_set
    return docs


def segment_docs(q: wq.Query, searcher) -> set[int]:
    """The document numbers, local to this leaf searcher's segment, that match q."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return set()
    if type(q) is wq.Term:
        return _term_docs(searcher.reader(), q.fieldname, q.text)
    if type(q) is wq.And:
        docs: set[int] | None = None
        for child in q.subqueries:
            found = segment_docs(child, searcher)
            docs = found if docs is None else docs & found
            if not docs:
                return set()
        return docs or set()
    if type(q) is wq.Or:
        docs = set()
        for child in q.subqueries:
            docs |= segment_docs(child, searcher)
        return docs
    if type(q) is wq.AndNot:
        docs = segment_docs(q.a, searcher)
        return docs - segment_docs(q.b, searcher) if docs else docs
    return set(q.docs(searcher))


@dataclass
class Matches:
    """Matching passages of one query: per segment (offset, local docnums, episode of each docnum)."""

    segments: list[tuple[int, set[int], list[int]]] = field(default_factory=list)
    per_episode: Counter = field(default_factory=Counter)

    def docnums(self, episodes) -> set[int]:
        """Global document numbers of the matching passages of these episodes."""
        episodes = set(episodes)
        return {offset + d for offset, docs, episode_of in self.segments for d in docs if episode_of[d] in episodes}


def find_matches(q: wq.Query, segments) -> Matches:
    """segments: (leaf searcher, offset, episode id of each local docnum)."""
    matches = Matches()
    for searcher, offset, episode_of in segments:
        docs = segment_docs(q, searcher)
        if docs:
            matches.segments.append((offset, docs, episode_of))
            matches.per_episode.update(map(episode_of.__getitem__, docs))
    return matches


# --- ranking without a matcher per posting ----------------------------------------------------


def positive_terms(q: wq.Query) -> list[wq.Term] | None:
    """The terms that score a match (not the excluded ones); None when q has positional parts."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return []
    if type(q) is wq.Term:
        return [q]
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


def _postings(reader, fieldname: str, text: str):
    """The raw posting matcher of a term (deleted documents included), or None."""
    if (fieldname, text) not in reader:
        return None
    matcher = reader.postings(fieldname, text)
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def _blocks(raw):
    """(ids, weights or None when every weight is 1) of each posting block."""
    raw.reset()
    while raw.is_active():
        if raw._data is None:
            raw._read_data()
        weights = raw._data[1]
        if weights is not None:
            raw._read_weights()
            weights = raw._weights
        yield list(accumulate(raw._data[0])), weights
        if raw._lastblock:
            break
        raw._next_block()


def top_passages(q: wq.Query, top_searcher, matches: Matches, lengths_of, limit: int):
    """The limit best (global docnum, score) among the matches, scored as Whoosh's BM25F scores
    them, best first; None when the query has positional parts (Whoosh's collector ranks those).

    A term's score depends only on its weight in the passage and the passage's length byte, so
    it is computed once per distinct pair and the postings are mapped through that cache in C."""
    terms = positive_terms(q)
    if terms is None:
        return None
    weighting = top_searcher.weighting
    leaves = dict((offset, leaf) for leaf, offset in top_searcher.leaf_searchers())
    heap: list[tuple[float, int]] = []
    for offset, docs, _ in matches.segments:
        leaf = leaves[offset]
        reader = leaf.reader()
        raws = [(t, _postings(reader, t.fieldname, t.text)) for t in terms]
        if any(raw is not None and (not isinstance(raw, W3LeafMatcher) or raw._byteids) for _, raw in raws):
            return None
        deleted = reader.deleted_docs_set if reader.has_deletions() else None
        scores: dict[int, float] = {}
        for term, raw in raws:
            if raw is None:
                continue
            lengths = lengths_of(leaf, term.fieldname)
            scorer = weighting.scorer(leaf, term.fieldname, term.text)
            score = lru_cache(maxsize=None)(lambda w, lb, s=scorer: s._score(w, byte_to_length(lb) if lb else 1))
            by_length = [score(1.0, lb) for lb in range(256)]  # most postings have weight 1

            def contributions(ids, weights):
                if weights is None:
                    return map(by_length.__getitem__, map(lengths.__getitem__, ids))
                return map(score, weights, map(lengths.__getitem__, ids))

            if type(q) is wq.Term:
                # every posting is a match (but the deleted ones): straight into the heap
                base = -offset
                items = chain.from_iterable(
                    zip(contributions(ids, weights), map(base.__sub__, ids))
                    for ids, weights in _blocks(raw)
                )
                if deleted:
                    items = ((sc, g) for sc, g in items if (-g - offset) not in deleted)
                heap = nlargest(limit, chain(heap, items))
            else:
                get = scores.get
                for ids, weights in _blocks(raw):
                    for d, c in zip(ids, contributions(ids, weights)):
                        if d in docs:
                            scores[d] = get(d, 0.0) + c
        if scores:
            heap = nlargest(limit, chain(heap, ((sc, -(offset + d)) for d, sc in scores.items())))
    return [(-g, sc) for sc, g in sorted(heap, reverse=True)]

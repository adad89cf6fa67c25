"""Which passages match a query, and the best of them: read from the posting blocks directly.

Counting and ranking every match through Whoosh's matchers costs a Python call per posting; here
the totals and per-episode counts come from sets of document numbers, decoded a posting block at a
time (in C, by itertools), combined with set algebra; phrases of three words or more are checked
on the positions of their bi-words in the candidate passages only; the ranking scores each
posting as Whoosh's BM25F does, through a per-length cache.
"""
import threading
from array import array
from bisect import bisect_right
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from heapq import nlargest
from itertools import accumulate, chain, compress
from pickle import loads

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

from app.search.analysis import TAIL_MARK


class ShinglePhrase(wq.Or):
    """A phrase of three words or more as bi-words at consecutive positions, the first one in the
    passage's own lines (so the overlap never yields a quote twice), the next ones in its own lines
    or its tail. As a plain Whoosh query it is the Or of every own/tail split of the bi-words."""

    def __init__(self, pairs: list[str]):
        self.pairs = list(pairs)
        options = [
            wq.Phrase("sh", pairs[:k] + [TAIL_MARK + p for p in pairs[k:]]) for k in range(len(pairs), 0, -1)
        ]
        super().__init__(options)

    def normalize(self):
        return self

    def forms(self, i: int) -> list[str]:
        """The index terms that may stand for the i-th bi-word."""
        return [self.pairs[i]] if i == 0 else [self.pairs[i], TAIL_MARK + self.pairs[i]]


def _raw(reader, fieldname: str, text: str):
    """The raw posting matcher of a term (deleted documents included), or None when absent."""
    if (fieldname, text) not in reader:
        return None
    matcher = reader.postings(fieldname, text)
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def _readable(raw) -> bool:
    return isinstance(raw, W3LeafMatcher) and not raw._byteids


def _blocks(raw, wanted: list[int] | None = None):
    """Each posting block of raw as (its docnums, raw positioned on it); with wanted (sorted
    docnums), only the blocks that may hold one of them are decoded (a block's header gives its
    last docnum)."""
    raw.reset()
    previous = -1
    n = len(wanted) if wanted is not None else 0
    while raw.is_active():
        last = raw._maxid
        if wanted is None or ((i := bisect_right(wanted, previous)) < n and wanted[i] <= last):
            if raw._data is None:
                raw._read_data()
            yield list(accumulate(raw._data[0])), raw  # ids are delta-encoded from 0 in each block
        if raw._lastblock or (wanted is not None and last >= wanted[-1]):
            break
        previous = last
        raw._next_block()


def _weights(raw):
    """The weights of the current block, or None when every weight is 1."""
    if raw._data[1] is None:
        return None
    raw._read_weights()
    return raw._weights


class DecodedPostings:
    """Decoded posting lists of frequent terms, shared by every query of the process.

    The common words ("c est", "pour") are the slow ones: their thousands of blocks are
    decompressed and unpickled on every query. A segment never changes once written (deletions are
    applied apart), so a term's decoded docnums and weights stay valid for the segment's life; the
    cache holds at most CAPACITY postings (4 bytes a docnum, 4 a weight), least recently used out."""

    MIN_POSTINGS = 2048  # rarer terms decode in well under a millisecond
    CAPACITY = 8_000_000

    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, reader, fieldname: str, text: str, raw):
        """[(docnums, weights or None when all are 1)] of each block, or None for a rare term."""
        if reader.doc_frequency(fieldname, text) < self.MIN_POSTINGS:
            return None
        key = (reader.segment().segment_id(), fieldname, text)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = [(array("I", ids), None if (w := _weights(r)) is None else array("f", w)) for ids, r in _blocks(raw)]
        size = sum(len(ids) for ids, _ in found)
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self._size += size
                while self._size > self.CAPACITY and len(self._items) > 1:
                    _, evicted = self._items.popitem(last=False)
                    self._size -= sum(len(ids) for ids, _ in evicted)
        return found


decoded = DecodedPostings()


def _term_docs(reader, fieldname: str, text: str) -> set[int]:
    raw = _raw(reader, fieldname, text)
    if raw is None:
        return set()
    if not _readable(raw):
        return set(reader.postings(fieldname, text).all_ids())
    docs: set[int] = set()
    cached = decoded.get(reader, fieldname, text, raw)
    for ids, _ in cached if cached is not None else _blocks(raw):
        docs.update(ids)
    if reader.has_deletions():
        docs -= reader.deleted_docs_set
    return docs


def _positions(value: bytes) -> list[int]:
    """Decode whoosh.formats.Positions: frequency (4 bytes), then the pickled position deltas."""
    return list(accumulate(loads(value[4:])))


def _phrase_docs(q: ShinglePhrase, reader) -> set[int]:
    """Passages where the bi-words stand at consecutive positions, the first in the own lines.

    The bi-words are read rarest first; once the candidates are few, a common bi-word's blocks that
    hold none of them are skipped unread. Positions are decoded for the candidates only."""
    n = len(q.pairs)
    raws = []
    for i in range(n):
        forms = [r for r in (_raw(reader, "sh", t) for t in q.forms(i)) if r is not None]
        if not forms:
            return set()
        if not all(_readable(r) for r in forms):
            return None
        raws.append((sum(reader.doc_frequency("sh", t) for t in q.forms(i)), i, forms))
    raws.sort()
    values: list[dict[int, list[bytes]]] = [{} for _ in range(n)]
    candidates: set[int] | None = None
    for _, i, forms in raws:
        wanted = sorted(candidates) if candidates is not None else None
        found: dict[int, list[bytes]] = {}
        for raw in forms:
            for ids, r in _blocks(raw, wanted):
                vals = r._data[2]
                if candidates is None:
                    pairs = zip(ids, vals)
                else:
                    pairs = compress(zip(ids, vals), map(candidates.__contains__, ids))
                for d, v in pairs:
                    if d in found:
                        found[d].append(v)
                    else:
                        found[d] = [v]
        values[i] = found
        candidates = set(found) if candidates is None else candidates & found.keys()
        if not candidates:
            return set()
    matched = set()
    offsets = list(range(1, n))
    for d in candidates:
        starts = _positions(values[0][d][0])
        rest = [set(p for v in values[i][d] for p in _positions(v)) for i in offsets]
        if any(all(s + i in rest[i - 1] for i in offsets) for s in starts):
            matched.add(d)
    if reader.has_deletions():
        matched -= reader.deleted_docs_set
    return matched


def segment_docs(q: wq.Query, searcher) -> set[int]:
    """The document numbers, local to this leaf searcher's segment, that match q."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return set()
    if type(q) is wq.Term:
        return _term_docs(searcher.reader(), q.fieldname, q.text)
    if type(q) is ShinglePhrase:
        found = _phrase_docs(q, searcher.reader())
        return found if found is not None else set(wq.Or(q.subqueries).docs(searcher))
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

    def among(self, episodes) -> "Matches":
        """The matches in these episodes only."""
        episodes = set(episodes)
        kept = Matches()
        for offset, docs, episode_of in self.segments:
            mine = {d for d in docs if episode_of[d] in episodes}
            if mine:
                kept.segments.append((offset, mine, episode_of))
        kept.per_episode = Counter({e: c for e, c in self.per_episode.items() if e in episodes})
        return kept


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
    """The terms that score a match (not the excluded ones); None for a query this module cannot rank."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return []
    if type(q) is wq.Term:
        return [q]
    if type(q) is ShinglePhrase:
        return [wq.Term("sh", t) for i in range(len(q.pairs)) for t in q.forms(i)]
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


def top_passages(q: wq.Query, top_searcher, matches: Matches, lengths_of, limit: int | None,
                 every_match: bool = True):
    """The limit best (global docnum, score) among the matches (all of them when limit is None),
    scored as Whoosh's BM25F scores them, best first; None when this module cannot rank q.

    every_match: matches holds every passage matching q (not a filtered part of them).
    A term's score depends only on its weight in the passage and the passage's length byte, so
    it is computed once per distinct pair and the postings are mapped through that cache in C."""
    terms = positive_terms(q)
    if terms is None:
        return None
    weighting = top_searcher.weighting
    leaves = dict((offset, leaf) for leaf, offset in top_searcher.leaf_searchers())
    heap: list[tuple[float, int]] = []
    top = (lambda items: nlargest(limit, items)) if limit is not None else list
    for offset, docs, _ in matches.segments:
        leaf = leaves[offset]
        reader = leaf.reader()
        raws = [(t, _raw(reader, t.fieldname, t.text)) for t in terms]
        if any(raw is not None and not _readable(raw) for _, raw in raws):
            return None
        deleted = reader.deleted_docs_set if reader.has_deletions() else None
        wanted = None
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

            if type(q) is wq.Term and every_match:
                cached = decoded.get(reader, term.fieldname, term.text, raw)
                # every posting is a match (but the deleted ones): straight into the heap
                base = -offset
                blocks = cached if cached is not None else ((ids, _weights(r)) for ids, r in _blocks(raw))
                items = chain.from_iterable(
                    zip(contributions(ids, weights), map(base.__sub__, ids)) for ids, weights in blocks
                )
                if deleted:
                    items = ((sc, g) for sc, g in items if (-g - offset) not in deleted)
                heap = top(chain(heap, items))
            else:
                # read only the blocks that hold matches when they are few beside the postings
                sparse = len(docs) * 16 < reader.doc_frequency(term.fieldname, term.text)
                if sparse and wanted is None:
                    wanted = sorted(docs)
                get = scores.get
                cached = None if sparse else decoded.get(reader, term.fieldname, term.text, raw)
                if cached is not None:
                    blocks = cached
                else:
                    blocks = ((ids, _weights(r)) for ids, r in _blocks(raw, wanted if sparse else None))
                for ids, weights in blocks:
                    hit = compress(zip(ids, contributions(ids, weights)), map(docs.__contains__, ids))
                    for d, c in hit:
                        scores[d] = get(d, 0.0) + c
        if scores:
            heap = top(chain(heap, ((sc, -(offset + d)) for d, sc in scores.items())))
    return [(-g, sc) for sc, g in sorted(heap, reverse=True)]

"""Which passages match a query, and the best of them: read from the posting blocks directly.

Counting and ranking every match through Whoosh's matchers costs a Python call per posting; here
the totals and per-episode counts come from sets of document numbers, decoded a posting block at a
time (in C, by itertools), combined with set algebra; phrases of three words or more are checked
on the positions of their bi-words in the candidate passages only; the ranking scores each
posting as Whoosh's BM25F does, through a cache by (weight, length byte) looked up in C.

Frequent terms and bi-words stay decoded in memory (DecodedPostings); a frequent term's postings
are also kept grouped by (weight, length byte), so that its best passages come from its best
groups without scoring every posting. A query's rarer terms are decoded once, for counting and
ranking both (Matches.read).
"""
import threading
import time
from array import array
from bisect import bisect_right
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from heapq import nlargest
from itertools import accumulate, chain, compress, repeat
from pickle import loads

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from app.search.analysis import TAIL_MARK


class ShinglePhrase(wq.Or):
    """A phrase of three words or more as bi-words at consecutive positions, the first one in the
    passage's own lines (so the overlap never yields a quote twice), the next ones in its own lines
    or its tail. As a plain Whoosh query it is the Or of every own/tail split of the bi-words."""

    def __init__(self, pairs: list[str]):
        self.pairs = list(pairs)
        self.weights: dict = {}  # segment id -> bi-word -> {docnum: weight} of the matches, once matched
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
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return None
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


_frequencies: dict[tuple[str, str, str], int] = {}


def _doc_frequency(reader, fieldname: str, text: str) -> int:
    """A term's number of postings in a segment (deletions not subtracted), read once: a segment
    never changes, and a prefix's 64 expansions ask for it several times per segment."""
    key = (reader.segment().segment_id(), fieldname, text)
    found = _frequencies.get(key)
    if found is None:
        if len(_frequencies) > 500_000:
            _frequencies.clear()
        found = _frequencies[key] = reader.doc_frequency(fieldname, text)
    return found


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
    applied apart), so a term's decoded docnums and weights stay valid for the segment's life, and
    so do a bi-word's positions and a term's postings grouped by (weight, length byte); the cache
    holds at most CAPACITY postings (4 bytes a docnum, 4 a weight; a position value counts as 8),
    least recently used out."""

    MIN_POSTINGS = 2048  # rarer terms decode in well under a millisecond
    CAPACITY = 8_000_000

    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._size = 0
        self._sizes: dict = {}
        self._lock = threading.Lock()

    def get(self, reader, fieldname: str, text: str, raw, values: bool = False):
        """[(docnums, weights or None when all are 1)] of each block, or None for a rare term;
        with values, [(docnums, encoded values)] instead (the positions of a bi-word)."""
        if _doc_frequency(reader, fieldname, text) < self.MIN_POSTINGS:
            return None
        key = (reader.segment().segment_id(), fieldname, text, values)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        if values:
            found = [(array("I", ids), list(r._data[2]), None if (w := _weights(r)) is None else array("f", w))
                     for ids, r in _blocks(raw)]
        else:
            found = [(array("I", ids), None if (w := _weights(r)) is None else array("f", w))
                     for ids, r in _blocks(raw)]
        size = sum(len(b[0]) for b in found) * (8 if values else 1)  # a value costs about 8 docnums
        self._put(key, found, size)
        return found

    def _put(self, key, found, size: int) -> None:
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self._sizes[key] = size
                self._size += size
                while self._size > self.CAPACITY and len(self._items) > 1:
                    evicted, _ = self._items.popitem(last=False)
                    self._size -= self._sizes.pop(evicted)

    def groups(self, reader, fieldname: str, text: str, blocks, lengths) -> list[tuple[float, int, array]]:
        """A cached term's docnums by (weight, length byte): [(weight, length byte, docnums)]."""
        key = (reader.segment().segment_id(), fieldname, text, "groups")
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        by: dict[tuple[float, int], array] = {}
        for ids, weights in blocks:
            for pair, d in zip(zip(weights if weights is not None else repeat(1.0), map(lengths.__getitem__, ids)), ids):
                group = by.get(pair)
                if group is None:
                    group = by[pair] = array("I")
                group.append(d)
        found = [(w, lb, docs) for (w, lb), docs in by.items()]
        self._put(key, found, sum(len(docs) for _, _, docs in found))
        return found

    def peek(self, reader, fieldname: str, text: str, values: bool = False):
        """What get() gives if this term is in the cache already, else None."""
        segment = reader.segment().segment_id()
        with self._lock:
            if values:
                return self._items.get((segment, fieldname, text, True))
            found = self._items.get((segment, fieldname, text, False))
            if found is None and (found := self._items.get((segment, fieldname, text, True))) is not None:
                found = [(ids, weights) for ids, _, weights in found]
        return found


decoded = DecodedPostings()


def _term_docs(reader, fieldname: str, text: str, read: dict | None = None) -> set[int]:
    """read: where to keep the decoded blocks of a term that is not in the shared cache, so that
    ranking the same query does not decode them again."""
    raw = _raw(reader, fieldname, text)
    if raw is None:
        return set()
    if not _readable(raw):
        return set(reader.postings(fieldname, text).all_ids())
    docs: set[int] = set()
    cached = decoded.get(reader, fieldname, text, raw)
    if cached is None and read is not None:
        cached = read[reader.segment().segment_id(), fieldname, text] = [
            (array("I", ids), _weights(r)) for ids, r in _blocks(raw)]
    for ids, _ in cached if cached is not None else _blocks(raw):
        docs.update(ids)
    if reader.has_deletions():
        docs -= reader.deleted_docs_set
    return docs


BLOCK = 128  # postings per block, Whoosh's default


def _value_blocks(reader, text: str, raw, wanted: list[int] | None):
    """(docnums, encoded positions) of each block of a bi-word that may hold one of wanted: from
    the shared cache for a frequent bi-word ("c est", "parce qu"), else decoded from the file."""
    # decode a whole list into the cache only when most of its blocks are read anyway: with as many
    # wanted passages as blocks (of up to BLOCK postings), about two blocks in three hold one
    whole = wanted is None or len(wanted) * BLOCK >= _doc_frequency(reader, "sh", text)
    cached = decoded.get(reader, "sh", text, raw, values=True) if whole else decoded.peek(
        reader, "sh", text, values=True)
    if cached is None:
        yield from ((ids, r._data[2]) for ids, r in _blocks(raw, wanted))
        return
    yield from ((ids, vals) for ids, vals, _ in _holding(cached, wanted))


def _holding(blocks, wanted: list[int] | None):
    """The decoded blocks that may hold one of wanted (sorted docnums); all of them for None."""
    if wanted is None:
        yield from blocks
        return
    previous, n = -1, len(wanted)
    for block in blocks:
        last = block[0][-1]
        if (i := bisect_right(wanted, previous)) < n and wanted[i] <= last:
            yield block
        if last >= wanted[-1]:
            break
        previous = last


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
        forms = [(t, r) for t, r in ((t, _raw(reader, "sh", t)) for t in q.forms(i)) if r is not None]
        if not forms:
            return set()
        if not all(_readable(r) for _, r in forms):
            return None
        raws.append((sum(_doc_frequency(reader, "sh", t) for t in q.forms(i)), i, forms))
    raws.sort()
    values: list[list[tuple[str, dict[int, bytes]]]] = [[] for _ in range(n)]  # per bi-word, per form
    candidates: set[int] | None = None
    for _, i, forms in raws:
        wanted = sorted(candidates) if candidates is not None else None
        found: set[int] = set()
        for text, raw in forms:
            got: dict[int, bytes] = {}
            for ids, vals in _value_blocks(reader, text, raw, wanted):
                pairs = zip(ids, vals)
                got.update(pairs if candidates is None else compress(pairs, map(candidates.__contains__, ids)))
            values[i].append((text, got))
            found |= got.keys()
        candidates = found if candidates is None else candidates & found
        if not candidates:
            return set()
    matched = set()
    offsets = list(range(1, n))
    first = values[0][0][1]
    for d in candidates:
        starts = _positions(first[d])
        rest = [set(p for _, got in values[i] if d in got for p in _positions(got[d])) for i in offsets]
        if any(all(s + i in rest[i - 1] for i in offsets) for s in starts):
            matched.add(d)
    if reader.has_deletions():
        matched -= reader.deleted_docs_set
    # the weight of each bi-word in each match (its frequency), so that ranking reads no block again
    q.weights[reader.segment().segment_id()] = {
        text: {d: float(int.from_bytes(got[d][:4], "big")) for d in matched if d in got}
        for forms in values for text, got in forms
    }
    return matched


class OutOfTime(Exception):
    """The deadline passed while a segment was read: its matches so far are not to be trusted."""


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline


def segment_docs(q: wq.Query, searcher, read: dict | None = None, deadline: float | None = None) -> set[int]:
    """The document numbers, local to this leaf searcher's segment, that match q.

    deadline (time.monotonic()): checked before each part of an And or an Or; OutOfTime once passed."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return set()
    if type(q) is wq.Term:
        return _term_docs(searcher.reader(), q.fieldname, q.text, read)
    if type(q) is ShinglePhrase:
        found = _phrase_docs(q, searcher.reader())
        return found if found is not None else set(wq.Or(q.subqueries).docs(searcher))
    if type(q) is wq.And:
        docs: set[int] | None = None
        for child in q.subqueries:
            if _late(deadline):
                raise OutOfTime
            found = segment_docs(child, searcher, read, deadline)
            docs = found if docs is None else docs & found
            if not docs:
                return set()
        return docs or set()
    if type(q) is wq.Or:
        docs = set()
        for child in q.subqueries:
            if _late(deadline):
                raise OutOfTime
            docs |= segment_docs(child, searcher, read, deadline)
        return docs
    if type(q) is wq.AndNot:
        docs = segment_docs(q.a, searcher, read, deadline)
        if docs and _late(deadline):
            raise OutOfTime
        return docs - segment_docs(q.b, searcher, None, deadline) if docs else docs
    return set(q.docs(searcher))


@dataclass
class Matches:
    """Matching passages of one query: per segment (offset, local docnums, episode of each docnum)."""

    segments: list[tuple[int, set[int], list[int]]] = field(default_factory=list)
    per_episode: Counter = field(default_factory=Counter)
    read: dict = field(default_factory=dict)  # decoded blocks of the rarer terms, for the ranking
    partial: bool = False  # the deadline passed before every segment was read

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
        kept.read = self.read
        kept.partial = self.partial
        return kept


def find_matches(q: wq.Query, segments, deadline: float | None = None) -> Matches:
    """segments: (leaf searcher, offset, episode id of each local docnum).

    deadline (time.monotonic()): once passed, the segments read whole so far, with partial set."""
    matches = Matches()
    for searcher, offset, episode_of in segments:
        if _late(deadline):
            matches.partial = True
            break
        try:
            docs = segment_docs(q, searcher, matches.read, deadline)
        except OutOfTime:
            matches.partial = True
            break
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
        found = self[key] = self.scorer._score(weight, byte_to_length(length_byte) if length_byte else 1)
        return found


def top_passages(q: wq.Query, top_searcher, matches: Matches, lengths_of, limit: int | None,
                 every_match: bool = True, deadline: float | None = None):
    """The limit best (global docnum, score) among the matches (all of them when limit is None),
    scored as Whoosh's BM25F scores them, best first; None when this module cannot rank q.

    every_match: matches holds every passage matching q (not a filtered part of them).
    A term's score depends only on its weight in the passage and the passage's length byte, so
    it is computed once per distinct pair and the postings are mapped through that cache in C.

    deadline (time.monotonic()): checked before each segment and each term; once passed, the best
    of what was scored so far (a passage may then miss the score of the terms left unread)."""
    terms = positive_terms(q)
    if terms is None:
        return None
    weighting = top_searcher.weighting
    leaves = dict((offset, leaf) for leaf, offset in top_searcher.leaf_searchers())
    heap: list[tuple[float, int]] = []
    top = (lambda items: nlargest(limit, items)) if limit is not None else list
    for offset, docs, _ in matches.segments:
        if _late(deadline):
            break
        leaf = leaves[offset]
        reader = leaf.reader()
        raws = [(t, _raw(reader, t.fieldname, t.text)) for t in terms]
        if any(raw is not None and not _readable(raw) for _, raw in raws):
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
            if _late(deadline):
                break
            lengths = lengths_of(leaf, term.fieldname)
            scorer = weighting.scorer(leaf, term.fieldname, term.text)
            by_pair = _Scores(scorer)
            by_length = _Scores(scorer, weight=1.0)  # most postings have weight 1

            def contributions(ids, weights):
                if weights is None:
                    return map(by_length.__getitem__, map(lengths.__getitem__, ids))
                return map(by_pair.__getitem__, zip(weights, map(lengths.__getitem__, ids)))

            if type(q) is wq.Term and every_match:
                cached = decoded.get(reader, term.fieldname, term.text, raw)
                # every posting is a match (but the deleted ones): straight into the heap
                base = -offset
                if cached is not None and limit is not None:
                    # a frequent term: its postings grouped by (weight, length byte), so the best
                    # are found group by group instead of scoring every posting
                    groups = decoded.groups(reader, term.fieldname, term.text, cached, lengths)
                    items = _best_of_groups(groups, by_pair, limit, base, deleted)
                else:
                    if cached is None:
                        cached = matches.read.get((reader.segment().segment_id(), term.fieldname, term.text))
                    blocks = cached if cached is not None else ((ids, _weights(r)) for ids, r in _blocks(raw))
                    items = chain.from_iterable(
                        zip(contributions(ids, weights), map(base.__sub__, ids)) for ids, weights in blocks
                    )
                    if deleted:
                        items = ((sc, g) for sc, g in items if (-g - offset) not in deleted)
                heap = top(chain(heap, items))
            elif known is not None:
                # a phrase of three words or more: its match kept each bi-word's weight
                mine = known.get(term.text, {})
                get = scores.get
                for d in docs & mine.keys():
                    scores[d] = get(d, 0.0) + by_pair[mine[d], lengths[d]]
            else:
                # read only the blocks that hold matches when they are few beside the postings
                sparse = len(docs) * 16 < _doc_frequency(reader, term.fieldname, term.text)
                if sparse and wanted is None:
                    wanted = sorted(docs)
                get = scores.get
                cached = decoded.peek(reader, term.fieldname, term.text) if sparse else \
                    decoded.get(reader, term.fieldname, term.text, raw)
                if cached is None:
                    cached = matches.read.get((reader.segment().segment_id(), term.fieldname, term.text))
                if cached is not None:
                    blocks = _holding(cached, wanted if sparse else None)
                else:
                    blocks = ((ids, _weights(r)) for ids, r in _blocks(raw, wanted if sparse else None))
                # a term's postings as a dict built in C; only the passages already scored by an
                # earlier term are summed in Python (few, for the expansions of a prefix)
                mine: dict[int, float] = {}
                for ids, weights in blocks:
                    pairs = zip(ids, contributions(ids, weights))
                    mine.update(pairs if all_match else compress(pairs, map(docs.__contains__, ids)))
                if scores:
                    for d in mine.keys() & scores.keys():
                        mine[d] += get(d)
                scores.update(mine)
        if all_match and deleted:
            for d in deleted:
                scores.pop(d, None)
        if scores:
            heap = top(chain(heap, zip(scores.values(), map((-offset).__sub__, scores.keys()))))
    return [(-g, sc) for sc, g in sorted(heap, reverse=True)]

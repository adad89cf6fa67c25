"""Which passages match a query: sets of document numbers from the posting lists, combined by set algebra.

Counting every match through Whoosh's matchers costs a Python call per posting; here the totals and
per-episode counts come from sets of document numbers, decoded a posting block at a time (in C, by
itertools), combined with set algebra; phrases of three words or more are checked on the positions
of their bi-words in the candidate passages only. Frequent terms come decoded from
postings.decoded; a query's rarer terms are decoded once, for counting and ranking both
(Matches.read). Without whoosh_internals.FAST, the same sets come from Whoosh's matchers.
"""

import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress, groupby

from whoosh import query as wq

from app.search import postings, whoosh_internals
from app.search.passages import BODY, LINES, SHINGLES, SPEAKER
from app.search.phrases import ShinglePhrase
from app.search.windows import WordsNear


def _term_docs(
    reader, fieldname: str, text: str, read: dict | None = None, within: list[int] | None = None
) -> set[int]:
    """read: where to keep the decoded blocks of a term that is not in the shared cache, so that
    ranking the same query does not decode them again.

    within (sorted docnums): only these are asked for; the blocks that hold none of them stay
    unread (the blocks kept in read are then only those, which holds every posting of them)."""
    raw = whoosh_internals.raw_postings(reader, fieldname, text)
    if raw is None:
        return set()
    if not whoosh_internals.readable(raw):
        docs: set[int] = set(reader.postings(fieldname, text).all_ids())
        return docs if within is None else docs.intersection(within)
    docs = set()
    if within is None:
        cached = postings.decoded.get(reader, fieldname, text, raw)
        if cached is None and read is not None:
            cached = read[reader.segment().segment_id(), fieldname, text] = postings.read_blocks(raw)
        for ids, _ in cached if cached is not None else whoosh_internals.blocks(raw):
            docs.update(ids)
    else:
        cached = postings.decoded.peek(reader, fieldname, text)
        if cached is not None:
            blocks = list(postings.holding(cached, within))
        else:
            blocks = postings.read_blocks(raw, within)
            if read is not None:
                read[reader.segment().segment_id(), fieldname, text] = blocks
        wanted = set(within)
        for ids, _ in blocks:
            docs.update(compress(ids, map(wanted.__contains__, ids)))
    if reader.has_deletions():
        docs -= reader.deleted_docs_set
    return docs


BLOCK = 128  # postings per block, Whoosh's default


def _value_blocks(reader, text: str, raw, wanted: list[int] | None):
    """(docnums, encoded positions) of each block of a bi-word that may hold one of wanted: from
    the shared cache for a frequent bi-word ("c est", "parce qu"), else decoded from the file."""
    # decode a whole list into the cache only when most of its blocks are read anyway: with as many
    # wanted passages as blocks (of up to BLOCK postings), about two blocks in three hold one
    whole = wanted is None or len(wanted) * BLOCK >= postings.doc_frequency(reader, SHINGLES, text)
    cached = (
        postings.decoded.get(reader, SHINGLES, text, raw, values=True)
        if whole
        else postings.decoded.peek(reader, SHINGLES, text, values=True)
    )
    if cached is None:
        yield from ((ids, whoosh_internals.block_values(r)) for ids, r in whoosh_internals.blocks(raw, wanted))
        return
    yield from ((ids, vals) for ids, vals, _ in postings.holding(cached, wanted))


def _phrase_docs(q: ShinglePhrase, reader, within: list[int] | None = None) -> set[int] | None:
    """Passages where the bi-words stand at consecutive positions, the first in the own lines;
    None when a bi-word's postings cannot be read here (Whoosh's phrase matcher then does it).

    The bi-words are read rarest first; once the candidates are few, a common bi-word's blocks that
    hold none of them are skipped unread. Positions are decoded for the candidates only.
    within (sorted docnums): the first candidates."""
    n = len(q.pairs)
    raws = []
    for i in range(n):
        forms = [
            (t, r)
            for t, r in ((t, whoosh_internals.raw_postings(reader, SHINGLES, t)) for t in q.forms(i))
            if r is not None
        ]
        if not forms:
            return set()
        if not all(whoosh_internals.readable(r) for _, r in forms):
            return None
        raws.append((sum(postings.doc_frequency(reader, SHINGLES, t) for t in q.forms(i)), i, forms))
    raws.sort()
    values: list[list[tuple[str, dict[int, bytes]]]] = [[] for _ in range(n)]  # per bi-word, per form
    candidates: set[int] | None = set(within) if within is not None else None
    for _, i, forms in raws:
        wanted = sorted(candidates) if candidates is not None else None
        found: set[int] = set()
        for text, raw in forms:
            got: dict[int, bytes] = {}
            for ids, vals in _value_blocks(reader, text, raw, wanted):
                pairs = zip(ids, vals, strict=True)
                got.update(pairs if candidates is None else compress(pairs, map(candidates.__contains__, ids)))
            values[i].append((text, got))
            found |= got.keys()
        candidates = found if candidates is None else candidates & found
        if not candidates:
            return set()
    assert candidates is not None  # a ShinglePhrase has two bi-words or more: the loop above ran
    matched = set()
    offsets = list(range(1, n))
    first = values[0][0][1]
    positions = whoosh_internals.positions
    for d in candidates:
        starts = positions(first[d])
        rest = [{p for _, got in values[i] if d in got for p in positions(got[d])} for i in offsets]
        if any(all(s + i in rest[i - 1] for i in offsets) for s in starts):
            matched.add(d)
    if reader.has_deletions():
        matched -= reader.deleted_docs_set
    # the weight of each bi-word in each match (its frequency), so that ranking reads no block again
    q.weights[reader.segment().segment_id()] = {
        text: {d: whoosh_internals.frequency(got[d]) for d in matched if d in got}
        for forms in values
        for text, got in forms
    }
    return matched


def _near_docs(q: WordsNear, reader, read: dict | None = None, within: list[int] | None = None) -> set[int]:
    """Passages that own a window of consecutive lines holding every word (windows.py).

    First the passages that may own one, from the words' BODY postings (no positions): each word
    stands in the passage's own lines or in the next passage's (its tail lies within them; the next
    document is the next passage of the same episode, or the episode's own, which holds no word),
    and the window's first word in its own lines. Then the stored lines of those few passages."""
    found = []
    for forms in q.words:
        docs: set[int] = set()
        for t in forms:
            docs |= _term_docs(reader, BODY, t, read, within)
        if not docs:
            return set()
        found.append(docs)
    found.sort(key=len)
    candidates = found[0] | {d - 1 for d in found[0]}
    for docs in found[1:]:
        candidates = {d for d in candidates if d in docs or d + 1 in docs}
    candidates = {d for d in candidates if any(d in docs for docs in found)}
    if within is not None:
        candidates.intersection_update(within)
    if reader.has_deletions():
        candidates -= reader.deleted_docs_set
    # every word in the passage's own lines: a window lies inside them (its span is read when the
    # ranking asks); else the passage's stored lines tell
    spans: dict[int, int | None] = {d: None for d in candidates if all(d in docs for docs in found)}
    lines = lines_column(reader)
    for d in candidates - spans.keys():
        window = q.window(lines, d)
        if window is not None:
            spans[d] = window[0]
    key = reader.segment().segment_id()
    q.spans[key], q.readers[key] = spans, lines
    return set(spans)


_lines_columns: dict[str, object] = {}


def lines_column(reader):
    """The LINES column of a segment, opened once (it reads the segment's offsets): a segment never changes."""
    key = reader.segment().segment_id()
    found = _lines_columns.get(key)
    if found is None:
        if len(_lines_columns) > 256:  # segments merged away since
            _lines_columns.clear()
        found = _lines_columns[key] = reader.column_reader(LINES)
    return found


class OutOfTime(Exception):
    """The deadline passed while a segment was read: its matches so far are not to be trusted."""


def late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline


def segment_docs(
    q: wq.Query, searcher, read: dict | None = None, deadline: float | None = None, within: list[int] | None = None
) -> set[int]:
    """The document numbers, local to this leaf searcher's segment, that match q.

    deadline (time.monotonic()): checked before each part of an And or an Or; OutOfTime once passed.
    within (sorted docnums): only these can match (one episode's passages); the posting blocks
    that hold none of them are not read."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return set()
    if type(q) is wq.Term:
        return _term_docs(searcher.reader(), q.fieldname, q.text, read, within)
    if type(q) is ShinglePhrase:
        found = _phrase_docs(q, searcher.reader(), within)
        if found is None:
            found = set(wq.Or(q.subqueries).docs(searcher))
            return found if within is None else found.intersection(within)
        return found
    if type(q) is WordsNear:
        return _near_docs(q, searcher.reader(), read, within)
    if type(q) is wq.And:
        docs: set[int] | None = None
        for child in q.subqueries:
            if late(deadline):
                raise OutOfTime
            found = segment_docs(child, searcher, read, deadline, within)
            docs = found if docs is None else docs & found
            if not docs:
                return set()
        return docs or set()
    if type(q) is wq.Or:
        docs = set()
        for child in q.subqueries:
            if late(deadline):
                raise OutOfTime
            docs |= segment_docs(child, searcher, read, deadline, within)
        return docs
    if type(q) is wq.AndNot:
        docs = segment_docs(q.a, searcher, read, deadline, within)
        if docs and late(deadline):
            raise OutOfTime
        return docs - segment_docs(q.b, searcher, None, deadline, within) if docs else docs
    docs = set(q.docs(searcher))
    return docs if within is None else docs.intersection(within)


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


_episode_runs: dict[str, dict[int, list[tuple[int, int]]]] = {}


def episode_docnums(reader, episode_of: list[int], episode: int) -> list[int]:
    """The local docnums of an episode's passages in a segment, sorted.

    An episode's passages are written together, so they form a run or a few; the runs of every
    episode are found once per segment (a segment never changes) by grouping equal neighbours in C."""
    key = reader.segment().segment_id()
    runs = _episode_runs.get(key)
    if runs is None:
        if len(_episode_runs) > 256:  # segments merged away since
            _episode_runs.clear()
        runs, start = {}, 0
        for eid, group in groupby(episode_of):
            end = start + len(list(group))
            runs.setdefault(eid, []).append((start, end))
            start = end
        _episode_runs[key] = runs
    return [d for start, end in runs.get(episode, ()) for d in range(start, end)]


def find_matches(
    q: wq.Query, segments, deadline: float | None = None, episode: int | None = None, speaker: int | None = None
) -> Matches:
    """segments: (leaf searcher, offset, episode id of each local docnum).

    deadline (time.monotonic()): once passed, the segments read whole so far, with partial set.
    episode (an episode id): the matches in that episode only, without reading the rest of the
    archive's postings. speaker (a person id): the passages that person says only."""
    matches = Matches()
    for searcher, offset, episode_of in segments:
        if late(deadline):
            matches.partial = True
            break
        within = None
        if episode is not None:
            within = episode_docnums(searcher.reader(), episode_of, episode)
            if not within:
                continue
        if speaker is not None:
            said = _term_docs(searcher.reader(), SPEAKER, str(speaker))
            within = sorted(said if within is None else said.intersection(within))
            if not within:
                continue
        try:
            docs = segment_docs(q, searcher, matches.read, deadline, within)
        except OutOfTime:
            matches.partial = True
            break
        if docs:
            matches.segments.append((offset, docs, episode_of))
            matches.per_episode.update(map(episode_of.__getitem__, docs))
    return matches

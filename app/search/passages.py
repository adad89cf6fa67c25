"""Cut an episode's caption lines into overlapping passages, the documents of the index."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import Any

from whoosh import columns, fields, formats
from whoosh.analysis import IDTokenizer
from whoosh.system import pack_uint

from app.search.analysis import ANALYSIS_VERSION, TAIL_MARK, body_terms, compounds, shingle, words

CORE_LINES = 6  # caption lines a passage owns (about 20 seconds of speech)
# Plain words match when they all fall within this many consecutive caption lines, whichever
# passages own them: a passage sees the lines of the next one that a window starting in its own
# lines can reach.
WINDOW_LINES = CORE_LINES
TAIL_LINES = WINDOW_LINES - 1
TAIL_WORDS = 12  # words borrowed from the next passage so a phrase can run across the boundary
MAX_PHRASE_WORDS = TAIL_WORDS + 1


class PreAnalysed(fields.FieldType):
    """A scorable field whose values arrive as lists of terms (analysis.py): index() counts them
    directly instead of running each one through a tokenizer, and shares the encoded bytes of
    equal terms and frequencies, so a full rebuild buffers more postings in the same memory.

    Postings are byte for byte what Whoosh's Frequency and Positions formats write."""

    def __init__(self, positions: bool):
        fmt = formats.Positions() if positions else formats.Frequency()
        super().__init__(fmt, IDTokenizer(), scorable=True, stored=False)
        self.positions = positions

    def index(self, value, **kwargs):
        if self.positions:
            where: dict[str, list[int]] = {}
            for i, term in enumerate(value):
                if term in where:
                    where[term].append(i)
                else:
                    where[term] = [i]
            for term, found in where.items():
                n = len(found)
                yield (
                    _term_bytes(term),
                    n,
                    _float(n),
                    _positions_value(found[0]) if n == 1 else self.format.encode(found),
                )
        else:
            counts: dict[str, int] = {}
            for term in value:
                counts[term] = counts.get(term, 0) + 1
            for term, n in counts.items():
                yield _term_bytes(term), n, _float(n), _FREQUENCY[n] if n < 256 else pack_uint(n)


_FREQUENCY = [pack_uint(n) for n in range(256)]
_FLOATS = [float(n) for n in range(256)]
_term_cache: dict[str, bytes] = {}


def _float(n: int) -> float:
    return _FLOATS[n] if n < 256 else float(n)


def _term_bytes(term: str) -> bytes:
    found = _term_cache.get(term)
    if found is None:
        if len(_term_cache) > 2_000_000:
            _term_cache.clear()
        found = _term_cache[term] = term.encode("utf-8")
    return found


@lru_cache(maxsize=4096)
def _positions_value(position: int) -> bytes:
    return formats.Positions().encode([position])


# What the documents are made of: raised whenever the fields or the analysis change, so that an
# index written the old way is rebuilt (SearchIndex.index_pending) instead of being mixed with new
# documents. 4: the LINES of each passage, as a column. 5: passages cut at speaker changes, with
# their SPEAKER. The analysis has its own version (singular before the stem). An editor's correction
# did not raise it: the documents of lines never corrected are what they were (no rebuild at the
# upgrade), and an edited episode's stamp changes with its edits (index.episode_stamps).
LAYOUT = f"5.{ANALYSIS_VERSION}"

# The index's fields, named once: every query, reader and writer uses these names.
KEY = "key"  # "EPISODE:N" for passage N, "EPISODE:episode" for the episode's stamp document
EPISODE = "episode"  # the episode id, on every document
KIND = "kind"  # "passage" or "episode"
# plain words, stemmed, no stop words, from the passage's own lines only: one hit per occurrence
BODY = "body"
# folded unstemmed words of the own lines: quoted single words, prefixes, fuzzy words, suggestions
EXACT = "exact"
# bi-words (shingles) whose first word is in the own lines, then TAIL_MARK-ed bi-words of the tail:
# a phrase must start in the own lines, so the overlap never yields the same quote twice
SHINGLES = "sh"
FIRST = "first"  # stored: position of the passage's first caption line
STARTS = "starts"  # stored: start second of each of its own lines
STAMP = "stamp"  # stored, on the episode document: what the index was built from
# a column of UTF-8 text: the plain words (stems) of each own line, then of the TAIL_LINES next
# ones, a line per line: where a window of words starts and ends, read for the few passages that
# may hold one (a column, so that reading one costs a slice, not the passage's stored fields)
LINES = "lines"
# Before LINES, "=N\n" when a passage owns N < CORE_LINES lines and more follow it (a turn ended):
# a window that starts after its N own lines is its neighbour's. Never a word's first character.
OWN_MARK = "="
# the id of the person who says the passage's lines (a passage never spans two speakers), when
# the lines are linked to one: the "dit par" filter (speaker=SLUG)
SPEAKER = "speaker"


def make_schema() -> fields.Schema:
    return fields.Schema(
        **{
            KEY: fields.ID(unique=True, stored=True),
            EPISODE: fields.ID(stored=True, sortable=True),
            KIND: fields.ID(),
            BODY: PreAnalysed(positions=False),
            EXACT: PreAnalysed(positions=False),
            SHINGLES: PreAnalysed(positions=True),
            FIRST: fields.STORED,
            STARTS: fields.STORED,
            STAMP: fields.STORED,
            LINES: fields.COLUMN(columns.VarBytesColumn()),
            SPEAKER: fields.ID(),
        }
    )


@dataclass
class Passage:
    number: int
    first: int  # caption line position
    starts: list[float]
    body: list[str]
    exact: list[str]
    shingles: list[str]
    window: list[list[str]]  # body terms of each own line, then of each of the TAIL_LINES next lines
    speaker: int | None = None  # the person who says its lines, when they are linked to one


def cut_passages(lines: Sequence[tuple[Any, ...]]) -> list[Passage]:
    """lines: (position, start, text), optionally followed by the person id of the speaker and the
    machine's text of a line an editor corrected (None when never corrected), in order.
    Returns the passages, each owning CORE_LINES lines, or fewer where the speaker changes: one
    person's words are one person's passages.

    A corrected line is found by its words as corrected and by the machine's words it replaced (the
    old spelling of a name still finds it); quoted phrases match either version of the passage."""
    line_words = [words(text) for _, _, text, *_ in lines]
    # "e-mail" is also searched as "email": glued forms join a line's words, never its bi-words
    line_glued = [compounds(text) for _, _, text, *_ in lines]
    machine = [line[4] if len(line) > 4 else None for line in lines]
    machine_words = [words(text) if text is not None else None for text in machine]
    replaced = [
        [w for w in old + compounds(text) if w not in set(ws + gs)] if old is not None and text is not None else []
        for old, text, ws, gs in zip(machine_words, machine, line_words, line_glued, strict=True)
    ]
    line_terms = [body_terms(ws + gs + old) for ws, gs, old in zip(line_words, line_glued, replaced, strict=True)]
    passages = []
    spans = list(_spans(lines))
    for number, (lo, hi, speaker) in enumerate(spans):
        # a window reaches into the next passage only (matching._near_docs looks one passage on),
        # which a turn may cut shorter than TAIL_LINES
        reach = spans[number + 1][1] if number + 1 < len(spans) else len(lines)
        shingles, core_lines = _shingles(line_words, lo, hi)
        if any(old is not None for old in machine_words[lo:core_lines]):
            # the passage as the machine wrote it, its bi-words after the corrected ones': a phrase
            # never runs from one version into the other (it would go from a tail back to own lines)
            shingles += _shingles([old or ws for old, ws in zip(machine_words, line_words, strict=True)], lo, hi)[0]
        core = [w for ws in line_words[lo:hi] for w in ws]
        passages.append(
            Passage(
                number=number,
                first=lines[lo][0],
                starts=[start for _, start, *_ in lines[lo:hi]],
                body=[t for terms in line_terms[lo:hi] for t in terms],
                exact=core + [g for gs in line_glued[lo:hi] for g in gs] + [w for ws in replaced[lo:hi] for w in ws],
                shingles=shingles,
                window=[line_terms[i] for i in range(lo, min(hi + TAIL_LINES, reach))],
                speaker=speaker,
            )
        )
    return passages


def _shingles(line_words: list[list[str]], lo: int, hi: int) -> tuple[list[str], int]:
    """The bi-words of the passage that owns lines lo to hi (excluded), then TAIL_MARK-ed ones of
    its tail: the first TAIL_WORDS words of the next lines. And the end of the lines they read."""
    core = [w for ws in line_words[lo:hi] for w in ws]
    tail: list[str] = []
    end = hi
    for ws in line_words[hi:]:
        tail.extend(ws)
        end += 1
        if len(tail) >= TAIL_WORDS:
            break
    tail = tail[:TAIL_WORDS]
    run = core + tail
    shingles = [shingle(run[j], run[j + 1]) for j in range(min(len(core), len(run) - 1))]
    shingles += [TAIL_MARK + shingle(run[j], run[j + 1]) for j in range(len(core), len(run) - 1)]
    return shingles, end


def _spans(lines: Sequence[tuple[Any, ...]]):
    """(first, end, speaker) of each passage: runs of CORE_LINES lines within each speaker's turn."""
    lo = 0
    for speaker, turn in groupby(line[3] if len(line) > 3 else None for line in lines):
        end = lo + sum(1 for _ in turn)
        for first in range(lo, end, CORE_LINES):
            yield first, min(first + CORE_LINES, end), speaker
        lo = end


def _own_mark(p: Passage) -> bytes:
    own = len(p.starts)
    return f"{OWN_MARK}{own}\n".encode() if own < CORE_LINES and len(p.window) > own else b""


def passage_documents(episode_id: int, stamp: str, passages: list[Passage]):
    """The whoosh documents of one episode: its passages, then the episode document with its stamp."""
    eid = str(episode_id)
    for p in passages:
        yield {
            KEY: f"{eid}:{p.number}",
            EPISODE: eid,
            KIND: "passage",
            BODY: p.body,
            EXACT: p.exact,
            SHINGLES: p.shingles,
            LINES: _own_mark(p) + "\n".join(" ".join(terms) for terms in p.window).encode("utf-8"),
            FIRST: p.first,
            STARTS: p.starts,
            **({SPEAKER: str(p.speaker)} if p.speaker is not None else {}),
        }
    yield {KEY: f"{eid}:episode", EPISODE: eid, KIND: "episode", STAMP: stamp}

"""Cut an episode's caption lines into overlapping passages, the documents of the index."""
from dataclasses import dataclass

from whoosh import fields, formats
from whoosh.analysis import IDTokenizer

from app.search.analysis import TAIL_MARK, body_terms, shingle, words

CORE_LINES = 6  # caption lines a passage owns (about 20 seconds of speech)
TAIL_WORDS = 12  # words borrowed from the next passage so a phrase can run across the boundary
MAX_PHRASE_WORDS = TAIL_WORDS + 1


def _text_field(positions: bool) -> fields.FieldType:
    # Values always arrive pre-analysed as lists of terms (analysis.py), so the analyzer is unused.
    fmt = formats.Positions() if positions else formats.Frequency()
    return fields.FieldType(fmt, IDTokenizer(), scorable=True, stored=False)


def make_schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(unique=True, stored=True),  # "EPISODE:N" for passage N, "EPISODE:episode" for the stamp
        episode=fields.ID(stored=True, sortable=True),
        kind=fields.ID(),  # "passage" or "episode"
        # plain words, stemmed, no stop words, from the passage's own lines only: one hit per occurrence
        body=_text_field(positions=False),
        # folded unstemmed words of the own lines: quoted single words, prefixes, fuzzy words, suggestions
        exact=_text_field(positions=False),
        # bi-words (shingles) whose first word is in the own lines, then TAIL_MARK-ed bi-words of the tail:
        # a phrase must start in the own lines, so the overlap never yields the same quote twice
        sh=_text_field(positions=True),
        first=fields.STORED,  # position of the passage's first caption line
        starts=fields.STORED,  # start second of each of its own lines
        stamp=fields.STORED,  # on the episode document: what the index was built from
    )


@dataclass
class Passage:
    number: int
    first: int  # caption line position
    starts: list[float]
    body: list[str]
    exact: list[str]
    shingles: list[str]


def cut_passages(lines: list[tuple[int, float, str]]) -> list[Passage]:
    """lines: (position, start, text) in order. Returns the passages, each owning CORE_LINES lines."""
    line_words = [words(text) for _, _, text in lines]
    passages = []
    for number, lo in enumerate(range(0, len(lines), CORE_LINES)):
        hi = min(lo + CORE_LINES, len(lines))
        core = [w for ws in line_words[lo:hi] for w in ws]
        tail: list[str] = []
        for ws in line_words[hi:]:
            tail.extend(ws)
            if len(tail) >= TAIL_WORDS:
                break
        tail = tail[:TAIL_WORDS]
        run = core + tail
        shingles = [shingle(run[j], run[j + 1]) for j in range(min(len(core), len(run) - 1))]
        shingles += [TAIL_MARK + shingle(run[j], run[j + 1]) for j in range(len(core), len(run) - 1)]
        passages.append(
            Passage(
                number=number,
                first=lines[lo][0],
                starts=[start for _, start, _ in lines[lo:hi]],
                body=body_terms(core),
                exact=core,
                shingles=shingles,
            )
        )
    return passages


def passage_documents(episode_id: int, stamp: str, passages: list[Passage]):
    """The whoosh documents of one episode: its passages, then the episode document with its stamp."""
    eid = str(episode_id)
    for p in passages:
        yield dict(
            key=f"{eid}:{p.number}", episode=eid, kind="passage", body=p.body, exact=p.exact,
            sh=p.shingles, first=p.first, starts=p.starts,
        )
    yield dict(key=f"{eid}:episode", episode=eid, kind="episode", stamp=stamp)

"""Measure how often the search finds quotes people remember, quoted and unquoted; prints a table, asserts nothing.

    .venv/bin/python -m bench.quality [--size 240] [--seed 1] [--misses] [--seeds seeds]

The archive: the seed transcripts (and their sidecars) through the real ingest (`ingest_paths`, what
`plateau ingest seeds` runs) into a temporary data folder; the caption lines are then read back
from its database, so quotes are cut from exactly what the search indexed.

The quotes, drawn with a seeded generator (the same --seed and --size give the same quotes; change
--seed to draw others: nothing is tuned against a fixed list): runs of 5 to 8 consecutive words of
one episode's caption lines, with at least 3 words that are not stop words (app.search.analysis),
found nowhere else in the archive (a quote that occurs twice has no single right answer). Three
kinds, by quota: within one caption line (45 %), across caption lines inside one passage (30 %),
across a passage boundary (25 %: lines 6k-1 → 6k, where a passage's CORE_LINES lines end).

Two queries per quote:
- quoted: the quote's text between double quotes, as copied from the transcript;
- unquoted: 3 or 4 of its words that are not stop words, drawn at random, in order and lower
  case, as a person types the words they remember (never a piece of a compound: not the
  "aujourd" of aujourd'hui nor the "être" of peut-être; the word after an elision, l'intelligence,
  is typed without it).

Three measures per query, each one stricter than the one before; a hit's passage is the block of
CORE_LINES caption lines holding the line it is stamped at:
- top 10: a hit on one of the quote's passages (same episode, its stamped line in a passage the
  quote's lines belong to) is among the first 10 hits in the order shown (episode groups in order,
  each group's hits in order);
- in the quote: the first such hit is stamped within the quote's seconds, from the start of its
  first line to the start of its last line;
- exact line: that hit is stamped at the line where the quote's first remembered word is: the
  quote's first line when quoted; unquoted, the first line of the quote holding a typed word
  (by stem, as the search matches plain words).
"""

import argparse
import itertools
import random
import sys
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from app.config import Settings
from app.db import get_engine
from app.models import CaptionLine, Episode
from app.search import SearchRequest, get_search_index
from app.search.analysis import ELISIONS, STOP_WORDS, WORD, fold, stem
from app.search.passages import CORE_LINES
from app.search.service import Hit, run_search
from app.services.ingest import ingest_paths
from app.startup import prepare_data
from app.timecodes import format_timestamp

ROOT = Path(__file__).resolve().parent.parent
TOP = 10  # hits a person reads before giving up
MIN_WORDS, MAX_WORDS = 5, 8  # words in a quote
MIN_CONTENT = 3  # words of a quote that are not stop words
TYPED = (3, 4)  # words typed for an unquoted query
KINDS = [  # (name, share of the sample)
    ("une ligne", 0.45),
    ("entre lignes", 0.30),
    ("entre passages", 0.25),
]
QUERY_KINDS = ("avec guillemets", "sans guillemets")
GLUE = ("'", "’", "-")  # between two words, they make one thing to type: aujourd'hui, peut-être
QUOTE_MARKS = str.maketrans(dict.fromkeys('"«»“”', " "))


@dataclass
class Word:
    line: int  # index of its caption line in the episode (the line's position)
    text: str  # as written
    folded: str
    start: int  # character offsets in its line's text
    end: int
    typeable: bool = True  # False for a piece of a compound (aujourd'hui, peut-être): typed whole, not alone


@dataclass
class Transcript:
    slug: str
    positions: list[int]
    starts: list[float]
    texts: list[str]
    words: list[Word]
    first_word: list[int | None]  # per line: index in words of its first word, None for a line without one
    folded_text: str  # " w1 w2 ... ": to count a quote's occurrences


@dataclass
class Quote:
    transcript: Transcript
    first: int  # index in transcript.words
    size: int
    kind: str
    typed: list[int] = field(default_factory=list)  # indexes in transcript.words of the typed words

    @property
    def words(self) -> list[Word]:
        return self.transcript.words[self.first : self.first + self.size]

    @property
    def lines(self) -> range:
        return range(self.words[0].line, self.words[-1].line + 1)

    @property
    def passages(self) -> set[int]:
        return {line // CORE_LINES for line in self.lines}

    def quoted(self) -> str:
        by_line: dict[int, list[Word]] = {}
        for w in self.words:
            by_line.setdefault(w.line, []).append(w)
        pieces = [self.transcript.texts[li][ws[0].start : ws[-1].end] for li, ws in by_line.items()]
        return '"' + " ".join(" ".join(pieces).translate(QUOTE_MARKS).split()) + '"'

    def unquoted(self) -> str:
        return " ".join(self.transcript.words[i].text.lower() for i in self.typed)

    def expected_line(self, quoted: bool) -> int:
        if quoted:
            return self.words[0].line
        typed = {stem(self.transcript.words[i].folded) for i in self.typed}
        return next(w.line for w in self.words if w.folded not in STOP_WORDS and stem(w.folded) in typed)


# --- the archive --------------------------------------------------------------------------------


def build_archive(seeds: Path, data_dir: Path) -> tuple[Settings, list[Transcript]]:
    settings = Settings(data_dir=data_dir)
    prepare_data(settings)
    with Session(get_engine(settings)) as session:
        outcomes = ingest_paths(session, [seeds], index=get_search_index(settings))
        failed = [(o.source, o.reason) for o in outcomes if o.status != "added" or not o.searchable]
        if failed or not outcomes:
            raise SystemExit(f"l'ingestion de {seeds} a échoué : {failed or 'aucun fichier'}")
        transcripts = []
        for eid, slug in session.exec(select(Episode.id, Episode.slug).order_by(col(Episode.id))):
            rows = session.exec(
                select(CaptionLine.position, CaptionLine.start, CaptionLine.text)
                .where(CaptionLine.episode_id == eid)
                .order_by(col(CaptionLine.position))
            ).all()
            transcripts.append(transcript_of(slug, list(rows)))
    return settings, transcripts


def transcript_of(slug: str, rows: Sequence[tuple[int, float, str]]) -> Transcript:
    positions = [p for p, _, _ in rows]
    # passages are cut by index in the episode's lines (cut_passages): positions must be those indexes
    assert positions == list(range(len(rows))), f"{slug}: caption line positions are not 0..n-1"
    words: list[Word] = []
    first_word: list[int | None] = []
    texts = [unicodedata.normalize("NFC", t) for _, _, t in rows]
    for li, text in enumerate(texts):
        first_word.append(len(words) if WORD.search(text) else None)
        found = [Word(li, m.group(), fold(m.group()), m.start(), m.end()) for m in WORD.finditer(text)]
        for before, after in itertools.pairwise(found):
            joiner = text[before.end : after.start]
            if joiner in GLUE:
                before.typeable = False  # aujourd', peut-
                after.typeable = before.folded in ELISIONS and joiner != "-"  # l'intelligence, not -être
        words.extend(found)
    folded_text = " " + " ".join(w.folded for w in words) + " "
    return Transcript(slug, positions, [s for _, s, _ in rows], texts, words, first_word, folded_text)


# --- the sample ---------------------------------------------------------------------------------


def kind_of(first_line: int, last_line: int) -> str:
    if first_line == last_line:
        return "une ligne"
    if first_line // CORE_LINES != last_line // CORE_LINES:
        return "entre passages"
    return "entre lignes"


def occurrences(text: str, needle: str) -> int:
    """How many times needle is in text, overlaps counted (a line said twice in a row shares a space)."""
    count, at = 0, text.find(needle)
    while at >= 0:
        count += 1
        at = text.find(needle, at + 1)
    return count


def draw_quote(rng: random.Random, transcripts: list[Transcript], kind: str) -> Quote | None:
    """One candidate quote of this kind, or None when the draw does not fit (the caller draws again)."""
    t = rng.choices(transcripts, [len(t.words) for t in transcripts])[0]
    size = rng.randint(MIN_WORDS, MAX_WORDS)
    if kind == "une ligne":
        line = t.words[rng.randrange(len(t.words))].line
        lo = t.first_word[line]
        assert lo is not None  # the line of a drawn word has words
        hi = lo
        while hi < len(t.words) and t.words[hi].line == line:
            hi += 1
        if hi - lo < size:
            return None
        first = rng.randint(lo, hi - size)
    else:
        if kind == "entre passages":
            line = CORE_LINES * rng.randint(1, max(1, (len(t.texts) - 1) // CORE_LINES))
        else:
            line = rng.randrange(1, len(t.texts))
            if line % CORE_LINES == 0:
                return None
        if line >= len(t.texts) or (boundary := t.first_word[line]) is None:
            return None
        first = boundary - rng.randint(1, size - 1)  # at least one word on each side of the line break
    if first < 0 or first + size > len(t.words):
        return None
    quote = Quote(t, first, size, kind)
    words = quote.words
    if kind_of(words[0].line, words[-1].line) != kind:
        return None
    if sum(w.folded not in STOP_WORDS for w in words) < MIN_CONTENT:
        return None
    content = [first + i for i, w in enumerate(words) if w.folded not in STOP_WORDS and w.typeable]
    if len(content) < min(TYPED):
        return None
    needle = " " + " ".join(w.folded for w in words) + " "
    if sum(occurrences(other.folded_text, needle) for other in transcripts) != 1:
        return None  # said twice in the archive: no single right answer
    typed = rng.choice(TYPED)
    quote.typed = sorted(rng.sample(content, min(typed, len(content))))
    return quote


def sample_quotes(transcripts: list[Transcript], size: int, seed: int) -> list[Quote]:
    rng = random.Random(seed)
    quotas = {kind: round(size * share) for kind, share in KINDS}
    quotas[KINDS[0][0]] += size - sum(quotas.values())
    quotes: list[Quote] = []
    taken: set[tuple[str, int, int]] = set()
    attempts = 0
    while any(quotas.values()):
        attempts += 1
        if attempts > 1000 * size:
            raise SystemExit(f"impossible de tirer {size} citations de ces transcriptions : {quotas} manquent")
        kind = next(k for k, _ in KINDS if quotas[k])  # one kind after the other: the draws stay reproducible
        quote = draw_quote(rng, transcripts, kind)
        if quote is None:
            continue
        key = (quote.transcript.slug, quote.first, quote.size)
        if key in taken:
            continue
        taken.add(key)
        quotes.append(quote)
        quotas[kind] -= 1
    return quotes


# --- the measures -------------------------------------------------------------------------------


@dataclass
class Outcome:
    quote: Quote
    query_kind: str
    query: str
    hits: list[Hit]
    error: str | None
    rank: int | None = None  # 1-based rank of the first hit on the quote's passages in the top 10
    inside: bool = False
    exact: bool = False

    @property
    def found(self) -> Hit | None:
        return self.hits[self.rank - 1] if self.rank else None


def measure(index, session: Session, quote: Quote, query_kind: str) -> Outcome:
    quoted = query_kind == QUERY_KINDS[0]
    query = quote.quoted() if quoted else quote.unquoted()
    results = run_search(index, session, SearchRequest(q=query))
    outcome = Outcome(quote, query_kind, query, results.hits[:TOP], results.error)
    t = quote.transcript
    lines = quote.lines
    for rank, hit in enumerate(outcome.hits, 1):
        if hit.episode.slug == t.slug and hit.position // CORE_LINES in quote.passages:
            outcome.rank = rank
            outcome.inside = t.starts[lines[0]] <= hit.start <= t.starts[lines[-1]]
            outcome.exact = hit.position == quote.expected_line(quoted)
            break
    return outcome


# --- the report ---------------------------------------------------------------------------------


def percent(n: int, total: int) -> str:
    share = f"{100 * n / total:.1f}".replace(".", ",") if total else "—"
    return f"{n}/{total} ({share} %)"


def table(outcomes: list[Outcome]) -> list[str]:
    header = ["requête", "citations", "passage dans le top 10", "horodatage dans la citation", "ligne exacte"]
    rows = []
    for query_kind in QUERY_KINDS:
        mine = [o for o in outcomes if o.query_kind == query_kind]
        for label, part in [("toutes", mine)] + [(k, [o for o in mine if o.quote.kind == k]) for k, _ in KINDS]:
            n = len(part)
            rows.append(
                [
                    query_kind if label == "toutes" else "",
                    f"{label} ({n})",
                    percent(sum(o.rank is not None for o in part), n),
                    percent(sum(o.inside for o in part), n),
                    percent(sum(o.exact for o in part), n),
                ]
            )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)]


def misses(outcomes: list[Outcome], transcripts: list[Transcript]) -> list[str]:
    """Each query whose exact line was missed: the quote, the line expected, the stamped line shown first."""
    by_slug = {t.slug: t for t in transcripts}

    def line(hit: Hit) -> str:
        shown = by_slug[hit.episode.slug].texts[hit.position]
        return f"{hit.episode.slug} ligne {hit.position} ({format_timestamp(hit.start)}) « {shown[:100]} »"

    out = []
    for o in outcomes:
        if o.exact:
            continue
        q, t = o.quote, o.quote.transcript
        expected = q.expected_line(o.query_kind == QUERY_KINDS[0])
        out.append(f"- [{o.query_kind}, {q.kind}] {o.query}")
        out.append(f"    citation : {t.slug} lignes {q.lines[0]}-{q.lines[-1]} {q.quoted()}")
        out.append(f"    attendu : ligne {expected} ({format_timestamp(t.starts[expected])})")
        if o.error:
            out.append(f"    erreur : {o.error}")
        elif not o.hits:
            out.append("    aucun résultat")
        else:
            out.append(f"    en tête : {line(o.hits[0])}")
            if o.found is None:
                out.append(f"    aucun des {len(o.hits)} résultats lus n'est sur un passage de la citation")
            elif o.rank != 1:
                out.append(f"    sur son passage, rang {o.rank} : {line(o.found)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=240, help="citations tirées")
    parser.add_argument("--seed", type=int, default=1, help="graine du tirage")
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="dossier des transcriptions")
    parser.add_argument("--misses", action="store_true", help="liste aussi chaque requête manquée")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="plateau-quality-") as tmp:
        start = time.perf_counter()
        settings, transcripts = build_archive(args.seeds, Path(tmp) / "data")
        ingest_s = time.perf_counter() - start
        print(f"archive : {len(transcripts)} épisodes ingérés en {ingest_s:.1f} s", file=sys.stderr)
        quotes = sample_quotes(transcripts, args.size, args.seed)
        index = get_search_index(settings)
        start = time.perf_counter()
        with Session(get_engine(settings)) as session:
            outcomes = [measure(index, session, q, kind) for kind in QUERY_KINDS for q in quotes]
        search_s = time.perf_counter() - start
        get_engine(settings).dispose()

    lines = sum(len(t.texts) for t in transcripts)
    print(
        f"Qualité de la recherche : {len(quotes)} citations tirées de {len(transcripts)} épisodes "
        f"({lines} lignes) de {args.seeds.name}/, graine {args.seed}\n"
    )
    print("\n".join(table(outcomes)))
    print(
        f"\n{len(outcomes)} requêtes en {search_s:.1f} s ({1000 * search_s / len(outcomes):.0f} ms en moyenne) ; "
        f"ingestion {ingest_s:.1f} s.\n"
        "Objectifs : sans guillemets, top 10 et horodatage dans la citation ≥ 97 %, ligne exacte ≥ 90 % ; "
        "avec guillemets, 100 %."
    )
    if args.misses:
        missed = misses(outcomes, transcripts)
        print(f"\nRequêtes manquées (ligne exacte) : {sum(not o.exact for o in outcomes)}\n")
        print("\n".join(missed))


if __name__ == "__main__":
    main()

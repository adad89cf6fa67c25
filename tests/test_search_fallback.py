"""With whoosh_internals off (another Whoosh version installed), search reads the index through
Whoosh's public API only, and finds, counts and ranks exactly what the fast path does."""

import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from app.models import CaptionLine, Episode, Person, Show
from app.search import SearchRequest, postings, whoosh_internals
from app.search.analysis import words
from app.search.passages import BODY, EXACT, SHINGLES

ROOT = Path(__file__).resolve().parent.parent

QUERIES = [
    # words, stems, elisions
    "cloud",
    "souveraineté",
    "données",
    "intelligence artificielle",
    "l'intelligence",
    "5G",
    "quantique",
    # phrases of two words, of three or more, of frequent bi-words
    '"souveraineté numérique"',
    '"intelligence artificielle"',
    '"protection des données"',
    '"c est"',
    '"parce que"',
    '"il y a"',
    '"on va parler de"',
    '"c est vrai que"',
    # prefixes and fuzzy words
    "numéri*",
    "souv*",
    "co*",
    "intel*",
    "Keepit~",
    "souvreaineté~",
    "kipit~1",
    "donnes~",
    # booleans, groups, exclusions
    "cloud OR IA",
    "cloud NOT Amazon",
    "cloud -Amazon",
    "souveraineté -(numérique OR européenne)",
    "(données OR souveraineté) -cloud",
    'souveraineté -"souveraineté numérique"',
    "pa* OR co* OR de*",
    "souveraineté OR (cloud européen)",
    "(cloud amazon) OR numérique",
    '"le cloud" OR "il y a"',
    # nothing found: a suggestion, or nothing at all
    "souvreaineté numerique",
    "zzzzqqq",
]


def phrases_across_lines(session) -> list[str]:
    """Phrases of two, three and four words that run from a caption line into the next, one of
    them across the end of a passage (its sixth line), taken from each seeded episode."""
    found = []
    for episode_id in session.exec(select(Episode.id).order_by(Episode.id)).all():
        lines = [
            words(t)
            for t in session.exec(
                select(CaptionLine.text).where(CaptionLine.episode_id == episode_id).order_by(CaptionLine.position)
            )
        ]
        for size, (before, after), every in [(2, (1, 1), 4), (3, (2, 1), 3), (4, (2, 2), 6)]:
            for i in range(41 if size != 4 else 47, len(lines) - 1, every):  # 47: the last line of a passage
                if len(lines[i]) >= before and len(lines[i + 1]) >= after:
                    found.append('"' + " ".join(lines[i][-before:] + lines[i + 1][:after]) + '"')
                    break
    return found


def requests(session) -> list[SearchRequest]:
    show = session.exec(select(Show.slug).order_by(Show.slug)).first()
    guest = session.exec(select(Person.slug).order_by(Person.slug)).first()
    episodes = session.exec(select(Episode.slug).order_by(Episode.id)).all()
    queries = QUERIES + phrases_across_lines(session)
    few = queries[:8] + queries[-3:]
    return (
        [SearchRequest(q=q, per_page=50) for q in queries]
        + [SearchRequest(q=q, per_page=3, page=2) for q in few]
        + [SearchRequest(q=q, sort="date") for q in few]
        + [SearchRequest(q=q, show=show) for q in few]
        + [SearchRequest(q=q, guest=guest) for q in few]
        + [SearchRequest(q=q, date_from=date(2025, 10, 1), date_to=date(2025, 12, 31)) for q in few]
        + [SearchRequest(q=q, episode=slug, per_page=50) for q in queries for slug in episodes[:2]]
    )


def outcome(index, session, request: SearchRequest):
    """What a user sees: counts, messages, and each shown episode's hits in order, with their scores."""
    r = index.search(session, request)
    groups = [
        (g.episode.slug, g.matches, [(h.position, h.start, round(h.score, 6), str(h.snippet)) for h in g.hits])
        for g in r.groups
    ]
    return r.total, r.episodes, r.pages, r.error, r.suggestion, r.notices, groups


@pytest.fixture
def archive(session, index, seeded, monkeypatch):
    """The seeds, one of them reindexed by Whoosh's own codec (FAST off): a second segment, and
    deleted documents in the first that both paths must skip."""
    first = session.exec(select(Episode).order_by(Episode.id)).first()
    with monkeypatch.context() as off:
        off.setattr(whoosh_internals, "FAST", False)
        assert index.writer_options(1) == {} and "codec" not in index.writer_options(2)
        index.index_episodes(session, [first.id])
    assert "codec" in index.writer_options(1)
    leaves = [leaf for leaf, _ in index.searcher().searcher.leaf_searchers()]
    assert len(leaves) > 1 and any(leaf.reader().has_deletions() for leaf in leaves)
    return session, index


def test_whoosh_public_path_finds_counts_and_ranks_as_the_fast_path(archive, monkeypatch):
    session, index = archive
    asked = requests(session)
    read: list[str] = []  # the fast path's readers that ran

    def spy(name):
        real = getattr(whoosh_internals, name)

        def reading(*args, **kwargs):
            read.append(name)
            return real(*args, **kwargs)

        return reading

    for name in ("blocks", "block_values", "length_bytes", "posting_score"):
        monkeypatch.setattr(whoosh_internals, name, spy(name))
    fast = [outcome(index, session, r) for r in asked]
    assert set(read) == {"blocks", "block_values", "length_bytes", "posting_score"}
    # frequent terms and bi-words decoded once and kept: the same again, while filling and once filled
    monkeypatch.setattr(postings.DecodedPostings, "MIN_POSTINGS", 0)
    monkeypatch.setattr(postings, "decoded", postings.DecodedPostings())
    for _ in range(2):
        assert [outcome(index, session, r) for r in asked] == fast

    found = {r.q: o for r, o in zip(asked, fast, strict=True) if r.per_page == 50 and not r.episode}
    assert all(found[q][0] for q in phrases_across_lines(session)), "every phrase across lines is found"
    assert sum(1 for o in fast if o[0]) > len(asked) * 2 // 3 and not any(o[3] for o in fast)
    assert len({score for o in fast for _, _, hits in o[6] for _, _, score, _ in hits}) > 100

    monkeypatch.setattr(whoosh_internals, "FAST", False)
    read.clear()
    public = [outcome(index, session, r) for r in asked]
    assert read == [], "the public path read Whoosh's internals"
    for request, ours, theirs in zip(asked, fast, public, strict=True):
        assert theirs == ours, request


def test_field_lengths_read_through_the_public_api_are_the_codec_columns(archive, monkeypatch):
    _session, index = archive
    leaves = [leaf for leaf, _ in index.searcher().searcher.leaf_searchers()]
    fast = [whoosh_internals.length_bytes(leaf.reader(), f) for leaf in leaves for f in (BODY, EXACT, SHINGLES)]
    monkeypatch.setattr(whoosh_internals, "FAST", False)
    assert [whoosh_internals.length_bytes(leaf.reader(), f) for leaf in leaves for f in (BODY, EXACT, SHINGLES)] == fast
    assert all(any(column) for column in fast)


@pytest.mark.parametrize(
    "installed", ["whoosh.versionstring = lambda: '2.7.6'", "importlib.metadata.version = lambda name: '2.8.0'"]
)
def test_another_whoosh_version_turns_the_fast_path_off(installed):
    """Checked at import: the running Whoosh must be the one whoosh_internals was read against."""
    code = "\n".join(
        [
            "import importlib.metadata, whoosh",
            installed,
            "from app.search import whoosh_internals",
            "assert whoosh_internals.FAST is False",
            "assert whoosh_internals.writer_codec() is None",
            "assert not whoosh_internals.readable(object())",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "public API" in done.stderr  # said once, at import


def test_the_installed_whoosh_is_the_one_read_against():
    """Fails after an upgrade of whoosh-reloaded: re-read whoosh_internals, then raise WRITTEN_FOR."""
    assert whoosh_internals.FAST, f"whoosh-reloaded is not {whoosh_internals.WRITTEN_FOR}"


def test_a_mapped_segment_file_reads_as_a_file_would():
    """The file the fast path opens segments through (no copy of the mapped bytes) answers every
    read, seek and line as io.BytesIO does over the same bytes."""
    data = b"premiere ligne\nseconde ligne\n" + bytes(range(256)) + b"\nfin"
    mapped, reference = whoosh_internals._MappedFile(memoryview(data)), io.BytesIO(data)
    steps = [
        ("read", 5),
        ("seek", 3, 1),
        ("tell",),
        ("readline",),
        ("readline", 4),
        ("seek", -10, 2),
        ("read",),
        ("seek", 20),
        ("read", 0),
        ("seek", 7, 1),
        ("read", 1000),
        ("seek", 2, 0),
        ("readline",),
        ("tell",),
    ]
    for name, *args in steps:
        assert getattr(mapped, name)(*args) == getattr(reference, name)(*args), (name, args)
    mapped.seek(40)
    reference.seek(40)
    assert mapped.peek(8) == data[40:48] and mapped.tell() == 40  # a peek does not move
    buffer, expected = bytearray(6), bytearray(6)
    assert mapped.readinto(buffer) == reference.readinto(expected) == 6 and buffer == expected

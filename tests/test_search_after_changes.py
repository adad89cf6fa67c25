"""Search after episodes change: an updated or deleted episode's old passages never count again.

The index keeps a replaced or deleted passage until its segment is merged away; every count and
every hit must leave it out, whichever way the index is read."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.models import Episode
from app.search import SearchRequest, postings, whoosh_internals
from app.services import episodes as episode_service
from app.services.ingest import IngestOutcome, ingest_bytes, ingest_paths

QUERIES = [
    "blockchain",
    '"blockchain souveraine"',
    "blockch*",
    "blokchain~",
    "blockchain -métavers",
    "blockchain OR hyperloop",
]


def page(*lines: str) -> bytes:
    return "".join(f"00:{4 * i:02d}{line}\n" for i, line in enumerate(lines)).encode()


VERSION_1 = page("Bonjour à tous.", "On parle de la blockchain souveraine ce matin.", "Et du reste.")
VERSION_2 = page("Bonjour à toutes et à tous.", "On parle de la blockchain souveraine ce matin.", "Et du reste.")
# its passage ranks above the others': "blockchain" twice in fewer words
LOUD = page("Blockchain souveraine, blockchain souveraine !")
OTHER = page("Rien à voir ici.", "On parle de quantique.")


# How the index is read: 'rare' terms from their posting lists, 'frequent' ones kept decoded (as
# the common words are), or through Whoosh's public API only (another Whoosh version). PostgreSQL
# reads its passages one way only, with 'rare' (conftest.pytest_generate_tests).
WHOOSH_READINGS = ["rare", "frequent", "whoosh"]


@pytest.fixture
def terms(request, monkeypatch):
    """One of WHOOSH_READINGS."""
    if request.param == "frequent":
        monkeypatch.setattr(postings.DecodedPostings, "MIN_POSTINGS", 0)
        monkeypatch.setattr(postings, "decoded", postings.DecodedPostings())
    elif request.param == "whoosh":
        monkeypatch.setattr(whoosh_internals, "FAST", False)
    return request.param


def ingest_together(session, index, folder, files: dict[str, bytes]) -> dict[str, IngestOutcome]:
    """One `plateau ingest` of these files: their passages share one index segment, so a later
    update or delete leaves deleted passages beside live ones."""
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    outcomes = {Path(o.source).name: o for o in ingest_paths(session, [folder], index=index)}
    assert [o.status for o in outcomes.values()] == ["added"] * len(files)
    return outcomes


def counted(index, session, q, **kw):
    """(total, episodes, sorted (slug, second) of the hits) of a search, all on one page."""
    results = index.search(session, SearchRequest(q=q, per_page=50, **kw))
    assert results.error is None, (q, results.error)
    return results.total, results.episodes, sorted((h.episode.slug, h.start) for h in results.hits)


def delete(session, index, slug):
    episode_service.delete_episode(session, episode_service.get_episode(session, slug), index)


def test_an_updated_episode_counts_once_in_search_totals(session, index, tmp_path, terms):
    first = ingest_together(session, index, tmp_path / "lot", {"maj.txt": VERSION_1, "voisin.txt": LOUD})
    again = ingest_bytes(session, "maj.txt", VERSION_2, index=index)
    assert (again.status, again.slug) == ("updated", first["maj.txt"].slug)
    both = (2, 2, [("maj", 4.0), ("voisin", 0.0)])
    for q in QUERIES:
        assert counted(index, session, q) == both, q
        assert counted(index, session, q, episode="maj") == (1, 1, [("maj", 4.0)]), q
    assert counted(index, session, "toutes") == (1, 1, [("maj", 0.0)])
    assert counted(index, session, '"bonjour à tous"') == (0, 0, [])  # the old first line is gone


def test_a_deleted_episode_no_longer_counts(session, index, tmp_path, terms):
    ingest_together(session, index, tmp_path / "lot", {"conserve.txt": VERSION_1, "efface.txt": LOUD})
    assert counted(index, session, "blockchain")[:2] == (2, 2)
    delete(session, index, "efface")
    for q in QUERIES:
        assert counted(index, session, q) == (1, 1, [("conserve", 4.0)]), q
        # the deleted episode ranked first: its place on the first page goes to the one left
        first_page = index.search(session, SearchRequest(q=q, per_page=1))
        assert [(g.episode.slug, len(g.hits)) for g in first_page.groups] == [("conserve", 1)], q


def test_an_episode_added_after_a_delete_does_not_inherit_the_deleted_passages(
    session, index, tmp_path, terms, backend
):
    gone = ingest_together(session, index, tmp_path / "lot", {"conserve.txt": VERSION_1, "efface.txt": LOUD})[
        "efface.txt"
    ]
    delete(session, index, "efface")
    if backend == "postgresql":  # a sequence never gives an id twice, unless set back as a restore may
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('episode', 'id'), :id, false)"), {"id": gone.episode_id}
        )
        session.commit()
    newcomer = ingest_bytes(session, "nouveau.txt", OTHER, index=index)
    # SQLite gives the new episode the id the deleted one had: only the index tells them apart
    assert newcomer.episode_id == gone.episode_id
    for q in QUERIES:
        assert counted(index, session, q) == (1, 1, [("conserve", 4.0)]), q
        assert counted(index, session, q, episode="nouveau") == (0, 0, []), q
    assert counted(index, session, "quantique") == (1, 1, [("nouveau", 4.0)])
    assert session.exec(select(Episode.slug).order_by(Episode.id)).all() == ["conserve", "nouveau"]


def test_did_you_mean_never_offers_a_word_only_deleted_passages_held(session, index, tmp_path, terms):
    ingest_together(session, index, tmp_path / "lot", {"quantique.txt": OTHER, "chaine.txt": LOUD})
    assert index.search(session, SearchRequest(q="blokchain")).suggestion == "blockchain"
    delete(session, index, "chaine")
    results = index.search(session, SearchRequest(q="blokchain"))
    assert (results.total, results.suggestion) == (0, None)
    assert index.search(session, SearchRequest(q="quantiqe")).suggestion == "quantique"

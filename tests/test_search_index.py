"""The index follows the database: failures retried, rebuilds swapped in, disagreements reported."""

import shutil
import threading
from collections import Counter

import pytest
from sqlmodel import Session, select
from whoosh.filedb.filestore import FileStorage

from app.db import get_engine
from app.models import Episode
from app.search import IndexDamaged, SearchIndex, SearchRequest
from tests.small_archives import add_episode, filler


def found(index, session, q) -> set[str]:
    results = index.search(session, SearchRequest(q=q, per_page=50))
    assert results.error is None, results.error
    return {g.episode.slug for g in results.groups}


def test_a_fresh_index_answers_with_nothing(session, index):
    results = index.search(session, SearchRequest(q="cloud"))
    assert results.total == 0 and results.error is None and index.check(session) == []


def test_failed_indexing_is_marked_reported_and_recovered(session, index, monkeypatch):
    add_episode(session, index, "sain", ["le chiffrement homomorphe"])
    real = SearchIndex._documents

    def broken(self, session, episode_id, stamp):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(SearchIndex, "_documents", broken)
    episode = add_episode(session, index, "malade", ["le chiffrement quantique"])
    assert episode.index_state == "failed"
    assert found(index, session, "chiffrement") == {"sain"}
    assert any("malade" in problem for problem in index.check(session))
    monkeypatch.setattr(SearchIndex, "_documents", real)
    assert index.index_pending(session) == 1
    session.refresh(episode)
    assert episode.index_state == "indexed"
    assert found(index, session, "chiffrement") == {"sain", "malade"}
    assert index.check(session) == []


def test_check_notices_a_deleted_index_and_startup_recovers(session, index, settings):
    add_episode(session, index, "un", ["la fibre optique"])
    index.search(session, SearchRequest(q="fibre"))  # a searcher is open on the old folder
    shutil.rmtree(settings.index_dir)
    assert "absent" in index.check(session)[0]
    with pytest.raises(IndexDamaged, match="absent"):  # never a silent empty archive
        index.search(session, SearchRequest(q="fibre"))
    index.ensure()
    assert any("absent" in p for p in index.check(session))
    index.index_pending(session)
    assert index.check(session) == [] and found(index, session, "fibre") == {"un"}


def test_check_notices_stale_and_orphaned_episodes(session, index):
    episode = add_episode(session, index, "vieux", ["la 4G d'antan"])
    add_episode(session, index, "parti", ["la 3G oubliée"])
    episode.content_hash = "changé sans réindexer"
    session.add(episode)
    gone = session.exec(select(Episode).where(Episode.slug == "parti")).one()
    session.delete(gone)
    session.commit()
    problems = index.check(session)
    assert any("périmé" in p and "vieux" in p for p in problems)
    assert any("supprimé" in p for p in problems)
    assert found(index, session, "3G") == set()  # a row gone from the database is never a hit
    index.rebuild(session)
    assert index.check(session) == []


def test_delete_episode_removes_its_hits(session, index):
    episode = add_episode(session, index, "effacé", ["le métavers est mort"])
    assert found(index, session, "métavers") == {"effacé"}
    index.delete_episode(episode.id)
    assert found(index, session, "métavers") == set()


def test_rebuild_while_searching_never_shows_a_half_built_index(session, index, settings):
    for i in range(12):
        add_episode(session, index, f"ep-{i}", [*filler(30), "la régulation des plateformes"])
    errors, totals = [], set()
    stop = threading.Event()

    def reader():
        with Session(get_engine(settings)) as own:
            while not stop.is_set():
                results = index.search(own, SearchRequest(q='"régulation des plateformes"'))
                if results.error:
                    errors.append(results.error)
                totals.add(results.total)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        progress = []
        for _ in range(3):
            assert index.rebuild(session, progress=lambda done, total: progress.append((done, total))) == 12
        assert progress[-1] == (12, 12)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == [] and totals == {12}
    assert index.check(session) == []


def test_concurrent_writers_wait_for_the_lock(session, index, settings):
    episodes = [
        add_episode(session, index, f"w-{i}", [f"le sujet numéro {i} sur la 5G"], indexed=False) for i in range(8)
    ]
    errors = []

    def write(ids):
        try:  # a separate SearchIndex stands for another worker process on the same folder
            with Session(get_engine(settings)) as own:
                SearchIndex(settings.index_dir).index_episodes(own, ids)
        except Exception as error:  # pragma: no cover - what the test is here to catch
            errors.append(error)

    threads = [threading.Thread(target=write, args=([e.id],)) for e in episodes]
    threads.append(
        threading.Thread(target=lambda: SearchIndex(settings.index_dir).rebuild(Session(get_engine(settings))))
    )
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    states = set(session.exec(select(Episode.index_state)).all())
    assert states == {"indexed"}
    assert len(found(index, session, "5G")) == 8 and index.check(session) == []


def test_a_commit_elsewhere_while_a_writer_opens_the_index_is_waited_out(session, index, settings, monkeypatch):
    """Another process commits, replacing the table of segments (`_MAIN_N.toc`) and removing the
    old one, just as this writer opens it, at each of the moments the write opens one: the write
    goes in all the same. (`plateau ingest` beside uploads died on it: FileNotFoundError.)"""
    mine = [add_episode(session, index, f"moi-{i}", [f"la fibre numéro {i}"], indexed=False) for i in range(12)]
    others = iter(add_episode(session, index, f"autre-{i}", ["le satellite"], indexed=False) for i in range(12))
    real_open = FileStorage.open_file
    armed = {"at": -1, "seen": 0}
    elsewhere: list[threading.Thread] = []

    def commit_elsewhere():
        with Session(get_engine(settings)) as own:
            SearchIndex(settings.index_dir).index_episodes(own, [next(others).id])

    def open_file(storage, name, **kwargs):
        if name.endswith(".toc") and threading.current_thread() is threading.main_thread():
            if armed["seen"] == armed["at"]:
                thread = threading.Thread(target=commit_elsewhere)
                elsewhere.append(thread)
                thread.start()
                thread.join(2)  # unless it waits for this writer's lock: then it commits after
            armed["seen"] += 1
        return real_open(storage, name, **kwargs)

    monkeypatch.setattr(FileStorage, "open_file", open_file)
    for at, episode in enumerate(mine):
        armed.update(at=at, seen=0)
        index.index_episodes(session, [episode.id])
        if armed["seen"] <= at:  # every opening of this write has had a commit elsewhere
            break
    else:
        raise AssertionError("a write opened tables of segments more often than the test covers")
    for thread in elsewhere:
        thread.join()
    monkeypatch.undo()
    assert len(elsewhere) == at >= 2
    session.expire_all()
    stored = {e.slug: e.index_state for e in session.exec(select(Episode))}
    written = [e.slug for e in mine[: at + 1]] + [f"autre-{i}" for i in range(at)]
    assert {slug: stored[slug] for slug in written} == dict.fromkeys(written, "indexed")
    assert found(index, session, "fibre") == {e.slug for e in mine[: at + 1]}
    assert len(found(index, session, "satellite")) == at


def test_an_index_written_with_another_layout_is_rebuilt_at_start(session, index, monkeypatch):
    """A new Plateau (other fields, other words) over an old index: the next start rebuilds it whole,
    since old and new documents cannot be searched together."""
    from app.search import index as index_module

    add_episode(session, index, "ancien", ["le chiffrement homomorphe", *filler(8)])
    before = index._generation()
    monkeypatch.setattr(index_module, "LAYOUT", index_module.LAYOUT + "-next")
    assert any("ancien" in problem for problem in index.check(session)), "check reports it out of date"
    assert index.index_pending(session) == 1
    assert index._generation() != before, "a new generation was built and swapped in"
    assert set(index._indexed_stamps().values()) == set(index_module.episode_stamps(session).values())
    assert index.check(session) == [] and found(index, session, "chiffrement homomorphe") == {"ancien"}


def test_episodes_added_one_by_one_keep_few_segments(session, index):
    """Each write makes a segment; merged by tiers after the writes (as the server does after each
    answer), they stay few, and every episode stays found."""
    merged = []
    for n in range(2 * 8 + 1):
        add_episode(session, index, f"ajout-{n}", [f"le mot numero{n} est dit ici", *filler(8)])
        merged.append(index.merge_segments())
    assert [n for n, did in enumerate(merged) if did] == [7, 15]  # each time eight had piled up
    assert len(index.searcher().searcher.leaf_searchers()) == 3
    assert all(found(index, session, f"numero{n}") == {f"ajout-{n}"} for n in range(17))
    assert found(index, session, "remplissage") == {f"ajout-{n}" for n in range(17)}


def test_a_write_reopens_only_the_segments_it_changed(session, index):
    """After a write, a thread's searcher keeps its readers of the segments the write left alone
    (opening every segment again cost each thread some 50 ms at 2,000 episodes, at each write) and
    opens a segment that lost passages anew: a deleted episode's passages are never found."""

    def readers() -> dict[str, object]:
        leaves = [leaf.reader() for leaf, _ in index.searcher().searcher.leaf_searchers()]
        return {reader.segment().segment_id(): reader for reader in leaves}

    first = add_episode(session, index, "premier", ["le métavers est mort"])
    add_episode(session, index, "second", ["la blockchain aussi"])
    assert found(index, session, "métavers") == {"premier"}
    before = readers()
    assert len(before) == 2
    add_episode(session, index, "troisième", ["le métavers renaît"])
    after = readers()
    assert len(after) == 3 and all(after[segment] is reader for segment, reader in before.items())
    assert found(index, session, "métavers") == {"premier", "troisième"}
    index.delete_episode(first.id)
    assert found(index, session, "métavers") == {"troisième"}
    reopened = readers()
    assert [segment for segment in after if reopened[segment] is not after[segment]] == [next(iter(before))], (
        "the first segment, which lost the deleted episode's passages, and only it"
    )


def test_a_write_of_a_few_episodes_is_not_compressed_until_merged(session, index, monkeypatch):
    """A one-file add writes its small segment's postings without zlib (a fifth of its write); the
    merge of small segments compresses them. Both kinds of segment are read alike, by the fast
    path and by Whoosh's own (FAST off)."""
    import zlib

    from whoosh.codec import whoosh3

    from app.search import whoosh_internals

    compressed: list[int] = []

    class CountingZlib:
        decompress = staticmethod(zlib.decompress)

        @staticmethod
        def compress(data, level=-1):
            compressed.append(len(data))
            return zlib.compress(data, level)

    monkeypatch.setattr(whoosh3, "zlib", CountingZlib)
    monkeypatch.setattr(whoosh_internals, "zlib", CountingZlib)  # its writer of postings
    for n in range(8):
        add_episode(session, index, f"petit-{n}", [f"le mot menu{n} est dit ici", *filler(8)])
    assert compressed == []
    assert all(found(index, session, f"menu{n}") == {f"petit-{n}"} for n in range(8))
    assert index.merge_segments() and compressed
    assert len(index.searcher().searcher.leaf_searchers()) == 1
    for fast in (True, False):
        monkeypatch.setattr(whoosh_internals, "FAST", fast)
        assert all(found(index, session, f"menu{n}") == {f"petit-{n}"} for n in range(8))
        assert found(index, session, "remplissage") == {f"petit-{n}" for n in range(8)}


def test_a_merge_reads_the_postings_whoosh_reads(session, index):
    """The postings a merge copies (whoosh_internals.merge_postings) are Whoosh's own
    iter_postings(), in its order, those of deleted documents left out; then merged, every
    episode is found as before."""
    from app.search import whoosh_internals

    episodes = [
        add_episode(session, index, f"fusion-{n}", [f"le mot fondu{n} est dit ici", *filler(8)]) for n in range(7)
    ]
    long_lines = [f"le mot fondu7 revient, ligne {n}" for n in range(2000)]  # postings over several blocks
    episodes.append(add_episode(session, index, "fusion-7", long_lines))
    index.index_episodes(session, [episodes[0].id, episodes[3].id])  # deletions in two segments
    readers = [leaf.reader() for leaf, _ in index.searcher().searcher.leaf_searchers()]
    assert sum(reader.has_deletions() for reader in readers) == 2
    copied = [list(whoosh_internals.merge_postings(reader)) for reader in readers]
    assert copied == [list(reader.iter_postings()) for reader in readers]
    assert [] in copied  # a segment whose documents are all deleted
    per_term = Counter((field, term) for postings in copied for field, term, *_ in postings)
    assert max(per_term.values()) > 2 * 128  # Whoosh's posting blocks hold 128
    index.forget_searcher()
    assert index.merge_segments()
    assert len(index.searcher().searcher.leaf_searchers()) < len(readers)
    assert all(found(index, session, f"fondu{n}") == {f"fusion-{n}"} for n in range(8))
    assert found(index, session, "remplissage") == {f"fusion-{n}" for n in range(7)}
    assert index.check(session) == []


def test_the_server_merges_once_writes_pause(session, index):
    """Uploads in a row never wait for a merge: it comes once no write has come for a while."""
    import time

    for n in range(8):
        add_episode(session, index, f"envoi-{n}", [f"le mot rafale{n}", *filler(8)])
        index.merge_when_idle(delay=0.2)  # as POST /api/episodes does after each upload
    deadline = time.monotonic() + 30
    while len(index.searcher().searcher.leaf_searchers()) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(index.searcher().searcher.leaf_searchers()) == 1
    assert found(index, session, "rafale7") == {"envoi-7"}

"""The Whoosh index on disk: generations swapped atomically, writes after commit, searchers per thread."""

import errno
import fcntl
import logging
import math
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from whoosh import index as windex
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.reading import EmptyReader, MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.writing import LockError

from app import limits
from app.models import CaptionLine, Episode
from app.search import whoosh_internals
from app.search.errors import IndexBusy, IndexDamaged
from app.search.passages import EPISODE, EXACT, KIND, LAYOUT, STAMP, cut_passages, make_schema, passage_documents

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

CURRENT = "CURRENT"  # names the generation folder in use; replaced atomically by a rebuild
INGEST_LOCK = ".ingest.lock"  # held (shared) by every running ingest batch: services/ingest.RunningBatches
REOPEN_PAUSES = (0.01, 0.02, 0.04, 0.08)  # seconds; a table of segments replaced while it was opened


def tier_to_merge(segments) -> list | None:
    """The segments merge_tiers would merge now: those of the smallest tier (sizes a factor
    MERGE_TIER apart) that holds MERGE_TIER of them, when together they stay under MERGE_MAX_DOCS
    documents; None when no tier does."""
    tiers: dict[int, list] = {}
    for segment in segments:
        tiers.setdefault(int(math.log(max(1, segment.doc_count_all()), limits.MERGE_TIER)), []).append(segment)
    for tier in sorted(tiers):
        found = tiers[tier]
        if len(found) >= limits.MERGE_TIER and sum(s.doc_count_all() for s in found) <= limits.MERGE_MAX_DOCS:
            return found
    return None


def merge_tiers(writer, segments) -> list:
    """Whoosh merge policy for merge_segments(): the segments of tier_to_merge become one.

    Whoosh's own policy (MERGE_SMALL) merges the five smallest segments at commits: a bulk ingest's
    batches then merge ever larger segments, and its cost grows with the archive (merging is
    Whoosh's slowest work: eight segments of 100 episodes take a minute). Here the episodes added
    one by one are merged into segments of a few hundred episodes, and a bulk ingest's batches
    (already that size) are left as they are: `plateau reindex` makes one index of them again."""
    chosen = tier_to_merge(segments)
    if chosen is None:
        return segments
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(whoosh_internals.merge_reader(reader))
        reader.close()
    return [segment for segment in segments if all(segment is not c for c in chosen)]


def cancel(writer) -> None:
    """Cancel a write, and end its writer processes: Whoosh's cancel() only sets a flag in the
    parent's copy of them, and they would wait on their queue forever (and the interpreter, at its
    exit, for them)."""
    try:
        writer.cancel()
    finally:
        for task in getattr(writer, "tasks", ()):
            if task.is_alive():
                task.terminate()
            task.join(5)


_forking: list = []  # [pid of the process forking now, its prctl or None] (_end_with_parent)


def _end_with_parent() -> None:
    """In a process forked by this one (Whoosh's writer processes): end when the thread that forked
    it ends (Linux's parent-death signal). A command killed outright (SIGKILL, the OOM killer) would
    otherwise leave them waiting on their queue forever. Every os.fork() of a process that loaded
    this module gets it: a child forked by a short-lived thread would end with that thread."""
    if not _forking or _forking[1] is None:
        return
    parent, prctl = _forking
    prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the signal was asked for


def _before_fork() -> None:
    # resolved in the parent: loading a library in the child of a process with threads can
    # deadlock on a lock another thread held at the fork
    prctl = _forking[1] if _forking else None
    if prctl is None and sys.platform.startswith("linux"):
        with suppress(Exception):
            import ctypes

            prctl = ctypes.CDLL(None, use_errno=True).prctl
    _forking[:] = [os.getpid(), prctl]


os.register_at_fork(before=_before_fork, after_in_child=_end_with_parent)


def ingest_running(index_dir: Path) -> bool:
    """Whether an ingest batch runs, in any process (it holds INGEST_LOCK shared)."""
    try:
        with open(index_dir / INGEST_LOCK, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False  # a read-only folder: no batch writes there
    return False


def write_failure(error: BaseException) -> str:
    """Why an index write failed, in French, for the summary of what waits to be indexed."""
    if isinstance(error, IndexBusy):
        return "index occupé par une autre écriture"
    text = str(error).lower()
    if (isinstance(error, OSError) and error.errno == errno.ENOSPC) or "disk is full" in text:
        return "disque plein"
    if (isinstance(error, OSError) and error.errno == errno.EROFS) or "readonly database" in text:
        return "lecture seule"
    return "erreur d'écriture, détaillée dans le journal"


class _Unreadable(Exception):
    """SearchIndex.searcher() could not open or trust the index: damage, or a commit elsewhere."""


def segment_file_sizes(ix) -> dict[str, int]:
    """Path → size of each compound segment file an index's table of segments names."""
    sizes = {}
    for segment in TOC.read(ix.storage, ix.indexname).segments:
        if segment.is_compound():
            path = os.path.join(ix.storage.folder, segment.make_filename(segment.COMPOUND_EXT))
            with suppress(OSError):
                sizes[path] = os.stat(path).st_size
    return sizes


def reopened(current: "ThreadSearcher"):
    """A searcher of the index's latest commit that keeps `current`'s readers of the segments the
    commit left as they were (same segment, same deletions), and closes its other readers.

    After a write, opening every segment anew (its terms table, its stored fields' offsets) cost
    each thread of each server process some 50 ms at 2,000 episodes, at each write; only the new
    segment is opened now. Not Whoosh's Searcher.refresh(): it keeps the old readers whatever
    changed, so a segment with new deletions (an episode updated or deleted) would still show
    them, and a merged-away one would stay."""
    ix = current.ix
    toc = TOC.read(ix.storage, ix.indexname)
    kept = {}
    for reader, _ in current.searcher.reader().leaf_readers():
        if reader.segment() is not None:
            kept[reader.segment().segment_id()] = reader
    readers = []
    for segment in toc.segments:
        reader = kept.get(segment.segment_id())
        if reader is not None and reader.segment().deleted_count() == segment.deleted_count():
            del kept[segment.segment_id()]
        else:
            reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
        readers.append(reader)
    for reader in kept.values():
        reader.close()
    if not readers:
        return Searcher(EmptyReader(toc.schema), fromindex=ix)
    return Searcher(MultiReader(readers, generation=toc.generation), fromindex=ix)


def segment_damage(storage, segment) -> str | None:
    """What is wrong with one segment's compound file, in French; None when its table of contents
    reads and every file it lists lies within it."""
    if not segment.is_compound():
        return None
    name = segment.make_filename(segment.COMPOUND_EXT)
    if not storage.file_exists(name):
        return f"le segment {name} manque"
    size = storage.file_length(name)
    try:
        compound = CompoundStorage(storage.open_file(name), use_mmap=False)
    except Exception:
        return f"le segment {name} est illisible ({format_bytes(size)}, table des fichiers perdue : tronqué ?)"
    try:
        end = max((sum(compound.range(n)) for n in compound.list()), default=0)
    finally:
        compound.close()
    if size < end:
        return f"le segment {name} est tronqué ({format_bytes(size)} sur au moins {format_bytes(end)})"
    return None


def format_bytes(size: int) -> str:
    return f"{size:,} octets".replace(",", "\u202f")


def episode_stamps(
    session: Session, episode_ids: Iterable[int] | None = None, layout: str | None = None
) -> dict[int, str]:
    """What the index must hold for each episode: the documents' layout (the engine's; None: Whoosh's
    LAYOUT, read at each call), its content hash and number of caption lines, and how many times
    editors changed its lines (never edited: no count, so that the stamps of episodes no one edits
    stay what they were)."""
    stmt = (
        select(Episode.id, Episode.content_hash, func.count(col(CaptionLine.id)), Episode.transcript_edits)
        .join(CaptionLine, col(CaptionLine.episode_id) == Episode.id, isouter=True)
        .group_by(col(Episode.id))
    )
    if episode_ids is not None:
        stmt = stmt.where(col(Episode.id).in_(list(episode_ids)))
    # a stored episode's id never is None
    return {
        eid: f"{layout or LAYOUT}:{h}:{n}" + (f":{edits}" if edits else "")
        for eid, h, n, edits in session.exec(stmt)
        if eid is not None
    }


def episode_lines(session: Session, episode_id: int) -> list[tuple[int, float, str, int | None, str | None]]:
    """(position, start, text, person id of the speaker, machine text of a corrected line) of each
    line: what cut_passages cuts."""
    stmt = (
        sa_select(
            col(CaptionLine.position),
            col(CaptionLine.start),
            col(CaptionLine.text),
            col(CaptionLine.person_id),
            col(CaptionLine.original_text),
        )
        .where(col(CaptionLine.episode_id) == episode_id)
        .order_by(col(CaptionLine.position))
    )
    return [tuple(row) for row in session.execute(stmt)]


class Vocabulary:
    """The folded words of one searcher's index: prefix and fuzzy expansion, 'did you mean'."""

    def __init__(self, searcher):
        self.reader = searcher.reader()
        self._words: list[str] | None = None

    def words(self) -> list[str]:
        if self._words is None:
            self._words = [b.decode("utf-8") for b in self.reader.lexicon(EXACT)]
        return self._words

    def frequency(self, word: str) -> int:
        return self.reader.doc_frequency(EXACT, word)

    def expand_prefix(self, prefix: str, limit: int = limits.PREFIX_SCAN) -> list[tuple[str, int]]:
        found = []
        for b in self.reader.expand_prefix(EXACT, prefix):
            w = b.decode("utf-8")
            found.append((w, self.reader.doc_frequency(EXACT, w)))
            if len(found) >= limit:
                break
        return found

    def near(self, word: str, distance: int = 1) -> list[str]:
        matches = process.extract(
            word, self.words(), scorer=Levenshtein.distance, score_cutoff=distance, limit=limits.FUZZY_CANDIDATES
        )
        return [w for w, _, _ in sorted(matches, key=lambda m: (m[1], -self.frequency(m[0])))]

    def closest(self, word: str) -> str | None:
        """The most frequent index word within two edits (one for short words) that a passage
        still holds, for 'did you mean'."""
        return next((w for w in self.near(word, 1 if len(word) <= 5 else 2) if self.is_live(w)), None)

    def is_live(self, word: str) -> bool:
        """Whether a passage not deleted holds the word: the lexicon keeps the words of replaced
        and deleted passages until their segment is merged away."""
        try:
            return self.reader.postings(EXACT, word).is_active()  # the reader's postings skip deleted passages
        except TermNotFound:
            return False


class ThreadSearcher:
    def __init__(self, generation: str, ix, searcher, segment_cache: dict):
        self.generation = generation
        self.ix = ix
        self.searcher = searcher
        self.vocabulary = Vocabulary(searcher)
        self._segment_cache = segment_cache
        self._segments: list | None = None
        self._files = segment_file_sizes(ix)

    def intact(self) -> bool:
        """Whether every segment file still has the size it had when this searcher mapped it: Whoosh
        reads segments through mmap, and reading a page past a truncated file's new end kills the
        process (SIGBUS) where no exception can catch it. A stat per segment, before each search. A
        file gone is no damage: a merge deletes the segments it replaced, and what a searcher mapped
        of a deleted file stays readable."""
        for path, size in self._files.items():
            try:
                if os.stat(path).st_size != size:
                    return False
            except FileNotFoundError:
                continue
        return True

    def segments(self) -> list[tuple[object, int, Sequence[int]]]:
        """(leaf searcher, docnum offset, episode id of each of its docnums) for each segment.

        A segment never changes once written, so its episode ids are read once per process and
        shared by every searcher that sees it: after a write only the new segment is read."""
        if self._segments is None:
            out = []
            for leaf, offset in self.searcher.leaf_searchers():
                reader = leaf.reader()
                if reader.segment() is None:
                    continue  # an empty index
                key = (self.generation, reader.segment().segment_id())
                episode_of = self._segment_cache.get(key)
                if episode_of is None:
                    # an array, not a list: no object for the collector's full passes to walk (337,000
                    # of them at 2,000 episodes, a p95 of pages made of those passes)
                    episode_of = array("l", map(int, reader.column_reader(EPISODE)) if reader.doc_count_all() else ())
                    self._segment_cache[key] = episode_of
                out.append((leaf, offset, episode_of))
            live = {(self.generation, leaf.reader().segment().segment_id()) for leaf, _, _ in out}
            if len(self._segment_cache) > 4 * len(live) + 16:  # forget merged-away segments
                # a copy: other threads may add entries while this one prunes
                for key in [k for k in list(self._segment_cache) if k[:2] not in live]:
                    self._segment_cache.pop(key, None)
            self._segments = out
        return self._segments

    def lengths(self, leaf, fieldname: str):
        """The length byte of each document of a segment in a field (what BM25 divides by), cached
        like the episode ids."""
        reader = leaf.reader()
        key = (self.generation, reader.segment().segment_id(), fieldname)
        lengths = self._segment_cache.get(key)
        if lengths is None:
            lengths = self._segment_cache[key] = whoosh_internals.length_bytes(reader, fieldname)
        return lengths

    def episode_of(self, docnum: int) -> int:
        """Episode id of a global document number."""
        segments = self.segments()
        _, offset, episode_of = segments[bisect_right([o for _, o, _ in segments], docnum) - 1]
        return episode_of[docnum - offset]


class SearchIndex:
    def __init__(self, index_dir: Path, memory_mb: int = limits.INDEX_MEMORY_MB):
        self.index_dir = Path(index_dir)
        self.memory_mb = memory_mb
        self.schema = make_schema()
        self._local = threading.local()
        self._aside = threading.local()  # .current: the _Aside of writing_aside() in this thread
        self._segment_cache: dict[tuple[str, str], Sequence[int]] = {}
        self.writer_timeout = limits.WRITER_TIMEOUT
        self._merge_lock = threading.Lock()
        self._merge_timer: threading.Timer | None = None
        # set by the server: how a repair thread gets a database session (the CLI repairs nothing
        # behind the user's back: it says to run `plateau reindex`)
        self.open_session: Callable[[], Session] | None = None
        self._repair: threading.Thread | None = None
        self._damaged: tuple[str | None, str] | None = None  # (generation, what) last found damaged
        self.repair_failed: str | None = None
        self.last_write_error: str | None = None  # why the last failed index write failed, in French
        self.apart = None  # the server's Settings once its writes go to the indexing process (write_apart)

    # --- storage --------------------------------------------------------------------------

    def _generation(self) -> str | None:
        try:
            name = (self.index_dir / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def _exists(self, generation: str | None) -> bool:
        """Whether the generation holds a table of segments: its folder listed, no table opened.
        (Whoosh's exists_in opens the newest table, which another process's commit may have just
        replaced and removed: it raised FileNotFoundError on a healthy index.)"""
        if not generation:
            return False
        # a folder gone (pruned after a swap) lists as empty
        return TOC._latest_generation(FileStorage(str(self.index_dir / generation)), "MAIN") > -1

    @contextmanager
    def _folder_lock(self, name: str):
        """An exclusive lock on a file of the index folder, across processes."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / name, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _setup_lock(self):
        return self._folder_lock(".setup.lock")

    def _new_generation(self) -> str:
        name = f"gen-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"  # sorts by creation time
        path = self.index_dir / name
        path.mkdir(parents=True)
        windex.create_in(str(path), self.schema)
        return name

    def _point_to(self, generation: str) -> None:
        previous = self._generation()
        tmp = self.index_dir / f".{CURRENT}.{uuid.uuid4().hex}"
        tmp.write_text(generation)
        os.replace(tmp, self.index_dir / CURRENT)
        self._prune(keep={generation, previous})

    def _prune(self, keep: set) -> None:
        """Remove older generations, keeping the one just replaced (searchers may still read it)
        and any newer one (a rebuild in progress elsewhere)."""
        newest_kept = max(k for k in keep if k)
        for path in self.index_dir.glob("gen-*"):
            if path.is_dir() and path.name not in keep and path.name < newest_kept:
                shutil.rmtree(path, ignore_errors=True)

    def ensure(self) -> None:
        """Create an empty index when there is none (a fresh data folder, or a deleted index)."""
        if self._exists(self._generation()):
            return
        with self._setup_lock():
            if not self._exists(self._generation()):
                self._point_to(self._new_generation())

    def exists(self) -> bool:
        return self._exists(self._generation())

    def remove_stale_generations(self) -> list[str]:
        """Remove the generation folders no one uses: not the current one, and none a rebuild is
        writing (its writer holds the folder's lock). What a killed rebuild left, and the folders of
        killed bulk ingests (_Aside). Returns their names."""
        current = self._generation()
        asides = sorted(self.index_dir.glob(f"{_Aside.PREFIX}*"))
        removed = [path.name for path in asides if _Aside.remove_if_left(path)]
        for path in sorted(self.index_dir.glob("gen-*")):
            if not path.is_dir() or path.name == current:
                continue
            lock = FileStorage(str(path)).lock("MAIN_WRITELOCK")
            try:
                held = not lock.acquire(blocking=False)
            except OSError:
                continue  # cannot tell: leave it
            if held:
                continue
            try:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
            finally:
                with suppress(OSError):
                    lock.release()
        return removed

    def _open(self, generation: str):
        """The generation's index. Opening reads its newest table of segments, which another
        process's commit may replace and remove between the folder's listing and the reading: the
        folder is listed again then, as Whoosh's own reader() does."""
        path = str(self.index_dir / generation)
        for pause in REOPEN_PAUSES:
            try:
                return windex.open_dir(path, schema=self.schema)
            except FileNotFoundError:
                time.sleep(pause)
        return windex.open_dir(path, schema=self.schema)

    # --- writing --------------------------------------------------------------------------

    def writer_options(self, procs: int, compress: bool = True) -> dict:
        """Whoosh writer arguments that keep a write of `procs` processes within the memory budget.
        compress=False: a small segment, its postings not compressed (see writer_codec)."""
        codec = whoosh_internals.writer_codec(compress)
        options: dict = {} if codec is None else {"codec": codec}
        if procs > 1:
            buffer_mb = max(limits.MIN_BUFFER_MB, (self.memory_mb - limits.MAIN_PROCESS_MB) // procs)
            options.update(procs=procs, limitmb=buffer_mb, multisegment=True)
        return options

    @contextmanager
    def _writer(self, commit: bool = True, procs: int = 1, mergetype=None, compress: bool = True):
        """A writer on the current generation; waits for other writers up to writer_timeout."""
        deadline = time.monotonic() + self.writer_timeout
        while True:
            self.ensure()
            generation = self._generation()
            assert generation is not None  # ensure() has made one current
            ix = self._open(generation)
            try:
                writer = ix.writer(
                    timeout=max(0.0, deadline - time.monotonic()), delay=0.05, **self.writer_options(procs, compress)
                )
            except LockError as exc:
                raise IndexBusy("l'index est occupé par une autre écriture") from exc
            if self._generation() == generation:
                break
            writer.cancel()  # a rebuild swapped generations while we waited: write to the new one
            if time.monotonic() > deadline:
                raise IndexBusy("l'index est occupé par une reconstruction")
        try:
            yield writer
        except BaseException:
            cancel(writer)
            raise
        else:
            if commit:
                # no merging in a write: merge_segments() does it apart, after the answer
                if mergetype is None:
                    writer.commit(merge=False)
                else:
                    writer.commit(mergetype=mergetype)
            else:
                writer.cancel()

    def _documents(self, session: Session, episode_id: int, stamp: str) -> list[dict]:
        return list(passage_documents(episode_id, stamp, cut_passages(episode_lines(session, episode_id))))

    def _write_episode(self, writer, session: Session, episode_id: int, stamp: str) -> int | None:
        """Add an episode's documents to a writer: how many, or None when they could not be made
        (logged; the other episodes go on)."""
        try:
            docs = self._documents(session, episode_id, stamp)
        except Exception:
            log.exception("indexing episode %s failed", episode_id)
            return None
        for doc in docs:
            writer.add_document(**doc)
        return len(docs)

    def merge_when_idle(self, delay: float = limits.MERGE_IDLE_SECONDS) -> None:
        """merge_segments() once no write has come for `delay` seconds, in a thread of its own: a
        merge holds the index for a second or more, and uploads in a row would otherwise queue
        behind it."""
        with self._merge_lock:
            if self._merge_timer is not None:
                self._merge_timer.cancel()
            self._merge_timer = threading.Timer(delay, self._merge_quietly)
            self._merge_timer.daemon = True
            self._merge_timer.start()

    def _merge_quietly(self) -> None:
        try:
            self.merge_segments()
        except IndexBusy:
            self.merge_when_idle()  # a write came meanwhile: after it
        except Exception:
            log.warning("merging the index's small segments failed; the next write tries again", exc_info=True)

    def merge_segments(self) -> bool:
        """Merge the small segments that writes left (merge_tiers), when some tier is full: apart
        from the writes, since merging eight segments takes a second or more. Whether it merged."""
        if tier_to_merge(self._segments()) is None:
            return False
        with self._writer(mergetype=merge_tiers):
            pass
        return True

    def _segments(self) -> list:
        """The current generation's segments, read from its table of segments alone: a searcher
        would open every segment, and load Whoosh's search modules, only to count documents (most
        of what `plateau ingest` of an unchanged file does after its start). Through a searcher,
        with its retries and damage checks, when the table cannot be read now (another process's
        commit replacing it, or damage)."""
        generation = self._generation()
        if generation:
            with suppress(Exception):
                return TOC.read(FileStorage(str(self.index_dir / generation)), "MAIN").segments
        segments = [leaf.reader().segment() for leaf, _ in self.searcher().searcher.leaf_searchers()]
        return [s for s in segments if s is not None]

    def index_episodes(self, session: Session, episode_ids: list[int]) -> None:
        """(Re)index these episodes from the database, after its commit; marks each indexed or failed.

        One writer for them all; from limits.BULK_EPISODES on, it hands documents to writer processes
        while this one reads and analyses the next episodes. Within writing_aside(), to the index
        written aside instead, and marked at the block's end."""
        ids = sorted(set(episode_ids))
        if not ids:
            return
        aside: _Aside | None = getattr(self._aside, "current", None)
        if aside is not None:
            aside.add(self, session, ids)
            return
        if self.apart is not None and len(ids) < limits.BULK_EPISODES and self._index_apart(session, ids):
            return
        stamps = episode_stamps(session, ids)
        failed: set[int] = set()
        bulk = len(stamps) >= limits.BULK_EPISODES
        try:
            # a few episodes (an upload, `plateau ingest FILE`): a small segment, written without
            # compressing its postings, which the merge of small segments compresses later
            with self._writer(procs=limits.WRITER_PROCS if bulk else 1, compress=bulk) as writer:
                for eid in ids:
                    writer.delete_by_term(EPISODE, str(eid))
                    if eid not in stamps:
                        continue  # gone from the database: only removed from the index
                    if self._write_episode(writer, session, eid, stamps[eid]) is None:
                        failed.add(eid)
        except Exception as exc:
            log.exception("index write failed for episodes %s", ids)
            self.last_write_error = write_failure(exc)
            failed.update(stamps)
        try:
            self._mark(session, {eid: ("failed" if eid in failed else "indexed") for eid in stamps})
        except Exception as exc:  # a full disk: the episodes stay "pending", retried at the next write or start
            session.rollback()
            log.exception("recording the index state of episodes %s failed", ids)
            self.last_write_error = write_failure(exc)

    @contextmanager
    def writing_aside(self, session: Session):
        """Within this block, in this thread, index_episodes() writes to an index of its own beside
        the current generation, with one writer for every call; at the block's end, its segments
        join the current generation in one short commit. For `plateau ingest` of a back catalogue:
        each of its batches (limits.BATCH_FILES) would leave two segments (20 at 2,000 episodes),
        and every search reads every segment: 20 instead of 2 cost a third more time per search.
        The current index's lock is held for that last commit only, so that uploads meanwhile are
        indexed at once, as during a batch.

        The episodes stay "pending" (not searchable) until the end. A process killed before leaves
        them so, for the next ingest or start to index, and its folder, which they remove
        (remove_stale_generations)."""
        aside = _Aside()
        self._aside.current = aside
        try:
            yield
        except BaseException:
            aside.discard()
            raise
        finally:
            self._aside.current = None
        self._adopt(session, aside)

    def _adopt(self, session: Session, aside: "_Aside") -> None:
        """The end of writing_aside(): the index written aside joins the current generation. The
        copies of its episodes already there (an update, or another writer's meanwhile) are deleted
        in the same commit. Then indexed again from the database: the episodes changed since they
        were written aside, and those another writer indexed meanwhile (a guest merge rewrites the
        speakers of passages, which the stamp does not show)."""
        if not aside.touched:
            aside.discard()
            return
        again: set[int] = set()
        try:
            if aside.error is not None:
                raise aside.error
            segments = aside.finish()
            storage = FileStorage(str(aside.path)) if segments else None

            def adopt(writer, current: list) -> list:
                # moved under the current generation's lock: another writer's commit would
                # otherwise remove them as files of no segment
                for segment in segments:
                    for name in segment.list_files(storage):
                        os.replace(aside.path / name, Path(writer.storage.folder) / name)
                return current + segments

            for attempt in range(limits.ADOPT_ATTEMPTS):
                try:
                    with self._writer(mergetype=adopt) as writer:
                        held = self._indexed_stamps()  # under the lock: no commit comes in between
                        rewritten = {eid for eid, stamp in aside.stamps.items() if held.get(eid) == stamp}
                        for eid in sorted(aside.touched):
                            writer.delete_by_term(EPISODE, str(eid))
                    break
                except IndexBusy:
                    if attempt + 1 == limits.ADOPT_ATTEMPTS:
                        raise  # the work written aside is lost: the episodes are marked failed
        except Exception as exc:
            log.exception("adding the index written aside failed for %d episodes", len(aside.touched))
            self.last_write_error = write_failure(exc)
            states = dict.fromkeys(aside.touched, "failed")
        else:
            states = {}
            try:
                latest: dict[int, str] = {}
                for chunk in _chunks(sorted(aside.stamps), 500):
                    latest.update(episode_stamps(session, chunk))
                again = aside.again | rewritten | {e for e, stamp in aside.stamps.items() if latest.get(e) != stamp}
                states = {eid: "indexed" for eid in aside.stamps if eid not in again}
                states.update(dict.fromkeys(aside.failed - again, "failed"))
            except Exception as exc:  # the episodes stay "pending": indexed again at the next write or start
                session.rollback()
                log.exception("reading the stamps of %d episodes failed", len(aside.stamps))
                self.last_write_error = write_failure(exc)
        finally:
            aside.discard()
        try:
            self._mark(session, states)
        except Exception as exc:  # a full disk: the episodes stay "pending", retried at the next write or start
            session.rollback()
            log.exception("recording the index state of %d episodes failed", len(states))
            self.last_write_error = write_failure(exc)
        if again:
            self.index_episodes(session, sorted(again))

    def write_apart(self, settings) -> None:
        """From now on (in the server), index the few episodes of an upload or an edit in a child
        process at a lower priority: analysing and committing them is most of an upload's CPU, and
        searches in this worker's threads, at normal priority and free of that GIL, go first."""
        self.apart = settings

    def stop_writing_apart(self) -> None:
        """At the server's stop: the indexing process ends once its write in progress is done (left
        to the interpreter's exit, its pool was torn down after the modules it needs)."""
        self.apart = None
        _forget_apart_pool(wait=True)

    def _index_apart(self, session: Session, ids: list[int]) -> bool:
        """index_episodes() of these episodes in the quieter child process; False when it could not
        run there (the caller then indexes them itself)."""
        from concurrent.futures.process import BrokenProcessPool  # loaded by _apart_pool() already

        settings = self.apart  # read once: the server's stop sets it to None (stop_writing_apart)
        if settings is None:
            return False
        session.commit()  # a read begun before the child's commit would not see the states it records
        try:
            self.last_write_error = _apart_pool().submit(_index_in_child, settings, ids).result()
        except BrokenProcessPool:
            log.warning("the indexing process died; indexing in the worker", exc_info=True)
            _forget_apart_pool()
            return False
        except RuntimeError:  # the pool shut down by the server's stop since: written here
            return False
        session.expire_all()  # episodes loaded in this session see the states the child recorded
        return True

    def _mark(self, session: Session, states: dict[int, str]) -> None:
        for state in ("indexed", "failed"):
            ids = [eid for eid, s in states.items() if s == state]
            for chunk in _chunks(ids, 500):
                session.exec(
                    update(Episode)
                    .where(col(Episode.id).in_(chunk), col(Episode.index_state) != state)
                    .values(index_state=state)
                )
        session.commit()
        session.expire_all()  # episodes already loaded in this session see their new state

    def delete_episode(self, episode_id: int) -> None:
        with self._writer() as writer:
            writer.delete_by_term(EPISODE, str(episode_id))

    def _indexed_stamps(self, generation: str | None = None) -> dict[int, str]:
        generation = generation or self._generation()
        assert generation is not None  # callers have made sure that there is an index
        ix = self._open(generation)
        with ix.searcher() as s:
            return {int(f[EPISODE]): f.get(STAMP, "") for f in s.documents(**{KIND: "episode"})}

    def index_pending(self, session: Session) -> int:
        """Index every episode not marked indexed, or missing or stale in the index. Returns how many."""
        self.ensure()
        stamps = episode_stamps(session)
        held = self._indexed_stamps()
        if held and not any(stamp.startswith(f"{LAYOUT}:") for stamp in held.values()):
            # written by an older Plateau, whose documents had other fields or words: start afresh,
            # in one process (the other workers wait for its lock, then find the new layout)
            with self._rebuild_lock():
                held = self._indexed_stamps()
                if held and not any(stamp.startswith(f"{LAYOUT}:") for stamp in held.values()):
                    log.warning("l'index a été écrit par une version précédente : reconstruction")
                    return self.rebuild(session)
            stamps = episode_stamps(session)
        todo = {eid for eid, stamp in stamps.items() if held.get(eid) != stamp}
        pending = session.exec(select(Episode.id).where(Episode.index_state != "indexed"))
        todo |= {eid for eid in pending if eid is not None}  # a stored episode's id never is
        if ingest_running(self.index_dir):
            # its episodes, pending until its batch ends (a bulk ingest's, until its whole index
            # written aside is added): its work, which the next command or start takes up if it dies
            todo -= set(session.exec(select(Episode.id).where(Episode.index_state == "pending")))
        orphans = set(held) - set(stamps)
        if orphans:
            with self._writer() as writer:
                for eid in orphans:
                    writer.delete_by_term(EPISODE, str(eid))
        done = 0
        for chunk in _chunks(sorted(todo), 200):
            self.index_episodes(session, chunk)
            done += len(chunk)
        return done

    def rebuild(
        self, session: Session, progress: Callable[[int, int], None] | None = None, procs: int = limits.WRITER_PROCS
    ) -> int:
        """Build a whole new generation from the database, then swap it in; returns episodes indexed.
        procs: writer processes (1 in a serving process: no children left behind if it is stopped)."""
        self.ensure()
        stamps = episode_stamps(session)
        with self._setup_lock():
            generation = self._new_generation()
        ix = self._open(generation)
        writer = ix.writer(**self.writer_options(procs))
        failed: set[int] = set()
        total = len(stamps)
        try:
            for n, (eid, stamp) in enumerate(sorted(stamps.items()), 1):
                if self._write_episode(writer, session, eid, stamp) is None:
                    failed.add(eid)
                    continue
                if progress:
                    progress(n, total)
            writer.commit()
        except BaseException:
            cancel(writer)
            shutil.rmtree(self.index_dir / generation, ignore_errors=True)
            raise
        # Catch up with what other writers did meanwhile, holding the old generation's lock so that
        # no write lands in the folder being replaced; then swap.
        with self._writer(commit=False):
            latest = episode_stamps(session)
            held = self._indexed_stamps(generation)
            catch_up = [e for e, s in latest.items() if held.get(e) != s and e not in failed]
            gone = set(held) - set(latest)
            if catch_up or gone:
                with ix.writer(timeout=self.writer_timeout) as writer:
                    for eid in gone | set(catch_up):
                        writer.delete_by_term(EPISODE, str(eid))
                    for eid in catch_up:
                        for doc in self._documents(session, eid, latest[eid]):
                            writer.add_document(**doc)
            self._point_to(generation)
        states = {eid: ("failed" if eid in failed else "indexed") for eid in latest}
        self._mark(session, states)
        return len(latest) - len(failed)

    def health(self, session: Session, deep: bool = False) -> str:
        """ "ok", or what keeps the search from finding everything, in French: for /healthz. deep:
        every episode's stamp compared with the database, and a search run."""
        damage = self.confirmed_damage()
        if damage and self.open_session is not None:
            self.repair()  # the server mends what it finds, as a search would
        if damage:
            doing = "reconstruction en cours" if self.repairing() else "lancez « plateau reindex »"
            if self.repair_failed and not self.repairing():
                doing = f"la reconstruction a échoué ({self.repair_failed}) ; {doing}"
            return f"endommagé : {'; '.join(damage)} ; {doing}"
        waiting = session.exec(select(func.count()).where(Episode.index_state != "indexed")).one()
        if waiting:
            return f"en retard : {waiting} épisode(s) à indexer (repris à la prochaine écriture ou au démarrage)"
        if deep:
            problems = self.check(session)
            if problems:
                return "en désaccord avec la base : " + " ".join(problems)
            from app.search.service import SearchRequest

            try:
                word = next(iter(self.searcher().searcher.reader().lexicon(EXACT)), b"").decode("utf-8")
                failed = word and self.search(session, SearchRequest(q=f'"{word}"')).error
            except Exception:
                log.exception("healthz: the test search failed")
                failed = "erreur"
            if failed:
                return "illisible : une recherche d'essai échoue ; lancez « plateau reindex »"
        return "ok"

    def check(self, session: Session) -> list[str]:
        """Where the index and the database disagree, in French; [] when they agree."""
        generation = self._generation()
        damage = self.confirmed_damage()
        if damage:
            return [f"Index endommagé : {what}." for what in damage] + ["Lancez « plateau reindex »."]
        try:
            held = self._indexed_stamps(generation)
        except Exception as exc:
            return [f"L'index de recherche est illisible ({exc}) : lancez « plateau reindex »."]
        orphans = len(set(held) - set(episode_stamps(session)))
        return disagreements(
            session, held, f"{orphans} épisode(s) supprimé(s) de la base restent dans l'index." if orphans else None
        )

    # --- reading --------------------------------------------------------------------------

    def searcher(self) -> ThreadSearcher:
        """This thread's searcher, reopened after a swap and refreshed after writes. IndexDamaged
        when the index cannot be read (and a repair starts, in the server)."""
        if self.repairing():  # what the folder holds meanwhile may be an empty index: no silent 0 hits
            raise IndexDamaged(self._damaged[1] if self._damaged else "index en reconstruction", repairing=True)
        try:
            return self._current_searcher()
        except _Unreadable as unreadable:
            failure = unreadable
        self.forget_searcher()
        if not self.confirmed_damage():  # another process's commit was replacing the table: again
            try:
                return self._current_searcher()
            except _Unreadable as unreadable:
                failure = unreadable
            self.forget_searcher()
        self.damaged(cause=failure.__cause__)

    def _current_searcher(self) -> ThreadSearcher:
        current: ThreadSearcher | None = getattr(self._local, "current", None)
        generation = self._generation()
        if current is not None and current.generation == generation:
            if not current.intact():
                raise _Unreadable("a segment changed size under its searcher")
            if current.searcher.up_to_date():
                return current
            self._local.current = None
            try:
                current = ThreadSearcher(generation, current.ix, reopened(current), self._segment_cache)
            except Exception as exc:
                with suppress(Exception):
                    current.searcher.close()
                raise _Unreadable("the index could not be reopened") from exc
        else:
            if current is not None:
                self.forget_searcher()
            if not self._exists(generation):
                # prepare_data() made one: gone since, the archive would look empty
                raise _Unreadable("no index")
            assert generation is not None  # it exists
            try:
                ix = self._open(generation)
                current = ThreadSearcher(generation, ix, ix.searcher(), self._segment_cache)
            except Exception as exc:
                raise _Unreadable("the index could not be opened") from exc
        self._local.current = current
        return current

    # --- damage and repair ------------------------------------------------------------------

    def damage(self) -> list[str]:
        """What keeps the index from being read, in French; [] when every segment is whole."""
        generation = self._generation()
        if not self._exists(generation):
            return ["l'index de recherche est absent (dossier supprimé ?)"]
        assert generation is not None
        storage = FileStorage(str(self.index_dir / generation))
        try:
            segments = TOC.read(storage, "MAIN").segments
        except Exception as exc:
            return [f"la table des segments de l'index est illisible ({type(exc).__name__})"]
        return [found for segment in segments if (found := segment_damage(storage, segment))]

    def confirmed_damage(self, attempts: int = 3, pause: float = 0.05) -> list[str]:
        """damage(), looked at again before it is believed: while another process commits, the
        table of segments it replaces is briefly missing, and a healthy index would read as gone."""
        for attempt in range(attempts):
            found = self.damage()
            if not found:
                return []
            if attempt < attempts - 1:
                time.sleep(pause)
        return found

    def damaged(self, generation: str | None = None, cause: BaseException | None = None) -> NoReturn:
        """Raise IndexDamaged for this generation (the current one by default), naming the damage;
        the server repairs it."""
        generation = generation or self._generation()
        what = "; ".join(self.damage()) or f"l'index de recherche est illisible ({type(cause).__name__})"
        self._damaged = (generation, what)
        if self.open_session is not None:
            self.repair()
        raise IndexDamaged(what, repairing=self.repairing()) from cause

    def repair(self) -> None:
        """Rebuild the index from the database in a thread, while pages are served (searches answer
        503 until the new generation is in place). One repair per process, and one process repairs:
        the others wait for its lock, then read the new generation."""
        with self._merge_lock:
            if self._repair is not None and self._repair.is_alive():
                return
            self._repair = threading.Thread(target=self._repair_now, name="index-repair", daemon=True)
            self._repair.start()

    def _rebuild_lock(self):
        """Held by the process that rebuilds at startup or repairs: another one waits for it, then
        reads the new generation rather than building one more."""
        return self._folder_lock(".rebuild.lock")

    def _repair_now(self) -> None:
        assert self.open_session is not None  # repair() is called only when it is set
        try:
            with self._rebuild_lock():
                if not self.damage():
                    return  # another process repaired it meanwhile
                log.warning("l'index est endommagé (%s) : reconstruction", "; ".join(self.damage()))
                with self.open_session() as session:
                    # one process: the server keeps a core for its readers, and a server stopped
                    # mid-repair leaves no writer process waiting forever for its parent
                    count = self.rebuild(session, procs=1)
            self.repair_failed = None
            log.warning("index reconstruit : %s épisode(s)", count)
        except Exception as exc:
            self.repair_failed = f"{type(exc).__name__}: {exc}"
            log.exception("the damaged index could not be rebuilt")

    def repairing(self) -> bool:
        return self._repair is not None and self._repair.is_alive()

    def notice(self) -> str | None:
        """What the pages say while the index is damaged: None once it is whole again."""
        if self.repairing():
            return (
                "La recherche est indisponible quelques instants : son index, endommagé, est en cours de "
                "reconstruction. Les épisodes restent consultables."
            )
        if self._damaged is None or self._damaged[0] != self._generation():
            return None  # never damaged, or another generation (a repair, a reindex) is in place
        return (
            "La recherche est indisponible : son index est endommagé. "
            "Un administrateur doit lancer « plateau reindex »."
        )

    def forget_searcher(self) -> None:
        current = getattr(self._local, "current", None)
        self._local.current = None
        if current is not None:
            with suppress(Exception):  # a searcher already closed by a swap
                current.searcher.close()

    def search(self, session: Session, request):
        from app.search.service import run_search

        return run_search(self, session, request)


def disagreements(session: Session, held: dict[int, str], orphans: str | None, layout: str | None = None) -> list[str]:
    """Where what a search engine holds (each episode's stamp, written with the engine's `layout`)
    and the database disagree, in French, for `plateau check`: [] when they agree. `orphans`: the
    engine's own words for what it holds of episodes the database no longer has, if any."""
    stamps = episode_stamps(session, layout=layout)
    problems = []
    if len(held) != len(stamps):
        problems.append(f"La base compte {len(stamps)} épisodes, l'index {len(held)}.")
    slugs = dict(session.exec(select(Episode.id, Episode.slug)).all())
    missing = sorted(slugs[e] for e in stamps if e not in held)
    stale = sorted(slugs[e] for e, s in stamps.items() if e in held and held[e] != s)
    failed = sorted(session.exec(select(Episode.slug).where(Episode.index_state == "failed")).all())
    if missing:
        problems.append(f"{len(missing)} épisode(s) absent(s) de l'index : {_sample(missing)}.")
    if stale:
        problems.append(f"{len(stale)} épisode(s) périmé(s) dans l'index : {_sample(stale)}.")
    if orphans:
        problems.append(orphans)
    if failed:
        problems.append(f"{len(failed)} épisode(s) dont l'indexation a échoué : {_sample(failed)}.")
    if problems:
        problems.append("Lancez « plateau reindex » pour reconstruire l'index.")
    return problems


class _Aside:
    """The index a bulk ingest writes beside the current generation (SearchIndex.writing_aside): a
    folder of its own, one writer (its writer processes) for every batch, opened at the first.

    The folder is locked (IN_USE) for the writer's life, so that remove_stale_generations, run by
    every command's start, removes it only once its process is gone."""

    PREFIX = "aside-"
    IN_USE = "IN_USE"

    def __init__(self) -> None:
        self.path: Path | None = None
        self.writer: Any = None  # Whoosh's MpWriter, once opened
        self._lock: IO | None = None
        self.touched: set[int] = set()  # every episode given: their copies in the current index go
        self.stamps: dict[int, str] = {}  # episode -> the stamp of what was written aside
        self.failed: set[int] = set()  # its documents could not be made
        self.again: set[int] = set()  # given twice: indexed again from the database at the end
        self.added = 0  # documents written
        self.error: Exception | None = None  # the write failed: every episode given is marked failed

    def _open(self, index: SearchIndex) -> None:
        # made under a name no one removes, locked, then named: the lock follows the file
        hidden = index.index_dir / f".{self.PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        hidden.mkdir(parents=True)
        lock = self._lock = open(hidden / self.IN_USE, "a+")  # noqa: SIM115  (held until discard())
        fcntl.flock(lock, fcntl.LOCK_EX)
        self.path = hidden.with_name(hidden.name[1:])
        hidden.rename(self.path)
        ix = windex.create_in(str(self.path), index.schema)
        self.writer = ix.writer(**index.writer_options(limits.WRITER_PROCS))

    def add(self, index: SearchIndex, session: Session, ids: list[int]) -> None:
        """index_episodes() within writing_aside(): their documents to the writer. An error (a
        read-only or full index folder) ends the writing, not the ingest: the files go on being
        stored, and their episodes are marked failed at the end, as a failed write marks them."""
        self.again.update(self.touched.intersection(ids))
        fresh = [eid for eid in ids if eid not in self.touched]
        self.touched.update(fresh)
        if self.error is not None:
            return
        try:
            if self.writer is None:
                self._open(index)
            for eid, stamp in episode_stamps(session, fresh).items():
                written = index._write_episode(self.writer, session, eid, stamp)
                if written is None:
                    self.failed.add(eid)
                    continue
                self.added += written
                self.stamps[eid] = stamp
        except Exception as exc:
            log.exception("writing the index aside failed")
            self.error = exc
            self.discard()

    def finish(self) -> list:
        """Commit the writer (its processes write their segments); the segments written. Whoosh
        takes what its writer processes return and goes on without those that died (killed, or a
        full disk): their documents would be lost, and their episodes marked indexed."""
        if self.writer is None:
            return []
        if not self.added:
            cancel(self.writer)
            self.writer = None
            return []
        tasks = list(getattr(self.writer, "tasks", ()))
        self.writer.commit()  # on failure, discard() ends its processes
        self.writer = None
        assert self.path is not None  # opened with the writer
        segments = TOC.read(FileStorage(str(self.path)), "MAIN").segments
        written = sum(segment.doc_count_all() for segment in segments)
        if written != self.added or any(task.exitcode for task in tasks):
            raise OSError(errno.EIO, f"{written} documents écrits sur {self.added}")
        return segments

    def discard(self) -> None:
        """Cancel what is left of the writer, and remove the folder."""
        if self.writer is not None:
            with suppress(Exception):
                cancel(self.writer)
            self.writer = None
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @classmethod
    def remove_if_left(cls, path: Path) -> bool:
        """Remove the folder of a bulk ingest whose process is gone; whether it did."""
        if not path.is_dir():
            return False
        try:
            with open(path / cls.IN_USE, "a+") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(path, ignore_errors=True)
        except BlockingIOError:
            return False  # its ingest is running
        except OSError:
            return False  # cannot tell: leave it
        return True


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _sample(slugs: list[str], n: int = 5) -> str:
    return ", ".join(slugs[:n]) + (" …" if len(slugs) > n else "")


_indexes: dict[Path, SearchIndex] = {}
_indexes_lock = threading.Lock()


_apart_lock = threading.Lock()
_apart: list["ProcessPoolExecutor"] = []


def _apart_pool() -> "ProcessPoolExecutor":
    """The process that indexes the server's small writes, one per worker, started at the first
    one (spawned: a fork would copy this worker's threads and locks) and niced."""
    # imported here: only the server writes apart, and the commands' start would load them for nothing
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _apart_lock:
        if not _apart:
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(1, mp_context=context, initializer=_start_apart, initargs=(os.getpid(),))
            # The process starts at its first task, from the thread that submits it, whose priority it
            # inherits (on Linux, a thread's own). Its start, a new interpreter importing the app, is
            # a second of CPU: started from a thread of lower priority, so that the searches of the
            # worker go first (at the first uploads under load, they took twice their time for 2 s).
            # Only the process: the pool's own threads, started at the first submit, stay at the
            # worker's priority (niced, one could be descheduled holding the GIL).
            if sys.platform.startswith("linux") and hasattr(pool, "_adjust_process_count"):
                starter = threading.Thread(target=_start_at_low_priority, args=(pool,), name="start-indexing")
                starter.start()
                starter.join()
            _apart.append(pool)
        return _apart[0]


def _start_at_low_priority(pool: "ProcessPoolExecutor") -> None:
    os.nice(limits.INDEX_NICENESS)  # this thread's only (Linux), and it ends here
    pool._adjust_process_count()  # starts the process, which inherits it


def _start_apart(worker: int) -> None:
    """In the indexing process, first: a lower priority (where threads have their own, as on Linux,
    it started at it), and an end with the worker's. Its queue holds both ends of its pipe, so a
    worker killed outright (SIGKILL, the OOM killer) would otherwise leave it waiting forever."""
    os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), limits.INDEX_NICENESS))

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(1.0)
        os._exit(0)  # nothing of its own to save: a write in progress is cancelled with its lock

    threading.Thread(target=watch, name="watch-worker", daemon=True).start()


def _forget_apart_pool(wait: bool = False) -> None:
    """Stop the indexing process: at once (wait=False, a broken pool), or once its write is done."""
    with _apart_lock:
        if _apart:
            _apart.pop().shutdown(wait=wait, cancel_futures=not wait)


def _index_in_child(settings, episode_ids: list[int]) -> str | None:
    """In the indexing process: index_episodes() on its own index object and session; why it
    failed, when it did."""
    from app.db import get_engine

    index = whoosh_index(settings)
    with Session(get_engine(settings)) as session:
        index.index_episodes(session, episode_ids)
    return index.last_write_error


def whoosh_index(settings) -> SearchIndex:
    """One SearchIndex per index folder per process (SQLite mode; app/search/engines.py chooses)."""
    key = Path(settings.index_dir).resolve()
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = SearchIndex(key)
        index = _indexes[key]
        index.memory_mb = settings.index_memory_mb
        index.writer_timeout = settings.index_writer_timeout
        return index

"""Turn transcript files into episodes: one transaction per file, idempotent by content hash."""

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import insert
from sqlmodel import Session, col, delete, select

from app import limits
from app.db import begin_writing
from app.ingest.description import episode_title
from app.ingest.formats import SIDECAR_SUFFIX, is_sidecar_name, is_transcript_name, parse_transcript
from app.ingest.shows import show_named_in
from app.ingest.sidecar import merge_facts, parse_sidecar
from app.ingest.transcript import EpisodeFacts, GuestMention, Transcript, TranscriptError
from app.models import Appearance, CaptionLine, Episode, utcnow
from app.names import fold
from app.services import episodes as episode_service
from app.services import guests as guest_service
from app.services import revisions as revision_service

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from app.search import SearchIndex


@dataclass
class IngestOutcome:
    source: str
    status: str  # "added", "updated", "unchanged", "failed" or "skipped"
    slug: str | None = None
    reason: str | None = None
    episode_id: int | None = None
    searchable: bool = True  # False when the episode is in the database but its index write failed
    # what a new ingest of an episode editors changed did with their edits: kept or replaced
    edits: revision_service.Carried | None = None


def too_big(size: int) -> str:
    """The refusal of a file past the limit, with its real size."""
    return f"fichier trop gros ({megabytes(size)}, au plus {megabytes(limits.MAX_FILE_BYTES)})"


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")


def source_name(name: str) -> str:
    """The file name an episode is known by: its last part, without control or bidi characters
    (NUL, U+202E…), which would be stored and shown as they are."""
    cleaned = "".join(c for c in Path(name).name if unicodedata.category(c) not in ("Cc", "Cf"))
    return cleaned.strip() or "envoi.txt"


DISK_FULL = "disque plein"  # how a refusal that is the server's storage, not the file, begins
READ_ONLY = "archive en lecture seule"


def internal_reason(error: Exception) -> str:
    """What a refused file's summary says of an unexpected error: never the SQL or the traceback,
    which the server's log keeps."""
    text = str(error).lower()
    if (
        (isinstance(error, OSError) and error.errno == errno.ENOSPC)
        or "disk is full" in text
        or "disque plein" in text
        or "no space left" in text
    ):
        return f"{DISK_FULL} : rien n'a été écrit ; libérez de la place puis relancez"
    if (isinstance(error, OSError) and error.errno == errno.EROFS) or "readonly database" in text:
        return f"{READ_ONLY} : rien n'a été écrit ; le dossier de données est monté sans écriture"
    if "database is locked" in text or "lock timeout" in text:  # SQLite's busy timeout, PostgreSQL's
        return "la base est occupée par une autre écriture : relancez dans un instant"
    return "erreur interne : rien n'a été écrit (le détail est dans le journal du serveur)"


def read_file(path: Path) -> tuple[bytes, int]:
    """A transcript's first MAX_FILE_BYTES + 1 bytes and its size. A tube, a device or a socket is
    refused before anything is read (opening a tube would wait for a writer forever), and a file
    past the limit is not read past it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise TranscriptError(f"lecture impossible : {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TranscriptError("pas un fichier ordinaire (tube, périphérique ou socket) : ignoré")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return handle.read(limits.MAX_FILE_BYTES + 1), info.st_size
    except OSError as error:
        raise TranscriptError(f"lecture impossible : {error.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)


def ingest_bytes(
    session: Session,
    name: str,
    data: bytes,
    *,
    index: "SearchIndex | None",
    sidecar: bytes | None = None,
    show: str | None = None,
    media_url: str | None = None,
    overrides: EpisodeFacts | None = None,
    today: date | None = None,
    size: int | None = None,
    edits: str = "keep",
    author: str = revision_service.COMMAND_LINE,
) -> IngestOutcome:
    """Ingest one transcript. A refused file changes nothing; a known, unchanged one writes nothing
    (but an earlier episode the index could not take is tried again). edits: what a new ingest of
    an episode editors changed does with their edits, "keep" or "replace" (services/revisions.py)."""
    batch = IngestBatch(session, index)
    outcome = batch.add(
        name,
        data,
        sidecar=sidecar,
        show=show,
        media_url=media_url,
        overrides=overrides,
        today=today,
        size=size,
        edits=edits,
        author=author,
    )
    try:
        batch.finish()
        batch.read_index_states()
    finally:
        batch.running.close()
    return outcome


class RunningBatches:
    """Every ingest batch holds a shared lock on one file of the index folder while it runs; one
    that can take it alone first knows that no other batch is running (in any process), so that
    episodes left pending were left by a batch that died."""

    def __init__(self, folder: Path | None):
        self.alone = True
        self._file = None
        if folder is None:
            return
        from app.search.index import INGEST_LOCK  # loaded with the index that gave the folder

        try:
            self._file = open(folder / INGEST_LOCK, "a+")  # noqa: SIM115  (held for the batch's life, closed by close())
        except OSError:
            return  # a read-only folder: no batch writes there anyway
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.alone = False
        fcntl.flock(self._file, fcntl.LOCK_SH)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # releases the lock
            self._file = None


class IngestBatch:
    """Files ingested together: each file in its own transaction, then once for the whole batch
    what depends on the archive as a whole (introductions, people's names, empty shows) and one
    index writer for the batch's episodes.

    If the process dies between a file's commit and the batch's end, its episode stays marked
    "pending" and is indexed by the next ingest, `plateau reindex` or the server's start."""

    def __init__(self, session: Session, index: "SearchIndex | None"):
        self.session = session
        self.index = index
        self.written: list[IngestOutcome] = []
        self.indexing: list[IngestOutcome] = []  # written, given to the index: read_index_states()
        self.running = RunningBatches(index.index_dir if index is not None else None)
        # Work an earlier batch left undone: episodes whose indexing failed are tried again, and
        # episodes committed by a batch that never finished (pending) mean its people were never
        # settled, so the first settlement looks at the whole archive. Pending episodes while other
        # batches run are theirs, in progress: taking them up would redo their work (an upload
        # during a `plateau ingest` of 200 files would settle the whole archive and index them all).
        self.unfinished: dict[int, str] = {
            episode_id: state
            for episode_id, state in session.exec(
                select(Episode.id, Episode.index_state).where(Episode.index_state != "indexed")
            ).all()
            if episode_id is not None and (self.running.alone or state == "failed")
        }
        self.known_before: set | None = (
            None if "pending" in self.unfinished.values() else guest_service.known_spellings(session)
        )
        self.known_stale = False  # known_before to read again before the next file is written

    def add(
        self,
        name: str,
        data: bytes,
        *,
        sidecar: bytes | None = None,
        show: str | None = None,
        media_url: str | None = None,
        overrides: EpisodeFacts | None = None,
        today: date | None = None,
        size: int | None = None,
        edits: str = "keep",
        author: str = revision_service.COMMAND_LINE,
    ) -> IngestOutcome:
        """size: the file's real size, when data holds only its first bytes (a file past the limit).
        edits: "keep" applies editors' changes again to the new lines, "replace" drops them (then
        the same file is ingested again even though unchanged)."""
        session = self.session
        source = source_name(name)
        overrides = overrides or EpisodeFacts()
        overrides.show = show or overrides.show
        overrides.media_url = media_url or overrides.media_url
        digest = content_hash(data, sidecar, overrides)
        existing = session.exec(select(Episode).where(Episode.source == source)).first()
        if existing and existing.content_hash == digest and (unchanged := _unchanged(session, existing, edits)):
            return unchanged
        try:
            if len(data) > limits.MAX_FILE_BYTES:
                raise TranscriptError(too_big(size if size is not None else len(data)))
            transcript = parse_transcript(source, data, today=today or date.today())
            facts = transcript.facts
            found_in = "description"
            if sidecar is not None:
                stated = parse_sidecar(sidecar)
                facts = merge_facts(facts, stated)
                found_in = "sidecar" if stated.guests else found_in
            facts = merge_facts(facts, overrides)
            check_media_url(facts.media_url)
            if self.known_stale:  # a finished batch taking more files: the people it now knows
                self.known_before = guest_service.known_spellings(session)
                self.known_stale = False
            # from here to the commit, no other writer: the free slug, the show and the people
            # read below are still free and still there when written
            begin_writing(session)
            # the same file sent twice at once: the other writer may have stored it since the lookup
            existing = session.exec(select(Episode).where(Episode.source == source)).first()
            if existing and existing.content_hash == digest and (unchanged := _unchanged(session, existing, edits)):
                session.commit()  # ends the write transaction: nothing to write
                return unchanged
            facts, show_inferred = with_show_heard(session, facts, transcript)
            episode = save_episode(
                session, source, digest, transcript, facts, existing, found_in, show_inferred=show_inferred
            )
            carried = revision_service.after_ingest(session, episode, edits, author=author) if existing else None
            session.commit()
        except TranscriptError as error:
            session.rollback()
            return IngestOutcome(source, "failed", reason=str(error))
        except Exception as error:  # a database error must not leave a half-written episode either
            session.rollback()
            log.exception("ingest of %r failed", source)
            return IngestOutcome(source, "failed", reason=internal_reason(error))
        outcome = IngestOutcome(
            source, "updated" if existing else "added", episode.slug, episode_id=episode.id, edits=carried
        )
        self.written.append(outcome)
        return outcome

    def finish(self) -> None:
        """Settle the people and index what this batch wrote; the batch can then take more files."""
        if not self.written and not self.unfinished:
            return
        ids = [o.episode_id for o in self.written if o.episode_id is not None]
        try:
            begin_writing(self.session)  # people merged or created, shows removed: one writer at a time
            settle_archive(self.session, ids, self.known_before)
        except Exception:  # a full disk: the episodes are stored; guests only their introduction names stay unlinked
            self.session.rollback()
            log.exception("linking the guests of episodes %s failed", ids)
        if self.index is not None:
            self.index.index_episodes(self.session, ids + list(self.unfinished))
            self.indexing.extend(self.written)
        # read when the batch takes another file, not here: most batches end with this finish
        self.known_stale = True
        self.written = []
        self.unfinished = {}

    def read_index_states(self) -> None:
        """Whether each episode written is searchable, once its index write is done: after finish(),
        or after the end of SearchIndex.writing_aside() when the index was written aside."""
        if not self.indexing:
            return
        waiting = set(self.session.exec(select(Episode.id).where(Episode.index_state != "indexed")).all())
        for outcome in self.indexing:
            outcome.searchable = outcome.episode_id not in waiting
        self.indexing = []


def _unchanged(session: Session, episode: Episode, edits: str) -> IngestOutcome | None:
    """The outcome of a file ingested again as it was; None when it must be written all the same:
    its edits are to be replaced by what the file says."""
    assert episode.id is not None  # a stored episode
    edited = revision_service.has_edits(session, episode.id)
    if edited and edits == "replace":
        return None
    carried = revision_service.Carried("kept") if edited else None
    return IngestOutcome(episode.source, "unchanged", episode.slug, episode_id=episode.id, edits=carried)


def settle_archive(session: Session, episode_ids: list[int], known_before: set | None) -> None:
    """What one more episode changes elsewhere: introductions heard, names settled, empty shows gone."""
    guest_service.link_introductions(session, episode_ids, known_before)
    guest_service.settle_names(session)
    episode_service.drop_empty_shows(session)
    session.commit()


def with_show_heard(session: Session, facts: EpisodeFacts, transcript: Transcript) -> tuple[EpisodeFacts, bool]:
    """The facts with a show, when neither description, sidecar nor command names one and the first
    minutes name a known show ("le grand débrief de l'ActuTech de Smartech"); and whether it was
    inferred so. A show that is named is never replaced."""
    if facts.show:
        return facts, False
    heard = show_named_in(
        guest_service.introduction_of((c.start, c.text) for c in transcript.captions),
        episode_service.show_spellings(session),
    )
    if heard is None:
        return facts, False
    return merge_facts(facts, EpisodeFacts(show=heard)), True  # a title made from the facts is made again


def check_media_url(url: str | None) -> None:
    """Pages link to the video: only a well-formed web address may become that link (never `javascript:`)."""
    if not url:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it is what refuses a malformed port)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or re.search(r"[\s\x00-\x1f\x7f]", url)
    ):
        raise TranscriptError(f"media_url doit être une adresse web en http:// ou https:// (reçu « {url[:80]} »)")


def content_hash(data: bytes, sidecar: bytes | None, overrides: EpisodeFacts) -> str:
    """Same bytes, same sidecar and same stated fields: nothing to do."""
    digest = hashlib.sha256(data)
    digest.update(b"\0sidecar\0" + (sidecar or b""))
    digest.update(json.dumps(asdict(overrides), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def save_episode(
    session: Session,
    source: str,
    digest: str,
    transcript: Transcript,
    facts: EpisodeFacts,
    episode: Episode | None,
    found_in: str,
    *,
    show_inferred: bool = False,
) -> Episode:
    """Write the episode, its caption lines and its people in the caller's transaction.

    What the episode changes elsewhere in the archive is settled by its batch (settle_archive)."""
    title = facts.title or episode_title(facts) or Path(source).stem
    show = episode_service.find_or_create_show(session, facts.show, facts.channel) if facts.show else None
    captions = transcript.captions
    if episode is None:
        # The slug is the episode's lasting address: a show only inferred does not go into it, so an
        # editor who corrects the show leaves no wrong name in the URL.
        stated_show = None if show_inferred else facts.show
        base = episode_service.episode_slug_base(title, stated_show, facts.aired_on, source)
        episode = Episode(
            slug=episode_service.unique_episode_slug(session, base, None),
            source=source,
            content_hash=digest,
            format=transcript.format,
            title=title,
        )
    else:
        session.exec(delete(CaptionLine).where(col(CaptionLine.episode_id) == episode.id))
        session.exec(delete(Appearance).where(col(Appearance.episode_id) == episode.id))
    episode.content_hash = digest
    episode.format = transcript.format
    episode.title = title
    episode.show_id = show.id if show else None
    episode.show_inferred = show_inferred and show is not None
    episode.channel = facts.channel
    episode.aired_on = facts.aired_on
    episode.description = facts.description
    episode.media_url = facts.media_url
    episode.duration = max((c.end for c in captions), default=0.0)
    episode.introduction = guest_service.introduction_of((c.start, c.text) for c in captions)
    episode.caption_count = len(captions)
    episode.index_state = "pending"
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    add_people(session, episode, facts, found_in)
    assert episode.id is not None  # flushed above
    # the named speakers are the episode's people when they can be (add_people first)
    speakers = guest_service.match_speakers(
        session, episode.id, dict.fromkeys(c.speaker for c in captions if c.speaker)
    )
    session.execute(
        insert(CaptionLine),
        [
            {
                "episode_id": episode.id,
                "position": i,
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "speaker": c.speaker,
                "person_id": speakers.get(c.speaker) if c.speaker else None,
            }
            for i, c in enumerate(captions)
        ],
    )
    session.flush()
    return episode


def add_people(session: Session, episode: Episode, facts: EpisodeFacts, found_in: str) -> None:
    assert episode.id is not None  # flushed by save_episode before its people are added
    people: list[tuple[str, GuestMention]] = [("guest", g) for g in facts.guests]
    if facts.host:
        people.insert(0, ("host", GuestMention(facts.host)))
    panel: set[int] = set()
    spellings: set[str] = set()
    for position, (kind, mention) in enumerate(people):
        if fold(mention.name) in spellings:
            continue  # the same name twice in one description is one person
        spellings.add(fold(mention.name))
        person = guest_service.find_or_create_person(session, mention.name, exclude=panel)
        assert person.id is not None  # found in the table, or added and flushed
        panel.add(person.id)
        session.add(
            Appearance(
                episode_id=episode.id,
                person_id=person.id,
                kind=kind,
                role=mention.role,
                named_as=mention.name,
                found_in=found_in,
                position=position,
            )
        )
    session.flush()


@dataclass
class Candidate:
    path: Path
    sidecar: Path | None


def collect(paths: Iterable[Path]) -> tuple[list[Candidate], list[IngestOutcome]]:
    """The transcript files under `paths` (folders recursed), and what was skipped and why."""
    candidates: list[Candidate] = []
    skipped: list[IngestOutcome] = []
    for given in paths:
        given = Path(given)
        if given.is_dir():
            root = given.resolve()
            for folder, dirs, files in os.walk(given, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    path = Path(folder) / name
                    if path.is_symlink() and not path.resolve().is_relative_to(root):
                        skipped.append(
                            IngestOutcome(str(path), "skipped", reason="lien vers l'extérieur du dossier, non suivi")
                        )
                    elif is_sidecar_name(name):
                        continue  # read with its transcript
                    elif not is_transcript_name(name):
                        skipped.append(
                            IngestOutcome(
                                str(path), "skipped", reason="pas une transcription (.txt, .vtt, .srt, .json)"
                            )
                        )
                    else:
                        candidates.append(Candidate(path, sidecar_of(path)))
        elif given.is_file() or given.exists():  # not a regular file: refused when read, with why
            candidates.append(Candidate(given, sidecar_of(given)))
        else:
            skipped.append(IngestOutcome(str(given), "failed", reason="fichier ou dossier introuvable"))
    return candidates, skipped


def sidecar_of(path: Path) -> Path | None:
    stem = path.name.rsplit(".", 1)[0]
    candidate = path.with_name(stem + SIDECAR_SUFFIX)
    return candidate if candidate.is_file() else None


def ingest_paths(
    session: Session,
    paths: Iterable[Path],
    *,
    index: "SearchIndex | None",
    show: str | None = None,
    media_url: str | None = None,
    progress: Callable[[IngestOutcome], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_indexing: Callable[[], None] | None = None,
    edits: str = "keep",
) -> list[IngestOutcome]:
    """on_indexing: called once every file is stored, before the last batch's index write (and,
    after a bulk ingest, the commit of what was written aside: SearchIndex.writing_aside)."""
    candidates, outcomes = collect(paths)
    if on_total:
        on_total(len(candidates))
    batch = IngestBatch(session, index)
    try:
        # more than one batch: one index written aside for them all, rather than segments per batch
        with (
            index.writing_aside(session)
            if index is not None and len(candidates) > limits.BATCH_FILES
            else nullcontext()
        ):
            _ingest_candidates(batch, candidates, outcomes, show, media_url, edits, progress)
            if on_indexing:
                on_indexing()
            batch.finish()
        batch.read_index_states()
    finally:
        batch.running.close()
    return outcomes


def _ingest_candidates(
    batch: IngestBatch,
    candidates: list[Candidate],
    outcomes: list[IngestOutcome],
    show: str | None,
    media_url: str | None,
    edits: str,
    progress: Callable[[IngestOutcome], None] | None,
) -> None:
    first_with_name: dict[str, Path] = {}
    for candidate in candidates:
        # An episode is known by its file name: a second file of the same name would overwrite the first.
        earlier = first_with_name.setdefault(candidate.path.name, candidate.path)
        if earlier != candidate.path:
            outcome = IngestOutcome(
                str(candidate.path),
                "failed",
                reason=f"même nom de fichier que {earlier} dans cette ingestion : renommez l'un des deux",
            )
        else:
            try:
                data, size = read_file(candidate.path)
                sidecar = read_file(candidate.sidecar)[0] if candidate.sidecar else None
            except TranscriptError as error:
                outcome = IngestOutcome(str(candidate.path), "failed", reason=str(error))
            else:
                outcome = batch.add(
                    candidate.path.name, data, sidecar=sidecar, show=show, media_url=media_url, size=size, edits=edits
                )
        outcomes.append(outcome)
        if progress:
            progress(outcome)
        if len(batch.written) >= limits.BATCH_FILES:
            batch.finish()

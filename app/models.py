"""The archive's tables: shows, episodes, people, appearances, caption lines; editors, sessions, revisions."""

from datetime import UTC, date, datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlalchemy import Text as SAText
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Show(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    channel: str | None = None


class Episode(SQLModel, table=True):
    # what every search reads of each matched episode (its date and show), from the index alone
    __table_args__ = (Index("ix_episode_aired_on_show_id", "aired_on", "show_id"),)
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    source: str = Field(unique=True, index=True)  # file name it was ingested from: its identity
    content_hash: str
    format: str
    title: str
    show_id: int | None = Field(default=None, foreign_key="show.id", index=True)
    # the show was heard in the first minutes, not named by the description or a sidecar
    show_inferred: bool = False
    channel: str | None = None
    aired_on: date | None = Field(default=None, index=True)
    description: str | None = Field(default=None, sa_column=Column(SAText))
    media_url: str | None = None
    duration: float = 0.0
    # folded words of the first minutes, where a host introduces the panel (see services/guests.py)
    introduction: str | None = Field(default=None, sa_column=Column(SAText))
    caption_count: int = 0  # number of caption lines, kept with them
    # "indexed", "pending" (committed, not yet in the index) or "failed" (retried at startup)
    index_state: str = Field(default="pending", index=True)
    ingested_at: datetime = Field(default_factory=utcnow)
    # read by every search (metadata.py checks whether the metadata changed): indexed, 10 ms → 1 ms at 5,000
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    # editors' changes to the caption lines (text, turns, labels) and their undos: part of the index's
    # stamp, so that `plateau check` and the startup catch an edit the index has not taken yet
    transcript_edits: int = 0


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str


class PersonAlias(SQLModel, table=True):
    __tablename__ = "person_alias"
    __table_args__ = (UniqueConstraint("person_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    name: str
    folded: str = Field(index=True)


class Appearance(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("episode_id", "person_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", index=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    kind: str  # "guest" or "host"
    role: str | None = None  # role and affiliation as this episode states them
    named_as: str  # the spelling this episode uses
    found_in: str  # "description", "sidecar", "introduction", "speaker" (their lines) or "editor"
    position: int = 0


class CaptionLine(SQLModel, table=True):
    __tablename__ = "caption_line"
    __table_args__ = (Index("ix_caption_line_episode_position", "episode_id", "position", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", ondelete="CASCADE")
    position: int
    start: float
    end: float
    text: str = Field(sa_column=Column(SAText, nullable=False))
    # who speaks, as the file names them ("Julien Pillot", "SPEAKER_00"); null: the file does not say
    speaker: str | None = None
    # the person that name was matched to; diarization labels ("SPEAKER_00") are linked to no one
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True, ondelete="SET NULL")
    # the machine's text when an editor corrected the line (app/services/revisions.py), else null:
    # the index holds both, so that a search for the old spelling still finds the line
    original_text: str | None = Field(default=None, sa_column=Column(SAText, nullable=True))


class Editor(SQLModel, table=True):
    """An account that may edit through the pages (`plateau user add`); the API keeps its bearer token."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    password_hash: str  # argon2id, with its parameters and salt (app/services/editors.py)
    created_at: datetime = Field(default_factory=utcnow)


class EditorSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is kept, so a copy
    of the database signs no one in."""

    __tablename__ = "editor_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    editor_id: int = Field(foreign_key="editor.id", index=True, ondelete="CASCADE")
    csrf_token: str  # sent back by every form (or HTMX's X-CSRF-Token header) of this session
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class LoginAttempt(SQLModel, table=True):
    """A sign-in attempt that has not (yet) succeeded: the rate limit counts them by name and by
    address, in the database, so that every worker process sees the same counts."""

    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)  # as typed, case-folded: unknown names count too
    address: str = Field(index=True)
    attempted_at: datetime = Field(default_factory=utcnow, index=True)


class Revision(SQLModel, table=True):
    """One change an editor made to an episode, kept forever: who, when, what, before, after, why.

    kind: "line" (a caption line's text), "turn" (from a line on, someone speaks), "label" (a
    diarization label is a person for the whole episode), "metadata" (title, show, date...), or
    "ingest" (the file was ingested again over the edits). before and after are JSON
    (app/services/revisions.py says what each kind keeps). Undoing one is a new revision of the same
    kind, its before and after swapped, that names the revision it undoes."""

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    author: str  # an editor's name, or "jeton d'administration" for the API's bearer token
    kind: str
    before: str = Field(sa_column=Column(SAText, nullable=False))
    after: str = Field(sa_column=Column(SAText, nullable=False))
    reason: str = Field(default="", sa_column=Column(SAText, nullable=False))
    undoes: int | None = Field(default=None, foreign_key="revision.id", ondelete="SET NULL")
    undone_by: int | None = Field(default=None, foreign_key="revision.id", ondelete="SET NULL")

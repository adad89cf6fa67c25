"""An episode's transcript as the page shows it: anchors, the marked moment, its quote and citation."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.ingest.speakers import is_anonymous
from app.models import CaptionLine, Person
from app.timecodes import Moment, format_timestamp

QUOTE_CHARS = 280


@dataclass(slots=True)
class Turn:
    """A change of speaker: the person (linked to their page) or the file's label alone."""

    name: str
    slug: str | None  # the person's page; None for a label linked to no one ("SPEAKER_01")
    role: str | None  # role and affiliation as this episode states them


@dataclass(slots=True)
class Line:
    position: int  # the caption line's position in the episode: its own anchor, "l-231", and `l=231` in a link
    start: float
    second: int
    anchor: str | None  # "t-754"; only the first line of a given second has one
    text: str
    end: float | None = None  # when the line stops being said, where the file says so
    speaker: str | None = None  # the file's speaker label, as stored
    person_id: int | None = None  # the person the label is linked to
    marked: bool = False
    parts: list[tuple[str, bool]] | None = None  # (text, is a searched word); None: nothing searched in it
    turn: Turn | None = None  # who speaks from this line on, when the speaker changes here

    @property
    def stamp(self) -> str:
        """ "12:34": formatted when shown, since the reading view shows it on a paragraph's first line only."""
        return format_timestamp(max(0.0, self.start))

    @property
    def target(self) -> str:
        """The anchor a link to this line lands on: the second's own when it is the first said in it."""
        return self.anchor or f"l-{self.position}"


CaptionRow = tuple[int, float, str, str | None, int | None, float | None]


def caption_lines(session: Session, episode_id: int) -> list[Line]:
    """The caption lines of an episode, in order, each with its anchor; speakers' turns come next (mark_turns).

    Plain rows rather than CaptionLine objects: building 4,000 ORM objects (a three-hour episode)
    took longer than rendering them. The rows come straight from the driver's cursor, one at a time
    (plain ints, floats and strings: no type of these columns needs SQLAlchemy to convert it):
    SQLAlchemy's Row objects and the ORM session's layer took half of the 4.5 ms of 4,000 lines, and
    rows kept beside the lines were as many more objects for the garbage collector to count."""
    # six columns: more than sqlmodel's select() is typed for, hence SQLAlchemy's and execute()
    stmt = (
        sa_select(
            col(CaptionLine.position),
            col(CaptionLine.start),
            col(CaptionLine.text),
            col(CaptionLine.speaker),
            col(CaptionLine.person_id),
            col(CaptionLine.end),
        )
        .where(col(CaptionLine.episode_id) == episode_id)
        .order_by(col(CaptionLine.position))
    )
    lines, seen = [], set()
    with session.connection().execute(stmt) as result:
        for position, start, text, label, person_id, end in cast(Iterable[CaptionRow], result.cursor):
            second = int(start)
            if second in seen:
                lines.append(Line(position, start, second, None, text, end, label, person_id))
            else:
                seen.add(second)
                lines.append(Line(position, start, second, f"t-{second}", text, end, label, person_id))
    return lines


def mark_turns(
    lines: list[Line], people: dict[int, Person] | None = None, roles: dict[str, str | None] | None = None
) -> None:
    """Mark each change of speaker with a Turn: `people` by id (the lines' linked people), `roles`
    by person slug (as this episode states them). A line with no label continues the turn."""
    people, roles = people or {}, roles or {}
    speaking: tuple[str | None, int | None] = (None, None)
    for line in lines:
        label, person_id = line.speaker, line.person_id
        if label is not None and (label, person_id) != speaking:
            person = people.get(person_id) if person_id is not None else None
            line.turn = Turn(person.name, person.slug, roles.get(person.slug)) if person else Turn(label, None, None)
        speaking = (label, person_id)


# How caption lines flow into the reading view's paragraphs. Lines are cut where the captioner's
# screen was full, not where a thought ends: a paragraph closes at a sentence end once it says
# enough, at a pause, at a change of speaker, and in any case before it becomes a wall of text.
PARAGRAPH_CHARS = 320  # a sentence end closes a paragraph from this length on
PARAGRAPH_MAX_CHARS = 700  # no paragraph grows past this, sentence end or not
PAUSE_SECONDS = 2.0  # this much silence after a line is a pause...
PAUSE_MIN_CHARS = 80  # ...that closes a paragraph already this long
SENTENCE_END = re.compile(r"[.!?…]+[»\"'’)\]\s]*$")


@dataclass(slots=True)
class Paragraph:
    """Caption lines read as one paragraph: one speaker, one stretch of speech."""

    lines: list[Line]

    @property
    def first(self) -> Line:
        return self.lines[0]

    @property
    def turn(self) -> Turn | None:
        """The speaker who starts talking here (a change of speaker always opens a paragraph)."""
        return self.lines[0].turn

    @property
    def marked(self) -> bool:
        return any(line.marked for line in self.lines)


def ends_sentence(text: str) -> bool:
    return SENTENCE_END.search(text) is not None


def paused_after(line: Line, following: Line) -> bool:
    """Silence between two lines. A file that gives no real end (a saved page ends a line where the
    next one starts) shows no pause."""
    if line.end is None or line.end <= line.start:
        return False
    return following.start - line.end >= PAUSE_SECONDS


def paragraphs(lines: list[Line]) -> list[Paragraph]:
    """The caption lines, in order, gathered into paragraphs.

    A paragraph opens at each change of speaker; it closes after a sentence end once it holds
    PARAGRAPH_CHARS, after a pause once it holds PAUSE_MIN_CHARS, and before a line that would take
    it past PARAGRAPH_MAX_CHARS. Every line is in exactly one paragraph."""
    found: list[Paragraph] = []
    current: list[Line] = []
    size = 0
    for i, line in enumerate(lines):
        length = len(line.text.strip()) + 1
        if current and (line.turn is not None or size + length > PARAGRAPH_MAX_CHARS):
            found.append(Paragraph(current))
            current, size = [], 0
        current.append(line)
        size += length
        following = lines[i + 1] if i + 1 < len(lines) else None
        if following is not None and (
            (size >= PARAGRAPH_CHARS and ends_sentence(line.text))
            or (size >= PAUSE_MIN_CHARS and paused_after(line, following))
        ):
            found.append(Paragraph(current))
            current, size = [], 0
    if current:
        found.append(Paragraph(current))
    return found


def line_number(text: str | None) -> int | None:
    """The `l` of a link (a caption line's position), or None when it is not one: it then only refines `t`."""
    if text is None or not re.fullmatch(r"[0-9]{1,9}", text.strip()):
        return None
    return int(text.strip())


def line_at(lines: list[Line], second: int, *, last: bool = False) -> int | None:
    """Index of the line being spoken at `second`.

    A link to a second opens on the first line said in it (the one holding the anchor); a range
    ends on the last line said by its end. Before the first line, the first line.
    """
    if not lines:
        return None
    if not last:
        exact = next((i for i, line in enumerate(lines) if line.second == second), None)
        if exact is not None:
            return exact
    found = 0
    for i, line in enumerate(lines):
        if line.second > second:
            break
        found = i
    return found


def mark(lines: list[Line], moment: Moment, duration: float, position: int | None = None) -> list[Line]:
    """Mark the line at the moment (or every line of a range); nothing past the end of the episode.

    `position` picks the line among those said in the moment's first second (a search hit's line,
    when several start in that second); a position elsewhere, or of no line, is ignored: the link
    still opens at its second.
    """
    if not lines or moment.start > max(duration, lines[-1].start) + 1:
        return []
    first = line_at(lines, moment.start)
    if position is not None:
        first = next(
            (i for i, line in enumerate(lines) if line.position == position and line.second == moment.start), first
        )
    last = line_at(lines, moment.end, last=True) if moment.end is not None else first
    assert first is not None and last is not None  # line_at finds a line in any list that has one
    marked = lines[first : last + 1]
    for line in marked:
        line.marked = True
    return marked


def quote_of(marked: list[Line]) -> str:
    """The passage a link quotes, shortened at a word when long."""
    return shorten(" ".join(line.text.strip() for line in marked))


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """The text cut at a word when longer than `limit`, with an ellipsis."""
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0]
        text = cut.rstrip(" ,;:") + "…"
    return text


def video_at(media_url: str, second: int) -> str:
    """The media URL opened at `second`: `t=` for the big video sites, a media fragment otherwise."""
    try:
        parts = urlsplit(media_url)
    except ValueError:  # ingest refuses such URLs; a page still never fails on one
        return media_url
    host = parts.netloc.lower()
    if any(site in host for site in ("youtube.", "youtu.be", "vimeo.", "dailymotion.", "dai.ly", "twitch.")):
        if "vimeo." in host:
            return urlunsplit(parts._replace(fragment=f"t={second}s"))
        key = "start" if ("dailymotion." in host or "dai.ly" in host) else "t"
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key]
        query.append((key, str(second)))
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(fragment=f"t={second}"))


def attribution(label: str | None, person: Person | None, role: str | None) -> str | None:
    """Who says a line, as a citation names them: "Julien Pillot (économiste, Inseec)", with the role
    this episode states; a name linked to no one as the file spells it; a diarization label
    ("SPEAKER_01") or no speaker: None, since it tells a reader nothing."""
    if person is not None:
        return f"{person.name} ({role})" if role else person.name
    return label if label and not is_anonymous(label) else None

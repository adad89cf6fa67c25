"""Speaking time: how long each caption line, each speaker of an episode and each person talks.

A line is spoken from its start to its end, cut at the next line's start when captions overlap (each
second counts once); a line without an end (page text's last line) runs to the next line's start.
Turns are runs of consecutive lines of one person. The rules are pure functions on plain values; an
episode's lines are read and summed here, a person's across the archive are summed by the database
with the same rule (seconds_spoken), reading the next line's start with SQL's LEAD."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.models import CaptionLine
from app.services.speakers import speakers_by_id

UNATTRIBUTED = "Non attribué"  # the lines no speaker is known for, when others have one


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who a line is said by: a person (with their page) or a label linked to no one ("SPEAKER_01")."""

    name: str
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class SpeakerTime:
    """One speaker's share of an episode's talk; `speaker` None for the lines no one is known to say."""

    speaker: Speaker | None
    seconds: float
    percent: int  # whole percents that add up to 100 over the episode (largest remainders)

    @property
    def name(self) -> str:
        return self.speaker.name if self.speaker else UNATTRIBUTED


@dataclass(frozen=True, slots=True)
class Turn:
    """A run of consecutive lines said by one person: where it starts, how long it lasts, what is said."""

    episode_id: int
    position: int  # the first line's position: the exact line a link lands on
    start: float
    last_start: float  # the start of its last line: a link marks the turn from `start` to here
    seconds: float
    text: str


def line_seconds(start: float, end: float, next_start: float | None) -> float:
    """How long a line is spoken: to its end, cut at the next line's start when that comes first;
    without an end, up to the next line's start. Two voices of one cue (same start) keep their own
    end, and nothing is ever negative."""
    limit = next_start - start if next_start is not None and next_start > start else None
    seconds = end - start if end > start else (limit or 0.0)
    return max(0.0, min(seconds, limit) if limit is not None else seconds)


def whole_percents(values: Sequence[float]) -> list[int]:
    """Whole percents of each value in their sum that add up to exactly 100 (largest remainders;
    ties go to the earlier value). All zeros give zeros."""
    total = sum(values)
    if total <= 0:
        return [0] * len(values)
    exact = [100 * v / total for v in values]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(values)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[: 100 - sum(shares)]:
        shares[i] += 1
    return shares


def speaker_times(lines: Iterable[tuple[float, float, Speaker | None]]) -> list[SpeakerTime]:
    """Each speaker's time over an episode's lines (start, end, speaker), in order: the most talkative
    first, the unattributed lines last. Empty when no line has a speaker (the turns are not known)."""
    rows = list(lines)
    seconds: dict[Speaker | None, float] = {}
    for i, (start, end, speaker) in enumerate(rows):
        next_start = rows[i + 1][0] if i + 1 < len(rows) else None
        seconds[speaker] = seconds.get(speaker, 0.0) + line_seconds(start, end, next_start)
    if not any(speaker is not None for speaker in seconds):
        return []
    order = sorted(seconds, key=lambda s: (s is None, -seconds[s], s.name if s else ""))
    order = [s for s in order if seconds[s] > 0 or s is not None]
    percents = whole_percents([seconds[s] for s in order])
    return [SpeakerTime(s, seconds[s], p) for s, p in zip(order, percents, strict=True)]


# --- from the database --------------------------------------------------------------------------


def episode_speaker_times(session: Session, episode_id: int) -> list[SpeakerTime]:
    """Each speaker's time in one episode (see speaker_times): a person by their name, a label by itself."""
    named = select(CaptionLine.id).where(CaptionLine.episode_id == episode_id, col(CaptionLine.speaker).is_not(None))
    if session.exec(named.limit(1)).first() is None:
        return []  # most transcripts name no one: their lines are not read again
    stmt = (
        select(CaptionLine.start, CaptionLine.end, CaptionLine.speaker, CaptionLine.person_id)
        .where(CaptionLine.episode_id == episode_id)
        .order_by(col(CaptionLine.position))
    )
    rows = session.exec(stmt).all()
    people = speakers_by_id(session, (person_id for *_, person_id in rows))
    lines = []
    for start, end, label, person_id in rows:
        person = people.get(person_id) if person_id is not None else None
        speaker = Speaker(person.name, person.slug) if person else (Speaker(label) if label else None)
        lines.append((start, end, speaker))
    return speaker_times(lines)


def seconds_spoken(start: ColumnElement, end: ColumnElement, next_start: ColumnElement) -> ColumnElement:
    """line_seconds as an SQL expression, for the sums the database makes over many lines (a test
    holds the two to the same answers)."""
    return case(
        (and_(next_start > start, or_(end <= start, end > next_start)), next_start - start),
        (end > start, end - start),
        else_=0.0,
    )


@dataclass(frozen=True, slots=True)
class PersonSpeaking:
    """What one person says across the archive: how long in each episode, and their longest turns."""

    seconds_by_episode: dict[int, float]
    longest: list[Turn]

    @property
    def seconds(self) -> float:
        return sum(self.seconds_by_episode.values())


def person_speaking(session: Session, person_id: int, longest: int = 0) -> PersonSpeaking:
    """A person's speaking time by episode and their `longest` longest turns (longest first, then
    the earliest), summed by the database: their lines come back as turns, not one by one.

    Each of their lines is read with the next line's start (its length) and whether the line before
    is theirs (a turn starts when it is not); a running count of the starts numbers the turns."""
    episode, order = col(CaptionLine.episode_id), col(CaptionLine.position)
    spoken_in = select(CaptionLine.episode_id).where(CaptionLine.person_id == person_id).distinct()
    lines = (
        sa_select(
            episode,
            order,
            col(CaptionLine.start),
            col(CaptionLine.end),
            col(CaptionLine.person_id),
            func.lead(col(CaptionLine.start)).over(partition_by=episode, order_by=order).label("next_start"),
            func.lag(col(CaptionLine.person_id)).over(partition_by=episode, order_by=order).label("previous"),
        )
        .where(episode.in_(spoken_in))
        .subquery("lines")
    )
    opens = case((or_(lines.c.previous.is_(None), lines.c.previous != person_id), 1), else_=0)
    mine = (
        sa_select(
            lines.c.episode_id,
            lines.c.position,
            lines.c.start,
            seconds_spoken(lines.c.start, lines.c.end, lines.c.next_start).label("seconds"),
            func.sum(opens).over(partition_by=lines.c.episode_id, order_by=lines.c.position).label("turn"),
        )
        .where(lines.c.person_id == person_id)
        .subquery("mine")
    )
    # one row per turn (a host's hundred thousand lines are some thousands of turns), in one pass:
    # 1 s for 250,000 lines of theirs in 500 episodes, where a second query for the totals took as long
    found = session.execute(
        sa_select(
            mine.c.episode_id,
            func.min(mine.c.position),
            func.max(mine.c.position),
            func.min(mine.c.start),
            func.max(mine.c.start),
            func.sum(mine.c.seconds),
        ).group_by(mine.c.episode_id, mine.c.turn)
    ).all()
    by_episode: dict[int, float] = {}
    for episode_id, *_, seconds in found:
        by_episode[episode_id] = by_episode.get(episode_id, 0.0) + float(seconds)
    found = sorted(found, key=lambda t: (-t[5], t[0], t[1]))[: max(longest, 0)]
    if not found:
        return PersonSpeaking(by_episode, [])
    # the words of those few turns only
    spans = [and_(col(CaptionLine.episode_id) == e, order.between(first, last)) for e, first, last, *_ in found]
    words: dict[tuple[int, int], str] = {}
    for episode_id, position, text in session.exec(
        select(CaptionLine.episode_id, CaptionLine.position, CaptionLine.text).where(or_(*spans)).order_by(order)
    ):
        words[(episode_id, position)] = text.strip()
    turns = [
        Turn(
            e,
            first,
            start,
            last_start,
            float(total),
            " ".join(words[(e, p)] for p in range(first, last + 1) if (e, p) in words),
        )
        for e, first, last, start, last_start, total in found
    ]
    return PersonSpeaking(by_episode, turns)

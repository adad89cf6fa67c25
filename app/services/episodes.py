"""Episodes and shows: lookups, lists with filters, and the summaries the API and pages show."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import extract, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, delete, select

from app import limits
from app.ingest.shows import KNOWN_SHOWS
from app.ingest.transcript import TranscriptError
from app.models import Appearance, CaptionLine, Episode, Person, Show, utcnow
from app.names import fold, slugify
from app.services.guests import known_spellings, link_introductions, settle_names
from app.services.speakers import speaker_json, speakers_by_id


@dataclass
class Guest:
    slug: str
    name: str
    role: str | None


@dataclass
class EpisodeSummary:
    episode: Episode
    show: Show | None
    guests: list[Guest] = field(default_factory=list)
    host: Person | None = None

    def as_json(self) -> dict:
        e = self.episode
        return {
            "slug": e.slug,
            "title": e.title,
            "show": self.show.name if self.show else None,
            "aired_on": e.aired_on.isoformat() if e.aired_on else None,
            "source": e.source,
            "duration": e.duration,
            "guests": [{"slug": g.slug, "name": g.name, "role": g.role} for g in self.guests],
        }


def get_episode(session: Session, slug: str) -> Episode | None:
    return session.exec(select(Episode).where(Episode.slug == slug)).first()


def summarize(session: Session, episodes: list[Episode]) -> list[EpisodeSummary]:
    """Summaries with show, guests (in the episode's order) and host, in two queries, order kept."""
    if not episodes:
        return []
    ids = [e.id for e in episodes]
    shows = {
        s.id: s
        for s in session.exec(select(Show).where(col(Show.id).in_({e.show_id for e in episodes if e.show_id}))).all()
    }
    summaries = {e.id: EpisodeSummary(e, shows.get(e.show_id)) for e in episodes}
    rows = session.exec(
        select(Appearance, Person)
        .join(Person, col(Person.id) == Appearance.person_id)
        .where(col(Appearance.episode_id).in_(ids))
        .order_by(col(Appearance.position))
    ).all()
    for appearance, person in rows:
        summary = summaries[appearance.episode_id]
        if appearance.kind == "host":
            summary.host = person
        else:
            summary.guests.append(Guest(person.slug, person.name, appearance.role))
    return [summaries[i] for i in ids]


def guests_by_episode(session: Session, episode_ids: list[int]) -> dict[int, list[Guest]]:
    """Each episode's guests in the episode's order, in one query (for lists built elsewhere)."""
    panels: dict[int, list[Guest]] = {episode_id: [] for episode_id in episode_ids}
    rows = session.exec(
        select(Appearance, Person)
        .join(Person, col(Person.id) == Appearance.person_id)
        .where(col(Appearance.episode_id).in_(episode_ids), Appearance.kind == "guest")
        .order_by(col(Appearance.position))
    ).all()
    for appearance, person in rows:
        panels[appearance.episode_id].append(Guest(person.slug, person.name, appearance.role))
    return panels


def newest_first(query):
    # Undated episodes go last; among equals the most recently ingested first.
    return query.order_by(col(Episode.aired_on).is_(None), col(Episode.aired_on).desc(), col(Episode.id).desc())


def episode_json(session: Session, episode: Episode) -> dict:
    """The whole episode as the API and the JSON export give it."""
    summary = summarize(session, [episode])[0]
    return {
        **summary.as_json(),
        "host": summary.host.name if summary.host else None,
        "channel": episode.channel or (summary.show.channel if summary.show else None),
        "description": episode.description,
        "media_url": episode.media_url,
        "show_inferred": episode.show_inferred,
        "segments": segments_of(session, episode),
    }


def segments_of(session: Session, episode: Episode) -> list[dict]:
    """The caption lines as the API gives them, each with its speaker (guests.speaker_json)."""
    lines = captions_of(session, episode)
    people = speakers_by_id(session, (c.person_id for c in lines))
    return [
        {
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "speaker": speaker_json(c.speaker, people.get(c.person_id) if c.person_id else None),
        }
        for c in lines
    ]


def list_episodes(
    session: Session,
    *,
    show: str | None = None,
    guest: str | None = None,
    year: int | None = None,
    page: int = 1,
    per_page: int = limits.EPISODES_PER_PAGE,
) -> tuple[int, list[Episode]]:
    query = select(Episode)
    if show:
        query = query.join(Show, col(Show.id) == Episode.show_id).where(Show.slug == show)
    if guest:
        query = query.where(
            col(Episode.id).in_(
                select(Appearance.episode_id)
                .join(Person, col(Person.id) == Appearance.person_id)
                .where(Person.slug == guest)
            )
        )
    if year:
        query = query.where(extract("year", col(Episode.aired_on)) == year)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    items = session.exec(newest_first(query).offset((page - 1) * per_page).limit(per_page)).all()
    return total, list(items)


def captions_of(session: Session, episode: Episode) -> list[CaptionLine]:
    return list(
        session.exec(
            select(CaptionLine).where(CaptionLine.episode_id == episode.id).order_by(col(CaptionLine.position))
        ).all()
    )


def list_shows(session: Session) -> list[tuple[Show, int]]:
    rows = session.exec(
        select(Show, func.count(col(Episode.id)))
        .join(Episode, col(Episode.show_id) == Show.id, isouter=True)
        .group_by(col(Show.id))
    ).all()
    return sorted(rows, key=lambda r: fold(r[0].name))


def get_show(session: Session, slug: str) -> Show | None:
    return session.exec(select(Show).where(Show.slug == slug)).first()


def show_spellings(session: Session) -> list[tuple[str, str]]:
    """(name, spelling) of every show an episode's first minutes may name: the archive's, by name and
    by slug, and the ones known before any of their episodes (an archive show's name wins for those)."""
    spellings: list[tuple[str, str]] = []
    slugs = set()
    for name, slug in session.exec(select(Show.name, Show.slug)).all():
        spellings += [(name, name), (name, slug)]
        slugs.add(slug)
    spellings += [(name, name) for name in KNOWN_SHOWS if slugify(name) not in slugs]
    return spellings


def find_or_create_show(session: Session, name: str, channel: str | None) -> Show:
    if not fold(name):
        raise TranscriptError(f"nom d'émission sans lettre ni chiffre : « {name} »")
    slug = slugify(name)
    show = session.exec(select(Show).where(Show.slug == slug)).first()
    if show is None:
        show = Show(slug=slug, name=name, channel=channel)
    elif channel and not show.channel:
        show.channel = channel
    session.add(show)
    session.flush()
    return show


def drop_empty_shows(session: Session) -> None:
    """A show is listed while it has episodes; one left without any goes."""
    session.exec(
        delete(Show).where(col(Show.id).not_in(select(Episode.show_id).where(col(Episode.show_id).is_not(None))))
    )
    session.flush()


def unique_episode_slug(session: Session, base: str, episode_id: int | None) -> str:
    slug, n = base, 1
    while True:
        taken = session.exec(select(Episode.id).where(Episode.slug == slug)).first()
        if taken is None or taken == episode_id:
            return slug
        n += 1
        slug = f"{base}-{n}"


def episode_slug_base(title: str, show: str | None, aired_on: date | None, source: str) -> str:
    """Readable: date and show when known (`2025-10-23-smart-tech`), else the title's words."""
    parts = [aired_on.isoformat()] if aired_on else []
    if show:
        parts.append(slugify(show, max_words=4))
    if not parts:
        # Elided articles ("l'État" folds to "l etat") would leave stray letters in the slug.
        words = [w for w in fold(title or source).split() if len(w) > 1]
        parts.append(slugify(" ".join(words), max_words=6))
    return "-".join(parts)


def archive_counts(session: Session) -> dict[str, int]:
    return {
        "episodes": session.exec(select(func.count(col(Episode.id)))).one(),
        "guests": session.exec(
            select(func.count(func.distinct(Appearance.person_id))).where(Appearance.kind == "guest")
        ).one(),
        "shows": session.exec(select(func.count(col(Show.id)))).one(),
        "caption_lines": session.exec(select(func.coalesce(func.sum(Episode.caption_count), 0))).one(),
    }


def air_date_span(session: Session) -> tuple[date, date] | None:
    """The first and the last air date in the archive; None when no episode has one."""
    first, last = session.exec(select(func.min(Episode.aired_on), func.max(Episode.aired_on))).one()
    return (first, last) if first and last else None


def episodes_by_air_date(session: Session) -> dict[date | None, int]:
    """How many episodes aired each day (None: undated), in one grouped query: the home page's timeline."""
    rows = session.execute(
        sa_select(col(Episode.aired_on), func.count(col(Episode.id))).group_by(col(Episode.aired_on))
    )
    return {row[0]: row[1] for row in rows}


def episodes_stamp(session: Session) -> tuple:
    """What changes whenever an episode is added, deleted or edited (every ingest and edit stamps
    its updated_at), in one query that indexes answer: count(*), max(id), max(updated_at)."""
    # three scalar subqueries: SQLite answers a lone max() from an index, not max() beside count()
    columns = [
        sa_select(aggregate).select_from(Episode).scalar_subquery()
        for aggregate in (func.count(), func.max(col(Episode.id)), func.max(col(Episode.updated_at)))
    ]
    return tuple(session.execute(sa_select(*columns)).one())


def edit_episode(session: Session, episode: Episode, changes: dict) -> None:
    """Apply an editor's corrections; the slug stays, so shared links keep working.

    The index holds only caption text (show, guests and dates are filtered in the database),
    so an edit needs no reindex. The caller holds the write lock (app.db.begin_writing) from before
    it read `episode`, so that a show to create is not created by another writer meanwhile.
    """
    apply_changes(session, episode, changes)
    session.commit()


def apply_changes(session: Session, episode: Episode, changes: dict) -> None:
    """edit_episode's work in the caller's transaction (a new ingest that keeps an editor's metadata)."""
    changes = dict(changes)
    show_name = changes.pop("show", None)
    if show_name is not None:
        episode.show_id = find_or_create_show(session, show_name, None).id if show_name.strip() else None
        episode.show_inferred = False  # an editor's show is stated, never inferred
    for name, value in changes.items():
        setattr(episode, name, value)
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    drop_empty_shows(session)


def delete_episode(session: Session, episode: Episode, index) -> None:
    """Delete and commit, then drop its passages. The caller holds the write lock (begin_writing)
    from before it read `episode`: two deletes of one episode are then one delete and one 404."""
    episode_id = episode.id
    known_before = known_spellings(session)
    session.delete(episode)
    session.flush()
    link_introductions(session, [], known_before)
    settle_names(session)
    drop_empty_shows(session)
    session.commit()
    index.delete_episode(episode_id)

"""Build small archives for the search tests straight into the database, then index them."""

from datetime import date

from sqlmodel import Session, select

from app.models import Appearance, CaptionLine, Episode, Person, Show


def add_episode(
    session: Session,
    index,
    slug: str,
    lines: list[str] | list[tuple[float, str]],
    *,
    show: str = "SMART TECH",
    aired_on: date | None = date(2025, 10, 23),
    guests: tuple[str, ...] = (),
    step: float = 4.0,
    indexed: bool = True,
) -> Episode:
    """An episode whose caption lines start every `step` seconds (or at the given seconds)."""
    show_slug = show.lower().replace(" ", "-").replace("&", "et")
    show_row = session.exec(select(Show).where(Show.slug == show_slug)).first()
    if show_row is None:
        show_row = Show(slug=show_slug, name=show)
        session.add(show_row)
        session.flush()
    episode = Episode(
        slug=slug,
        source=f"{slug}.txt",
        content_hash=f"hash-{slug}",
        format="page",
        title=f"Épisode {slug}",
        show_id=show_row.id,
        aired_on=aired_on,
    )
    session.add(episode)
    session.flush()
    for position, line in enumerate(lines):
        start, text = line if isinstance(line, tuple) else (position * step, line)
        session.add(CaptionLine(episode_id=episode.id, position=position, start=start, end=start + step, text=text))
    for n, name in enumerate(guests):
        person_slug = name.lower().replace(" ", "-")
        person = session.exec(select(Person).where(Person.slug == person_slug)).first()
        if person is None:
            person = Person(slug=person_slug, name=name)
            session.add(person)
            session.flush()
        session.add(
            Appearance(
                episode_id=episode.id,
                person_id=person.id,
                kind="guest",
                named_as=name,
                found_in="description",
                position=n,
            )
        )
    session.commit()
    if indexed:
        index.index_episodes(session, [episode.id])
    session.refresh(episode)
    return episode


def filler(n: int, word: str = "remplissage") -> list[str]:
    return [f"ligne {word} numéro {i} sans rapport" for i in range(n)]

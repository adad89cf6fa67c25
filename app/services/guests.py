"""People in the archive: one record per person whatever the spelling, their appearances, guest pages."""
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from app.models import Appearance, CaptionLine, Episode, Person, PersonAlias
from app.names import SAME_PERSON_THRESHOLD, fold, name_similarity, slugify

# The introduction is where a host presents the panel; three minutes covers every seed.
INTRODUCTION_SECONDS = 180
# Spellings found in the descriptions (or a sidecar) are the trusted ones for a person's name.
TRUSTED_SOURCES = ("description", "sidecar")


def find_person(session: Session, name: str) -> Person | None:
    """The known person this spelling names: exact folded match first, else the best fuzzy match."""
    folded = fold(name)
    exact = session.exec(select(PersonAlias).where(PersonAlias.folded == folded)).first()
    if exact:
        return session.get(Person, exact.person_id)
    best: tuple[float, int] | None = None
    for alias in session.exec(select(PersonAlias)).all():
        score = name_similarity(name, alias.name)
        if score >= SAME_PERSON_THRESHOLD and (best is None or score > best[0]):
            best = (score, alias.person_id)
    return session.get(Person, best[1]) if best else None


def find_or_create_person(session: Session, name: str) -> Person:
    person = find_person(session, name)
    if person is None:
        person = Person(name=name, slug=unique_person_slug(session, name))
        session.add(person)
        session.flush()
    add_alias(session, person, name)
    return person


def add_alias(session: Session, person: Person, name: str) -> None:
    exists = session.exec(
        select(PersonAlias).where(PersonAlias.person_id == person.id, PersonAlias.name == name)
    ).first()
    if not exists:
        session.add(PersonAlias(person_id=person.id, name=name, folded=fold(name)))
        session.flush()


def unique_person_slug(session: Session, name: str) -> str:
    base = slugify(name)
    slug, n = base, 1
    while session.exec(select(Person.id).where(Person.slug == slug)).first() is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def link_introductions(session: Session) -> None:
    """Link the known guests that the introduction of each episode without named guests names.

    Run after every change to the people, so the links do not depend on ingest order.
    """
    episodes = session.exec(select(Episode)).all()
    described = set(session.exec(
        select(Appearance.episode_id).where(Appearance.kind == "guest",
                                            col(Appearance.found_in).in_(TRUSTED_SOURCES))
    ).all())
    undescribed = [e for e in episodes if e.id not in described]
    if not undescribed:
        return
    session.exec(delete(Appearance).where(Appearance.found_in == "introduction"))
    known = session.exec(
        select(PersonAlias).join(Appearance, Appearance.person_id == PersonAlias.person_id)
        .where(Appearance.kind == "guest", col(Appearance.found_in).in_(TRUSTED_SOURCES)).distinct()
    ).all()
    for episode in undescribed:
        words = fold(" ".join(session.exec(
            select(CaptionLine.text).where(CaptionLine.episode_id == episode.id,
                                           CaptionLine.start < INTRODUCTION_SECONDS)
            .order_by(CaptionLine.position)
        ).all())).split()
        found: dict[int, str] = {}
        for alias in known:
            spelling = said_in(words, alias.name)
            if spelling and alias.person_id not in found:
                found[alias.person_id] = spelling
        for position, (person_id, spelling) in enumerate(sorted(found.items())):
            session.add(Appearance(episode_id=episode.id, person_id=person_id, kind="guest",
                                   named_as=spelling, found_in="introduction", position=position))
            person = session.get(Person, person_id)
            add_alias(session, person, spelling)
    session.flush()


def said_in(words: list[str], name: str) -> str | None:
    """The words of `words` that spell `name` (same number of words, fuzzy), title-cased, if any."""
    size = len(fold(name).split())
    best: tuple[float, str] | None = None
    for width in {size, size + 1} - {0}:
        for i in range(len(words) - width + 1):
            window = " ".join(words[i:i + width])
            score = name_similarity(window, name)
            if score >= SAME_PERSON_THRESHOLD and (best is None or score > best[0]):
                best = (score, window)
    return best[1].title() if best else None


def settle_names(session: Session) -> None:
    """Give each person the spelling the trusted sources use most; drop people with no appearance."""
    for person in session.exec(select(Person)).all():
        rows = session.exec(select(Appearance).where(Appearance.person_id == person.id)).all()
        if not rows:
            session.exec(delete(PersonAlias).where(PersonAlias.person_id == person.id))
            session.delete(person)
            continue
        trusted = [a.named_as for a in rows if a.found_in in TRUSTED_SOURCES] or [a.named_as for a in rows]
        counts = Counter(trusted)
        person.name = max(counts, key=lambda n: (counts[n], n))
        session.add(person)
    session.flush()


def merge(session: Session, source: Person, target: Person) -> None:
    """Fold `source` into `target`: its appearances and spellings become the target's."""
    for appearance in session.exec(select(Appearance).where(Appearance.person_id == source.id)).all():
        clash = session.exec(select(Appearance).where(
            Appearance.episode_id == appearance.episode_id, Appearance.person_id == target.id,
            Appearance.kind == appearance.kind)).first()
        if clash:
            session.delete(appearance)
        else:
            appearance.person_id = target.id
            session.add(appearance)
    for alias in session.exec(select(PersonAlias).where(PersonAlias.person_id == source.id)).all():
        add_alias(session, target, alias.name)
        session.delete(alias)
    session.flush()
    session.delete(source)
    session.flush()
    settle_names(session)


@dataclass
class GuestSummary:
    person: Person
    appearances: int


def list_guests(session: Session, *, page: int = 1, per_page: int = 100) -> tuple[int, list[GuestSummary]]:
    """Guests A to Z (by folded name) with their number of appearances as a guest."""
    counts = dict(session.exec(
        select(Appearance.person_id, func.count(Appearance.id))
        .where(Appearance.kind == "guest").group_by(Appearance.person_id)
    ).all())
    people = [p for p in session.exec(select(Person)).all() if p.id in counts]
    people.sort(key=lambda p: fold(p.name))
    start = (page - 1) * per_page
    return len(people), [GuestSummary(p, counts[p.id]) for p in people[start:start + per_page]]


def get_guest(session: Session, slug: str) -> Person | None:
    return session.exec(select(Person).where(Person.slug == slug)).first()


def aliases(session: Session, person: Person) -> list[str]:
    return sorted(session.exec(select(PersonAlias.name).where(PersonAlias.person_id == person.id)).all())


def appearances_of(session: Session, person: Person) -> list[tuple[Appearance, Episode]]:
    """Each appearance with its episode, the most recent first (undated last)."""
    rows = session.exec(
        select(Appearance, Episode).join(Episode, Episode.id == Appearance.episode_id)
        .where(Appearance.person_id == person.id)
    ).all()
    return sorted(rows, key=lambda r: (r[1].aired_on is not None, r[1].aired_on, r[1].id), reverse=True)


def co_guests(session: Session, person: Person) -> list[tuple[Person, int]]:
    """People who were guests in the same episodes, with how many times, most frequent first."""
    episode_ids = select(Appearance.episode_id).where(Appearance.person_id == person.id)
    rows = session.exec(
        select(Person, func.count(func.distinct(Appearance.episode_id)))
        .join(Appearance, Appearance.person_id == Person.id)
        .where(col(Appearance.episode_id).in_(episode_ids), Appearance.kind == "guest",
               Person.id != person.id)
        .group_by(Person.id)
    ).all()
    return sorted(rows, key=lambda r: (-r[1], fold(r[0].name)))


def merge_guests(session: Session, source: Person, target: Person, index) -> None:
    episode_ids = list(session.exec(select(Appearance.episode_id).where(Appearance.person_id == source.id)).all())
    merge(session, source, target)
    for episode in session.exec(select(Episode).where(col(Episode.id).in_(episode_ids))).all():
        episode.index_state = "pending"
        session.add(episode)
    session.commit()
    index.index_episodes(session, episode_ids)

"""People in the archive: one record per person whatever the spelling, their appearances, guest pages."""
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from app.models import Appearance, CaptionLine, Episode, Person, PersonAlias
from app.names import SAME_PERSON_THRESHOLD, fold, name_key, slugify

# The introduction is where a host presents the panel; three minutes covers every seed.
INTRODUCTION_SECONDS = 180
# Spellings found in the descriptions (or a sidecar) are the trusted ones for a person's name.
TRUSTED_SOURCES = ("description", "sidecar")


def find_person(session: Session, name: str, exclude: set[int] | frozenset[int] = frozenset()) -> Person | None:
    """The known person this spelling names: exact folded match first, else the best fuzzy match.

    `exclude` holds people already named in the same panel: two names in one episode are two people.
    """
    folded = fold(name)
    for alias in session.exec(select(PersonAlias).where(PersonAlias.folded == folded)).all():
        if alias.person_id not in exclude:
            return session.get(Person, alias.person_id)
    choices = {alias_id: name_key(folded_alias) for alias_id, folded_alias, person_id
               in session.exec(select(PersonAlias.id, PersonAlias.folded, PersonAlias.person_id)).all()
               if person_id not in exclude}
    best = process.extractOne(name_key(folded), choices, scorer=fuzz.ratio, score_cutoff=SAME_PERSON_THRESHOLD)
    return session.get(Person, session.get(PersonAlias, best[2]).person_id) if best else None


def find_or_create_person(session: Session, name: str, exclude: set[int] | frozenset[int] = frozenset()) -> Person:
    person = find_person(session, name, exclude)
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

    Worked out again after every change to the people, so the links do not depend on ingest order;
    only the difference is written.
    """
    described = select(Appearance.episode_id).where(Appearance.kind == "guest",
                                                    col(Appearance.found_in).in_(TRUSTED_SOURCES))
    undescribed = session.exec(select(Episode.id, Episode.content_hash)
                               .where(col(Episode.id).not_in(described))).all()
    known = session.exec(
        select(PersonAlias.person_id, PersonAlias.folded)
        .join(Appearance, Appearance.person_id == PersonAlias.person_id)
        .where(Appearance.kind == "guest", col(Appearance.found_in).in_(TRUSTED_SOURCES)).distinct()
    ).all()
    wanted: dict[tuple[int, int], str] = {}
    for episode_id, content_hash in undescribed:
        for person_id, spelling in introduction_names(session, episode_id, content_hash, known).items():
            wanted[(episode_id, person_id)] = spelling
    current = {(a.episode_id, a.person_id): a for a in session.exec(
        select(Appearance).where(Appearance.found_in == "introduction")).all()}
    for key, appearance in current.items():
        if key not in wanted:
            session.delete(appearance)
        elif appearance.named_as != wanted[key]:
            appearance.named_as = wanted[key]
            session.add(appearance)
    for position, ((episode_id, person_id), spelling) in enumerate(sorted(wanted.items())):
        if (episode_id, person_id) not in current:
            session.add(Appearance(episode_id=episode_id, person_id=person_id, kind="guest", named_as=spelling,
                                   found_in="introduction", position=position))
    for (_, person_id), spelling in wanted.items():
        add_alias(session, session.get(Person, person_id), spelling)
    session.flush()


# The folded words of an introduction depend only on the file's content: keep them by content hash.
_introductions: dict[str, list[str]] = {}


def introduction_names(session: Session, episode_id: int, content_hash: str,
                       known: list[tuple[int, str]]) -> dict[int, str]:
    """Which known people (person id -> the spelling heard) the episode's first minutes name."""
    words = _introductions.get(content_hash)
    if words is None:
        words = fold(" ".join(session.exec(
            select(CaptionLine.text).where(CaptionLine.episode_id == episode_id,
                                           CaptionLine.start < INTRODUCTION_SECONDS)
            .order_by(CaptionLine.position)).all())).split()
        if len(_introductions) > 10_000:
            _introductions.clear()
        _introductions[content_hash] = words
    windows: dict[int, list[str]] = {}
    best: dict[int, tuple[float, str]] = {}
    for person_id, folded in known:
        size = len(folded.split())
        # One word more than the name: a transcript may split a name ("Van Nakt" for "VanAgt").
        for width in (size, size + 1):
            keys = windows.setdefault(width, ["".join(words[i:i + width]) for i in range(len(words) - width + 1)])
            match = process.extractOne(name_key(folded), keys, scorer=fuzz.ratio,
                                       score_cutoff=SAME_PERSON_THRESHOLD)
            if match:
                heard = " ".join(words[match[2]:match[2] + width]).title()
                best[person_id] = max(best.get(person_id, (0.0, "")), (match[1], heard))
    return {person_id: heard for person_id, (_, heard) in best.items()}


def settle_names(session: Session) -> None:
    """Give each person the spelling the trusted sources use most; drop people with no appearance."""
    spellings: dict[int, list[tuple[str, str]]] = {}
    for person_id, named_as, found_in in session.exec(
            select(Appearance.person_id, Appearance.named_as, Appearance.found_in)).all():
        spellings.setdefault(person_id, []).append((named_as, found_in))
    for person in session.exec(select(Person)).all():
        rows = spellings.get(person.id)
        if not rows:
            session.exec(delete(PersonAlias).where(PersonAlias.person_id == person.id))
            session.delete(person)
            continue
        trusted = [name for name, found_in in rows if found_in in TRUSTED_SOURCES] or [name for name, _ in rows]
        counts = Counter(trusted)
        name = max(counts, key=lambda n: (counts[n], n))
        if person.name != name:
            person.name = name
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


def merge_guests(session: Session, source: Person, target: Person) -> None:
    """Merge and commit; guest filters are answered from the database, so the index is untouched."""
    merge(session, source, target)
    session.commit()

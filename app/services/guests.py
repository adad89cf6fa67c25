"""People in the archive: one record per person whatever the spelling, their appearances, guest pages."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import exists, func, or_, update
from sqlmodel import Session, col, delete, select

from app import limits
from app.ingest.speakers import is_anonymous
from app.models import Appearance, CaptionLine, Episode, Person, PersonAlias
from app.names import SAME_PERSON_THRESHOLD, fold, name_key, slugify

# The introduction is where a host presents the panel; three minutes covers every seed.
INTRODUCTION_SECONDS = 180
# Spellings found in the descriptions (or a sidecar, or typed by an editor) are the trusted ones for
# a person's name.
TRUSTED_SOURCES = ("description", "sidecar", "editor")


def find_person(session: Session, name: str, exclude: set[int] | frozenset[int] = frozenset()) -> Person | None:
    """The known person this spelling names: exact folded match first, else the best fuzzy match.

    `exclude` holds people already named in the same panel: two names in one episode are two people.
    """
    folded = fold(name)
    for alias in session.exec(select(PersonAlias).where(PersonAlias.folded == folded)).all():
        if alias.person_id not in exclude:
            return session.get(Person, alias.person_id)
    choices = {
        alias_id: name_key(folded_alias)
        for alias_id, folded_alias, person_id in session.exec(
            select(PersonAlias.id, PersonAlias.folded, PersonAlias.person_id)
        ).all()
        if person_id not in exclude
    }
    best = process.extractOne(name_key(folded), choices, scorer=fuzz.ratio, score_cutoff=SAME_PERSON_THRESHOLD)
    if not best:
        return None
    matched = session.get(PersonAlias, best[2])
    assert matched is not None  # its id was read from the table above, in the same transaction
    return session.get(Person, matched.person_id)


def find_or_create_person(session: Session, name: str, exclude: set[int] | frozenset[int] = frozenset()) -> Person:
    person = find_person(session, name, exclude)
    if person is None:
        person = Person(name=name, slug=unique_person_slug(session, name))
        session.add(person)
        session.flush()
    add_alias(session, person, name)
    return person


def add_alias(session: Session, person: Person, name: str) -> None:
    assert person.id is not None  # a stored person: found in the table, or added and flushed
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


def match_speakers(session: Session, episode_id: int, labels: Iterable[str]) -> dict[str, int]:
    """The person each named speaker of an episode is, by the one-person rule: one of the episode's
    own people (host, guests) first, else a known person, else a new one, who then appears in the
    episode as a guest found by their lines ("speaker"). A first name or a surname alone
    ("Delphine") names someone only when it names one of the episode's people, and no one else of
    them. Diarization labels ("SPEAKER_00") name no one; two names of one episode are two people,
    as on a panel."""
    labels = [label for label in labels if not is_anonymous(label)]
    if not labels:
        return {}  # most transcripts name no one: no query
    panel: dict[int, set[str]] = {}
    for member, spelling in session.exec(
        select(PersonAlias.person_id, PersonAlias.folded)
        .join(Appearance, col(Appearance.person_id) == PersonAlias.person_id)
        .where(Appearance.episode_id == episode_id)
    ).all():
        panel.setdefault(member, set()).add(spelling)
    matched: dict[str, int] = {}
    by_spelling: dict[str, int] = {}
    position = len(panel)
    for label in labels:
        folded = fold(label)
        if label in matched or not folded:
            continue
        person_id = by_spelling.get(folded) or _panel_member(panel, folded)
        if person_id is None and len(folded.split()) > 1:
            person = find_or_create_person(session, label, exclude=set(panel) | set(by_spelling.values()))
            assert person.id is not None  # found in the table, or added and flushed
            person_id = person.id
            if person_id not in panel:
                position += 1
                session.add(
                    Appearance(
                        episode_id=episode_id,
                        person_id=person_id,
                        kind=_kind_of_speaker(session, episode_id, person_id),
                        named_as=label,
                        found_in="speaker",
                        position=position,
                    )
                )
                panel[person_id] = {folded}
        elif person_id is not None and len(folded.split()) > 1:
            known = session.get(Person, person_id)
            assert known is not None  # one of the episode's people, all stored
            add_alias(session, known, label)
        if person_id is not None:
            matched[label] = by_spelling[folded] = person_id
    session.flush()
    return matched


def _kind_of_speaker(session: Session, episode_id: int, person_id: int) -> str:
    """A speaker the episode's description does not name: its host when they host elsewhere and
    are never a guest, and the episode has no host yet; a guest otherwise."""
    kinds = set(session.exec(select(Appearance.kind).where(Appearance.person_id == person_id).distinct()))
    has_host = session.exec(select(Appearance.id).where(Appearance.episode_id == episode_id, Appearance.kind == "host"))
    return "host" if kinds == {"host"} and has_host.first() is None else "guest"


def speaking_people(session: Session) -> list[Person]:
    """Everyone some caption line is linked to, A to Z: the choices of the "dit par" filter."""
    said = exists().where(col(CaptionLine.person_id) == Person.id)
    return sorted(session.exec(select(Person).where(said)).all(), key=lambda p: fold(p.name))


def _panel_member(panel: dict[int, set[str]], folded: str) -> int | None:
    """The episode's person a speaker's name is: the closest spelling at the same-person score, or
    for one word, the only person with that first name or surname."""
    if len(folded.split()) == 1:
        found = {person_id for person_id, spellings in panel.items() if any(folded in s.split() for s in spellings)}
        return found.pop() if len(found) == 1 else None
    key = name_key(folded)
    best: tuple[float, int] | None = None
    for person_id, spellings in panel.items():
        for spelling in spellings:
            score = fuzz.ratio(key, name_key(spelling), score_cutoff=SAME_PERSON_THRESHOLD)
            if score and (best is None or score > best[0]):
                best = (score, person_id)
    return best[1] if best else None


Spelling = tuple[int, str]  # (person id, folded spelling)


def known_spellings(session: Session) -> set[Spelling]:
    """Every spelling of every person a description or sidecar names as a guest: the names an
    introduction is listened for."""
    # EXISTS, not a join: a join reads every appearance of each alias's person (8 ms at 2,000
    # episodes, twice per ingest), EXISTS stops at the first
    named_as_guest = exists().where(
        col(Appearance.person_id) == PersonAlias.person_id,
        col(Appearance.kind) == "guest",
        col(Appearance.found_in).in_(TRUSTED_SOURCES),
    )
    return set(session.exec(select(PersonAlias.person_id, PersonAlias.folded).where(named_as_guest)).all())


def introduction_of(captions: Iterable[tuple[float, str]]) -> str:
    """The folded words of the first minutes, where the host presents the panel: (start, text) in order."""
    return fold(" ".join(text for start, text in captions if start < INTRODUCTION_SECONDS))


def link_introductions(
    session: Session, episode_ids: Iterable[int] | None = None, known_before: set[Spelling] | None = None
) -> None:
    """Link the known guests that the introduction of each episode without named guests names.

    Given the episodes just written (or deleted) and the known spellings before that, only what
    the change can alter is worked out again: those episodes against every known person, every
    other episode against the people whose spellings changed. So one more file costs about the
    same in a large archive as in a small one. Without them, every episode against everyone.
    Either way the links do not depend on ingest order, and only the difference is written.
    """
    known = known_spellings(session)
    described = select(Appearance.episode_id).where(
        Appearance.kind == "guest", col(Appearance.found_in).in_(TRUSTED_SOURCES)
    )
    undescribed = {
        episode_id
        for episode_id in session.exec(select(Episode.id).where(col(Episode.id).not_in(described))).all()
        if episode_id is not None  # a stored episode's id never is
    }
    everything = episode_ids is None or known_before is None
    fresh = set(undescribed) if everything else set(episode_ids or ())
    changed = set() if everything or known_before is None else {person_id for person_id, _ in known ^ known_before}

    current_query = select(Appearance).where(Appearance.found_in == "introduction")
    if not everything:
        current_query = current_query.where(
            or_(col(Appearance.episode_id).in_(fresh), col(Appearance.person_id).in_(changed))
        )
    current = {(a.episode_id, a.person_id): a for a in session.exec(current_query).all()}

    wanted = introduction_names(introductions(session, fresh & undescribed), sorted(known))
    if changed:
        wanted.update(
            introduction_names(introductions(session, undescribed - fresh), sorted(s for s in known if s[0] in changed))
        )
    if wanted:
        # a person whose lines the transcript names already appears in that episode as a guest
        wanted_episodes = {episode_id for episode_id, _ in wanted}
        for pair in session.exec(
            select(Appearance.episode_id, Appearance.person_id).where(
                col(Appearance.episode_id).in_(wanted_episodes),
                Appearance.kind == "guest",
                Appearance.found_in != "introduction",
            )
        ).all():
            wanted.pop(pair, None)
    for key, appearance in current.items():
        if key not in wanted:
            session.delete(appearance)
        elif appearance.named_as != wanted[key]:
            appearance.named_as = wanted[key]
            session.add(appearance)
    for position, ((episode_id, person_id), spelling) in enumerate(sorted(wanted.items())):
        if (episode_id, person_id) not in current:
            session.add(
                Appearance(
                    episode_id=episode_id,
                    person_id=person_id,
                    kind="guest",
                    named_as=spelling,
                    found_in="introduction",
                    position=position,
                )
            )
    for (_, person_id), spelling in wanted.items():
        person = session.get(Person, person_id)
        assert person is not None  # one of the known spellings' people, all stored
        add_alias(session, person, spelling)
    session.flush()


def introductions(session: Session, episode_ids: set[int]) -> dict[int, list[str]]:
    """The folded words of these episodes' introductions, from the stored column (filled from the
    caption lines for episodes ingested before it existed)."""
    if not episode_ids:
        return {}
    found = session.exec(select(Episode.id, Episode.introduction).where(col(Episode.id).in_(episode_ids))).all()
    words: dict[int, list[str]] = {}
    for episode_id, text in found:
        assert episode_id is not None  # a stored episode's id
        if text is None:
            text = introduction_of(
                session.exec(
                    select(CaptionLine.start, CaptionLine.text)
                    .where(CaptionLine.episode_id == episode_id)
                    .order_by(col(CaptionLine.position))
                ).all()
            )
            session.exec(update(Episode).where(col(Episode.id) == episode_id).values(introduction=text))
        words[episode_id] = text.split()
    return words


# A window of words within SAME_PERSON_THRESHOLD of a name has a stretch of the name's length
# within 77.7 of it (an indel distance d <= 0.222 × the name's length), so an introduction whose
# best such stretch (rapidfuzz's partial_ratio) scores under this cannot name the person.
INTRODUCTION_PREFILTER = 77.0


def introduction_names(words_of: dict[int, list[str]], known: list[Spelling]) -> dict[tuple[int, int], str]:
    """Which known people each introduction names: (episode id, person id) -> the spelling heard.

    A name is compared with every run of as many words, and of one word more, since a transcript
    may split a name ("Cyril Van Agt" for "Cyril VanAgt"); only in introductions where a quick look finds
    something close, so that a new name costs little against thousands of introductions."""
    best: dict[tuple[int, int], tuple[float, str]] = {}
    joined = {episode_id: "".join(words) for episode_id, words in words_of.items()}
    windows: dict[tuple[int, int], list[str]] = {}
    for person_id, folded in known:
        key = name_key(folded)
        size = len(folded.split())
        for episode_id, text in joined.items():
            if not fuzz.partial_ratio(key, text, score_cutoff=INTRODUCTION_PREFILTER):
                continue
            words = words_of[episode_id]
            for width in (size, size + 1):
                keys = windows.get((episode_id, width))
                if keys is None:
                    keys = windows[(episode_id, width)] = [
                        "".join(words[i : i + width]) for i in range(len(words) - width + 1)
                    ]
                match = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=SAME_PERSON_THRESHOLD)
                if match:
                    heard = " ".join(words[match[2] : match[2] + width]).title()
                    pair = (episode_id, person_id)
                    best[pair] = max(best.get(pair, (0.0, "")), (match[1], heard))
    return {pair: heard for pair, (_, heard) in best.items()}


def settle_names(session: Session) -> None:
    """Give each person the spelling the trusted sources use most; drop people with no appearance."""
    # counted by the database, a row per person, spelling and source: this runs at every ingest, and
    # a Python row per appearance of the archive was most of its cost in a large one
    spellings: dict[int, tuple[Counter[str], Counter[str]]] = {}  # person -> (trusted, any source)
    for person_id, named_as, found_in, count in session.exec(
        select(Appearance.person_id, Appearance.named_as, Appearance.found_in, func.count()).group_by(
            col(Appearance.person_id), col(Appearance.named_as), col(Appearance.found_in)
        )
    ).all():
        trusted, anywhere = spellings.setdefault(person_id, (Counter(), Counter()))
        anywhere[named_as] += count
        if found_in in TRUSTED_SOURCES:
            trusted[named_as] += count
    for person in session.exec(select(Person)).all():
        assert person.id is not None  # a stored person's id
        if person.id not in spellings:
            session.exec(delete(PersonAlias).where(col(PersonAlias.person_id) == person.id))
            session.delete(person)
            continue
        trusted, anywhere = spellings[person.id]
        counts = trusted or anywhere
        name = max(counts, key=lambda n: (counts[n], n))
        if person.name != name:
            person.name = name
            session.add(person)
    session.flush()


def merge(session: Session, source: Person, target: Person) -> list[int]:
    """Fold `source` into `target`: its appearances, spellings and lines become the target's.
    Returns the episodes where the source spoke: their passages carry the speaker, to index again."""
    assert target.id is not None  # a stored person's id
    for appearance in session.exec(select(Appearance).where(Appearance.person_id == source.id)).all():
        clash = session.exec(
            select(Appearance).where(
                Appearance.episode_id == appearance.episode_id,
                Appearance.person_id == target.id,
                Appearance.kind == appearance.kind,
            )
        ).first()
        if clash:
            session.delete(appearance)
        else:
            appearance.person_id = target.id
            session.add(appearance)
    for alias in session.exec(select(PersonAlias).where(PersonAlias.person_id == source.id)).all():
        add_alias(session, target, alias.name)
        session.delete(alias)
    # the lines they spoke are the target's now (deleting the source would unlink them)
    spoken = list(session.exec(select(CaptionLine.episode_id).where(CaptionLine.person_id == source.id).distinct()))
    session.exec(update(CaptionLine).where(col(CaptionLine.person_id) == source.id).values(person_id=target.id))
    session.flush()
    session.delete(source)
    session.flush()
    settle_names(session)
    return spoken


@dataclass
class GuestSummary:
    person: Person
    appearances: int  # as a guest
    hosted: int = 0  # episodes they present: a host is listed among the people, marked as such


def list_guests(
    session: Session, *, page: int = 1, per_page: int | None = limits.GUESTS_PER_PAGE, hosts: bool = False
) -> tuple[int, list[GuestSummary]]:
    """Guests A to Z (by folded name) with their number of appearances as a guest; every one when
    `per_page` is None. With `hosts`, the hosts too, with the number of episodes they present."""
    kinds = ["guest", "host"] if hosts else ["guest"]
    counts: dict[int, Counter[str]] = {}
    for person_id, kind, n in session.exec(
        select(Appearance.person_id, Appearance.kind, func.count(col(Appearance.id)))
        .where(col(Appearance.kind).in_(kinds))
        .group_by(col(Appearance.person_id), col(Appearance.kind))
    ).all():
        counts.setdefault(person_id, Counter())[kind] = n
    # by id first, so that people of one folded name keep one order on every database
    people = [p for p in session.exec(select(Person).order_by(col(Person.id))).all() if p.id in counts]
    people.sort(key=lambda p: fold(p.name))
    shown = people if per_page is None else people[(page - 1) * per_page : page * per_page]
    return len(people), [
        GuestSummary(p, counts[p.id]["guest"], counts[p.id]["host"])
        for p in shown
        if p.id is not None  # stored: all have one
    ]


def guest_choices(session: Session) -> list[Person]:
    """Everyone who is some episode's guest, A to Z: the choices of the search's guest filter. As
    list_guests(per_page=None) orders them, without the counts the filter does not show (a group-by
    of every appearance, a tenth of a search page at 2,000 episodes)."""
    guest = exists().where(col(Appearance.person_id) == Person.id, col(Appearance.kind) == "guest")
    people = session.exec(select(Person).where(guest).order_by(col(Person.id))).all()
    return sorted(people, key=lambda p: fold(p.name))


def get_guest(session: Session, slug: str) -> Person | None:
    return session.exec(select(Person).where(Person.slug == slug)).first()


def aliases(session: Session, person: Person) -> list[str]:
    return sorted(session.exec(select(PersonAlias.name).where(PersonAlias.person_id == person.id)).all())


def appearances_of(session: Session, person: Person) -> list[tuple[Appearance, Episode]]:
    """Each appearance with its episode, the most recent first (undated last)."""
    rows = session.exec(
        select(Appearance, Episode)
        .join(Episode, col(Episode.id) == Appearance.episode_id)
        .where(Appearance.person_id == person.id)
    ).all()
    return sorted(rows, key=lambda r: (r[1].aired_on is not None, r[1].aired_on, r[1].id), reverse=True)


def co_guests(session: Session, person: Person) -> list[tuple[Person, int]]:
    """People who were guests in the same episodes, with how many times, most frequent first."""
    episode_ids = select(Appearance.episode_id).where(Appearance.person_id == person.id)
    rows = session.exec(
        select(Person, func.count(func.distinct(Appearance.episode_id)))
        .join(Appearance, col(Appearance.person_id) == Person.id)
        .where(col(Appearance.episode_id).in_(episode_ids), Appearance.kind == "guest", Person.id != person.id)
        .group_by(col(Person.id))
    ).all()
    return sorted(rows, key=lambda r: (-r[1], fold(r[0].name)))


def merge_guests(session: Session, source: Person, target: Person) -> list[int]:
    """Merge and commit; guest filters are answered from the database, but the passages the source
    says carry them as speaker: the episodes returned are to be indexed again. The caller holds the
    write lock (app.db.begin_writing) from before it read both people."""
    spoken = merge(session, source, target)
    session.commit()
    return spoken

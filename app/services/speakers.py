"""Who says a caption line, as the pages and the API show it: the person, else the file's label."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.models import Person


def speakers_by_id(session: Session, person_ids: Iterable[int | None]) -> dict[int, Person]:
    """The people some caption lines are linked to, in one query."""
    wanted = {person_id for person_id in person_ids if person_id is not None}
    if not wanted:
        return {}
    return {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(wanted))).all() if p.id is not None}


def speaker_json(label: str | None, person: Person | None) -> dict | None:
    """A line's speaker as the API gives it: the person, {"slug", "name"}; a label linked to no one
    (a diarization label, a lone first name), {"slug": null, "name": label}; nobody said: null."""
    if person is not None:
        return {"slug": person.slug, "name": person.name}
    return {"slug": None, "name": label} if label else None

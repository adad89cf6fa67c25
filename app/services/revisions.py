"""Editors' changes to an episode, each kept as a revision: applied, recorded, undone, carried over a new ingest.

What each kind keeps, as JSON, before and after the change:
- "line": {"position", "start", "text", "original"}: a caption line's text; "original" is the
  machine's, which the line keeps (caption_line.original_text) so that the index holds both.
- "turn": {"position", "until", "label", "person", "text"}: lines position to until (excluded) said
  by `label` (caption_line.speaker) and `person` ({"id", "slug", "name"} or null); "text" is the
  machine's text of the first line, to find it again in a new ingest of the file.
- "label": {"label", "person", "lines"}: every line said by a diarization label ("SPEAKER_01"),
  linked to a person for the whole episode.
- "metadata": {field: value}: the fields an editor changed (title, show, aired_on...).
- "ingest": the file ingested again over the edits, which were kept or replaced.

Undo is a new revision of the same kind, before and after swapped, naming the revision it undoes.
It is refused (EditRefused, 409) when the thing no longer is as the revision left it: a later
revision, or a new ingest, changed it since; the message names that revision, to undo first.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app import limits
from app.ingest.decoding import refuse_unwritable
from app.ingest.speakers import is_anonymous
from app.ingest.transcript import TranscriptError
from app.models import Appearance, CaptionLine, Episode, Person, Revision, Show, utcnow
from app.services import episodes as episode_service
from app.services import guests as guest_service
from app.timecodes import format_timestamp

ADMIN_TOKEN = "jeton d'administration"  # who the API's bearer token is, in the history
COMMAND_LINE = "ligne de commande"  # who `plateau ingest` is
METADATA_FIELDS = ("title", "show", "aired_on", "media_url", "description", "guests")
FIELD_NAMES = {
    "title": "titre",
    "show": "émission",
    "aired_on": "date de diffusion",
    "media_url": "adresse de la vidéo",
    "description": "description",
    "guests": "invités",
}
EDITS = ("keep", "replace")  # what a new ingest of an edited episode does with the edits


class EditRefused(Exception):
    """A change the archive refuses, with the HTTP status that says why and a French message."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def person_ref(person: Person | None) -> dict | None:
    return {"id": person.id, "slug": person.slug, "name": person.name} if person is not None else None


def lines_of(session: Session, episode: Episode) -> list[CaptionLine]:
    return episode_service.captions_of(session, episode)


def line_at(session: Session, episode: Episode, position: int) -> CaptionLine:
    line = session.exec(
        select(CaptionLine).where(CaptionLine.episode_id == episode.id, CaptionLine.position == position)
    ).first()
    if line is None:
        raise EditRefused(
            404, f"L'épisode « {episode.slug} » n'a pas de ligne n°{position} (il en a {episode.caption_count})."
        )
    return line


def clean_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > limits.MAX_REASON_CHARS:
        raise EditRefused(422, f"Raison trop longue : au plus {limits.MAX_REASON_CHARS} caractères.")
    _writable(reason, "raison")
    return reason


def _writable(text: str, where: str) -> None:
    try:
        refuse_unwritable(text, where=where)
    except TranscriptError as error:
        raise EditRefused(422, str(error)) from None


def record(
    session: Session,
    episode: Episode,
    kind: str,
    before: dict,
    after: dict,
    *,
    author: str,
    reason: str,
    undoes: int | None = None,
) -> Revision:
    assert episode.id is not None  # a stored episode
    revision = Revision(
        episode_id=episode.id,
        author=author,
        kind=kind,
        before=json.dumps(before, ensure_ascii=False, default=str),
        after=json.dumps(after, ensure_ascii=False, default=str),
        reason=reason,
        undoes=undoes,
    )
    session.add(revision)
    session.flush()
    return revision


def _lines_changed(session: Session, episode: Episode) -> None:
    """The episode's lines changed: its index stamp changes with them (index.episode_stamps)."""
    episode.transcript_edits += 1
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()


def finish(session: Session, episode: Episode, index) -> None:
    """Commit, then index the episode again at once: the corrected words find it from now on."""
    session.commit()
    if index is not None:
        assert episode.id is not None  # a stored episode
        index.index_episodes(session, [episode.id])


# --- text of a line ------------------------------------------------------------------------------


def correct_line(
    session: Session, episode: Episode, position: int, text: str, *, author: str, reason: str | None = None
) -> Revision:
    """Correct the text of one caption line (its time and position stay: quote links still land on it).
    The caller holds the write lock (app.db.begin_writing) from before it read the episode; the
    caller commits and indexes (finish)."""
    reason = clean_reason(reason)
    text = " ".join((text or "").split())
    if not text:
        raise EditRefused(422, "Le texte corrigé est vide : une ligne garde au moins un mot.")
    if len(text) > limits.MAX_CAPTION_CHARS:
        raise EditRefused(422, f"Texte trop long : au plus {limits.MAX_CAPTION_CHARS} caractères par ligne.")
    _writable(text, "texte")
    line = line_at(session, episode, position)
    if line.text == text:
        raise EditRefused(422, f"La ligne n°{position} dit déjà exactement cela : rien à corriger.")
    before = _line_state(line)
    _set_text(line, text, before["original"])
    session.add(line)
    _lines_changed(session, episode)
    return record(session, episode, "line", before, _line_state(line), author=author, reason=reason)


def _line_state(line: CaptionLine) -> dict:
    return {
        "position": line.position,
        "start": line.start,
        "text": line.text,
        "original": line.original_text if line.original_text is not None else line.text,
    }


def _set_text(line: CaptionLine, text: str, original: str) -> None:
    line.text = text
    line.original_text = None if text == original else original


# --- turns and labels ----------------------------------------------------------------------------


def _speaker_of(session: Session, episode: Episode, person_slug: str | None, name: str | None) -> Person:
    """The person a turn or a label is given to: a known person by slug, else by name with the
    one-person rule (the episode's people first, then the archive's, else a new person)."""
    assert episode.id is not None  # a stored episode
    if person_slug:
        person = guest_service.get_guest(session, person_slug)
        if person is None:
            raise EditRefused(404, f"Aucune personne « {person_slug} » dans l'archive.")
        return person
    name = " ".join((name or "").split())
    if not name:
        raise EditRefused(422, "Dites qui parle : « person » (la fiche d'une personne) ou « name » (un nom).")
    if len(name) > limits.MAX_PERSON_NAME_CHARS:
        raise EditRefused(422, f"Nom trop long : au plus {limits.MAX_PERSON_NAME_CHARS} caractères.")
    _writable(name, "nom")
    if is_anonymous(name):
        raise EditRefused(422, f"« {name} » est une étiquette de diarisation, pas une personne : donnez un nom.")
    matched = guest_service.match_speakers(session, episode.id, [name]).get(name)
    if matched is None:
        raise EditRefused(
            422, f"« {name} » ne nomme personne parmi les gens de l'épisode : donnez le prénom et le nom."
        )
    person = session.get(Person, matched)
    assert person is not None  # just matched or created
    return person


def _appear(session: Session, episode: Episode, person: Person) -> None:
    """A person given lines appears in the episode (as match_speakers makes a named speaker appear)."""
    assert episode.id is not None and person.id is not None  # stored rows
    if session.exec(
        select(Appearance.id).where(Appearance.episode_id == episode.id, Appearance.person_id == person.id)
    ).first():
        return
    last = session.exec(
        select(Appearance.position).where(Appearance.episode_id == episode.id).order_by(col(Appearance.position).desc())
    ).first()
    session.add(
        Appearance(
            episode_id=episode.id,
            person_id=person.id,
            kind=guest_service._kind_of_speaker(session, episode.id, person.id),
            named_as=person.name,
            found_in="speaker",
            position=(last or 0) + 1,
        )
    )
    session.flush()


def _drop_silent_speakers(session: Session, episode: Episode) -> None:
    """People who appeared in the episode only by their lines, and have none left: gone from it
    (and from the archive when they appear nowhere else)."""
    speaking = select(CaptionLine.person_id).where(
        CaptionLine.episode_id == episode.id, col(CaptionLine.person_id).is_not(None)
    )
    silent = session.exec(
        select(Appearance).where(
            Appearance.episode_id == episode.id,
            Appearance.found_in == "speaker",
            col(Appearance.person_id).not_in(speaking),
        )
    ).all()
    for appearance in silent:
        session.delete(appearance)
    if silent:
        session.flush()
        guest_service.settle_names(session)


def _person_of(session: Session, ref: dict | None) -> Person | None:
    """The person a stored reference names: by slug, else by name (merged into another
    record, the name is one of its aliases); a person who left the archive when their last lines
    went to someone else comes back."""
    if ref is None:
        return None
    # not by id: SQLite gives a deleted person's id to the next person created
    return guest_service.get_guest(session, ref["slug"]) or guest_service.find_or_create_person(session, ref["name"])


def _turn_end(lines: list[CaptionLine], position: int) -> int:
    """Where the turn that holds this line ends: the next line said by someone else (or the end)."""
    first = lines[position]
    end = position + 1
    while end < len(lines) and (lines[end].speaker, lines[end].person_id) == (first.speaker, first.person_id):
        end += 1
    return end


def _turn_state(session: Session, lines: list[CaptionLine], position: int, until: int) -> dict:
    first = lines[position]
    person = session.get(Person, first.person_id) if first.person_id is not None else None
    return {
        "position": position,
        "until": until,
        "label": first.speaker,
        "person": person_ref(person),
        "text": first.original_text if first.original_text is not None else first.text,
    }


def _set_speaker(lines: list[CaptionLine], position: int, until: int, label: str | None, person: Person | None):
    for line in lines[position:until]:
        line.speaker = label
        line.person_id = person.id if person is not None else None


def mark_turn(
    session: Session,
    episode: Episode,
    position: int,
    *,
    person_slug: str | None = None,
    name: str | None = None,
    author: str,
    reason: str | None = None,
) -> Revision:
    """From this line on, this person speaks, until the next change of speaker (the turn that held
    the line is split there: its lines before stay with whoever said them)."""
    reason = clean_reason(reason)
    line_at(session, episode, position)  # 404 before anything
    lines = lines_of(session, episode)
    person = _speaker_of(session, episode, person_slug, name)
    until = _turn_end(lines, position)
    if all(line.person_id == person.id for line in lines[position:until]):
        raise EditRefused(422, f"{person.name} dit déjà les lignes n°{position} à n°{until - 1}.")
    before = _turn_state(session, lines, position, until)
    _set_speaker(lines, position, until, person.name, person)
    session.add_all(lines[position:until])
    _appear(session, episode, person)
    _lines_changed(session, episode)
    _drop_silent_speakers(session, episode)
    after = _turn_state(session, lines, position, until)
    return record(session, episode, "turn", before, after, author=author, reason=reason)


def map_label(
    session: Session,
    episode: Episode,
    label: str,
    *,
    person_slug: str | None = None,
    name: str | None = None,
    author: str,
    reason: str | None = None,
) -> Revision:
    """Every line the file says `label` says ("SPEAKER_01") is this person's, in the whole episode."""
    reason = clean_reason(reason)
    label = (label or "").strip()
    lines = [line for line in lines_of(session, episode) if line.speaker == label]
    if not label or not lines:
        raise EditRefused(404, f"Aucune ligne de l'épisode n'est dite par « {label} ».")
    person = _speaker_of(session, episode, person_slug, name)
    if all(line.person_id == person.id for line in lines):
        raise EditRefused(422, f"« {label} » est déjà {person.name}.")
    before = _label_state(session, label, lines)
    for line in lines:
        line.person_id = person.id
    session.add_all(lines)
    _appear(session, episode, person)
    _lines_changed(session, episode)
    _drop_silent_speakers(session, episode)
    return record(session, episode, "label", before, _label_state(session, label, lines), author=author, reason=reason)


def _label_state(session: Session, label: str, lines: list[CaptionLine]) -> dict:
    ids = [line.person_id for line in lines]
    most = max(set(ids), key=ids.count)  # they are all one person's, unless a merge moved some
    return {
        "label": label,
        "person": person_ref(session.get(Person, most) if most is not None else None),
        "lines": len(lines),
    }


# --- metadata ------------------------------------------------------------------------------------


def metadata_of(session: Session, episode: Episode) -> dict[str, Any]:
    assert episode.id is not None  # a stored episode
    show = session.get(Show, episode.show_id) if episode.show_id is not None else None
    guests = episode_service.guests_by_episode(session, [episode.id])[episode.id]
    return {
        "title": episode.title,
        "show": show.name if show else None,
        "aired_on": episode.aired_on.isoformat() if episode.aired_on else None,
        "media_url": episode.media_url,
        "description": episode.description,
        "guests": [{"name": g.name, "role": g.role} for g in guests],
    }


def _apply_metadata(session: Session, episode: Episode, values: dict[str, Any]) -> None:
    values = _as_changes(values)
    guests = values.pop("guests", None)
    if guests is not None:
        _set_guests(session, episode, guests)
    episode_service.apply_changes(session, episode, values)


def _set_guests(session: Session, episode: Episode, guests: list[dict]) -> None:
    """The episode's guests become these, in this order, each with the role this episode gives
    them; a guest who still speaks lines of the episode stays (their turns are to change first)."""
    assert episode.id is not None  # a stored episode
    current = {
        a.person_id: a
        for a in session.exec(
            select(Appearance).where(Appearance.episode_id == episode.id, Appearance.kind == "guest")
        ).all()
    }
    panel: set[int] = set()
    for number, guest in enumerate(guests, 1):
        name = " ".join(guest["name"].split())
        person = guest_service.find_or_create_person(session, name, exclude=panel)
        assert person.id is not None  # found in the table, or added and flushed
        panel.add(person.id)
        appearance = current.get(person.id) or Appearance(
            episode_id=episode.id, person_id=person.id, kind="guest", named_as=name, found_in="editor"
        )
        appearance.role = guest.get("role") or None
        appearance.found_in = "editor"
        appearance.position = number
        session.add(appearance)
    speaking = set(
        session.exec(
            select(CaptionLine.person_id).where(
                CaptionLine.episode_id == episode.id, col(CaptionLine.person_id).in_(set(current) - panel)
            )
        ).all()
    )
    for person_id, appearance in current.items():
        if person_id in panel:
            continue
        if person_id in speaking:
            speaker = session.get(Person, person_id)
            name = speaker.name if speaker else appearance.named_as
            raise EditRefused(
                422,
                f"{name} parle dans l'épisode : ses tours de parole sont à changer avant de le retirer des invités.",
            )
        session.delete(appearance)
    session.flush()
    guest_service.settle_names(session)


def _as_changes(values: dict[str, Any]) -> dict[str, Any]:
    """Stored values as edit_episode takes them: a date, and "" for no show."""
    changes = dict(values)
    if "aired_on" in changes and changes["aired_on"] is not None:
        changes["aired_on"] = date.fromisoformat(changes["aired_on"])
    if "show" in changes and changes["show"] is None:
        changes["show"] = ""
    return changes


def edit_metadata(
    session: Session, episode: Episode, changes: dict, *, author: str, reason: str | None = None
) -> Revision | None:
    """PATCH: the fields that change, applied and recorded (None when nothing changes). Not committed."""
    reason = clean_reason(reason)
    current = metadata_of(session, episode)
    wanted = {
        name: (value.isoformat() if isinstance(value, date) else value)
        for name, value in changes.items()
        if name in METADATA_FIELDS
    }
    if "show" in wanted and wanted["show"] is not None and not wanted["show"].strip():
        wanted["show"] = None
    if wanted.get("guests", []) is None:
        del wanted["guests"]  # null: the guests stay as they are
    # the show an editor names is stated, even when it is the one the transcript let us infer
    confirmed = "show" in wanted and wanted["show"] is not None and episode.show_inferred
    wanted = {name: value for name, value in wanted.items() if current[name] != value}
    if confirmed:
        episode.show_inferred = False
        session.add(episode)
    if not wanted:
        return None
    before = {name: current[name] for name in wanted}
    _apply_metadata(session, episode, wanted)
    after = metadata_of_fields(session, episode, wanted)
    changed = [name for name in wanted if after[name] != before[name]]  # "smart tech" names SMART TECH
    if not changed:
        return None
    before, after = {name: before[name] for name in changed}, {name: after[name] for name in changed}
    return record(session, episode, "metadata", before, after, author=author, reason=reason)


def metadata_of_fields(session: Session, episode: Episode, fields: dict) -> dict:
    current = metadata_of(session, episode)
    return {name: current[name] for name in fields}


# --- undo ----------------------------------------------------------------------------------------


def undo(session: Session, revision_id: int, *, author: str, reason: str | None = None) -> tuple[Revision, Episode]:
    """Restore what a revision changed, as a new revision. Refused (409) when the thing is no longer
    as that revision left it. The caller holds the write lock, commits and indexes (finish)."""
    reason = clean_reason(reason)
    revision = session.get(Revision, revision_id)
    if revision is None:
        raise EditRefused(404, f"Aucune révision n°{revision_id}.")
    episode = session.get(Episode, revision.episode_id)
    assert episode is not None  # revisions go with their episode
    if revision.kind == "ingest":
        raise EditRefused(
            409,
            "Une nouvelle ingestion ne s'annule pas : ingérez le fichier à nouveau "
            "(edits=keep garde les modifications des éditeurs).",
        )
    before, after = json.loads(revision.before), json.loads(revision.after)
    if not _is_as(session, episode, revision.kind, after):
        if revision.undone_by is not None and _is_as(session, episode, revision.kind, before):
            raise EditRefused(409, f"La révision n°{revision.id} est déjà annulée (révision n°{revision.undone_by}).")
        raise EditRefused(409, _changed_since(session, revision, after))
    _restore(session, episode, revision.kind, before)
    undoing = record(
        session,
        episode,
        revision.kind,
        after,
        _state_now(session, episode, revision.kind, before),
        author=author,
        reason=reason,
        undoes=revision.id,
    )
    revision.undone_by = undoing.id
    session.add(revision)
    session.flush()
    return undoing, episode


def _is_as(session: Session, episode: Episode, kind: str, state: dict) -> bool:
    """Whether the episode is, for what this state describes, as the state says."""
    if kind == "line":
        line = session.exec(
            select(CaptionLine).where(CaptionLine.episode_id == episode.id, CaptionLine.position == state["position"])
        ).first()
        return line is not None and line.text == state["text"]
    if kind == "turn":
        lines = lines_of(session, episode)[state["position"] : state["until"]]
        slugs = _slugs(session, lines)
        return len(lines) == state["until"] - state["position"] and all(
            line.speaker == state["label"] and slug == _slug(state) for line, slug in zip(lines, slugs, strict=True)
        )
    if kind == "label":
        lines = [line for line in lines_of(session, episode) if line.speaker == state["label"]]
        return bool(lines) and all(slug == _slug(state) for slug in _slugs(session, lines))
    if kind == "metadata":
        current = metadata_of(session, episode)
        return all(current[name] == value for name, value in state.items())
    return False


def _slug(state: dict) -> str | None:
    return state["person"]["slug"] if state["person"] else None


def _slugs(session: Session, lines: list[CaptionLine]) -> list[str | None]:
    """The slug of each line's person: people are compared by slug, which a person keeps when their
    record leaves the archive and comes back (an id is not kept)."""
    people = {
        p.id: p.slug
        for p in session.exec(select(Person).where(col(Person.id).in_({line.person_id for line in lines}))).all()
    }
    return [people.get(line.person_id) if line.person_id is not None else None for line in lines]


def _restore(session: Session, episode: Episode, kind: str, state: dict) -> None:
    if kind == "line":
        line = line_at(session, episode, state["position"])
        _set_text(line, state["text"], state["original"])
        session.add(line)
        _lines_changed(session, episode)
    elif kind == "turn":
        person = _person_of(session, state["person"])
        lines = lines_of(session, episode)
        _set_speaker(lines, state["position"], state["until"], state["label"], person)
        session.add_all(lines[state["position"] : state["until"]])
        _after_speakers(session, episode, person)
    elif kind == "label":
        person = _person_of(session, state["person"])
        lines = [line for line in lines_of(session, episode) if line.speaker == state["label"]]
        for line in lines:
            line.person_id = person.id if person is not None else None
        session.add_all(lines)
        _after_speakers(session, episode, person)
    elif kind == "metadata":
        _apply_metadata(session, episode, state)


def _after_speakers(session: Session, episode: Episode, person: Person | None) -> None:
    if person is not None:
        _appear(session, episode, person)
    _lines_changed(session, episode)
    _drop_silent_speakers(session, episode)


def _state_now(session: Session, episode: Episode, kind: str, state: dict) -> dict:
    """The state just restored, as a revision keeps it (a person's name may have changed since)."""
    if kind == "turn":
        lines = lines_of(session, episode)
        return _turn_state(session, lines, state["position"], state["until"])
    if kind == "label":
        lines = [line for line in lines_of(session, episode) if line.speaker == state["label"]]
        return _label_state(session, state["label"], lines)
    if kind == "metadata":
        return metadata_of_fields(session, episode, state)
    return state


def _touches(kind: str, state: dict, other: Revision) -> bool:
    if other.kind == "ingest":
        return True
    theirs = json.loads(other.after)
    if kind == "line":
        return other.kind == "line" and theirs["position"] == state["position"]
    if kind == "turn":
        if other.kind == "line" or other.kind == "metadata":
            return False
        if other.kind == "label":
            return True
        return theirs["position"] < state["until"] and state["position"] < theirs["until"]
    if kind == "label":
        return other.kind in ("turn", "label")
    if kind == "metadata":
        return other.kind == "metadata" and bool(set(theirs) & set(state))
    return False


def _changed_since(session: Session, revision: Revision, after: dict) -> str:
    thing = {
        "line": lambda: f"La ligne n°{after.get('position')}",
        "turn": lambda: f"Le tour de parole des lignes n°{after.get('position')} à n°{after.get('until', 1) - 1}",
        "label": lambda: f"L'étiquette « {after.get('label')} »",
        "metadata": lambda: "Les métadonnées",
    }[revision.kind]()
    later = session.exec(
        select(Revision)
        .where(Revision.episode_id == revision.episode_id, col(Revision.id) > revision.id)
        .order_by(col(Revision.id).desc())
    ).all()
    for other in later:
        if not _touches(revision.kind, after, other):
            continue
        if other.kind == "ingest":
            return (
                f"{thing} a changé depuis la révision n°{revision.id} : le fichier a été ingéré de nouveau "
                f"(révision n°{other.id}) ; elle ne peut plus être annulée."
            )
        described = what(other)
        return (
            f"{thing} a changé depuis la révision n°{revision.id} (révision n°{other.id}, "
            f"{described[0].lower()}{described[1:]}) : annulez d'abord les révisions plus récentes."
        )
    return f"{thing} a changé depuis la révision n°{revision.id} : elle ne peut plus être annulée."


# --- a new ingest of the same file ---------------------------------------------------------------


@dataclass
class Carried:
    """What a new ingest did with an episode's edits."""

    status: str  # "kept" or "replaced"
    kept: int = 0  # revisions applied again to the new lines
    not_reapplied: list[str] = field(default_factory=list)  # why each one could not be

    @property
    def message(self) -> str:
        if self.status == "replaced":
            return "modifications remplacées par le fichier"
        if self.not_reapplied:
            return f"modifications conservées, sauf {len(self.not_reapplied)} non reportée(s)"
        return "modifications conservées"

    def as_json(self) -> dict:
        return {"status": self.status, "message": self.message, "not_reapplied": self.not_reapplied}


def _since_replaced(session: Session, episode_id: int) -> list[Revision]:
    """The episode's revisions since its edits were last replaced by a new ingest, oldest first."""
    revisions = list(
        session.exec(select(Revision).where(Revision.episode_id == episode_id).order_by(col(Revision.id))).all()
    )
    for i in range(len(revisions) - 1, -1, -1):
        if revisions[i].kind == "ingest" and json.loads(revisions[i].after).get("edits") == "replace":
            return revisions[i + 1 :]
    return revisions


def has_edits(session: Session, episode_id: int) -> bool:
    """Whether editors changed the episode since its edits were last replaced."""
    return any(r.kind != "ingest" for r in _since_replaced(session, episode_id))


def _in_effect(revisions: list[Revision]) -> list[Revision]:
    """The changes that stand: neither undone (by an undo that itself stands) nor undos themselves."""
    by_id = {r.id: r for r in revisions}

    def stands(r: Revision) -> bool:
        undo = by_id.get(r.undone_by) if r.undone_by is not None else None
        return undo is None or not stands(undo)

    return [r for r in revisions if r.kind != "ingest" and r.undoes is None and stands(r)]


def after_ingest(session: Session, episode: Episode, edits: str, *, author: str) -> Carried | None:
    """Called by a new ingest of an edited episode once its new lines are written (same
    transaction): "keep" applies the edits again where the line at that position still has the
    machine text the edit was made on (the label, for a label); "replace" leaves the file's text.
    Either way a revision says what happened. None when no editor changed the episode."""
    assert episode.id is not None  # a stored episode
    revisions = _since_replaced(session, episode.id)
    if not any(r.kind != "ingest" for r in revisions):
        return None
    standing = _in_effect(revisions)
    carried = Carried("replaced" if edits == "replace" else "kept")
    if edits == "keep":
        lines = lines_of(session, episode)
        machine = [line.text for line in lines]
        for revision in standing:
            problem = _apply_again(session, episode, revision, lines, machine)
            if problem:
                carried.not_reapplied.append(f"révision n°{revision.id} : {problem}")
            else:
                carried.kept += 1
        session.add_all(lines)
        _drop_silent_speakers(session, episode)
    _lines_changed(session, episode)
    record(
        session,
        episode,
        "ingest",
        {"revisions": [r.id for r in standing]},
        {"edits": edits, "kept": carried.kept, "not_reapplied": carried.not_reapplied},
        author=author,
        reason="",
    )
    return carried


def _apply_again(
    session: Session, episode: Episode, revision: Revision, lines: list[CaptionLine], machine: list[str]
) -> str | None:
    """Apply one standing revision to the new lines; why not, when it cannot be."""
    after = json.loads(revision.after)
    if revision.kind == "line":
        p = after["position"]
        if p >= len(lines) or machine[p] != after["original"]:
            return f"la ligne n°{p} ne dit plus « {_short(after['original'])} » dans le fichier"
        _set_text(lines[p], after["text"], machine[p])
    elif revision.kind == "turn":
        p, until = after["position"], after["until"]
        if until > len(lines) or machine[p] != after["text"]:
            return f"la ligne n°{p} ne dit plus « {_short(after['text'])} » dans le fichier"
        person = _person_of(session, after["person"])
        _set_speaker(lines, p, until, after["label"], person)
        if person is not None:
            _appear(session, episode, person)
    elif revision.kind == "label":
        said = [line for line in lines if line.speaker == after["label"]]
        if not said:
            return f"plus aucune ligne n'est dite par « {after['label']} »"
        person = _person_of(session, after["person"])
        for line in said:
            line.person_id = person.id if person is not None else None
        if person is not None:
            _appear(session, episode, person)
    elif revision.kind == "metadata":
        try:
            _apply_metadata(session, episode, after)
        except EditRefused as refused:
            return refused.detail
    return None


def _short(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


# --- the history, as the API and the page show it ------------------------------------------------


def history(session: Session, episode: Episode) -> list[Revision]:
    """The episode's revisions, newest first."""
    return list(
        session.exec(select(Revision).where(Revision.episode_id == episode.id).order_by(col(Revision.id).desc())).all()
    )


def _speaker_name(state: dict) -> str | None:
    return state["person"]["name"] if state.get("person") else state.get("label")


def what(revision: Revision) -> str:
    """What a revision did, in a few French words."""
    after = json.loads(revision.after)
    undo = f"annulation de la révision n°{revision.undoes} : " if revision.undoes is not None else ""
    describe: dict[str, Callable[[], str]] = {
        "line": lambda: f"Texte de la ligne n°{after['position']} ({format_timestamp(after['start'])})",
        "turn": lambda: f"Tour de parole, lignes n°{after['position']} à n°{after['until'] - 1}",
        "label": lambda: f"Locuteur « {after['label']} » pour tout l'épisode",
        "metadata": lambda: "Métadonnées : " + ", ".join(FIELD_NAMES.get(name, name) for name in after),
        "ingest": lambda: (
            "Nouvelle ingestion du fichier : "
            + ("modifications remplacées" if after.get("edits") == "replace" else "modifications conservées")
        ),
    }
    text = describe.get(revision.kind, lambda: revision.kind)()
    return undo.capitalize() + text[0].lower() + text[1:] if undo else text


def changes(revision: Revision) -> list[dict]:
    """Before → after, field by field, as text: [{"field", "before", "after"}]."""
    before, after = json.loads(revision.before), json.loads(revision.after)
    if revision.kind == "line":
        return [{"field": "texte", "before": before["text"], "after": after["text"]}]
    if revision.kind in ("turn", "label"):
        return [{"field": "locuteur", "before": _speaker_name(before), "after": _speaker_name(after)}]
    if revision.kind == "metadata":
        return [
            {"field": FIELD_NAMES.get(name, name), "before": _text(before.get(name)), "after": _text(value)}
            for name, value in after.items()
        ]
    if revision.kind == "ingest":
        if after.get("edits") == "replace":
            outcome = f"remplacées par le fichier ({len(before.get('revisions', []))} en vigueur)"
        else:
            outcome = f"conservées ({after.get('kept', 0)} reportée(s) sur les nouvelles lignes)"
        rows = [{"field": "modifications", "before": None, "after": outcome}]
        rows += [{"field": "non reportée", "before": None, "after": note} for note in after.get("not_reapplied", [])]
        return rows
    return []


def _text(value: Any) -> str | None:
    if isinstance(value, list):  # guests
        return ", ".join(g["name"] + (f" ({g['role']})" if g.get("role") else "") for g in value) or None
    return None if value is None else str(value)


def revision_json(revision: Revision, slug: str) -> dict:
    after = json.loads(revision.after)
    return {
        "id": revision.id,
        "episode": slug,
        "kind": revision.kind,
        "what": what(revision),
        "author": revision.author,
        "created_at": revision.created_at.isoformat(),
        "reason": revision.reason,
        "position": after.get("position") if revision.kind in ("line", "turn") else None,
        "until": after.get("until") if revision.kind == "turn" else None,
        "label": after.get("label") if revision.kind == "label" else None,
        "changes": changes(revision),
        "undoes": revision.undoes,
        "undone_by": revision.undone_by,
    }


def start_of(revision: Revision) -> float | None:
    """The second of the corrected line, for a link to it; None for other kinds."""
    return json.loads(revision.after).get("start") if revision.kind == "line" else None

"""The editing forms of signed-in editors: the episode's details and guests, a line's text, a turn, a
diarization label, undo.

Each form posts to a page route that takes EditorDep (signed in, CSRF token checked), calls the same
service as the API (app/services/revisions.py) with the editor's name as author, and sends the
browser back (303) to the line or to the history."""

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from app import limits
from app.api.episodes import EpisodeChanges
from app.api.revisions import LAST_POSITION, refused_as_http
from app.db import begin_writing
from app.deps import EditorDep, SearchDep, SessionDep
from app.ingest.speakers import is_anonymous
from app.models import Episode
from app.services import episodes as episode_service
from app.services import revisions as revision_service
from app.services.revisions import EditRefused
from app.services.speakers import speakers_by_id
from app.web.errors import PageRoute
from app.web.templating import render

router = APIRouter(route_class=PageRoute)

Reason = Annotated[str, Form(max_length=limits.MAX_REASON_CHARS)]
Name = Annotated[str, Form(max_length=limits.MAX_PERSON_NAME_CHARS)]


def _episode(session: Session, slug: str) -> Episode:
    found = episode_service.get_episode(session, slug)
    if found is None:
        raise HTTPException(404, f"Aucun épisode « {slug} » dans l'archive.")
    return found


def _edit_then_back(session: Session, index, slug: str, position: int, change) -> RedirectResponse:
    """Take the write lock, find the episode, change it (change(episode)), commit and index it again,
    then back to the edited line, marked."""
    begin_writing(session)
    episode = _episode(session, slug)
    with refused_as_http(session):
        change(episode)
        start = revision_service.line_at(session, episode, position).start
    revision_service.finish(session, episode, index)
    return RedirectResponse(f"/episodes/{slug}?t={int(start)}&l={position}#l-{position}", status_code=303)


def _person(person: str, name: str) -> dict:
    """The person chosen in the form: a name typed wins over the list."""
    return {"person_slug": None if name.strip() else person or None, "name": name or None}


@router.get("/episodes/{slug}/lines/{position}/edit", include_in_schema=False)
def edit_line(
    slug: str, request: Request, editor: EditorDep, session: SessionDep, position: int = Path(ge=0, le=LAST_POSITION)
):
    """The forms for one line: correct its text, mark a turn there, name its diarization label."""
    episode = _episode(session, slug)
    try:
        line = revision_service.line_at(session, episode, position)
    except EditRefused as refused:
        raise HTTPException(refused.status, refused.detail) from None
    summary = episode_service.summarize(session, [episode])[0]
    people = ([summary.host] if summary.host else []) + summary.guests
    speaker = speakers_by_id(session, [line.person_id]).get(line.person_id) if line.person_id else None
    return render(
        request,
        "edit_line.html",
        {
            "nav": "episodes",
            "episode": episode,
            "show": summary.show,
            "line": line,
            "speaker": speaker,
            "label": line.speaker if line.speaker and is_anonymous(line.speaker) else None,
            "people": [(p.slug, p.name) for p in people],
        },
    )


@router.post("/episodes/{slug}/lines/{position}", include_in_schema=False)
def correct_line(
    slug: str,
    editor: EditorDep,
    session: SessionDep,
    index: SearchDep,
    text: Annotated[str, Form(max_length=limits.MAX_CAPTION_CHARS)] = "",
    reason: Reason = "",
    position: int = Path(ge=0, le=LAST_POSITION),
):
    return _edit_then_back(
        session,
        index,
        slug,
        position,
        lambda episode: revision_service.correct_line(
            session, episode, position, text, author=editor.name, reason=reason
        ),
    )


@router.post("/episodes/{slug}/turns", include_in_schema=False)
def mark_turn(
    slug: str,
    editor: EditorDep,
    session: SessionDep,
    index: SearchDep,
    position: Annotated[int, Form(ge=0, le=LAST_POSITION)],
    person: Name = "",
    name: Name = "",
    reason: Reason = "",
):
    return _edit_then_back(
        session,
        index,
        slug,
        position,
        lambda episode: revision_service.mark_turn(
            session, episode, position, **_person(person, name), author=editor.name, reason=reason
        ),
    )


@router.post("/episodes/{slug}/labels", include_in_schema=False)
def map_label(
    slug: str,
    editor: EditorDep,
    session: SessionDep,
    index: SearchDep,
    label: Name = "",
    person: Name = "",
    name: Name = "",
    position: Annotated[int, Form(ge=0, le=LAST_POSITION)] = 0,
    reason: Reason = "",
):
    return _edit_then_back(
        session,
        index,
        slug,
        position,
        lambda episode: revision_service.map_label(
            session, episode, label, **_person(person, name), author=editor.name, reason=reason
        ),
    )


@router.post("/episodes/{slug}/history/{revision_id}/undo", include_in_schema=False)
def undo(
    slug: str,
    editor: EditorDep,
    session: SessionDep,
    index: SearchDep,
    reason: Reason = "",
    revision_id: int = Path(ge=1, le=LAST_POSITION),
):
    begin_writing(session)
    episode = _episode(session, slug)
    with refused_as_http(session):
        undone, of = revision_service.undo(session, revision_id, author=editor.name, reason=reason)
        if of.id != episode.id:
            raise EditRefused(404, f"La révision n°{revision_id} n'est pas une révision de cet épisode.")
    revision_service.finish(session, episode, index)
    return RedirectResponse(f"/episodes/{slug}/history#revision-{undone.id}", status_code=303)


def guest_lines(guests: list[dict]) -> str:
    """The guests as the form's text area writes them: one a line, "Nom (rôle)"."""
    return "\n".join(g["name"] + (f" ({g['role']})" if g.get("role") else "") for g in guests)


def read_guests(text: str) -> list[dict]:
    guests = []
    for line in text.splitlines():
        found = re.fullmatch(r"\s*(.*?)\s*(?:\((.*)\))?\s*", line)
        if found and found.group(1):
            guests.append({"name": found.group(1), "role": (found.group(2) or "").strip() or None})
    return guests


def _episode_form(request: Request, session: Session, episode: Episode, values: dict, error: str | None, status: int):
    return render(
        request,
        "edit_episode.html",
        {
            "nav": "episodes",
            "episode": episode,
            "show": episode_service.summarize(session, [episode])[0].show,
            "values": values,
            "error": error,
        },
        status_code=status,
    )


@router.get("/episodes/{slug}/edit", include_in_schema=False)
def edit_episode(slug: str, request: Request, editor: EditorDep, session: SessionDep):
    """The episode's details and guests, as a form."""
    episode = _episode(session, slug)
    values = revision_service.metadata_of(session, episode)
    values["guests"] = guest_lines(values["guests"])
    return _episode_form(request, session, episode, values, None, 200)


@router.post("/episodes/{slug}/edit", include_in_schema=False)
def save_episode(
    slug: str,
    request: Request,
    editor: EditorDep,
    session: SessionDep,
    title: Annotated[str, Form(max_length=limits.MAX_TITLE_CHARS)] = "",
    show: Annotated[str, Form(max_length=limits.MAX_SHOW_CHARS)] = "",
    aired_on: Annotated[str, Form(max_length=20)] = "",
    media_url: Annotated[str, Form(max_length=limits.MAX_MEDIA_URL_CHARS)] = "",
    description: Annotated[str, Form(max_length=limits.MAX_DESCRIPTION_CHARS)] = "",
    guests: Annotated[str, Form(max_length=limits.MAX_EPISODE_GUESTS * limits.MAX_ROLE_CHARS)] = "",
    reason: Reason = "",
):
    values = {
        "title": title,
        "show": show,
        "aired_on": aired_on,
        "media_url": media_url,
        "description": description,
        "guests": guests,
    }
    begin_writing(session)
    episode = _episode(session, slug)
    try:
        # the API's rules check the form (EpisodeChanges): an empty field clears what it holds
        changes = EpisodeChanges.model_validate(
            {
                "title": title,
                "show": show,
                "aired_on": aired_on.strip() or None,
                "media_url": media_url.strip() or None,
                "description": description.strip() or None,
                "guests": read_guests(guests),
            }
        )
        revision_service.edit_metadata(
            session, episode, changes.model_dump(exclude={"reason"}), author=editor.name, reason=reason
        )
    except ValidationError as invalid:
        session.rollback()
        problems = "; ".join(
            f"{revision_service.FIELD_NAMES.get(str(e['loc'][0]), str(e['loc'][0]))} : "
            + str(e["msg"]).removeprefix("Value error, ")
            for e in invalid.errors()
        )
        return _episode_form(request, session, episode, values, f"Modifications refusées — {problems}", 422)
    except EditRefused as refused:
        session.rollback()
        return _episode_form(request, session, episode, values, refused.detail, refused.status)
    session.commit()
    return RedirectResponse(f"/episodes/{slug}", status_code=303)

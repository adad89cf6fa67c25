"""JSON routes for editing the record: a line's text, turns, diarization labels, the history, undo."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlmodel import Session

from app import limits
from app.api.responses import SafeJSONResponse
from app.api.schemas import History, Revision, problems
from app.db import begin_writing
from app.deps import AdminDep, SearchDep, SessionDep
from app.models import Episode
from app.models import Revision as RevisionRow
from app.services import episodes as episode_service
from app.services import revisions as revision_service
from app.services.revisions import ADMIN_TOKEN, EditRefused

router = APIRouter(prefix="/api", tags=["révisions"], default_response_class=SafeJSONResponse)
WRITE_ERRORS = problems(401, 403, 404, 409, 422)
LAST_POSITION = 2**31 - 1  # past any episode's lines, and within what the database's integers hold


class Why(BaseModel):
    reason: str = Field("", max_length=limits.MAX_REASON_CHARS, description="pourquoi ce changement (facultatif)")


class LineCorrection(Why):
    text: str = Field(max_length=limits.MAX_CAPTION_CHARS, description="le texte corrigé de la ligne")


class Speaking(Why):
    person: str | None = Field(None, description="slug d'une personne de l'archive (/guests/{slug})")
    name: str | None = Field(
        None, max_length=limits.MAX_PERSON_NAME_CHARS, description="ou un nom : une personne connue, sinon nouvelle"
    )


class TurnMark(Speaking):
    position: int = Field(
        ge=0, le=LAST_POSITION, description="la ligne où le tour commence ; il dure jusqu'au changement suivant"
    )


class LabelMapping(Speaking):
    label: str = Field(max_length=limits.MAX_PERSON_NAME_CHARS, description="étiquette du fichier (SPEAKER_01)")


@contextmanager
def refused_as_http(session: Session) -> Iterator[None]:
    """An edit the record refuses (EditRefused) rolled back and answered with its status and why."""
    try:
        yield
    except EditRefused as refused:
        session.rollback()
        raise HTTPException(refused.status, refused.detail) from None


def _episode(session: Session, slug: str) -> Episode:
    episode = episode_service.get_episode(session, slug)
    if episode is None:
        raise HTTPException(404, f"Aucun épisode « {slug} ».")
    return episode


def _edit(session: Session, index, slug: str, change: Callable[[Episode], RevisionRow]) -> Revision:
    """Take the write lock, find the episode, change it, commit, index it again at once."""
    begin_writing(session)
    episode = _episode(session, slug)
    with refused_as_http(session):
        revision = change(episode)
    revision_service.finish(session, episode, index)
    return Revision.model_validate(revision_service.revision_json(revision, episode.slug))


@router.post("/episodes/{slug}/lines/{position}", status_code=201, responses=WRITE_ERRORS)
def correct_line(
    slug: str,
    body: LineCorrection,
    admin: AdminDep,
    session: SessionDep,
    index: SearchDep,
    position: int = Path(ge=0, le=LAST_POSITION),
) -> Revision:
    """Correct the text of a caption line. Its time stays, so quote links still land on it; the
    machine's text stays searchable too."""
    return _edit(
        session,
        index,
        slug,
        lambda episode: revision_service.correct_line(
            session, episode, position, body.text, author=ADMIN_TOKEN, reason=body.reason
        ),
    )


@router.post("/episodes/{slug}/turns", status_code=201, responses=WRITE_ERRORS)
def mark_turn(slug: str, body: TurnMark, admin: AdminDep, session: SessionDep, index: SearchDep) -> Revision:
    """From this line on, this person speaks, until the next change of speaker."""
    return _edit(
        session,
        index,
        slug,
        lambda episode: revision_service.mark_turn(
            session,
            episode,
            body.position,
            person_slug=body.person,
            name=body.name,
            author=ADMIN_TOKEN,
            reason=body.reason,
        ),
    )


@router.post("/episodes/{slug}/labels", status_code=201, responses=WRITE_ERRORS)
def map_label(slug: str, body: LabelMapping, admin: AdminDep, session: SessionDep, index: SearchDep) -> Revision:
    """A diarization label (SPEAKER_01) is this person, on every line of the episode."""
    return _edit(
        session,
        index,
        slug,
        lambda episode: revision_service.map_label(
            session,
            episode,
            body.label,
            person_slug=body.person,
            name=body.name,
            author=ADMIN_TOKEN,
            reason=body.reason,
        ),
    )


@router.get("/episodes/{slug}/history", responses=problems(404))
def history(slug: str, session: SessionDep) -> History:
    """Every change to the episode, newest first: who, when, what, before and after, why."""
    episode = _episode(session, slug)
    items = [revision_service.revision_json(r, episode.slug) for r in revision_service.history(session, episode)]
    return History.model_validate({"episode": episode.slug, "total": len(items), "items": items})


@router.post("/revisions/{revision_id}/undo", status_code=201, responses=WRITE_ERRORS)
def undo(
    admin: AdminDep,
    session: SessionDep,
    index: SearchDep,
    revision_id: int = Path(ge=1, le=LAST_POSITION),
    body: Why | None = None,
) -> Revision:
    """Undo a revision: a new revision restores what it changed. Refused (409) when a later
    revision changed the same thing: undo that one first."""
    begin_writing(session)
    with refused_as_http(session):
        revision, episode = revision_service.undo(
            session, revision_id, author=ADMIN_TOKEN, reason=body.reason if body else ""
        )
    revision_service.finish(session, episode, index)
    return Revision.model_validate(revision_service.revision_json(revision, episode.slug))

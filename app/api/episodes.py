"""JSON routes for episodes and shows: lists, details, and the writes (ingest, edit, delete)."""

from datetime import date
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Query, Response, UploadFile
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from app import limits
from app.api.responses import SafeJSONResponse
from app.api.schemas import EpisodeDetail, EpisodePage, IngestedEpisode, ShowDetail, ShowList, problems
from app.db import begin_writing
from app.deps import AdminDep, SearchDep, SessionDep
from app.ingest.decoding import refuse_unwritable
from app.ingest.sidecar import facts_from_mapping, load_json
from app.ingest.transcript import TranscriptError
from app.models import Episode
from app.names import fold
from app.services import episodes as episode_service
from app.services import revisions as revision_service
from app.services.ingest import DISK_FULL, READ_ONLY, check_media_url, ingest_bytes
from app.services.revisions import ADMIN_TOKEN, EditRefused

router = APIRouter(prefix="/api", tags=["épisodes"], default_response_class=SafeJSONResponse)


def retry_indexing(index, bind) -> None:
    """Index what is still waiting for it (an episode the index could not take, busy or damaged)."""
    with Session(bind) as session:
        index.index_pending(session)


def episode_or_404(session: Session, slug: str) -> Episode:
    episode = episode_service.get_episode(session, slug)
    if episode is None:
        raise HTTPException(404, f"Aucun épisode « {slug} ».")
    return episode


@router.get("/episodes")
def list_episodes(
    session: SessionDep,
    page: int = Query(1, ge=1, le=limits.MAX_PAGE),
    per_page: int = Query(limits.EPISODES_PER_PAGE, ge=1, le=limits.MAX_EPISODES_PER_PAGE),
    show: str | None = None,
    guest: str | None = None,
    year: int | None = Query(None, ge=limits.FIRST_YEAR, le=limits.LAST_YEAR),
) -> EpisodePage:
    total, items = episode_service.list_episodes(
        session, show=show, guest=guest, year=year, page=page, per_page=per_page
    )
    return EpisodePage.model_validate(
        {"total": total, "page": page, "items": [s.as_json() for s in episode_service.summarize(session, items)]}
    )


@router.get("/episodes/{slug}", responses=problems(404))
def get_episode(slug: str, session: SessionDep) -> EpisodeDetail:
    return EpisodeDetail.model_validate(episode_service.episode_json(session, episode_or_404(session, slug)))


@router.post(
    "/episodes",
    status_code=201,
    responses={
        200: {"model": IngestedEpisode, "description": "Fichier déjà ingéré à l'identique : rien n'a changé"},
        **problems(401, 403, 422, 503, 507),
    },
)
def post_episode(
    admin: AdminDep,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    index: SearchDep,
    file: UploadFile = File(...),
    title: str | None = Form(None),
    show: str | None = Form(None),
    aired_on: str | None = Form(None),
    host: str | None = Form(None),
    guests: str | None = Form(None),
    media_url: str | None = Form(None),
    description: str | None = Form(None),
    edits: Literal["keep", "replace"] = Form(
        "keep",
        description="épisode déjà modifié par des éditeurs : keep reporte leurs modifications sur les nouvelles "
        "lignes, replace les remplace par le fichier",
    ),
) -> IngestedEpisode:
    """Ingest one transcript (page text, VTT, SRT or JSON); sidecar fields as form fields win.

    A plain `def`: parsing, the database and a wait for the index run in the threadpool, never on
    the event loop that answers everyone else."""
    data = file.file.read(limits.MAX_FILE_BYTES + 1)
    fields = {
        "title": title,
        "show": show,
        "aired_on": aired_on,
        "host": host,
        "media_url": media_url,
        "description": description,
    }
    try:
        # The form fields are a sidecar sent alongside: the same rules check them.
        if guests:
            fields["guests"] = load_json(guests.encode(), what="champ « guests »")
        overrides = facts_from_mapping(fields, where="champ du formulaire")
    except TranscriptError as error:
        raise HTTPException(422, str(error)) from None
    outcome = ingest_bytes(
        session,
        file.filename or "envoi.txt",
        data,
        overrides=overrides,
        index=index,
        size=file.size,
        edits=edits,
        author=ADMIN_TOKEN,
    )
    if outcome.status == "failed":
        reason = outcome.reason or ""
        if reason.startswith((DISK_FULL, READ_ONLY)):  # the server's storage, not the file: try later
            raise HTTPException(507 if reason.startswith(DISK_FULL) else 503, f"Envoi non enregistré : {reason}")
        raise HTTPException(422, f"Fichier refusé : {reason}")
    if outcome.status == "unchanged":
        response.status_code = 200
    assert outcome.slug is not None  # added, updated or unchanged: the stored episode's slug
    episode = episode_or_404(session, outcome.slug)
    if episode.index_state != "indexed":
        background.add_task(retry_indexing, index, session.get_bind())  # after the answer, once
    index.merge_when_idle()  # the small segments of such writes, once they pile up and writes pause
    return IngestedEpisode.model_validate(
        {
            "status": outcome.status,
            "searchable": episode.index_state == "indexed",
            "edits": outcome.edits.as_json() if outcome.edits else None,
            **episode_service.episode_json(session, episode),
        }
    )


class GuestChange(BaseModel):
    name: str = Field(min_length=1, max_length=limits.MAX_PERSON_NAME_CHARS)
    role: str | None = Field(None, max_length=limits.MAX_ROLE_CHARS, description="rôle et affiliation dans l'épisode")

    @field_validator("name", "role")
    @classmethod
    def writable(cls, value: str | None, info) -> str | None:
        try:
            if value is not None:
                refuse_unwritable(value, where=info.field_name)
        except TranscriptError as error:
            raise ValueError(str(error)) from None
        if info.field_name == "name" and not fold(value or ""):
            raise ValueError("un nom doit contenir des lettres")
        return value


class EpisodeChanges(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=limits.MAX_TITLE_CHARS)
    show: str | None = Field(None, max_length=limits.MAX_SHOW_CHARS)
    aired_on: date | None = None
    media_url: str | None = Field(None, max_length=limits.MAX_MEDIA_URL_CHARS)
    description: str | None = Field(None, max_length=limits.MAX_DESCRIPTION_CHARS)
    guests: list[GuestChange] | None = Field(
        None,
        max_length=limits.MAX_EPISODE_GUESTS,
        description="les invités de l'épisode, dans l'ordre, à la place des actuels (une personne connue est "
        "reconnue par son nom, sinon créée)",
    )
    reason: str = Field("", max_length=limits.MAX_REASON_CHARS, description="pourquoi (l'historique le montre)")

    @field_validator("title")
    @classmethod
    def title_is_required(cls, title: str | None) -> str:
        if title is None or not title.strip():
            raise ValueError("un épisode garde un titre")
        return title

    @field_validator("title", "show", "media_url", "description")
    @classmethod
    def writable(cls, value: str | None, info) -> str | None:
        try:
            if value is not None:
                refuse_unwritable(value, where=info.field_name)
            if info.field_name == "media_url":
                check_media_url(value)
            if info.field_name == "show" and value and value.strip() and not fold(value):
                raise TranscriptError("le nom d'émission doit contenir des lettres ou des chiffres")
        except TranscriptError as error:
            raise ValueError(str(error)) from None
        return value


@router.patch("/episodes/{slug}", responses=problems(401, 403, 404, 422))
def patch_episode(slug: str, admin: AdminDep, changes: EpisodeChanges, session: SessionDep) -> EpisodeDetail:
    # from the lookup to the commit, one writer: the episode is still there, and a new show it
    # names is created once however many editors name it at the same moment
    begin_writing(session)
    episode = episode_or_404(session, slug)
    values = changes.model_dump(exclude_unset=True)
    reason = values.pop("reason", "")
    try:
        # every change is a revision (GET /api/episodes/{slug}/history), which can be undone
        revision_service.edit_metadata(session, episode, values, author=ADMIN_TOKEN, reason=reason)
        session.commit()
    except TranscriptError as error:
        session.rollback()
        raise HTTPException(422, str(error)) from None
    except EditRefused as refused:
        session.rollback()
        raise HTTPException(refused.status, refused.detail) from None
    return EpisodeDetail.model_validate(episode_service.episode_json(session, episode))


@router.delete("/episodes/{slug}", status_code=204, response_class=Response, responses=problems(401, 403, 404))
def delete_episode(slug: str, admin: AdminDep, session: SessionDep, index: SearchDep) -> Response:
    begin_writing(session)  # a second DELETE of the episode waits for this one, then finds it gone (404)
    episode_service.delete_episode(session, episode_or_404(session, slug), index)
    return Response(status_code=204)


@router.get("/shows")
def list_shows(session: SessionDep) -> ShowList:
    shows = episode_service.list_shows(session)
    return ShowList.model_validate(
        {
            "total": len(shows),
            "items": [{"slug": s.slug, "name": s.name, "channel": s.channel, "episodes": n} for s, n in shows],
        }
    )


@router.get("/shows/{slug}", responses=problems(404))
def get_show(slug: str, session: SessionDep, page: int = Query(1, ge=1, le=limits.MAX_PAGE)) -> ShowDetail:
    show = episode_service.get_show(session, slug)
    if show is None:
        raise HTTPException(404, f"Aucune émission « {slug} ».")
    total, items = episode_service.list_episodes(session, show=slug, page=page)
    return ShowDetail.model_validate(
        {
            "slug": show.slug,
            "name": show.name,
            "channel": show.channel,
            "total": total,
            "page": page,
            "items": [s.as_json() for s in episode_service.summarize(session, items)],
        }
    )

"""JSON routes for episodes and shows: lists, details, and the writes (ingest, edit, delete)."""
from datetime import date

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Response, UploadFile
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from app.api.auth import require_admin
from app.config import get_settings
from app.db import get_session
from app.ingest.formats import refuse_unwritable
from app.ingest.sidecar import facts_from_mapping, load_json
from app.ingest.transcript import TranscriptError
from app.models import Episode
from app.names import fold
from app.search import get_search_index
from app.services import episodes as episode_service
from app.services.ingest import MAX_FILE_BYTES, check_media_url, ingest_bytes

router = APIRouter(prefix="/api", tags=["épisodes"])


def episode_or_404(session: Session, slug: str) -> Episode:
    episode = episode_service.get_episode(session, slug)
    if episode is None:
        raise HTTPException(404, f"Aucun épisode « {slug} ».")
    return episode


@router.get("/episodes")
def list_episodes(session: Session = Depends(get_session), page: int = Query(1, ge=1, le=100_000),
                  per_page: int = Query(20, ge=1, le=100), show: str | None = None,
                  guest: str | None = None, year: int | None = Query(None, ge=1900, le=2100)) -> dict:
    total, items = episode_service.list_episodes(session, show=show, guest=guest, year=year,
                                                 page=page, per_page=per_page)
    return {"total": total, "page": page,
            "items": [s.as_json() for s in episode_service.summarize(session, items)]}


@router.get("/episodes/{slug}")
def get_episode(slug: str, session: Session = Depends(get_session)) -> dict:
    return episode_service.episode_json(session, episode_or_404(session, slug))


@router.post("/episodes", dependencies=[Depends(require_admin)], status_code=201)
async def post_episode(response: Response, file: UploadFile = File(...), title: str | None = Form(None),
                       show: str | None = Form(None), aired_on: str | None = Form(None),
                       host: str | None = Form(None), guests: str | None = Form(None),
                       media_url: str | None = Form(None), description: str | None = Form(None),
                       session: Session = Depends(get_session)) -> dict:
    """Ingest one transcript (page text, VTT, SRT or JSON); sidecar fields as form fields win."""
    data = await file.read(MAX_FILE_BYTES + 1)
    fields = {"title": title, "show": show, "aired_on": aired_on, "host": host, "media_url": media_url,
              "description": description}
    try:
        # The form fields are a sidecar sent alongside: the same rules check them.
        if guests:
            fields["guests"] = load_json(guests.encode(), what="champ « guests »")
        overrides = facts_from_mapping(fields, where="champ du formulaire")
    except TranscriptError as error:
        raise HTTPException(422, str(error)) from None
    outcome = ingest_bytes(session, file.filename or "envoi.txt", data, overrides=overrides,
                           index=get_search_index(get_settings()))
    if outcome.status == "failed":
        raise HTTPException(422, f"Fichier refusé : {outcome.reason}")
    if outcome.status == "unchanged":
        response.status_code = 200
    return {"status": outcome.status, **episode_service.episode_json(session, episode_or_404(session, outcome.slug))}


class EpisodeChanges(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    show: str | None = Field(None, max_length=200)
    aired_on: date | None = None
    media_url: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=20_000)

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


@router.patch("/episodes/{slug}", dependencies=[Depends(require_admin)])
def patch_episode(slug: str, changes: EpisodeChanges, session: Session = Depends(get_session)) -> dict:
    episode = episode_or_404(session, slug)
    try:
        episode_service.edit_episode(session, episode, changes.model_dump(exclude_unset=True))
    except TranscriptError as error:
        session.rollback()
        raise HTTPException(422, str(error)) from None
    return episode_service.episode_json(session, episode)


@router.delete("/episodes/{slug}", dependencies=[Depends(require_admin)], status_code=204)
def delete_episode(slug: str, session: Session = Depends(get_session)) -> Response:
    episode_service.delete_episode(session, episode_or_404(session, slug), get_search_index(get_settings()))
    return Response(status_code=204)


@router.get("/shows")
def list_shows(session: Session = Depends(get_session)) -> dict:
    shows = episode_service.list_shows(session)
    return {"total": len(shows), "items": [{"slug": s.slug, "name": s.name, "channel": s.channel,
                                            "episodes": n} for s, n in shows]}


@router.get("/shows/{slug}")
def get_show(slug: str, session: Session = Depends(get_session), page: int = Query(1, ge=1, le=100_000)) -> dict:
    show = episode_service.get_show(session, slug)
    if show is None:
        raise HTTPException(404, f"Aucune émission « {slug} ».")
    total, items = episode_service.list_episodes(session, show=slug, page=page)
    return {"slug": show.slug, "name": show.name, "channel": show.channel, "total": total, "page": page,
            "items": [s.as_json() for s in episode_service.summarize(session, items)]}

"""Transcript downloads: /episodes/{slug}/transcript.{vtt,srt,txt,json}, the same files as `plateau export`."""
from fastapi import APIRouter, Depends, HTTPException, Response
from sqlmodel import Session

from app.db import get_session
from app.services import exports as export_service

router = APIRouter(tags=["exports"])


@router.get("/episodes/{slug}/transcript.{extension}")
def transcript(slug: str, extension: str, session: Session = Depends(get_session)) -> Response:
    if extension not in export_service.MEDIA_TYPES:
        raise HTTPException(404, f"Format inconnu « {extension} » : vtt, srt, txt ou json.")
    text = export_service.export_episode(session, slug, extension)
    if text is None:
        raise HTTPException(404, f"Aucun épisode « {slug} ».")
    return Response(text, media_type=export_service.MEDIA_TYPES[extension],
                    headers={"Content-Disposition": f'inline; filename="{slug}.{extension}"'})

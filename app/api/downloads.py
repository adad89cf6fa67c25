"""Transcript downloads: /episodes/{slug}/transcript.{vtt,srt,txt,json}, the same files as `plateau export`."""

from fastapi import APIRouter, HTTPException, Response

from app.deps import SessionDep
from app.services import downloads as download_service

router = APIRouter(tags=["téléchargements"])


@router.get("/episodes/{slug}/transcript.{extension}")
def transcript(slug: str, extension: str, session: SessionDep) -> Response:
    if extension not in download_service.MEDIA_TYPES:
        raise HTTPException(404, f"Format inconnu « {extension} » : vtt, srt, txt ou json.")
    text = download_service.transcript_file(session, slug, extension)
    if text is None:
        raise HTTPException(404, f"Aucun épisode « {slug} ».")
    return Response(
        text,
        media_type=download_service.MEDIA_TYPES[extension],
        headers={"Content-Disposition": f'inline; filename="{slug}.{extension}"'},
    )

"""An episode as a VTT, SRT, text or JSON file, for the CLI and the download links alike."""
from sqlmodel import Session

from app import export
from app.ingest.transcript import Caption
from app.services import episodes as episode_service

MEDIA_TYPES = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}


def export_episode(session: Session, slug: str, extension: str) -> str | None:
    episode = episode_service.get_episode(session, slug)
    if episode is None:
        return None
    captions = [Caption(c.start, c.end, c.text) for c in episode_service.captions_of(session, episode)]
    if extension == "vtt":
        return export.to_vtt(captions)
    if extension == "srt":
        return export.to_srt(captions)
    if extension == "txt":
        return export.to_txt(captions)
    return export.to_json(episode_service.episode_json(session, episode))

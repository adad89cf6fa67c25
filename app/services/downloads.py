"""An episode's transcript as a VTT, SRT, text or JSON file, for `plateau export` and the download links alike."""

from sqlmodel import Session

from app import caption_files
from app.ingest.transcript import Caption
from app.services import episodes as episode_service

MEDIA_TYPES = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}


def transcript_file(session: Session, slug: str, extension: str) -> str | None:
    episode = episode_service.get_episode(session, slug)
    if episode is None:
        return None
    captions = [Caption(c.start, c.end, c.text) for c in episode_service.captions_of(session, episode)]
    if extension == "vtt":
        return caption_files.to_vtt(captions)
    if extension == "srt":
        return caption_files.to_srt(captions)
    if extension == "txt":
        return caption_files.to_txt(captions)
    return caption_files.to_json(episode_service.episode_json(session, episode))

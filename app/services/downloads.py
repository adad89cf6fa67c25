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
    # the person's name where the line is linked to one, else the file's own label
    captions = [
        Caption(s["start"], s["end"], s["text"], s["speaker"]["name"] if s["speaker"] else None)
        for s in episode_service.segments_of(session, episode)
    ]
    if extension == "vtt":
        return caption_files.to_vtt(captions)
    if extension == "srt":
        return caption_files.to_srt(captions)
    if extension == "txt":
        return caption_files.to_txt(captions)
    return caption_files.to_json(episode_service.episode_json(session, episode))

"""Which player an episode's `media_url` gets on its page: an audio or video file, a YouTube or
Dailymotion embed, or none (the page then keeps its plain link to the video)."""

import math
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import parse_qs, urlencode, urlsplit

# By the file's extension: what the browser's own <audio>/<video> can play, or may.
AUDIO_EXTENSIONS = frozenset({".mp3", ".m4a", ".ogg", ".oga", ".opus", ".wav", ".flac"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".webm", ".ogv", ".mov"})
# The embeds' origins: the Content-Security-Policy's frame-src names these and nothing else, and
# player.js talks only to them.
YOUTUBE_EMBED = "https://www.youtube-nocookie.com"  # the official embed that sets no cookie before play
DAILYMOTION_EMBED = "https://www.dailymotion.com"
EMBED_ORIGINS = (YOUTUBE_EMBED, DAILYMOTION_EMBED)

YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "www.youtube-nocookie.com"}
)
DAILYMOTION_HOSTS = frozenset({"dailymotion.com", "www.dailymotion.com", "geo.dailymotion.com"})
# What a video id may be: anything else is junk, and never reaches an embed URL.
YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
DAILYMOTION_ID = re.compile(r"[A-Za-z0-9]{5,24}")

PlayerKind = Literal["audio", "video", "youtube", "dailymotion"]


@dataclass(frozen=True, slots=True)
class Player:
    """The player an episode page embeds: `src` is the media file, or the embed cued at `start`."""

    kind: PlayerKind
    src: str
    start: float = 0.0  # the second the player is cued at (a ?t= link's line), 0 otherwise
    origin: str | None = None  # an embed's origin, the only one player.js posts commands to

    @property
    def embedded(self) -> bool:
        return self.kind in ("youtube", "dailymotion")


def _split(url: str):
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (reading it is what refuses a malformed port)
    except (ValueError, AttributeError):
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts


def youtube_id(url: str) -> str | None:
    """The video id of a YouTube address: watch?v=ID, youtu.be/ID, /shorts/ID, /embed/ID, /live/ID."""
    parts = _split(url)
    if parts is None:
        return None
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    candidate = None
    if host == "youtu.be":
        candidate = segments[0] if segments else None
    elif host in YOUTUBE_HOSTS:
        if segments[:1] == ["watch"]:
            candidate = (parse_qs(parts.query).get("v") or [None])[0]
        elif len(segments) >= 2 and segments[0] in ("shorts", "embed", "live", "v"):
            candidate = segments[1]
    return candidate if candidate and YOUTUBE_ID.fullmatch(candidate) else None


def dailymotion_id(url: str) -> str | None:
    """The video id of a Dailymotion address: dailymotion.com/video/ID (or ID_title), dai.ly/ID,
    /embed/video/ID, and the newer player's ?video=ID."""
    parts = _split(url)
    if parts is None:
        return None
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    candidate = None
    if host == "dai.ly":
        candidate = segments[0] if segments else None
    elif host in DAILYMOTION_HOSTS:
        if segments[:1] == ["video"] and len(segments) >= 2:
            candidate = segments[1]
        elif segments[:2] == ["embed", "video"] and len(segments) >= 3:
            candidate = segments[2]
        else:
            candidate = (parse_qs(parts.query).get("video") or [None])[0]
    if candidate:
        candidate = candidate.split("_", 1)[0]  # /video/x7tgad0_le-titre-de-la-video
    return candidate if candidate and DAILYMOTION_ID.fullmatch(candidate) else None


def file_kind(url: str) -> Literal["audio", "video"] | None:
    """A direct media file's kind, audio or video, by its extension; None for anything else."""
    parts = _split(url)
    if parts is None:
        return None
    suffix = PurePosixPath(parts.path).suffix.lower()
    if suffix in AUDIO_EXTENSIONS:
        return "audio"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    return None


def youtube_embed(video_id: str, start: float = 0) -> str:
    """YouTube's embed without cookies, with its postMessage API on (seek, and the time it sends)."""
    query = {"enablejsapi": "1", **({"start": str(int(start))} if int(start) > 0 else {})}
    return f"{YOUTUBE_EMBED}/embed/{video_id}?{urlencode(query)}"


def dailymotion_embed(video_id: str, start: float = 0) -> str:
    """Dailymotion's embed, with its postMessage API on, cued at `start` without playing."""
    query = {"api": "postMessage", "autoplay": "0", **({"start": str(int(start))} if int(start) > 0 else {})}
    return f"{DAILYMOTION_EMBED}/embed/video/{video_id}?{urlencode(query)}"


def player_for(media_url: str | None, start: float = 0) -> Player | None:
    """The player for an episode's media_url, cued at `start`; None when the page only links to it."""
    if not media_url:
        return None
    start = float(start) if math.isfinite(start) and start > 0 else 0.0
    youtube = youtube_id(media_url)
    if youtube:
        return Player("youtube", youtube_embed(youtube, start), start, YOUTUBE_EMBED)
    dailymotion = dailymotion_id(media_url)
    if dailymotion:
        return Player("dailymotion", dailymotion_embed(dailymotion, start), start, DAILYMOTION_EMBED)
    kind = file_kind(media_url)
    if kind is not None:
        return Player(kind, media_url.strip(), start)
    return None

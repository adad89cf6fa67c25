"""Write an episode's caption lines out as WebVTT, SubRip, plain text or Plateau's JSON export."""

import html
import json
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import srt
import webvtt
from webvtt.models import Timestamp

from app.ingest.transcript import Caption, GuestMention
from app.timecodes import format_timestamp

# The keys of GET /api/episodes/{slug}, in that order: the export is the API's episode, whole.
EXPORT_KEYS = (
    "slug",
    "title",
    "show",
    "aired_on",
    "source",
    "duration",
    "guests",
    "host",
    "channel",
    "description",
    "media_url",
    "segments",
)


def _milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


def _one_line(text: str) -> str:
    # A caption line is one line of text: a line break or blank line would end the cue early.
    return " ".join(text.split())


def to_vtt(captions: Iterable[Caption]) -> str:
    cues = [
        webvtt.Caption(
            str(Timestamp.from_seconds(_milliseconds(c.start) / 1000)),
            str(Timestamp.from_seconds(_milliseconds(c.end) / 1000)),
            # Cue text is markup: "<" would open a tag and "&" an entity, so both are escaped.
            _voice(c.speaker) + html.escape(_one_line(c.text), quote=False),
        )
        for c in captions
    ]
    return webvtt.WebVTT(captions=cues).content


def _voice(speaker: str | None) -> str:
    """The WebVTT voice span that says who speaks a cue: "<v Julien Pillot>"."""
    return f"<v {html.escape(_one_line(speaker))}>" if speaker else ""


def _turns(captions: Iterable[Caption]) -> list[tuple[Caption, str]]:
    """Each caption with the speaker prefix SubRip and text write where the speaker changes:
    "- Julien Pillot : " (the dash says a turn, whatever the line before it ends with)."""
    turns, previous = [], None
    for c in captions:
        changed = c.speaker is not None and c.speaker != previous
        turns.append((c, f"- {_one_line(c.speaker or '')} : " if changed else ""))
        previous = c.speaker
    return turns


def to_srt(captions: Iterable[Caption]) -> str:
    subtitles = [
        srt.Subtitle(
            index=number,
            start=timedelta(milliseconds=_milliseconds(c.start)),
            end=timedelta(milliseconds=_milliseconds(c.end)),
            content=prefix + _one_line(c.text),
        )
        for number, (c, prefix) in enumerate(_turns(captions), start=1)
    ]
    # No reindexing: srt would drop the empty and zero-length lines, which page transcripts have.
    return srt.compose(subtitles, reindex=False)


def to_txt(captions: Iterable[Caption]) -> str:
    """One caption line per line: "12:34 text", readable and pasteable."""
    return "".join(
        f"{format_timestamp(c.start)} {prefix}{_one_line(c.text)}".rstrip() + "\n" for c, prefix in _turns(captions)
    )


def to_json(episode: Mapping[str, Any]) -> str:
    """The episode as GET /api/episodes/{slug} gives it; segments may be Caption values or dicts."""
    segments = [_segment(s) for s in episode.get("segments") or []]
    duration = episode.get("duration")
    if duration is None and segments:
        duration = max(s["end"] for s in segments)
    aired_on = episode.get("aired_on")
    document = {
        "slug": episode.get("slug"),
        "title": episode.get("title"),
        "show": episode.get("show"),
        "aired_on": aired_on.isoformat() if isinstance(aired_on, date) else aired_on,
        "source": episode.get("source"),
        "duration": duration,
        "guests": [_guest(g) for g in episode.get("guests") or []],
        "host": episode.get("host"),
        "channel": episode.get("channel"),
        "description": episode.get("description"),
        "media_url": episode.get("media_url"),
        "segments": segments,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _segment(segment: Caption | Mapping[str, Any]) -> dict[str, Any]:
    """A segment as the API writes it; a Caption's speaker is a label matched to no one yet."""
    if isinstance(segment, Caption):
        speaker = {"slug": None, "name": segment.speaker} if segment.speaker else None
        return {"start": segment.start, "end": segment.end, "text": segment.text, "speaker": speaker}
    return {
        "start": segment["start"],
        "end": segment["end"],
        "text": segment["text"],
        "speaker": segment.get("speaker"),
    }


def _guest(guest: GuestMention | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(guest, GuestMention):
        return {"slug": None, "name": guest.name, "role": guest.role}
    return {"slug": guest.get("slug"), "name": guest["name"], "role": guest.get("role")}

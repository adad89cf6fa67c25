"""The value every parser returns, and the error every parser raises."""

from dataclasses import dataclass, field
from datetime import date


class TranscriptError(ValueError):
    """A file that is not an acceptable transcript; the message says why (and which line)."""

    def __init__(self, reason: str, line: int | None = None):
        self.reason = reason
        self.line = line
        super().__init__(f"ligne {line} : {reason}" if line else reason)


@dataclass(frozen=True)
class Caption:
    start: float  # seconds
    end: float  # seconds; the next line's start, or the cue's own end
    text: str
    # who speaks, as the file names them ("Julien Pillot", "SPEAKER_00"); a line without a speaker
    # of its own continues the turn before it, so every line after the first named one has one
    speaker: str | None = None


@dataclass(frozen=True)
class GuestMention:
    name: str
    role: str | None = None


@dataclass
class EpisodeFacts:
    """What a description (or a sidecar, or our own JSON export) says about an episode."""

    title: str | None = None
    show: str | None = None
    channel: str | None = None
    host: str | None = None
    aired_on: date | None = None
    guests: list[GuestMention] = field(default_factory=list)
    media_url: str | None = None
    description: str | None = None


@dataclass
class Transcript:
    format: str  # "page", "vtt", "srt", "json", "whisper"
    captions: list[Caption]
    facts: EpisodeFacts = field(default_factory=EpisodeFacts)

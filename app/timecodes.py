"""Timecodes: "12:34" and "1:02:03" written and read, and the `t` of a shared link (754, 12:34, 754-790)."""

import math
import re
from dataclasses import dataclass

from app import limits

# "12:34" or "1:02:03" as format_timestamp writes it and a saved page glues it to its caption text
# ("12:34Bonjour"). Seconds are exactly two digits, so "20:028500 milliards" is 20:02 followed by
# "8500 milliards".
TIMESTAMP = re.compile(r"(?P<a>\d{1,3}):(?P<b>[0-5]\d)(?::(?P<c>[0-5]\d))?")
# What people type in a link is read more leniently: "1:2:3", "75:00", "1h02m03s".
_CLOCK = re.compile(r"^(?:(\d{1,2}):)?(\d{1,3}):(\d{1,2})$")
_UNITS = re.compile(r"^(?:(\d{1,2})h)?(?:(\d{1,4})m(?:in)?)?(?:(\d{1,6})s?)?$")


def format_timestamp(seconds: float) -> str:
    """ "MM:SS" under an hour, "H:MM:SS" from an hour on; fractions of a second are dropped."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"invalid timestamp: {seconds!r}")
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def timestamp_seconds(match: re.Match) -> int:
    """The seconds a TIMESTAMP match stands for."""
    if match.group("c") is not None:
        return int(match.group("a")) * 3600 + int(match.group("b")) * 60 + int(match.group("c"))
    return int(match.group("a")) * 60 + int(match.group("b"))


class TimecodeError(ValueError):
    """A `t` that is not a time; the message is shown in the page."""


@dataclass(frozen=True)
class Moment:
    start: int
    end: int | None = None  # set for a quoted range


def parse_seconds(text: str) -> int:
    text = text.strip().lower()
    if not text:
        raise TimecodeError("horodatage vide")
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        seconds = int(float(text.replace(",", ".")))
    elif m := _CLOCK.match(text):
        hours, minutes, secs = int(m[1] or 0), int(m[2]), int(m[3])
        if secs >= 60 or (m[1] and minutes >= 60):
            raise TimecodeError(f"« {text} » n'est pas une heure valide")
        seconds = hours * 3600 + minutes * 60 + secs
    elif (m := _UNITS.match(text)) and any(m.groups()):
        seconds = int(m[1] or 0) * 3600 + int(m[2] or 0) * 60 + int(m[3] or 0)
    else:
        raise TimecodeError(f"« {text} » n'est pas un horodatage (exemples : 754, 12:34, 1:02:03)")
    if seconds > limits.MAX_TIMECODE_SECONDS:
        raise TimecodeError(f"« {text} » dépasse la durée de tout épisode")
    return seconds


def parse_moment(text: str) -> Moment:
    """`754`, `12:34`, `754-790`, `12:34-13:10`; a reversed range is read in order."""
    if len(text) > limits.MAX_TIMECODE_CHARS:
        raise TimecodeError("horodatage trop long")
    parts = text.split("-")
    if len(parts) == 1:
        return Moment(parse_seconds(parts[0]))
    if len(parts) == 2:
        start, end = parse_seconds(parts[0]), parse_seconds(parts[1])
        return Moment(min(start, end), max(start, end))
    raise TimecodeError(f"« {text} » n'est pas un horodatage ni une plage (exemple : 754-790)")

"""Pick the parser for a transcript file by its name (and, for .txt, its first line)."""

import re
from datetime import date
from pathlib import PurePath

from app import limits
from app.ingest.jsonfile import parse_json
from app.ingest.page import parse_page
from app.ingest.transcript import Transcript, TranscriptError

TRANSCRIPT_EXTENSIONS = (".txt", ".vtt", ".srt", ".json")
SIDECAR_SUFFIX = ".meta.json"


def is_sidecar_name(name: str) -> bool:
    return PurePath(name).name.lower().endswith(SIDECAR_SUFFIX)


def is_transcript_name(name: str) -> bool:
    """True for a file the ingest should read as a transcript (not a sidecar, not a hidden file)."""
    base = PurePath(name).name.lower()
    if base.startswith(".") or is_sidecar_name(base):
        return False
    return base.endswith(TRANSCRIPT_EXTENSIONS)


# The caption-file parsers bring webvtt and srt: imported by the files that need them, so that
# `plateau ingest` of page text (most files) does not pay for them at every start.
def parse_vtt(data: bytes) -> Transcript:
    from app.ingest.vtt import parse_vtt

    return parse_vtt(data)


def parse_srt(data: bytes) -> Transcript:
    from app.ingest.subrip import parse_srt

    return parse_srt(data)


def parse_transcript(name: str, data: bytes, *, today: date | None = None) -> Transcript:
    """Parse one transcript file; `today` is the ingest date that dates without a year are read against."""
    base = PurePath(name).name.lower()
    if is_sidecar_name(base):
        raise TranscriptError(f"{PurePath(name).name} est un fichier annexe de métadonnées, pas une transcription")
    suffix = PurePath(base).suffix
    check_shape(data, lines_matter=suffix != ".json")
    if suffix == ".txt":
        # A caption file saved as .txt is still a caption file: look at what it holds.
        first = _first_line(data)
        if first.startswith("WEBVTT"):
            return parse_vtt(data)
        if re.fullmatch(r"\d+", first) and "-->" in _first_lines(data, 3):
            return parse_srt(data)
        return parse_page(data, today=today)
    if suffix == ".vtt":
        return parse_vtt(data)
    if suffix == ".srt":
        return parse_srt(data)
    if suffix == ".json":
        return parse_json(data)
    accepted = ", ".join(TRANSCRIPT_EXTENSIONS)
    shown = f"« {suffix} »" if suffix else "sans extension"
    raise TranscriptError(f"extension {shown} non prise en charge : formats acceptés {accepted}")


def check_shape(data: bytes, *, lines_matter: bool = True) -> None:
    """Refuse, before parsing, a file with more lines than a transcript has or (text formats) a
    line longer than any caption: the refusal gives the real figure."""
    lines = data.count(b"\n") + 1
    if lines > limits.MAX_FILE_LINES:
        raise TranscriptError(f"trop de lignes ({lines:,} ; au plus {limits.MAX_FILE_LINES:,})".replace(",", " "))
    longest = max(map(len, data.split(b"\n"))) if lines_matter and len(data) > limits.MAX_LINE_BYTES else 0
    if longest > limits.MAX_LINE_BYTES:
        raise TranscriptError(
            f"ligne trop longue ({longest:,} octets ; au plus {limits.MAX_LINE_BYTES:,})".replace(",", " ")
        )


def _first_lines(data: bytes, count: int) -> str:
    text = data[:4096].lstrip(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:count])


def _first_line(data: bytes) -> str:
    return _first_lines(data, 1)

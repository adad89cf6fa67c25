"""Parse a WebVTT caption file (with webvtt-py) into caption lines of plain text."""

import html

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Timestamp
from webvtt.vtt import WebVTTCueBlock

from app.ingest.decoding import decode_text
from app.ingest.transcript import Caption, Transcript, TranscriptError


def parse_vtt(data: bytes) -> Transcript:
    text = decode_text(data)
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if not lines[first].startswith("WEBVTT"):
        raise TranscriptError("ce n'est pas un fichier WebVTT : la première ligne doit être « WEBVTT »", line=first + 1)
    timing_lines = _timing_lines(lines)
    try:
        # Lenient like a browser about cue settings; broken timings were refused just above.
        document = webvtt.from_string("\n".join(lines[first:]))
    except (MalformedFileError, MalformedCaptionError) as error:
        raise TranscriptError(f"fichier WebVTT invalide : {error}") from None
    if not document.captions:
        raise TranscriptError("aucune ligne de transcription trouvée dans ce fichier WebVTT")
    # webvtt-py gives no line numbers; each cue came from one timing line, in order.
    numbers = timing_lines if len(timing_lines) == len(document.captions) else None
    captions: list[Caption] = []
    for position, cue in enumerate(document.captions):
        line = numbers[position] if numbers else None
        start = cue.start_time.in_milliseconds() / 1000
        end = cue.end_time.in_milliseconds() / 1000
        if end < start:
            raise TranscriptError(f"la fin {cue.end} précède le début {cue.start}", line=line)
        if captions and start < captions[-1].start:
            raise TranscriptError(
                f"le début {cue.start} revient en arrière par rapport à la ligne précédente", line=line
            )
        captions.append(Caption(start=start, end=end, text=_plain(cue.text)))
    return Transcript(format="vtt", captions=captions)


def _plain(cue_text: str) -> str:
    """Cue text without its tags (voice, class, italics, karaoke timestamps), on one line."""
    # caption.text has the tags stripped already; entities (&amp; &lt;) are decoded here.
    return " ".join(html.unescape(cue_text).split())


def _timing_lines(lines: list[str]) -> list[int]:
    """1-based numbers of the cue timing lines; a broken one is refused with its line number."""
    numbers: list[int] = []
    for index, line in enumerate(lines):
        if "-->" not in line:
            continue
        match = WebVTTCueBlock.CUE_TIMINGS_PATTERN.match(line)
        if match is None:
            raise TranscriptError(f"ligne de minutage WebVTT illisible : « {line.strip()} »", line=index + 1)
        for value in match.groups():
            try:
                Timestamp.from_string(value)
            except MalformedCaptionError:
                raise TranscriptError(f"horodatage WebVTT invalide : « {value} »", line=index + 1) from None
        numbers.append(index + 1)
    return numbers

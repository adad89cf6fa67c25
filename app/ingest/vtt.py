"""Parse a WebVTT caption file (with webvtt-py) into caption lines of plain text."""

import html
import re

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Timestamp
from webvtt.vtt import WebVTTCueBlock

from app.ingest.decoding import decode_text
from app.ingest.speakers import clean_label, speakers_continued, turns
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
        for speaker, text in _voices(cue.raw_text, after=captions[-1].text if captions else None):
            captions.append(Caption(start=start, end=end, text=text, speaker=speaker))
    speakers = speakers_continued([c.speaker for c in captions])
    captions = [Caption(c.start, c.end, c.text, speaker) for c, speaker in zip(captions, speakers, strict=True)]
    return Transcript(format="vtt", captions=captions)


# "<v Julien Pillot>", "<v.loud Julien Pillot>": the voice span that opens a cue line.
_VOICE = re.compile(r"\s*<v(?:\.[\w-]+)*\s+([^>]*)>")
_TAG = re.compile(r"<[^>]*>")


def _voices(raw_text: str, *, after: str | None) -> list[tuple[str | None, str]]:
    """The cue as (speaker, plain text) turns: one, or one per voice when a cue gives two people's
    lines ("<v Anne>Oui ?" then "<v Marc>Non."). A line without a voice tag may still open with a
    speaker prefix, as in SubRip ("JULIEN PILLOT : ...")."""
    lines = []
    for line in raw_text.split("\n"):
        voice = _VOICE.match(line)
        lines.append((clean_label(html.unescape(voice.group(1))) if voice else None, _plain(line)))
    return turns(lines, after=after)


def _plain(cue_text: str) -> str:
    """Cue text without its tags (voice, class, italics, karaoke timestamps), on one line."""
    return " ".join(html.unescape(_TAG.sub("", cue_text)).split())


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

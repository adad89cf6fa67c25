"""Parse a SubRip (.srt) caption file (with the srt library) into caption lines of plain text."""

import re
from datetime import timedelta

import srt

from app.ingest.decoding import decode_text
from app.ingest.speakers import speakers_continued, turns
from app.ingest.transcript import Caption, Transcript, TranscriptError

# The formatting SubRip players understand (<i>, <b>, <u>, <font ...>) and ASS overrides ({\an8}).
_FORMATTING = re.compile(r"</?(?:i|b|u|s|font)\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)
_TIMING_LINE = re.compile(rf"\s*({srt.RGX_TIMESTAMP})\s*-[ -]\s*>\s*({srt.RGX_TIMESTAMP})")


def parse_srt(data: bytes) -> Transcript:
    text = decode_text(data)
    _refuse_stray_blocks(text)
    _refuse_impossible_times(text)
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as error:
        raise TranscriptError(
            f"bloc SubRip illisible : « {_excerpt(error.unmatched_content)} »",
            line=_line_of_content(text, error.expected_start),
        ) from None
    except srt.TimestampParseError as error:
        raise TranscriptError(f"horodatage SubRip invalide ({error})", line=_first_bad_timing(text)) from None
    if not subtitles:
        raise TranscriptError("aucune ligne de transcription trouvée dans ce fichier SubRip")
    timing_lines = [number for number, line in enumerate(text.split("\n"), start=1) if _TIMING_LINE.match(line)]
    numbers = timing_lines if len(timing_lines) == len(subtitles) else None
    captions: list[Caption] = []
    for position, subtitle in enumerate(subtitles):
        line = numbers[position] if numbers else None
        start = subtitle.start // timedelta(milliseconds=1) / 1000
        end = subtitle.end // timedelta(milliseconds=1) / 1000
        if end < start:
            raise TranscriptError("la fin de la ligne précède son début", line=line)
        if captions and start < captions[-1].start:
            raise TranscriptError("le début revient en arrière par rapport à la ligne précédente", line=line)
        lines = [(None, _FORMATTING.sub("", line)) for line in subtitle.content.split("\n")]
        for speaker, plain in turns(lines, after=captions[-1].text if captions else None):
            captions.append(Caption(start=start, end=end, text=plain, speaker=speaker))
    speakers = speakers_continued([c.speaker for c in captions])
    captions = [Caption(c.start, c.end, c.text, speaker) for c, speaker in zip(captions, speakers, strict=True)]
    return Transcript(format="srt", captions=captions)


def _refuse_stray_blocks(text: str) -> None:
    """Every block opens with its number and timing (or the timing alone): srt would quietly glue
    anything else onto the block before it."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip() or (index and lines[index - 1].strip()):
            continue
        if _TIMING_LINE.match(line):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not line.strip().isdigit():
            raise TranscriptError(f"bloc SubRip sans numéro ni minutage : « {_excerpt(line)} »", line=index + 1)
        if not _TIMING_LINE.match(following):
            raise TranscriptError(
                f"ligne de minutage « début --> fin » attendue après le numéro {line.strip()}", line=index + 2
            )


def _refuse_impossible_times(text: str) -> None:
    """srt reads 01:75:00,000 as 2:15:00 and 00:00:61,000 as 1:01: minutes and seconds past 59 are
    refused with their line, as WebVTT's are."""
    for number, line in enumerate(text.split("\n"), start=1):
        match = _TIMING_LINE.match(line)
        for value in match.groups() if match else ():
            parts = srt.TS_REGEX.match(value)
            if parts and (int(parts[2]) > 59 or int(parts[3]) > 59):
                raise TranscriptError(f"horodatage SubRip invalide : « {value} »", line=number)


def _excerpt(content: str) -> str:
    content = " ".join(content.split())
    return content if len(content) <= 60 else content[:57] + "..."


def _line_of_content(text: str, offset: int) -> int:
    """Line of the first visible character at or after offset (unmatched blocks start with blank lines)."""
    while offset < len(text) and text[offset].isspace():
        offset += 1
    return text.count("\n", 0, offset) + 1


def _first_bad_timing(text: str) -> int | None:
    for number, line in enumerate(text.split("\n"), start=1):
        match = _TIMING_LINE.match(line)
        if match and not all(srt.TS_REGEX.match(value) for value in match.groups()):
            return number
    return None

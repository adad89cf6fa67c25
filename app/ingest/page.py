"""Parse the text of a video page as saved from the browser: header, description, caption lines, footer."""

import re
from datetime import date

from app.ingest.decoding import decode_text
from app.ingest.description import parse_description
from app.ingest.speakers import split_speaker
from app.ingest.transcript import Caption, EpisodeFacts, Transcript, TranscriptError
from app.timecodes import TIMESTAMP, format_timestamp, timestamp_seconds

# The "Transcription" heading, alone or glued to the category before it ("NewsTranscription").
_TRANSCRIPTION_HEADING = re.compile(r"[\w ]*Transcription")
_CATEGORY_HEADING = re.compile(r"Catégorie|Categorie")
# Page furniture above the description: skip links and the relative publication date.
_PAGE_LINE = re.compile(
    r"Passer au .*"
    r"|(?:[-•·*]\s*)?(?:il y a (?:\d+|une?) \w+|avant-hier|hier|aujourd['’]hui|à l['’]instant)",
    re.IGNORECASE,
)
# Page text after the transcript; it may be glued to the last caption's text.
_FOOTER = (
    r"Écris le tout premier commentaire|Écrire le premier commentaire|Ajouter un commentaire"
    r"|Commentaires?|Recommandations|Vidéos similaires|À suivre|Voir aussi|Afficher plus"
)
_FOOTER_LINE = re.compile(rf"(?:\d+\s+)?(?:{_FOOTER})(?:\s*\(\d+\))?", re.IGNORECASE)
_GLUED_FOOTER = re.compile(rf"(?<=\S)(?:(?:{_FOOTER})\s*)+$")


def parse_page(data: bytes, *, today: date | None = None) -> Transcript:
    """A saved video page; `today` is the ingest date that dates without a year are read against."""
    lines = decode_text(data).split("\n")
    body_start = _body_start(lines)
    if body_start is None:
        raise TranscriptError("aucune ligne de transcription trouvée (lignes « MM:SS texte » attendues)")
    description = _description(lines[:body_start])
    facts = parse_description(description, today=today or date.today()) if description else EpisodeFacts()
    return Transcript(format="page", captions=_captions(lines, body_start), facts=facts)


def _is_caption_line(line: str) -> bool:
    # "12:34Bonjour" or "1:02:03Bonjour": the timestamp is glued to its text.
    return TIMESTAMP.match(line) is not None


def _body_start(lines: list[str]) -> int | None:
    """Index of the first caption line: after the "Transcription" heading, or the first one at all."""
    for index, line in enumerate(lines):
        if _is_caption_line(line):
            return index
        if _TRANSCRIPTION_HEADING.fullmatch(line.strip()):
            following = next((later for later in lines[index + 1 :] if later.strip()), "")
            if _is_caption_line(following):
                return next(i for i in range(index + 1, len(lines)) if lines[i].strip())
    return None


def _description(header: list[str]) -> str:
    """The description paragraph: the header without page furniture and without the category block."""
    kept: list[str] = []
    for line in header:
        line = line.strip()
        if _CATEGORY_HEADING.fullmatch(line) or _TRANSCRIPTION_HEADING.fullmatch(line):
            break  # the category, its emoji and "Transcription" follow: none of it is description
        if not line or _PAGE_LINE.fullmatch(line) or not any(ch.isalnum() for ch in line):
            continue
        kept.append(line)
    return "\n".join(kept)


def _captions(lines: list[str], body_start: int) -> list[Caption]:
    starts: list[int] = []
    texts: list[list[str]] = []
    after_blank = False
    pending: list[str] = []  # text lines after a blank line: a caption's continuation or page text
    for index in range(body_start, len(lines)):
        line = lines[index].strip()
        match = TIMESTAMP.match(line)
        if match:
            start = timestamp_seconds(match)
            if starts and start < starts[-1]:
                raise TranscriptError(
                    f"l'horodatage {match.group()} revient en arrière "
                    f"(la ligne précédente est à {format_timestamp(starts[-1])})",
                    line=index + 1,
                )
            if texts:
                texts[-1].extend(pending)
            pending, after_blank = [], False
            starts.append(start)
            texts.append([line[match.end() :].strip()])
        elif not line:
            after_blank = True
        elif _FOOTER_LINE.fullmatch(line):
            break  # comments, recommendations...: nothing after this is transcript
        elif after_blank:
            pending.append(line)  # kept only if another caption line follows
        else:
            (pending if pending else texts[-1]).append(line)
    captions: list[Caption] = []
    speaker = None
    for position, (start, parts) in enumerate(zip(starts, texts, strict=True)):
        text = " ".join(" ".join(parts).split())
        if position == len(starts) - 1:
            text = _GLUED_FOOTER.sub("", text).rstrip()
        end = starts[position + 1] if position + 1 < len(starts) else start
        # "12:34JULIEN PILLOT : texte" opens a turn; a line without a prefix continues it
        named, text = split_speaker(text, after=captions[-1].text if captions else None)
        speaker = named or speaker
        captions.append(Caption(start=float(start), end=float(end), text=text, speaker=speaker))
    return captions

"""Parse a JSON transcript: Plateau's own export (with the episode's facts) or Whisper's segments."""

import math
from typing import Any

from app.ingest.sidecar import facts_from_mapping, load_json
from app.ingest.speakers import clean_label
from app.ingest.transcript import Caption, EpisodeFacts, Transcript, TranscriptError

# Keys only Plateau's export has (Whisper writes "text", "segments" and "language").
_EXPORT_KEYS = frozenset({"slug", "title", "show", "aired_on", "source", "guests", "host", "channel", "media_url"})


def parse_json(data: bytes) -> Transcript:
    document = load_json(data, what="transcription JSON")
    if not isinstance(document, dict) or not isinstance(document.get("segments"), list):
        raise TranscriptError(
            'transcription JSON : un objet avec une liste « segments » [{"start", "end", "text"}] est attendu'
        )
    is_export = not _EXPORT_KEYS.isdisjoint(document)
    captions = _captions(document["segments"])
    if not captions:
        raise TranscriptError("aucune ligne de transcription trouvée : « segments » est vide")
    if is_export:
        return Transcript(format="json", captions=captions, facts=facts_from_mapping(document, where="export JSON"))
    return Transcript(format="whisper", captions=captions, facts=EpisodeFacts())


def _seconds(segment: dict[str, Any], key: str, number: int) -> float:
    value = segment.get(key)
    # bool is an int in Python; true/false is never a time.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise TranscriptError(f"segment n°{number} : « {key} » doit être un nombre de secondes positif, pas {value!r}")
    return float(value)


def _captions(segments: list[Any]) -> list[Caption]:
    captions: list[Caption] = []
    for number, segment in enumerate(segments, start=1):
        if not isinstance(segment, dict):
            raise TranscriptError(f'segment n°{number} : un objet {{"start", "end", "text"}} est attendu')
        start, end = _seconds(segment, "start", number), _seconds(segment, "end", number)
        text = segment.get("text")
        if not isinstance(text, str):
            raise TranscriptError(f"segment n°{number} : « text » doit être un texte")
        if end < start:
            raise TranscriptError(f"segment n°{number} : la fin ({end}) précède le début ({start})")
        if captions and start < captions[-1].start:
            raise TranscriptError(
                f"segment n°{number} : le début ({start}) revient en arrière (précédent : {captions[-1].start})"
            )
        # Whisper starts each text with a space and may break lines inside it.
        speaker = _speaker(segment.get("speaker"), number) or (captions[-1].speaker if captions else None)
        captions.append(Caption(start=start, end=end, text=" ".join(text.split()), speaker=speaker))
    return captions


def _speaker(value: Any, number: int) -> str | None:
    """WhisperX writes a label ("SPEAKER_00"), Plateau's export {"slug", "name"} or null."""
    if isinstance(value, dict):
        value = value.get("name")
        if value is not None and not isinstance(value, str):
            raise TranscriptError(f"segment n°{number} : « speaker.name » doit être un texte")
    if value is None or isinstance(value, str):
        return clean_label(value) if value else None
    raise TranscriptError(f'segment n°{number} : « speaker » doit être un texte ou un objet {{"name"}}')

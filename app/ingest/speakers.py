"""Who speaks on a caption line: speaker prefixes in caption text, and the labels every format gives."""

import re
from collections.abc import Iterable

# A diarization tool's anonymous label (WhisperX, pyannote: "SPEAKER_00"): a label, never a name.
_DIARIZATION = re.compile(r"(?i:SPEAKER|SPK|LOCUTEUR|INTERVENANT)[ _-]?\d{1,3}")

# One word of a name: capitalised ("Julien", "VanAgt", "Jean-Marc", "O'Neil") or all capitals
# ("PILLOT", "JEAN-MARC"); and the particles allowed between two such words ("Cyril de Lasteyrie").
_WORD = r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿŒœ'’.-]*"
_PARTICLE = r"(?:de|du|des|d['’]|van|von|der|den|di|da|del|la|le|ben|bin|al|el|ter)"
_NAME = rf"{_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_WORD}){{1,3}}"

# "[Julien Pillot] texte", "[SPEAKER_00]: texte" (WhisperX's SubRip); a name of two to four words.
_BRACKETED = re.compile(rf"\[\s*({_NAME}|{_DIARIZATION.pattern})\s*\]\s*:?\s*")
# "JULIEN PILLOT : texte", "- Julien Pillot : texte", "SPEAKER_00: texte"
_PREFIXED = re.compile(rf"(?P<dash>[-–—]\s*)?(?P<name>{_NAME}|{_DIARIZATION.pattern})\s*:(?:\s+|$)")

# Words that open a sentence, never a name: "Bon Alors : on y va", "Premier Point : ..."
_NOT_A_FIRST_NAME = frozenset(
    [
        "a",
        "à",
        "alors",
        "après",
        "attention",
        "au",
        "aussi",
        "avant",
        "bilan",
        "bon",
        "bref",
        "ça",
        "ce",
        "c'est",
        "cela",
        "ceci",
        "comme",
        "conclusion",
        "dans",
        "de",
        "donc",
        "du",
        "elle",
        "en",
        "enfin",
        "et",
        "exemple",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "mais",
        "moi",
        "non",
        "nous",
        "on",
        "ou",
        "oui",
        "par",
        "pour",
        "premier",
        "première",
        "question",
        "quand",
        "que",
        "qui",
        "réponse",
        "si",
        "sur",
        "tout",
        "très",
        "un",
        "une",
        "voici",
        "voilà",
        "vous",
    ]
)
# Bracketed sound descriptions of machine and human captions: "[Musique]", "[Rires Du Public]".
_SOUNDS = frozenset(
    ["applaudissements", "bruit", "générique", "jingle", "musique", "rire", "rires", "silence", "inaudible"]
)

# A sentence ends here: the next caption line may open a new turn with a capitalised name.
_SENTENCE_END = re.compile(r"[.!?…»\"]\s*$")


def is_anonymous(label: str) -> bool:
    """True for a diarization label ("SPEAKER_00"): it names no one and is linked to no person."""
    return _DIARIZATION.fullmatch(label) is not None


def clean_label(label: str) -> str | None:
    """The label as stored: one line, one space between words, a name shouted in capitals written
    as a name ("JULIEN PILLOT" → "Julien Pillot"); diarization labels stay as the tool wrote them."""
    label = " ".join(label.split()).strip(" :-–—")
    if not label or not any(ch.isalnum() for ch in label):
        return None
    if is_anonymous(label):
        return label.upper().replace(" ", "_").replace("-", "_")
    if label.isupper():
        label = re.sub(r"[^\W\d_]+", lambda m: m.group().capitalize(), label)
    return label[:120]


def split_speaker(text: str, *, after: str | None = None) -> tuple[str | None, str]:
    """The speaker a caption line opens with, if it does, and the line without that prefix.

    `after` is the text of the line before (None for the first line): a capitalised name followed
    by a colon ("Julien Pillot : ...") only opens a turn at the start of a sentence, since a line
    may break inside one ("... comme le dit / Emmanuel Macron : la France"). A name in capitals,
    a dash before the name, brackets or a diarization label say it whatever comes before."""
    bracketed = _BRACKETED.match(text)
    if bracketed and _is_name(bracketed.group(1)):
        return clean_label(bracketed.group(1)), text[bracketed.end() :].strip()
    prefixed = _PREFIXED.match(text)
    if prefixed is None:
        return None, text
    name = prefixed.group("name")
    if not _is_name(name):
        return None, text
    explicit = prefixed.group("dash") or name.isupper() or is_anonymous(name)
    if not explicit and after is not None and after.strip() and not _SENTENCE_END.search(after):
        return None, text
    return clean_label(name), text[prefixed.end() :].strip()


def _is_name(candidate: str) -> bool:
    if is_anonymous(candidate):
        return True
    words = candidate.split()
    first = words[0].lower().strip(".")
    if first in _NOT_A_FIRST_NAME or first.split("'")[0] in _NOT_A_FIRST_NAME:
        return False
    if any(word.lower() in _SOUNDS for word in words):
        return False
    # capitals throughout or capitalised throughout: "JULIEN Pillot :" is more likely shouting text
    named = [word for word in words if re.fullmatch(_PARTICLE, word, re.IGNORECASE) is None]
    return all(word.isupper() for word in named) or not any(word.isupper() and len(word) > 1 for word in named)


def turns(lines: Iterable[tuple[str | None, str]], *, after: str | None) -> list[tuple[str | None, str]]:
    """A cue's lines, (voice or None, plain text) each, as the turns they hold: one (speaker, text)
    per speaker named on a line (a WebVTT voice, else a prefix), the lines after it joined to it.
    A cue may hold two people's lines ("- Anne Dupont : Oui ?" then "- Marc Roux : Non.").
    `after`: the text of the caption line before the cue."""
    parts: list[tuple[str | None, list[str]]] = []
    for voice, line in lines:
        before = " ".join(parts[-1][1]) if parts else after
        speaker, line = (voice, line) if voice else split_speaker(line, after=before)
        if speaker or not parts:
            parts.append((speaker, []))
        parts[-1][1].append(line)
    return [(speaker, " ".join(" ".join(texts).split())) for speaker, texts in parts]


def speakers_continued(labels: list[str | None]) -> list[str | None]:
    """Each line's speaker, a line without one continuing the previous turn."""
    current: str | None = None
    kept: list[str | None] = []
    for label in labels:
        current = label or current
        kept.append(current)
    return kept

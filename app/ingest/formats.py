"""Pick the parser for a transcript file by its name (and, for .txt, its first line); decode its bytes."""
import re
import unicodedata
from datetime import date
from pathlib import PurePath

from app.ingest.transcript import Transcript, TranscriptError

TRANSCRIPT_EXTENSIONS = (".txt", ".vtt", ".srt", ".json")
SIDECAR_SUFFIX = ".meta.json"

# C0 control characters never found in a text transcript; tab, LF, CR and form feed are fine.
_BINARY_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


# What a decoded string (a JSON escape, a form field) must not carry either: control characters
# (they break exports and XML feeds) and lone surrogates (they cannot be written out as UTF-8).
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def refuse_unwritable(text: str, *, where: str) -> None:
    if _UNWRITABLE.search(text):
        raise TranscriptError(f"{where} : caractère de contrôle ou invalide dans le texte")


def decode_text(data: bytes) -> str:
    """UTF-8 bytes (BOM or not, LF, CRLF or CR) to text with LF line ends; refuse what is not text."""
    if not data.strip():
        raise TranscriptError("fichier vide")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TranscriptError("fichier encodé en UTF-16 : seul l'UTF-8 est accepté")
    if b"\x00" in data:
        raise TranscriptError(
            "le fichier contient des octets nuls : c'est un fichier binaire, pas une transcription",
            line=data[: data.index(b"\x00")].count(b"\n") + 1,
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise TranscriptError(
            f"le fichier n'est pas encodé en UTF-8 (octet 0x{bad} invalide) ; "
            "réenregistrez-le en UTF-8",
            line=data[: error.start].count(b"\n") + 1,
        ) from None
    # Composed (NFC) text: macOS tools save "é" decomposed, which would split words at the accent.
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    binary = _BINARY_CHARACTERS.search(text)
    if binary:
        raise TranscriptError(
            "caractères de contrôle : c'est un fichier binaire, pas une transcription",
            line=text.count("\n", 0, binary.start()) + 1,
        )
    if not text.strip():
        raise TranscriptError("fichier vide")
    return text


def is_sidecar_name(name: str) -> bool:
    return PurePath(name).name.lower().endswith(SIDECAR_SUFFIX)


def is_transcript_name(name: str) -> bool:
    """True for a file the ingest should read as a transcript (not a sidecar, not a hidden file)."""
    base = PurePath(name).name.lower()
    if base.startswith(".") or is_sidecar_name(base):
        return False
    return base.endswith(TRANSCRIPT_EXTENSIONS)


def parse_transcript(name: str, data: bytes, *, today: date | None = None) -> Transcript:
    """Parse one transcript file; `today` is the ingest date that dates without a year are read against."""
    # The parser modules import decode_text from here, so they are imported when first needed.
    from app.ingest.jsonfile import parse_json
    from app.ingest.page import parse_page
    from app.ingest.subrip import parse_srt
    from app.ingest.vtt import parse_vtt

    base = PurePath(name).name.lower()
    if is_sidecar_name(base):
        raise TranscriptError(
            f"{PurePath(name).name} est un fichier annexe de métadonnées, pas une transcription"
        )
    suffix = PurePath(base).suffix
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


def _first_lines(data: bytes, count: int) -> str:
    text = data[:4096].lstrip(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:count])


def _first_line(data: bytes) -> str:
    return _first_lines(data, 1)

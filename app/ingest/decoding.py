"""A transcript file's bytes to text: UTF-8 only, one kind of line end, anything binary refused."""

import re
import unicodedata

from app.ingest.transcript import TranscriptError

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
            f"le fichier n'est pas encodé en UTF-8 (octet 0x{bad} invalide) ; réenregistrez-le en UTF-8",
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

"""Read the optional NAME.meta.json beside a transcript, and let its facts win over extracted ones."""

import json
import re
from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import date
from typing import Any

from app.ingest.decoding import decode_text, refuse_unwritable
from app.ingest.description import with_title
from app.ingest.transcript import EpisodeFacts, GuestMention, TranscriptError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TEXT_FIELDS = ("title", "show", "channel", "host", "media_url", "description")


def parse_sidecar(data: bytes) -> EpisodeFacts:
    document = load_json(data, what="fichier annexe")
    if not isinstance(document, dict):
        raise TranscriptError('fichier annexe : un objet JSON { "title": ..., ... } est attendu')
    return facts_from_mapping(document, where="fichier annexe")


def load_json(data: bytes, *, what: str) -> Any:
    text = decode_text(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TranscriptError(
            f"{what} : JSON invalide ({error.msg}, colonne {error.colno})", line=error.lineno
        ) from None
    except RecursionError:
        raise TranscriptError(f"{what} : JSON trop imbriqué") from None
    # JSON escapes (\u0000, \ud800) decode after decode_text looked at the bytes: look again.
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            refuse_unwritable(value, where=what)
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return document


def facts_from_mapping(document: Mapping[str, Any], *, where: str) -> EpisodeFacts:
    """EpisodeFacts from the metadata keys of a JSON object; other keys are ignored."""
    facts = EpisodeFacts()
    for key in _TEXT_FIELDS:
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise TranscriptError(f"{where} : « {key} » doit être un texte")
        if value is not None:
            refuse_unwritable(value, where=f"{where}, « {key} »")
        if value is not None and key != "description":
            value = " ".join(value.split())  # a name or a title is one line; a description keeps its paragraphs
        setattr(facts, key, value.strip() if value and value.strip() else None)
    facts.aired_on = _aired_on(document.get("aired_on"), where=where)
    facts.guests = _guests(document.get("guests"), where=where)
    return facts


def _aired_on(value: Any, *, where: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise TranscriptError(f"{where} : « aired_on » doit être une date AAAA-MM-JJ, pas {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TranscriptError(f"{where} : la date « {value} » n'existe pas") from None


def _guests(value: Any, *, where: str) -> list[GuestMention]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TranscriptError(f'{where} : « guests » doit être une liste [{{"name", "role"}}]')
    guests: list[GuestMention] = []
    for number, guest in enumerate(value, start=1):
        if isinstance(guest, str):
            guest = {"name": guest}
        name = guest.get("name") if isinstance(guest, dict) else None
        role = guest.get("role") if isinstance(guest, dict) else None
        if not isinstance(name, str) or not name.strip() or (role is not None and not isinstance(role, str)):
            raise TranscriptError(f"{where} : l'invité n°{number} doit avoir un « name » (et un « role » texte)")
        refuse_unwritable(name + (role or ""), where=f"{where}, invité n°{number}")
        guests.append(GuestMention(name=" ".join(name.split()), role=" ".join(role.split()) if role else None))
    return guests


def merge_facts(extracted: EpisodeFacts, sidecar: EpisodeFacts) -> EpisodeFacts:
    """Each sidecar field that is set wins; the title is worked out again unless the sidecar gives one."""
    merged = replace(extracted)
    for field in fields(EpisodeFacts):
        value = getattr(sidecar, field.name)
        if value not in (None, "", []):
            setattr(merged, field.name, value)
    # A title worked out from the extracted facts is worked out again from the merged ones; a title
    # stated by the sidecar, or by our own JSON export, is kept as stated.
    title_was_derived = extracted.title == with_title(extracted).title
    if sidecar.title or not title_was_derived:
        return merged
    return with_title(merged)

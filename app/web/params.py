"""Query-string values typed or edited by people: read leniently, refused with a French message."""

from datetime import date

from fastapi import HTTPException

from app import limits


class BadParameter(HTTPException):
    """A 400 that page routes render as an error page in the site's look."""

    def __init__(self, message: str):
        super().__init__(400, message)


def page_number(raw: str | None) -> int:
    if raw is None or raw.strip() == "":
        return 1
    try:
        page = int(raw.strip())
    except ValueError:
        raise BadParameter(
            f"Numéro de page invalide : « {raw[:40]} ». Attendu un nombre entier à partir de 1."
        ) from None
    if not 1 <= page <= limits.MAX_PAGE:
        raise BadParameter(f"Numéro de page hors limites : {page}. Attendu entre 1 et {limits.MAX_PAGE}.")
    return page


def year_number(raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        year = int(raw.strip())
    except ValueError:
        raise BadParameter(f"Année invalide : « {raw[:40]} ». Attendu une année comme 2025.") from None
    if not limits.FIRST_YEAR <= year <= limits.LAST_YEAR:
        raise BadParameter(f"Année hors limites : {year}.")
    return year


def day(raw: str | None, label: str) -> date | None:
    """An ISO date from a date field; "" means no bound."""
    if raw is None or raw.strip() == "":
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadParameter(
            f"Date « {label} » invalide : « {raw[:40]} ». Attendu AAAA-MM-JJ, par exemple 2025-10-23."
        ) from None


def text(raw: str | None, limit: int = limits.MAX_FILTER_CHARS) -> str | None:
    """A slug or filter value: trimmed, empty means none."""
    if raw is None:
        return None
    raw = raw.strip()[:limit]
    return raw or None

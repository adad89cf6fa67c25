"""French dates: the names of days and months, "jeudi 23 octobre 2025" written and read; moments in Paris time."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# the abbreviations French typography uses (Imprimerie nationale): chart labels and their names
MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
_MONTH_PATTERN = r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre"
# "jeudi 23 octobre 2025", "1er mars", "23 Octobre": the weekday and the year are optional.
DATE = re.compile(
    rf"(?:\b(?P<weekday>{'|'.join(WEEKDAYS)})\s+)?"
    rf"\b(?P<day>1er|[0-3]?\d)\s+(?P<month>{_MONTH_PATTERN})\b(?:\s+(?P<year>\d{{4}})\b)?",
    re.IGNORECASE,
)


def french_date(day: date) -> str:
    """A date as French readers write it: "jeudi 23 octobre 2025", "samedi 1er mars 2025"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{WEEKDAYS[day.weekday()]} {number} {MONTHS[day.month - 1]} {day.year}"


def french_month(year: int, month: int) -> str:
    """A month as a chart labels it: "janv. 2024", "mars 2024"."""
    return f"{MONTHS_SHORT[month - 1]} {year}"


def french_moment(moment: datetime) -> str:
    """When something happened, as French readers write it, in Paris time: "lundi 30 novembre 2026
    à 19 h 05" (in UTC, said so, where the system has no time zone data)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        local, zone = moment.astimezone(ZoneInfo("Europe/Paris")), ""
    except ZoneInfoNotFoundError:
        local, zone = moment.astimezone(UTC), " UTC"
    return f"{french_date(local.date())} à {local.hour} h {local.minute:02d}{zone}"


def date_of(match: re.Match, *, today: date) -> date | None:
    """The day a DATE match names; without a year, the latest such day up to `today` that falls on
    the weekday it names (if it names one). None for a day that does not exist."""
    day = 1 if match.group("day").lower() == "1er" else int(match.group("day"))
    month = _month_number(match.group("month"))
    weekday = match.group("weekday")
    if match.group("year"):
        # An explicit date wins over its weekday when they disagree: the weekday is the likelier typo.
        try:
            return date(int(match.group("year")), month, day)
        except ValueError:
            return None
    wanted = WEEKDAYS.index(weekday.lower()) if weekday else None
    # The weekday calendar repeats within 400 years, so this finds every date that exists.
    for year in range(today.year, today.year - 401, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # 29 February of a common year, 31 April...
        if candidate <= today and (wanted is None or candidate.weekday() == wanted):
            return candidate
    return None


def _month_number(name: str) -> int:
    folded = name.lower().replace("é", "e").replace("û", "u")
    return [m.replace("é", "e").replace("û", "u") for m in MONTHS].index(folded) + 1

"""Read the facts a French episode description states: show, channel, host, air date, guests, title."""

import re
from dataclasses import replace
from datetime import date

from app.french_dates import DATE, date_of, french_date
from app.ingest.transcript import EpisodeFacts, GuestMention

# A date without a weekday is the air date only where the description says so: at its very
# start ("Le 23 octobre 2025, ...") or after "diffusé le"; elsewhere it is a date it talks about.
_AIR_DATE_LEAD = re.compile(
    r"(?:^\s*(?:(?:le|ce|du|émission du)\s+)?|\b(?:diffus|enregistr)[ée]e?s?\s+(?:le|du)\s+)$",
    re.IGNORECASE,
)

# Œ and œ lie outside Latin-1: without them "Lætitia Cœurdacier" would be no one's name.
_UPPER = "A-ZÀ-ÖØ-ÞŒ"
_LOWER = "a-zß-öø-ÿœ"
# A first name has lowercase letters ("Jean-Baptiste"), so an acronym or a title ("PDG") is
# never read as the start of a person's name; a family name may be in capitals ("SABATTIER").
_FIRST_NAME = rf"[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}]?[{_LOWER}]+)*"
_FAMILY_NAME = rf"[{_UPPER}][{_UPPER}{_LOWER}'’]*(?:-[{_UPPER}][{_UPPER}{_LOWER}'’]*)*"
_PARTICLE = r"(?:(?:de|du|des|van|von|der|den|le|la|da|di|dos|del|ben|el|bin|al)\s+|d['’])"
NAME = rf"(?<![\w'’-]){_FIRST_NAME}(?:\s+{_PARTICLE}?{_FAMILY_NAME}){{1,3}}(?![\w'’])"
_NAME = re.compile(NAME)
# Capitalised words at the start of a sentence that are phrasing, not part of a person's name.
_LEADING_WORDS = re.compile(
    r"^(?:(?:Retrouvez|Avec|Et|Ce|Cette|Dans|Pour|Puis|Ensuite|Enfin|Alors|Ici|Aujourd['’]hui"
    r"|Invités?|Présentée?|Animée?)\s+)+"
)

_HOST_BY = re.compile(rf"\b(?:présentée?|animée?|presentee?|animee?)\s+par\s+(?P<name>{NAME})", re.IGNORECASE)
_HOST_VERBS = r"a\s+reçu|reçoit|recevait|a\s+accueilli|accueille|accueillait|a\s+invité|invite"
_HOST_RECEIVES = re.compile(rf"(?P<name>{NAME})\s+(?:{_HOST_VERBS})\b")

# Words that introduce the list of guests; "avec" is weaker (it also introduces topics), so a
# list after it counts only when it states roles.
_STRONG_GUEST_LEAD = re.compile(
    rf"\b(?:retrouvez|{_HOST_VERBS}|ont\s+reçu|invités?\s*:|en\s+compagnie\s+de|autour\s+de\s+la\s+table\s*:?)\s+",
    re.IGNORECASE,
)
_WEAK_GUEST_LEAD = re.compile(r"\bavec\s+", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s*,\s*et\s+|\s+et\s+|\s*,\s*|\s*;\s*")
# A segment starting with one of these words ends the list: the sentence goes on to something else.
_CLAUSE_WORD = re.compile(
    r"(?:dans|pour|sur|qui|afin|autour|lors|ils|elles|pendant|depuis|à\s+propos|au\s+sujet)\b",
    re.IGNORECASE,
)

_SHOW_AFTER_EMISSION = re.compile(
    r"\b(?:[lL]['’]émission|[lL]e\s+magazine|le\s+programme|le\s+podcast)\s+(?P<show>[«\"“]?[A-Z0-9À-Þ].*?)"
    r"(?:,?\s+sur\s+(?:la\s+chaîne\s+)?(?P<channel>[A-Z0-9À-Þ][^,.;()]*?))?"
    r"(?=,\s*(?:une\s+émission\s+)?(?:présentée?|animée?)\s+par\b|,?\s+avec\s|[.;!?](?:\s|$)|$)",
)
_SHOW_BEFORE_EMISSION = re.compile(
    r"\bdans\s+(?P<show>[«\"“]?[A-Z0-9À-Þ][^,.;()]*?),\s+(?:une?|le|la)\s+"
    r"(?:émission|magazine|programme|podcast|rendez-vous)\b"
)
# A programme named in capitals ("dans SMART TECH"): capitals are how shows are written, names are not.
_SHOW_IN_CAPITALS = re.compile(r"\bdans\s+(?P<show>[A-Z0-9À-Þ][A-Z0-9À-Þ&'’ -]*[A-Z0-9À-Þ])(?![\w])")
_CHANNEL = re.compile(r"\bsur\s+la\s+chaîne\s+(?P<channel>[A-Z0-9À-Þ][\w&'’-]*(?:\s+[A-Z0-9À-Þ][\w&'’-]*)*)")

# A sentence ends at . ! ? followed by a space and a capital, not inside "cafetech.com" or "M. X".
_SENTENCE_END = re.compile(rf"(?:(?<=[^\s{_UPPER}]\.)|(?<=[!?…]))\s+(?=[«\"“]?[{_UPPER}0-9])")


def parse_description(text: str, *, today: date) -> EpisodeFacts:
    """The facts stated in an episode description; what it does not state stays None (or empty)."""
    description = " ".join(text.split())
    facts = EpisodeFacts(description=description or None)
    if not description:
        return facts
    facts.aired_on = air_date(description, today=today)
    facts.show, facts.channel = _show_and_channel(description)
    facts.host = _host(description)
    facts.guests = [g for g in _guests(description) if g.name != facts.host]
    facts.title = episode_title(facts)
    return facts


def episode_title(facts: EpisodeFacts) -> str | None:
    """The given title, else "SHOW du jeudi 23 octobre 2025", else the description's first sentence."""
    if facts.title:
        return facts.title
    if facts.show and facts.aired_on:
        return f"{facts.show} du {french_date(facts.aired_on)}"
    if facts.description:
        return first_sentence(facts.description)
    return None


def first_sentence(text: str) -> str | None:
    text = " ".join(text.split())
    if not text:
        return None
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    # A title does not end with a full stop; a question or exclamation mark is part of it.
    return sentence[:-1].rstrip() if sentence.endswith(".") else sentence


def air_date(description: str, *, today: date) -> date | None:
    """The air date the description states, the year inferred from the weekday when it is missing."""
    matches = list(DATE.finditer(description))
    chosen = next((m for m in matches if m.group("weekday")), None)
    if chosen is None:
        chosen = next((m for m in matches if _AIR_DATE_LEAD.search(description[: m.start()])), None)
    return date_of(chosen, today=today) if chosen else None


def _clean_show(name: str) -> str | None:
    name = name.strip().strip('«»"“”').strip()
    return name or None


def _show_and_channel(description: str) -> tuple[str | None, str | None]:
    show = channel = None
    for pattern in (_SHOW_AFTER_EMISSION, _SHOW_BEFORE_EMISSION, _SHOW_IN_CAPITALS):
        match = pattern.search(description)
        if match:
            show = _clean_show(match.group("show"))
            if "channel" in match.groupdict() and match.group("channel"):
                channel = match.group("channel").strip()
            break
    if channel is None:
        named = _CHANNEL.search(description)
        if named:
            channel = named.group("channel").strip()
    return show, channel


def _person(name: str) -> str | None:
    """A name as matched, without the sentence's leading words; None if no full name is left."""
    name = _LEADING_WORDS.sub("", " ".join(name.split()))
    return name if _NAME.fullmatch(name) else None


def _host(description: str) -> str | None:
    for pattern in (_HOST_BY, _HOST_RECEIVES):
        for match in pattern.finditer(description):
            name = _person(match.group("name"))
            if name:
                return name
    return None


def _guests(description: str) -> list[GuestMention]:
    for lead, needs_roles in ((_STRONG_GUEST_LEAD, False), (_WEAK_GUEST_LEAD, True)):
        for match in lead.finditer(description):
            guests = _guest_list(description, match.end())
            if guests and (not needs_roles or any(g.role for g in guests)):
                unique: dict[str, GuestMention] = {}
                for guest in guests:
                    unique.setdefault(guest.name, guest)
                return list(unique.values())
    return []


def _guest_list(text: str, position: int) -> list[GuestMention]:
    """Read "A (role), B (role) et C (role)" or "A, role, B, role, et C, role" from position."""
    guests: list[list[str | None]] = []
    separator = ", "
    while True:
        name_match = _NAME.match(text, position)
        if name_match and _person(name_match.group()):
            guests.append([_person(name_match.group()), None])
            position = name_match.end()
            opening = re.match(r"\s*\(", text[position:])
            if opening:
                closing = _closing_parenthesis(text, position + opening.end())
                if closing is None:
                    break
                guests[-1][1] = " ".join(text[position + opening.end() : closing].split()) or None
                position = closing + 1
        elif guests and not _CLAUSE_WORD.match(text, position):
            # Prose form: the words after a name, up to the next separator, are that guest's role.
            end = _segment_end(text, position)
            role = text[position:end].strip()
            if not role:
                break
            previous = guests[-1][1]
            guests[-1][1] = f"{previous}{separator}{role}" if previous else role
            position = end
        else:
            break
        separator_match = _LIST_SEPARATOR.match(text, position)
        if not separator_match:
            break
        separator = separator_match.group()
        position = separator_match.end()
    return [GuestMention(name=name, role=role) for name, role in guests if name]


def _closing_parenthesis(text: str, start: int) -> int | None:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def _segment_end(text: str, start: int) -> int:
    """Where a prose role ends: the next list separator or the end of the sentence."""
    end = re.compile(r",|;|\s+et\s+|[.!?](?=\s|$)|\(|\)")
    match = end.search(text, start)
    return match.start() if match else len(text)


def with_title(facts: EpisodeFacts) -> EpisodeFacts:
    """The facts with their title worked out again from the rest (after a merge changed them)."""
    return replace(facts, title=episode_title(replace(facts, title=None)))

"""Guests: the A–Z list with appearance counts, and a guest's page (roles over time, co-guests, what they said)."""

from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from sqlmodel import col, select

from app import limits
from app.deps import SessionDep
from app.models import Episode
from app.names import fold
from app.services import episodes as episode_service
from app.services import guests as guest_service
from app.services import speaking as speaking_service
from app.web import charts
from app.web.errors import PageRoute
from app.web.templating import render
from app.web.transcript import shorten

router = APIRouter(route_class=PageRoute)


@dataclass(frozen=True, slots=True)
class SpokenPassage:
    """One of a guest's longest turns as their page lists it: where, how long, its start, a link to it."""

    episode: Episode
    seconds: float
    start: float
    excerpt: str
    url: str


def turn_url(episode_slug: str, turn: speaking_service.Turn) -> str:
    """The episode opened on the turn, its lines marked from the first (`l`: the exact line, even
    when another is said in the same second) to the last."""
    first, last = int(turn.start), int(turn.last_start)
    t = f"{first}-{last}" if last > first else f"{first}"
    return f"/episodes/{episode_slug}?t={t}&l={turn.position}#l-{turn.position}"


def initial(name: str) -> str:
    """The letter a name is filed under, from the same folding the list is sorted by: "#" past Z."""
    first = fold(name)[:1].upper()
    return first if "A" <= first <= "Z" else "#"


@router.get("/guests", include_in_schema=False)
def guests(request: Request, session: SessionDep):
    total, items = guest_service.list_guests(session, per_page=None, hosts=True)
    by_letter: dict[str, list] = {}
    for item in items:
        by_letter.setdefault(initial(item.person.name), []).append(item)
    letters = sorted(by_letter.items(), key=lambda entry: (entry[0] == "#", entry[0]))
    return render(request, "guests.html", {"nav": "guests", "total": total, "letters": letters})


@router.get("/guests/{slug}", include_in_schema=False)
def guest(slug: str, request: Request, session: SessionDep):
    person = guest_service.get_guest(session, slug)
    if person is None:
        raise HTTPException(404, f"Aucun invité « {slug} » dans l'archive.")
    appearances = guest_service.appearances_of(session, person)
    summaries = {s.episode.id: s for s in episode_service.summarize(session, [e for _, e in appearances])}
    assert person.id is not None  # a stored person's id
    speaking = speaking_service.person_speaking(session, person.id, longest=limits.GUEST_TURNS)
    longest = speaking.longest
    # a turn's episode is one of theirs; the query only covers a line linked without an appearance
    episodes = {e.id: e for _, e in appearances}
    missing = {t.episode_id for t in longest} - set(episodes)
    if missing:
        episodes.update((e.id, e) for e in session.exec(select(Episode).where(col(Episode.id).in_(missing))).all())
    return render(
        request,
        "guest.html",
        {
            "nav": "guests",
            "person": person,
            "aliases": [a for a in guest_service.aliases(session, person) if a != person.name],
            "appearances": [(a, summaries[e.id]) for a, e in appearances],
            # their appearances over time: per month over three years or less, else per year
            "timeline": charts.dates_timeline(
                Counter(e.aired_on for _, e in appearances), ("apparition", "apparitions")
            ),
            "co_guests": guest_service.co_guests(session, person),
            # by episode id; an episode where they never speak is not in it
            "speaking_seconds": speaking.seconds_by_episode,
            "speaking_total": speaking.seconds,
            "passages": [
                SpokenPassage(
                    episodes[t.episode_id],
                    t.seconds,
                    t.start,
                    shorten(t.text),
                    turn_url(episodes[t.episode_id].slug, t),
                )
                for t in longest
            ],
        },
    )

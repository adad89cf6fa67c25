"""Guests: the A–Z list with appearance counts, and a guest's page (roles over time, co-guests)."""

from fastapi import APIRouter, HTTPException, Request

from app.deps import SessionDep
from app.names import fold
from app.services import episodes as episode_service
from app.services import guests as guest_service
from app.web.errors import PageRoute
from app.web.templating import render

router = APIRouter(route_class=PageRoute)


def initial(name: str) -> str:
    """The letter a name is filed under, from the same folding the list is sorted by: "#" past Z."""
    first = fold(name)[:1].upper()
    return first if "A" <= first <= "Z" else "#"


@router.get("/guests", include_in_schema=False)
def guests(request: Request, session: SessionDep):
    total, items = guest_service.list_guests(session, per_page=None)
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
    return render(
        request,
        "guest.html",
        {
            "nav": "guests",
            "person": person,
            "aliases": [a for a in guest_service.aliases(session, person) if a != person.name],
            "appearances": [(a, summaries[e.id]) for a, e in appearances],
            "co_guests": guest_service.co_guests(session, person),
        },
    )

"""The home page: the search box, the latest episodes, the shows and what the archive holds."""
from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from app.db import get_session
from app.services import episodes as episode_service
from app.web.errors import PageRoute
from app.web.templating import render

router = APIRouter(route_class=PageRoute)

EXAMPLE_QUERIES = ["souveraineté numérique", "intelligence artificielle", '"cloud de confiance"', "Keepit~"]


@router.get("/", include_in_schema=False)
def home(request: Request, session: Session = Depends(get_session)):
    _, latest = episode_service.list_episodes(session, per_page=6)
    return render(request, "home.html", {
        "nav": "home",
        "counts": episode_service.archive_counts(session),
        "latest": episode_service.summarize(session, latest),
        "shows": episode_service.list_shows(session),
        "examples": EXAMPLE_QUERIES,
    })

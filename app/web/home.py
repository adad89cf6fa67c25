"""The home page: the search box, the latest episodes, the shows and what the archive holds."""

from fastapi import APIRouter, Request

from app import limits
from app.deps import SessionDep
from app.services import episodes as episode_service
from app.web import charts
from app.web.errors import PageRoute
from app.web.templating import render

router = APIRouter(route_class=PageRoute)

EXAMPLE_QUERIES = ["souveraineté numérique", "intelligence artificielle", '"cloud de confiance"', "Keepit~"]


@router.get("/", include_in_schema=False)
def home(request: Request, session: SessionDep):
    _, latest = episode_service.list_episodes(session, per_page=limits.LATEST_EPISODES)
    return render(
        request,
        "home.html",
        {
            "nav": "home",
            "counts": episode_service.archive_counts(session),
            "latest": episode_service.summarize(session, latest),
            "shows": episode_service.list_shows(session),
            "examples": EXAMPLE_QUERIES,
            "timeline": charts.months_timeline(episode_service.episodes_by_air_date(session), ("épisode", "épisodes")),
        },
    )

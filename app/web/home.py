"""The home page: the search box, the latest episodes, the shows and what the archive holds."""

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session

from app import limits
from app.deps import SessionDep
from app.services import episodes as episode_service
from app.web import charts
from app.web.errors import PageRoute
from app.web.templating import render

router = APIRouter(route_class=PageRoute)

EXAMPLE_QUERIES = ["souveraineté numérique", "intelligence artificielle", '"cloud de confiance"', "Keepit~"]

# The archive's timeline by database (its URL): (the episodes' stamp it was drawn at, the chart).
_timelines: dict[str, tuple[tuple[Any, ...], charts.Timeline | None]] = {}


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
            "timeline": archive_timeline(session),
        },
    )


def archive_timeline(session: Session) -> charts.Timeline | None:
    """The archive's episodes month by month, drawn again only when the episodes have changed since:
    the stamp is read from the database on every request, so that an episode added, edited or
    deleted by any process (another worker, `plateau ingest`) shows on the next page."""
    key = str(session.get_bind().engine.url)
    stamp = episode_service.episodes_stamp(session)
    cached = _timelines.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    chart = charts.months_timeline(episode_service.episodes_by_air_date(session), ("épisode", "épisodes"))
    _timelines[key] = (stamp, chart)  # its drawings are computed by the first page, then kept with it
    return chart

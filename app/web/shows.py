"""Shows: the list, and one show's episodes."""

from fastapi import APIRouter, HTTPException, Request

from app import limits
from app.deps import SessionDep
from app.services import episodes as episode_service
from app.web import params
from app.web.errors import PageRoute
from app.web.pagination import Pagination
from app.web.templating import render

router = APIRouter(route_class=PageRoute)


@router.get("/shows", include_in_schema=False)
def shows(request: Request, session: SessionDep):
    return render(request, "shows.html", {"nav": "shows", "shows": episode_service.list_shows(session)})


@router.get("/shows/{slug}", include_in_schema=False)
def show(slug: str, request: Request, session: SessionDep, page: str | None = None):
    found = episode_service.get_show(session, slug)
    if found is None:
        raise HTTPException(404, f"Aucune émission « {slug} » dans l'archive.")
    number = params.page_number(page)
    total, items = episode_service.list_episodes(session, show=slug, page=number, per_page=limits.EPISODES_PER_PAGE)
    return render(
        request,
        "show.html",
        {
            "nav": "shows",
            "show": found,
            "episodes": episode_service.summarize(session, items),
            "pager": Pagination(request.url, number, limits.EPISODES_PER_PAGE, total),
            "total": total,
        },
        block="episodes",
    )

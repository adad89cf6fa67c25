"""An episode's history: every change editors made to it, who, when, what, before → after, why."""

from fastapi import APIRouter, HTTPException, Request

from app.deps import SessionDep
from app.french_dates import french_moment
from app.services import episodes as episode_service
from app.services import revisions as revision_service
from app.web.errors import PageRoute
from app.web.templating import render

router = APIRouter(route_class=PageRoute)


@router.get("/episodes/{slug}/history", include_in_schema=False)
def history(slug: str, request: Request, session: SessionDep):
    found = episode_service.get_episode(session, slug)
    if found is None:
        raise HTTPException(404, f"Aucun épisode « {slug} » dans l'archive.")
    revisions = [
        {
            **revision_service.revision_json(revision, found.slug),
            "when": french_moment(revision.created_at),
            "start": revision_service.start_of(revision),
        }
        for revision in revision_service.history(session, found)
    ]
    return render(
        request,
        "history.html",
        {
            "nav": "episodes",
            "episode": found,
            "show": episode_service.summarize(session, [found])[0].show,
            "revisions": revisions,
        },
    )

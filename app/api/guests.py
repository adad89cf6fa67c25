"""JSON routes for guests: the A-Z list, a guest's appearances, and merging two records."""

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from sqlmodel import Session

from app import limits
from app.api.responses import SafeJSONResponse
from app.api.schemas import GuestDetail, GuestPage, problems
from app.db import begin_writing
from app.deps import AdminDep, SearchDep, SessionDep
from app.models import Person
from app.services import guests as guest_service
from app.services import speaking as speaking_service

router = APIRouter(prefix="/api", tags=["invités"], default_response_class=SafeJSONResponse)


def guest_or_404(session: Session, slug: str) -> Person:
    person = guest_service.get_guest(session, slug)
    if person is None:
        raise HTTPException(404, f"Aucun invité « {slug} ».")
    return person


def guest_detail(session: Session, person: Person) -> GuestDetail:
    assert person.id is not None  # a stored person's id
    seconds = speaking_service.person_speaking(session, person.id).seconds_by_episode
    return GuestDetail.model_validate(
        {
            "slug": person.slug,
            "name": person.name,
            "aliases": guest_service.aliases(session, person),
            "appearances": [
                {
                    "episode": {"slug": e.slug, "title": e.title, "aired_on": e.aired_on},
                    "kind": a.kind,
                    "role": a.role,
                    "named_as": a.named_as,
                    "speaking_seconds": seconds.get(e.id) if e.id is not None else None,
                }
                for a, e in guest_service.appearances_of(session, person)
            ],
            "co_guests": [
                {"slug": p.slug, "name": p.name, "episodes": n} for p, n in guest_service.co_guests(session, person)
            ],
            "speaking_seconds": sum(seconds.values()),
        }
    )


@router.get("/guests")
def list_guests(
    session: SessionDep,
    page: int = Query(1, ge=1, le=limits.MAX_PAGE),
    per_page: int = Query(limits.GUESTS_PER_PAGE, ge=1, le=limits.MAX_GUESTS_PER_PAGE),
    hosts: bool = Query(False, description="inclure les animateurs (comptés dans « hosted »), comme la page /guests"),
) -> GuestPage:
    total, items = guest_service.list_guests(session, page=page, per_page=per_page, hosts=hosts)
    return GuestPage.model_validate(
        {
            "total": total,
            "page": page,
            "items": [
                {"slug": g.person.slug, "name": g.person.name, "appearances": g.appearances, "hosted": g.hosted}
                for g in items
            ],
        }
    )


@router.get("/guests/{slug}", responses=problems(404))
def get_guest(slug: str, session: SessionDep) -> GuestDetail:
    return guest_detail(session, guest_or_404(session, slug))


class MergeRequest(BaseModel):
    into: str


@router.post("/guests/{slug}/merge", responses=problems(401, 403, 404, 422))
def merge_guest(
    slug: str, admin: AdminDep, request: MergeRequest, session: SessionDep, index: SearchDep
) -> GuestDetail:
    """Merge the guest `slug` into the guest `into`; answers with the merged guest."""
    # one writer from the lookups to the commit: a merge the other way, or an ingest naming either
    # guest, waits, then finds the guests as this merge left them (a merged guest is gone: 404)
    begin_writing(session)
    source, target = guest_or_404(session, slug), guest_or_404(session, request.into)
    if source.id == target.id:
        raise HTTPException(422, "Un invité ne peut pas être fusionné avec lui-même.")
    spoken = guest_service.merge_guests(session, source, target)
    index.index_episodes(session, spoken)  # their passages now name the target as speaker
    return guest_detail(session, target)

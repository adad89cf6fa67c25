"""JSON routes for guests: the A-Z list, a guest's appearances, and merging two records."""
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlmodel import Session

from app.api.auth import require_admin
from app.db import get_session
from app.models import Person
from app.services import guests as guest_service

router = APIRouter(prefix="/api", tags=["invités"])


def guest_or_404(session: Session, slug: str) -> Person:
    person = guest_service.get_guest(session, slug)
    if person is None:
        raise HTTPException(404, f"Aucun invité « {slug} ».")
    return person


def guest_detail(session: Session, person: Person) -> dict:
    return {
        "slug": person.slug, "name": person.name, "aliases": guest_service.aliases(session, person),
        "appearances": [
            {"episode": {"slug": e.slug, "title": e.title, "aired_on": e.aired_on.isoformat() if e.aired_on else None},
             "kind": a.kind, "role": a.role, "named_as": a.named_as}
            for a, e in guest_service.appearances_of(session, person)
        ],
        "co_guests": [{"slug": p.slug, "name": p.name, "episodes": n}
                      for p, n in guest_service.co_guests(session, person)],
    }


@router.get("/guests")
def list_guests(session: Session = Depends(get_session), page: int = Query(1, ge=1, le=100_000),
                per_page: int = Query(100, ge=1, le=500)) -> dict:
    total, items = guest_service.list_guests(session, page=page, per_page=per_page)
    return {"total": total, "page": page,
            "items": [{"slug": g.person.slug, "name": g.person.name, "appearances": g.appearances} for g in items]}


@router.get("/guests/{slug}")
def get_guest(slug: str, session: Session = Depends(get_session)) -> dict:
    return guest_detail(session, guest_or_404(session, slug))


class MergeRequest(BaseModel):
    into: str


@router.post("/guests/{slug}/merge", dependencies=[Depends(require_admin)])
def merge_guest(slug: str, request: MergeRequest, session: Session = Depends(get_session)) -> dict:
    """Merge the guest `slug` into the guest `into`; answers with the merged guest."""
    source, target = guest_or_404(session, slug), guest_or_404(session, request.into)
    if source.id == target.id:
        raise HTTPException(422, "Un invité ne peut pas être fusionné avec lui-même.")
    guest_service.merge_guests(session, source, target)
    return guest_detail(session, target)

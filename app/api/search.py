"""GET /api/search: the JSON twin of the /search page, on the same search service."""
from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlmodel import Session

from app.config import get_settings
from app.db import get_session
from app.search import SearchRequest, get_search_index
from app.search.service import MAX_PAGE, MAX_PER_PAGE

router = APIRouter(prefix="/api", tags=["recherche"])


@router.get("/search")
def search(
    q: str = Query("", description='Mots (ET implicite), OR, NOT, -mot, "citation exacte", préfixe*, mot~'),
    show: str | None = Query(None, description="slug de l'émission"),
    guest: str | None = Query(None, description="slug de l'invité"),
    date_from: date | None = Query(None, alias="from", description="AAAA-MM-JJ"),
    date_to: date | None = Query(None, alias="to", description="AAAA-MM-JJ"),
    sort: str = Query("relevance", pattern="^(relevance|date)$"),
    page: int = Query(1, ge=1, le=MAX_PAGE),
    per_page: int = Query(10, ge=1, le=MAX_PER_PAGE),
    episode: str | None = Query(None, description="slug d'un épisode : chercher dans celui-ci seulement"),
    session: Session = Depends(get_session),
) -> dict:
    request = SearchRequest(q=q, show=show or None, guest=guest or None, date_from=date_from, date_to=date_to,
                            sort=sort, page=page, per_page=per_page, episode=episode or None)
    results = get_search_index(get_settings()).search(session, request)
    if results.error:
        raise HTTPException(400, results.error)
    return results.to_json()

"""GET /api/search: the JSON twin of the /search page, on the same search service."""

from datetime import date

from fastapi import APIRouter, HTTPException, Query

from app import limits
from app.api.responses import SafeJSONResponse
from app.api.schemas import SearchResponse, problems
from app.deps import SearchDep, SessionDep
from app.search import SearchRequest

router = APIRouter(prefix="/api", tags=["recherche"], default_response_class=SafeJSONResponse)


# exclude_unset: a hit carries "more_in_episode" only when it is the last one shown of its episode
@router.get("/search", response_model_exclude_unset=True, responses=problems(400, 503))
def search(
    session: SessionDep,
    index: SearchDep,
    q: str = Query(
        "",
        description='Mots (ET implicite), OR, NOT, -mot, "citation exacte", préfixe*, mot~. Vide : avec speaker, '
        "tous ses passages ; avec guest, ses épisodes (episode_matches) ; du plus récent au plus ancien",
    ),
    show: str | None = Query(None, description="slug de l'émission"),
    guest: str | None = Query(None, description="slug de l'invité"),
    speaker: str | None = Query(
        None, description="slug d'une personne : seulement les passages qu'elle dit (« dit par »)"
    ),
    date_from: date | None = Query(None, alias="from", description="AAAA-MM-JJ"),
    date_to: date | None = Query(None, alias="to", description="AAAA-MM-JJ"),
    sort: str = Query("relevance", pattern="^(relevance|date)$"),
    page: int = Query(1, ge=1, le=limits.MAX_PAGE),
    per_page: int = Query(limits.SEARCH_PER_PAGE, ge=1, le=limits.MAX_SEARCH_PER_PAGE),
    episode: str | None = Query(None, description="slug d'un épisode : chercher dans celui-ci seulement"),
    as_typed: bool = Query(
        False,
        description="sans correction : quand rien n'est trouvé, donner la correction dans « suggestion » "
        "sans chercher à sa place",
    ),
) -> SearchResponse:
    request = SearchRequest(
        q=q,
        show=show or None,
        guest=guest or None,
        speaker=speaker or None,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=page,
        per_page=per_page,
        episode=episode or None,
        as_typed=as_typed,
    )
    results = index.search(session, request)
    if results.error:
        raise HTTPException(400, results.error)
    return SearchResponse.model_validate(results.to_json())

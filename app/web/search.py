"""The search page: live results as people type, filters and sort as form controls, one shareable URL."""

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlmodel import Session

from app import limits
from app.deps import SearchDep, SessionDep
from app.search import SearchRequest, SearchResults
from app.services import episodes as episode_service
from app.services import guests as guest_service
from app.web import charts, params
from app.web.errors import PageRoute
from app.web.pagination import Pagination
from app.web.templating import is_fragment_request, render

router = APIRouter(route_class=PageRoute)
SORTS = {"relevance": "Pertinence", "date": "Date (récent d'abord)"}
# where an episode above the passages matched, after "Trouvé"
MATCHED_IN = {
    "title": "dans le titre",
    "guests": "parmi les invités (nom, rôle ou affiliation)",
    "show": "dans le nom de l'émission",
    "description": "dans la description",
}
AS_TYPED = ("1", "true", "on", "oui", "yes")  # values of ?as_typed= that turn the correction off
EXAMPLES = [
    "souveraineté numérique",
    '"intelligence artificielle"',
    "cloud OR nuage",
    "numéri*",
    "Keepit~",
    "IA -emploi",
]


@router.get("/search", include_in_schema=False)
def search(
    request: Request,
    q: str | None = None,
    show: str | None = None,
    guest: str | None = None,
    speaker: str | None = None,
    sort: str | None = None,
    page: str | None = None,
    as_typed: str | None = None,
    *,
    session: SessionDep,
    index: SearchDep,
):
    # `from` is a Python keyword: read the date range from the query string directly.
    raw_from, raw_to = request.query_params.get("from"), request.query_params.get("to")
    form = {
        "q": q or "",
        "show": params.text(show) or "",
        "guest": params.text(guest) or "",
        "speaker": params.text(speaker) or "",
        "from": (raw_from or "").strip()[:20],
        "to": (raw_to or "").strip()[:20],
        "sort": sort if sort in SORTS else "relevance",
    }
    error, results, number = None, None, 1
    try:
        number = params.page_number(page)
        date_from, date_to = params.day(raw_from, "du"), params.day(raw_to, "au")
    except params.BadParameter as bad:
        error = bad.detail
    else:
        if form["q"].strip() or form["speaker"] or form["guest"]:
            # without words, the service lists a speaker's passages or a guest's episodes
            results = index.search(
                session,
                SearchRequest(
                    q=form["q"],
                    show=form["show"] or None,
                    guest=form["guest"] or None,
                    speaker=form["speaker"] or None,
                    date_from=date_from,
                    date_to=date_to,
                    sort=form["sort"],
                    page=number,
                    per_page=limits.SEARCH_PER_PAGE,
                    as_typed=(as_typed or "").strip().lower() in AS_TYPED,
                ),
            )
            error = results.error
    browsed = None
    if results and results.browsing:
        browsed = guest_service.get_guest(session, form[results.browsing])
    return render(
        request,
        "search.html",
        {
            "nav": "search",
            "form": form,
            "pager": Pagination(request.url, number, limits.SEARCH_PER_PAGE, results.paged if results else 0),
            "results": results,
            "error": error,
            "page": number,
            "panels": episode_service.guests_by_episode(session, [g.episode.id for g in results.groups])
            if results
            else {},
            "sorts": SORTS,
            # the examples keep the filters: a search opened from a guest's page stays theirs
            "examples": [(example, search_url(form, example)) for example in EXAMPLES],
            "scope": scope_of(session, form) if not form["q"].strip() else [],
            "matched_in": MATCHED_IN,
            # the query the results are for, and the links between it and the query as typed
            "searched": results.suggestion if results and results.corrected else form["q"],
            "as_typed_url": search_url(form, form["q"], as_typed=True),
            "suggestion_url": search_url(form, results.suggestion) if results and results.suggestion else None,
            "has_filters": any(form[k] for k in ("show", "guest", "speaker", "from", "to")),
            "browsed": browsed,  # the person whose passages or episodes a search without words lists
            **(timelines(session, results, form) if results and results.months else {}),
            # the filter lists sit outside the results block: a fragment request never shows them
            **(
                {}
                if is_fragment_request(request)
                else {
                    "shows": episode_service.list_shows(session),
                    "guests": guest_service.guest_choices(session),
                    "speakers": guest_service.speaking_people(session),
                }
            ),
        },
        block="results",
        status_code=400 if error else 200,
    )


def timelines(session: Session, results: SearchResults, form: dict[str, str]) -> dict:
    """The matching passages month by month across the archive (within the dates asked for), each
    month a link to the same search within it; and the shows' rows on the same months."""
    span = episode_service.air_date_span(session)
    if span:
        low = results.request.date_from or span[0]
        high = results.request.date_to or span[1]
        span = (max(low, span[0]), min(high, span[1])) if low <= high else None
    searched = results.request.q
    # search_url's query string with the month's dates where they go (after the filters, before the
    # sort), the rest encoded once rather than once a month
    around = search_url({**form, "from": "", "to": "", "sort": "relevance"}, searched)
    sort = "&" + urlencode([("sort", form["sort"])]) if form["sort"] != "relevance" else ""

    def month(first: date, last: date) -> str:
        return f"{around}&from={first.isoformat()}&to={last.isoformat()}{sort}"

    def show(slug: str) -> str:
        return search_url({**form, "show": slug}, searched)

    unit = ("passage", "passages")
    chart = charts.month_timeline(
        {m.month: m.passages for m in results.months}, unit, span=span, link=month, undated=results.undated
    )
    if chart is None:
        return {}
    shows = [(s.name or "Émission inconnue", s.slug, s.months) for s in results.shows]
    many = len(shows) > 1 and not form["show"]
    return {"timeline": chart, "show_rows": charts.show_rows(shows, chart, link=show) if many else None}


def scope_of(session: Session, form: dict[str, str]) -> list[str]:
    """What a search without words is limited to, in words: « dans l'émission SMART TECH »... A
    search opened from a show's page without words lands on this prompt, not on an empty result:
    the words are asked for, the examples keep the scope. (Without words, a speaker or a guest
    lists their passages or their episodes: run_search.)"""
    scope = []
    for name, words in (("speaker", "dans les propos de"), ("guest", "dans les émissions de")):
        person = guest_service.get_guest(session, form[name]) if form[name] else None
        if person is not None:
            scope.append(f"{words} {person.name}")
    show = episode_service.get_show(session, form["show"]) if form["show"] else None
    if show is not None:
        scope.append(f"dans l'émission {show.name}")
    return scope


def search_url(form: dict[str, str], q: str, as_typed: bool = False) -> str:
    """/search for another query with the same filters and sort; as typed: without correction."""
    keep = [(name, form[name]) for name in ("show", "guest", "speaker", "from", "to") if form[name]]
    if form["sort"] != "relevance":
        keep.append(("sort", form["sort"]))
    return "/search?" + urlencode([("q", q), *keep, *([("as_typed", "1")] if as_typed else [])])

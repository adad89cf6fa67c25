"""Atom feeds: the newest episodes, and the newest hits of a saved search."""

import re
from datetime import UTC, datetime, time

from fastapi import APIRouter, Request

from app import limits
from app.config import Settings
from app.deps import SearchDep, SessionDep, SettingsDep
from app.search import SearchRequest
from app.services import episodes as episode_service
from app.web.errors import PageRoute
from app.web.params import BadParameter
from app.web.templating import templates

router = APIRouter(route_class=PageRoute)
ATOM = "application/atom+xml; charset=utf-8"
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def moment_of(episode) -> datetime:
    """When an entry was new: its air date when known, else when it came into the archive."""
    if episode.aired_on:
        return datetime.combine(episode.aired_on, time(0), tzinfo=UTC)
    stamp = episode.ingested_at
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def atom(request: Request, settings: Settings, context: dict):
    base = settings.base_url.rstrip("/")
    entries = context["entries"]
    updated = max((e["updated"] for e in entries), default=datetime(2000, 1, 1, tzinfo=UTC))
    return templates.TemplateResponse(
        request, "feed.atom.xml", {**context, "base": base, "updated": updated}, media_type=ATOM
    )


@router.get("/feed.atom", include_in_schema=False)
def episodes_feed(request: Request, session: SessionDep, settings: SettingsDep):
    _, latest = episode_service.list_episodes(session, per_page=limits.FEED_EPISODES)
    entries = []
    for summary in episode_service.summarize(session, latest):
        e = summary.episode
        guests = ", ".join(g.name for g in summary.guests)
        entries.append(
            {
                "id": f"/episodes/{e.slug}",
                "url": f"/episodes/{e.slug}",
                "title": e.title,
                "updated": moment_of(e),
                "summary": " ".join((e.description or "").split()) or (f"Avec {guests}" if guests else e.title),
            }
        )
    return atom(request, settings, {"title": "Plateau — nouveaux épisodes", "self": "/feed.atom", "entries": entries})


@router.get("/search.atom", include_in_schema=False)
def search_feed(request: Request, session: SessionDep, settings: SettingsDep, index: SearchDep, q: str | None = None):
    # XML 1.0 cannot carry control characters or lone surrogates, and the query goes into the title.
    q = " ".join(XML_ILLEGAL.sub(" ", q or "").split())
    if not q:
        raise BadParameter("Indiquez une recherche : /search.atom?q=souveraineté")
    results = index.search(session, SearchRequest(q=q, sort="date", per_page=limits.FEED_SEARCH_EPISODES))
    if results.error:
        raise BadParameter(results.error)
    entries = []
    for group in results.groups:
        found = episode_service.get_episode(session, group.episode.slug)
        if found is None:
            continue
        for hit in group.hits:
            second = int(hit.start)
            entries.append(
                {
                    "id": f"/episodes/{found.slug}?t={second}",
                    "url": f"{hit.url}#l-{hit.position}",
                    "title": f"{found.title} — {hit.timestamp}",
                    "updated": moment_of(found),
                    "summary": hit.text,
                }
            )
    return atom(
        request,
        settings,
        {
            "title": f"Plateau — « {q} »",
            "self": str(request.url.path) + "?" + str(request.url.query),
            "entries": entries,
        },
    )

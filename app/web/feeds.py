"""Atom feeds (RFC 4287): the newest episodes, and the newest hits of a saved search.

Ids are canonical URLs, the same on every request: a feed's own address (a search feed's with its
query normalized), an episode's page, a hit's link to its line. `updated` is when Plateau got or last
changed the item (never the air date, never "now"). Errors answer in Atom too: a feed with no entry
whose subtitle says what went wrong, with the error's status.
"""

import logging
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlmodel import Session, func, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import limits
from app.config import Settings, get_settings
from app.deps import SearchDep, SessionDep, SettingsDep
from app.models import Episode
from app.search import IndexDamaged, SearchRequest
from app.services import episodes as episode_service
from app.web.links import absolute_url, site_root
from app.web.params import BadParameter
from app.web.templating import templates

log = logging.getLogger(__name__)
ATOM = "application/atom+xml; charset=utf-8"
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# `updated` of a feed with nothing in it (an empty archive, an error): a fixed instant, so the
# document stays the same from one request to the next
NOTHING_YET = datetime(2000, 1, 1, tzinfo=UTC)


def utc(stamp: datetime) -> datetime:
    """SQLite gives back naive datetimes: Plateau stores them in UTC."""
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def rfc3339(stamp: datetime) -> str:
    """ "2025-10-23T08:15:00Z": an Atom date (RFC 3339, in UTC, to the second)."""
    return utc(stamp).strftime("%Y-%m-%dT%H:%M:%SZ")


def received(episode: Episode) -> datetime:
    """When Plateau got the episode."""
    return utc(episode.ingested_at)


def changed(episode: Episode) -> datetime:
    """When Plateau got the episode or last changed it (an edit, a new version ingested)."""
    return max(received(episode), utc(episode.updated_at or episode.ingested_at))


def archive_changed(session: Session) -> datetime:
    """The last change to the archive: the `updated` of a feed with no entry."""
    last = session.exec(select(func.max(Episode.updated_at))).one()
    return utc(last) if last else NOTHING_YET


def own_url(request: Request, settings: Settings) -> str:
    """The feed's address as it was asked for, query included: its rel="self"."""
    query = request.url.query
    return absolute_url(request, settings, request.url.path + (f"?{query}" if query else ""))


def atom(request: Request, settings: Settings, context: dict, *, updated: datetime, status_code: int = 200):
    """The feed of `context` (title, feed_id, entries, and optionally subtitle and alternate: site paths);
    `updated` is the feed's when it has no entry."""
    entries = context.get("entries", [])
    newest = max((entry["updated"] for entry in entries), default=updated)
    entries = [
        {
            **entry,
            "id": absolute_url(request, settings, entry["id"]),
            "url": absolute_url(request, settings, entry["url"]),
            "published": rfc3339(entry["published"]),
            "updated": rfc3339(entry["updated"]),
        }
        for entry in entries
    ]
    return templates.TemplateResponse(
        request,
        "feed.atom.xml",
        {
            "subtitle": None,
            "alternate": "/",
            **context,
            "entries": entries,
            "feed_id": absolute_url(request, settings, context["feed_id"]),
            "self_url": own_url(request, settings),
            "alternate_url": absolute_url(request, settings, context.get("alternate", "/")),
            "home": site_root(request, settings) + "/",
            "updated": rfc3339(newest),
        },
        media_type=ATOM,
        status_code=status_code,
    )


def error_feed(request: Request, status: int, message: str):
    """An Atom document for a feed that cannot be served: no entry, the reason in its subtitle."""
    settings = get_settings()
    context = {
        "title": "Plateau — flux indisponible",
        "subtitle": message,
        "feed_id": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "entries": [],
    }
    return atom(request, settings, context, updated=NOTHING_YET, status_code=status)


class FeedRoute(APIRoute):
    """A feed answers its errors in Atom, not with an HTML page: a feed reader can show them."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def feed_handler(request: Request):
            try:
                return await handler(request)
            except StarletteHTTPException as error:
                detail = error.detail if isinstance(error.detail, str) else "Requête invalide."
                return error_feed(request, error.status_code, detail)
            except RequestValidationError:
                return error_feed(request, 400, "Paramètre invalide.")
            except IndexDamaged:
                response = error_feed(request, 503, "La recherche est momentanément indisponible.")
                response.headers["Retry-After"] = "30"
                return response
            except Exception:
                log.exception("unexpected error on %s", request.url.path)
                return error_feed(request, 500, "Une erreur inattendue est survenue. Réessayez dans un instant.")

        return feed_handler


router = APIRouter(route_class=FeedRoute)


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
                "published": received(e),
                "updated": changed(e),
                "summary": " ".join((e.description or "").split()) or (f"Avec {guests}" if guests else e.title),
            }
        )
    context = {"title": "Plateau — nouveaux épisodes", "feed_id": "/feed.atom", "entries": entries}
    return atom(request, settings, context, updated=archive_changed(session))


@router.get("/search.atom", include_in_schema=False)
def search_feed(request: Request, session: SessionDep, settings: SettingsDep, index: SearchDep, q: str | None = None):
    # XML 1.0 cannot carry control characters or lone surrogates, and the query goes into the title.
    q = " ".join(XML_ILLEGAL.sub(" ", q or "").split())
    if not q:
        raise BadParameter("Indiquez une recherche : /search.atom?q=souveraineté")
    results = index.search(session, SearchRequest(q=q, sort="date", per_page=limits.FEED_SEARCH_EPISODES))
    if results.error:
        raise BadParameter(f"Recherche « {q} » impossible : {results.error}")
    entries, seen = [], set()
    for group in results.groups:
        found = episode_service.get_episode(session, group.episode.slug)
        if found is None:
            continue
        for hit in group.hits:
            if hit.url in seen:
                continue
            seen.add(hit.url)
            entries.append(
                {
                    "id": hit.url,  # the hit's line: /episodes/x?t=754&l=231
                    "url": f"{hit.url}#l-{hit.position}",
                    "title": f"{found.title} — {hit.timestamp}",
                    "published": received(found),
                    "updated": changed(found),
                    "summary": hit.text,
                }
            )
    context = {
        "title": f"Plateau — « {q} »",
        "feed_id": "/search.atom?" + urlencode({"q": q}),
        "alternate": "/search?" + urlencode({"q": q, "sort": "date"}),
        "entries": entries,
    }
    return atom(request, settings, context, updated=archive_changed(session))

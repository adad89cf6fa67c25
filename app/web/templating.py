"""The Jinja2 environment of the pages: French dates and timestamps, and one render for page or fragment
(with the signed-in editor, if any)."""

from datetime import date
from typing import Any

from fastapi import Request, Response
from jinja2_fragments.fastapi import Jinja2Blocks

from app.french_dates import french_date
from app.resources import TEMPLATES
from app.timecodes import format_timestamp
from app.web.sessions import signed_in
from app.web.speaking import talk_time
from app.web.static import HTMX, static_url
from app.web.twins import json_twin, link_header

templates = Jinja2Blocks(directory=str(TEMPLATES))
env = templates.env
env.autoescape = True
env.trim_blocks = True
env.lstrip_blocks = True


def date_fr(day: date | None, missing: str = "date inconnue") -> str:
    return french_date(day) if day else missing


def timestamp(seconds: float | None) -> str:
    return format_timestamp(max(0.0, seconds or 0.0))


def duration_fr(seconds: float | None) -> str:
    """ "25 min", "1 h 05": how long an episode lasts, for people rather than players."""
    minutes = round((seconds or 0) / 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 épisode", "3 épisodes", "0 épisode" (French keeps zero singular)."""
    word = singular if count < 2 else (plural_form or singular + "s")
    return f"{format_number(count)} {word}"


def format_number(count: int) -> str:
    # French groups thousands with a narrow no-break space: 12 345.
    return f"{count:,}".replace(",", "\u202f")


env.filters.update(
    date_fr=date_fr,
    timestamp=timestamp,
    duration_fr=duration_fr,
    plural=plural,
    number=format_number,
    talk_time=talk_time,
)


def site_notice() -> str | None:
    """What every page says while searches or writes cannot work: a damaged index being rebuilt, a
    full disk, a read-only data folder. A stat of the folder and a flag: cheap enough per page."""
    from app.config import get_settings
    from app.db import storage_state
    from app.search import get_search_index

    settings = get_settings()
    notice = get_search_index(settings).notice()
    if notice:
        return notice
    storage = storage_state(settings)
    if storage.startswith("lecture seule"):
        return "L'archive est en lecture seule : la consultation continue, les ajouts sont suspendus."
    if storage != "ok":
        return "Le disque de l'archive est plein : la consultation continue, les ajouts échoueront."
    return None


env.globals.update(static_url=static_url, htmx=HTMX, site_notice=site_notice)


def is_fragment_request(request: Request) -> bool:
    """An HTMX swap asks for a fragment; a history restore (or a cold load) needs the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(
    request: Request, name: str, context: dict[str, Any], *, block: str | None = None, status_code: int = 200
) -> Response:
    """The whole page, or only `block` when HTMX asks; either way caches learn the answer varies.

    A page that answers with its data (not an error) advertises its JSON twin: a Link header, and
    `json_twin` for the <link> of base.html."""
    fragment = bool(block) and is_fragment_request(request)
    twin = json_twin(request) if status_code < 400 else None
    # editing controls show only to a signed-in editor (None for visitors); their forms carry csrf_token
    editor = signed_in(request)
    context = {
        "nav": None,
        **context,
        "fragment": fragment,
        "json_twin": twin,
        "current_editor": editor.editor if editor else None,
        "csrf_token": editor.csrf_token if editor else None,
    }
    if fragment:
        response = templates.TemplateResponse(request, name, context, status_code=status_code, block_name=block)
    else:
        response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    if editor:
        response.headers["Cache-Control"] = "private, no-store"  # an editor's page is theirs alone
    if twin:
        response.headers["Link"] = link_header(twin)
    return response

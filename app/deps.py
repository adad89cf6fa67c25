"""What page and API routes ask FastAPI for: a session, the settings, the search index, the admin token,
the signed-in editor.

Routes take these as annotated parameters (`session: SessionDep`), so a test or a script can swap
one of them with `app.dependency_overrides` and every route follows.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from app.api.auth import require_admin
from app.config import Settings, get_settings
from app.db import open_session
from app.models import Editor
from app.search import SearchIndex, get_search_index
from app.web.sessions import CSRF_FIELD, CSRF_REFUSED, csrf_ok, signed_in


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: on the read replica for a GET or HEAD when PLATEAU_READ_DATABASE_URL
    is set, on the primary otherwise (app/db.py: open_session)."""
    yield from open_session(request.method)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def search_index(settings: SettingsDep) -> SearchIndex:
    """The index of the current settings (one per folder per process, reused)."""
    return get_search_index(settings)


SearchDep = Annotated[SearchIndex, Depends(search_index)]
# A write: 403 when no PLATEAU_ADMIN_TOKEN is configured, 401 without the right bearer token.
AdminDep = Annotated[None, Depends(require_admin)]


def current_editor(request: Request) -> Editor | None:
    """The editor this request's session cookie signs in; None for a visitor."""
    found = signed_in(request)
    return found.editor if found else None


CurrentEditorDep = Annotated[Editor | None, Depends(current_editor)]
SIGN_IN_FIRST = "Connexion requise : seuls les éditeurs connectés (page /login) peuvent modifier l'archive."
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def editor_or_401(request: Request, editor: CurrentEditorDep) -> Editor:
    """An edit through the pages: 401 without a signed-in editor; for a write, 403 unless the form's
    `csrf_token` field or the X-CSRF-Token header (HTMX) carries the session's token."""
    if editor is None:
        raise HTTPException(401, SIGN_IN_FIRST)
    if request.method in UNSAFE_METHODS:
        field = None
        if "form" in request.headers.get("content-type", ""):
            value = (await request.form()).get(CSRF_FIELD)
            field = value if isinstance(value, str) else None
        if not csrf_ok(request, field):
            raise HTTPException(403, CSRF_REFUSED)
    return editor


# An edit route's editor: signed in, and its write carries the session's CSRF token.
EditorDep = Annotated[Editor, Depends(editor_or_401)]

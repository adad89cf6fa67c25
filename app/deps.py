"""What page and API routes ask FastAPI for: a session, the settings, the search index, an editor's token.

Routes take these as annotated parameters (`session: SessionDep`), so a test or a script can swap
one of them with `app.dependency_overrides` and every route follows.
"""

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.api.auth import require_admin
from app.config import Settings, get_settings
from app.db import get_session
from app.search import SearchIndex, get_search_index

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def search_index(settings: SettingsDep) -> SearchIndex:
    """The index of the current settings (one per folder per process, reused)."""
    return get_search_index(settings)


SearchDep = Annotated[SearchIndex, Depends(search_index)]
# A write: 403 when no PLATEAU_ADMIN_TOKEN is configured, 401 without the right bearer token.
AdminDep = Annotated[None, Depends(require_admin)]

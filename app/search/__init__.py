"""Search: French analysis, passages, query → hits; Whoosh beside SQLite, or PostgreSQL (postgres.py)."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from app.search.engines import get_search_index
from app.search.errors import IndexBusy, IndexDamaged
from app.search.index import SearchIndex

if TYPE_CHECKING:
    from app.search.query import QueryError
    from app.search.service import EpisodeGroup, EpisodeRef, Hit, SearchRequest, SearchResults

# The query side (parser, ranking, snippets, and Whoosh's query modules) is loaded on first use,
# not at every start: `plateau ingest` never searches, and its start is most of adding one file.
_LAZY = {"QueryError": "app.search.query"} | dict.fromkeys(
    ("EpisodeGroup", "EpisodeRef", "Hit", "SearchRequest", "SearchResults"), "app.search.service"
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EpisodeGroup",
    "EpisodeRef",
    "Hit",
    "IndexBusy",
    "IndexDamaged",
    "QueryError",
    "SearchIndex",
    "SearchRequest",
    "SearchResults",
    "get_search_index",
]

"""Search: French analysis, passages, query → hits; Whoosh beside SQLite, or PostgreSQL (postgres.py)."""

from app.search.engines import get_search_index
from app.search.errors import IndexBusy, IndexDamaged
from app.search.index import SearchIndex
from app.search.query import QueryError
from app.search.service import EpisodeGroup, EpisodeRef, Hit, SearchRequest, SearchResults

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

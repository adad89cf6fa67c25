"""Everything Whoosh: French analysis, passages, index writes and rebuilds, query → hits."""

from app.search.index import IndexBusy, SearchIndex, get_search_index
from app.search.query import QueryError
from app.search.service import EpisodeGroup, EpisodeRef, Hit, SearchRequest, SearchResults

__all__ = [
    "EpisodeGroup",
    "EpisodeRef",
    "Hit",
    "IndexBusy",
    "QueryError",
    "SearchIndex",
    "SearchRequest",
    "SearchResults",
    "get_search_index",
]

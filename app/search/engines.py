"""Which search engine an archive uses: Whoosh's index folder beside SQLite, or PostgreSQL's own tables
(app/search/postgres.py, the same interface), chosen by the database URL alone."""

from app.search.index import SearchIndex, whoosh_index


def get_search_index(settings) -> SearchIndex:
    """The archive's search engine, one per index folder or database per process. With PostgreSQL
    there is no index folder: records and passages live in one database."""
    if settings.db_url.startswith("postgresql"):
        from app.search.postgres import get_postgres_search  # SQLite archives never load it

        # not a SearchIndex, but every method its callers use
        return get_postgres_search(settings.db_url)  # type: ignore[return-value]
    return whoosh_index(settings)

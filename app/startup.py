"""What every entry point (the server, each command, the tests) does first: the data folder, the
latest schema, a search ready to use. Above both app.db and app.search, which it ties together (the
search reads the database; the database knows nothing of the search)."""

from app.config import Settings
from app.db import migrate
from app.search import get_search_index


def prepare_data(settings: Settings) -> None:
    """What every entry point needs first: the data folder, the latest schema, an index."""
    migrate(settings)
    index = get_search_index(settings)
    index.ensure()
    index.remove_stale_generations()  # what killed rebuilds left

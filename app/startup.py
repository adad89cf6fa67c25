"""What every entry point (the server, each command, the tests) does first: the data folder, the
latest schema, a search ready to use. Above both app.db and app.search, which it ties together (the
search reads the database; the database knows nothing of the search)."""

import logging

from sqlmodel import Session, select

from app.config import Settings
from app.db import migrate
from app.models import CaptionLine
from app.search import SearchRequest, get_search_index
from app.search.analysis import word_spans

log = logging.getLogger(__name__)


def prepare_data(settings: Settings) -> None:
    """What every entry point needs first: the data folder, the latest schema, an index."""
    migrate(settings)
    index = get_search_index(settings)
    index.ensure()
    index.remove_stale_generations()  # what killed rebuilds left


def warm_up(settings: Settings, session: Session) -> None:
    """What a server's first requests would pay, paid before it takes any: the search's metadata
    index, its readers and modules, through one search of a word of the archive (at 2,000 episodes,
    the first search took 600 ms, the next 25), and the page templates compiled."""
    from app.web.templating import env  # the pages: not for the commands

    for name in env.list_templates():
        env.get_template(name)
    line = session.exec(select(CaptionLine.text).limit(1)).first()
    words = [folded for folded, _, _ in word_spans(line or "")]
    if words:
        get_search_index(settings).search(session, SearchRequest(q=max(words, key=len)))

"""A generated back catalogue (bench/generate.py), ingested once per test session through the real ingest."""

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.config import Settings
from app.db import get_engine
from app.main import prepare_data
from app.models import Appearance
from app.search import get_search_index
from bench.generate import generate

# Enough for several pages of every list (20 episodes a page), and small transcripts so it builds quickly.
CATALOGUE_EPISODES = 300
CATALOGUE_LINES = 40
CATALOGUE_SEED = 7


@dataclass
class Catalogue:
    data_dir: Path
    slugs: list[str]
    build_seconds: float


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory) -> Catalogue:
    """300 generated episodes (four shows, sixty guests, 2021-2025) ingested into a template data folder."""
    from app.services.ingest import ingest_paths

    root = tmp_path_factory.mktemp("catalogue")
    started = time.perf_counter()
    paths = generate(root / "pages", CATALOGUE_EPISODES, CATALOGUE_LINES, seed=CATALOGUE_SEED)
    settings = Settings(data_dir=root / "data")
    prepare_data(settings)
    with Session(get_engine(settings)) as session:
        outcomes = ingest_paths(session, [root / "pages"], index=get_search_index(settings))
        introduced = session.exec(select(func.count(Appearance.id)).where(Appearance.found_in == "introduction")).one()
    get_engine(settings).dispose()  # folds the WAL into plateau.db, so the folder can be served as it is
    assert len(outcomes) == len(paths)
    assert [o.status for o in outcomes] == ["added"] * len(paths), [
        (o.source, o.status, o.reason) for o in outcomes if o.status != "added"
    ]
    # a third of the descriptions name nobody: their guests come from what the introduction says
    assert introduced > CATALOGUE_EPISODES // 10, introduced
    return Catalogue(settings.data_dir, [o.slug for o in outcomes], time.perf_counter() - started)

"""One place for configuration: environment variables prefixed PLATEAU_."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLATEAU_", extra="ignore")

    data_dir: Path = Path("./data")
    # unset: SQLite in the data folder; "postgresql+psycopg://user@host/db": records and search in PostgreSQL
    database_url: str | None = None
    # PostgreSQL mode only: a streaming replica of database_url that serves the reads (GET and HEAD
    # requests: pages, searches, API reads); writes, and the requests that make them, use the primary
    read_database_url: str | None = None
    admin_token: str | None = None
    # the site's address in absolute links ("https://plateau.example"); unset, each link takes the
    # scheme and host of the request it answers (see app/web/links.py)
    base_url: str | None = None
    # memory that a rebuild or a bulk ingest may use, all its processes together
    index_memory_mb: int = Field(default=1024, ge=256)
    # seconds a write waits for another process's hold on the index before giving up
    index_writer_timeout: float = Field(default=30.0, ge=0)
    # addresses of the reverse proxies whose X-Forwarded-For/-Proto are believed ("127.0.0.1",
    # "10.0.0.5,10.0.0.6", "*"); none by default, so a client cannot pass for another
    trusted_proxies: str = ""

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'plateau.db'}"

    @property
    def on_postgresql(self) -> bool:
        """Records and search in PostgreSQL (no index folder), not SQLite and Whoosh."""
        return self.db_url.startswith("postgresql")

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    return Settings()

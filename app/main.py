"""create_app(): migrations and index on startup, security headers, static files, the routers."""
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import get_engine, migrate
from app.search import get_search_index

ROOT = Path(__file__).resolve().parent.parent

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def prepare_data(settings: Settings) -> None:
    """What every entry point needs first: the data folder, the latest schema, an index."""
    migrate(settings)
    get_search_index(settings).ensure()


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = get_settings()
    prepare_data(settings)
    with Session(get_engine(settings)) as session:
        # Episodes whose indexing failed (or was cut short) are retried at every start.
        get_search_index(settings).index_pending(session)
    yield


def create_app() -> FastAPI:
    from app.api import episodes, exports, guests
    from app.api.responses import SafeJSONResponse
    from app.api import search as search_api

    app = FastAPI(title="Plateau", description="Archive des débats tech : épisodes, invités, recherche de citations.",
                  lifespan=lifespan, docs_url=None, redoc_url=None, default_response_class=SafeJSONResponse)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/healthz", tags=["santé"])
    def healthz() -> JSONResponse:
        settings = get_settings()
        checks = {}
        try:
            with Session(get_engine(settings)) as session:
                session.exec(text("SELECT 1")).one()
            checks["database"] = "ok"
        except Exception as error:  # readiness must report, not crash
            checks["database"] = f"indisponible : {error}"
        checks["index"] = "ok" if get_search_index(settings).exists() else "absent"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ready else "indisponible", **checks}, status_code=200 if ready else 503)

    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    for router in (search_api.router, episodes.router, guests.router, exports.router):
        app.include_router(router)
    from app.web import pages
    from app.web.errors import install_error_pages

    app.include_router(pages.router)
    install_error_pages(app)
    return app

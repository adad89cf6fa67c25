"""create_app(): migrations and index on startup, security headers, compression, server timing, static files,
the routers."""

import gc
import logging
import time
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import limits
from app.config import get_settings
from app.db import get_engine, storage_state
from app.guards import ReadersInTurn, TrailingSlash, WriteGuard
from app.proxies import ForwardedHeaders, proxy_middleware
from app.search import IndexDamaged, get_search_index
from app.startup import prepare_data, warm_up
from app.web.media import EMBED_ORIGINS
from app.web.static import MOUNT, VersionedStaticFiles, versions

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # An episode's player (app/web/media.py) is the only thing from elsewhere: the YouTube and
    # Dailymotion embeds in frames (their origins, nothing more), and a media file played by the page's
    # own <audio>/<video>, which lives wherever the episode's media_url says (any podcast host), so
    # media-src takes any web address; media elements run no script, and script-src stays 'self'.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    f"frame-src {' '.join(EMBED_ORIGINS)}; media-src 'self' https: http:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Below this many bytes gzip saves little. Level 4 makes a three-hour transcript page (1.1 MB)
# 151 KB in 6 ms; 6 gives the same size in 15 ms, 9 (Starlette's default) 148 KB in 29 ms.
GZIP_MINIMUM_SIZE = 1000
GZIP_LEVEL = 4


class SecurityHeaders:
    """SECURITY_HEADERS on every response that does not set its own.

    Plain ASGI rather than @app.middleware("http"): that one re-streams every body, so the
    compression behind it could no longer see a response whole (its size, its Content-Length)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, secured)


class ServerTiming:
    """`Server-Timing: app;dur=<ms>` on every response: the time until its headers left, compression
    included, so a benchmark (or the browser's devtools) reads the server's own share over HTTP."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Server-Timing", f"app;dur={(time.perf_counter() - start) * 1000:.1f}")
            await send(message)

        await self.app(scope, receive, timed)


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Page and API routes are `def`: they run in this worker's threads, which share one GIL.
    anyio.to_thread.current_default_thread_limiter().total_tokens = limits.THREADS_PER_WORKER
    settings = get_settings()
    prepare_data(settings)
    engine = get_engine(settings)
    index = get_search_index(settings)
    # A damaged index (a truncated segment, a deleted folder) is rebuilt in a thread while pages are
    # served; searches answer 503 with a notice meanwhile.
    index.open_session = lambda: Session(engine)
    index.write_apart(settings)  # uploads and edits are indexed by a quieter process
    with Session(engine) as session:
        # Episodes whose indexing failed (or was cut short) are retried at every start; a full disk
        # or a read-only folder must not keep the archive from being read: /healthz says what waits.
        try:
            damage = index.confirmed_damage()
            if damage:
                log.warning("l'index est endommagé au démarrage : %s", "; ".join(damage))
                index.damaged()
            index.index_pending(session)
            index.merge_segments()
        except IndexDamaged:
            pass  # repairing in the background
        except Exception:
            log.warning("the index could not be brought up to date at startup; serving what it holds", exc_info=True)
        try:
            warm_up(settings, session)
        except IndexDamaged:
            pass  # said at the first search; repairing
        except Exception:  # the pages do not wait for it
            log.warning("warming up the search failed", exc_info=True)
    # What startup built (modules, ORM and templates, the index's readers) lives as long as the
    # process: left to the collector, every full collection walks it again (60 ms at 2,000 episodes,
    # about one request in ten), paid by whichever request sets it off.
    gc.collect()
    gc.freeze()
    yield
    index.stop_writing_apart()
    gc.unfreeze()  # an app stopped inside a longer process (the tests) leaves collectable garbage


def create_app() -> FastAPI:
    from app.api import downloads, episodes, guests, revisions
    from app.api import search as search_api
    from app.api.responses import SafeJSONResponse

    app = FastAPI(
        redirect_slashes=False,  # TrailingSlash does it, without trusting the Host header
        title="Plateau",
        description="Archive des débats tech : épisodes, invités, recherche de citations.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )

    # the last added runs first: the timing wraps the compression, which wraps the rest; the door
    # (writes, body sizes, trailing slashes) comes before any of the app's work
    app.add_middleware(WriteGuard)
    app.add_middleware(TrailingSlash)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    app.add_middleware(ServerTiming)
    app.add_middleware(ReadersInTurn, passing=("/healthz", f"{MOUNT}/"))
    # outermost: the client, scheme and host a trusted proxy forwards, before anything reads them
    forwarded = proxy_middleware(get_settings())
    if forwarded is not None:
        app.add_middleware(ForwardedHeaders, **forwarded)

    @app.get("/healthz", tags=["santé"])
    def healthz(deep: bool = False) -> JSONResponse:
        """ok; "dégradé" (200: pages are served, but searches may miss episodes or writes may fail)
        when the index is missing, damaged or behind the database, or the disk is full or read-only,
        with why; "indisponible" (503) without a database. deep=1 also compares the index with the
        database and runs a search."""
        settings = get_settings()
        index = get_search_index(settings)
        checks: dict[str, str] = {}
        try:
            with Session(get_engine(settings)) as session:
                session.execute(text("SELECT 1")).one()
                checks["database"] = "ok"
                checks["index"] = index.health(session, deep=deep)
                checks["storage"] = storage_state(settings)
        except Exception:  # readiness must report, not crash; the log has the error
            log.exception("healthz: the database cannot be read")
            checks["database"] = "indisponible : la base ne répond pas (voir le journal du serveur)"
        if checks["database"] != "ok":
            return JSONResponse({"status": "indisponible", **checks}, status_code=503)
        healthy = checks["index"] == checks["storage"] == "ok"
        return JSONResponse({"status": "ok" if healthy else "dégradé", **checks})

    app.mount(MOUNT, VersionedStaticFiles(versions), name="static")
    for router in (search_api.router, episodes.router, revisions.router, guests.router, downloads.router):
        app.include_router(router)
    from app.web import pages
    from app.web.errors import install_error_pages

    app.include_router(pages.router)
    install_error_pages(app)
    return app

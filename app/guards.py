"""Checks at the door, before a request's body is read: who may write, how big a body may be, and
addresses that end with a slash."""

from urllib.parse import quote

import anyio
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import limits
from app.api.auth import token_refusal
from app.config import get_settings

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READS = frozenset({"GET", "HEAD"})


class WriteGuard:
    """Writes to /api/ are refused (401, 403) before their body is read; a body past its limit is
    refused (413) from its Content-Length, or as soon as its streamed bytes pass it: nothing is
    spooled to memory or disk for a request that will be refused."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = limits.MAX_OTHER_BODY_BYTES
        if scope["method"] in WRITES and scope["path"].startswith("/api/"):
            scheme, _, token = headers.get("authorization", "").partition(" ")
            refusal = token_refusal(get_settings(), token.strip() if scheme.lower() == "bearer" else None)
            if refusal is not None:
                status, message = refusal
                extra = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                await _refuse(scope, receive, send, status, message, extra)
                return
            limit = limits.MAX_WRITE_BODY_BYTES
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(scope, receive, send, 413, _too_large(limit))
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            # a body streamed without a length: once past the limit, the 413 goes out at once and
            # the app is told the client left (it stops reading; its own answer is dropped)
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await _refuse(scope, receive, send, 413, _too_large(limit))
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not refused:
                raise  # the app's own error; after a refusal, only the app's reaction to it


def _too_large(limit: int) -> str:
    return f"Requête trop grosse : {limit // 1024} Ko au plus."


async def _refuse(scope, receive, send, status: int, message: str, headers: dict | None = None) -> None:
    # "Connection: close": the client may still be sending the body this answer refuses
    response = JSONResponse({"detail": message}, status_code=status, headers={**(headers or {}), "Connection": "close"})
    await response(scope, receive, send)


class TrailingSlash:
    """/episodes/ → /episodes, by a relative redirect: never to whatever Host the client sent."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/") and not path.startswith("/static/"):
            target = "/" + quote(path.strip("/"), safe="/:@!$&'()*+,;=-._~")
            if target.startswith("//"):
                target = "/"  # "//evil.example/" would be read as another host
            query = scope.get("query_string", b"").decode("latin-1")
            response = RedirectResponse(target + (f"?{query}" if query else ""), status_code=308)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ReadersInTurn:
    """Page and API reads (GET, HEAD) go to work READERS_PER_WORKER at a time, in the order they
    came; the others wait their turn at the door. Writes and the paths under `passing` (/healthz,
    the static files: no work to speak of) do not queue.

    Every request runs in a thread of this worker, and its threads share one GIL: twenty reads at
    once each get a twentieth of a core, and a search of 40 ms takes twenty times that. In turn, a
    read waits for those before it and then runs at full speed. Writes keep their own threads: an
    upload waiting for SQLite's lock would otherwise hold a reader's turn for seconds."""

    def __init__(self, app: ASGIApp, turns: int = limits.READERS_PER_WORKER, passing: tuple[str, ...] = ()):
        self.app = app
        self.turns = turns
        self.passing = passing
        self._semaphore: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in READS or scope["path"].startswith(self.passing):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # made in the server's event loop
            self._semaphore = anyio.Semaphore(self.turns)
        turn = self._semaphore
        await turn.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                turn.release()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                give_back()  # the work is done: a slow client reading the answer holds no turn
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            give_back()

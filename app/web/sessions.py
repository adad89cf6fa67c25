"""The editor's session cookie: its name and attributes, who a request is signed in as, and CSRF tokens.

Browsers keep a `__Host-` cookie only when it is Secure, has Path=/ and no Domain: then no other
site, subdomain or plain-HTTP page can set or overwrite it. Chromium and Firefox accept Secure
cookies from http://localhost and http://127.0.0.1, so the prefix is used over HTTPS and on this
machine. Served over plain HTTP to another host, a Secure cookie would never come back: the cookie
is then `plateau-session`, without Secure (the README says to put HTTPS in front in that case).
HTTPS is what the request's scheme says, and that scheme follows X-Forwarded-Proto only from
PLATEAU_TRUSTED_PROXIES (uvicorn's proxy settings, app/cli.py).
"""

import logging
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import limits
from app.db import get_engine
from app.models import Editor
from app.services import editors as editor_service

log = logging.getLogger(__name__)

SESSION_COOKIE = "plateau-session"
LOGIN_CSRF_COOKIE = "plateau-csrf"  # the login form's double-submit token, before any session exists
CSRF_FIELD = "csrf_token"  # the hidden field of every form that changes something
CSRF_HEADER = "X-CSRF-Token"  # the same token from HTMX (hx-headers on <body>)
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_TOKEN_CHARS = 100  # our tokens are 43 characters; a longer cookie is not ours

CSRF_REFUSED = (
    "Formulaire refusé : son jeton anti-CSRF est absent ou ne correspond pas (page ouverte trop longtemps, "
    "ou envoyée depuis un autre site). Rechargez la page et recommencez."
)


@dataclass(frozen=True)
class SignedIn:
    editor: Editor
    csrf_token: str


def secure_context(request: Request) -> bool:
    """Whether the browser will keep and send back a Secure cookie for this address."""
    host = (request.url.hostname or "").lower()
    return request.url.scheme == "https" or host in LOOPBACK or host.endswith(".localhost")


def cookie_name(request: Request, base: str) -> str:
    return f"__Host-{base}" if secure_context(request) else base


def set_cookie(request: Request, response: Response, base: str, value: str, max_age: int) -> None:
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=secure_context(request),
        httponly=True,
        samesite="lax",
    )


def delete_cookie(request: Request, response: Response, base: str) -> None:
    secure = secure_context(request)
    response.delete_cookie(cookie_name(request, base), path="/", secure=secure, httponly=True, samesite="lax")


def read_cookie(request: Request, base: str) -> str | None:
    value = request.cookies.get(cookie_name(request, base))
    return value if value and len(value) <= MAX_TOKEN_CHARS else None


def signed_in(request: Request) -> SignedIn | None:
    """Who this request is signed in as, looked up once per request (visitors, without the cookie,
    cost no query)."""
    state = request.scope.setdefault("state", {})
    if "plateau.signed_in" not in state:
        token = read_cookie(request, SESSION_COOKIE)
        found = None
        if token:
            try:
                with Session(get_engine()) as session:
                    found = editor_service.session_for(session, token)
            except SQLAlchemyError:  # the page (an error page, perhaps) is still served, signed out
                log.warning("the editor's session could not be read", exc_info=True)
        state["plateau.signed_in"] = SignedIn(found[0], found[1].csrf_token) if found else None
    return state["plateau.signed_in"]


def start_session(request: Request, response: Response, token: str) -> None:
    set_cookie(request, response, SESSION_COOKIE, token, limits.EDITOR_SESSION_SECONDS)


def login_csrf_token(request: Request) -> str:
    """The login form's token: the one its cookie already holds (several tabs stay valid), or a new one."""
    return read_cookie(request, LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and secrets.compare_digest(str(expected).encode(), str(given).encode())


def csrf_ok(request: Request, form_token: str | None) -> bool:
    """A signed-in editor's form or HTMX request carries their session's token."""
    current = signed_in(request)
    given = request.headers.get(CSRF_HEADER) or form_token
    return current is not None and same_token(current.csrf_token, given)

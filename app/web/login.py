"""Signing editors in and out: the /login page and its form, and /logout."""

import re
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from app import limits
from app.config import get_settings
from app.db import storage_state
from app.deps import SessionDep
from app.services import editors as editor_service
from app.web import sessions
from app.web.errors import PageRoute
from app.web.templating import render

router = APIRouter(route_class=PageRoute)

WRONG = "Nom ou mot de passe incorrect."
# where a sign-in may send the browser afterwards: a path of this site, never "//other.example"
LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")


def local_next(value: str | None) -> str:
    return value if value and len(value) <= 2000 and LOCAL_PATH.fullmatch(value) else "/"


def login_page(
    request: Request,
    *,
    next_path: str,
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = sessions.login_csrf_token(request)
    response = render(
        request,
        "login.html",
        {"nav": "login", "login_csrf": token, "next_path": next_path, "name": name, "error": error},
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    sessions.set_cookie(request, response, sessions.LOGIN_CSRF_COOKIE, token, limits.LOGIN_FORM_SECONDS)
    return response


def came_from(request: Request) -> str | None:
    """The page of this site that linked to /login (the header's "Connexion" link is the same on every
    page, so that it is one address, not one per page)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or referer.path.startswith("/login"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None):
    """The sign-in form; afterwards the browser goes to `next`, or back to the page it came from."""
    return login_page(request, next_path=local_next(next or came_from(request)))


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
):
    next_path = local_next(next)
    # double submit: the form's hidden token must equal the cookie that only this site can set
    if not sessions.same_token(sessions.read_cookie(request, sessions.LOGIN_CSRF_COOKIE), csrf_token):
        return login_page(request, next_path=next_path, name=name, error=sessions.CSRF_REFUSED, status_code=403)
    if storage_state(get_settings()).startswith("lecture seule"):
        # a sign-in writes (its attempt, its session): an archive mounted read-only takes no editors
        message = "L'archive est en lecture seule : la connexion des éditeurs est suspendue."
        return login_page(request, next_path=next_path, name=name, error=message, status_code=503)
    address = request.client.host if request.client else "inconnue"
    outcome = editor_service.sign_in(session, name, password, address)
    if outcome.retry_after:
        minutes = max(1, round(outcome.retry_after / 60))
        message = (
            f"Trop de tentatives de connexion manquées : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
        )
        return login_page(
            request,
            next_path=next_path,
            name=name,
            error=message,
            status_code=429,
            headers={"Retry-After": str(outcome.retry_after)},
        )
    if outcome.editor is None or outcome.token is None:
        return login_page(request, next_path=next_path, name=name, error=WRONG, status_code=401)
    previous = sessions.read_cookie(request, sessions.SESSION_COOKIE)
    if previous:
        editor_service.sign_out(session, previous)  # one browser, one session
    response = RedirectResponse(next_path, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    sessions.start_session(request, response, outcome.token)
    sessions.delete_cookie(request, response, sessions.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep, csrf_token: Annotated[str, Form(max_length=200)] = ""):
    token = sessions.read_cookie(request, sessions.SESSION_COOKIE)
    if sessions.signed_in(request) is not None:
        if not sessions.csrf_ok(request, csrf_token):
            raise HTTPException(403, sessions.CSRF_REFUSED)
        if token:
            editor_service.sign_out(session, token)
    response = RedirectResponse("/", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    sessions.delete_cookie(request, response, sessions.SESSION_COOKIE)
    return response

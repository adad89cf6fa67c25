"""Error pages in the site's look for page routes; /api and the other machine routes keep JSON."""

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.responses import SafeJSONResponse
from app.search import IndexDamaged
from app.web.templating import render

log = logging.getLogger(__name__)

TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non permise",
    409: "Modification impossible",
    422: "Paramètres invalides",
    500: "Erreur interne",
    503: "Recherche indisponible",
}
MACHINE_PREFIXES = ("/api/", "/openapi.json", "/healthz", "/static/")


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith(MACHINE_PREFIXES) or "/transcript." in path


def error_page(request: Request, status: int, message: str | None):
    response = render(
        request,
        "error.html",
        {
            "status": status,
            "title": TITLES.get(status, "Erreur"),
            "message": message,
        },
        block="content",
        status_code=status,
    )
    return response


async def on_http_error(request: Request, error: StarletteHTTPException):
    if wants_json(request):
        return await http_exception_handler(request, error)
    detail = error.detail if isinstance(error.detail, str) else None
    if error.status_code == 404 and (detail is None or detail == "Not Found"):
        detail = "Cette adresse ne correspond à aucune page de l'archive."
    elif error.status_code == 405 and (detail is None or detail == "Method Not Allowed"):
        detail = "Cette page ne s'utilise pas ainsi."
    response = error_page(request, error.status_code, detail)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def on_validation_error(request: Request, error: RequestValidationError):
    if wants_json(request):
        return SafeJSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)
    fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in error.errors())
    return error_page(request, 400, f"Paramètre invalide : {fields}.")


async def on_index_damaged(request: Request, error: IndexDamaged):
    """503 while the index cannot be read: the pages that need no search still work."""
    message = "La recherche est momentanément indisponible : son index est endommagé"
    message += (
        " et en cours de reconstruction."
        if error.repairing
        else " ; un administrateur doit lancer « plateau reindex »."
    )
    headers = {"Retry-After": "30"}
    if wants_json(request):
        return SafeJSONResponse({"detail": message}, status_code=503, headers=headers)
    response = error_page(request, 503, message)
    response.headers.update(headers)
    return response


async def on_unexpected_error(request: Request, error: Exception):
    log.exception("unexpected error on %s", request.url.path)
    if wants_json(request):
        return JSONResponse({"detail": "Erreur interne du serveur."}, status_code=500)
    return error_page(request, 500, "Une erreur inattendue est survenue. Réessayez dans un instant.")


def install_error_pages(app: FastAPI) -> None:
    """Call from create_app(): HTML errors for pages, JSON {"detail": ...} for /api as before."""
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]  # Starlette types handlers by Exception
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]  # Starlette types handlers by Exception
    app.add_exception_handler(IndexDamaged, on_index_damaged)  # type: ignore[arg-type]  # Starlette types handlers by Exception
    app.add_exception_handler(Exception, on_unexpected_error)


class PageRoute(APIRoute):
    """A page route answers its own errors with a page, whether or not the app installed the handlers."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def page_handler(request: Request):
            try:
                return await handler(request)
            except StarletteHTTPException as error:
                return await on_http_error(request, error)
            except RequestValidationError as error:
                return await on_validation_error(request, error)
            except IndexDamaged as error:
                return await on_index_damaged(request, error)
            except Exception as error:
                return await on_unexpected_error(request, error)

        return page_handler

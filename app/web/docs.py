"""/docs: the API's Swagger UI, served from vendored files and a static init script (no CDN, no inline script)."""

from fastapi import APIRouter, Request

from app.web.errors import PageRoute
from app.web.static import SWAGGER_UI
from app.web.templating import templates

router = APIRouter(route_class=PageRoute)


@router.get("/docs", include_in_schema=False)
def docs(request: Request):
    # fastapi.openapi.docs.get_swagger_ui_html() writes an inline <script>, which our CSP refuses.
    return templates.TemplateResponse(
        request,
        "docs.html",
        {
            "swagger": SWAGGER_UI,
        },
    )

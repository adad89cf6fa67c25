"""Absolute links (citations, share cards, canonical links, feeds) that work wherever Plateau runs.

PLATEAU_BASE_URL, when set, names the site and wins. Unset, the site is what the request reached:
its scheme, host and port as the server received them, which uvicorn rewrites from
X-Forwarded-Proto/-Host only when the request comes through a proxy of PLATEAU_TRUSTED_PROXIES.
"""

from fastapi import Request

from app.config import Settings


def site_root(request: Request, settings: Settings) -> str:
    """ "https://plateau.example": the scheme and host of every absolute link, without a trailing slash."""
    configured = (settings.base_url or "").strip().rstrip("/")
    return configured or str(request.base_url).rstrip("/")


def absolute_url(request: Request, settings: Settings, path: str) -> str:
    """ "/episodes/x?t=12" made absolute on this site."""
    return site_root(request, settings) + "/" + path.lstrip("/")

"""The one rule for writes: a bearer token equal to PLATEAU_ADMIN_TOKEN."""

import secrets

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Settings, get_settings

bearer = HTTPBearer(auto_error=False)


NO_WRITES = "Écritures désactivées : aucun PLATEAU_ADMIN_TOKEN n'est configuré sur ce serveur."
BAD_TOKEN = "Jeton d'administration absent ou invalide (en-tête Authorization: Bearer …)."


def token_refusal(settings: Settings, token: str | None) -> tuple[int, str] | None:
    """(status, message) when this bearer token may not write; None when it may."""
    if not settings.admin_token:
        return 403, NO_WRITES
    if token is None or not secrets.compare_digest(token.encode(), settings.admin_token.encode()):
        return 401, BAD_TOKEN
    return None


def require_admin(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer), settings: Settings = Depends(get_settings)
) -> None:
    refusal = token_refusal(settings, credentials.credentials if credentials else None)
    if refusal is not None:
        status, message = refusal
        raise HTTPException(status, message, headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)

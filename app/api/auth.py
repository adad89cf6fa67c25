"""The one rule for writes: a bearer token equal to PLATEAU_ADMIN_TOKEN."""

import secrets

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Settings, get_settings

bearer = HTTPBearer(auto_error=False)


def require_admin(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer), settings: Settings = Depends(get_settings)
) -> None:
    if not settings.admin_token:
        raise HTTPException(403, "Écritures désactivées : aucun PLATEAU_ADMIN_TOKEN n'est configuré sur ce serveur.")
    if credentials is None or not secrets.compare_digest(
        credentials.credentials.encode(), settings.admin_token.encode()
    ):
        raise HTTPException(
            401,
            "Jeton d'administration absent ou invalide (en-tête Authorization: Bearer …).",
            headers={"WWW-Authenticate": "Bearer"},
        )

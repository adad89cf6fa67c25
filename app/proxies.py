"""Behind a reverse proxy: the client, scheme and host it forwards, believed from PLATEAU_TRUSTED_PROXIES only.

uvicorn's ProxyHeadersMiddleware reads X-Forwarded-For and X-Forwarded-Proto; this one reads
X-Forwarded-Host too, so absolute links (app/web/links.py) name the site the visitor asked for.
The app installs it itself (create_app), so the same rules hold under any ASGI server.
"""

import re

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config import Settings

HOST = re.compile(rb"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


class ForwardedHeaders(ProxyHeadersMiddleware):
    async def __call__(self, scope, receive, send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and client[0] in self.trusted_hosts:
            forwarded = [value for name, value in scope["headers"] if name == b"x-forwarded-host"]
            # "a.example, b.internal": the first is the host the visitor asked for
            host = b",".join(forwarded).split(b",")[0].strip() if forwarded else b""
            if HOST.match(host):
                headers = [(name, value) for name, value in scope["headers"] if name != b"host"]
                scope = {**scope, "headers": [*headers, (b"host", host)]}
        await super().__call__(scope, receive, send)


def proxy_middleware(settings: Settings) -> dict | None:
    """The keyword arguments of ForwardedHeaders for these settings; None when no proxy is trusted."""
    trusted = settings.trusted_proxies.strip()
    return {"trusted_hosts": trusted} if trusted else None

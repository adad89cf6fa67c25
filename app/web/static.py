"""Static files under versioned URLs: a content hash in the URL, cached for a year; plain URLs revalidated.

Templates name a file through static_url("css/plateau.css"), which gives
/static/v/<hash of its content>/css/plateau.css: a changed file gets a new URL, so the old one may be
kept forever (Cache-Control: immutable). The hashes are read once, when the process starts. A plain
/static/css/plateau.css still works, revalidated on every use through its ETag.

A vendored file whose name carries its pinned version (htmx-2.0.11.min.js) is versioned by that
name already: upgrading it renames it. Its plain URL is its versioned URL.
"""

import hashlib
import os
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.resources import STATIC

MOUNT = "/static"
VERSIONED = "v"  # /static/v/<hash>/<path>
HASH_CHARS = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # keep it, but ask (If-None-Match) before each use
# the vendored files, pinned (the names the templates ask for)
HTMX_VERSION = "2.0.11"
HTMX = f"htmx-{HTMX_VERSION}.min.js"
SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI = f"vendor/swagger-ui-{SWAGGER_UI_VERSION}"


class StaticVersions:
    """The content hash of every file under a folder, read once."""

    def __init__(self, directory: Path, named_versions: frozenset[str] = frozenset()):
        self.directory = Path(directory)
        self.named_versions = named_versions  # paths whose name changes with their content
        self.hashes: dict[str, str] = {}
        for path in sorted(self.directory.rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_CHARS]
                self.hashes[path.relative_to(self.directory).as_posix()] = digest

    def url(self, path: str) -> str:
        """The URL of a static file that changes when its content does."""
        path = path.lstrip("/")
        digest = self.hashes.get(path)
        if digest is None:  # a template names a file that is not there: say so, not a silent 404
            raise LookupError(f"no static file {path!r} under {self.directory}")
        if path in self.named_versions:
            return f"{MOUNT}/{path}"
        return f"{MOUNT}/{VERSIONED}/{digest}/{path}"

    def is_current(self, path: str, digest: str) -> bool:
        return self.hashes.get(path) == digest


class VersionedStaticFiles(StaticFiles):
    """Serves /static/v/<hash>/<path> and /static/<path> from the same folder, with their caching."""

    def __init__(self, versions: StaticVersions):
        super().__init__(directory=versions.directory)
        self.versions = versions

    async def get_response(self, path: str, scope: Scope) -> Response:
        parts = Path(path).parts  # get_path() has normalised it already: no "..", no "."
        if len(parts) > 2 and parts[0] == VERSIONED:
            digest, path = parts[1], os.path.join(*parts[2:])
            # an old or made-up hash still gets today's file, but not for keeps
            immutable = self.versions.is_current(Path(path).as_posix(), digest)
        else:
            immutable = Path(path).as_posix() in self.versions.named_versions
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
        etag = response.headers.get("etag")
        if etag and not etag.startswith("W/"):
            # the compression may change the bytes sent, not what they mean: a weak validator
            response.headers["etag"] = f"W/{etag}"
        return response


versions = StaticVersions(STATIC, named_versions=frozenset({HTMX}))
static_url = versions.url

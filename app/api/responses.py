"""JSON that can always be written out, even when it echoes text a client sent."""

import json
from typing import Any

from fastapi.responses import JSONResponse


class SafeJSONResponse(JSONResponse):
    """A lone surrogate sent by a client (valid JSON, not valid UTF-8) comes back as "?", not a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8", "replace"
        )

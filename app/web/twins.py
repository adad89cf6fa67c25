"""The JSON twin of each page: the /api URL serving the same data, which render() advertises.

A page sends `Link: <twin>; rel="alternate"; type="application/json"` and has the same URL in a
`<link>` of its head (as Datasette does), so a script that has a page's address finds its data.
"""

from urllib.parse import quote, urlencode

from fastapi import Request

# page route -> (its /api route, the query parameters both understand)
TWINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "/": ("/api/episodes", ()),  # the home page leads with the latest episodes
    "/search": ("/api/search", ("q", "show", "guest", "from", "to", "sort", "page", "as_typed")),
    "/episodes": ("/api/episodes", ("show", "guest", "year", "page")),
    "/episodes/{slug}": ("/api/episodes/{slug}", ()),
    "/episodes/{slug}/history": ("/api/episodes/{slug}/history", ()),
    "/guests": ("/api/guests?hosts=true", ()),  # the page lists the hosts too
    "/guests/{slug}": ("/api/guests/{slug}", ()),
    "/shows": ("/api/shows", ()),
    "/shows/{slug}": ("/api/shows/{slug}", ("page",)),
}


def json_twin(request: Request) -> str | None:
    """The twin of the page this request asked for, with the same filters and page; None if it has none."""
    twin = TWINS.get(getattr(request.scope.get("route"), "path", ""))
    if twin is None:
        return None
    path, shared = twin
    path = path.format(**{name: quote(str(value), safe="") for name, value in request.path_params.items()})
    # an empty field of a submitted form means "no filter", as in the page's own links
    query = urlencode(
        [(name, value) for name, value in request.query_params.multi_items() if name in shared and value.strip()]
    )
    return f"{path}?{query}" if query else path


def link_header(url: str) -> str:
    return f'<{url}>; rel="alternate"; type="application/json"'

"""Crawl a served archive as a visitor would, checking that every answer is well-formed for its type.

Follows every same-origin link (`href`, `src`), submits every GET form as it stands, once per
option of its drop-downs and once per typed value of its fields (the search box gets the searches),
fetches the HTMX fragment of every form that swaps one, reads feeds and JSON for the links they
carry, and requests the JSON twin that every list and detail page advertises in its Link header,
following `/api` pages to the last. Every page of an unfiltered list (and of a typed search) is
visited; filtered or timed variants are capped, so the crawl stays bounded whatever the number of
combinations.
"""

import json
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

import html5lib
import httpx

from app.ingest.formats import parse_transcript
from app.ingest.transcript import TranscriptError

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"
# /episodes/<slug>, /guests/<slug>, /shows/<slug>, and their /api twins: one shape each
ENTITY = re.compile(r"^(/(?:api/)?(?:episodes|guests|shows))/[^/]+(/.*)?$")
JSON_LIST_PAGE_SIZES = {"/api/episodes": 20, "/api/guests": 100, "/api/shows/*": 20}
TWINS = ("/episodes", "/guests", "/shows", "/search", "/episodes/*", "/guests/*", "/shows/*")
# How many URLs of one shape (path shape and the names of its non-empty parameters) to visit:
# every episode, guest and show page and every filter link; a few of each combination of
# drop-down choices and typed values; and a few of the 12,000 "?t=" links.
SHAPE_LIMIT = 100
FORM_CHOICE_LIMIT = 8
TIMED_SHAPE_LIMIT = 15
FILTERED_PAGES = 3  # pages past the first of a filtered or sorted list; unfiltered lists: all


@dataclass
class Visit:
    url: str
    status: int
    kind: str  # html, atom, json, vtt, srt, txt, css, js, svg
    referrer: str | None
    seconds: float


@dataclass
class Crawl:
    client: httpx.Client
    also_same_site: tuple[str, ...] = ()  # other origins that name this site (the configured base URL)
    typed: dict[str, list[str]] = field(default_factory=dict)  # what a visitor types in a field, by its name
    visits: dict[str, Visit] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    queue: deque = field(default_factory=deque)
    seen: set = field(default_factory=set)
    shapes: Counter = field(default_factory=Counter)
    pages: Counter = field(default_factory=Counter)
    fragments: int = 0
    hrefs: set = field(default_factory=set)
    anchors: set = field(default_factory=set)  # (link, #anchor, page it is on)
    ids: dict = field(default_factory=dict)  # the id="" of each HTML page visited
    current: tuple[str, str | None] = ("", None)
    _visited: set = field(default_factory=set)

    def __post_init__(self):
        self.origins = {origin(str(self.client.base_url))} | {origin(o) for o in self.also_same_site}

    # --- what to visit -------------------------------------------------------------------------
    def add(
        self,
        href: str,
        referrer: str | None = None,
        *,
        force: bool = False,
        limit: int = SHAPE_LIMIT,
        fragment_of: str | None = None,
    ) -> bool:
        """Queue a link found on `referrer` (a path with its query), if it is this site's and new.

        `fragment_of` (an element name) also asks for the HTMX fragment swapped into that element.
        """
        if not href or href.startswith("#") or re.match(r"(mailto|tel|data|javascript):", href, re.I):
            return False
        if "#" in href and href.split("#", 1)[1]:  # the page it opens must hold that anchor
            target, anchor = href.split("#", 1)
            self.anchors.add((target or referrer or "/", unquote(anchor), referrer))
        if href.startswith("/") and not href.startswith("//") and fragment_of is None:
            if href in self.hrefs:  # the same link on many pages: decided once
                return False
            self.hrefs.add(href)
        absolute = urljoin(str(self.client.base_url) + (referrer or "/"), href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or origin(absolute) not in self.origins:
            return False
        query = parse_qsl(parts.query, keep_blank_values=True)
        key = canonical(parts.path, query)
        if key in self.seen:
            return False
        if not force and not self.within_limits(parts.path, query, limit):
            return False
        self.seen.add(key)
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        self.queue.append((url, referrer, None))
        if fragment_of:
            self.queue.append((url, referrer, fragment_of))
        return True

    def within_limits(self, path: str, query: list[tuple[str, str]], limit: int) -> bool:
        names = sorted({name for name, value in query if value != "" and name != "page"})
        shape = (shape_of(path), tuple(names))
        paged = any(name == "page" and value not in ("", "1") for name, value in query)
        if paged:
            # every page of a plain list or of a typed search (either order); a few pages of each filtered one
            if set(names) <= {"q", "sort"}:
                return True
            combination = (path, tuple(sorted((n, v) for n, v in query if n != "page" and v != "")))
            if self.pages[combination] >= FILTERED_PAGES:
                return False
            self.pages[combination] += 1
            return True
        if not names:
            return True  # every episode, guest and show page, every export and static file
        if "t" in names or shape[0] == "/episodes/*":
            limit = min(limit, TIMED_SHAPE_LIMIT)
        if self.shapes[shape] >= limit:
            return False
        self.shapes[shape] += 1
        return True

    # --- visiting ------------------------------------------------------------------------------
    def run(self, max_visits: int = 20_000) -> None:
        while self.queue:
            assert len(self.visits) < max_visits, f"the crawl did not end after {max_visits} visits"
            url, referrer, fragment_of = self.queue.popleft()
            if fragment_of:
                self.visit_fragment(url, referrer, fragment_of)
            else:
                self.visit(url, referrer)
        self.check_anchors()

    def check_anchors(self) -> None:
        for link, anchor, referrer in sorted(self.anchors, key=str):
            parts = urlsplit(urljoin(str(self.client.base_url) + (referrer or "/"), link))
            if origin(parts.geturl()) not in self.origins:
                continue
            ids = self.ids.get(canonical(parts.path, parse_qsl(parts.query, keep_blank_values=True)))
            if ids is not None and anchor not in ids:
                self.problem(link, referrer, f"links to #{anchor}, which that page does not hold")

    def visit(self, url: str, referrer: str | None) -> None:
        started = time.perf_counter()
        try:
            response = self.client.get(url)
        except httpx.HTTPError as error:
            self.problem(url, referrer, f"no answer: {error!r}")
            return
        seconds = time.perf_counter() - started
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        kind = kind_of(url, media_type)
        self.visits[url] = Visit(url, response.status_code, kind, referrer, seconds)
        self.current = url, referrer
        if response.status_code >= 500:
            self.problem(url, referrer, f"{response.status_code} {gist(response)}")
        elif response.status_code != 200:
            self.problem(url, referrer, f"{response.status_code}: a link of the site leads to an error")
        check = getattr(self, f"check_{kind}", None)
        if check is None:
            self.problem(url, referrer, f"unexpected content type {media_type!r}")
            return
        try:
            check(url, response)
        except AssertionError as error:
            self.problem(url, referrer, str(error))

    def visit_fragment(self, url: str, referrer: str | None, container: str) -> None:
        """What HTMX fetches when the form is used: well-formed inside the element it is swapped into."""
        response = self.client.get(url, headers={"HX-Request": "true"})
        self.fragments += 1
        where = f"{url} [HTMX fragment]"
        if response.status_code >= 500:
            self.problem(where, referrer, f"{response.status_code} {gist(response)}")
        elif response.status_code not in (200, 400):  # a 400 carries its message and is swapped in
            self.problem(where, referrer, f"{response.status_code}: the fragment of a form is an error")
        parser = html5lib.HTMLParser(strict=True)
        try:
            parser.parseFragment(response.text, container=container)
        except html5lib.html5parser.ParseError as error:
            self.problem(where, referrer, malformed(parser, response.text, error))

    def problem(self, url: str, referrer: str | None, message: str) -> None:
        self.problems.append(f"{url} (linked from {referrer or 'the start'}): {message}")

    # --- one check per kind of answer, each with a real parser ----------------------------------
    def check_html(self, url: str, response: httpx.Response) -> None:
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
        try:
            document = parser.parse(response.text)
        except html5lib.html5parser.ParseError as error:
            self.problem(url, self.current[1], malformed(parser, response.text, error))
            document = html5lib.parse(response.text)  # lenient, to go on crawling from it
        ids = Counter(element.get("id") for element in document.iter() if element.get("id") is not None)
        duplicates = sorted(i for i, n in ids.items() if n > 1)
        if duplicates:
            self.problem(url, self.current[1], f"the same id on several elements: {duplicates[:5]}")
        self.ids[canonical(urlsplit(url).path, parse_qsl(urlsplit(url).query, keep_blank_values=True))] = set(ids)
        for element in document.iter():
            for attribute in ("href", "src"):
                if element.get(attribute) is not None and element.tag != f"{XHTML}form":
                    self.add(element.get(attribute), url)
        for form in document.iter(f"{XHTML}form"):
            self.submit(form, url, document)
        self.add_twin(url, response)

    def check_atom(self, url: str, response: httpx.Response) -> None:
        try:
            feed = ET.fromstring(response.content)
        except ET.ParseError as error:
            raise AssertionError(f"malformed Atom: {error}") from None
        assert feed.tag == f"{ATOM}feed", f"the root of an Atom feed is {feed.tag}"
        for child in ("id", "title", "updated"):
            assert feed.find(f"{ATOM}{child}") is not None, f"the feed has no <{child}>"
        for entry in feed.iter(f"{ATOM}entry"):
            for child in ("id", "title", "updated"):
                assert entry.find(f"{ATOM}{child}") is not None, f"an entry has no <{child}>"
        for link in feed.iter(f"{ATOM}link"):
            self.add(link.get("href"), url)

    def check_json(self, url: str, response: httpx.Response) -> None:
        try:
            data = json.loads(response.content)
        except ValueError as error:
            raise AssertionError(f"malformed JSON: {error}") from None
        if "/transcript." in url:
            self.check_transcript(url, response, "json")
        for value in strings_named(data, "url"):
            self.add(value, url)
        self.follow_json_pages(url, data)

    def check_vtt(self, url: str, response: httpx.Response) -> None:
        self.check_transcript(url, response, "vtt")

    def check_srt(self, url: str, response: httpx.Response) -> None:
        self.check_transcript(url, response, "srt")

    def check_txt(self, url: str, response: httpx.Response) -> None:
        assert response.text.strip(), "the text export is empty"

    def check_transcript(self, url: str, response: httpx.Response, extension: str) -> None:
        """An export reads back with the parsers the ingest uses (webvtt-py, srt, Plateau's JSON)."""
        try:
            transcript = parse_transcript(f"export.{extension}", response.content)
        except TranscriptError as error:
            raise AssertionError(f"the {extension} export does not parse: {error}") from None
        assert transcript.captions, f"the {extension} export has no caption"

    def check_css(self, url: str, response: httpx.Response) -> None:
        assert response.text.strip(), "empty stylesheet"
        assert response.text.count("{") == response.text.count("}"), "unbalanced braces in the stylesheet"

    def check_js(self, url: str, response: httpx.Response) -> None:
        assert response.text.strip(), "empty script"

    def check_svg(self, url: str, response: httpx.Response) -> None:
        try:
            assert ET.fromstring(response.content).tag == f"{SVG}svg", "an SVG file's root is <svg>"
        except ET.ParseError as error:
            raise AssertionError(f"malformed SVG: {error}") from None

    # --- links that are not anchors -------------------------------------------------------------
    def submit(self, form, url: str, document) -> None:
        """A GET form sent as it stands, then with each option of each drop-down, and each typed value, in turn."""
        if (form.get("method") or "get").lower() != "get":
            return
        action = form.get("action") or url
        fields: list[tuple[str, str]] = []
        choices: list[tuple[int, list[str]]] = []
        for element in form.iter():
            name = element.get("name")
            if not name or element.get("disabled") is not None:
                continue
            if element.tag == f"{XHTML}input" and element.get("type") not in ("submit", "button", "checkbox", "radio"):
                fields.append((name, element.get("value") or ""))
            elif element.tag == f"{XHTML}select":
                options = [o.get("value", o.text or "") for o in element.iter(f"{XHTML}option")]
                chosen = [
                    o.get("value", o.text or "")
                    for o in element.iter(f"{XHTML}option")
                    if o.get("selected") is not None
                ] or options[:1]
                fields.append((name, chosen[0] if chosen else ""))
                choices.append((len(fields) - 1, options))
        # htmx sends the form itself and swaps the answer into its target
        target = form.get("hx-target", "")
        swapped = (
            next(
                (
                    e.tag.removeprefix(XHTML)
                    for e in document.iter()
                    if target.startswith("#") and e.get("id") == target[1:]
                ),
                None,
            )
            if form.get("hx-get")
            else None
        )
        self.add(with_query(action, fields), url, fragment_of=swapped)
        variants = [(position, option) for position, options in choices for option in options]
        variants += [
            (position, value) for position, (name, _) in enumerate(fields) for value in self.typed.get(name, ())
        ]
        for position, value in variants:
            changed = list(fields)
            changed[position] = (changed[position][0], value)
            self.add(with_query(action, changed), url, limit=FORM_CHOICE_LIMIT, fragment_of=swapped)

    def add_twin(self, url: str, response: httpx.Response) -> None:
        """The JSON twin a list or detail page advertises: /episodes?page=3 -> /api/episodes?page=3."""
        link = response.headers.get("link", "")
        twin = re.fullmatch(r'<([^>]+)>; rel="alternate"; type="application/json"', link)
        if twin:
            self.add(twin[1], url)
        elif shape_of(urlsplit(url).path) in TWINS and response.status_code == 200:
            self.problem(url, self.current[1], f"no JSON twin in its Link header ({link!r})")

    def follow_json_pages(self, url: str, data) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("page"), int):
            return
        parts = urlsplit(url)
        query = [(n, v) for n, v in parse_qsl(parts.query, keep_blank_values=True) if n != "page"]
        page = data["page"]
        if isinstance(data.get("pages"), int):
            last = data["pages"]
        elif isinstance(data.get("total"), int) and shape_of(parts.path) in JSON_LIST_PAGE_SIZES:
            per_page = int(dict(query).get("per_page") or JSON_LIST_PAGE_SIZES[shape_of(parts.path)])
            last = max(1, -(-data["total"] // per_page))
        else:
            return
        for number in (page + 1, last):
            if page < number <= last:
                self.add(with_query(parts.path, [*query, ("page", str(number))]), url)

    # --- what the crawl saw ---------------------------------------------------------------------
    def visited(self, path: str, **params: str) -> bool:
        """Whether the crawl has the answer of this page (parameters in any order)."""
        if len(self._visited) != len(self.visits):
            self._visited = {
                canonical(urlsplit(u).path, parse_qsl(urlsplit(u).query, keep_blank_values=True)) for u in self.visits
            }
        return canonical(path, list(params.items())) in self._visited

    def report(self) -> str:
        kinds = Counter(v.kind for v in self.visits.values())
        slowest = sorted(self.visits.values(), key=lambda v: v.seconds)[-3:]
        return (
            f"{len(self.visits)} answers ({', '.join(f'{n} {k}' for k, n in kinds.most_common())}), "
            f"{self.fragments} HTMX fragments; "
            f"slowest: {', '.join(f'{v.url} {v.seconds * 1000:.0f} ms' for v in reversed(slowest))}"
        )


def gist(response: httpx.Response) -> str:
    """What an error answer says: its JSON detail, or the message of the HTML error page."""
    try:
        return repr(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        lead = re.search(r'<p class="lead">(.*?)</p>', response.text, re.S)
        return repr(lead.group(1).strip() if lead else response.text[:300])


def malformed(parser, text: str, error: Exception) -> str:
    """Where html5lib stopped, and the source line it stopped on."""
    (line, column), code, _ = parser.errors[-1]
    lines = text.splitlines()
    source = lines[line - 1].strip()[:200] if 0 < line <= len(lines) else ""
    return f"malformed HTML at line {line}, column {column}: {error} ({code}); line: {source!r}"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def shape_of(path: str) -> str:
    match = ENTITY.match(path)
    return f"{match.group(1)}/*{match.group(2) or ''}" if match else path


def canonical(path: str, query: list[tuple[str, str]]) -> str:
    """One key per page: parameters in any order, empty ones and page=1 dropped (the page is the same)."""
    kept = sorted((n, v) for n, v in query if v != "" and not (n == "page" and v == "1"))
    return path + ("?" + urlencode(kept) if kept else "")


def with_query(action: str, fields: list[tuple[str, str]]) -> str:
    base = action.split("#")[0].split("?")[0]
    return base + ("?" + urlencode(fields) if fields else "")


def kind_of(url: str, media_type: str) -> str:
    path = urlsplit(url).path
    for extension in ("vtt", "srt", "txt"):
        if path.endswith(f"/transcript.{extension}"):
            return extension
    return {
        "text/html": "html",
        "application/atom+xml": "atom",
        "application/json": "json",
        "text/css": "css",
        "text/javascript": "js",
        "application/javascript": "js",
        "image/svg+xml": "svg",
    }.get(media_type, media_type or "none")


def strings_named(data, key: str):
    """Every string value under `key`, at any depth of a JSON document."""
    if isinstance(data, dict):
        for name, value in data.items():
            if name == key and isinstance(value, str):
                yield value
            else:
                yield from strings_named(value, key)
    elif isinstance(data, list):
        for value in data:
            yield from strings_named(value, key)

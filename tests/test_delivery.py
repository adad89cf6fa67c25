"""How answers travel, over real HTTP: gzipped when asked, static files cached under versioned names,
the server's own time in a header, the security headers on all of it."""

import gzip
import hashlib
import json
import re
import xml.etree.ElementTree as ET

import html5lib
import pytest
from conftest import ROOT

from app.web.static import StaticVersions

STATIC = ROOT / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def get_raw(client, url: str, **headers) -> tuple[dict, bytes]:
    """The response's headers and its bytes as sent, not decoded by the client."""
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, (url, response.status_code)
        return response.headers, b"".join(response.iter_raw())


def gunzipped(client, url: str, **headers) -> bytes:
    sent, body = get_raw(client, url, **{"Accept-Encoding": "gzip", **headers})
    assert sent["content-encoding"] == "gzip", url
    assert "Accept-Encoding" in sent["vary"], url
    assert sent["content-security-policy"].startswith("default-src 'self'")
    plain = gzip.decompress(body)
    assert len(body) < len(plain)
    return plain


def test_a_page_is_gzipped_when_asked_and_still_parses(client, seeded):
    url = f"/episodes/{seeded['000']}?t=754&q=cloud"
    html = gunzipped(client, url).decode("utf-8")
    document = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    transcript = document.find(".//div[@class='transcript transcript-reading']")  # the reading view
    assert len(transcript.findall(".//span[@data-start]")) > 100
    assert transcript.find(".//span[@class='line is-marked']") is not None  # the line at 754 s
    assert transcript.find(".//mark") is not None  # a searched word
    lines = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(
        gunzipped(client, url + "&vue=lignes").decode("utf-8")
    )
    assert lines.find(".//ol[@class='transcript transcript-lines']").find("li[@class='line is-marked']") is not None
    sent, _ = get_raw(client, url, **{"Accept-Encoding": "gzip"})
    assert {v.strip() for v in sent["vary"].split(",")} >= {"HX-Request", "Accept-Encoding"}


def test_an_htmx_fragment_is_gzipped_and_keeps_its_vary(client, seeded):
    sent, _ = get_raw(client, "/search?q=cloud", **{"Accept-Encoding": "gzip", "HX-Request": "true"})
    assert {v.strip() for v in sent["vary"].split(",")} >= {"HX-Request", "Accept-Encoding"}
    fragment = gunzipped(client, "/search?q=cloud", **{"HX-Request": "true"}).decode("utf-8")
    assert "<html" not in fragment and "<mark>" in fragment
    html5lib.HTMLParser(strict=True).parseFragment(fragment)


def test_json_feeds_and_exports_are_gzipped_when_asked(client, seeded):
    slug = seeded["000"]
    hits = json.loads(gunzipped(client, "/api/search?q=cloud"))
    assert hits["total"] > 0 and hits["hits"][0]["url"].startswith("/episodes/")
    episode = json.loads(gunzipped(client, f"/api/episodes/{slug}"))
    assert episode["slug"] == slug and episode["segments"]
    feed = ET.fromstring(gunzipped(client, "/feed.atom"))
    assert feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert gunzipped(client, f"/episodes/{slug}/transcript.vtt").decode("utf-8").startswith("WEBVTT")


def test_nothing_is_compressed_unless_asked_or_worth_it(client, seeded):
    sent, body = get_raw(client, f"/episodes/{seeded['000']}", **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in sent and body.startswith(b"<!doctype html>")
    assert "Accept-Encoding" in sent["vary"]  # a cache must not hand this copy to a gzip client, nor the reverse
    small, body = get_raw(client, "/healthz", **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small and json.loads(body)["status"] == "ok"


def static_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


@pytest.mark.parametrize("page", ["/", "/docs"])
def test_static_files_of_a_page_have_versioned_urls_cached_for_a_year(client, page):
    assets = static_assets(client.get(page).text)
    assert len(assets) >= 3
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == IMMUTABLE, url
        suffix = "." + url.rsplit(".", 1)[-1]
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        versioned = re.fullmatch(r"/static/v/([0-9a-f]{12})/(.+)", url)
        if versioned:  # the URL carries the hash of what it serves
            digest, path = versioned.groups()
            assert hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12] == digest
            assert response.content == (STATIC / path).read_bytes()
        else:  # only a vendored file named with its pinned version goes without
            assert re.fullmatch(r"/static/htmx-\d+\.\d+\.\d+\.min\.js", url), url


def test_the_stylesheet_is_gzipped_when_asked(client):
    url = next(u for u in static_assets(client.get("/").text) if u.endswith("plateau.css"))
    assert gunzipped(client, url) == (STATIC / "css" / "plateau.css").read_bytes()


def test_plain_and_outdated_static_urls_still_work_but_are_revalidated(client):
    plain = client.get("/static/css/plateau.css")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert client.get("/static/css/plateau.css", headers={"If-None-Match": plain.headers["etag"]}).status_code == 304
    outdated = client.get("/static/v/000000000000/css/plateau.css")
    assert outdated.status_code == 200 and outdated.headers["cache-control"] == "no-cache"
    assert outdated.content == plain.content
    assert client.get("/static/v/000000000000/css/nowhere.css").status_code == 404


def test_a_changed_static_file_gets_a_new_url(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "site.css"
    sheet.write_text("body { color: black; }")
    before = StaticVersions(tmp_path).url("css/site.css")
    assert StaticVersions(tmp_path).url("css/site.css") == before  # the same content, the same URL
    sheet.write_text("body { color: navy; }")
    after = StaticVersions(tmp_path).url("css/site.css")
    assert after != before and after.startswith("/static/v/") and after.endswith("/css/site.css")
    with pytest.raises(LookupError):
        StaticVersions(tmp_path).url("css/missing.css")


def test_every_answer_says_how_long_the_server_took(client, seeded):
    for url in (
        "/",
        f"/episodes/{seeded['000']}?q=cloud",
        "/api/search?q=cloud",
        "/static/css/plateau.css",
        "/nulle-part",
    ):
        timing = client.get(url).headers["server-timing"]
        assert re.fullmatch(r"app;dur=\d+\.\d", timing), (url, timing)

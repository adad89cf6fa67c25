"""The HTML pages over real HTTP: French content, HTMX fragments, links to the second, errors, escaping."""

import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from html import unescape
from pathlib import Path

import httpx
import pytest
from conftest import ON_BOTH_BACKENDS, ROOT, TODAY, LiveServer, ingest_seeds
from sqlmodel import Session

from app.config import get_settings
from app.db import get_engine
from app.main import prepare_data
from app.search import get_search_index

EPISODE = "2025-10-23-smart-tech"  # seed 000: SMART TECH, jeudi 23 octobre 2025
VIDEO_URL = "https://www.youtube.com/watch?v=plateau42"

HOSTILE = """Jeudi 4 décembre 2025, retrouvez Ada Lovelace (Pirate <b>éthique</b>) dans SMART TECH, \
une émission présentée par Delphine Sabattier. <script>alert("description")</script>
Catégorie
🗞
NewsTranscription
00:00Bonjour <script>alert(1)</script> à tous sur le plateau,
00:04vous regardez "><img src=x onerror=alert(1)> en direct,
00:09et voici la fin & le <b>gras</b> qui n'en est pas.
00:15Merci Ada Lovelace.
Commentaires
""".encode()

VIDEO_VTT = """WEBVTT

00:00:00.000 --> 00:00:05.000
Bienvenue dans cette émission de test sur la vidéo.

00:00:05.000 --> 00:00:12.000
On parle de satellites et de constellations en orbite basse.

00:00:12.000 --> 00:00:20.000
Les satellites de basse orbite changent la connectivité.
""".encode()


@contextmanager
def published_archive(folder: Path):
    """The five seeds, a hostile transcript and an episode with a video, served over HTTP.

    Read-only pages share one archive per module: building it takes seconds, reading it none.
    """
    from app.services.ingest import ingest_bytes

    patch = pytest.MonkeyPatch()
    patch.setenv("PLATEAU_DATA_DIR", str(folder / "data"))
    patch.delenv("PLATEAU_DATABASE_URL", raising=False)
    patch.delenv("PLATEAU_ADMIN_TOKEN", raising=False)
    patch.setenv("PLATEAU_BASE_URL", "https://plateau.example")
    get_settings.cache_clear()
    settings = get_settings()
    try:
        prepare_data(settings)
        index = get_search_index(settings)
        with Session(get_engine(settings)) as session:
            outcomes = ingest_seeds(session, index)
            assert [o.status for o in outcomes] == ["added"] * 5
            slugs = {Path(o.source).name[:3]: o.slug for o in outcomes}
            slugs["hostile"] = ingest_bytes(session, "hostile.txt", HOSTILE, index=index, today=TODAY).slug
            video = ingest_bytes(
                session, "video.vtt", VIDEO_VTT, index=index, media_url=VIDEO_URL, show="Test Vidéo", today=TODAY
            )
            assert video.status == "added", video.reason
            slugs["video"] = video.slug
        with LiveServer() as live:
            yield live, slugs
    finally:
        get_engine(settings).dispose()
        patch.undo()
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with (
        published_archive(tmp_path_factory.mktemp("pages")) as (live, slugs),
        httpx.Client(base_url=live.url, timeout=30) as http,
    ):
        http.slugs = slugs
        yield http


def marked_ids(html: str) -> list[str]:
    """The anchors (or "" for a line without one) of the lines the server marked, in either view: the
    reading view's <span class="line"> or the lines view's <li class="line">."""
    return [
        m.group(1) or ""
        for m in re.finditer(r'<(?:li|span)(?: id="(t-\d+)")? class="line is-marked" aria-current="true"', html)
    ]


def meta(html: str, prop: str) -> str:
    m = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)"', html)
    assert m, f"no {prop}"
    return unescape(m.group(1))


def assert_page(response: httpx.Response, *texts: str) -> str:
    assert response.status_code == 200, (response.url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for text in texts:
        assert text in html, (response.url, text)
    return html


# --- frame ------------------------------------------------------------------------------------


PAGES = [
    "/",
    "/search",
    "/search?q=cloud",
    "/episodes",
    f"/episodes/{EPISODE}",
    f"/episodes/{EPISODE}?t=754",
    f"/episodes/{EPISODE}/history",
    "/guests",
    "/guests/julien-pillot",
    "/shows",
    "/shows/smart-tech",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_french_accessible_and_csp_clean(site, path):
    html = assert_page(site.get(path))
    assert '<html lang="fr">' in html
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    assert 'class="skip-link" href="#contenu"' in html and 'id="contenu"' in html
    # a strict CSP (default-src 'self') refuses inline scripts and style attributes: the pages have none
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=", html) and "<style" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.replace("https://plateau.example", ""))
    assert re.search(r'<script src="/static/htmx-2\.0\.\d+\.min\.js" defer></script>', html)
    # every form control has a label (every page has at least the search box)
    controls = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html)
    assert controls
    for control in controls:
        assert f'for="{control}"' in html, control


def test_vendored_htmx_and_stylesheet_are_served(site):
    html = site.get("/").text
    htmx = re.search(r'src="(/static/htmx-[\d.]+\.min\.js)"', html).group(1)
    response = site.get(htmx)
    assert response.status_code == 200 and "htmx" in response.text[:2000]
    assert site.get("/static/css/plateau.css").status_code == 200
    assert site.get("/static/js/plateau.js").status_code == 200


def test_home_has_search_box_latest_episodes_shows_and_counts(site):
    html = assert_page(
        site.get("/"),
        'action="/search"',
        'name="q"',
        "Derniers épisodes",
        "Émissions",
        "SMART TECH",
        "Tech &amp; Co, la quotidienne",
        "jeudi 23 octobre 2025",
    )
    assert re.search(r"<strong>7</strong> épisodes", html)
    assert re.search(r"<strong>\d+</strong> invités", html)
    assert f'href="/episodes/{EPISODE}"' in html


# --- search -------------------------------------------------------------------------------------


def test_search_groups_hits_by_episode_with_snippets_timestamps_and_links(site):
    html = assert_page(site.get("/search", params={"q": "souveraineté numérique"}), "passages</strong> dans")
    assert "<mark>" in html
    groups = re.findall(r'<li class="card result">', html)
    assert len(groups) >= 2
    links = re.findall(r'href="/episodes/([\w-]+)\?t=(\d+)&amp;l=(\d+)&amp;q=([^"#]+)#l-(\d+)"', html)
    assert links and all(line == anchor for _, _, line, _, anchor in links)
    assert f"/episodes/{EPISODE}" in html and "13:08" in html
    assert 'value="souveraineté numérique"' in html
    assert 'hx-push-url="true"' in html and 'hx-trigger="input changed delay:300ms, search, submit"' in html


def test_search_fragment_for_htmx_and_whole_page_otherwise(site):
    full = site.get("/search", params={"q": "cloud"})
    fragment = site.get("/search", params={"q": "cloud"}, headers={"HX-Request": "true"})
    restore = site.get(
        "/search", params={"q": "cloud"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    for response in (full, fragment, restore):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["vary"]
    assert "<html" in full.text and "<html" in restore.text
    assert "<html" not in fragment.text and "<header" not in fragment.text
    assert "passage" in fragment.text and "<mark>" in fragment.text
    assert 'id="results"' not in fragment.text  # the block is the region's inside: hx-swap="innerHTML"


def test_empty_query_page_helps(site):
    html = assert_page(site.get("/search"), "Que cherchez-vous", "expression exacte", 'href="/search?q=')
    assert "passage" in html


def test_no_hit_shows_the_correction_then_offers_the_query_as_typed(site):
    html = assert_page(
        site.get("/search", params={"q": "souvraineté"}), "Résultats pour « <strong>souveraineté</strong> »"
    )
    as_typed = re.search(r'Chercher plutôt « <a href="(/search\?[^"]+)">([^<]+)</a> »', html)
    assert as_typed and as_typed.group(2) == "souvraineté" and "as_typed=1" in as_typed.group(1)
    html = assert_page(site.get(unescape(as_typed.group(1))), "Aucun passage", "Vouliez-vous dire")
    suggestion = re.search(r'Vouliez-vous dire <a href="/search\?q=([^"]+)">([^<]+)</a>', html)
    assert suggestion and suggestion.group(2) == "souveraineté"


def test_search_filters_are_form_controls_and_narrow_the_hits(site):
    everywhere = site.get("/search", params={"q": "souveraineté"}).text
    one_show = assert_page(site.get("/search", params={"q": "souveraineté", "show": "smart-tech"}))
    assert '<option value="smart-tech" selected>' in one_show
    assert "Tech &amp; Co, la quotidienne</a>" not in re.sub(r"<select.*?</select>", "", one_show, flags=re.S)
    assert len(re.findall(r'class="card result"', one_show)) <= len(re.findall(r'class="card result"', everywhere))
    dated = assert_page(site.get("/search", params={"q": "souveraineté", "from": "2025-11-01", "to": "2025-12-31"}))
    assert "jeudi 23 octobre 2025" not in re.sub(r"<select.*?</select>", "", dated, flags=re.S)
    for name in ('name="show"', 'name="guest"', 'name="from"', 'name="to"', 'name="sort"'):
        assert name in dated
    by_date = assert_page(site.get("/search", params={"q": "souveraineté", "sort": "date"}))
    assert '<option value="date" selected>' in by_date


@pytest.mark.parametrize(
    "params",
    [
        {"q": "cloud", "from": "hier"},
        {"q": "cloud", "to": "2025-13-45"},
        {"q": "cloud", "page": "abc"},
        {"q": "cloud", "page": "0"},
        {"q": "cloud", "page": "99999999999"},
        {"q": "cloud", "sort": "n'importe"},
        {"q": '"phrase pas fermée'},
        {"q": "(((("},
        {"q": "*"},
        {"q": "~~~"},
        {"q": "OR OR NOT"},
        {"q": "-"},
        {"q": "a" * 3000},
        {"q": "cloud\x00nul"},
        "q=%ED%A0%80%FF",
        "q=%25%C3&from=%00",
        {"q": "<script>alert(1)</script>"},
        {"q": "cloud", "from": "2025-12-31", "to": "2025-01-01"},
        {"q": "cloud", "show": "inconnue", "guest": "personne"},
    ],
)
def test_malformed_search_input_gives_a_page_or_4xx_never_500(site, params):
    get = (
        (lambda **kw: site.get("/search?" + params, **kw))
        if isinstance(params, str)
        else (lambda **kw: site.get("/search", params=params, **kw))
    )
    response = get()
    assert response.status_code in (200, 400), response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in response.text
    if response.status_code == 400:
        assert 'role="alert"' in response.text and "<form" in response.text
    fragment = get(headers={"HX-Request": "true"})
    assert fragment.status_code in (200, 400) and "<html" not in fragment.text


# --- episode ------------------------------------------------------------------------------------


def test_episode_page_metadata_guests_description_exports_and_transcript(site):
    html = assert_page(
        site.get(f"/episodes/{EPISODE}"),
        "SMART TECH",
        "jeudi 23 octobre 2025",
        "Delphine Sabattier",
        "Description",
        "Chercher dans l'épisode",
    )
    assert re.search(
        r'href="/guests/garance-mathias"><span class="guest-name">Garance Mathias</span>'
        r'<span class="guest-role">Avocate</span>',
        html,
    )
    for extension in ("vtt", "srt", "txt", "json"):
        assert f'href="/episodes/{EPISODE}/transcript.{extension}"' in html
    segments = site.get(f"/api/episodes/{EPISODE}").json()["segments"]
    # the reading view: every line an inline span with its anchors, in paragraphs that each open with
    # a link to their first second
    lines = re.findall(r'<span(?: id="t-(\d+)")? class="line" data-start="[^"]+"><span id="l-(\d+)">', html)
    assert [int(position) for _, position in lines] == list(range(len(segments)))
    anchors = [a for a, _ in lines if a]
    assert len(anchors) == len(set(anchors)) == len({int(s["start"]) for s in segments})
    assert 1 < html.count('<p class="para"') < len(segments) / 3
    assert '<a class="ts" tabindex="-1" href="/episodes/2025-10-23-smart-tech?t=0#t-0">00:00</a>' in html
    assert not marked_ids(html) and 'property="og:title"' in html
    # the lines view: one row a line, each with its timestamp link and its copy-link button
    html = assert_page(site.get(f"/episodes/{EPISODE}", params={"vue": "lignes"}))
    lines = re.findall(r'<li(?: id="t-(\d+)")? class="line', html)
    assert len(lines) == len(segments)
    anchors = [a for a in lines if a]
    assert len(anchors) == len(set(anchors)) == len({int(s["start"]) for s in segments})
    assert (
        '<li id="t-754" class="line" data-start="754.0"><a class="ts" '
        'href="/episodes/2025-10-23-smart-tech?t=754&amp;vue=lignes#t-754">12:34</a>' in html
    )
    assert html.count('class="copy-link"') == len(segments)
    assert not marked_ids(html) and 'property="og:title"' in html


@pytest.mark.parametrize("t", ["754", "12:34", "0:12:34", "12m34s", "754.6", "754s"])
def test_t_marks_the_line_at_that_second(site, t):
    html = assert_page(site.get(f"/episodes/{EPISODE}", params={"t": t}), "Passage cité")
    assert marked_ids(html) == ["t-754"]
    assert "et cette nullité est reconnue." in meta(html, "og:description")
    assert meta(html, "og:url") == f"https://plateau.example/episodes/{EPISODE}?t=754"


def test_t_between_two_lines_marks_the_line_being_spoken(site):
    assert marked_ids(site.get(f"/episodes/{EPISODE}", params={"t": "753"}).text) == ["t-751"]


def test_t_range_marks_every_line_of_the_quote(site):
    html = assert_page(site.get(f"/episodes/{EPISODE}", params={"t": "754-790"}), "12:34–13:10")
    ids = marked_ids(html)
    assert ids[0] == "t-754" and len(ids) > 10
    assert all(754 <= int(i[2:]) <= 790 for i in ids if i)
    assert "" in ids  # 12:52 is said twice: the second line has no anchor of its own, and is marked too
    description = meta(html, "og:description")
    assert description.startswith("« et cette nullité est reconnue. Donc, je fais des raccourcis")
    assert meta(html, "og:url").endswith("?t=754-790")
    assert marked_ids(site.get(f"/episodes/{EPISODE}", params={"t": "13:10-12:34"}).text) == ids
    assert marked_ids(site.get(f"/episodes/{EPISODE}", params={"t": "754-790", "vue": "lignes"}).text) == ids


def test_citation_and_video_link_at_the_second(site):
    html = site.get(f"/episodes/{EPISODE}", params={"t": "754"}).text
    citation = unescape(re.search(r'<pre id="citation" class="citation">(.*?)</pre>', html, re.S).group(1))
    assert citation.splitlines() == [
        "« et cette nullité est reconnue. Donc, je fais des raccourcis, volontairement, mais il ne faut pas hésiter "
        "à le dire. Rajoutez la petite clause, comme les assoyeurs. »",
        "SMART TECH — jeudi 23 octobre 2025 — 12:34",
        f"https://plateau.example/episodes/{EPISODE}?t=754",
    ]
    assert 'data-copy-text="citation"' in html
    video = site.get(f"/episodes/{site.slugs['video']}", params={"t": "7"}).text
    assert 'href="https://www.youtube.com/watch?v=plateau42&amp;t=5"' in video
    assert "Voir la vidéo à 00:05" in video


def test_search_hit_link_marks_the_searched_words_in_the_marked_line(site):
    html = site.get(f"/episodes/{EPISODE}", params={"t": "788", "q": "souveraineté numérique"}).text
    line = re.search(r'<span id="t-788" class="line is-marked" aria-current="true"[^>]*>(.*?)</span></span>', html)
    assert "<mark>souveraineté</mark>" in line.group(1) and "<mark>numérique</mark>" in line.group(1)
    html = site.get(f"/episodes/{EPISODE}", params={"t": "788", "q": "souveraineté numérique", "vue": "lignes"}).text
    line = re.search(r'<li id="t-788" class="line is-marked" aria-current="true"[^>]*>(.*?)</li>', html)
    assert "<mark>souveraineté</mark>" in line.group(1) and "<mark>numérique</mark>" in line.group(1)
    assert "passage" in html and "<mark>" in re.search(r'class="episode-hits">(.*?)</div>', html, re.S).group(1)


@pytest.mark.parametrize("t", ["zz", "-5", "99999", "1:99", "754-", "1-2-3", "1:02:03", "9" * 80, "12:34:56:78", ""])
def test_odd_t_opens_the_episode_without_marking_never_500(site, t):
    response = site.get(f"/episodes/{EPISODE}", params={"t": t})
    assert response.status_code == 200
    assert not marked_ids(response.text)
    if t:
        assert 'class="alert alert-warning"' in response.text


@pytest.mark.parametrize("t", ["1:75:00", "0:60:00", "12:60"])
def test_t_with_minutes_or_seconds_past_59_is_not_read_as_a_time(site, t):
    # not a moment past the episode's end either: the link itself is said to be unreadable
    html = assert_page(site.get(f"/episodes/{EPISODE}", params={"t": t}))
    assert not marked_ids(html)
    assert "Lien horodaté non reconnu" in html and "n&#39;est pas une heure valide" in html


# --- lists ----------------------------------------------------------------------------------------


def test_episode_list_filters_and_pagination(site):
    html = assert_page(site.get("/episodes"), "7 épisodes", 'name="show"', 'name="guest"', 'name="year"')
    assert html.index("jeudi 11 décembre 2025") < html.index("jeudi 23 octobre 2025")
    assert "3 épisodes" in site.get("/episodes", params={"guest": "julien-pillot"}).text
    assert "1 épisode " in site.get("/episodes", params={"show": "tech-co-la-quotidienne"}).text
    assert "0 épisode" in site.get("/episodes", params={"year": "1999"}).text
    fragment = site.get("/episodes", params={"show": "smart-tech"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "5 épisodes" in fragment.text  # 003's show is inferred
    assert "HX-Request" in fragment.headers["vary"]
    assert "Aucun épisode" in site.get("/episodes", params={"page": "2"}).text
    for bad, said in [
        ({"page": "abc"}, "Numéro de page invalide : « abc »"),
        ({"page": "-1"}, "Numéro de page hors limites : -1"),
        ({"year": "deux mille"}, "Année invalide : « deux mille »"),
        ({"year": "99999"}, "Année hors limites : 99999"),
    ]:
        response = site.get("/episodes", params=bad)
        assert response.status_code == 400 and "<html" in response.text
        assert said in unescape(response.text), (bad, response.text[:500])


def test_guests_a_to_z_with_counts(site):
    html = assert_page(site.get("/guests"), "Invités", 'href="#lettre-J"', 'id="lettre-J"')
    assert re.search(r'<a href="/guests/julien-pillot">Julien Pillot</a> <span class="count">3 épisodes</span>', html)
    letters = re.findall(r'<h2 id="lettre-(\w)">', html)
    assert "J" in letters and len(letters) > 1 and letters == sorted(letters)


def test_guest_page_appearances_with_that_days_role_and_co_guests(site):
    html = assert_page(
        site.get("/guests/julien-pillot"),
        "Julien Pillot",
        "3 apparitions",
        "Co-invités",
        "enseignant-chercheur en économie, Inseec",
    )
    assert html.count('class="card timeline-item"') == 3
    assert re.search(r'<a href="/guests/garance-mathias">Garance Mathias</a> <span class="count">1 fois</span>', html)
    kabouya = assert_page(site.get("/guests/imene-kabouya"), "Imène Kabouya")
    assert "2 apparitions" in kabouya


def test_shows_and_show_page(site):
    assert_page(site.get("/shows"), 'href="/shows/smart-tech"', "SMART TECH", "BFM Business")
    html = assert_page(site.get("/shows/smart-tech"), "SMART TECH", "5 épisodes")  # 003's show is inferred
    assert html.count('class="card episode-card"') == 5


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/episodes/inconnu", "/guests/personne", "/shows/aucune", "/nulle-part", "/episodes/inconnu?t=12"]
)
def test_not_found_is_an_html_page_in_the_site_look(site, path):
    response = site.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text and "Page introuvable" in response.text
    assert 'class="site-header"' in response.text and 'action="/search"' in response.text


def test_api_errors_stay_json(site):
    response = site.get("/api/episodes/inconnu")
    assert response.status_code == 404 and "detail" in response.json()
    assert site.get("/api/nulle-part").headers["content-type"].startswith("application/json")


def test_hostile_caption_and_description_are_escaped(site):
    slug = site.slugs["hostile"]
    html = assert_page(site.get(f"/episodes/{slug}", params={"t": "4", "q": "regardez"}))
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&amp; le &lt;b&gt;gras&lt;/b&gt;" in html
    for path in ("/search?q=onerror", "/search?q=script", "/", "/episodes", "/guests", "/feed.atom"):
        assert "<script>alert" not in site.get(path).text and "<img src=x" not in site.get(path).text


def test_hostile_caption_ingested_live_is_escaped(seeded, session, index, client):
    from app.services.ingest import ingest_bytes

    outcome = ingest_bytes(session, "hostile.txt", HOSTILE, index=index, today=TODAY)
    html = client.get(f"/episodes/{outcome.slug}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    hits = client.get("/search", params={"q": "onerror"}).text
    assert "<img src=x" not in hits and "onerror" in hits


def test_nothing_outside_the_search_highlighter_marks_text_safe():
    allowed = {ROOT / "app" / "search" / "snippets.py", ROOT / "app" / "search" / "service.py"}
    offenders = []
    for path in [*(ROOT / "app").rglob("*.py"), *(ROOT / "templates").rglob("*")]:
        if path.is_file() and path not in allowed:
            text = path.read_text(encoding="utf-8")
            if re.search(r"\|\s*safe\b|Markup\(|autoescape\s+false|\{%\s*autoescape", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# --- feeds and docs -----------------------------------------------------------------------------------


def test_atom_feeds_of_new_episodes_and_of_a_saved_search(site):
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = site.get("/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    entries = ET.fromstring(feed.content).findall("a:entry", ns)
    assert len(entries) == 7
    assert entries[0].find("a:link", ns).get("href").startswith("https://plateau.example/episodes/")
    saved = ET.fromstring(site.get("/search.atom", params={"q": "souveraineté numérique"}).content)
    links = [e.find("a:link", ns).get("href") for e in saved.findall("a:entry", ns)]
    assert links and all(re.search(r"\?t=\d+&l=(\d+)#l-\1$", link) for link in links)
    assert site.get("/search.atom").status_code == 400


def test_api_docs_use_vendored_swagger_and_no_inline_script(site):
    html = site.get("/docs").text
    assert "cdn" not in html.lower() and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("swagger" in asset for asset in assets), assets
    for asset in assets:
        assert site.get(asset).status_code == 200, asset
    assert site.get("/openapi.json").json()["info"]["title"] == "Plateau"


def test_guests_a_to_z_files_each_letter_once(admin_token, client):
    from tests.conftest import TOKEN

    guests = '[{"name": "Œdipe Roi"}, {"name": "Ørjan Berg"}, {"name": "Oscar Niemeyer"}, {"name": "Łukasz Nowak"}]'
    response = client.post(
        "/api/episodes",
        files={"file": ("x.txt", b"00:00Bonjour\n")},
        data={"guests": guests},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 201
    page = client.get("/guests").text
    ids = re.findall(r'id="(lettre-[^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert "lettre-O" in ids


@ON_BOTH_BACKENDS
def test_search_results_name_each_episodes_guests(client, seeded):
    page = client.get("/search", params={"q": '"souveraineté numérique"'}).text
    assert 'href="/guests/imene-kabouya"' in page and 'href="/guests/cyril-vanagt"' in page


@ON_BOTH_BACKENDS
def test_a_too_long_query_says_so_in_the_page(client, seeded):
    response = client.get("/search", params={"q": "souveraineté " * 60})
    assert response.status_code == 400
    assert "trop longue" in response.text


@ON_BOTH_BACKENDS
@pytest.mark.parametrize("q", ["souveraineté\x0b", "souveraineté\x00numérique", "\x1fcloud"])
def test_search_feed_stays_well_formed_xml_whatever_the_query(client, seeded, q):
    import xml.etree.ElementTree as ElementTree

    response = client.get("/search.atom", params={"q": q})
    assert response.status_code == 200
    ElementTree.fromstring(response.content)


# --- pagination over a back catalogue (300 generated episodes) -------------------------------------

PAGED_LISTS = [  # a list page, the filters its pages keep, its JSON twin, items per page, what one item looks like
    ("/episodes", {}, "/api/episodes", 20, 'class="card episode-card"'),
    ("/episodes", {"show": "tech-co-la-quotidienne", "year": "2022"}, "/api/episodes", 20, 'class="card episode-card"'),
    (
        "/search",
        {"q": "données", "show": "tech-co-la-quotidienne", "sort": "date"},
        "/api/search",
        10,
        'class="card result"',
    ),
    ("/shows/smart-tech", {}, "/api/shows/smart-tech", 20, 'class="card episode-card"'),
]


@pytest.mark.parametrize(
    "path, filters, twin, per_page, item",
    PAGED_LISTS,
    ids=["episodes", "episodes-by-show-and-year", "search-by-show-sorted-by-date", "show"],
)
def test_second_and_last_pages_open_and_their_links_keep_the_filters(
    catalogued, client, path, filters, twin, per_page, item
):
    listed = client.get(twin, params=filters).json()
    total = listed["episodes"] if "episodes" in listed else listed["total"]
    last = -(-total // per_page)
    assert last >= 2, f"{path} {filters} has {total} items: not enough for a second page"

    def link(html: str, rel: str) -> dict[str, str] | None:
        found = re.search(rf'<a href="([^"]*)" rel="{rel}">', html)
        if found is None:
            return None
        href = httpx.URL(unescape(found.group(1)))
        assert href.path == path, href
        return dict(href.params)

    for page in sorted({2, last}):
        response = client.get(path, params={**filters, "page": str(page)})
        html = assert_page(response, f'aria-current="page">{page}</a>')
        shown = html.count(item)
        assert shown == (total - per_page * (last - 1) if page == last else per_page), (page, shown)
        assert link(html, "prev") == {**filters, **({"page": str(page - 1)} if page > 2 else {})}
        assert link(html, "next") == ({**filters, "page": str(page + 1)} if page < last else None)


def test_the_search_guest_filter_offers_every_guest_a_to_z(catalogued, client):
    """The guest menu of the search page: everyone the archive has as a guest (sixty), in the order
    of the guests' list, each by their name; the one searched with is selected."""
    import html5lib

    guests = client.get("/api/guests", params={"per_page": 500}).json()["items"]
    assert len(guests) >= 60
    chosen = guests[len(guests) // 2]["slug"]
    page = assert_page(client.get("/search", params={"q": "souveraineté", "guest": chosen}))
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    options = tree.findall(".//select[@id='f-guest']/option")
    assert [(o.get("value"), o.text) for o in options] == [("", "Tous les invités")] + [
        (g["slug"], g["name"]) for g in guests
    ]
    assert [o.get("value") for o in options if o.get("selected") is not None] == [chosen]

"""Timelines where people would rather look than read (search, guest, home), and the searches without
words that a guest's page opens: their passages or their episodes, newest first."""

import itertools
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from calendar import monthrange
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import html5lib
import httpx
import pytest
from sqlmodel import select

from app.services.ingest import ingest_bytes
from app.web import charts
from app.web.templating import env
from tests.conftest import ON_BOTH_BACKENDS, TODAY

SVG = "{http://www.w3.org/2000/svg}"
UNIT = ("passage", "passages")


# --- the chart builder ------------------------------------------------------------------------------


def test_months_without_any_count_are_drawn_at_zero_between_the_first_and_the_last():
    chart = charts.month_timeline({"2024-01": 3, "2024-04": 6}, UNIT)
    assert [p.key for p in chart.periods] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert [p.count for p in chart.periods] == [3, 0, 0, 6]
    assert [p.label for p in chart.periods] == ["janv. 2024", "févr. 2024", "mars 2024", "avr. 2024"]
    bars = chart.wide.bars
    assert bars[3].height == charts.WIDE.plot and bars[0].height == charts.WIDE.plot / 2
    assert bars[1].height == 0 and bars[0].y + bars[0].height == charts.WIDE.baseline
    assert chart.summary == "9 passages de janv. 2024 à avr. 2024 ; le plus : avr. 2024 (6)."


def test_a_span_widens_the_axis_and_a_count_outside_it_still_shows():
    chart = charts.month_timeline({"2024-03": 1, "2025-01": 2}, UNIT, span=(date(2024, 1, 9), date(2024, 6, 2)))
    assert chart.periods[0].key == "2024-01" and chart.periods[-1].key == "2025-01"
    assert chart.total == 3


def test_each_bar_links_to_its_month_from_the_first_to_the_last_day_and_is_named_in_french():
    chart = charts.month_timeline(
        {"2024-02": 12, "2024-03": 1}, UNIT, link=lambda first, last: f"/search?from={first}&to={last}", undated=4
    )
    february, march = chart.wide.bars
    assert february.href == "/search?from=2024-02-01&to=2024-02-29"  # a leap year
    assert march.href == "/search?from=2024-03-01&to=2024-03-31"
    assert february.name == "févr. 2024 : 12 passages" and march.name == "mars 2024 : 1 passage"
    assert chart.total == 17 and chart.undated == 4
    assert chart.summary.endswith("; et 4 passages sans date.")


def test_a_month_without_any_is_not_a_link():
    chart = charts.month_timeline({"2024-01": 1, "2024-03": 1}, UNIT, link=lambda first, last: "/x")
    assert [bar.href for bar in chart.wide.bars] == ["/x", None, "/x"]
    assert chart.peak is None  # a tie: no bar is "the most"


def test_one_month_is_one_bar_and_nothing_counted_is_no_chart():
    chart = charts.month_timeline({"2025-10": 5}, UNIT)
    assert len(chart.periods) == 1 and chart.summary == "5 passages en oct. 2025."
    assert charts.month_timeline({}, UNIT) is None and charts.month_timeline({"2024-01": 0}, UNIT) is None
    undated = charts.month_timeline({}, UNIT, undated=2)
    assert undated.periods == [] and undated.summary == "2 passages, tous sans date."


def test_appearances_over_years_are_drawn_per_year_and_over_months_per_month():
    spread = charts.dates_timeline({date(2021, 5, 1): 1, date(2025, 3, 3): 2, None: 1}, ("apparition", "apparitions"))
    assert spread.period == "Année" and [p.label for p in spread.periods] == ["2021", "2022", "2023", "2024", "2025"]
    assert spread.total == 4 and spread.undated == 1
    close = charts.dates_timeline({date(2025, 1, 1): 1, date(2025, 3, 3): 2}, ("apparition", "apparitions"))
    assert close.period == "Mois" and len(close.periods) == 3


@pytest.mark.parametrize("layout", [charts.WIDE, charts.NARROW])
def test_axis_labels_never_overlap_and_stay_inside(layout):
    for months in (1, 5, 12, 30, 60, 130):
        counts = {charts.month_key(date(2014 + m // 12, m % 12 + 1, 1)): 1 for m in range(months)}
        drawing = charts.month_timeline(counts, UNIT).drawing(layout)
        assert drawing.ticks and drawing.ticks[0].text == "janv. 2014"
        room = layout.label_width
        shift = {"start": 0, "middle": room / 2, "end": room}  # where a label begins, from its anchor
        spans = [(tick.x - shift[tick.anchor], tick.x - shift[tick.anchor] + room) for tick in drawing.ticks]
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), (months, spans)  # the labels' boxes
        assert all(left >= 0 and right <= layout.width for left, right in spans[:1] + spans[-1:])


def test_every_year_is_labelled_when_there_is_room_even_on_a_phone():
    chart = charts.year_timeline({2021: 1, 2025: 2}, UNIT)
    assert [tick.text for tick in chart.narrow.ticks] == ["2021", "2022", "2023", "2024", "2025"]
    assert [p.count for p in chart.periods] == [1, 0, 0, 0, 2] and chart.period == "Année"


def render_timeline(chart, **kwargs) -> str:
    source = '{% from "timeline.html" import timeline %}{{ timeline(chart, "t", "Titre", "N", **kw) }}'
    return env.from_string(source).render(chart=chart, kw=kwargs)


def svgs(html: str) -> list[ET.Element]:
    """Every <svg> of a page, each parsed by a real XML parser on its own."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def test_the_drawing_is_well_formed_svg_with_every_text_escaped():
    hostile = "<script>alert(1)</script> & Co"
    chart = charts.month_timeline(
        {"2024-01": 2, "2024-02": 1}, (hostile, hostile), link=lambda a, b: f"/search?q=a&b<&from={a}"
    )
    shows = [(hostile, "x", {"2024-01": 2}), ("Autre", "y", {"2024-02": 1})]
    rows = charts.show_rows(shows, chart, link=lambda slug: "/s")
    html = render_timeline(chart, rows=rows, rows_title="Par émission")
    assert "<script>" not in html and "&lt;script&gt;" in html
    drawings = svgs(html)
    assert len(drawings) == 4  # wide, narrow, two rows
    links = drawings[0].findall(f"{SVG}a")
    assert [link.get("href") for link in links] == ["/search?q=a&b<&from=2024-01-01", "/search?q=a&b<&from=2024-02-01"]
    assert links[0].get("aria-label") == f"janv. 2024 : 2 {hostile}"
    assert drawings[0].get("role") == "group" and drawings[0].get("aria-labelledby") == "t-title"


def test_a_chart_without_links_is_hidden_from_screen_readers_and_its_numbers_are_a_table():
    chart = charts.month_timeline({"2024-01": 2, "2024-03": 7}, ("épisode", "épisodes"), undated=1)
    html = render_timeline(chart)
    wide, _narrow = svgs(html)
    assert wide.get("aria-hidden") == "true" and wide.findall(f".//{SVG}a") == []
    document = html5lib.parse(html, namespaceHTMLElements=False)
    cells = [" ".join("".join(c.itertext()).split()) for c in document.iter() if c.tag in ("th", "td")]
    assert cells == ["Mois", "N", "janv. 2024", "2", "mars 2024", "7", "Sans date", "1"]
    assert "9 épisodes de janv. 2024 à mars 2024 ; le plus : mars 2024 (7) ; et 1 épisode sans date." in html


RECT = re.compile(r"M([\d.]+) ([\d.]+)V([\d.]+)h([\d.]+)V([\d.]+)z")


def rects(d: str) -> list[tuple[float, float, float, float]]:
    """The rectangles a path's data draws, as the eye sees them: (x, top, width, height)."""
    assert RECT.sub("", d) == "", d  # nothing but rectangles
    return [(float(x), float(top), float(w), float(bottom) - float(top)) for x, bottom, top, w, _ in RECT.findall(d)]


def test_each_counted_month_is_a_bar_of_its_height_with_its_count_as_tooltip_and_on_a_phone_too():
    chart = charts.month_timeline({"2024-01": 2, "2024-04": 8, "2024-05": 4}, ("épisode", "épisodes"))
    wide, narrow = svgs(render_timeline(chart))
    bars = wide.findall(f"{SVG}path[@class='time-chart-bar']")
    assert [bar.findtext(f"{SVG}title") for bar in bars] == [
        "janv. 2024 : 2 épisodes",
        "avr. 2024 : 8 épisodes",
        "mai 2024 : 4 épisodes",
    ]
    heights = [rects(bar.get("d"))[0][3] for bar in bars]
    assert heights == [charts.WIDE.plot / 4, charts.WIDE.plot, charts.WIDE.plot / 2]
    slot = charts.WIDE.width / 5  # five months on the axis, February and March empty
    assert [round(rects(bar.get("d"))[0][0] / slot) for bar in bars] == [0, 3, 4]
    assert all(top + height == charts.WIDE.baseline for bar in bars for _, top, _, height in rects(bar.get("d")))
    # the phone's drawing, without tooltips to hover, draws the same bars as one path
    (path,) = narrow.findall(f"{SVG}path")
    assert [h for *_, h in rects(path.get("d"))] == [charts.NARROW.plot / 4, charts.NARROW.plot, charts.NARROW.plot / 2]
    assert wide.find(f"{SVG}text[@class='time-chart-peak']").text == "8"


def test_a_month_link_is_its_whole_slot_over_its_bar():
    chart = charts.month_timeline({"2024-01": 1, "2024-03": 3}, UNIT, link=lambda first, last: f"/s?from={first}")
    for svg, layout in zip(svgs(render_timeline(chart)), (charts.WIDE, charts.NARROW), strict=True):
        links = svg.findall(f"{SVG}a")
        assert [link.findtext(f"{SVG}title") for link in links] == ["janv. 2024 : 1 passage", "mars 2024 : 3 passages"]
        slot = layout.width / 3
        for link, month, count in zip(links, (0, 2), (1, 3), strict=True):
            (hit,) = rects(link.find(f"{SVG}path[@class='time-chart-hit']").get("d"))
            assert hit == (round(month * slot, 2), 0, round(slot, 2), layout.baseline)
            hit_x, _, hit_width, _ = hit
            ((x, top, width, height),) = rects(link.find(f"{SVG}path[@class='time-chart-bar']").get("d"))
            assert hit_x < x and x + width < hit_x + hit_width and top + height == layout.baseline
            assert height == round(layout.plot * count / 3, 2)


def test_a_shows_row_draws_its_months_on_the_main_charts_axis_at_its_own_scale():
    counts = {charts.month_key(date(2015 + m // 12, m % 12 + 1, 1)): m % 7 + 1 for m in range(120)}
    chart = charts.month_timeline(counts, UNIT, link=lambda first, last: "/s")
    shows = [
        ("Tech & Co", "tech-co", {"2015-01": 0, "2015-02": 2, "2024-12": 4}),
        ("SMART TECH", "smart-tech", {"2019-06": 1}),
    ]
    rows = charts.show_rows(shows, chart, link=lambda slug: f"/s?show={slug}")
    html = render_timeline(chart, rows=rows, rows_title="Par émission")
    first, second = svgs(html)[2:]
    # ten years of months, yet one path a row: a picture beside the show's name and total
    assert [child.tag for child in first] == [f"{SVG}line", f"{SVG}path"]
    by_x = {bar.x: bar for bar in chart.wide.bars}
    drawn = [(by_x[x].period.key, height) for x, _, _, height in rects(first.find(f"{SVG}path").get("d"))]
    assert drawn == [("2015-02", charts.ROW_HEIGHT / 2), ("2024-12", charts.ROW_HEIGHT)]
    assert [(by_x[x].period.key, h) for x, _, _, h in rects(second.find(f"{SVG}path").get("d"))] == [
        ("2019-06", charts.ROW_HEIGHT)
    ]
    assert all(bar_width == by_x[x].width for x, _, bar_width, _ in rects(first.find(f"{SVG}path").get("d")))
    names = re.findall(r'<span class="time-chart-show-name">(.*?)</span></span>', html, re.S)
    assert names == [
        '<a href="/s?show=tech-co">Tech &amp; Co</a> <span class="count">6 passages',
        '<a href="/s?show=smart-tech">SMART TECH</a> <span class="count">1 passage',
    ]


# --- search: every match counted by month, each month a filter --------------------------------------


def chart_of(html: str) -> ET.Element:
    """The search page's wide timeline, parsed."""
    figure = re.search(r'<figure class="time-chart" id="frise".*?</figure>', html, re.S)
    assert figure, "no timeline on the page"
    return svgs(figure.group())[0]


def bar_links(svg: ET.Element) -> list[tuple[str, str]]:
    return [(a.get("aria-label"), a.get("href")) for a in svg.iter(f"{SVG}a")]


def label_count(label: str) -> int:
    return int(re.search(r": ([\d\u202f]+) passages?$", label).group(1).replace("\u202f", ""))


@ON_BOTH_BACKENDS
def test_month_counts_cover_every_match_and_a_bar_filters_to_its_month(client, catalogued):
    data = client.get("/api/search", params={"q": "données"}).json()
    assert data["pages"] > 1 and data["total"] > 50
    months = data["months"]
    assert sum(m["passages"] for m in months) + data["undated_passages"] == data["total"]
    assert len(months) > 12 and [m["month"] for m in months] == sorted(m["month"] for m in months)

    page = client.get("/search", params={"q": "données"})
    svg = chart_of(page.text)
    links = bar_links(svg)
    assert sum(label_count(label) for label, _ in links) == data["total"] - data["undated_passages"]
    assert {label_count(label) for label, _ in links} == {m["passages"] for m in months}
    # every month of the archive is on the axis, the empty ones as no link
    assert len(svg.findall(f"{SVG}a")) == len(months)

    label, href = max(links, key=lambda link: label_count(link[0]))
    query = parse_qs(urlsplit(href).query)
    first, last = date.fromisoformat(query["from"][0]), date.fromisoformat(query["to"][0])
    assert first.day == 1 and last == first.replace(day=monthrange(first.year, first.month)[1])
    assert query["q"] == ["données"]
    month = client.get(href)
    assert month.status_code == 200
    count = re.search(r"<strong>([\d\u202f]+) passages?</strong>", month.text).group(1).replace("\u202f", "")
    assert int(count) == label_count(label)
    api = client.get("/api/search", params={"q": "données", "from": str(first), "to": str(last), "per_page": 50})
    filtered = api.json()
    assert filtered["total"] == label_count(label) and filtered["months"] == [
        {"month": f"{first:%Y-%m}", "passages": label_count(label)}
    ]
    assert all(first <= date.fromisoformat(h["episode"]["aired_on"]) <= last for h in filtered["hits"])
    # the month's page draws that month alone
    assert [lbl for lbl, _ in bar_links(chart_of(month.text))] == [label]


@ON_BOTH_BACKENDS
def test_the_timeline_counts_the_same_on_every_page_and_comes_with_live_results(client, catalogued):
    first = bar_links(chart_of(client.get("/search", params={"q": "données"}).text))
    second = client.get("/search", params={"q": "données", "page": "2"})
    assert bar_links(chart_of(second.text)) == first
    fragment = client.get("/search", params={"q": "données"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and bar_links(chart_of(fragment.text)) == first


@ON_BOTH_BACKENDS
def test_each_show_has_a_row_on_the_same_months(client, catalogued):
    data = client.get("/api/search", params={"q": "données"}).json()
    html = client.get("/search", params={"q": "données"}).text
    document = html5lib.parse(html, namespaceHTMLElements=False)
    rows = [li for li in document.iter("li") if li.get("class") == "time-chart-show"]
    assert 2 <= len(rows) <= charts.SHOWS_SHOWN
    totals = [label_count("x : " + re.search(r"[\d\u202f]+ passages?", "".join(li.itertext())).group()) for li in rows]
    assert totals == sorted(totals, reverse=True) and sum(totals) <= data["total"]
    show_link = rows[0].find(".//a").get("href")
    assert "show=" in show_link and parse_qs(urlsplit(show_link).query)["q"] == ["données"]
    shown = client.get("/api/search", params=parse_qs(urlsplit(show_link).query)).json()
    assert shown["total"] == totals[0]


@ON_BOTH_BACKENDS
def test_no_result_and_a_query_error_draw_no_chart(client, seeded):
    assert 'class="time-chart"' not in client.get("/search", params={"q": "zzzxqwv"}).text
    assert 'class="time-chart"' not in client.get("/search", params={"q": '"pas fermé'}).text
    assert 'class="time-chart"' in client.get("/search", params={"q": "souveraineté"}).text


# --- guest and home pages -----------------------------------------------------------------------------


def numbers_table(html: str, figure_id: str) -> dict[str, int]:
    figure = re.search(rf'<figure class="time-chart" id="{figure_id}".*?</figure>', html, re.S)
    assert figure, f"no {figure_id} on the page"
    document = html5lib.parse(figure.group(), namespaceHTMLElements=False)
    table = {}
    for row in document.iter("tr"):
        cells = ["".join(c.itertext()).strip() for c in row]
        if cells[1].replace("\u202f", "").isdigit():
            table[cells[0]] = int(cells[1].replace("\u202f", ""))
    svgs(figure.group())  # well-formed
    return table


def test_home_page_draws_the_archives_episodes_per_month(client, catalogued):
    html = client.get("/").text
    table = numbers_table(html, "frise-archive")
    assert sum(table.values()) == client.get("/api/episodes").json()["total"] == 300
    month = r"(janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.) \d{4}|Sans date"
    assert all(re.fullmatch(month, k) for k in table)


def test_guest_page_draws_their_appearances_over_time(client, catalogued):
    guests = client.get("/api/guests", params={"per_page": 200}).json()["items"]
    busiest = max(guests, key=lambda g: g["appearances"])
    detail = client.get(f"/api/guests/{busiest['slug']}").json()
    html = client.get(f"/guests/{busiest['slug']}").text
    table = numbers_table(html, "frise-apparitions")
    assert sum(table.values()) == len(detail["appearances"]) == busiest["appearances"]
    years = {a["episode"]["aired_on"][:4] for a in detail["appearances"] if a["episode"]["aired_on"]}
    if len(years) > 3:
        assert set(table) <= {str(y) for y in range(2000, 2100)} | {"Sans date"}


def test_home_timeline_shows_each_added_edited_or_deleted_episode_at_once(client, session, index, settings):
    from app.models import Episode
    from app.services import episodes as episode_service

    def add(n: int, aired: date) -> str:
        sidecar = json.dumps({"title": f"Débat {n}", "show": "SMART TECH", "aired_on": aired.isoformat()}).encode()
        outcome = ingest_bytes(
            session, f"debat-{n}.vtt", voices("Julien Pillot", "Garance Mathias", n), index=index, sidecar=sidecar,
            today=TODAY,
        )  # fmt: skip
        assert outcome.status == "added", outcome.reason
        return outcome.slug

    def months() -> dict[str, int]:
        return numbers_table(client.get("/").text, "frise-archive")

    slugs = [add(0, date(2024, 1, 10)), add(1, date(2024, 3, 3)), add(2, date(2024, 3, 20))]
    assert months() == {"janv. 2024": 1, "mars 2024": 2}
    assert months() == {"janv. 2024": 1, "mars 2024": 2}  # drawn once, served again
    slugs.append(add(3, date(2024, 5, 1)))
    assert months() == {"janv. 2024": 1, "mars 2024": 2, "mai 2024": 1}
    moved = session.exec(select(Episode).where(Episode.slug == slugs[1])).one()
    episode_service.edit_episode(session, moved, {"aired_on": date(2024, 5, 30)})
    assert months() == {"janv. 2024": 1, "mars 2024": 1, "mai 2024": 2}
    gone = session.exec(select(Episode).where(Episode.slug == slugs[3])).one()
    episode_service.delete_episode(session, gone, index)
    assert months() == {"janv. 2024": 1, "mars 2024": 1, "mai 2024": 1}
    # another process's edit (another worker, a command) stamps the episode as every edit does
    with sqlite3.connect(settings.data_dir / "plateau.db") as other:
        stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        other.execute("UPDATE episode SET aired_on = '2023-12-24', updated_at = ? WHERE slug = ?", (stamp, slugs[0]))
    assert months() == {"déc. 2023": 1, "mars 2024": 1, "mai 2024": 1}


# --- searches without words: a person's passages, a guest's episodes ---------------------------------


def voices(person: str, other: str, n: int) -> bytes:
    """A debate where `person` and `other` take turns, each turn two lines."""
    cues, t = ["WEBVTT", ""], 0
    for turn in range(6):
        who = person if turn % 2 == 0 else other
        for line in range(2):
            cues += [f"00:{t // 60:02d}:{t % 60:02d}.000 --> 00:{(t + 4) // 60:02d}:{(t + 4) % 60:02d}.000"]
            cues += [f"<v {who}>Épisode {n}, tour {turn}, ligne {line} : le cloud et les données.", ""]
            t += 4
    return "\n".join(cues).encode()


@pytest.fixture
def debates(session, index) -> list[tuple[str, date]]:
    """Thirteen episodes where Julien Pillot speaks, aired on thirteen different days, one undated."""
    made = []
    for n in range(13):
        aired = None if n == 5 else date(2024 + n // 6, n % 6 * 2 + 1, 10 + n)
        sidecar = {
            "title": f"Débat {n}",
            "show": "SMART TECH" if n % 2 else "Tech & Co",
            "guests": [{"name": "Julien Pillot", "role": "économiste"}, {"name": "Garance Mathias", "role": "Avocate"}],
            **({"aired_on": aired.isoformat()} if aired else {}),
        }
        outcome = ingest_bytes(
            session, f"debat-{n}.vtt", voices("Julien Pillot", "Garance Mathias", n), index=index,
            sidecar=json.dumps(sidecar).encode(), today=TODAY,
        )  # fmt: skip
        assert outcome.status == "added", outcome.reason
        made.append((outcome.slug, aired))
    return made


def newest_first(dates: list[date | None]) -> bool:
    dated = [d for d in dates if d is not None]
    return dated == sorted(dated, reverse=True) and None not in dates[: len(dated)]


@ON_BOTH_BACKENDS
def test_a_speaker_without_words_lists_their_passages_newest_first_page_after_page(client, debates):
    first = client.get("/api/search", params={"speaker": "julien-pillot"}).json()
    assert first["episodes"] == 13 and first["pages"] == 2 and first["error"] is None
    assert first["total"] == sum(m["passages"] for m in first["months"]) + first["undated_passages"]
    second = client.get("/api/search", params={"speaker": "julien-pillot", "page": 2}).json()
    hits = first["hits"] + second["hits"]
    assert {h["speaker"]["slug"] for h in hits} == {"julien-pillot"}
    episodes = list(dict.fromkeys(h["episode"]["slug"] for h in hits))
    assert len(episodes) == 13
    aired = dict(debates)
    assert newest_first([aired[slug] for slug in episodes])
    assert all("Mathias" not in h["text"] for h in hits) and all(h["url"].startswith("/episodes/") for h in hits)
    assert client.get("/api/search", params={"speaker": "garance-mathias"}).json()["total"] > 0

    page = client.get("/search", params={"speaker": "julien-pillot"})
    assert page.status_code == 200 and "Que cherchez-vous" not in page.text
    document = html5lib.parse(page.text, namespaceHTMLElements=False)
    titles = [a.get("href") for h in document.iter("h2") if h.get("class") == "card-title" for a in h.iter("a")]
    assert titles == [f"/episodes/{slug}" for slug in episodes[:10]]
    snippets = [a.get("href") for a in document.iter("a") if a.get("class") == "snippet-link"]
    assert snippets and all(re.match(r"/episodes/[^?]+\?t=\d+&l=\d+#l-\d+$", href) for href in snippets)
    assert 'href="/search?speaker=julien-pillot&amp;page=2"' in page.text
    assert "Les propos de" in page.text and chart_of(page.text) is not None
    later = client.get("/search", params={"speaker": "julien-pillot", "page": "2"}).text
    assert f"/episodes/{episodes[10]}" in later and f'/episodes/{episodes[0]}"' not in later


@ON_BOTH_BACKENDS
def test_a_guest_without_words_lists_their_episodes_newest_first(client, catalogued):
    guests = client.get("/api/guests", params={"per_page": 200}).json()["items"]
    busiest = max(guests, key=lambda g: g["appearances"])
    assert busiest["appearances"] > 10
    detail = client.get(f"/api/guests/{busiest['slug']}").json()
    expected = sorted(
        (a["episode"] for a in detail["appearances"]),
        key=lambda e: (e["aired_on"] is not None, e["aired_on"] or ""),
        reverse=True,
    )
    found = []
    for number in (1, 2, 3):
        data = client.get("/api/search", params={"guest": busiest["slug"], "page": number}).json()
        assert data["episode_matches_total"] == busiest["appearances"] and data["hits"] == []
        found += data["episode_matches"]
    assert [e["slug"] for e in found][: len(expected)] == [e["slug"] for e in expected][: len(found)]
    assert len(found) == min(30, busiest["appearances"])
    page = client.get("/search", params={"guest": busiest["slug"], "page": "2"})
    assert page.status_code == 200 and "Les émissions de" in page.text
    assert f"/episodes/{expected[10]['slug']}" in page.text
    assert "page=3" in page.text or busiest["appearances"] <= 20


def test_the_guest_page_links_to_their_passages_and_episodes(client, debates):
    html = client.get("/guests/julien-pillot").text
    assert 'href="/search?speaker=julien-pillot"' in html and 'href="/search?guest=julien-pillot"' in html
    assert 'name="q" required' not in html  # « Dans ses propos » without words lists them all


# --- in Chromium: the timeline filters the live results -----------------------------------------------


def test_clicking_a_month_of_the_timeline_filters_the_live_results_to_it(catalogued, server):
    from playwright import sync_api
    from test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, WATCH, Tab, shoot

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.add_init_script(WATCH)
        tab = Tab(context, server.url)
        try:
            page = tab.open("/search")
            page.locator("#q").press_sequentially("données", delay=20)
            page.wait_for_url(re.compile(r"[?&]q=d"))
            page.wait_for_selector("#frise svg.time-chart-wide a.time-chart-link")
            assert page.locator("#frise svg.time-chart-narrow").is_hidden()
            links = page.locator("#frise svg.time-chart-wide a.time-chart-link")
            labels = [links.nth(i).get_attribute("aria-label") for i in range(links.count())]
            busiest = max(range(len(labels)), key=lambda i: label_count(labels[i]))
            wanted = labels[busiest]
            # a bar is a link a keyboard reaches, named by its month and its count
            links.nth(busiest).focus()
            assert page.evaluate("document.activeElement.getAttribute('aria-label')") == wanted
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("#frise").screenshot(path=str(SCREENSHOTS / "timeline-search-desktop.png"))
            page.set_viewport_size({"width": 390, "height": 844})
            page.locator("#frise").screenshot(path=str(SCREENSHOTS / "timeline-search-phone.png"))
            page.set_viewport_size({"width": 1280, "height": 900})
            links.nth(busiest).click()
            page.wait_for_url(re.compile(r"from=\d{4}-\d{2}-01&to=\d{4}-\d{2}-\d{2}"))
            page.wait_for_selector("#results .result")
            query = parse_qs(urlsplit(page.url).query)
            first, last = date.fromisoformat(query["from"][0]), date.fromisoformat(query["to"][0])
            assert last == first.replace(day=monthrange(first.year, first.month)[1])
            count = page.locator(".results-head .count strong").inner_text()
            assert int(re.sub(r"\D", "", count)) == label_count(wanted)
            days = page.locator("#results .result .kicker time").evaluate_all("ts => ts.map(t => t.dateTime)")
            assert days and all(first <= date.fromisoformat(day) <= last for day in days)
            # the form keeps the month, and the chart now draws that month alone
            assert page.input_value("#f-from") == str(first) and page.input_value("#f-to") == str(last)
            assert [links.nth(i).get_attribute("aria-label") for i in range(links.count())] == [wanted]
            # on a phone the narrow drawing shows, with the same bars
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.locator("#frise svg.time-chart-wide").is_hidden()
            narrow = page.locator("#frise svg.time-chart-narrow a.time-chart-link")
            assert narrow.first.is_visible() and narrow.first.get_attribute("aria-label") == wanted
            shoot(page, "search-timeline-phone", full_page=True)
            # the home page's and a guest's timelines, for the eye (test-artifacts/screenshots)
            guests = httpx.get(f"{server.url}/api/guests", params={"per_page": 200}).json()["items"]
            busiest = max(guests, key=lambda g: g["appearances"])["slug"]
            for path, figure, name in (
                ("/", "#frise-archive", "home"),
                (f"/guests/{busiest}", "#frise-apparitions", "guest"),
            ):
                for width, height in ((1280, 900), (390, 844)):
                    page.set_viewport_size({"width": width, "height": height})
                    tab.open(path).locator(figure).screenshot(path=str(SCREENSHOTS / f"timeline-{name}-{width}.png"))
            assert tab.problems() == []
        finally:
            tab.close()
            context.close()
            browser.close()


def test_pages_with_timelines_have_no_serious_axe_violation(catalogued, server):
    """axe on the generated archive's charts (sixty months a chart), desktop and phone."""
    from playwright import sync_api
    from test_accessibility import AXE, check_pages
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    guests = httpx.get(f"{server.url}/api/guests", params={"per_page": 200}).json()["items"]
    busiest = max(guests, key=lambda g: g["appearances"])["slug"]
    assert AXE.exists()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(locale="fr-FR", bypass_csp=True)
            check_pages(
                context, server.url, ["/", "/search?q=données", f"/guests/{busiest}", f"/search?guest={busiest}"]
            )
        finally:
            browser.close()

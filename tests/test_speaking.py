"""Who talks how long, and citations that name who said it: speaking time on episode and guest pages,
a guest's longest turns and a search in what they said, « … » — Julien Pillot (…) when copied."""

import tempfile
from pathlib import Path

import html5lib
import pytest
from playwright import sync_api
from sqlalchemy import Float
from sqlalchemy import select as sa_select
from sqlalchemy import text as sa_text
from test_browser import CHROMIUM, CHROMIUM_ARGS, WATCH, shoot

from app.services.speaking import Speaker, SpeakerTime, line_seconds, seconds_spoken, speaker_times, whole_percents
from app.web.speaking import BAR_WIDTH, GAP, bar_segments, talk_time
from tests.conftest import ON_BOTH_BACKENDS
from tests.test_speakers import PANEL, VOICES, WHISPERX, ingest

# Music first (no speaker), then a panel: 10 s unattributed, Delphine Sabattier 20 s, Julien Pillot
# 100 s + 40 s (his second line ends at 3:00 but Garance Mathias starts at 2:50: each second counts
# once), Garance Mathias 70 s. 240 s in all.
TALK = """WEBVTT

00:00:00.000 --> 00:00:10.000
[Musique]

00:00:10.000 --> 00:00:30.000
<v Delphine Sabattier>Bonjour à tous, bienvenue dans le débrief de la semaine.

00:00:30.000 --> 00:02:10.000
<v Julien Pillot>La souveraineté numérique est une bataille de long terme.

00:02:10.000 --> 00:03:00.000
Les hyperscalers américains dominent le marché européen du cloud.

00:02:50.000 --> 00:04:00.000
<v Garance Mathias>Le droit européen protège les données personnelles.
""".encode()


SVG = "{http://www.w3.org/2000/svg}"  # html5lib keeps SVG elements in their namespace


def parse(html: str):
    return html5lib.parse(html, namespaceHTMLElements=False)


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


# --- the rules, on plain values -----------------------------------------------------------------


LINE_CASES = [
    (30.0, 130.0, 130.0, 100.0),  # a caption to its end
    (130.0, 180.0, 170.0, 40.0),  # overlapping the next one: cut at its start
    (0.0, 0.0, 7.0, 7.0),  # no end (page text): up to the next line
    (20.0, 20.0, None, 0.0),  # no end and no next line: nothing known
    (1.0, 3.0, 1.0, 2.0),  # two voices of one cue: each keeps its end
    (5.0, 9.0, None, 4.0),  # the last line
    (5.0, 9.0, 12.0, 4.0),  # a pause before the next line is no one's
]


@pytest.mark.parametrize(("start", "end", "next_start", "seconds"), LINE_CASES)
def test_a_line_is_spoken_from_its_start_to_its_end_or_the_next_line(start, end, next_start, seconds):
    assert line_seconds(start, end, next_start) == seconds


def test_whole_percents_add_up_to_one_hundred():
    assert whole_percents([140, 70, 20, 10]) == [59, 29, 8, 4]  # 58.3, 29.2, 8.3, 4.2: the first .3 gets the 1
    assert whole_percents([1, 1, 1]) == [34, 33, 33]
    assert whole_percents([0, 0]) == [0, 0]


def test_speaker_times_most_talkative_first_and_unattributed_last():
    julien, garance = Speaker("Julien Pillot", "julien-pillot"), Speaker("Garance Mathias", "garance-mathias")
    times = speaker_times([(0, 10, None), (10, 40, julien), (40, 50, garance), (50, 60, julien)])
    assert [(t.name, t.seconds, t.percent) for t in times] == [
        ("Julien Pillot", 40, 67),
        ("Garance Mathias", 10, 17),
        ("Non attribué", 10, 16),
    ]
    assert speaker_times([(0, 10, None), (10, 20, None)]) == []  # no turn known: no speaking time


def test_the_database_sums_lines_by_the_same_rule(session):
    """A person's time is summed in SQL (seconds_spoken): the same answers as line_seconds."""
    rows = " UNION ALL ".join(
        f"SELECT {start} AS s, {end} AS e, {'NULL' if next_start is None else next_start} AS n"
        for start, end, next_start, _ in LINE_CASES
    )
    table = sa_text(f"({rows})").columns(s=Float, e=Float, n=Float).subquery()
    spoken = session.execute(sa_select(seconds_spoken(table.c.s, table.c.e, table.c.n))).scalars().all()
    assert [float(x) for x in spoken] == [seconds for *_, seconds in LINE_CASES]


def test_talk_time_in_words():
    assert [talk_time(s) for s in (0, 45, 60, 185, 3599, 3720)] == [
        "0 s",
        "45 s",
        "1 min 00 s",
        "3 min 05 s",
        "59 min 59 s",
        "1 h 02 min",
    ]


def test_bar_segments_are_as_wide_as_their_share():
    times = [
        SpeakerTime(Speaker("A"), 180, 75),
        SpeakerTime(Speaker("B"), 60, 25),
        SpeakerTime(Speaker("C"), 0, 0),
        SpeakerTime(None, 0, 0),
    ]
    segments = bar_segments(times)
    assert [(s.number, s.x, s.width, s.drawn) for s in segments] == [
        (1, 0.0, BAR_WIDTH * 0.75 - GAP, True),
        (2, BAR_WIDTH * 0.75, BAR_WIDTH * 0.25 - GAP, True),
        (3, BAR_WIDTH, 0.0, False),
        (0, BAR_WIDTH, 0.0, False),
    ]
    assert segments[0].colour != segments[1].colour


# --- the pages ----------------------------------------------------------------------------------


def test_episode_page_shows_each_speakers_share_as_an_svg_and_a_table(client, session, index):
    slug = ingest(session, index, "parole.vtt", TALK, PANEL)
    page = client.get(f"/episodes/{slug}")
    assert page.status_code == 200
    document = parse(page.text)
    section = next(s for s in document.iter("section") if s.get("class") == "side-block speaking-time")
    svg = section.find(f"{SVG}svg")
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}desc").get("id") == desc_id
    assert text_of(svg.find(f"{SVG}desc")) == (
        "Julien Pillot : 59 % (2 min 20 s) ; Garance Mathias : 29 % (1 min 10 s) ; "
        "Delphine Sabattier : 8 % (20 s) ; Non attribué : 4 % (10 s)."
    )
    segments = svg.findall(f"{SVG}g")
    assert [text_of(g.find(f"{SVG}title")) for g in segments] == [
        "Julien Pillot : 59 % (2 min 20 s)",
        "Garance Mathias : 29 % (1 min 10 s)",
        "Delphine Sabattier : 8 % (20 s)",
        "Non attribué : 4 % (10 s)",
    ]
    widths = [float(g.find(f"{SVG}rect").get("width")) for g in segments]
    assert widths == [round(BAR_WIDTH * s / 240 - GAP, 1) for s in (140, 70, 20, 10)]
    # numbered as in the table (not colour alone); the unattributed part is hatched
    numbers = [g.find(f"{SVG}text") for g in segments]
    assert [n.text if n is not None else None for n in numbers] == ["1", "2", "3", None]
    assert segments[3].find(f"{SVG}rect").get("fill") == "url(#speaking-hatch)"
    rows = []
    for tr in section.find("table").find("tbody").findall("tr"):
        th, *tds = list(tr)
        link = th.find("a")
        rows.append((link.get("href") if link is not None else None, text_of(th), *(text_of(td) for td in tds)))
    assert rows == [
        ("/guests/julien-pillot", "1 Julien Pillot", "2 min 20 s", "59 %"),
        ("/guests/garance-mathias", "2 Garance Mathias", "1 min 10 s", "29 %"),
        ("/guests/delphine-sabattier", "3 Delphine Sabattier", "20 s", "8 %"),
        (None, "Non attribué", "10 s", "4 %"),
    ]


def test_diarization_labels_get_their_share_and_transcripts_without_speakers_none(client, session, index, seeded):
    slug = ingest(session, index, "whisperx.json", WHISPERX)
    document = parse(client.get(f"/episodes/{slug}").text)
    table = next(t for t in document.iter("table") if t.get("class") == "speaking-table")
    # SPEAKER_00: 3.5 + 3 s, SPEAKER_01: 3.5 + 2 s, of 12 s
    assert [[text_of(c) for c in tr] for tr in table.find("tbody").findall("tr")] == [
        ["1 SPEAKER_00", "6 s", "54 %"],
        ["2 SPEAKER_01", "6 s", "46 %"],
    ]
    seed = client.get(f"/episodes/{seeded['000']}").text
    assert "Temps de parole" not in seed and "speaking-bar" not in seed


def citation_of(html: str) -> str:
    document = parse(html)
    return next(p for p in document.iter("pre") if p.get("id") == "citation").text


def test_a_citation_starts_with_its_speaker_and_role_in_that_episode(client, session, index):
    slug = ingest(session, index, "parole.vtt", TALK, PANEL)
    page = client.get(f"/episodes/{slug}", params={"t": "30"})
    # one line quotes on to the end of the turn, not into Garance Mathias's
    citation, link = citation_of(page.text).rsplit(", ", 1)
    assert citation == (
        "« La souveraineté numérique est une bataille de long terme. Les hyperscalers américains dominent le "
        "marché européen du cloud. » — Julien Pillot (économiste, Inseec), SMART TECH, jeudi 23 octobre 2025, 00:30"
    )
    assert link.startswith("http") and link.endswith(f"/episodes/{slug}?t=30")
    figcaption = next(parse(page.text).iter("figcaption"))
    assert text_of(figcaption) == "Julien Pillot (économiste, Inseec), SMART TECH, jeudi 23 octobre 2025"
    # a range across two turns names both; the host has no role
    both = citation_of(client.get(f"/episodes/{slug}", params={"t": "10-30"}).text)
    assert both.startswith("« Bonjour à tous")
    source = "Delphine Sabattier et Julien Pillot (économiste, Inseec), SMART TECH, jeudi 23 octobre 2025, 00:10–00:30"
    assert f"» — {source}, " in both


def test_a_citation_without_a_named_speaker_is_as_before(client, session, index):
    slug = ingest(session, index, "whisperx.json", WHISPERX)
    citation = citation_of(client.get(f"/episodes/{slug}", params={"t": "3"}).text)
    # the quote stops where SPEAKER_00 speaks again, and the label names no one
    assert citation.splitlines()[0] == "« Parlons de satellites en orbite basse. Une constellation entière. »"
    assert "SPEAKER" not in citation and citation.splitlines()[-1].endswith(f"/episodes/{slug}?t=3")


@ON_BOTH_BACKENDS
def test_guest_page_shows_speaking_time_longest_turns_and_a_search_in_what_they_said(client, session, index):
    talk = ingest(session, index, "parole.vtt", TALK, PANEL)
    voices = ingest(session, index, "voix.vtt", VOICES, PANEL)
    page = client.get("/guests/julien-pillot")
    assert page.status_code == 200
    document = parse(page.text)
    # 140 s in one episode, 5 + 3 + 4 s in the other
    total = next(s for s in document.iter("span") if s.get("class") == "speaking-total")
    assert text_of(total) == "2 min 32 s de temps de parole"
    per_episode = {
        li.find("h3").find("a").get("href"): text_of(p)
        for li in document.iter("li")
        if li.get("class") == "card timeline-item"
        for p in li.findall("p")
        if p.get("class") == "speaking-time-item"
    }
    assert per_episode == {
        f"/episodes/{talk}": "Temps de parole : 2 min 20 s",
        f"/episodes/{voices}": "Temps de parole : 12 s",
    }
    section = next(s for s in document.iter("section") if s.get("class") == "spoken-passages")
    passages = [
        (text_of(li.find("blockquote")), *(a.get("href") for a in li.iter("a") if a.get("class") == "ts"))
        for li in section.iter("li")
    ]
    assert passages == [
        (
            "« La souveraineté numérique est une bataille de long terme. Les hyperscalers américains dominent le "
            "marché européen du cloud. »",
            f"/episodes/{talk}?t=30-130&l=2#l-2",
        ),
        (
            "« La souveraineté numérique est une bataille. Les hyperscalers américains dominent le marché européen. »",
            f"/episodes/{voices}?t=4-9&l=1#l-1",
        ),
        ("« Et la souveraineté passe par le cloud. »", f"/episodes/{voices}?t=16&l=4#l-4"),
    ]
    # each link opens the episode on the turn, marked, with its citation
    opened = client.get(passages[0][1].split("#")[0])
    assert citation_of(opened.text).startswith("« La souveraineté numérique est une bataille de long terme.")
    # the search form looks in what he said, or in his episodes; sent without words, it lists them
    form = next(f for f in document.iter("form") if "guest-search" in (f.get("class") or ""))
    box = form.find("input")
    assert box.get("name") == "q" and box.get("required") is None
    browse = {text_of(a): a.get("href") for p in document.iter("p") if p.get("class") == "guest-browse" for a in p}
    assert browse == {
        "Tous ses propos, du plus récent": "/search?speaker=julien-pillot",
        "Toutes ses émissions, de la plus récente": "/search?guest=julien-pillot",
    }
    buttons = {b.get("name"): (b.get("value"), text_of(b)) for b in form.iter("button")}
    assert buttons == {
        "speaker": ("julien-pillot", "Dans ses propos"),
        "guest": ("julien-pillot", "Dans ses émissions"),
    }
    # the JSON twin gives the same seconds
    detail = client.get("/api/guests/julien-pillot").json()
    assert detail["speaking_seconds"] == 152
    assert {a["episode"]["slug"]: a["speaking_seconds"] for a in detail["appearances"]} == {talk: 140, voices: 12}
    said = client.get("/api/search", params={"q": "cloud", "speaker": "julien-pillot"}).json()
    assert said["total"] == 2 and {h["speaker"]["slug"] for h in said["hits"]} == {"julien-pillot"}


@ON_BOTH_BACKENDS
def test_a_search_opened_on_a_guest_without_words_lists_their_episodes_newest_first(client, seeded):
    page = client.get("/search", params={"guest": "julien-pillot"})
    assert page.status_code == 200
    document = parse(page.text)
    title = next(h for h in document.iter("h2") if h.get("id") == "browse-title")
    assert text_of(title) == "Les émissions de Julien Pillot, les plus récentes d'abord"
    listed = [
        a.get("href")
        for li in document.iter("li")
        if "episode-match" in (li.get("class") or "")
        for a in li.iter("a")
        if (a.get("href") or "").startswith("/episodes/")
    ]
    appearances = client.get("/api/guests/julien-pillot").json()["appearances"]
    newest_first = sorted(appearances, key=lambda a: a["episode"]["aired_on"] or "", reverse=True)
    assert [h.split("?")[0] for h in dict.fromkeys(listed)] == [
        f"/episodes/{a['episode']['slug']}" for a in newest_first
    ]
    # an unknown person: the scope is said, and words are asked for
    page = client.get("/search", params={"guest": "personne-inconnue"})
    assert page.status_code == 200
    # the guest page of a seed guest (no lines of theirs are known) offers the search in their episodes
    guest = parse(client.get("/guests/julien-pillot").text)
    form = next(f for f in guest.iter("form") if "guest-search" in (f.get("class") or ""))
    assert [(b.get("name"), b.get("value")) for b in form.iter("button")] == [("guest", "julien-pillot")]
    assert not any(s.get("class") == "spoken-passages" for s in guest.iter("section"))


# --- in Chromium ------------------------------------------------------------------------------


def test_copying_the_citation_of_a_line_with_a_speaker_in_chromium(settings, session, index, server):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set PLATEAU_CHROMIUM)")
    slug = ingest(session, index, "parole.vtt", TALK, PANEL)
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="fr-FR"
        )
        try:
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            context.add_init_script(WATCH)
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{server.url}/episodes/{slug}?t=30")
            page.wait_for_load_state("networkidle")
            sync_api.expect(page.locator(".speaking-bar")).to_be_visible()
            page.locator(".passage").get_by_role("button", name="Copier la citation").click()
            page.wait_for_selector("#toast.is-visible")
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.startswith("« La souveraineté numérique est une bataille de long terme.")
            assert "» — Julien Pillot (économiste, Inseec), SMART TECH, jeudi 23 octobre 2025, 00:30, http" in copied
            assert copied.endswith(f"/episodes/{slug}?t=30")
            page.locator(".speaking-time").scroll_into_view_if_needed()
            shoot(page, "episode-speaking-time")
            page.goto(f"{server.url}/guests/julien-pillot")
            page.wait_for_load_state("networkidle")
            shoot(page, "guest-spoken-passages", full_page=True)
            problems += page.evaluate("window.__problems || []")
        finally:
            context.close()
    assert problems == []

"""Who said what: speakers read from every format that carries them, stored, shown, served and searched."""

import json

import html5lib
import pytest

from app.caption_files import to_vtt
from app.ingest.formats import parse_transcript
from app.ingest.jsonfile import parse_json
from app.ingest.page import parse_page
from app.ingest.speakers import split_speaker
from app.ingest.subrip import parse_srt
from app.ingest.transcript import Caption
from app.ingest.vtt import parse_vtt
from app.services.ingest import ingest_bytes
from tests.conftest import ON_BOTH_BACKENDS, SEEDS, TODAY

# A panel stated by a sidecar, and voice tags that spell two of its names their own way.
PANEL = json.dumps(
    {
        "title": "Le débrief des voix",
        "show": "SMART TECH",
        "aired_on": "2025-10-23",
        "host": "Delphine Sabattier",
        "guests": [
            {"name": "Julien Pillot", "role": "économiste, Inseec"},
            {"name": "Garance Mathias", "role": "Avocate"},
        ],
    }
).encode()

VOICES = """WEBVTT

00:00:00.000 --> 00:00:04.000
<v Delphine Sabattier>Bonjour à tous, bienvenue dans le débrief.

00:00:04.000 --> 00:00:09.000
<v.loud JULIEN PILLOT>La souveraineté numérique est une bataille.</v>

00:00:09.000 --> 00:00:12.000
Les hyperscalers américains dominent le marché européen.

00:00:12.000 --> 00:00:16.000
<v Garance Mathias>Le droit européen protège les données personnelles.

00:00:16.000 --> 00:00:20.000
<v Julien Pilot>Et la souveraineté passe par le cloud.
""".encode()

WHISPERX = json.dumps(
    {
        "segments": [
            {"start": 0.0, "end": 3.5, "text": " Bienvenue sur le plateau.", "speaker": "SPEAKER_00"},
            {"start": 3.5, "end": 7.0, "text": " Parlons de satellites en orbite basse.", "speaker": "SPEAKER_01"},
            {"start": 7.0, "end": 9.0, "text": " Une constellation entière."},
            {"start": 9.0, "end": 12.0, "text": " Merci beaucoup.", "speaker": "SPEAKER_00"},
        ],
        "language": "fr",
    }
).encode()

PREFIXES = b"""1
00:00:00,000 --> 00:00:03,000
JULIEN PILLOT : Bonjour, on parle de cloud souverain.

2
00:00:03,000 --> 00:00:06,000
comme l'a dit

3
00:00:06,000 --> 00:00:09,000
Emmanuel Macron : la France est de retour.

4
00:00:09,000 --> 00:00:12,000
- Anne Dupont : Exemple : un cloud vraiment souverain.

5
00:00:12,000 --> 00:00:14,000
[Musique]

6
00:00:14,000 --> 00:00:17,000
[Julien Pillot] Bon : je reprends.
"""


def speakers(captions: list[Caption]) -> list[str | None]:
    return [c.speaker for c in captions]


# --- parsers ----------------------------------------------------------------------------------


def test_vtt_voice_tags_are_speakers_and_a_line_without_one_continues_the_turn():
    captions = parse_vtt(VOICES).captions
    assert speakers(captions) == [
        "Delphine Sabattier",
        "Julien Pillot",  # <v.loud JULIEN PILLOT>: a class on the voice, a name in capitals
        "Julien Pillot",
        "Garance Mathias",
        "Julien Pilot",
    ]
    assert captions[1].text == "La souveraineté numérique est une bataille."


def test_a_vtt_cue_with_two_voices_is_two_lines():
    data = b"WEBVTT\n\n00:01.000 --> 00:03.000\n<v Anne Dupont>Oui ?\n<v Marc Roux>Non &amp; non.\n"
    captions = parse_vtt(data).captions
    assert [(c.start, c.end, c.text, c.speaker) for c in captions] == [
        (1.0, 3.0, "Oui ?", "Anne Dupont"),
        (1.0, 3.0, "Non & non.", "Marc Roux"),
    ]


def test_whisperx_speakers_are_kept_as_labels():
    transcript = parse_json(WHISPERX)
    assert transcript.format == "whisper"
    assert speakers(transcript.captions) == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_01", "SPEAKER_00"]


def test_a_json_speaker_of_the_wrong_type_is_refused_with_its_segment():
    from app.ingest.transcript import TranscriptError

    with pytest.raises(TranscriptError, match="segment n°1"):
        parse_json(b'{"segments": [{"start": 0, "end": 1, "text": "a", "speaker": 3}]}')


def test_srt_speaker_prefixes_are_removed_from_the_text():
    captions = parse_srt(PREFIXES).captions
    assert [(c.speaker, c.text) for c in captions] == [
        ("Julien Pillot", "Bonjour, on parle de cloud souverain."),
        ("Julien Pillot", "comme l'a dit"),
        # a name and a colon inside a sentence that runs on from the line before: not a turn
        ("Julien Pillot", "Emmanuel Macron : la France est de retour."),
        ("Anne Dupont", "Exemple : un cloud vraiment souverain."),
        ("Anne Dupont", "[Musique]"),
        ("Julien Pillot", "Bon : je reprends."),
    ]


def test_page_text_speaker_prefixes():
    text = (
        "Catégorie\n🗞\nNewsTranscription\n"
        "00:00DELPHINE SABATTIER : Bonjour à tous.\n"
        "00:04Bienvenue dans le débrief.\n"
        "00:07- Julien Pillot : Merci Delphine.\n"
        "00:10[Garance Mathias] Le droit avance.\n"
        "Commentaires\n"
    )
    captions = parse_page(text.encode(), today=TODAY).captions
    assert [(c.start, c.speaker, c.text) for c in captions] == [
        (0.0, "Delphine Sabattier", "Bonjour à tous."),
        (4.0, "Delphine Sabattier", "Bienvenue dans le débrief."),
        (7.0, "Julien Pillot", "Merci Delphine."),
        (10.0, "Garance Mathias", "Le droit avance."),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Bon : on y va.",
        "Exemple : le cloud souverain.",
        "Attention : gros débrief.",
        "AWS : une panne de quinze heures.",
        "EDIC : un consortium européen.",
        "Bon Alors : on commence.",
        "Premier Point : la panne.",
        "JE PENSE QUE : oui.",
        "C'est simple : non.",
        "[Musique]",
        "[Rires]",
        "[Applaudissements Du Public]",
        "12:30 : rendez-vous.",
        "le président : il a dit non.",
    ],
)
def test_sentences_with_a_colon_are_not_speakers(line):
    assert split_speaker(line, after=None) == (None, line)
    assert split_speaker(line, after="Fin de phrase.") == (None, line)


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_no_seed_line_is_taken_for_a_speaker(path):
    captions = parse_transcript(path.name, path.read_bytes(), today=TODAY).captions
    assert [c.text for c in captions if c.speaker] == []


def test_every_seed_line_read_as_a_caption_of_its_own_names_no_speaker():
    """Each seed line as the first line of a cue, after a finished sentence: the strictest reading."""
    lines = [
        c.text for path in sorted(SEEDS.glob("*.txt")) for c in parse_page(path.read_bytes(), today=TODAY).captions
    ]
    assert [line for line in lines if split_speaker(line, after="Fin.")[0]] == []


# --- stored and served --------------------------------------------------------------------------


def ingest(session, index, name: str, data: bytes, sidecar: bytes | None = None) -> str:
    outcome = ingest_bytes(session, name, data, index=index, sidecar=sidecar, today=TODAY)
    assert outcome.status in ("added", "updated"), outcome.reason
    assert outcome.slug is not None
    return outcome.slug


def segment_speakers(client, slug: str) -> list[dict | None]:
    response = client.get(f"/api/episodes/{slug}")
    assert response.status_code == 200
    return [segment["speaker"] for segment in response.json()["segments"]]


def test_named_speakers_are_the_episodes_people(client, session, index):
    slug = ingest(session, index, "voix.vtt", VOICES, PANEL)
    delphine = {"slug": "delphine-sabattier", "name": "Delphine Sabattier"}
    julien = {"slug": "julien-pillot", "name": "Julien Pillot"}
    garance = {"slug": "garance-mathias", "name": "Garance Mathias"}
    # "JULIEN PILLOT" and "Julien Pilot" are the panel's Julien Pillot: the one-person rule
    assert segment_speakers(client, slug) == [delphine, julien, julien, garance, julien]
    guests = client.get("/api/guests").json()
    assert sorted(g["slug"] for g in guests["items"]) == ["garance-mathias", "julien-pillot"]


def test_diarization_labels_stay_labels_linked_to_no_one(client, session, index):
    slug = ingest(session, index, "whisperx.json", WHISPERX)
    assert segment_speakers(client, slug) == [
        {"slug": None, "name": "SPEAKER_00"},
        {"slug": None, "name": "SPEAKER_01"},
        {"slug": None, "name": "SPEAKER_01"},
        {"slug": None, "name": "SPEAKER_00"},
    ]
    assert client.get("/api/guests").json()["total"] == 0


def test_a_named_speaker_no_one_knows_becomes_a_person_who_appears_in_the_episode(client, session, index):
    slug = ingest(session, index, "prefixes.srt", PREFIXES)
    names = [s and (s["slug"], s["name"]) for s in segment_speakers(client, slug)]
    assert names == [("julien-pillot", "Julien Pillot")] * 3 + [("anne-dupont", "Anne Dupont")] * 2 + [
        ("julien-pillot", "Julien Pillot")
    ]
    episode = client.get(f"/api/episodes/{slug}").json()
    assert [g["slug"] for g in episode["guests"]] == ["julien-pillot", "anne-dupont"]
    # a later episode's description naming him finds the same person
    again = ingest(session, index, "voix.vtt", VOICES, PANEL)
    assert segment_speakers(client, again)[1] == {"slug": "julien-pillot", "name": "Julien Pillot"}
    appearances = client.get("/api/guests/julien-pillot").json()["appearances"]
    assert sorted(a["episode"]["slug"] for a in appearances) == sorted([slug, again])


def test_seeds_have_no_speaker_anywhere(client, seeded):
    for slug in seeded.values():
        assert set(map(json.dumps, segment_speakers(client, slug))) == {"null"}


def test_json_export_round_trips_speakers(client, session, index):
    slug = ingest(session, index, "voix.vtt", VOICES, PANEL)
    exported = client.get(f"/episodes/{slug}/transcript.json")
    assert exported.status_code == 200
    document = exported.json()
    assert document["segments"][1]["speaker"] == {"slug": "julien-pillot", "name": "Julien Pillot"}
    copy = ingest(session, index, "copie.json", exported.content)
    assert segment_speakers(client, copy) == segment_speakers(client, slug)
    labels = ingest(session, index, "whisperx.json", WHISPERX)
    relabelled = ingest(session, index, "copie-x.json", client.get(f"/episodes/{labels}/transcript.json").content)
    assert segment_speakers(client, relabelled) == segment_speakers(client, labels)


def test_vtt_export_writes_voice_tags_that_read_back(client, session, index):
    slug = ingest(session, index, "voix.vtt", VOICES, PANEL)
    vtt = client.get(f"/episodes/{slug}/transcript.vtt").text
    assert "<v Julien Pillot>La souveraineté numérique est une bataille." in vtt
    assert "<v Delphine Sabattier>Bonjour à tous" in vtt
    assert speakers(parse_vtt(vtt.encode()).captions) == [
        "Delphine Sabattier",
        "Julien Pillot",
        "Julien Pillot",
        "Garance Mathias",
        "Julien Pillot",  # the person's name, not the file's misspelling
    ]
    srt = client.get(f"/episodes/{slug}/transcript.srt").text
    assert speakers(parse_srt(srt.encode()).captions) == speakers(parse_vtt(vtt.encode()).captions)
    assert to_vtt([Caption(0, 1, "a < b", "A & B")]).endswith("<v A &amp; B>a &lt; b\n")


@ON_BOTH_BACKENDS
def test_search_hits_carry_their_speaker(client, session, index):
    slug = ingest(session, index, "voix.vtt", VOICES, PANEL)
    hits = client.get("/api/search", params={"q": "données personnelles"}).json()["hits"]
    assert [(h["episode"]["slug"], h["speaker"]) for h in hits] == [
        (slug, {"slug": "garance-mathias", "name": "Garance Mathias"})
    ]
    whisper = ingest(session, index, "whisperx.json", WHISPERX)
    hits = client.get("/api/search", params={"q": "satellites"}).json()["hits"]
    assert [(h["episode"]["slug"], h["speaker"]) for h in hits] == [(whisper, {"slug": None, "name": "SPEAKER_01"})]


@ON_BOTH_BACKENDS
def test_said_by_filter_finds_only_that_persons_lines(client, session, index):
    ingest(session, index, "voix.vtt", VOICES, PANEL)
    every = client.get("/api/search", params={"q": "souveraineté"}).json()
    assert every["total"] == 2
    said = client.get("/api/search", params={"q": "souveraineté OR données", "speaker": "julien-pillot"}).json()
    assert said["total"] == 2
    assert {h["speaker"]["slug"] for h in said["hits"]} == {"julien-pillot"}
    assert said["episode_matches"] == []
    # her line says "données", not "souveraineté"; the passage before hers is Julien Pillot's
    assert client.get("/api/search", params={"q": "souveraineté", "speaker": "garance-mathias"}).json()["total"] == 0
    hers = client.get("/api/search", params={"q": "données", "speaker": "garance-mathias"}).json()
    # a hit's text runs on past its line, as every hit's does; its speaker is its line's
    assert [h["text"].startswith("Le droit européen protège les données") for h in hers["hits"]] == [True]
    assert client.get("/api/search", params={"q": "souveraineté", "speaker": "personne"}).json()["total"] == 0


@ON_BOTH_BACKENDS
def test_search_page_said_by_filter(client, session, index):
    ingest(session, index, "voix.vtt", VOICES, PANEL)
    page = client.get("/search", params={"q": "souveraineté OR données", "speaker": "garance-mathias"})
    assert page.status_code == 200
    document = html5lib.parse(page.text, namespaceHTMLElements=False)
    options = {o.get("value"): o.text for o in document.iter("option") if o.get("value")}
    assert options["garance-mathias"] == "Garance Mathias"
    hits = ["".join(p.itertext()) for p in document.iter("p") if p.get("class") == "snippet"]
    assert [hit.startswith("Garance Mathias : Le droit européen protège les données") for hit in hits] == [True]


def test_transcript_shows_turns_with_the_persons_page_and_role(client, session, index):
    slug = ingest(session, index, "voix.vtt", VOICES, PANEL)
    page = client.get(f"/episodes/{slug}", params={"vue": "lignes"})
    assert page.status_code == 200
    document = html5lib.parse(page.text, namespaceHTMLElements=False)
    transcript = next(ol for ol in document.iter("ol") if "transcript" in (ol.get("class") or ""))
    turns = []
    for number, li in enumerate(transcript.findall("li")):
        for p in li.findall("p"):
            link = p.find("a")
            role = p.find("span")
            turns.append((number, link.text, link.get("href"), role.text if role is not None else None))
    # the reading view: each turn opens a paragraph, its speaker named above it
    document = html5lib.parse(client.get(f"/episodes/{slug}").text, namespaceHTMLElements=False)
    transcript = next(div for div in document.iter("div") if "transcript-reading" in (div.get("class") or ""))
    reading, speaker = [], None
    for p in transcript.findall("p"):
        if p.get("class") == "speaker":
            speaker = p
        elif speaker is not None:
            first = next(e for e in p.iter("span") if (e.get("id") or "").startswith("l-"))
            link, role = speaker.find("a"), speaker.find("span")
            reading.append(
                (int(first.get("id")[2:]), link.text, link.get("href"), role.text if role is not None else None)
            )
            speaker = None
    assert reading == turns
    assert turns == [
        (0, "Delphine Sabattier", "/guests/delphine-sabattier", None),
        (1, "Julien Pillot", "/guests/julien-pillot", "économiste, Inseec"),
        (3, "Garance Mathias", "/guests/garance-mathias", "Avocate"),
        (4, "Julien Pillot", "/guests/julien-pillot", "économiste, Inseec"),
    ]


def test_transcript_shows_a_label_without_a_link(client, session, index):
    slug = ingest(session, index, "whisperx.json", WHISPERX)
    document = html5lib.parse(client.get(f"/episodes/{slug}").text, namespaceHTMLElements=False)
    turns = [("".join(p.itertext()), p.find("a")) for p in document.iter("p") if p.get("class") == "speaker"]
    assert turns == [("SPEAKER_00", None), ("SPEAKER_01", None), ("SPEAKER_00", None)]


@ON_BOTH_BACKENDS
def test_merging_a_speaker_moves_their_lines_and_the_filter_follows(admin_token, client, session, index):
    ingest(session, index, "prefixes.srt", PREFIXES.replace(b"Anne Dupont", b"Ann Dupon"))
    slug = ingest(
        session, index, "anne.vtt", b"WEBVTT\n\n00:00.000 --> 00:02.000\n<v Anne Dupont>Le cloud souverain.\n"
    )
    assert client.get("/api/search", params={"q": "cloud", "speaker": "anne-dupont"}).json()["total"] == 1
    merged = client.post(
        "/api/guests/ann-dupon/merge", json={"into": "anne-dupont"}, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert merged.status_code == 200
    found = client.get("/api/search", params={"q": "cloud", "speaker": "anne-dupont"}).json()
    assert found["total"] == 2 and {h["speaker"]["slug"] for h in found["hits"]} == {"anne-dupont"}
    assert segment_speakers(client, slug)[0] == {"slug": "anne-dupont", "name": "Anne Dupont"}


@ON_BOTH_BACKENDS
def test_merging_a_person_reindexes_an_episode_where_they_alone_speak(admin_token, client, session, index):
    """The episodes to index again are those where the merged person speaks, even where no one
    else is named: there too, the passages now say the other person's name."""
    alone = ingest(session, index, "ann.vtt", b"WEBVTT\n\n00:00.000 --> 00:02.000\n<v Ann Dupon>Le cloud public.\n")
    ingest(session, index, "anne.vtt", b"WEBVTT\n\n00:00.000 --> 00:02.000\n<v Anne Dupont>Le cloud souverain.\n")
    merged = client.post(
        "/api/guests/ann-dupon/merge", json={"into": "anne-dupont"}, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert merged.status_code == 200
    found = client.get("/api/search", params={"q": "cloud", "speaker": "anne-dupont"}).json()
    assert found["total"] == 2 and alone in {h["episode"]["slug"] for h in found["hits"]}


@ON_BOTH_BACKENDS
def test_a_changed_file_changes_its_speakers(client, session, index):
    slug = ingest(session, index, "voix.vtt", VOICES, PANEL)
    changed = VOICES.replace(b"<v Garance Mathias>", b"<v Delphine Sabattier>")
    assert ingest(session, index, "voix.vtt", changed, PANEL) == slug
    assert segment_speakers(client, slug)[3] == {"slug": "delphine-sabattier", "name": "Delphine Sabattier"}
    assert client.get("/api/search", params={"q": "données", "speaker": "garance-mathias"}).json()["total"] == 0


@ON_BOTH_BACKENDS
def test_words_near_each_other_are_found_once_in_the_turn_where_they_start(client, session, index):
    ingest(session, index, "voix.vtt", VOICES, PANEL)
    # her line follows Julien Pillot's turn, a passage of two lines which says "européen" too: the
    # window in her line is hers, not the end of his passage's
    found = client.get("/api/search", params={"q": "droit européen"}).json()
    assert found["total"] == 1
    assert found["hits"][0]["speaker"]["slug"] == "garance-mathias"
    assert client.get("/api/search", params={"q": "droit européen", "speaker": "julien-pillot"}).json()["total"] == 0
    # words on both sides of a change of speaker: the window starts in his turn
    across = client.get("/api/search", params={"q": "hyperscalers droit"}).json()
    assert across["total"] == 1 and across["hits"][0]["speaker"]["slug"] == "julien-pillot"
    assert (
        client.get("/api/search", params={"q": "hyperscalers droit", "speaker": "garance-mathias"}).json()["total"] == 0
    )


def test_a_known_guest_who_speaks_and_is_introduced_appears_once(client, session, index, seeded):
    data = (
        "WEBVTT\n\n00:00.000 --> 00:04.000\n<v Delphine Sabattier>Avec nous Julien Pillot, économiste.\n\n"
        "00:04.000 --> 00:08.000\n<v Julien Pillot>Merci, la souveraineté numérique avance.\n"
    ).encode()
    slug = ingest(session, index, "sans-description.vtt", data)
    episode = client.get(f"/api/episodes/{slug}").json()
    assert [g["slug"] for g in episode["guests"]] == ["julien-pillot"]  # the seeds' Julien Pillot, once
    assert segment_speakers(client, slug)[1] == {"slug": "julien-pillot", "name": "Julien Pillot"}
    # the seeds' host, who hosts and is never a guest: this episode's host
    assert episode["segments"][0]["speaker"]["slug"] == "delphine-sabattier"
    assert episode["host"] == "Delphine Sabattier"
    # his page lists the episode with the others
    appearances = client.get("/api/guests/julien-pillot").json()["appearances"]
    assert slug in [a["episode"]["slug"] for a in appearances]

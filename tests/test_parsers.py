"""Every transcript format, on the real seed pages and on crafted files for each variation."""

import itertools
import json
from datetime import date
from pathlib import Path

import pytest

from app.ingest.decoding import decode_text
from app.ingest.formats import check_shape, is_transcript_name, parse_transcript
from app.ingest.jsonfile import parse_json
from app.ingest.page import parse_page
from app.ingest.sidecar import merge_facts, parse_sidecar
from app.ingest.subrip import parse_srt
from app.ingest.transcript import Caption, EpisodeFacts, GuestMention, TranscriptError
from app.ingest.vtt import parse_vtt

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TODAY = date(2026, 11, 22)


def seed(prefix: str) -> bytes:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_bytes()


def page(text: str) -> list[Caption]:
    return parse_page(text.encode("utf-8"), today=TODAY).captions


# --- page text: the real seeds ---------------------------------------------------------------

SEED_CAPTIONS = [
    # prefix, count, first text, last start, last text
    (
        "000",
        866,
        "Bonjour à tous, bienvenue dans Smartech, en étant direct ensemble pour 25 minutes,",
        24 * 60 + 32,
        "À bientôt.",
    ),
    (
        "001",
        1017,
        "Bonjour à tous, nous sommes ensemble pour une demi-heure, une demi-heure de débrief.",
        28 * 60 + 48,
        "sur Bsmart for Change",
    ),
    ("002", 1022, "Tech & Co, la quotidienne, le débrief de la tech.", 24 * 60 + 49, "F.M."),
    (
        "003",
        676,
        "C'est parti pour le grand débrief de l'ActuTech de Smartech.",
        28 * 60 + 11,
        "à l'antenne pour un nouveau Smartech.",
    ),
    (
        "004",
        1225,
        "Bonjour, bienvenue à tous, vous nous regardez, nous sommes en direct à 10h45 comme tous les jeudis.",
        28 * 60 + 30,
        "jeudi prochain en direct",
    ),
]


@pytest.mark.parametrize(("prefix", "count", "first_text", "last_start", "last_text"), SEED_CAPTIONS)
def test_seed_page_gives_every_caption_line_and_no_page_text(prefix, count, first_text, last_start, last_text):
    transcript = parse_page(seed(prefix), today=TODAY)
    captions = transcript.captions
    assert transcript.format == "page"
    assert len(captions) == count
    assert (captions[0].start, captions[0].text) == (0.0, first_text)
    assert (captions[-1].start, captions[-1].end, captions[-1].text) == (last_start, last_start, last_text)
    page_words = ("Catégorie", "Transcription", "premier commentaire", "Commentaires", "Recommandations")
    assert not [c.text for c in captions if any(word in c.text for word in page_words)]


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_page_line_ends_where_the_next_one_starts(prefix):
    captions = parse_page(seed(prefix), today=TODAY).captions
    assert len(captions) > 600
    assert all(c.end == n.start for c, n in itertools.pairwise(captions))
    assert all(c.start <= n.start for c, n in itertools.pairwise(captions))


def test_seed_000_second_line_and_its_footer_without_final_newline():
    data = seed("000")
    assert data.endswith("À bientôt.\nÉcris le tout premier commentaire".encode())
    captions = parse_page(data, today=TODAY).captions
    assert captions[1] == Caption(start=13.0, end=15.0, text="vous nous regardez sur la chaîne BeSmart for Change.")


def test_seed_002_keeps_its_empty_caption_line_and_drops_recommandations():
    captions = parse_page(seed("002"), today=TODAY).captions
    empty = [c for c in captions if not c.text]
    assert empty == [Caption(start=21 * 60 + 22, end=21 * 60 + 22, text="")]
    assert captions[-2].text == "fondateur de Cafétech.com"


def test_seed_page_digits_glued_after_the_timestamp_stay_in_the_text():
    captions = parse_page(seed("000"), today=TODAY).captions
    assert Caption(start=20 * 60 + 2, end=20 * 60 + 3, text="8500 milliards.") in captions


def test_seed_page_description_becomes_the_episode_facts():
    facts = parse_page(seed("002"), today=TODAY).facts
    assert facts.show == "Tech & Co, la quotidienne"
    assert facts.aired_on == date(2025, 11, 6)
    assert facts.description.startswith("Ce jeudi 6 novembre, François Sorel a reçu Didier Sanz")
    assert facts.description.endswith("réécoutez la en podcast.")


def test_seed_003_page_without_a_named_show_has_only_its_description():
    facts = parse_page(seed("003"), today=TODAY).facts
    assert (facts.show, facts.host, facts.aired_on, facts.guests) == (None, None, None, [])
    assert facts.description.startswith("Face aux enjeux de souveraineté numérique")


# --- page text: crafted variations ----------------------------------------------------------

DESCRIPTION = (
    "Jeudi 23 octobre 2025, retrouvez Garance Mathias (Avocate) dans SMART TECH, "
    "une émission présentée par Delphine Sabattier."
)


@pytest.mark.parametrize(
    "leading",
    [
        "",
        "Passer au playerPasser au contenu principal\n  • il y a 23 heures\n",
        "- il y a 3 mois\n",
        "• avant-hier\n\n",
        "\n\nPasser au contenu principal\n- il y a 1 semaine\n\n",
    ],
)
def test_page_leading_lines_are_not_the_description(leading):
    transcript = parse_page(
        f"{leading}{DESCRIPTION}\nCatégorie\n🗞\nNewsTranscription\n00:00Bonjour.\n".encode(), today=TODAY
    )
    assert transcript.facts.description == DESCRIPTION
    assert transcript.facts.host == "Delphine Sabattier"
    assert transcript.captions == [Caption(0.0, 0.0, "Bonjour.")]


@pytest.mark.parametrize(
    "heading",
    ["NewsTranscription", "News\nTranscription", "\nCatégorie\n\n📺\nTV\nTranscription\n", "TVTranscription"],
)
def test_page_transcription_heading_glued_or_not(heading):
    text = f"{DESCRIPTION}\nCatégorie\n🗞\n{heading}\n00:00Bonjour.\n00:05Au revoir.\n"
    transcript = parse_page(text.encode(), today=TODAY)
    assert transcript.facts.description == DESCRIPTION
    assert [c.text for c in transcript.captions] == ["Bonjour.", "Au revoir."]


def test_page_without_header_is_only_caption_lines():
    transcript = parse_page(b"00:00Bonjour.\n00:04Suite.\n", today=TODAY)
    assert transcript.captions == [Caption(0.0, 4.0, "Bonjour."), Caption(4.0, 4.0, "Suite.")]
    assert transcript.facts == EpisodeFacts()


def test_page_hour_timestamps_after_minute_timestamps():
    captions = page("59:58Presque une heure.\n1:00:02Une heure passée.\n1:02:03Encore.\n")
    assert [(c.start, c.end) for c in captions] == [(3598.0, 3602.0), (3602.0, 3723.0), (3723.0, 3723.0)]
    assert captions[1].text == "Une heure passée."


def test_page_crlf_and_bom_read_like_lf():
    text = f"- il y a 3 mois\r\n{DESCRIPTION}\r\nCatégorie\r\n🗞\r\nNewsTranscription\r\n00:00Bonjour.\r\n00:03Oui.\r\n"
    with_bom = parse_page(b"\xef\xbb\xbf" + text.encode(), today=TODAY)
    plain = parse_page(text.replace("\r\n", "\n").encode(), today=TODAY)
    assert with_bom.captions == plain.captions == [Caption(0.0, 3.0, "Bonjour."), Caption(3.0, 3.0, "Oui.")]
    assert with_bom.facts == plain.facts


def test_page_continuation_lines_join_the_caption_with_a_space():
    captions = page("00:00Une phrase coupée\nau milieu\n  et encore\n00:04Suivante.\n")
    assert captions == [Caption(0.0, 4.0, "Une phrase coupée au milieu et encore"), Caption(4.0, 4.0, "Suivante.")]


def test_page_text_after_a_blank_line_is_kept_only_when_a_caption_follows():
    captions = page("00:00Début\n\nsuite après un blanc\n00:04Fin.\n\nVoir la chaîne\n")
    assert [c.text for c in captions] == ["Début suite après un blanc", "Fin."]


def test_page_empty_caption_text_is_kept():
    assert page("00:00\n00:02Texte.\n") == [Caption(0.0, 2.0, ""), Caption(2.0, 2.0, "Texte.")]


def test_page_repeated_timestamps_are_fine():
    captions = page("00:09Un.\n00:09Deux.\n00:10Trois.\n")
    assert [(c.start, c.end) for c in captions] == [(9.0, 9.0), (9.0, 10.0), (10.0, 10.0)]


def test_page_line_with_75_minutes_is_not_read_as_a_timestamp():
    # "1:75:00" is no time of day: the line is text, and continues the caption line before it
    captions = page("00:00Un.\n00:10Deux.\n1:75:00Trois.\n00:20Quatre.\n")
    assert [(c.start, c.end) for c in captions] == [(0.0, 10.0), (10.0, 20.0), (20.0, 20.0)]
    assert captions[1].text == "Deux. 1:75:00Trois."
    with pytest.raises(TranscriptError, match="aucune ligne de transcription"):
        page("1:75:00Trois.\n")


@pytest.mark.parametrize(
    "ending",
    [
        "\nCommentaires",
        "\nÉcris le tout premier commentaire",
        "\n\nRecommandations\n12:34Une autre vidéo\n- il y a 2 jours\n",
        "Écris le tout premier commentaire",
        "Commentaires\n",
        "\nCommentaires\nÉcris le tout premier commentaire\n",
    ],
)
def test_page_trailing_page_text_is_dropped_even_glued(ending):
    captions = page(f"00:00Bonjour.\n00:05À bientôt.{ending}")
    assert captions == [Caption(0.0, 5.0, "Bonjour."), Caption(5.0, 5.0, "À bientôt.")]


def test_page_caption_mentioning_comments_is_not_page_text():
    captions = page("00:00Envoyez vos commentaires\n00:03sur Commentaires et avis.\n")
    assert [c.text for c in captions] == ["Envoyez vos commentaires", "sur Commentaires et avis."]


def test_backwards_timestamp_is_refused_with_its_line():
    text = f"- il y a 3 mois\n{DESCRIPTION}\nCatégorie\n🗞\nNewsTranscription\n00:00Un.\n00:10Deux.\n00:09Trois.\n"
    with pytest.raises(TranscriptError) as caught:
        parse_page(text.encode(), today=TODAY)
    assert caught.value.line == 8
    assert "ligne 8" in str(caught.value) and "00:09" in str(caught.value)


def test_page_without_caption_line_is_refused():
    with pytest.raises(TranscriptError, match="aucune ligne de transcription"):
        parse_page(f"{DESCRIPTION}\nCatégorie\nNews\n".encode(), today=TODAY)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "vide"),
        (b"  \n\r\n", "vide"),
        (b"00:00Bon\x00jour\n", "octets nuls"),
        ("00:00Ça va très bien\n".encode("latin-1"), "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binaire|UTF-8|nuls"),
        (b"PK\x03\x04\x14\x00\x06\x00", "binaire|nuls"),
        ("00:00Bonjour\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_page_that_is_not_text_is_refused_with_the_reason(data, reason):
    with pytest.raises(TranscriptError, match=reason):
        parse_page(data, today=TODAY)


def test_control_characters_are_refused_naming_their_line():
    with pytest.raises(TranscriptError) as caught:
        decode_text(b"00:00Un\n00:04Deux\n00:08Tr\x07ois\n")
    assert caught.value.line == 3 and "fichier binaire" in caught.value.reason


def test_nul_bytes_are_refused_naming_the_first_line_that_holds_one():
    with pytest.raises(TranscriptError) as caught:
        decode_text(b"00:00Un\n00:04Deux\n00:08Tr\x00ois\n\x00\n")
    assert caught.value.line == 3 and "octets nuls" in caught.value.reason


def test_latin1_bytes_are_refused_naming_the_line():
    with pytest.raises(TranscriptError) as caught:
        decode_text("00:00Bonjour\n00:02Déjà\n".encode("latin-1"))
    assert caught.value.line == 2
    assert "UTF-8" in caught.value.reason


# --- WebVTT ---------------------------------------------------------------------------------

VTT = """WEBVTT - épisode

STYLE
::cue { color: yellow }

NOTE écrit à la main
sur deux lignes

1
00:00:01.000 --> 00:00:04.500 align:start position:10% line:0
<v Roger Bingham>Bonjour à <i>tous</i>,</v>
bienvenue.

00:00:04.500 --> 00:00:06.000
<c.yellow>Tech &amp; Co</c> <00:00:05.000>en direct

01:02:03.004 --> 01:02:05.000
Fin.
"""


def test_vtt_cues_become_plain_caption_lines():
    transcript = parse_vtt(VTT.encode())
    assert transcript.format == "vtt"
    # the voice tag is the speaker, and the lines after it continue Roger Bingham's turn
    assert transcript.captions == [
        Caption(1.0, 4.5, "Bonjour à tous, bienvenue.", "Roger Bingham"),
        Caption(4.5, 6.0, "Tech & Co en direct", "Roger Bingham"),
        Caption(3723.004, 3725.0, "Fin.", "Roger Bingham"),
    ]


def test_vtt_with_bom_and_crlf():
    data = b"\xef\xbb\xbf" + VTT.replace("\n", "\r\n").encode()
    assert parse_vtt(data).captions == parse_vtt(VTT.encode()).captions


def test_vtt_minute_only_timestamps():
    assert parse_vtt(b"WEBVTT\n\n00:01.000 --> 00:02.250\nCourt.\n").captions == [Caption(1.0, 2.25, "Court.")]


def test_vtt_malformed_timestamp_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_vtt(b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nUn.\n\n00:00:0x.000 --> 00:00:04.000\nDeux.\n")
    assert caught.value.line == 6


def test_vtt_impossible_timestamp_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_vtt(b"WEBVTT\n\n00:00:61.000 --> 00:01:02.000\nUn.\n")
    assert caught.value.line == 3


def test_vtt_75_minutes_in_an_hour_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_vtt(b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nUn.\n\n01:75:00.000 --> 01:76:00.000\nDeux.\n")
    assert caught.value.line == 6 and "01:75:00.000" in caught.value.reason


def test_vtt_without_header_is_refused():
    with pytest.raises(TranscriptError, match="WEBVTT"):
        parse_vtt(b"00:00:01.000 --> 00:00:02.000\nUn.\n")


def test_vtt_without_cues_is_refused():
    with pytest.raises(TranscriptError, match="aucune ligne"):
        parse_vtt(b"WEBVTT\n\nNOTE rien ici\n")


def test_vtt_cue_going_backwards_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_vtt(b"WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nUn.\n\n00:00:01.000 --> 00:00:02.000\nDeux.\n")
    assert caught.value.line == 6


def test_vtt_cue_ending_before_it_starts_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_vtt(b"WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nUn.\n")
    assert caught.value.line == 3


# --- SubRip ---------------------------------------------------------------------------------

SRT = """1
00:00:01,000 --> 00:00:04,500
<i>Bonjour</i> à tous,
bienvenue.

2
00:00:04,500 --> 00:00:06,000
{\\an8}<font color="#ffff00">Tech & Co</font> < en direct

3
01:02:03,004 --> 01:02:05,000
Fin.
"""


def test_srt_subtitles_become_plain_caption_lines():
    transcript = parse_srt(SRT.encode())
    assert transcript.format == "srt"
    assert transcript.captions == [
        Caption(1.0, 4.5, "Bonjour à tous, bienvenue."),
        Caption(4.5, 6.0, "Tech & Co < en direct"),
        Caption(3723.004, 3725.0, "Fin."),
    ]


def test_srt_with_bom_and_crlf():
    assert parse_srt(b"\xef\xbb\xbf" + SRT.replace("\n", "\r\n").encode()).captions == parse_srt(SRT.encode()).captions


def test_srt_malformed_block_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_srt(b"1\n00:00:01,000 --> 00:00:02,000\nUn.\n\n2\nceci n'est pas un minutage\nDeux.\n")
    assert caught.value.line == 6


def test_srt_broken_arrow_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_srt(b"1\n00:00:01,000 --> 00:00:02,000\nUn.\n\n2\n00:00:03,000 -> 00:00:04,000\nDeux.\n")
    assert caught.value.line == 6


def test_srt_text_before_the_first_block_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_srt(b"\n\nnot a subtitle\n\n1\n00:00:01,000 --> 00:00:02,000\nUn.\n")
    assert caught.value.line == 3


def test_srt_garbled_end_time_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_srt(b"1\n00:00:01,000 --> 00:00:02,000\nUn.\n\n2\n00:00:03,000 --> 00:00:0x,000\nDeux.\n")
    assert caught.value.line == 6


def test_srt_without_subtitles_is_refused():
    with pytest.raises(TranscriptError):
        parse_srt(b"juste du texte\n")


def test_srt_going_backwards_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_srt(b"1\n00:00:05,000 --> 00:00:06,000\nUn.\n\n2\n00:00:01,000 --> 00:00:02,000\nDeux.\n")
    assert caught.value.line == 6


@pytest.mark.parametrize(
    "timing",
    [
        "01:75:00,000 --> 01:76:00,000",  # 75 minutes in an hour
        "00:00:03,000 --> 00:00:61,000",  # 61 seconds in a minute
        "00:60:00,000 --> 01:00:01,000",
    ],
)
def test_srt_minutes_or_seconds_past_59_are_refused_with_their_line(timing):
    with pytest.raises(TranscriptError) as caught:
        parse_srt(f"1\n00:00:01,000 --> 00:00:02,000\nUn.\n\n2\n{timing}\nDeux.\n".encode())
    assert caught.value.line == 6
    assert "horodatage SubRip invalide" in caught.value.reason


def test_srt_last_minute_and_second_of_an_hour_are_fine():
    captions = parse_srt(b"1\n00:59:59,000 --> 01:59:59,999\nUn.\n").captions
    assert captions == [Caption(3599.0, 7199.999, "Un.")]


# --- JSON -----------------------------------------------------------------------------------

WHISPER = {
    "text": " Bonjour à tous. Bienvenue.",
    "language": "fr",
    "segments": [
        {"id": 0, "start": 0.0, "end": 2.5, "text": " Bonjour à tous.", "tokens": [1, 2]},
        {"id": 1, "start": 2.5, "end": 4.04, "text": " Bienvenue."},
    ],
}


def test_whisper_segments_lose_their_leading_space():
    transcript = parse_json(json.dumps(WHISPER).encode())
    assert transcript.format == "whisper"
    assert transcript.captions == [Caption(0.0, 2.5, "Bonjour à tous."), Caption(2.5, 4.04, "Bienvenue.")]
    assert transcript.facts == EpisodeFacts()


def test_plateau_export_gives_back_segments_and_facts():
    export = {
        "slug": "smart-tech-2025-10-23",
        "title": "SMART TECH du jeudi 23 octobre 2025",
        "show": "SMART TECH",
        "aired_on": "2025-10-23",
        "source": "000.txt",
        "duration": 12.0,
        "guests": [{"slug": "garance-mathias", "name": "Garance Mathias", "role": "Avocate"}],
        "host": "Delphine Sabattier",
        "channel": None,
        "description": "Jeudi 23 octobre 2025, ...",
        "media_url": "https://example.org/v.mp4",
        "segments": [{"start": 0, "end": 12, "text": "Bonjour."}, {"start": 12, "end": 12, "text": ""}],
    }
    transcript = parse_json(json.dumps(export).encode())
    assert transcript.format == "json"
    assert transcript.captions == [Caption(0.0, 12.0, "Bonjour."), Caption(12.0, 12.0, "")]
    assert transcript.facts == EpisodeFacts(
        title="SMART TECH du jeudi 23 octobre 2025",
        show="SMART TECH",
        channel=None,
        host="Delphine Sabattier",
        aired_on=date(2025, 10, 23),
        guests=[GuestMention("Garance Mathias", "Avocate")],
        media_url="https://example.org/v.mp4",
        description="Jeudi 23 octobre 2025, ...",
    )


def test_invalid_json_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_json(b'{\n  "segments": [\n    {"start": 0, "end": 1, "text": "a"},,\n  ]\n}')
    assert caught.value.line == 3


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([{"start": 0, "end": 1, "text": "a"}], "segments"),
        ({"text": "pas de segments"}, "segments"),
        ({"segments": []}, "aucune ligne"),
        ({"segments": ["texte"]}, "segment n°1"),
        ({"segments": [{"start": "0", "end": 1, "text": "a"}]}, "start"),
        ({"segments": [{"start": -1, "end": 1, "text": "a"}]}, "start"),
        ({"segments": [{"start": True, "end": 1, "text": "a"}]}, "start"),
        ({"segments": [{"start": 0, "text": "a"}]}, "end"),
        ({"segments": [{"start": 0, "end": 1, "text": 5}]}, "text"),
        ({"segments": [{"start": 2, "end": 1, "text": "a"}]}, "fin"),
        ({"segments": [{"start": 5, "end": 6, "text": "a"}, {"start": 1, "end": 2, "text": "b"}]}, "segment n°2"),
        ({"slug": "x", "aired_on": "23/10/2025", "segments": [{"start": 0, "end": 1, "text": "a"}]}, "aired_on"),
    ],
)
def test_json_of_the_wrong_shape_is_refused_with_the_reason(document, reason):
    with pytest.raises(TranscriptError, match=reason):
        parse_json(json.dumps(document).encode())


# --- sidecar --------------------------------------------------------------------------------


def test_sidecar_facts_are_read_and_unknown_keys_ignored():
    facts = parse_sidecar(
        json.dumps(
            {
                "title": "Le grand débrief",
                "show": "SMART TECH",
                "aired_on": "2025-10-23",
                "host": "Delphine Sabattier",
                "guests": [{"name": "Garance Mathias", "role": "Avocate"}, {"name": "Julien Pillot"}],
                "media_url": "https://example.org/v",
                "description": "Un débat.",
                "tags": ["ignoré"],
            }
        ).encode()
    )
    assert facts == EpisodeFacts(
        title="Le grand débrief",
        show="SMART TECH",
        host="Delphine Sabattier",
        aired_on=date(2025, 10, 23),
        guests=[GuestMention("Garance Mathias", "Avocate"), GuestMention("Julien Pillot", None)],
        media_url="https://example.org/v",
        description="Un débat.",
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"title": "x",}', "JSON invalide"),
        (b'{"aired_on": "23 octobre 2025"}', "AAAA-MM-JJ"),
        (b'{"aired_on": "2025-02-30"}', "n'existe pas"),
        (b'{"guests": "Garance Mathias"}', "guests"),
        (b'{"title": 3}', "title"),
        (b'["title"]', "objet"),
    ],
)
def test_bad_sidecar_is_refused_with_the_reason(data, reason):
    with pytest.raises(TranscriptError, match=reason):
        parse_sidecar(data)


def test_sidecar_fields_win_and_the_title_follows_the_merged_facts():
    extracted = parse_page(seed("003"), today=TODAY).facts
    merged = merge_facts(extracted, parse_sidecar(b'{"show": "SMART TECH", "aired_on": "2026-02-05"}'))
    assert (merged.show, merged.aired_on) == ("SMART TECH", date(2026, 2, 5))
    assert merged.title == "SMART TECH du jeudi 5 février 2026"
    assert merged.description == extracted.description


def test_sidecar_title_wins_over_the_worked_out_one():
    extracted = parse_page(seed("000"), today=TODAY).facts
    merged = merge_facts(extracted, parse_sidecar(b'{"title": "Panne AWS", "host": ""}'))
    assert merged.title == "Panne AWS"
    assert merged.host == "Delphine Sabattier"
    assert merged.guests == extracted.guests


# --- choosing the parser --------------------------------------------------------------------


def test_parser_is_chosen_by_extension():
    assert parse_transcript("a.vtt", VTT.encode()).format == "vtt"
    assert parse_transcript("a.SRT", SRT.encode()).format == "srt"
    assert parse_transcript("a.json", json.dumps(WHISPER).encode()).format == "whisper"
    assert parse_transcript("dossier/000.txt", seed("000"), today=TODAY).format == "page"


def test_txt_holding_webvtt_is_read_as_webvtt():
    assert (
        parse_transcript("sous-titres.txt", b"\xef\xbb\xbf\nWEBVTT\n\n00:01.000 --> 00:02.000\nUn.\n").format == "vtt"
    )


def test_txt_holding_subrip_is_read_as_subrip():
    transcript = parse_transcript("sous-titres.txt", SRT.encode())
    assert transcript.format == "srt" and transcript.captions == parse_srt(SRT.encode()).captions


def test_a_line_too_long_is_refused_with_its_length_even_made_of_words():
    with pytest.raises(TranscriptError, match=r"ligne trop longue \(12 000 octets"):
        check_shape(b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"mot " * 3_000 + b"\n")


def test_today_reaches_the_description():
    text = "Ce jeudi 6 novembre, François Sorel a reçu Didier Sanz.\nTranscription\n00:00Bonjour.\n"
    assert parse_transcript("x.txt", text.encode(), today=date(2026, 11, 22)).facts.aired_on == date(2025, 11, 6)
    # Not after the ingest date: on that very Thursday it is that day; the day before, 2014's.
    assert parse_transcript("x.txt", text.encode(), today=date(2025, 11, 6)).facts.aired_on == date(2025, 11, 6)
    assert parse_transcript("x.txt", text.encode(), today=date(2025, 11, 5)).facts.aired_on == date(2014, 11, 6)


def test_sidecar_file_is_not_a_transcript():
    with pytest.raises(TranscriptError, match="fichier annexe"):
        parse_transcript("000.meta.json", b'{"title": "x"}')


def test_unknown_extension_is_refused_naming_the_accepted_ones():
    with pytest.raises(TranscriptError) as caught:
        parse_transcript("notes.docx", b"PK")
    assert ".docx" in caught.value.reason
    assert all(ext in caught.value.reason for ext in (".txt", ".vtt", ".srt", ".json"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("000.txt", True),
        ("a/b.VTT", True),
        ("x.srt", True),
        ("x.json", True),
        ("x.meta.json", False),
        ("x.docx", False),
        (".hidden.txt", False),
        ("README", False),
    ],
)
def test_transcript_names(name, expected):
    assert is_transcript_name(name) is expected


def test_description_starting_like_a_relative_date_is_still_the_description():
    text = "- il y a 2 jours\nIl y a dix ans, Apple lançait sa montre.\nCatégorie\nNews\nTranscription\n00:00Bonjour.\n"
    assert parse_page(text.encode(), today=TODAY).facts.description == "Il y a dix ans, Apple lançait sa montre."

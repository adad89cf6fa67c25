"""Caption files written: WebVTT, SubRip, text and JSON, and that each one reads back to the same caption lines."""

import json
from datetime import date
from pathlib import Path

import pytest

from app.caption_files import EXPORT_KEYS, to_json, to_srt, to_txt, to_vtt
from app.ingest.jsonfile import parse_json
from app.ingest.page import parse_page
from app.ingest.subrip import parse_srt
from app.ingest.transcript import Caption, GuestMention
from app.ingest.vtt import parse_vtt
from app.timecodes import format_timestamp

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Zero-length lines, an empty line, repeated starts, milliseconds, hours, and text that is markup
# in WebVTT: what a page transcript and a Whisper transcript give between them.
CAPTIONS = [
    Caption(0.0, 0.0, "Tech & Co, la quotidienne."),
    Caption(0.0, 2.345, "a < b et c > d, <i>pas une balise</i>"),
    Caption(2.345, 2.345, ""),
    Caption(2.345, 61.001, "« Guillemets » --> flèche"),
    Caption(3599.999, 3723.004, "Une heure passée."),
    Caption(3723.004, 3723.004, "Dernière ligne."),
]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "00:00"),
        (59.9, "00:59"),
        (754, "12:34"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (3723.5, "1:02:03"),
        (36000, "10:00:00"),
    ],
)
def test_format_timestamp(seconds, expected):
    assert format_timestamp(seconds) == expected


def test_format_timestamp_refuses_negative_seconds():
    with pytest.raises(ValueError):
        format_timestamp(-1)


def test_vtt_round_trip_keeps_every_line_exactly():
    assert parse_vtt(to_vtt(CAPTIONS).encode()).captions == CAPTIONS


def test_srt_round_trip_keeps_every_line_exactly():
    srt_captions = [c for c in CAPTIONS if "<i>" not in c.text]  # SubRip reads <i> as italics
    assert parse_srt(to_srt(srt_captions).encode()).captions == srt_captions


def test_json_round_trip_keeps_every_line_exactly():
    assert parse_json(to_json({"slug": "x", "segments": CAPTIONS}).encode()).captions == CAPTIONS


@pytest.mark.parametrize("prefix", ["000", "002"])
def test_seed_transcripts_round_trip_through_every_format(prefix):
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    captions = parse_page(path.read_bytes(), today=date(2026, 11, 22)).captions
    assert parse_vtt(to_vtt(captions).encode()).captions == captions
    assert parse_srt(to_srt(captions).encode()).captions == captions
    assert parse_json(to_json({"slug": prefix, "segments": captions}).encode()).captions == captions


def test_vtt_export_is_a_webvtt_file_with_escaped_markup():
    vtt = to_vtt(CAPTIONS[:2])
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.000\nTech &amp; Co, la quotidienne.\n")
    assert "00:00:00.000 --> 00:00:02.345\na &lt; b et c &gt; d, &lt;i&gt;pas une balise&lt;/i&gt;" in vtt


def test_srt_export_numbers_blocks_and_keeps_zero_length_lines():
    assert to_srt(CAPTIONS[:1] + CAPTIONS[4:5]) == (
        "1\n00:00:00,000 --> 00:00:00,000\nTech & Co, la quotidienne.\n\n"
        "2\n00:59:59,999 --> 01:02:03,004\nUne heure passée.\n\n"
    )


def test_txt_export_one_readable_line_per_caption():
    assert to_txt(CAPTIONS) == (
        "00:00 Tech & Co, la quotidienne.\n"
        "00:00 a < b et c > d, <i>pas une balise</i>\n"
        "00:02\n"
        "00:02 « Guillemets » --> flèche\n"
        "59:59 Une heure passée.\n"
        "1:02:03 Dernière ligne.\n"
    )


def test_txt_export_reads_back_as_page_text():
    captions = parse_page(to_txt(CAPTIONS).encode()).captions
    assert [c.text for c in captions] == [c.text for c in CAPTIONS]
    assert [c.start for c in captions] == [0, 0, 2, 2, 3599, 3723]


def test_json_export_has_the_api_episode_shape():
    document = json.loads(
        to_json(
            {
                "slug": "smart-tech-2025-10-23",
                "title": "SMART TECH du jeudi 23 octobre 2025",
                "show": "SMART TECH",
                "aired_on": date(2025, 10, 23),
                "source": "000.txt",
                "guests": [
                    {"slug": "garance-mathias", "name": "Garance Mathias", "role": "Avocate"},
                    GuestMention("Julien Pillot", "économiste"),
                ],
                "host": "Delphine Sabattier",
                "channel": None,
                "description": "Jeudi 23 octobre 2025, ...",
                "media_url": None,
                "segments": [Caption(0.0, 13.0, "Bonjour à tous."), {"start": 13.0, "end": 13.0, "text": "Fin."}],
            }
        )
    )
    assert tuple(document) == EXPORT_KEYS
    assert document["aired_on"] == "2025-10-23"
    assert document["duration"] == 13.0
    assert document["guests"] == [
        {"slug": "garance-mathias", "name": "Garance Mathias", "role": "Avocate"},
        {"slug": None, "name": "Julien Pillot", "role": "économiste"},
    ]
    assert document["segments"] == [
        {"start": 0.0, "end": 13.0, "text": "Bonjour à tous.", "speaker": None},
        {"start": 13.0, "end": 13.0, "text": "Fin.", "speaker": None},
    ]


def test_json_export_reads_back_with_its_facts():
    transcript = parse_json(
        to_json(
            {
                "slug": "s",
                "title": "Titre",
                "show": "SMART TECH",
                "aired_on": "2025-10-23",
                "host": "Delphine Sabattier",
                "guests": [GuestMention("Garance Mathias", "Avocate")],
                "media_url": "https://example.org/v",
                "description": "Un débat.",
                "segments": CAPTIONS,
            }
        ).encode()
    )
    assert transcript.format == "json"
    assert transcript.facts.title == "Titre"
    assert transcript.facts.aired_on == date(2025, 10, 23)
    assert transcript.facts.guests == [GuestMention("Garance Mathias", "Avocate")]

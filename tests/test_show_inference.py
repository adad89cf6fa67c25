"""An episode whose description names no show takes it from a known show its first minutes name,
and says so; a show that a description, a sidecar or an editor names always wins."""

import sqlite3

import html5lib
import pytest
from alembic import command
from alembic.config import Config
from conftest import TODAY, TOKEN

from app.db import migrate
from app.resources import MIGRATIONS
from app.services.ingest import ingest_bytes

INFERRED = "Émission déduite de la transcription"
UNNAMED = "Jeudi 4 décembre 2025, nos invités débattent de la cryptographie post-quantique."


def page_text(description: str, *lines: str, start: int = 0, step: int = 5) -> bytes:
    """A saved video page: its description, then caption lines every `step` seconds from `start`."""
    captions = "".join(
        f"{(start + i * step) // 60:02d}:{(start + i * step) % 60:02d}{line}\n" for i, line in enumerate(lines)
    )
    return f"{description}\nCatégorie\n🗞\nNewsTranscription\n{captions}Commentaires\n".encode()


OPENING = page_text(
    UNNAMED,
    "Bonjour à tous.",
    "C'est parti pour le grand débrief de l'ActuTech de Smartech.",
    "Autour de la table, nos invités.",
)


def ingest(session, index, name: str, data: bytes, **kw):
    outcome = ingest_bytes(session, name, data, index=index, today=TODAY, **kw)
    assert outcome.status in ("added", "updated"), outcome.reason
    return outcome.slug


def detail(client, slug: str) -> dict:
    response = client.get(f"/api/episodes/{slug}")
    assert response.status_code == 200
    return response.json()


def header_text(client, slug: str) -> str:
    document = html5lib.parse(client.get(f"/episodes/{slug}").text, namespaceHTMLElements=False)
    return " ".join("".join(document.find(".//header[@class='episode-head']").itertext()).split())


def test_seed_003_takes_its_show_from_its_first_line_and_says_so(client, seeded):
    inferred = detail(client, seeded["003"])
    assert (inferred["show"], inferred["show_inferred"]) == ("SMART TECH", True)
    assert inferred["title"].startswith("Face aux enjeux de souveraineté numérique")  # still undated: no new title
    assert INFERRED in header_text(client, seeded["003"])
    assert "SMART TECH" in header_text(client, seeded["003"])
    for named in ("000", "001", "002", "004"):  # their descriptions name the show
        assert detail(client, seeded[named])["show_inferred"] is False
        assert INFERRED not in header_text(client, seeded[named])
    assert seeded["003"] in client.get("/shows/smart-tech").text


def test_a_page_without_a_show_in_its_description_takes_the_one_its_opening_names(client, session, index):
    slug = ingest(session, index, "actutech.txt", OPENING)
    episode = detail(client, slug)
    assert (episode["show"], episode["show_inferred"]) == ("SMART TECH", True)
    assert episode["title"] == "SMART TECH du jeudi 4 décembre 2025"
    assert slug == "2025-12-04"  # an inferred show stays out of the lasting address
    assert INFERRED in header_text(client, slug)


@pytest.mark.parametrize(
    "said",
    [
        "Vous regardez Smart Tech.",
        "Vous regardez SMART-TECH.",
        "Vous regardez smartech.",
        "Bienvenue dans SmartTech !",
    ],
)
def test_the_captions_spelling_of_a_known_show_does_not_matter(client, session, index, said):
    slug = ingest(session, index, "orthographe.txt", page_text(UNNAMED, "Bonjour.", said))
    assert (detail(client, slug)["show"], detail(client, slug)["show_inferred"]) == ("SMART TECH", True)


def test_a_subrip_file_takes_the_show_its_first_cue_names(client, session, index):
    srt = (
        "1\n00:00:00,000 --> 00:00:04,000\nTech & Co, la quotidienne, le débrief de la tech.\n\n"
        "2\n00:00:04,000 --> 00:00:09,000\nCe soir autour de la table, trois invités.\n"
    ).encode()
    episode = detail(client, ingest(session, index, "quotidienne.srt", srt))
    assert (episode["show"], episode["show_inferred"]) == ("Tech & Co, la quotidienne", True)


def test_a_show_already_in_the_archive_is_known_by_its_name(client, session, index):
    ingest(session, index, "premier.txt", page_text(UNNAMED, "Bonjour."), show="Les Dessous de la Tech")
    slug = ingest(session, index, "second.txt", page_text(UNNAMED, "Bienvenue dans les dessous de la tech."))
    episode = detail(client, slug)
    assert (episode["show"], episode["show_inferred"]) == ("Les Dessous de la Tech", True)
    assert client.get("/api/shows").json()["total"] == 1  # the same show, not a second one


def test_a_show_named_after_the_first_minutes_or_not_at_all_is_not_inferred(client, session, index):
    late = page_text(UNNAMED, "Bonjour.", "On en parlait la semaine dernière dans Smart Tech.", start=200)
    none = page_text(UNNAMED, "Bonjour à tous.", "On parle de la tech et de la smart city.")
    for name, data in (("tard.txt", late), ("aucune.txt", none)):
        slug = ingest(session, index, name, data)
        assert (detail(client, slug)["show"], detail(client, slug)["show_inferred"]) == (None, False)
        assert INFERRED not in header_text(client, slug)


def test_a_show_named_by_the_description_a_sidecar_or_the_command_always_wins(client, session, index):
    described = page_text(
        "Jeudi 4 décembre 2025, retrouvez nos invités dans l'émission Tech & Co, la quotidienne.",
        "C'est parti pour le grand débrief de l'ActuTech de Smartech.",
    )
    by_description = detail(client, ingest(session, index, "decrit.txt", described))
    by_sidecar = detail(client, ingest(session, index, "annexe.txt", OPENING, sidecar=b'{"show": "Culture Tech"}'))
    by_command = detail(client, ingest(session, index, "commande.txt", OPENING, show="Culture Tech"))
    assert [(e["show"], e["show_inferred"]) for e in (by_description, by_sidecar, by_command)] == [
        ("Tech & Co, la quotidienne", False),
        ("Culture Tech", False),
        ("Culture Tech", False),
    ]


def test_an_editor_naming_the_show_makes_it_stated(admin_token, client, session, index):
    slug = ingest(session, index, "actutech.txt", OPENING)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    patched = client.patch(f"/api/episodes/{slug}", json={"show": "SMART TECH"}, headers=auth)
    assert patched.status_code == 200
    assert (patched.json()["show"], patched.json()["show_inferred"]) == ("SMART TECH", False)
    assert INFERRED not in header_text(client, slug)


def test_an_older_archive_upgrades_with_every_show_as_stated(settings, tmp_path):
    path = tmp_path / "old.db"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    config.attributes["configure_logger"] = False
    command.upgrade(config, "0002")  # an archive made before inferred shows were told apart
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO episode (id, slug, source, content_hash, format, title, duration, index_state, caption_count, "
        "ingested_at, updated_at) VALUES (1, 'a', 'a.txt', 'h', 'page', 'A', 9, 'indexed', 0, "
        "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"
    )
    db.commit()
    db.close()
    settings.database_url = f"sqlite:///{path}"
    migrate(settings)
    assert sqlite3.connect(path).execute("SELECT show_inferred FROM episode").fetchall() == [(0,)]

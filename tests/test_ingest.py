"""Ingesting the seeds and other files: metadata, one record per person, idempotence, refusals."""

import itertools
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import func, select

from app.models import Appearance, CaptionLine, Episode, Person, PersonAlias, Show
from app.services import episodes as episode_service
from app.services.ingest import ingest_bytes, ingest_paths
from tests.conftest import SEEDS, TODAY

SEED_FILES = sorted(SEEDS.glob("*.txt"))


def summary_of(session, slug):
    return episode_service.episode_json(session, episode_service.get_episode(session, slug))


def guests_of(detail):
    return [(g["name"], g["role"]) for g in detail["guests"]]


def counts(session):
    return tuple(
        session.exec(select(func.count()).select_from(table)).one()
        for table in (Episode, CaptionLine, Person, PersonAlias, Appearance, Show)
    )


def test_seed_000_metadata(session, seeded):
    detail = summary_of(session, seeded["000"])
    assert seeded["000"] == "2025-10-23-smart-tech"
    assert (detail["aired_on"], detail["show"], detail["host"]) == ("2025-10-23", "SMART TECH", "Delphine Sabattier")
    assert guests_of(detail) == [
        ("Garance Mathias", "Avocate"),
        ("Julien Pillot", "enseignant-chercheur en économie, Inseec"),
        ("Alain Staron", "PDG, Artifeel"),
        ("Cyril VanAgt", "Vice-président EMEA, Keepit"),
    ]
    assert detail["source"] == "000_6bda1f189f294344.txt"
    assert detail["segments"][0] == {
        "start": 0.0,
        "end": 13.0,
        "speaker": None,
        "text": "Bonjour à tous, bienvenue dans Smartech, en étant direct ensemble pour 25 minutes,",
    }


def test_seed_001_metadata(session, seeded):
    detail = summary_of(session, seeded["001"])
    assert (detail["aired_on"], detail["show"], detail["host"]) == ("2025-03-27", "SMART TECH", "Delphine Sabattier")
    assert guests_of(detail) == [
        ("Margarita Zlatkova", "Head of Data & Programmatic EMEA, Weborama"),
        ("Christophe Grosbost", "directeur de la stratégie, Innovation Makers Alliance"),
        ("Julien Pillot", "Consultant, Enseignant-chercheur en économie, Inseec - Groupe Omnes Education"),
        ("Caroline Chopinaud", "directrice associée, Hub France IA"),
    ]


def test_seed_002_date_without_year_takes_the_year_its_weekday_fits(session, seeded):
    detail = summary_of(session, seeded["002"])
    assert detail["aired_on"] == "2025-11-06"
    assert (detail["show"], detail["channel"], detail["host"]) == (
        "Tech & Co, la quotidienne",
        "BFM Business",
        "François Sorel",
    )
    assert guests_of(detail) == [
        ("Didier Sanz", "journaliste tech"),
        ("Thomas Serval", "PDG de Baracoda"),
        ("Jérôme Marin", "fondateur de cafetech.com"),
    ]


def test_seed_003_has_no_date_and_links_known_guests_named_in_its_introduction(session, seeded):
    detail = summary_of(session, seeded["003"])
    assert detail["aired_on"] is None
    assert detail["title"].startswith("Face aux enjeux de souveraineté numérique")
    names = {g["name"] for g in detail["guests"]}
    assert names == {"Imène Kabouya", "Alain Staron"}


def test_seed_004_metadata(session, seeded):
    detail = summary_of(session, seeded["004"])
    assert (detail["aired_on"], detail["show"], detail["host"]) == ("2025-12-11", "SMART TECH", "Delphine Sabattier")
    assert guests_of(detail) == [
        ("Imène Kabouya", "Partner, Wavestone"),
        ("Audrey Maurel", "Avocate"),
        ("Julien Pillot", "Consultant, Enseignant-chercheur en économie, Inseec - Groupe Omnes Education"),
    ]


def test_one_person_one_record_with_each_episodes_role(session, seeded):
    pillot = session.exec(select(Person).where(Person.name == "Julien Pillot")).one()
    roles = session.exec(select(Appearance.role).where(Appearance.person_id == pillot.id)).all()
    assert sorted(roles) == sorted(
        [
            "enseignant-chercheur en économie, Inseec",
            "Consultant, Enseignant-chercheur en économie, Inseec - Groupe Omnes Education",
            "Consultant, Enseignant-chercheur en économie, Inseec - Groupe Omnes Education",
        ]
    )
    kabouya = session.exec(select(Person).where(Person.slug == "imene-kabouya")).one()
    spellings = set(session.exec(select(PersonAlias.name).where(PersonAlias.person_id == kabouya.id)).all())
    assert {"Imène Kabouya", "Imen Kabouya"} <= spellings
    assert session.exec(select(func.count(Person.id)).where(Person.name.contains("Kabouya"))).one() == 1


def people_and_links(session):
    rows = session.exec(
        select(Person.name, Episode.source, Appearance.kind, Appearance.role)
        .join(Appearance, Appearance.person_id == Person.id)
        .join(Episode, Episode.id == Appearance.episode_id)
    ).all()
    return sorted(rows)


@pytest.mark.parametrize(
    "order",
    [list(p) for p in itertools.islice(itertools.permutations(range(5)), 0, 120, 29)]
    + [[3, 2, 1, 0, 4], [3, 4, 0, 1, 2]],
)
def test_any_ingest_order_gives_the_same_people(tmp_path, monkeypatch, order):
    from sqlmodel import Session

    from app.config import get_settings
    from app.db import get_engine
    from app.main import prepare_data

    results = []
    for run, files in enumerate([SEED_FILES, [SEED_FILES[i] for i in order]]):
        monkeypatch.setenv("PLATEAU_DATA_DIR", str(tmp_path / f"run{run}"))
        get_settings.cache_clear()
        settings = get_settings()
        prepare_data(settings)
        with Session(get_engine(settings)) as session:
            for path in files:
                assert ingest_bytes(session, path.name, path.read_bytes(), index=None, today=TODAY).status == "added"
            results.append(people_and_links(session))
    get_settings.cache_clear()
    assert results[0] == results[1]


def test_same_file_again_is_unchanged_and_writes_nothing(session, seeded, index):
    before = counts(session)
    outcomes = ingest_paths(session, [SEEDS], index=index)
    assert [o.status for o in outcomes] == ["unchanged"] * 5
    assert counts(session) == before


def test_changed_file_updates_its_episode_in_place(session, seeded, index):
    original = SEED_FILES[0].read_bytes()
    changed = original.replace(b"00:13vous nous regardez", b"00:13vous nous regardez toujours")
    outcome = ingest_bytes(session, SEED_FILES[0].name, changed, index=index, today=TODAY)
    assert (outcome.status, outcome.slug) == ("updated", seeded["000"])
    detail = summary_of(session, seeded["000"])
    assert detail["segments"][1]["text"].startswith("vous nous regardez toujours")
    assert session.exec(select(func.count(Episode.id))).one() == 5


REFUSED = {  # name: (bytes, what the reason says)
    "empty.txt": (b"", "vide"),
    "binary.txt": (bytes(range(256)) * 4, "octets nuls : c'est un fichier binaire"),
    "latin1.txt": ("00:00Bonjour à tous\n".encode("latin-1"), "UTF-8"),
    "nul.txt": (b"00:00Bonjour\x00 tous\n", "ligne 1 : le fichier contient des octets nuls"),
    "nocaption.txt": (
        "Jeudi 23 octobre 2025, une description.\nCatégorie\nNews\nTranscription\nRien.\n".encode(),
        "aucune ligne de transcription",
    ),
    "backwards.txt": (b"00:00Bonjour\n00:10suite\n00:05retour\n", "ligne 3 : l'horodatage 00:05 revient en arrière"),
    "bad.vtt": (b"WEBVTT\n\n00:00:01.000 --> nonsense\nBonjour\n", "ligne 3 : ligne de minutage WebVTT illisible"),
    "bad.srt": (b"1\n00:00:01,000 --> 00:00:02\nBonjour\n\nxx\n", "ligne 5 : bloc SubRip sans numéro ni minutage"),
    "bad.json": (b'{"segments": [{"start": 0, "end": 1, "text": "a"}', "ligne 1 : transcription JSON : JSON invalide"),
    "shape.json": (b'{"segments": "nope"}', "liste « segments »"),
    "control.json": (b'{"segments": [{"start": 0, "end": 1, "text": "a\\u0000b"}]}', "contrôle"),
    "surrogate.json": (b'{"segments": [{"start": 0, "end": 1, "text": "a\\ud800b"}]}', "contrôle"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "imbriqué"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_file_changes_nothing_and_says_why(session, seeded, index, name):
    data, expected = REFUSED[name]
    before = counts(session)
    outcome = ingest_bytes(session, name, data, index=index)
    assert outcome.status == "failed"
    assert expected in outcome.reason
    assert counts(session) == before


def test_refused_change_keeps_the_previous_version(session, seeded, index):
    before = summary_of(session, seeded["000"])
    outcome = ingest_bytes(session, SEED_FILES[0].name, b"00:10a\n00:05b\n", index=index)
    assert outcome.status == "failed"
    assert summary_of(session, seeded["000"]) == before


def test_folder_ingest_recurses_skips_non_transcripts_and_links_outside(session, index, tmp_path):
    inside = tmp_path / "archive" / "saison"
    inside.mkdir(parents=True)
    (inside / "a.txt").write_bytes(SEED_FILES[0].read_bytes())
    (inside / "cover.png").write_bytes(b"\x89PNG")
    outside = tmp_path / "ailleurs.txt"
    outside.write_bytes(SEED_FILES[1].read_bytes())
    (inside / "lien.txt").symlink_to(outside)
    outcomes = {Path(o.source).name: o for o in ingest_paths(session, [tmp_path / "archive"], index=index)}
    assert outcomes["a.txt"].status == "added"
    assert outcomes["cover.png"].status == "skipped"
    assert outcomes["lien.txt"].status == "skipped" and "extérieur" in outcomes["lien.txt"].reason
    assert session.exec(select(func.count(Episode.id))).one() == 1


def test_sidecar_fields_win_over_the_description(session, index, tmp_path):
    tmp_path = tmp_path / "lot"
    tmp_path.mkdir()
    (tmp_path / "ep.txt").write_bytes(SEED_FILES[0].read_bytes())
    (tmp_path / "ep.meta.json").write_text(
        '{"title": "Le grand débrief", "show": "Smart Tech Week", "aired_on": "2025-10-24",'
        ' "guests": [{"name": "Garance Mathias", "role": "Avocate au barreau de Paris"}],'
        ' "media_url": "https://video.example/ep1"}',
        encoding="utf-8",
    )
    [outcome] = ingest_paths(session, [tmp_path], index=index)
    detail = summary_of(session, outcome.slug)
    assert (detail["title"], detail["show"], detail["aired_on"]) == (
        "Le grand débrief",
        "Smart Tech Week",
        "2025-10-24",
    )
    assert guests_of(detail) == [("Garance Mathias", "Avocate au barreau de Paris")]
    assert detail["media_url"] == "https://video.example/ep1"


def test_slugs_are_unique_for_the_same_show_and_day(session, index):
    data = SEED_FILES[0].read_bytes()
    first = ingest_bytes(session, "a.txt", data, index=index)
    second = ingest_bytes(session, "b.txt", data, index=index)
    assert (first.slug, second.slug) == ("2025-10-23-smart-tech", "2025-10-23-smart-tech-2")


def test_date_without_year_uses_the_ingest_day(session, index):
    text = (
        "Ce jeudi 6 novembre, François Sorel a reçu Didier Sanz, journaliste tech, dans l'émission "
        "Tech & Co, la quotidienne, sur BFM Business.\nCatégorie\nTV\nTranscription\n00:00Bonsoir\n"
    ).encode()
    # 6 November is a Thursday in 2025 and 2031: the most recent one not after the ingest day wins.
    later = ingest_bytes(session, "x.txt", text, index=index, today=date(2032, 1, 1))
    assert episode_service.get_episode(session, later.slug).aired_on == date(2031, 11, 6)
    before = ingest_bytes(session, "y.txt", text, index=index, today=date(2031, 11, 5))
    assert episode_service.get_episode(session, before.slug).aired_on == date(2025, 11, 6)


def test_two_files_with_one_name_in_one_ingest_the_second_is_refused(session, index, tmp_path):
    for folder, seed in (("a", SEED_FILES[0]), ("b", SEED_FILES[1])):
        (tmp_path / "lot" / folder).mkdir(parents=True)
        (tmp_path / "lot" / folder / "ep.txt").write_bytes(seed.read_bytes())
    first, second = ingest_paths(session, [tmp_path / "lot"], index=index)
    assert first.status == "added"
    assert second.status == "failed" and "même nom" in second.reason
    assert summary_of(session, first.slug)["aired_on"] == "2025-10-23"


def test_close_names_in_one_panel_stay_two_people(session, index):
    text = (
        "Jeudi 4 décembre 2025, retrouvez Louis Dupont (Avocat) et Louise Dupont (Économiste) dans SMART TECH, "
        "une émission présentée par Delphine Sabattier.\nCatégorie\nNews\nTranscription\n00:00Bonjour\n"
    ).encode()
    outcome = ingest_bytes(session, "x.txt", text, index=index)
    assert guests_of(summary_of(session, outcome.slug)) == [("Louis Dupont", "Avocat"), ("Louise Dupont", "Économiste")]


def smart_tech(day: str, guest: str, role: str) -> bytes:
    """A SMART TECH page whose description names one guest."""
    return (
        f"Jeudi {day} 2025, retrouvez {guest} ({role}) dans SMART TECH, une émission présentée par "
        "Delphine Sabattier.\nCatégorie\nNews\nTranscription\n00:00Bonjour\n"
    ).encode()


def people(session) -> dict[str, set[str]]:
    """Each person's name and spellings."""
    found: dict[str, set[str]] = {}
    for name, alias in session.exec(select(Person.name, PersonAlias.name).join(PersonAlias)).all():
        found.setdefault(name, set()).add(alias)
    return found


def test_close_names_in_two_episodes_below_the_same_person_score_stay_two_people(session):
    # "sophiemorel" and "sophiemoreau" score 87 on the same-person ratio: under 90, two people
    first = ingest_bytes(session, "morel.txt", smart_tech("4 décembre", "Sophie Morel", "Avocate"), index=None)
    second = ingest_bytes(session, "moreau.txt", smart_tech("11 décembre", "Sophie Moreau", "Économiste"), index=None)
    assert guests_of(summary_of(session, first.slug)) == [("Sophie Morel", "Avocate")]
    assert guests_of(summary_of(session, second.slug)) == [("Sophie Moreau", "Économiste")]
    assert people(session) == {
        "Delphine Sabattier": {"Delphine Sabattier"},
        "Sophie Morel": {"Sophie Morel"},
        "Sophie Moreau": {"Sophie Moreau"},
    }


def test_one_changed_letter_in_a_ten_letter_name_is_the_same_person(session):
    # "annedurand" and "annedurant" score exactly 90: the threshold itself is one person
    ingest_bytes(session, "durand.txt", smart_tech("4 décembre", "Anne Durand", "Avocate"), index=None)
    ingest_bytes(session, "durant.txt", smart_tech("11 décembre", "Anne Durant", "Avocate"), index=None)
    assert people(session) == {
        "Delphine Sabattier": {"Delphine Sabattier"},
        "Anne Durant": {"Anne Durand", "Anne Durant"},
    }


def test_a_person_is_named_as_most_descriptions_spell_them(session):
    # two descriptions against one: the count wins over the name's order, which only breaks ties
    ingest_bytes(session, "durand-1.txt", smart_tech("4 décembre", "Anne Durand", "Avocate"), index=None)
    ingest_bytes(session, "durant.txt", smart_tech("11 décembre", "Anne Durant", "Avocate"), index=None)
    assert set(people(session)) == {"Delphine Sabattier", "Anne Durant"}
    ingest_bytes(session, "durand-2.txt", smart_tech("18 décembre", "Anne Durand", "Avocate"), index=None)
    assert people(session) == {
        "Delphine Sabattier": {"Delphine Sabattier"},
        "Anne Durand": {"Anne Durand", "Anne Durant"},
    }


def test_a_name_spelt_with_or_without_a_ligature_is_one_person(session):
    ingest_bytes(session, "lig.txt", smart_tech("4 décembre", "Lætitia Cœurdacier", "Avocate"), index=None)
    ingest_bytes(session, "sans.txt", smart_tech("11 décembre", "Laetitia Coeurdacier", "Avocate"), index=None)
    assert people(session)["Lætitia Cœurdacier"] == {"Lætitia Cœurdacier", "Laetitia Coeurdacier"}
    (slug,) = session.exec(select(Person.slug).where(Person.name == "Lætitia Cœurdacier")).all()
    assert slug == "laetitia-coeurdacier"


def test_a_name_heard_split_in_two_words_in_an_introduction_is_still_linked(session):
    described = ingest_bytes(session, "decrit.txt", smart_tech("23 octobre", "Cyril VanAgt", "Keepit"), index=None)
    heard = ingest_bytes(
        session,
        "entendu.txt",
        "00:00Bonjour à tous.\n00:04Nous sommes connectés avec Cyril Van Agt, de Keepit.\n00:09Bienvenue.\n".encode(),
        index=None,
    )
    assert guests_of(summary_of(session, heard.slug)) == [("Cyril VanAgt", None)]
    assert guests_of(summary_of(session, described.slug)) == [("Cyril VanAgt", "Keepit")]
    assert people(session)["Cyril VanAgt"] == {"Cyril VanAgt", "Cyril Van Agt"}


def test_a_name_said_twice_in_a_description_is_one_guest(session, index):
    text = (
        "Jeudi 4 décembre 2025, retrouvez Ada Lovelace (Pionnière) et Ada Lovelace (Pionnière) dans SMART TECH, "
        "une émission présentée par Delphine Sabattier.\nCatégorie\nNews\nTranscription\n00:00Bonjour\n"
    ).encode()
    outcome = ingest_bytes(session, "x.txt", text, index=index)
    assert guests_of(summary_of(session, outcome.slug)) == [("Ada Lovelace", "Pionnière")]
    assert session.exec(select(func.count(Person.id))).one() == 2  # Ada and the host


def test_decomposed_accents_are_stored_composed_and_found(session, index):
    import unicodedata

    from app.search import SearchRequest

    vtt = unicodedata.normalize("NFD", "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nles données personnelles protégées\n")
    outcome = ingest_bytes(session, "mac.vtt", vtt.encode(), index=index)
    assert summary_of(session, outcome.slug)["segments"][0]["text"] == "les données personnelles protégées"
    for q in ("données", '"données personnelles"', unicodedata.normalize("NFD", "protégées")):
        assert index.search(session, SearchRequest(q=q)).total == 1, q

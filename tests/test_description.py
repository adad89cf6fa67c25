"""What a French episode description states: show, channel, host, air date, guests, title."""

from datetime import date
from pathlib import Path

import pytest

from app.french_dates import french_date
from app.ingest.description import episode_title, parse_description
from app.ingest.page import parse_page
from app.ingest.transcript import EpisodeFacts, GuestMention

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TODAY = date(2026, 11, 22)


def seed_facts(prefix: str) -> EpisodeFacts:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return parse_page(path.read_bytes(), today=TODAY).facts


def test_seed_000_parenthesised_guests_show_host_and_date():
    facts = seed_facts("000")
    assert facts.aired_on == date(2025, 10, 23)
    assert (facts.show, facts.channel, facts.host) == ("SMART TECH", None, "Delphine Sabattier")
    assert facts.guests == [
        GuestMention("Garance Mathias", "Avocate"),
        GuestMention("Julien Pillot", "enseignant-chercheur en économie, Inseec"),
        GuestMention("Alain Staron", "PDG, Artifeel"),
        GuestMention("Cyril VanAgt", "Vice-président EMEA, Keepit"),
    ]
    assert facts.title == "SMART TECH du jeudi 23 octobre 2025"


def test_seed_001_four_guests_each_with_their_parenthesis():
    facts = seed_facts("001")
    assert facts.aired_on == date(2025, 3, 27)
    assert (facts.show, facts.host) == ("SMART TECH", "Delphine Sabattier")
    assert facts.guests == [
        GuestMention("Margarita Zlatkova", "Head of Data & Programmatic EMEA, Weborama"),
        GuestMention("Christophe Grosbost", "directeur de la stratégie, Innovation Makers Alliance"),
        GuestMention("Julien Pillot", "Consultant, Enseignant-chercheur en économie, Inseec - Groupe Omnes Education"),
        GuestMention("Caroline Chopinaud", "directrice associée, Hub France IA"),
    ]
    assert facts.title == "SMART TECH du jeudi 27 mars 2025"


def test_seed_002_prose_guests_channel_and_date_without_year():
    facts = seed_facts("002")
    assert facts.aired_on == date(2025, 11, 6)
    assert facts.show == "Tech & Co, la quotidienne"
    assert facts.channel == "BFM Business"
    assert facts.host == "François Sorel"
    assert facts.guests == [
        GuestMention("Didier Sanz", "journaliste tech"),
        GuestMention("Thomas Serval", "PDG de Baracoda"),
        GuestMention("Jérôme Marin", "fondateur de cafetech.com"),
    ]
    assert facts.title == "Tech & Co, la quotidienne du jeudi 6 novembre 2025"


def test_seed_003_states_nothing_but_its_first_sentence():
    facts = seed_facts("003")
    assert (facts.aired_on, facts.show, facts.channel, facts.host, facts.guests) == (None, None, None, None, [])
    assert facts.title == (
        'Face aux enjeux de souveraineté numérique, l\'État français déploie "Visio", '
        "sa plateforme de visioconférence pour les administrations"
    )


def test_seed_004_three_guests():
    facts = seed_facts("004")
    assert facts.aired_on == date(2025, 12, 11)
    assert (facts.show, facts.host) == ("SMART TECH", "Delphine Sabattier")
    assert facts.guests == [
        GuestMention("Imène Kabouya", "Partner, Wavestone"),
        GuestMention("Audrey Maurel", "Avocate"),
        GuestMention("Julien Pillot", "Consultant, Enseignant-chercheur en économie, Inseec - Groupe Omnes Education"),
    ]


def test_description_is_kept_whole():
    text = "Jeudi 23 octobre 2025, retrouvez Garance Mathias (Avocate) dans SMART TECH."
    assert parse_description(text, today=TODAY).description == text


# --- air date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # 6 November is a Thursday in 2025, and before that in 2014.
        ("Ce jeudi 6 novembre, on parle d'IA.", date(2026, 11, 22), date(2025, 11, 6)),
        ("Ce jeudi 6 novembre, on parle d'IA.", date(2025, 11, 6), date(2025, 11, 6)),
        ("Ce jeudi 6 novembre, on parle d'IA.", date(2025, 11, 5), date(2014, 11, 6)),
        # The year's 6 November after the ingest date never counts, even on the right weekday.
        ("Ce vendredi 6 novembre, on parle d'IA.", date(2026, 11, 5), date(2020, 11, 6)),
        ("Ce vendredi 6 novembre, on parle d'IA.", date(2026, 11, 6), date(2026, 11, 6)),
        # 29 February: only leap years, and 2020's was a Saturday.
        ("Samedi 29 février, débat.", date(2026, 3, 1), date(2020, 2, 29)),
        ("Jeudi 29 février, débat.", date(2026, 3, 1), date(2024, 2, 29)),
        ("Jeudi 1er mai, débat.", date(2026, 11, 22), date(2025, 5, 1)),
        ("Mardi 2 decembre, sans accent.", date(2026, 11, 22), date(2025, 12, 2)),
    ],
)
def test_date_without_year_takes_the_latest_year_with_that_weekday(text, today, expected):
    assert parse_description(text, today=today).aired_on == expected


def test_explicit_year_wins_over_a_wrong_weekday():
    # 23 October 2025 is a Thursday, not a Monday: the written date is kept.
    assert parse_description("Lundi 23 octobre 2025, débat.", today=TODAY).aired_on == date(2025, 10, 23)


def test_explicit_date_that_does_not_exist_gives_no_date():
    assert parse_description("Mardi 30 février 2025, débat.", today=TODAY).aired_on is None


def test_no_date_gives_none_never_a_made_up_one():
    assert parse_description("Un débat sur le cloud souverain.", today=TODAY).aired_on is None


def test_date_mentioned_later_without_weekday_is_not_the_air_date():
    text = "Un débat sur l'exposition Flop, ouverte jusqu'au 17 mai 2026 au musée."
    assert parse_description(text, today=TODAY).aired_on is None


def test_date_opening_the_description_without_weekday_is_the_air_date():
    assert parse_description("Le 23 octobre 2025, débat.", today=TODAY).aired_on == date(2025, 10, 23)


def test_weekday_date_later_in_the_description_is_the_air_date():
    text = "Le grand débrief de la semaine, diffusé ce mardi 4 mars 2025 en direct."
    assert parse_description(text, today=TODAY).aired_on == date(2025, 3, 4)


# --- guests, host, show ---------------------------------------------------------------------


def test_prose_guests_with_et_and_without_comma_before_it():
    facts = parse_description(
        "Ce mardi 4 mars, Anne Dupont reçoit Paul Martin, directeur technique de Qarnot et Léa Nguyen-Roux, "
        "avocate au barreau de Paris. Ils débattent du cloud.",
        today=TODAY,
    )
    assert facts.host == "Anne Dupont"
    assert facts.guests == [
        GuestMention("Paul Martin", "directeur technique de Qarnot"),
        GuestMention("Léa Nguyen-Roux", "avocate au barreau de Paris"),
    ]


def test_prose_guests_without_roles():
    facts = parse_description("Ce mardi 4 mars, Anne Dupont a reçu Paul Martin et Léa Roux.", today=TODAY)
    assert facts.guests == [GuestMention("Paul Martin", None), GuestMention("Léa Roux", None)]


def test_parenthesised_guests_with_particles_and_capitals():
    facts = parse_description(
        "Retrouvez Jean-Baptiste de La Tour (DG, Exemple SA) et Marie d'Orléans (chercheuse (CNRS)) "
        "dans CYBER HEBDO, une émission présentée par Luc MARTIN.",
        today=TODAY,
    )
    assert facts.guests == [
        GuestMention("Jean-Baptiste de La Tour", "DG, Exemple SA"),
        GuestMention("Marie d'Orléans", "chercheuse (CNRS)"),
    ]
    assert (facts.show, facts.host) == ("CYBER HEBDO", "Luc MARTIN")


def test_names_with_oe_and_ae_ligatures_are_guests_and_hosts():
    facts = parse_description(
        "Retrouvez Lætitia Cœurdacier (Avocate) et Éric LŒUILLET (Économiste) dans SMART TECH, "
        "une émission présentée par Œlian Sœur.",
        today=TODAY,
    )
    assert facts.guests == [GuestMention("Lætitia Cœurdacier", "Avocate"), GuestMention("Éric LŒUILLET", "Économiste")]
    assert (facts.show, facts.host) == ("SMART TECH", "Œlian Sœur")


def test_description_naming_no_guests_has_none():
    facts = parse_description(
        "Jeudi 11 décembre 2025, le débrief de l'actu dans SMART TECH, une émission présentée par Delphine Sabattier.",
        today=TODAY,
    )
    assert facts.guests == []
    assert (facts.show, facts.host, facts.aired_on) == ("SMART TECH", "Delphine Sabattier", date(2025, 12, 11))


def test_avec_introduces_guests_only_when_it_states_roles():
    topics = parse_description("Un débat sur la rivalité avec Elon Musk et Jeff Bezos.", today=TODAY)
    panel = parse_description("Un débat avec Paul Martin (économiste) et Léa Roux (avocate).", today=TODAY)
    assert topics.guests == []
    assert panel.guests == [GuestMention("Paul Martin", "économiste"), GuestMention("Léa Roux", "avocate")]


def test_show_and_channel_after_l_emission():
    facts = parse_description(
        "Les débatteurs reviennent sur la semaine dans l'émission Les Experts de la tech sur la chaîne TechTV.",
        today=TODAY,
    )
    assert (facts.show, facts.channel) == ("Les Experts de la tech", "TechTV")


def test_l_emission_followed_by_lowercase_is_not_a_show():
    assert parse_description("Retrouvez l'émission du lundi au jeudi.", today=TODAY).show is None


# --- title ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 10, 23), "jeudi 23 octobre 2025"),
        (date(2025, 3, 1), "samedi 1er mars 2025"),
        (date(2024, 2, 29), "jeudi 29 février 2024"),
        (date(2025, 8, 4), "lundi 4 août 2025"),
        (date(2025, 12, 7), "dimanche 7 décembre 2025"),
    ],
)
def test_french_date(day, expected):
    assert french_date(day) == expected


def test_title_is_the_given_one_then_show_and_date_then_first_sentence():
    assert episode_title(EpisodeFacts(title="Titre", show="S", aired_on=date(2025, 1, 2))) == "Titre"
    assert (
        episode_title(EpisodeFacts(show="SMART TECH", aired_on=date(2025, 1, 2)))
        == "SMART TECH du jeudi 2 janvier 2025"
    )
    assert episode_title(EpisodeFacts(show="SMART TECH", description="Un débat. Deux.")) == "Un débat"
    assert episode_title(EpisodeFacts(description="Vraiment ? Oui.")) == "Vraiment ?"
    assert episode_title(EpisodeFacts()) is None


def test_first_sentence_does_not_stop_inside_a_web_address():
    facts = parse_description("Il a fondé cafetech.com. Puis autre chose.", today=TODAY)
    assert facts.title == "Il a fondé cafetech.com"

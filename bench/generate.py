"""Generate a synthetic back catalogue in the seed page format: several shows, a pool of guests, planted quotes.

    .venv/bin/python -m bench.generate OUT_DIR --episodes 200 [--lines 1000] [--seed 1]

The same seed writes the same files. Episodes are spread over the shows' air days from 2021 to
2025 (earlier years are added when a show needs more days); their descriptions are written the way
each show's pages write them, so the ingest reads show, channel, host, date and guests from them.
About a third of the descriptions name no guest: those episodes' first caption lines introduce
guests already named elsewhere, as a host does on air, and the ingest links them from there.
"""

import argparse
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from app.french_dates import french_date
from app.timecodes import format_timestamp

ROOT = Path(__file__).resolve().parent.parent
CAPTION = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(.*)$")
# quotes planted across a caption line break, so phrase search across lines is exercised
PLANTED = [
    "la souveraineté numérique européenne",
    "les données personnelles des utilisateurs",
    "une panne géante du cloud",
    "le règlement sur l'intelligence artificielle",
    "la cybersécurité des hôpitaux français",
    "les hyperscalers américains dominent",
]

FIRST_DAY, LAST_DAY = date(2021, 1, 4), date(2025, 12, 18)
UNDESCRIBED_SHARE = 1 / 3  # descriptions that name no guest: the introduction names them
UNDATED_SHARE = 0.03  # topical blurbs without show or date, as seed 003
# Roles change over time: from this day on a guest with two roles is introduced with the second.
SECOND_ROLE_FROM = date(2023, 9, 1)


@dataclass(frozen=True)
class Guest:
    name: str
    roles: tuple[tuple[str, str | None], ...]  # (title, affiliation); a second one from SECOND_ROLE_FROM
    misspelt: str | None = None  # how some descriptions spell the name (one person, two spellings)

    def role_on(self, day: date | None) -> tuple[str, str | None]:
        later = day is not None and day >= SECOND_ROLE_FROM
        return self.roles[min(len(self.roles) - 1, 1 if later else 0)]


def g(name: str, *roles: tuple[str, str | None], misspelt: str | None = None) -> Guest:
    return Guest(name, roles, misspelt)


# Sixty people, a dozen of them from the seeds. No two names are within the same-person threshold
# of app/names.py, so each one is one guest page; the misspellings are within it on purpose.
GUEST_POOL = [
    g(
        "Julien Pillot",
        ("enseignant-chercheur en économie", "Inseec"),
        ("consultant, enseignant-chercheur en économie", "Inseec - Groupe Omnes Education"),
    ),
    g("Garance Mathias", ("avocate", None), ("avocate associée", "Mathias Avocats")),
    g("Alain Staron", ("PDG", "Artifeel")),
    g("Imène Kabouya", ("consultante", "Wavestone"), ("partner", "Wavestone"), misspelt="Imen Kabouya"),
    g("Thomas Serval", ("PDG", "Baracoda")),
    g("Jérôme Marin", ("fondateur", "cafetech.com")),
    g("Didier Sanz", ("journaliste tech", None)),
    g("Audrey Maurel", ("avocate", None)),
    g("Caroline Chopinaud", ("directrice associée", "Hub France IA")),
    g(
        "Christophe Grosbost",
        ("directeur de la stratégie", "Innovation Makers Alliance"),
        misspelt="Christophe Grosbosc",
    ),
    g("Margarita Zlatkova", ("head of data & programmatic EMEA", "Weborama")),
    g("Cyril VanAgt", ("vice-président EMEA", "Keepit"), misspelt="Cyril Van Agt"),
    g("Sophie Lefèvre-Arnaud", ("directrice de la cybersécurité", "Orange Cyberdefense")),
    g("Nicolas Berthelot", ("analyste", "Gartner")),
    g("Camille Roussel", ("chercheuse en intelligence artificielle", "Inria")),
    g("Mathieu Delorme", ("fondateur", "Kelvin Data"), ("directeur général", "Kelvin Data")),
    g("Élodie Marchand", ("déléguée générale", "Numeum")),
    g("Karim Benali", ("directeur technique", "Scaleway")),
    g("Léa Fontaine", ("journaliste", "Les Échos")),
    g("Hugo Martinet", ("économiste", "OFCE")),
    g("Nathalie Girard", ("présidente", "France Digitale")),
    g("Olivier Dumas", ("responsable cloud", "OVHcloud")),
    g("Pauline Chevalier", ("avocate en droit du numérique", "cabinet Lexvia")),
    g("Yasmine Haddad", ("directrice de l'innovation", "Capgemini")),
    g("Guillaume Perrin", ("chercheur", "CNRS")),
    g("Marion Lacroix", ("cofondatrice", "Mistral Labs")),
    g("Sébastien Faure", ("RSSI", "AP-HP")),
    g("Thibault Garnier", ("investisseur", "Partech"), ("associé", "Partech")),
    g("Amandine Rolland", ("sociologue du numérique", "Sciences Po")),
    g("Jean-Baptiste Le Goff", ("directeur général", "Breizh Data")),
    g("Fatou Diallo", ("data scientist", "Doctolib")),
    g("Romain Charpentier", ("journaliste", "01net")),
    g("Inès Mercier", ("consultante", "Sia Partners")),
    g("Vincent Rivière", ("chef de produit", "Free")),
    g("Aurélie Besson", ("directrice juridique", "Dailymotion")),
    g("Maxime Leroux", ("développeur", "Mozilla")),
    g("Hélène de Villiers", ("ancienne députée", None), ("présidente", "Institut du Numérique Responsable")),
    g("Benoît Carré", ("professeur", "Télécom Paris")),
    g("Sarah Cohen-Solal", ("entrepreneuse", "Alan")),
    g("Damien Roche", ("expert en cybersécurité", "ANSSI")),
    g("Laure Picard", ("analyste", "IDC")),
    g("Mehdi Ait-Kaci", ("fondateur", "Pixdrone")),
    g("Juliette Moreau", ("journaliste", "Le Monde Informatique")),
    g("François-Xavier Bernard", ("avocat", "Bird & Bird")),
    g("Charlotte Noël", ("directrice marketing", "Deezer")),
    g("Paul Henrion", ("ingénieur", "Thales")),
    g("Émilie Tran", ("chercheuse", "Institut Montaigne")),
    g("Rachid Ouali", ("directeur des opérations", "Ubisoft")),
    g("Manon Blanchard", ("doctorante", "Institut Polytechnique de Paris")),
    g("Cédric Lemaire", ("directeur des systèmes d'information", "SNCF")),
    g("Agathe Renaud", ("présidente", "Femmes du Numérique")),
    g("Laurent Kieffer", ("directeur", "Atos")),
    g("Bérénice Gaillard", ("juriste", "CNIL")),
    g("Yann Le Bihan", ("chroniqueur", "BFM Business")),
    g("Stéphanie Vidal", ("responsable IA", "BNP Paribas")),
    g("Arnaud Duchêne", ("fondateur", "Lumio")),
    g("Clémence Robin", ("analyste", "Xerfi")),
    g("Florian Masson", ("vidéaste tech", None)),
    g("Noémie Laurent", ("directrice des programmes", "Station F")),
    g("Grégoire Pasquier", ("professeur de droit", "Université Paris-Saclay")),
]

TOPICS = [
    "la panne d'Amazon Web Services",
    "le plan French Tech 2030",
    "la souveraineté du cloud européen",
    "les semi-conducteurs taïwanais",
    "la rémunération des patrons de la tech",
    "le règlement européen sur l'IA",
    "les flops mémorables de la tech",
    "la cybersécurité des hôpitaux",
    "la fibre dans les campagnes",
    "les voitures autonomes",
    "le télétravail après la pandémie",
    "les cryptomonnaies",
    "la 5G",
    "l'énergie des data centers",
    "la protection des données personnelles",
    "les mineurs sur les réseaux sociaux",
    "la levée de fonds record d'une start-up française",
    "les robots conversationnels",
    "l'informatique quantique",
    "la visioconférence de l'État",
    "les satellites en orbite basse",
    "le cloud de confiance",
    "les licenciements dans la tech",
    "la régulation des plateformes",
    "les métavers",
    "la sobriété numérique",
    "les rançongiciels",
    "la réparation des smartphones",
]


@dataclass
class Show:
    name: str
    host: str
    weekdays: tuple[int, ...]  # the days of the week it airs (0 is Monday)
    weight: int  # its share of the catalogue
    category: str  # "News" or "TV", as the page files it
    describe: Callable[["Episode"], str]
    describe_without_guests: Callable[["Episode"], str]


@dataclass
class Episode:
    number: int
    show: Show | None
    aired: date | None
    panel: list[Guest]
    described: bool  # False: the description names no guest, the introduction does
    topics: list[str]
    misspell: set[str] = field(default_factory=set)  # guests whose description uses the other spelling

    def day(self) -> str:
        assert self.aired is not None  # only a show's episodes say their day, and each has one
        return french_date(self.aired).capitalize()  # "Jeudi 23 octobre 2025", as the pages write it

    def spelt(self, guest: Guest) -> str:
        return guest.misspelt if guest.name in self.misspell and guest.misspelt else guest.name

    def in_parentheses(self, guest: Guest) -> str:
        """ "Garance Mathias (Avocate)", "Alain Staron (PDG, Artifeel)": the SMART TECH form."""
        title, affiliation = guest.role_on(self.aired)
        role = title[:1].upper() + title[1:] + (f", {affiliation}" if affiliation else "")
        return f"{self.spelt(guest)} ({role})"

    def in_prose(self, guest: Guest) -> str:
        """ "Thomas Serval, PDG chez Baracoda": the Tech & Co form (lowercase role, no inner comma)."""
        title, affiliation = guest.role_on(self.aired)
        title = title.split(", ")[-1]
        return f"{self.spelt(guest)}, {title}" + (f" chez {affiliation}" if affiliation else "")


def listing(items: list[str], last: str = " et ") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + last + items[-1]


SHOWS = [
    Show(
        "SMART TECH",
        "Delphine Sabattier",
        (3,),
        4,
        "News",
        lambda e: (
            f"{e.day()}, retrouvez {listing([e.in_parentheses(x) for x in e.panel])} dans SMART TECH, "
            f"une émission présentée par Delphine Sabattier."
        ),
        lambda e: (
            f"{e.day()}, le grand débrief de l'actu tech dans SMART TECH, une émission présentée par "
            f"Delphine Sabattier. Au menu : {listing(e.topics)}."
        ),
    ),
    Show(
        "Tech & Co, la quotidienne",
        "François Sorel",
        (0, 1, 2, 3),
        5,
        "TV",
        lambda e: (
            f"Ce {e.day().lower()}, François Sorel a reçu "
            f"{listing([e.in_prose(x) for x in e.panel], ', et ')}. "
            f"Ils se sont penchés sur {listing(e.topics, ' ainsi que ')}, dans l'émission Tech & Co, "
            f"la quotidienne, sur BFM Business. Retrouvez l'émission du lundi au jeudi et réécoutez-la "
            f"en podcast."
        ),
        lambda e: (
            f"Ce {e.day().lower()}, retour sur {listing(e.topics)} dans l'émission Tech & Co, "
            f"la quotidienne, sur BFM Business, présentée par François Sorel."
        ),
    ),
    Show(
        "01 Hebdo",
        "Claire Vasseur",
        (4,),
        2,
        "TV",
        lambda e: (
            f"{e.day()} : le magazine 01 Hebdo, animé par Claire Vasseur, reçoit "
            f"{listing([e.in_parentheses(x) for x in e.panel])} pour décrypter {e.topics[0]}."
        ),
        lambda e: f"{e.day()} : le magazine 01 Hebdo, animé par Claire Vasseur, revient sur {listing(e.topics)}.",
    ),
    Show(
        "Le Débrief Numérique",
        "Bastien Carrel",
        (0,),
        2,
        "News",
        lambda e: (
            f"{e.day()}, Bastien Carrel accueille {listing([e.in_prose(x) for x in e.panel], ', et ')}, "
            f"dans Le Débrief Numérique, un podcast sur {e.topics[0]}."
        ),
        lambda e: (
            f"{e.day()}, on parle de {listing(e.topics)} dans Le Débrief Numérique, un podcast "
            f"présenté par Bastien Carrel."
        ),
    ),
]

UNDATED = [  # no show, no date: the title is the first sentence
    lambda e: (
        f"Face aux enjeux de {e.topics[0]}, l'État français multiplie les annonces. Une initiative qui "
        f"interroge sur l'indépendance technologique du pays."
    ),
    lambda e: f"Que retenir de {e.topics[0]} ? Le débat de la semaine, en plateau.",
]

INTRODUCTIONS = [  # how a host presents the panel on air, cut across one or two caption lines
    lambda names: [f"Bonjour à tous, avec nous aujourd'hui {listing(names)}."],
    lambda names: ["Bienvenue à tous, on est en direct, autour de la table", f"nous avons {listing(names)}."],
    lambda names: [f"Et pour en débattre nous recevons {listing(names, ', bonjour, et ')}, merci d'être là."],
]

PAGE_HEADS = [
    "- il y a 3 mois",
    "• avant-hier",
    "- il y a 1 semaine",
    "Passer au playerPasser au contenu principal\n  • il y a 23 heures",
]
CATEGORY_MARKS = {"News": "🗞", "TV": "📺"}


def seed_captions() -> list[str]:
    texts = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        started = False
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            m = CAPTION.match(line.strip())
            if m and m.group(4).strip():
                started = True
                texts.append(m.group(4).strip())
            elif started and line.startswith("Commentaires"):
                break
    return texts


class Chain:
    """A bigram chain over the seeds' words: realistic word pairs, new sentences."""

    def __init__(self, texts: list[str]):
        self.next: dict[str, list[str | None]] = defaultdict(list)  # None: the end of a sentence
        self.starts: list[str] = []
        self.lengths: list[int] = []
        for text in texts:
            ws = text.split()
            if not ws:
                continue
            self.lengths.append(len(ws))
            self.starts.append(ws[0])
            for a, b in zip(ws, [*ws[1:], None], strict=True):
                self.next[a].append(b)

    def line(self, rng: random.Random) -> str:
        n = rng.choice(self.lengths)
        word = rng.choice(self.starts)
        out = [word]
        while len(out) < n:
            followers = self.next.get(word)
            following = rng.choice(followers) if followers else None
            word = following if following is not None else rng.choice(self.starts)
            out.append(word)
        return " ".join(out)


def air_days(show: Show, needed: int) -> list[date]:
    """The show's air days from FIRST_DAY to LAST_DAY, a year earlier at a time while too few."""
    first = FIRST_DAY
    while True:
        days = [first + timedelta(days=n) for n in range((LAST_DAY - first).days + 1)]
        days = [d for d in days if d.weekday() in show.weekdays]
        if len(days) >= needed:
            return days
        first = first.replace(year=first.year - 1)


def plan_catalogue(rng: random.Random, episodes: int) -> list[Episode]:
    """Which show, day, panel and kind of description each episode gets."""
    undated = {n for n in range(episodes) if episodes > 20 and rng.random() < UNDATED_SHARE}
    shows: list[Show | None] = [
        None if n in undated else rng.choices(SHOWS, [s.weight for s in SHOWS])[0] for n in range(episodes)
    ]
    days: dict[str, list[date]] = {}
    for show in SHOWS:
        count = sum(1 for s in shows if s is show)
        days[show.name] = rng.sample(air_days(show, count), count) if count else []
    # a few regulars and a long tail, every one of them in several panels of a large catalogue
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(GUEST_POOL))]
    named: list[Guest] = []  # guests some description has already named, in the order they came
    plans = []
    for n, shown_on in enumerate(shows):
        panel = weighted_sample(rng, GUEST_POOL, weights, rng.choice((2, 3, 3, 4)))
        described = shown_on is not None and (not named or rng.random() >= UNDESCRIBED_SHARE)
        if described:
            named.extend(x for x in panel if x not in named)
        else:  # the introduction names people the archive knows from other episodes
            panel = rng.sample(named, min(len(named), len(panel)))
        plans.append(
            Episode(
                number=n,
                show=shown_on,
                aired=days[shown_on.name].pop() if shown_on else None,
                panel=panel,
                described=described,
                topics=rng.sample(TOPICS, 3),
                misspell={x.name for x in panel if x.misspelt and rng.random() < 0.25},
            )
        )
    return plans


def weighted_sample(rng: random.Random, pool: list[Guest], weights: list[float], k: int) -> list[Guest]:
    chosen: list[Guest] = []
    while len(chosen) < k:
        guest = rng.choices(pool, weights)[0]
        if guest not in chosen:
            chosen.append(guest)
    return chosen


def description(episode: Episode) -> str:
    if episode.show is None:
        return UNDATED[episode.number % len(UNDATED)](episode)
    if episode.described:
        return episode.show.describe(episode)
    return episode.show.describe_without_guests(episode)


def misheard(rng: random.Random, name: str) -> str:
    """A name as a speech-to-text engine may write it: now and then one letter of the family name lost."""
    first, _, family = name.partition(" ")
    if rng.random() >= 0.2 or len(family) < 6:
        return name
    cut = rng.randrange(1, len(family) - 1)
    return f"{first} {family[:cut]}{family[cut + 1 :]}"


def episode_page(rng: random.Random, chain: Chain, episode: Episode, lines: int) -> tuple[str, list[tuple[int, str]]]:
    captions = [chain.line(rng) for _ in range(lines)]
    if not episode.described and episode.panel:
        spoken = INTRODUCTIONS[rng.randrange(len(INTRODUCTIONS))]([misheard(rng, x.name) for x in episode.panel])
        captions[: len(spoken)] = spoken
    for _ in range(2):  # two planted quotes per episode, each broken across two caption lines
        quote = rng.choice(PLANTED).split()
        i = rng.randrange(lines - 1)
        cut = rng.randrange(1, len(quote))
        captions[i] = f"{captions[i]} {' '.join(quote[:cut])}"
        captions[i + 1] = f"{' '.join(quote[cut:])} {captions[i + 1]}"
    second, timed = 0, []
    for text in captions:
        timed.append((second, text))
        second += rng.randint(1, 5)
    body = "\n".join(f"{format_timestamp(s)}{t}" for s, t in timed)
    category = episode.show.category if episode.show else "News"
    # page files glue the category to the heading ("NewsTranscription") or keep them on two lines
    heading = f"{category}Transcription" if rng.random() < 0.5 else f"{category}\nTranscription"
    page = (
        f"{rng.choice(PAGE_HEADS)}\n{description(episode)}\nCatégorie\n{CATEGORY_MARKS[category]}\n{heading}\n"
        f"{body}\nCommentaires\nÉcris le tout premier commentaire\nRecommandations\n"
    )
    return page, timed


def generate(out: Path, episodes: int, lines: int = 1000, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    chain = Chain(seed_captions())
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for episode in plan_catalogue(rng, episodes):
        page, _ = episode_page(rng, chain, episode, max(lines, 2))
        path = out / f"synth_{episode.number:05d}.txt"
        path.write_text(page, encoding="utf-8")
        paths.append(path)
    return paths


def read_captions(path: Path) -> list[tuple[int, str]]:
    """The caption lines of a page file (the benchmark loads them without the web app)."""
    captions, started, prev = [], False, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = CAPTION.match(line)
        if m and (started or "Transcription" in prev):
            started = True
            h, mm, ss, text = m.groups()
            captions.append((int(h or 0) * 3600 + int(mm) * 60 + int(ss), text))
        elif started:
            break
        prev = line
    return captions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    paths = generate(args.out, args.episodes, args.lines, args.seed)
    print(f"{len(paths)} épisodes écrits dans {args.out}")


if __name__ == "__main__":
    main()

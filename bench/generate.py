"""Generate a synthetic archive in the seed page format: French drawn from the seeds, planted quotes.

    .venv/bin/python -m bench.generate OUT_DIR --episodes 200 [--lines 1000] [--seed 1]
"""
import argparse
import random
import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAPTION = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(.*)$")
WEEKDAYS = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]
GUESTS = ["Garance Mathias (Avocate)", "Julien Pillot (enseignant-chercheur en économie, Inseec)",
          "Alain Staron (PDG, Artifeel)", "Imène Kabouya (consultante, Wavestone)", "Thomas Serval (PDG, Baracoda)",
          "Jérôme Marin (fondateur, cafetech.com)", "Didier Sanz (journaliste tech)"]
# quotes planted across a caption line break, so phrase search across lines is exercised
PLANTED = ["la souveraineté numérique européenne", "les données personnelles des utilisateurs",
           "une panne géante du cloud", "le règlement sur l'intelligence artificielle",
           "la cybersécurité des hôpitaux français", "les hyperscalers américains dominent"]


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
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts = []
        self.lengths = []
        for text in texts:
            ws = text.split()
            if not ws:
                continue
            self.lengths.append(len(ws))
            self.starts.append(ws[0])
            for a, b in zip(ws, ws[1:] + [None]):
                self.next[a].append(b)

    def line(self, rng: random.Random) -> str:
        n = rng.choice(self.lengths)
        word = rng.choice(self.starts)
        out = [word]
        while len(out) < n:
            followers = self.next.get(word)
            word = rng.choice(followers) if followers else None
            if word is None:
                word = rng.choice(self.starts)
            out.append(word)
        return " ".join(out)


def timestamp(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def episode_page(rng: random.Random, chain: Chain, number: int, lines: int) -> tuple[str, list[tuple[int, str]]]:
    aired = date(2025, 11, 27) - timedelta(days=number)
    guests = rng.sample(GUESTS, 3)
    description = (f"{WEEKDAYS[aired.weekday()]} {aired.day} {MONTHS[aired.month - 1]} {aired.year}, retrouvez "
                   f"{', '.join(guests[:2])} et {guests[2]} dans SMART TECH, une émission présentée par "
                   f"Delphine Sabattier.")
    captions = [chain.line(rng) for _ in range(lines)]
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
    body = "\n".join(f"{timestamp(s)}{t}" for s, t in timed)
    page = (f"- il y a 3 mois\n{description}\nCatégorie\n🗞\nNewsTranscription\n{body}\n"
            f"Commentaires\nÉcris le tout premier commentaire\nRecommandations\n")
    return page, timed


def generate(out: Path, episodes: int, lines: int = 1000, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    chain = Chain(seed_captions())
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(episodes):
        page, _ = episode_page(rng, chain, n, lines)
        path = out / f"synth_{n:05d}.txt"
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

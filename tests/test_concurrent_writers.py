"""Writers at once never collide: uploads and `plateau ingest` runs of episodes that share a show,
a title, an air date and guests; edits naming one new show; deletes of one episode; crossed merges.

Each write that reads and then writes (a free slug, a show or a person to create, the episode or the
guests it changes) holds SQLite's write lock from its first statement (app/db.py: begin_writing),
so no writer chooses what another is about to take, and no answer carries SQL."""

import os
import random
import re
import sqlite3
import subprocess
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from app.french_dates import french_date
from app.timecodes import format_timestamp
from bench.generate import GUEST_POOL, Chain, Guest, listing, seed_captions
from tests.conftest import SEEDS, TOKEN, LiveServer, free_port, wait_until_healthy
from tests.test_cli import PLATEAU

AUTH = {"Authorization": f"Bearer {TOKEN}"}
# What a message must never show: SQL, the driver's name, a database exception, a traceback.
LEAKS = re.compile(
    r"SELECT |INSERT |UPDATE |DELETE FROM|UNIQUE constraint|IntegrityError|OperationalError|Traceback|(?i:sqlite)"
)

ROUNDS = 3
FILES = 50  # per writer and round
WRITERS = ("api-0", "api-1", "cli-0", "cli-1")
SEARCHERS = 8
# Between two reads of a searcher: eight readers always at work, not eight spinning loops, which
# would leave the one server process (and the two cores) little time for the writers.
PAUSE = 1.0
# SMART TECH airs on Thursdays: every file is one of these eight episodes' days, so every slug
# starts as one of eight (2025-10-02-smart-tech…) and every title is one of eight.
DAYS = [date(2025, 10, 2) + timedelta(weeks=w) for w in range(8)]
REGULARS = GUEST_POOL[:4]  # named by every round
NEWCOMERS = 6  # people no earlier round named: every writer's first files create them at once
CONSONANTS = "bcdfghjklmnpqrtvwz"  # no vowel, no s or x: no stemmer or plural rule touches the word


def marker(n: int) -> str:
    """A word said in one file only: `zq` and four consonants."""
    letters = []
    for _ in range(4):
        n, digit = divmod(n, len(CONSONANTS))
        letters.append(CONSONANTS[digit])
    return "zq" + "".join(letters)


def in_parentheses(guest: Guest) -> str:
    title, affiliation = guest.roles[0]
    return f"{guest.name} ({title[:1].upper() + title[1:]}{f', {affiliation}' if affiliation else ''})"


def write_round(root: Path, n: int, chain: Chain) -> dict[str, list[Path]]:
    """Round n's 200 files, 50 a writer, each in its writer's folder: one show, eight days, shared
    guests (a tenth of the descriptions name nobody, their introduction does), one marker each."""
    rng = random.Random(n)
    newcomers = GUEST_POOL[len(REGULARS) + NEWCOMERS * n : len(REGULARS) + NEWCOMERS * (n + 1)]
    files: dict[str, list[Path]] = {}
    for w, writer in enumerate(WRITERS):
        folder = root / f"tour-{n}" / writer
        folder.mkdir(parents=True)
        files[writer] = []
        for i in range(FILES):
            day = french_date(DAYS[i % len(DAYS)]).capitalize()
            panel = [REGULARS[i % len(REGULARS)], newcomers[i % NEWCOMERS], newcomers[(i + 1) % NEWCOMERS]]
            captions = [chain.line(rng) for _ in range(rng.randint(20, 40))]
            if i % 10 == 9:
                description = (
                    f"{day}, le grand débrief de l'actu tech dans SMART TECH, une émission présentée par "
                    f"Delphine Sabattier."
                )
                captions[0] = f"Bonjour à tous, avec nous aujourd'hui {listing([g.name for g in panel])}."
            else:
                description = (
                    f"{day}, retrouvez {listing([in_parentheses(g) for g in panel])} dans SMART TECH, "
                    f"une émission présentée par Delphine Sabattier."
                )
            said = rng.randrange(1, len(captions))
            captions[said] = f"{captions[said]} {marker(1000 * n + 100 * w + i)}"
            body = "\n".join(f"{format_timestamp(3 * k)}{text}" for k, text in enumerate(captions))
            path = folder / f"tour{n}-{writer}-{i:02d}.txt"
            path.write_text(
                f"- il y a 3 mois\n{description}\nCatégorie\n🗞\nNewsTranscription\n{body}\nCommentaires\n",
                encoding="utf-8",
            )
            files[writer].append(path)
    return files


class Searchers:
    """Readers in a loop for as long as the writers write: /api/search, /search and an episode page."""

    def __init__(self, url: str, slugs: list[str]):
        self.url = url
        self.slugs = slugs  # episodes the uploads stored, for the episode page
        self.answers: list[tuple[str, int]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.search, args=(n,)) for n in range(SEARCHERS)]

    def search(self, n: int) -> None:
        queries = ["cloud", "souveraineté numérique", '"protection des données"', "numéri*", "Keepit~", "Pillot"]
        with httpx.Client(base_url=self.url, timeout=60) as http:
            i = n
            while not self.stop.is_set():
                q = queries[i % len(queries)]
                path, params = [("/api/search", {"q": q}), ("/search", {"q": q}), ("/episodes", {})][i % 3]
                if path == "/episodes" and self.slugs:
                    path = f"/episodes/{self.slugs[i % len(self.slugs)]}"
                try:
                    status = http.get(path, params=params).status_code
                except httpx.TransportError as error:
                    status, path = -1, f"{path} ({error!r})"
                self.answers.append((f"{path} {params}", status))
                i += 1
                self.stop.wait(PAUSE)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def start_server(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`plateau serve` on a free port, a process of its own, with the editors' token."""
    port = free_port()
    env = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir), "PLATEAU_ADMIN_TOKEN": TOKEN}
    with log.open("w") as out:
        server = subprocess.Popen([*PLATEAU, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, time.monotonic() + 40)
    return server, url


def wait_until_indexed(http: httpx.Client, deadline: float) -> dict:
    """/healthz once nothing waits for the index (an upload that found it busy is retried after its answer)."""
    while True:
        health = http.get("/healthz").json()
        if health["index"] == "ok" or time.monotonic() > deadline:
            return health
        time.sleep(0.2)


def upload(url: str, paths: list[Path], answers: list[tuple[int, str]], slugs: list[str]) -> None:
    """Each file POSTed in turn with the editors' token, as a script would: (status, body) of each."""
    with httpx.Client(base_url=url, timeout=120) as http:
        for path in paths:
            try:
                sent = http.post("/api/episodes", files={"file": (path.name, path.read_bytes())}, headers=AUTH)
            except httpx.TransportError as error:
                answers.append((-1, f"{path.name}: {error!r}"))
                continue
            answers.append((sent.status_code, sent.text))
            if sent.is_success:
                slugs.append(sent.json()["slug"])


def test_four_writers_and_eight_searchers_store_and_find_every_file(tmp_path):
    """2 uploaders and 2 `plateau ingest` × 50 files with 8 searchers, 3 rounds: 200 new episodes each
    round, 200 distinct slugs, one show, one person per name, every file findable, no SQL said."""
    data_dir = tmp_path / "data"
    chain = Chain(seed_captions())
    server, url = start_server(data_dir, tmp_path / "serveur.log")
    slugs: list[str] = []  # what the uploads stored: the searchers open these episodes' pages
    cli_env = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir)}
    cli_env.pop("PLATEAU_ADMIN_TOKEN", None)
    try:
        with Searchers(url, slugs) as searchers, httpx.Client(base_url=url, timeout=120) as http:
            for n in range(ROUNDS):
                files = write_round(tmp_path, n, chain)
                reads_before = len(searchers.answers)
                runs = [
                    subprocess.Popen(
                        [*PLATEAU, "ingest", str(files[writer][0].parent)],
                        env=cli_env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    for writer in ("cli-0", "cli-1")
                ]
                answers: dict[str, list[tuple[int, str]]] = {"api-0": [], "api-1": []}
                uploaders = [
                    threading.Thread(target=upload, args=(url, files[writer], answers[writer], slugs))
                    for writer in answers
                ]
                for thread in uploaders:
                    thread.start()
                outputs = [run.communicate(timeout=300) for run in runs]
                for thread in uploaders:
                    thread.join(300)
                assert len(searchers.answers) - reads_before >= SEARCHERS, n  # they read while the writers wrote

                for writer, sent in answers.items():
                    assert len(sent) == FILES, (n, writer)
                    for status, text in sent:
                        assert status == 201, (n, writer, status, text[:500])
                        assert not LEAKS.search(text), (n, writer, text[:500])
                for run, (out, err) in zip(runs, outputs, strict=True):
                    assert run.returncode == 0, (n, out, err[-2000:])
                    assert f"{FILES} ajouté(s), 0 mis à jour, 0 inchangé(s), 0 en échec" in out, (n, out, err[-2000:])
                    assert not LEAKS.search(out + err), (n, out, err[-2000:])

                with sqlite3.connect(data_dir / "plateau.db") as db:
                    stored = [row[0] for row in db.execute("SELECT slug FROM episode")]
                    shows = [row[0] for row in db.execute("SELECT slug FROM show")]
                    people = [row[0] for row in db.execute("SELECT name FROM person")]
                assert len(stored) == len(set(stored)) == len(WRITERS) * FILES * (n + 1), n
                assert all(re.fullmatch(r"2025-1[01]-\d\d-smart-tech(-\d+)?", s) for s in stored), n
                assert shows == ["smart-tech"], n
                named = [g.name for g in GUEST_POOL[: len(REGULARS) + NEWCOMERS * (n + 1)]] + ["Delphine Sabattier"]
                assert sorted(people) == sorted(named), n  # one record a person, whoever named them first

                health = wait_until_indexed(http, time.monotonic() + 30)
                assert health["status"] == "ok", (n, health)
                assert http.get("/healthz", params={"deep": 1}).json()["status"] == "ok", n
                markers = [marker(1000 * n + 100 * w + i) for w in range(len(WRITERS)) for i in range(FILES)]
                for k in range(0, len(markers), 16):  # a query holds 16 words at most
                    group = markers[k : k + 16]
                    found = http.get("/api/search", params={"q": " OR ".join(group)}).json()
                    assert found["episodes"] == len(group), (n, group, found)
        failed = [answer for answer in searchers.answers if answer[1] != 200]
        assert not failed, (len(failed), len(searchers.answers), failed[:20])
    finally:
        server.terminate()
        server.wait(20)
    log = (tmp_path / "serveur.log").read_text(encoding="utf-8", errors="replace")
    # an upload whose index write waited past the writer timeout is logged (IndexBusy) and retried
    # after its answer; a collision would be one of these
    collisions = re.findall(r".*(?:IntegrityError|UNIQUE constraint|StaleDataError|database is locked).*", log)
    assert not collisions, collisions[:5]


def race(url: str, requests: list[tuple[str, str, dict | None]]) -> list[httpx.Response]:
    """These writes sent at the same instant, each from its own thread and connection."""
    barrier = threading.Barrier(len(requests))
    answers: list[httpx.Response | None] = [None] * len(requests)

    def send(k: int, method: str, path: str, body: dict | None) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            http.get("/healthz")  # the connection is open before the start
            barrier.wait()
            answers[k] = http.request(method, path, json=body, headers=AUTH)

    threads = [threading.Thread(target=send, args=(k, *request)) for k, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(a is not None for a in answers)
    for answer in answers:
        assert answer is not None and not LEAKS.search(answer.text), answer.text if answer else None
    return [a for a in answers if a is not None]


def test_edits_naming_one_new_show_at_once_create_it_once(admin_token, seeded):
    """Five PATCHes at once, one per episode, each naming the same new show: all 200, one show."""
    with LiveServer() as live:
        for k in range(12):
            name = f"Émission du tour {k}"
            answers = race(live.url, [("PATCH", f"/api/episodes/{slug}", {"show": name}) for slug in seeded.values()])
            assert [a.status_code for a in answers] == [200] * len(seeded), [(a.status_code, a.text) for a in answers]
            assert {a.json()["show"] for a in answers} == {name}
        shows = httpx.get(f"{live.url}/api/shows").json()["items"]
    assert [(s["name"], s["episodes"]) for s in shows] == [(name, len(seeded))]


def test_deletes_of_one_episode_at_once_delete_it_once(admin_token, seeded):
    """Three DELETE requests for one episode at once: one 204, the others find it gone (404)."""
    with LiveServer() as live:
        for slug in list(seeded.values())[:4]:
            answers = race(live.url, [("DELETE", f"/api/episodes/{slug}", None)] * 3)
            assert sorted(a.status_code for a in answers) == [204, 404, 404], (slug, [a.text for a in answers])
        assert httpx.get(f"{live.url}/api/episodes").json()["total"] == len(seeded) - 4


def test_crossed_merges_keep_every_appearance(admin_token, seeded):
    """A into B and B into A at once: one merge is made (200), the other finds its guest gone
    (404), and the guest left has every appearance of both."""
    with LiveServer() as live, httpx.Client(base_url=live.url, timeout=60) as http:
        guests = [g["slug"] for g in http.get("/api/guests").json()["items"]]
        assert len(guests) >= 6, guests
        for a, b in zip(guests[0:6:2], guests[1:6:2], strict=True):
            both = {
                (x["episode"]["slug"], x["kind"])
                for slug in (a, b)
                for x in http.get(f"/api/guests/{slug}").json()["appearances"]
            }
            answers = race(
                live.url,
                [("POST", f"/api/guests/{a}/merge", {"into": b}), ("POST", f"/api/guests/{b}/merge", {"into": a})],
            )
            assert sorted(x.status_code for x in answers) == [200, 404], [(x.status_code, x.text) for x in answers]
            merged = next(x.json() for x in answers if x.status_code == 200)
            assert {(x["episode"]["slug"], x["kind"]) for x in merged["appearances"]} == both
            assert http.get(f"/api/guests/{merged['slug']}").json()["appearances"] == merged["appearances"]


def test_one_file_uploaded_three_times_at_once_is_stored_once(admin_token, tmp_path):
    """The same new file sent by three clients at once: one 201, the others 200 « unchanged »,
    never 422 « erreur interne » (the file is looked up again once the writer lock is held)."""
    seed = (SEEDS / "001_17b833aa618b417f.txt").read_bytes()
    with LiveServer() as live, httpx.Client(base_url=live.url, timeout=120) as http:
        for k in range(4):
            data = seed + f"\n99:59\nEnvoi en double numéro {k}.\n".encode()
            answers: list[httpx.Response | None] = [None] * 3

            def send(i: int, answers=answers, data: bytes = data, k: int = k) -> None:
                files = {"file": (f"double-{k}.txt", data)}
                answers[i] = http.post("/api/episodes", files=files, headers=AUTH)

            threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            statuses = sorted(a.status_code for a in answers if a is not None)
            assert statuses == [200, 200, 201], [a.text[:200] for a in answers if a is not None]
            assert {a.json()["slug"] for a in answers if a is not None} == {answers[0].json()["slug"]}


def test_a_batch_leaves_the_pending_episodes_of_a_running_batch_to_it(seeded, session, index):
    """An upload during a `plateau ingest` of many files must not take up that ingest's episodes
    (committed, not yet indexed): it would settle the whole archive and index them all, holding the
    write lock for long. Alone, a batch takes up what a dead batch left pending."""
    from sqlmodel import select

    from app.models import Episode
    from app.services.ingest import IngestBatch, RunningBatches

    pending = session.exec(select(Episode).where(Episode.slug == seeded["001"])).one()
    pending.index_state = "pending"
    failed = session.exec(select(Episode).where(Episode.slug == seeded["002"])).one()
    failed.index_state = "failed"
    session.commit()

    running = RunningBatches(index.index_dir)  # another ingest, still running
    try:
        upload = IngestBatch(session, index)
        assert not upload.running.alone
        assert pending.id not in upload.unfinished, "the running ingest's episode is left to it"
        assert failed.id in upload.unfinished, "a failed index write is tried again by anyone"
        assert upload.known_before is not None, "no archive-wide settlement"
        upload.running.close()
    finally:
        running.close()
    alone = IngestBatch(session, index)
    try:
        assert alone.running.alone and pending.id in alone.unfinished  # what a dead batch left
    finally:
        alone.running.close()

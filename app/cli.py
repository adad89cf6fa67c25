"""The `plateau` command: ingest, serve, reindex, check, export, backup, user (editor accounts), migrate-to."""

import gc
import logging
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


@contextmanager
def loaded_for_good() -> Iterator[None]:
    """Imports whose objects live as long as the process: made with the cyclic collector paused, then
    frozen (gc.freeze: never walked by it again), as the server does after its start."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# What a command loads (SQLAlchemy, SQLModel's tables, Whoosh, typer, Rich) is some 80,000 objects that
# live as long as it. The collector walked them over and over while they loaded, and all of them again at
# the exit: 0.1 s of the 0.42 s that `plateau ingest FILE` took to start, at 2,000 episodes.
with loaded_for_good():
    import typer
    from sqlmodel import Session, col, func, select

    from app.config import Settings, get_settings
    from app.db import get_engine
    from app.models import Episode
    from app.priority import lower_priority
    from app.search import IndexBusy, get_search_index
    from app.services.ingest import ingest_paths
    from app.services.revisions import EDITS
    from app.startup import prepare_data

cli = typer.Typer(
    help="Plateau : archive consultable des débats tech.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Output:
    """Where a command writes, stdout or stderr: each message as it is away from a terminal (a log, a
    pipe, a test), Rich's console on one (or when TTY_COMPATIBLE or FORCE_COLOR may make Rich take the
    stream for one). Rich is loaded only then: importing it was a thirtieth of `plateau ingest FILE`."""

    def __init__(self, stderr: bool = False):
        self.stderr = stderr
        self._console: Console | None = None

    @property
    def stream(self) -> Any:
        return sys.stderr if self.stderr else sys.stdout  # read at each write: a test may swap them

    @property
    def console(self) -> "Console":
        if self._console is None:
            from rich.console import Console

            # a summary line stays one line, whatever the width; a file named "a:fire:b.txt" is shown as it is
            self._console = Console(stderr=self.stderr, soft_wrap=True, emoji=False)
        return self._console

    @property
    def is_terminal(self) -> bool:
        if not ({"TTY_COMPATIBLE", "FORCE_COLOR"} & os.environ.keys() or self.stream.isatty()):
            return False
        return self.console.is_terminal

    def print(self, *objects: Any, markup: bool | None = None, highlight: bool | None = None) -> None:
        if self.is_terminal:
            self.console.print(*objects, markup=markup, highlight=highlight)
        else:
            # flushed at once, as Rich does: stdout and stderr sent to one log keep their order
            print(*objects, file=self.stream, flush=True)


out = Output()
err = Output(stderr=True)

STATUS_LABELS = {
    "added": "ajouté",
    "updated": "mis à jour",
    "unchanged": "inchangé",
    "failed": "échec",
    "skipped": "ignoré",
}


def ready() -> Settings:
    settings = get_settings()
    prepare_data(settings)
    return settings


class NoBar:
    """progress_bar() away from a terminal (a log, a pipe, a test), where Rich's bar would show
    nothing: its live display is not loaded for nothing."""

    def __enter__(self) -> "NoBar":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None


def progress_bar() -> "Progress | NoBar":
    if not err.is_terminal:
        return NoBar()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err.console,
        transient=True,
    )


@cli.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Fichiers ou dossiers de transcriptions."),
    show: str | None = typer.Option(None, help="Nom de l'émission, à la place de celui de la description."),
    media_url: str | None = typer.Option(None, "--media-url", help="Lien vers la vidéo."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Ne rien faire si l'archive a déjà des épisodes."),
    edits: str = typer.Option(
        "keep",
        "--edits",
        help="Épisode déjà corrigé par des éditeurs : keep reporte leurs modifications sur le fichier, "
        "replace les remplace par le texte du fichier.",
    ),
):
    """Ajoute ou met à jour des épisodes depuis des transcriptions."""
    if edits not in EDITS:
        raise typer.BadParameter(f"« {edits} » : keep ou replace", param_hint="--edits")
    lower_priority()  # the `plateau` command has already; not app.cli's main called otherwise
    settings = ready()
    index = get_search_index(settings)
    with Session(get_engine(settings)) as session:
        if if_empty and session.exec(select(func.count(col(Episode.id)))).one():
            out.print("L'archive contient déjà des épisodes : rien à faire.")
            return
        with progress_bar() as bar:
            task = bar.add_task("Ingestion", total=None)
            outcomes = ingest_paths(
                session,
                paths,
                index=index,
                show=show,
                media_url=media_url,
                edits=edits,
                on_total=lambda n: bar.update(task, total=n),
                progress=lambda o: bar.update(task, advance=1, description=f"{Path(o.source).name[:40]}"),
                on_indexing=lambda: bar.update(task, description="Écriture de l'index"),
            )
    counts = dict.fromkeys(STATUS_LABELS, 0)
    unsearchable = 0
    for outcome in outcomes:
        counts[outcome.status] += 1
        if outcome.status in ("failed", "skipped"):
            (err if outcome.status == "failed" else out).print(
                f"{STATUS_LABELS[outcome.status]} : {outcome.source} — {outcome.reason}", markup=False, highlight=False
            )
        elif not outcome.searchable:
            unsearchable += 1
            err.print(
                f"{STATUS_LABELS[outcome.status]} mais pas cherchable : {outcome.source} → {outcome.slug} "
                f"(l'index n'a pas pu être écrit : {index.last_write_error or 'raison inconnue'})",
                markup=False,
                highlight=False,
            )
        else:
            out.print(
                f"{STATUS_LABELS[outcome.status]} : {outcome.source} → {outcome.slug}"
                + (f" ({outcome.edits.message})" if outcome.edits else ""),
                markup=False,
                highlight=False,
            )
            for note in outcome.edits.not_reapplied if outcome.edits else ():
                err.print(f"  non reportée : {note}", markup=False, highlight=False)
    out.print(
        f"{counts['added']} ajouté(s), {counts['updated']} mis à jour, {counts['unchanged']} inchangé(s), "
        f"{counts['failed']} en échec, {counts['skipped']} ignoré(s)"
        + (f", dont {unsearchable} pas encore cherchable(s)." if unsearchable else ".")
    )
    if counts["failed"]:
        err.print("Des fichiers ont été refusés : corrigez-les (raison ci-dessus) puis relancez la même commande.")
    if unsearchable:
        err.print(
            "Des épisodes sont enregistrés mais absents de l'index : lancez `plateau reindex` "
            "(ou relancez la même commande quand l'index est libre)."
        )
    damage = index.confirmed_damage()
    if damage:
        err.print(
            f"L'index de recherche est endommagé ({'; '.join(damage)}) : les recherches échouent. "
            "Lancez `plateau reindex`.",
            markup=False,
            highlight=False,
        )
    elif not unsearchable:
        # the small segments that adds of a few files leave, merged once they pile up (after the summary)
        with suppress(IndexBusy):
            index.merge_segments()
    if counts["failed"] or unsearchable or damage:
        raise typer.Exit(1)


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = typer.Option(1, min=1, max=32)):
    """Sert l'archive (pages et API)."""
    import uvicorn

    settings = ready()
    options = {"app": "app.main:create_app", "factory": True, "host": host, "port": port, **proxy_options(settings)}
    if workers == 1:
        uvicorn.run(**options)
        return
    from app.serving import PortUnavailable, check_port, serve_workers

    try:
        check_port(host, port)
    except PortUnavailable as exc:
        err.print(
            f"Impossible d'écouter sur {host}:{port} : {exc}. Choisissez un autre port (--port) ou hôte (--host)."
        )
        raise typer.Exit(1) from exc
    raise typer.Exit(serve_workers(workers, **options))


def proxy_options(settings: Settings) -> dict:
    """uvicorn's proxy settings: off, since the app reads X-Forwarded-For, -Proto and -Host itself, from
    PLATEAU_TRUSTED_PROXIES only (app/proxies.py); uvicorn alone would believe them from 127.0.0.1,
    whoever runs there."""
    return {"proxy_headers": False, "forwarded_allow_ips": None}


@cli.command()
def reindex():
    """Reconstruit l'index de recherche depuis la base, dans un nouveau dossier mis en place d'un coup."""
    lower_priority()  # the `plateau` command has already; not app.cli's main called otherwise
    settings = ready()
    with Session(get_engine(settings)) as session, progress_bar() as bar:
        task = bar.add_task("Indexation", total=None)
        count = get_search_index(settings).rebuild(
            session, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    out.print(f"Index reconstruit : {count} épisode(s).")


@cli.command()
def check():
    """Vérifie que l'index et la base sont d'accord (code de sortie non nul sinon)."""
    settings = ready()
    index = get_search_index(settings)
    with Session(get_engine(settings)) as session:
        problems = index.check(session)
        if hasattr(index, "describe"):  # PostgreSQL: the RUM index, or the GIN one that stands in for it
            out.print(index.describe(session), markup=False, highlight=False)
    if problems:
        for problem in problems:
            err.print(f"- {problem}", markup=False, highlight=False)
        err.print("L'index ne correspond pas à la base : lancez `plateau reindex`.")
        raise typer.Exit(1)
    out.print("Base et index sont d'accord.")


@cli.command()
def export(slug: str, format: str = typer.Option("txt", "--format", "-f", help="vtt, srt, txt ou json")):
    """Écrit la transcription d'un épisode sur la sortie standard."""
    from app.services import downloads as download_service  # webvtt and srt: not at every command's start

    if format not in download_service.MEDIA_TYPES:
        err.print(f"Format inconnu « {format} » : choisissez vtt, srt, txt ou json.")
        raise typer.Exit(2)
    settings = ready()
    with Session(get_engine(settings)) as session:
        text = download_service.transcript_file(session, slug, format)
        newest = select(Episode.slug).order_by(col(Episode.id).desc()).limit(5)
        known = "" if text is not None else ", ".join(session.exec(newest))
    if text is None:
        # the server's address only when it is configured: unset, links come from each request
        where = f"{settings.base_url.rstrip('/')}/api/episodes" if settings.base_url else "/api/episodes sur le serveur"
        err.print(
            f"Aucun épisode « {slug} ». "
            + (f"Derniers épisodes entrés : {known}. " if known else "L'archive est vide. ")
            + f"La liste complète : {where}.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1)
    sys.stdout.write(text)


@cli.command()
def backup(file: Path):
    """Copie cohérente de la base, même pendant que le serveur tourne (API de sauvegarde SQLite)."""
    settings = get_settings()
    if settings.on_postgresql:
        err.print(
            "L'archive est dans PostgreSQL : `plateau backup` ne copie qu'une base SQLite. Sauvegardez-la avec "
            "les outils de PostgreSQL : pg_dump -Fc -f plateau.dump NOM_DE_LA_BASE (et pg_restore pour la "
            "remettre), ou la sauvegarde continue de votre hébergeur.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2)
    settings = ready()
    if not settings.db_url.startswith("sqlite:///"):
        err.print("La sauvegarde ne sait copier qu'une base SQLite.")
        raise typer.Exit(2)
    if file.exists():
        err.print(f"{file} existe déjà : choisissez un autre nom (rien n'est écrasé).")
        raise typer.Exit(1)
    file.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(settings.db_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(file)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    out.print(f"Base sauvegardée dans {file}.")


@cli.command("migrate-to")
def migrate_to(
    url: str = typer.Argument(..., help="La base PostgreSQL vide : postgresql+psycopg://utilisateur@hôte/base."),
):
    """Copie l'archive SQLite dans une base PostgreSQL vide (la source n'est pas modifiée)."""
    from app.services.migrate_to import MoveRefused
    from app.services.migrate_to import migrate_to as move

    settings = get_settings()  # not ready(): the source is read, never migrated nor indexed
    with progress_bar() as bar:
        tasks: dict[str, object] = {}

        def copied(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(f"Copie de {table}", total=total)
            bar.update(tasks[table], completed=done)  # type: ignore[arg-type]

        def indexed(done: int, total: int) -> None:
            if "search" not in tasks:
                tasks["search"] = bar.add_task("Recherche", total=total)
            bar.update(tasks["search"], completed=done)  # type: ignore[arg-type]

        try:
            moved = move(settings, url, progress=copied, search_progress=indexed)
        except MoveRefused as refused:
            err.print(str(refused), markup=False, highlight=False)
            raise typer.Exit(1) from None
    for table in moved.tables:
        mark = "" if table.source == table.target else f" — ÉCART : {table.source} dans la source"
        out.print(f"  {table.name} : {table.target} {table.label}{mark}", markup=False, highlight=False)
    if not moved.agree:
        err.print("Les comptes diffèrent (ci-dessus) : la copie est incomplète ; ne basculez pas sur cette base.")
        raise typer.Exit(1)
    episodes = next((t.target for t in moved.tables if t.name == "episode"), 0)
    target = url.split("@")[-1]  # no password in the summary
    out.print(
        f"Archive copiée dans PostgreSQL ({target}) : {len(moved.tables)} tables, comptes vérifiés table par "
        f"table ; recherche construite pour {moved.searchable} épisode(s) sur {episodes}. La base SQLite n'a pas "
        f"été modifiée. Pour basculer : PLATEAU_DATABASE_URL={url.split('://')[0]}://…@{target}",
        markup=False,
        highlight=False,
    )


user_cli = typer.Typer(help="Comptes des éditeurs (connexion par /login).", no_args_is_help=True)
cli.add_typer(user_cli, name="user")


@user_cli.command("add")
def user_add(
    name: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Lire le mot de passe sur l'entrée standard au lieu d'en tirer un."
    ),
):
    """Crée un compte d'éditeur ; affiche une seule fois son mot de passe, tiré au hasard."""
    from app.services import editors as editor_service

    settings = ready()
    if password_stdin and sys.stdin.isatty():
        password = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt="Encore une fois")
    elif password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = editor_service.new_password()
    with Session(get_engine(settings)) as session:
        try:
            editor = editor_service.add_editor(session, name, password)
        except editor_service.EditorError as error:
            err.print(str(error), markup=False, highlight=False)
            raise typer.Exit(1) from None
    out.print(f"Éditeur « {editor.name} » créé.", markup=False, highlight=False)
    if not password_stdin:
        out.print(f"Mot de passe (affiché une seule fois, notez-le) : {password}", markup=False, highlight=False)


@user_cli.command("list")
def user_list():
    """Liste les éditeurs et leurs sessions ouvertes."""
    from app.services import editors as editor_service

    settings = ready()
    with Session(get_engine(settings)) as session:
        editors = editor_service.list_editors(session)
    if not editors:
        out.print("Aucun éditeur : `plateau user add NOM` en crée un.")
    for editor, sessions in editors:
        out.print(
            f"{editor.name} — créé le {editor.created_at:%Y-%m-%d}, {sessions} session(s) ouverte(s)",
            markup=False,
            highlight=False,
        )


@user_cli.command("remove")
def user_remove(name: str):
    """Supprime un compte d'éditeur et ferme ses sessions."""
    from app.services import editors as editor_service

    settings = ready()
    with Session(get_engine(settings)) as session:
        removed = editor_service.remove_editor(session, name)
    if not removed:
        err.print(f"Aucun éditeur « {name} ».", markup=False, highlight=False)
        raise typer.Exit(1)
    out.print(f"Éditeur « {name} » supprimé, ses sessions sont fermées.", markup=False, highlight=False)


class BriefLog(logging.Formatter):
    """The command's log on stderr: one line a record, the error's type and message without its
    traceback (the summary says what to do; PLATEAU_DEBUG=1 brings tracebacks back)."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"journal ({record.levelname.lower()}) : {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            line += f" — {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return line


def main() -> None:
    handler = logging.StreamHandler()
    if not os.environ.get("PLATEAU_DEBUG"):
        handler.setFormatter(BriefLog())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    cli()

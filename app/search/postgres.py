"""The search engine in PostgreSQL: passages as rows with a tsvector, Plateau's queries as tsquery.

Same contract as the Whoosh index (index.SearchIndex): the passages are cut by passages.py and their
words analysed by analysis.py in Python, the query tree is compiled by query.compile_query, and
service.py groups, counts, pages and highlights. Only where the passages are stored and matched
differs:

- the rows of search_passage, their tsvector and the tsquery of a query: postgres_terms.py;
- the vocabulary (search_word, kept by triggers): prefixes, typos, "did you mean";
- Ranking is RUM's rank (or ts_rank_cd, cover density, with GIN), not BM25F, and at most MATCH_CAP
  passages are read for one query: past it the counts say "plus de N" (a notice).
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col, select
from whoosh import query as wq
from whoosh.reading import TermNotFound

from app import limits
from app.models import Episode
from app.search.index import _chunks, disagreements, episode_lines, episode_stamps, write_failure
from app.search.passages import EPISODE, EXACT, FIRST, STARTS
from app.search.postgres_terms import (
    START_LETTERS,
    UNLISTED_SHARE,
    WORDS_LAYOUT,
    Plan,
    Shares,
    Starts,
    fewer_passages,
    has_windows,
    lookup_tsquery,
    passage_rows,
    phrase_pairs,
    plan,
    to_tsquery,
    weighted,
)

log = logging.getLogger(__name__)

MATCH_CAP = limits.PG_MATCH_CAP
# GIN even where rum is installed, when the database says so (migration 0008 and `plateau reindex` read it)
INDEX_SETTING = "plateau.search_index"
# GIN's ranking: cover density, of each row's words (RUM's index orders its passages itself: <=>)
RANK = "ts_rank_cd(p.words, CAST(:q AS tsquery))"
SHARES_TTL = 300.0  # seconds the statistics' shares of lexemes are kept (shares)
# what a search sets for its own transaction (find_passages), then sets back
READ_SETTINGS = ("statement_timeout", "jit", "enable_seqscan", "enable_bitmapscan")
# the memory of the count of "a -b" (_counts): the passages of b, hashed, must fit in it (past it,
# PostgreSQL would read them again for each passage of a); only there, as other plans change with it
EXCLUDED_WORK_MEM = "64MB"
SEARCH_WRITE_LOCK_KEY = 0x706C6174 + 2  # app.db's write lock is "plat", its migrations' "plat" + 1
CAPPED = (
    "Plus de {n} passages contiennent ces mots : seuls les {n} premiers lus sont comptés et classés. "
    "Précisez la recherche (plus de mots, une citation entre guillemets)."
)


# --- the vocabulary --------------------------------------------------------------------------------


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Vocabulary:
    """The folded words of the passages' own lines (table search_word), as index.Vocabulary offers
    them: frequency, prefix and fuzzy expansion, 'did you mean'."""

    def __init__(self, run: Callable):
        self._run = run  # (sql, params) -> rows
        self._frequency: dict[str, int] = {}
        # the prefixes of START_LETTERS letters expanded to all their words (postgres_terms.Starts):
        # the query looks them up by their start
        self.starts: Starts = {}

    def frequency(self, word: str) -> int:
        if word not in self._frequency:
            rows = self._run("SELECT frequency FROM search_word WHERE word = :w AND frequency > 0", {"w": word})
            self._frequency[word] = rows[0][0] if rows else 0
        return self._frequency[word]

    def expand_prefix(self, prefix: str, limit: int = limits.PREFIX_SCAN) -> list[tuple[str, int]]:
        rows = self._run(
            "SELECT word, frequency FROM search_word WHERE word LIKE :p AND frequency > 0 ORDER BY word LIMIT :n",
            {"p": _like_prefix(prefix), "n": limit},
        )
        if len(prefix) == START_LETTERS and 1 < len(rows) <= limits.MAX_EXPANSION:
            self.starts[frozenset(w for w, _ in rows)] = prefix
        return [(w, n) for w, n in rows]

    def near(self, word: str, distance: int = 1) -> list[str]:
        # every word of the vocabulary within the distance, as rapidfuzz does in index.Vocabulary:
        # a trigram filter would miss short words with two edits
        rows = self._run(
            "SELECT word FROM (SELECT word, frequency, levenshtein_less_equal(word, :w, :d) AS d FROM search_word "
            "WHERE frequency > 0 AND length(word) BETWEEN :lo AND :hi) AS near WHERE d <= :d "
            "ORDER BY d, frequency DESC, word LIMIT :n",
            {"w": word, "d": distance, "lo": len(word) - distance, "hi": len(word) + distance, "n": 200},
        )
        return [w for (w,) in rows]

    def closest(self, word: str) -> str | None:
        return next(iter(self.near(word, 1 if len(word) <= 5 else 2)), None)

    def is_live(self, word: str) -> bool:
        return self.frequency(word) > 0


# --- what service.py reads of a searcher ---------------------------------------------------------


class _Postings:
    """The passages holding a word in their own lines, walked as a Whoosh posting list."""

    def __init__(self, ids: list[int]):
        self.ids, self.i = ids, 0

    def is_active(self) -> bool:
        return self.i < len(self.ids)

    def id(self) -> int:
        return self.ids[self.i]

    def next(self) -> None:
        self.i += 1


class Passages:
    """The few Whoosh searcher calls service.py makes on shown passages (stored_fields) and on the
    passages of a word ('did you mean' spells it as they do: reader().postings)."""

    def __init__(self, run: Callable):
        self._run = run
        self._stored: dict[int, dict] = {}

    def load(self, ids) -> None:
        wanted = [i for i in ids if i not in self._stored]
        if not wanted:
            return
        for pid, eid, first, starts in self._run(
            "SELECT id, episode_id, first_line, starts FROM search_passage WHERE id = ANY(:ids)", {"ids": wanted}
        ):
            self._stored[pid] = {EPISODE: str(eid), FIRST: first, STARTS: list(starts)}

    def stored_fields(self, passage_id: int) -> dict:
        self.load([passage_id])
        return self._stored[passage_id]

    def reader(self) -> "Passages":
        return self

    def postings(self, fieldname: str, word: str) -> _Postings:
        assert fieldname == EXACT
        # the first found, in their order: "ORDER BY id" would walk the ids and unpack each row's
        # words until 16 hold a rare word (600 ms at 2,000 episodes)
        ids = sorted(
            pid
            for (pid,) in self._run(
                "SELECT id FROM search_passage WHERE words @@ CAST(:q AS tsquery) LIMIT 16",
                {"q": weighted("=" + word, True)},
            )
        )
        if not ids:
            raise TermNotFound(word)
        self.load(ids)
        return _Postings(ids)


class Searcher:
    """index.searcher()'s answer: the vocabulary and the passages, read through one connection pool."""

    def __init__(self, run: Callable):
        self.vocabulary = Vocabulary(run)
        self.searcher = Passages(run)


# --- the engine -----------------------------------------------------------------------------------


class PostgresSearch:
    """SearchIndex's interface over the tables of migration 0008. Writes go to the caller's session
    and commit with it; every app server reads the same rows, so there is nothing to refresh,
    repair, merge or lock between processes."""

    engine_name = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.open_session: Callable[[], Session] | None = None
        self.last_write_error: str | None = None
        self.repair_failed: str | None = None
        self._kind: str | None = None
        self._shares: tuple[float, dict[str, float], float | None] | None = None  # (read at, listed, least)

    @property
    def engine(self):
        from app.db import engine_for

        return engine_for(self.url)

    def _run_engine(self, sql: str, params: dict) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    @staticmethod
    def _runner(session: Session) -> Callable:
        return lambda sql, params: list(session.execute(text(sql), params))

    # --- what a folder of files needed: nothing here ---------------------------------------------

    def ensure(self) -> None:
        """Migration 0008 made the tables. Passages an older Plateau wrote, whose words the queries
        no longer look for (their stamp lacks WORDS_LAYOUT), are written again."""
        with Session(self.engine) as session:
            older = session.execute(
                text("SELECT 1 FROM search_episode WHERE stamp NOT LIKE :layout LIMIT 1"),
                {"layout": WORDS_LAYOUT + ":%"},
            ).first()
            if older:
                log.warning("la recherche a été écrite par une version précédente : réécriture des passages")
                self.index_pending(session)

    def exists(self) -> bool:
        return True

    def remove_stale_generations(self) -> list[str]:
        return []  # no generation folders

    def writing_aside(self, session: Session):
        """Each batch of a bulk ingest writes its passages as it comes: rows have no segments to
        gather (SearchIndex.writing_aside)."""
        return nullcontext()

    def write_apart(self, settings) -> None:
        """Writes stay in the request: PostgreSQL analyses nothing; the Python analysis is cheap
        next to Whoosh's segment writes, and another server must find the episode at once."""

    def stop_writing_apart(self) -> None:
        """No indexing process to stop (write_apart)."""

    def merge_segments(self) -> bool:
        return False

    def merge_when_idle(self, delay: float = 0) -> None:
        """PostgreSQL's autovacuum keeps the table and its index."""

    def confirmed_damage(self, attempts: int = 3, pause: float = 0.05) -> list[str]:
        return []

    def damage(self) -> list[str]:
        return []

    def damaged(self, generation=None, cause: BaseException | None = None):
        from app.search.errors import IndexDamaged

        raise IndexDamaged("la recherche PostgreSQL a échoué") from cause

    def repair(self) -> None:
        """Nothing to repair: the passages are rows of the database."""

    def repairing(self) -> bool:
        return False

    def notice(self) -> str | None:
        return None

    def forget_searcher(self) -> None:
        """No searcher to reopen: each search reads the tables."""

    def searcher(self) -> Searcher:
        return Searcher(self._run_engine)

    @property
    def index_dir(self):
        return None  # no folder: ingest batches hold no lock file (RunningBatches)

    # --- writing -------------------------------------------------------------------------------------

    def index_kind(self, session: Session) -> str:
        """ "rum" or "gin": the access method of the passages' words index."""
        if self._kind is None:
            found = session.execute(
                text(
                    "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'ix_search_passage_words'"
                )
            ).first()
            self._kind = found[0] if found else "absent"
        return self._kind

    def _write(self, session: Session, ids: list[int], stamps: dict[int, str], failed: set[int]) -> None:
        # one index writer at a time on every server, until the commit: two writers' vocabulary
        # updates (a delete's, then an insert's) would otherwise lock words in crossed orders
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEARCH_WRITE_LOCK_KEY})
        session.execute(text("DELETE FROM search_passage WHERE episode_id = ANY(:ids)"), {"ids": ids})
        session.execute(text("DELETE FROM search_episode WHERE episode_id = ANY(:ids)"), {"ids": ids})
        rows: list[dict] = []
        written = []
        for eid in ids:
            if eid not in stamps:
                continue  # gone from the database (its passages went with it)
            try:
                rows.extend(passage_rows(eid, episode_lines(session, eid)))
            except Exception:
                log.exception("indexing episode %s failed", eid)
                failed.add(eid)
                continue
            written.append({"e": eid, "s": stamps[eid]})
        # Adding an episode costs its words index entries: RUM writes each lexeme of each passage
        # into its tree apart, a page copied and compared for its WAL each time (~12 µs an entry,
        # whatever the lexeme). An episode of 1,000 lines: ~23,000 entries (pairs 47 %, folded words
        # 23 %, stems 19 %, starts 12 %): ~0.25 s of the server's 0.3 s of CPU at 2,000 episodes (the
        # rows' heap insert and the vocabulary's trigger: 0.02 s), the analysis above 0.04 s. Inserting
        # the first passages while a thread analysed the next ones was slower on 2 busy cores.
        for chunk in _chunks(rows, 500):
            session.execute(
                text(
                    "INSERT INTO search_passage (episode_id, number, first_line, last_line, start, starts, "
                    "speaker_id, text, lines, words) SELECT e, n, f, l, st, CAST(ss AS double precision[]), sp, "
                    "t, li, CAST(w AS tsvector) FROM unnest(CAST(:e AS integer[]), CAST(:n AS integer[]), "
                    "CAST(:f AS integer[]), CAST(:l AS integer[]), CAST(:st AS double precision[]), "
                    "CAST(:ss AS text[]), CAST(:sp AS integer[]), CAST(:t AS text[]), CAST(:li AS text[]), "
                    "CAST(:w AS text[])) AS r(e, n, f, l, st, ss, sp, t, li, w)"
                ),
                {
                    "e": [r["episode_id"] for r in chunk],
                    "n": [r["number"] for r in chunk],
                    "f": [r["first_line"] for r in chunk],
                    "l": [r["last_line"] for r in chunk],
                    "st": [r["start"] for r in chunk],
                    "ss": ["{" + ",".join(repr(float(s)) for s in r["starts"]) + "}" for r in chunk],
                    "sp": [r["speaker_id"] for r in chunk],
                    "t": [r["text"] for r in chunk],
                    "li": [r["lines"] for r in chunk],
                    "w": [r["words"] for r in chunk],
                },
            )
        if written:
            session.execute(text("INSERT INTO search_episode (episode_id, stamp) VALUES (:e, :s)"), written)

    def index_episodes(self, session: Session, episode_ids: list[int]) -> None:
        """(Re)write these episodes' passages, in a transaction of their own after the records' commit
        (a savepoint when the caller's is still open), and mark each indexed or failed."""
        ids = sorted(set(episode_ids))
        if not ids:
            return
        stamps = episode_stamps(session, ids, WORDS_LAYOUT)
        failed: set[int] = set()
        try:
            with session.begin_nested():
                self._write(session, ids, stamps, failed)
        except Exception as exc:
            log.exception("index write failed for episodes %s", ids)
            self.last_write_error = write_failure(exc)
            failed.update(stamps)
        try:
            self._mark(session, {eid: ("failed" if eid in failed else "indexed") for eid in stamps})
        except Exception as exc:
            session.rollback()
            log.exception("recording the index state of episodes %s failed", ids)
            self.last_write_error = write_failure(exc)

    def _mark(self, session: Session, states: dict[int, str]) -> None:
        for state in ("indexed", "failed"):
            ids = [eid for eid, s in states.items() if s == state]
            if ids:
                session.execute(
                    text("UPDATE episode SET index_state = :s WHERE id = ANY(:ids) AND index_state <> :s"),
                    {"s": state, "ids": ids},
                )
        session.commit()
        session.expire_all()

    def delete_episode(self, episode_id: int) -> None:
        """Nothing left to do: the episode's passages went with it (ON DELETE CASCADE), in its
        transaction."""

    def _indexed_stamps(self, session: Session) -> dict[int, str]:
        return dict(session.execute(text("SELECT episode_id, stamp FROM search_episode")).all())

    def index_pending(self, session: Session) -> int:
        """Index every episode not marked indexed, or whose passages are missing or stale."""
        stamps = episode_stamps(session, layout=WORDS_LAYOUT)
        held = self._indexed_stamps(session)
        todo = {eid for eid, stamp in stamps.items() if held.get(eid) != stamp}
        todo |= {eid for eid in session.exec(select(Episode.id).where(Episode.index_state != "indexed")) if eid}
        done = 0
        for chunk in _chunks(sorted(todo), 200):
            self.index_episodes(session, chunk)
            done += len(chunk)
        return done

    def rebuild(self, session: Session, progress: Callable[[int, int], None] | None = None, procs: int = 1) -> int:
        """Every passage written again from the records, in one transaction. Its words index is
        dropped and built again at the end, from all the rows at once: RUM takes a row at a time
        ten times slower. Searches wait for the commit meanwhile (and past the time budget, say
        so); on failure the old passages stay."""
        if session.in_transaction():
            session.commit()
        stamps = episode_stamps(session, layout=WORDS_LAYOUT)
        failed: set[int] = set()
        total = len(stamps)
        # the kind it found, unless the database has since refused rum (INDEX_SETTING)
        refused = session.execute(text(f"SELECT current_setting('{INDEX_SETTING}', true) = 'gin'")).scalar()
        kind = "gin" if refused else self.index_kind(session)
        session.execute(text("SET LOCAL plateau.rebuilding = 'on'"))  # the triggers count nothing
        session.execute(text("TRUNCATE search_passage, search_episode, search_word"))
        session.execute(text("DROP INDEX IF EXISTS ix_search_passage_words"))
        done = 0
        for chunk in _chunks(sorted(stamps), 50):
            self._write(session, chunk, stamps, failed)
            done += len(chunk)
            if progress:
                progress(done, total)
        session.execute(
            text(
                "INSERT INTO search_word (word, frequency) SELECT substr(u.lexeme, 2), count(*) "
                "FROM search_passage p, unnest(p.words) AS u WHERE left(u.lexeme, 1) = '=' AND 'A' = ANY (u.weights) "
                "GROUP BY 1"
            )
        )
        method = "rum (words rum_tsvector_ops)" if kind == "rum" else "gin (words)"
        session.execute(text(f"CREATE INDEX ix_search_passage_words ON search_passage USING {method}"))
        self._mark(session, {eid: ("failed" if eid in failed else "indexed") for eid in stamps})
        # this server's searches order by it from now on; another server reads it when it starts
        self._kind = "rum" if kind == "rum" else "gin"
        return total - len(failed)

    # --- health ---------------------------------------------------------------------------------------

    def health(self, session: Session, deep: bool = False) -> str:
        waiting = session.exec(select(Episode.id).where(Episode.index_state != "indexed")).all()
        if waiting:
            return f"en retard : {len(waiting)} épisode(s) à indexer (repris à la prochaine écriture ou au démarrage)"
        if deep:
            problems = self.check(session)
            if problems:
                return "en désaccord avec la base : " + " ".join(problems)
            from app.search.service import SearchRequest

            try:
                row = session.execute(
                    text("SELECT word FROM search_word WHERE frequency > 0 ORDER BY frequency DESC LIMIT 1")
                ).first()
                failed = row and self.search(session, SearchRequest(q=f'"{row[0]}"')).error
            except Exception:
                session.rollback()
                log.exception("healthz: the test search failed")
                failed = "erreur"
            if failed:
                return "illisible : une recherche d'essai échoue ; lancez « plateau reindex »"
        return "ok"

    def describe(self, session: Session) -> str:
        """Which index serves the words, for `plateau check`; a GIN one says why (never a failure)."""
        kind = self.index_kind(session)
        if kind == "rum":
            return "Recherche PostgreSQL : index RUM sur les mots des passages."
        if kind != "gin":
            return "Recherche PostgreSQL : aucun index sur les mots des passages (`plateau reindex` le recrée)."
        refused, available = session.execute(
            text(
                f"SELECT current_setting('{INDEX_SETTING}', true) = 'gin', "
                "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum')"
            )
        ).one()
        if refused:
            why = f"extension rum refusée par {INDEX_SETTING} = 'gin'"
        elif not available:
            why = "extension rum absente"
        else:
            why = "extension rum installée mais pas utilisée par cet index"
        return f"Recherche PostgreSQL : index GIN sur les mots des passages ({why} : classement plus lent)."

    def check(self, session: Session) -> list[str]:
        """Where the passages and the episodes disagree, in French; [] when they agree."""
        try:
            held = self._indexed_stamps(session)
            orphans = session.execute(
                text(
                    "SELECT count(DISTINCT p.episode_id) FROM search_passage p "
                    "LEFT JOIN search_episode s ON s.episode_id = p.episode_id WHERE s.episode_id IS NULL"
                )
            ).one()[0]
        except DBAPIError as exc:
            session.rollback()
            return [f"Les tables de recherche sont illisibles ({type(exc.orig).__name__}) : migration 0008 absente ?"]
        return disagreements(
            session,
            held,
            f"{orphans} épisode(s) ont des passages sans état d'indexation." if orphans else None,
            WORDS_LAYOUT,
        )

    # --- reading ----------------------------------------------------------------------------------------

    def search(self, session: Session, request):
        from app.search.service import run_search

        return run_search(self, session, request)

    def find_passages(self, session: Session, request, tree, results, metadata) -> None:
        """service._run for PostgreSQL: the matching passages, counted, filtered, ranked, paged."""
        from app.search import service
        from app.search.metadata import name_variants
        from app.search.query import QueryError, compile_query

        run = self._runner(session)
        vocabulary = Vocabulary(run)
        names = metadata.names
        compiled = compile_query(tree, vocabulary, variants=lambda word: name_variants(word, vocabulary, names))
        results.notices.extend(compiled.notices)
        episode_id = speaker_id = None
        if request.episode:
            episode_id = session.exec(select(Episode.id).where(Episode.slug == request.episode)).first()
            if episode_id is None:
                return
        if request.speaker:
            from app.models import Person

            speaker_id = session.exec(select(Person.id).where(Person.slug == request.speaker)).first()
            if speaker_id is None:
                return
        found = plan(compiled.query, vocabulary.starts)
        where, params = self._where(session, request, found, episode_id, speaker_id)
        self._read_through_index(session, filtered=len(where) > 1, timeout_ms=max(1, int(limits.TIME_BUDGET * 1000)))
        try:
            per_episode, capped, ranked = self._match(session, found, where, params)
            results_of = self._results(session, request, results, per_episode, ranked, metadata)
            _reset_settings(session, READ_SETTINGS)  # for the rest of the transaction
        except OperationalError as error:
            session.rollback()
            if "statement timeout" in str(error) or "canceling statement" in str(error):
                raise QueryError(service.TOO_SLOW) from error
            raise
        except DBAPIError:
            session.rollback()
            raise
        if capped:
            results.notices.append(CAPPED.format(n=f"{MATCH_CAP:,}".replace(",", "\u202f")))
        if results_of is None:
            return
        shown, shown_refs = results_of
        passages = Passages(run)
        passages.load([d for hits in shown.values() for d, _ in hits])
        results.groups = service._groups(
            session, passages, shown, shown_refs, per_episode, compiled, per_episode=not request.episode
        )

    def _read_through_index(self, session: Session, filtered: bool, timeout_ms: int | None = None) -> None:
        """Passages are found through the words index, never by reading the table: the planner,
        which knows nothing of the cost of unpacking each row's words, would read the whole table
        for a common word. RUM needs no second look at a row's words (it holds their positions and
        weights), which a bitmap scan would take, but for a search within some episodes (filters, a
        speaker, one episode): a bitmap of their passages (their index) and of the words' is then
        the shorter way, 45 ms against 157 for a common word at 2,000 episodes. No JIT compilation:
        the costs these settings give other plans would set it off, for 150 ms of compiling, at
        every search. One round trip for all the settings (SET LOCAL, each its own, cost one each);
        timeout_ms: the statement timeout too."""
        settings = {"jit": "off", "enable_seqscan": "off"}
        if self.index_kind(session) == "rum" and not filtered:
            settings["enable_bitmapscan"] = "off"
        if timeout_ms is not None:
            settings["statement_timeout"] = str(timeout_ms)
        params: dict[str, str] = {}
        for i, (name, value) in enumerate(settings.items()):
            params[f"n{i}"], params[f"v{i}"] = name, value
        session.execute(
            text("SELECT " + ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(settings)))), params
        )

    def _match(self, session: Session, found: Plan, where: list[str], params: dict) -> tuple[Counter, bool, Callable]:
        """The matching passages of each episode (MATCH_CAP at most), whether there are more, and
        ranked(among episodes or None, limit or None): (id, episode id, score) of the best first."""
        if found.atoms:
            # plain words together: every candidate read (with RUM, the best first), its window
            # checked here, counted and ranked here
            rows = self._candidates(session, found, where, params)
            matched = [(r[0], r[1], float(r[2])) for r in rows[:MATCH_CAP] if found.matches(list(r[4:]), r[3])]
            by_rank = sorted(matched, key=lambda m: (-m[2], m[0]))

            def ranked(among: list[int] | None, limit: int | None) -> list[tuple[int, int, float]]:
                episodes = None if among is None else set(among)
                kept = [m for m in by_rank if episodes is None or m[1] in episodes]
                return kept if limit is None else kept[:limit]

            return Counter(eid for _, eid, _ in matched), len(rows) > MATCH_CAP, ranked
        per_episode, capped = self._counts(session, where, params)

        def ranked_in_sql(among: list[int] | None, limit: int | None) -> list[tuple[int, int, float]]:
            return self._ranked(session, where, params, among, limit)

        return per_episode, capped, ranked_in_sql

    def _results(self, session: Session, request, results, per_episode: Counter, ranked: Callable, metadata):
        """Totals, months and the shown passages of each shown episode, as service._run pages them;
        None when nothing passes the filters."""
        from app.search import service

        refs = service._allowed_episodes(metadata, per_episode, request) if per_episode else {}
        results.episodes = len(refs)
        results.total = sum(per_episode[e] for e in refs)
        if not results.total:
            return None
        if not request.episode:
            service._count_months(session, results, refs, per_episode)
        per_page, first = request.per_page, (request.page - 1) * request.per_page
        shown: dict[int, list[tuple[int, float]]]
        if request.episode:
            (eid,) = refs
            ordered = sorted((pid, score) for pid, _, score in ranked([eid], None))  # ids follow the episode's order
            shown = {eid: ordered[first : first + per_page]}
        else:
            if request.sort == "date":
                page_ids = service._newest_first(refs)[first : first + per_page]
                found = ranked(page_ids, None)
            else:
                # the best passages, more of them until they fill the page with episodes
                limit = max(50, (first + per_page) * limits.HITS_PER_EPISODE * 2)
                while True:
                    found = ranked(None, limit)
                    if len({eid for _, eid, _ in found}) >= first + per_page or len(found) < limit:
                        break
                    limit *= 4
            episode_of = {pid: eid for pid, eid, _ in found}
            top = service._top_per_episode(
                [(pid, score) for pid, eid, score in found if eid in refs], episode_of.__getitem__
            )
            if request.sort == "date":
                shown = {e: top.get(e, []) for e in page_ids}
            else:
                shown = dict(list(top.items())[first : first + per_page])
        return shown, service._episode_refs(session, list(shown))

    def shares(self, session: Session) -> Shares | None:
        """The share of the passages holding a lexeme (a pair, a word), from PostgreSQL's statistics
        of the words (ANALYZE, autovacuum): the most common lexemes, about a thousand, with their
        shares. A lexeme not listed is rarer than all of them: UNLISTED_SHARE of the least common.
        None without statistics (a database never analysed). Read again after SHARES_TTL: reading
        them costs 3 to 5 ms, and they change only when the table is analysed again."""
        kept = self._shares
        if kept is None or time.monotonic() - kept[0] > SHARES_TTL:
            rows = session.execute(
                text(
                    "SELECT u.lexeme, u.share, s.most_common_elem_freqs[array_length(s.most_common_elems, 1) + 1] "
                    "FROM pg_stats s LEFT JOIN LATERAL unnest(CAST(CAST(s.most_common_elems AS text) AS text[]), "
                    "s.most_common_elem_freqs) AS u(lexeme, share) ON true "
                    "WHERE s.schemaname = current_schema() AND s.tablename = 'search_passage' AND s.attname = 'words'"
                ),
            ).all()
            least = next((row[2] for row in rows if row[2] is not None), None)
            listed = {lexeme: float(share) for lexeme, share, _ in rows if lexeme is not None}
            kept = self._shares = (time.monotonic(), listed, None if least is None else float(least))
        _, listed, least = kept
        if least is None:
            return None
        unlisted = least * UNLISTED_SHARE
        return lambda lexeme: listed.get(lexeme, unlisted)

    def _lookup(self, session: Session, found: Plan) -> str | None:
        """What the words index is asked for when it is less than the query: some pairs of its
        phrases of frequent pairs (postgres_terms.lookup_tsquery); None: the query itself."""
        pairs = phrase_pairs(found.root)
        if not pairs:
            return None
        share = self.shares(session)
        if share is None:
            return None
        lookup = lookup_tsquery(found.root, share, found.starts)
        return lookup if lookup != found.query else None

    @staticmethod
    def _passages(params: dict) -> str:
        """The passages a query reads (alias p): the table, through the words index for the query's
        tsquery (in the WHERE clause); or, when the index is asked for less (params["lookup"]), the
        passages it finds for that, their words then checked against the query's tsquery, and, with
        RUM, ordered by the distance computed from them, as the score shown is (the index's own
        order of a phrase's passages may differ a little from it). OFFSET 0 keeps the planner from
        asking the index for both."""
        if "lookup" not in params:
            return "search_passage p"
        return (
            "(SELECT id, episode_id, speaker_id, lines, words FROM search_passage "
            "WHERE words @@ CAST(:lookup AS tsquery) OFFSET 0) AS p"
        )

    def _where(self, session: Session, request, found: Plan, episode_id, speaker_id) -> tuple[list[str], dict]:
        """The conditions on the passages (alias p, _passages) of a request, and their parameters."""
        from sqlalchemy import select as sa_select

        from app.search import service

        params: dict = {"q": found.query}
        lookup = self._lookup(session, found)
        if lookup is not None:
            params["lookup"] = lookup
        elif isinstance(found.root, wq.AndNot) and not has_windows(found.root.b) and not found.atoms:
            # "a -b", counted (_counts) as the passages of a, less those of b, when b's are fewer
            included = to_tsquery(found.root.a, found.starts)
            excluded = to_tsquery(found.root.b, found.starts)
            share = self.shares(session)
            if share is not None and fewer_passages(excluded, included, share):
                params["included"], params["excluded"] = included, excluded
        where = ["p.words @@ CAST(:q AS tsquery)"]
        if episode_id is not None:
            where.append("p.episode_id = :episode")
            params["episode"] = episode_id
        if speaker_id is not None:
            where.append("p.speaker_id = :speaker")
            params["speaker"] = speaker_id
        if request.show or request.guest or request.date_from or request.date_to:
            allowed = service._filtered(sa_select(col(Episode.id)), request)
            params["allowed"] = [e for (e,) in session.execute(allowed)]
            where.append("p.episode_id = ANY(:allowed)")
        return where, params

    def _counts(self, session: Session, where: list[str], params: dict) -> tuple[Counter, bool]:
        """Matching passages per episode, of the first MATCH_CAP found (no rank, no row sent), and
        whether there are more.

        "a -b" (params["excluded"]): the index cannot tell "not b in the own lines" from its lists,
        and has every passage of a checked against its row's words (unpacked: 150 ms for a common
        word at 2,000 episodes). The passages of a, less the passages of b (one list read, hashed:
        EXCLUDED_WORK_MEM keeps the hash in memory) find the same passages in the same order,
        in 60 ms; but when b is in more passages than a (postgres_terms.fewer_passages), reading b's
        lists costs more than checking a's rows."""
        conditions = list(where)
        if "excluded" in params:
            session.execute(text("SELECT set_config('work_mem', :m, true)"), {"m": EXCLUDED_WORK_MEM})
            conditions[0] = (
                "p.words @@ CAST(:included AS tsquery) AND p.id NOT IN "
                "(SELECT n.id FROM search_passage n WHERE n.words @@ CAST(:excluded AS tsquery))"
            )
        rows = session.execute(
            text(
                "SELECT episode_id, count(*) FROM (SELECT p.episode_id FROM "
                + self._passages(params)
                + " WHERE "
                + " AND ".join(conditions)
                + " LIMIT :cap) AS found GROUP BY episode_id"
            ),
            {**params, "cap": MATCH_CAP + 1},
        ).all()
        if "excluded" in params:
            _reset_settings(session, ("work_mem",))
        counts = Counter(dict(rows))
        capped = sum(counts.values()) > MATCH_CAP
        if capped:  # the one past the cap only says that there are more
            counts[max(counts, key=counts.__getitem__)] -= 1
        return +counts, capped

    def _rank(self, session: Session) -> tuple[str, str]:
        """A passage's score, and the order of the best first. RUM's index gives its passages in the
        order of its own distance (<=>, the inverse of its rank): the score is that rank, so that
        scores and order agree. GIN: ts_rank_cd (cover density) of each row's words."""
        if self.index_kind(session) == "rum":
            return "1 / (p.words <=> CAST(:q AS tsquery))", "p.words <=> CAST(:q AS tsquery)"
        return RANK, f"{RANK} DESC, p.id"

    def _ranked(
        self, session: Session, where: list[str], params: dict, among: list[int] | None, limit: int | None
    ) -> list[tuple[int, int, float]]:
        """(id, episode id, score) of the best matching passages, best first: among these episodes,
        `limit` at most. With RUM, its index gives them in order and only those are scored."""
        conditions = list(where)
        extra: dict = {}
        if among is not None:
            conditions.append("p.episode_id = ANY(:among)")
            extra["among"] = list(among)
        rank, order = self._rank(session)
        sql = f"SELECT p.id, p.episode_id, {rank} FROM {self._passages(params)} WHERE {' AND '.join(conditions)}"
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT :limit"
            extra["limit"] = limit
        return [(pid, eid, float(score)) for pid, eid, score in session.execute(text(sql), {**params, **extra})]

    def _candidates(self, session: Session, found: Plan, where: list[str], params: dict) -> list:
        """(id, episode id, score, lines, whether each atom matched…) of the passages holding every
        word of the query's windows, MATCH_CAP + 1 at most (the best first, with RUM).

        An atom that the whole query holds (the query itself, or one of the words or phrases it
        joins with AND) matched every candidate: not checked again on each row's words, unpacked
        for it (15 to 25 ms of 90 for "parce moment" at 2,000 episodes)."""
        held = [found.root, *(found.root.subqueries if isinstance(found.root, wq.And) else [])]
        atoms = ""
        extra: dict = {"cap": MATCH_CAP + 1}
        for i, atom in enumerate(found.atoms):
            if any(atom is h for h in held):
                atoms += ", true"
                continue
            extra[f"a{i}"] = to_tsquery(atom, found.starts)
            atoms += f", p.words @@ CAST(:a{i} AS tsquery)"
        rank, order = self._rank(session)
        sql = (
            f"SELECT p.id, p.episode_id, {rank}, p.lines"
            + atoms
            + f" FROM {self._passages(params)} WHERE "
            + " AND ".join(where)
            + (f" ORDER BY {order}" if self.index_kind(session) == "rum" else "")
            + " LIMIT :cap"
        )
        return list(session.execute(text(sql), {**params, **extra}))

    def browse_speaker(self, session: Session, request, results, speaker_id: int) -> None:
        """service._browse_speaker for PostgreSQL: the person's passages, newest episode first."""
        from app.search import service
        from app.search.query import Compiled

        rows = session.execute(
            text("SELECT id, episode_id FROM search_passage WHERE speaker_id = :s ORDER BY episode_id, number"),
            {"s": speaker_id},
        ).all()
        per_episode: Counter[int] = Counter(eid for _, eid in rows)
        metadata = service.metadata_index(session)
        refs = service._allowed_episodes(metadata, per_episode, request) if per_episode else {}
        results.episodes = len(refs)
        results.total = sum(per_episode[e] for e in refs)
        if not results.total:
            return
        service._count_months(session, results, refs, per_episode)
        first = (request.page - 1) * request.per_page
        page_ids = service._newest_first(refs)[first : first + request.per_page]
        shown: dict[int, list[tuple[int, float]]] = {eid: [] for eid in page_ids}
        for pid, eid in rows:
            if eid in shown and len(shown[eid]) < limits.HITS_PER_EPISODE:
                shown[eid].append((pid, 0.0))
        passages = Passages(self._runner(session))
        passages.load([d for hits in shown.values() for d, _ in hits])
        results.groups = service._groups(
            session,
            passages,
            shown,
            service._episode_refs(session, page_ids),
            per_episode,
            Compiled(wq.NullQuery),
            True,
        )


_engines: dict[str, PostgresSearch] = {}
_engines_lock = threading.Lock()


def _reset_settings(session: Session, names) -> None:
    """Settings back to their defaults for the rest of the transaction, in one round trip."""
    session.execute(
        text("SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name = ANY(:names)"),
        {"names": list(names)},
    )


def get_postgres_search(url: str) -> PostgresSearch:
    """One engine per database URL per process."""
    with _engines_lock:
        if url not in _engines:
            _engines[url] = PostgresSearch(url)
        return _engines[url]


__all__ = ["MATCH_CAP", "PostgresSearch", "get_postgres_search"]

"""Run a search request: query → passages → hits grouped by episode, with snippets and filters."""

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from markupsafe import Markup
from sqlalchemy import Select, and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from whoosh.collectors import FilterCollector, TimeLimit, TimeLimitCollector

from app import limits
from app.models import Appearance, CaptionLine, Episode, Person, Show
from app.search.analysis import STOP_WORDS, WORD, fold
from app.search.matching import Matches, find_matches
from app.search.passages import FIRST, STARTS, TAIL_WORDS
from app.search.query import QueryError, clean, compile_query, parse
from app.search.ranking import scoring_query, top_passages, with_proximity
from app.search.snippets import locate
from app.timecodes import format_timestamp

log = logging.getLogger(__name__)

TOO_SLOW = "La recherche a pris trop de temps : précisez-la (plus de mots, une citation entre guillemets)."
PARTIAL = "La recherche a été interrompue faute de temps : résultats partiels."
# Lines after a passage fetched to show a phrase that runs past its end: the index lets a phrase
# borrow TAIL_WORDS words from the next lines, and a line rarely holds no word at all.
NEXT_LINES = 2 * TAIL_WORDS
SORTS = ("relevance", "date")


@dataclass
class SearchRequest:
    q: str = ""
    show: str | None = None  # show slug
    guest: str | None = None  # person slug
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"  # or "date" (newest first)
    page: int = 1
    per_page: int = limits.SEARCH_PER_PAGE  # episodes per page; hits per page when searching inside one episode
    episode: str | None = None  # episode slug: search inside this episode only


@dataclass
class EpisodeRef:
    id: int
    slug: str
    title: str
    show: str | None
    show_slug: str | None
    aired_on: date | None
    source: str

    def to_json(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "show": self.show,
            "aired_on": self.aired_on.isoformat() if self.aired_on else None,
            "source": self.source,
        }


@dataclass
class Hit:
    episode: EpisodeRef
    start: float  # second of the caption line where the match starts
    position: int  # that caption line's position in the episode
    text: str
    snippet: Markup  # escaped text with the matched words in <mark>
    score: float

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.start)

    @property
    def url(self) -> str:
        return f"/episodes/{self.episode.slug}?t={int(self.start)}"

    def to_json(self) -> dict:
        start = int(self.start) if float(self.start).is_integer() else self.start
        return {
            "episode": self.episode.to_json(),
            "start": start,
            "timestamp": self.timestamp,
            "text": self.text,
            "snippet": str(self.snippet),
            "url": self.url,
            "speaker": None,
        }  # no speaker is stored yet: null, as the API contract has it


@dataclass
class EpisodeGroup:
    episode: EpisodeRef
    hits: list[Hit]
    matches: int  # passages of this episode that match

    @property
    def more(self) -> int:
        return max(0, self.matches - len(self.hits))


@dataclass
class SearchResults:
    request: SearchRequest
    total: int = 0  # matching passages (hits)
    episodes: int = 0  # episodes holding at least one
    groups: list[EpisodeGroup] = field(default_factory=list)
    suggestion: str | None = None
    error: str | None = None  # the query could not run; say why
    notices: list[str] = field(default_factory=list)  # it ran, with a caveat (partial, capped)

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def hits(self) -> list[Hit]:
        return [hit for group in self.groups for hit in group.hits]

    @property
    def pages(self) -> int:
        per_page = max(1, self.request.per_page)
        counted = self.total if self.request.episode else self.episodes
        return max(1, -(-counted // per_page))

    def to_json(self) -> dict:
        hits = []
        for group in self.groups:
            for i, hit in enumerate(group.hits):
                item = hit.to_json()
                item["episode_matches"] = group.matches
                if i == len(group.hits) - 1:
                    item["more_in_episode"] = group.more
                hits.append(item)
        return {
            "total": self.total,
            "page": self.page,
            "hits": hits,
            "suggestion": self.suggestion,
            "episodes": self.episodes,
            "pages": self.pages,
            "error": self.error,
            "notices": self.notices,
            # episodes matched by title, description, show or people: not searched yet, so none
            "episode_matches": [],
        }


def validate(request: SearchRequest) -> str | None:
    if request.page < 1 or request.page > limits.MAX_PAGE:
        return f"Le numéro de page doit être compris entre 1 et {limits.MAX_PAGE}."
    if request.per_page < 1 or request.per_page > limits.MAX_SEARCH_PER_PAGE:
        return f"Le nombre de résultats par page doit être compris entre 1 et {limits.MAX_SEARCH_PER_PAGE}."
    if request.sort not in SORTS:
        return "Le tri doit être « relevance » (pertinence) ou « date »."
    if request.date_from and request.date_to and request.date_from > request.date_to:
        return "La date de début est après la date de fin."
    return None


def run_search(index, session: Session, request: SearchRequest) -> SearchResults:
    results = SearchResults(request)
    results.error = validate(request)
    if results.error or not (request.q or "").strip():
        return results
    try:
        tree = parse(request.q)
    except QueryError as error:
        results.error = str(error)
        return results
    if tree is None:
        results.error = "La recherche ne contient aucun mot à chercher."
        return results
    for attempt in (1, 2):
        try:
            _run(index, session, request, tree, results)
            return results
        except QueryError as error:
            results.error = str(error)
            return results
        except Exception:
            # a searcher left on a generation a rebuild removed, a segment merged away: reopen once
            log.exception("search failed (attempt %s) for %r", attempt, request.q)
            index.forget_searcher()
            results.groups, results.total, results.episodes, results.notices = [], 0, 0, []
    results.error = "La recherche est momentanément indisponible ; réessayez dans un instant."
    return results


def _run(index, session: Session, request: SearchRequest, tree, results: SearchResults) -> None:
    deadline = time.monotonic() + limits.TIME_BUDGET
    current = index.searcher()
    searcher = current.searcher
    compiled = compile_query(tree, current.vocabulary)
    results.notices.extend(compiled.notices)

    # every matching passage, unscored: the total, the episodes, each episode's count; inside one
    # episode, only its passages are looked at (not the whole archive's postings)
    episode_id = None
    if request.episode:
        episode_id = session.exec(select(Episode.id).where(Episode.slug == request.episode)).first()
        if episode_id is None:
            return
    matches = find_matches(compiled.query, current.segments(), deadline, episode=episode_id)
    if matches.partial:
        if not matches.per_episode:
            raise QueryError(TOO_SLOW)
        _partial(results)  # the segments read in time: their counts and their best passages
    rank_by = max(deadline, time.monotonic() + limits.RANK_GRACE)
    per_episode = matches.per_episode
    # the matched episodes that pass the filters (their air date for a sort by date); the rest of
    # an episode's row is read for the shown ones only
    refs = _allowed_episodes(session, per_episode, request) if per_episode else {}
    results.episodes = len(refs)
    results.total = sum(per_episode[e] for e in refs)
    if not results.total:
        if not (request.show or request.guest or request.date_from or request.date_to or request.episode):
            results.suggestion = _suggestion(request.q, current.vocabulary)
        return

    def scored(sub: Matches, limit: int | None) -> list[tuple[int, float]]:
        """The best of these matches by Whoosh's own collector, scored as top_passages scores them."""
        docnums = sub.docnums(sub.per_episode)
        # words close together count in the ranking: every match is scored, then the limit best kept
        top = searcher.collector(limit=None if compiled.windows else limit)
        # the filter must wrap the time limit: TimeLimitCollector drives its child's collect() itself
        collector = TimeLimitCollector(top, max(0.05, deadline - time.monotonic()), use_alarm=False)
        collector = FilterCollector(collector, allow=docnums)
        try:
            searcher.search_with_collector(scoring_query(compiled.query), collector)
        except TimeLimit:
            _partial(results)
        found = [(d, score) for d, score in top.results().items() if d in docnums]
        return with_proximity(compiled.query, found, current.segments(), limit)

    def ranked_among(sub: Matches, limit: int | None) -> list[tuple[int, float]]:
        """The best of these matches, from the posting lists; Whoosh's collector when they cannot be read."""
        found = top_passages(
            compiled.query, searcher, sub, current.lengths, limit, every_match=sub is matches, deadline=rank_by
        )
        if found is None:
            found = scored(sub, limit)
        elif time.monotonic() > rank_by:
            _partial(results)
        return found

    per_page, first = request.per_page, (request.page - 1) * request.per_page
    if request.episode:
        (eid,) = refs
        ranked = ranked_among(matches.among([eid]), None)
        ordered = sorted(ranked, key=lambda item: item[0])  # docnums follow the episode's order
        shown = {eid: ordered[first : first + per_page]}
    elif request.sort == "date":
        order = sorted(refs.items(), key=lambda item: (item[1] or date.min, item[0]), reverse=True)
        page_ids = [eid for eid, _ in order[first : first + per_page]]
        ranked = ranked_among(matches.among(page_ids), None)
        shown = _top_per_episode(ranked, current.episode_of)
        shown = {e: shown.get(e, []) for e in page_ids}
    else:
        # when partial, the segments left unread must not be ranked: among() keeps the ones read
        allowed = matches if len(refs) == len(per_episode) and not matches.partial else matches.among(refs)
        limit = max(50, (first + per_page) * limits.HITS_PER_EPISODE * 2)
        while True:
            ranked = ranked_among(allowed, limit)
            shown = _top_per_episode(ranked, current.episode_of)
            if len(shown) >= first + per_page or len(ranked) >= results.total or len(ranked) < limit:
                break
            if time.monotonic() > rank_by:
                _partial(results)
                break
            limit *= 4
        shown = dict(list(shown.items())[first : first + per_page])
    shown_refs = _episode_refs(session, list(shown))
    results.groups = _groups(
        session, searcher, shown, shown_refs, per_episode, compiled, per_episode=not request.episode
    )


def _partial(results: SearchResults) -> None:
    """Say, once, that the time budget cut the search short."""
    if PARTIAL not in results.notices:
        results.notices.append(PARTIAL)


def _top_per_episode(ranked: list[tuple[int, float]], episode_of) -> dict[int, list[tuple[int, float]]]:
    """Episodes in the order of their best passage, each with its best passages."""
    groups: dict[int, list[tuple[int, float]]] = {}
    for docnum, score in ranked:
        hits = groups.setdefault(episode_of(docnum), [])
        if len(hits) < limits.HITS_PER_EPISODE:
            hits.append((docnum, score))
    return groups


def _allowed_episodes(session: Session, per_episode, request: SearchRequest) -> dict[int, date | None]:
    """The matched episodes that exist and pass the filters, with their air date, in one query."""
    by_date = request.sort == "date" and not request.episode
    # a stored episode's id is never None: the checks below only say so to the type checker
    if by_date:
        rows = session.exec(_filtered(select(col(Episode.id), col(Episode.aired_on)), per_episode, request)).all()
        return {eid: aired_on for eid, aired_on in rows if eid is not None and eid in per_episode}
    ids = session.exec(_filtered(select(col(Episode.id)), per_episode, request)).all()
    return {eid: None for eid in ids if eid is not None and eid in per_episode}


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _filtered(stmt: _Query, per_episode, request: SearchRequest) -> _Query:
    """A query of episodes narrowed to the matched ones that pass the request's filters."""
    if request.show:
        stmt = stmt.join(Show, col(Show.id) == Episode.show_id).where(col(Show.slug) == request.show)
    if len(per_episode) <= 500:
        stmt = stmt.where(col(Episode.id).in_(list(per_episode)))
    # else: reading every episode's id costs less than sending hundreds of them as parameters
    if request.guest:
        stmt = stmt.where(
            col(Episode.id).in_(
                select(Appearance.episode_id)
                .join(Person, col(Person.id) == Appearance.person_id)
                .where(Person.slug == request.guest)
            )
        )
    if request.date_from:
        stmt = stmt.where(col(Episode.aired_on) >= request.date_from)
    if request.date_to:
        stmt = stmt.where(col(Episode.aired_on) <= request.date_to)
    if request.episode:
        stmt = stmt.where(col(Episode.slug) == request.episode)
    return stmt


def _episode_refs(session: Session, episode_ids: list[int]) -> dict[int, EpisodeRef]:
    """The shown episodes' rows, in one query."""
    if not episode_ids:
        return {}
    # seven columns: more than sqlmodel's select() is typed for, hence SQLAlchemy's and execute()
    stmt = (
        sa_select(
            col(Episode.id),
            col(Episode.slug),
            col(Episode.title),
            col(Show.name),
            col(Show.slug),
            col(Episode.aired_on),
            col(Episode.source),
        )
        .join(Show, col(Show.id) == Episode.show_id, isouter=True)
        .where(col(Episode.id).in_(episode_ids))
    )
    return {row[0]: EpisodeRef(*row) for row in session.execute(stmt)}


def _groups(session, searcher, shown, refs, counts, compiled, per_episode: bool) -> list[EpisodeGroup]:
    """Hits for the shown passages: their lines fetched in one query, each located and highlighted."""
    stored = {d: searcher.stored_fields(d) for hits in shown.values() for d, _ in hits}
    ranges = [
        (int(e), f[FIRST], f[FIRST] + len(f[STARTS]) - 1 + NEXT_LINES)
        for e, hits in shown.items()
        for f in (stored[d] for d, _ in hits)
    ]
    lines: dict[tuple[int, int], str] = {}
    if ranges:
        cond = or_(
            *(and_(col(CaptionLine.episode_id) == e, col(CaptionLine.position).between(lo, hi)) for e, lo, hi in ranges)
        )
        for eid, position, text in session.exec(
            select(CaptionLine.episode_id, CaptionLine.position, CaptionLine.text).where(cond)
        ):
            lines[(eid, position)] = text
    groups = []
    for eid, hits in shown.items():
        ref = refs.get(eid)
        if ref is None:
            continue  # deleted since the search began
        group = EpisodeGroup(ref, [], counts[eid])
        for docnum, score in hits:
            f = stored[docnum]
            own = len(f[STARTS])
            texts = []
            for position in range(f[FIRST], f[FIRST] + own + NEXT_LINES):
                if (eid, position) not in lines:
                    break
                texts.append(lines[(eid, position)])
            if len(texts) < own:
                continue  # the database changed under the index: reindexing will catch up
            found = locate(texts, own, compiled.stems, compiled.exact, compiled.phrases, compiled.windows)
            position = f[FIRST] + found.line  # in the passage's own lines: no two hits share it
            group.hits.append(Hit(ref, f[STARTS][found.line], position, found.text, found.snippet, score))
        if group.hits or not per_episode:
            groups.append(group)
    return groups


def _suggestion(q: str, vocabulary) -> str | None:
    """The query with each word the index does not know replaced by the closest one it knows."""
    text = clean(q)
    changed = False

    def replace(match):
        nonlocal changed
        word = match.group()
        folded = fold(word)
        if word in ("OR", "AND", "NOT") or folded in STOP_WORDS or len(folded) < 3 or vocabulary.frequency(folded):
            return word
        better = vocabulary.closest(folded)
        if better is None or better == folded:
            return word
        changed = True
        return better

    suggestion = WORD.sub(replace, text)
    return " ".join(suggestion.split()) if changed else None

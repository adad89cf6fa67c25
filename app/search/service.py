"""Run a search request: query → passages → hits grouped by episode, with snippets and filters."""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from markupsafe import Markup
from rapidfuzz.distance import Levenshtein
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from whoosh import query as wq
from whoosh.collectors import FilterCollector, TimeLimit, TimeLimitCollector
from whoosh.reading import TermNotFound

from app import limits
from app.models import Appearance, CaptionLine, Episode, Person, Show
from app.search.analysis import STOP_WORDS, WORD, fold, word_spans
from app.search.errors import IndexDamaged
from app.search.matching import Matches, find_matches
from app.search.metadata import EpisodeMetadata, MetadataIndex, metadata_index, name_variants
from app.search.passages import EPISODE, EXACT, FIRST, SPEAKER, STARTS, TAIL_WORDS
from app.search.query import Compiled, QueryError, clean, compile_query, parse
from app.search.ranking import scoring_query, top_passages, with_proximity
from app.search.snippets import locate
from app.services.speakers import speaker_json, speakers_by_id
from app.timecodes import format_timestamp

if TYPE_CHECKING:
    from app.services.episodes import EpisodeSummary

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
    speaker: str | None = None  # person slug: only the passages that person says ("dit par")
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"  # or "date" (newest first)
    page: int = 1
    per_page: int = limits.SEARCH_PER_PAGE  # episodes per page; hits per page when searching inside one episode
    episode: str | None = None  # episode slug: search inside this episode only
    as_typed: bool = False  # no correction: when nothing is found, offer the correction, do not show its results


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
    # who says the hit's line: {"slug", "name"}, {"slug": None, "name": label} or None (guests.speaker_json)
    speaker: dict | None = None
    passage: Markup | None = None  # the whole passage, highlighted: the snippet is cropped around the match

    @property
    def cropped(self) -> bool:
        """The snippet leaves some of the passage out: "Afficher le passage" has more to show."""
        return self.passage is not None and self.passage != self.snippet

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.start)

    @property
    def url(self) -> str:
        """The episode opened at the hit's second, on its line: `l` tells it from other lines said in that second."""
        return f"/episodes/{self.episode.slug}?t={int(self.start)}&l={self.position}"

    def to_json(self) -> dict:
        start = int(self.start) if float(self.start).is_integer() else self.start
        return {
            "episode": self.episode.to_json(),
            "start": start,
            "timestamp": self.timestamp,
            "text": self.text,
            "snippet": str(self.snippet),
            "url": self.url,
            "speaker": self.speaker,
        }


@dataclass
class EpisodeGroup:
    episode: EpisodeRef
    hits: list[Hit]
    matches: int  # passages of this episode that match

    @property
    def more(self) -> int:
        return max(0, self.matches - len(self.hits))


@dataclass
class EpisodeMatch:
    """An episode found by its title, guests, show or description: a result above the passages."""

    summary: "EpisodeSummary"
    matched_in: str  # the first of metadata.FIELDS holding a word the query looks for

    def to_json(self) -> dict:
        return {**self.summary.as_json(), "matched_in": self.matched_in}


@dataclass
class MonthCount:
    month: str  # "2024-03"
    passages: int

    def to_json(self) -> dict:
        return {"month": self.month, "passages": self.passages}


@dataclass
class ShowTimeline:
    """One show's share of the matching passages, month by month (the search page's small rows)."""

    slug: str | None  # None: the episodes of no known show
    name: str | None
    passages: int
    months: dict[str, int]  # "2024-03" → matching passages in that show's episodes aired that month


# A search without words lists what its filters hold: "speaker", that person's passages, or
# "guest", their episodes; newest first, both.
BROWSE_SPEAKER, BROWSE_GUEST = "speaker", "guest"


@dataclass
class SearchResults:
    request: SearchRequest  # the request these results answer: the corrected one when `corrected`
    total: int = 0  # matching passages (hits)
    episodes: int = 0  # episodes holding at least one
    groups: list[EpisodeGroup] = field(default_factory=list)
    # the closest correction, as the transcripts write it, when the query as typed finds nothing
    suggestion: str | None = None
    corrected: bool = False  # these are the suggestion's results: the query as typed found nothing
    error: str | None = None  # the query could not run; say why
    notices: list[str] = field(default_factory=list)  # it ran, with a caveat (partial, capped)
    episode_matches: list[EpisodeMatch] = field(default_factory=list)  # the best few, on the first page
    episode_matches_total: int = 0  # every episode whose metadata match, on every page
    # every matching passage counted by its episode's month of air (not only the shown ones), in
    # order of month; the passages of undated episodes apart; and the same per show, most first
    months: list[MonthCount] = field(default_factory=list)
    undated: int = 0
    shows: list[ShowTimeline] = field(default_factory=list)
    # no words, a person to browse: BROWSE_SPEAKER (their passages, newest episode first) or
    # BROWSE_GUEST (their episodes, newest first, as episode_matches on every page)
    browsing: str | None = None

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def hits(self) -> list[Hit]:
        return [hit for group in self.groups for hit in group.hits]

    @property
    def pages(self) -> int:
        per_page = max(1, self.request.per_page)
        return max(1, -(-self.paged // per_page))

    @property
    def paged(self) -> int:
        """What the pages are pages of: episodes, or hits inside one episode, or a guest's episodes."""
        if self.browsing == BROWSE_GUEST:
            return self.episode_matches_total
        return self.total if self.request.episode else self.episodes

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
            "episode_matches": [match.to_json() for match in self.episode_matches],
            "episode_matches_total": self.episode_matches_total,
            "corrected_query": self.suggestion if self.corrected else None,
            "months": [month.to_json() for month in self.months],
            "undated_passages": self.undated,
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
    """The passages and the episodes a request finds. When it finds neither, the results of its
    closest correction, marked `corrected`; asked for as typed, its own empty results, with the
    correction offered as `suggestion`. A correction that finds nothing is not offered.

    Without words, a `speaker` lists that person's passages and a `guest` their episodes, newest
    first (the page a guest's « Dans ses propos » opens); nothing else runs without words."""
    if not (request.q or "").strip():
        return _browse(index, session, request)
    results = _search(index, session, request)
    if results.error or results.total or results.episode_matches_total or request.episode:
        return results  # inside one episode, the query stays as typed
    suggestion = _suggestion(index, session, request.q)
    if suggestion is None:
        return results
    corrected = _search(index, session, replace(request, q=suggestion))
    if corrected.error or not (corrected.total or corrected.episode_matches_total):
        return results
    if request.as_typed:
        results.suggestion = suggestion
        return results
    corrected.suggestion, corrected.corrected = suggestion, True
    return corrected


def _search(index, session: Session, request: SearchRequest) -> SearchResults:
    """One query as it is: its passages, then the episodes whose metadata match it."""
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
    metadata = metadata_index(session)
    for attempt in (1, 2):
        try:
            _run(index, session, request, tree, results, metadata)
            break
        except QueryError as error:
            results.error = str(error)
            return results
        except IndexDamaged:
            raise
        except Exception as error:
            # a searcher left on a generation a rebuild removed, a segment merged away: reopen once
            log.exception("search failed (attempt %s) for %r", attempt, request.q)
            index.forget_searcher()
            if attempt == 2 and index.confirmed_damage():
                index.damaged(cause=error)
            results.groups, results.total, results.episodes, results.notices = [], 0, 0, []
    else:
        results.error = "La recherche est momentanément indisponible ; réessayez dans un instant."
        return results
    _match_episodes(session, metadata, request, tree, results)
    return results


def _browse(index, session: Session, request: SearchRequest) -> SearchResults:
    """A request without words: a speaker's passages or a guest's episodes, newest first; for
    anything else, nothing (the page asks for words)."""
    results = SearchResults(request)
    results.error = validate(request)
    if results.error or request.episode:
        return results
    if request.speaker:
        results.browsing = BROWSE_SPEAKER
        _browse_speaker(index, session, request, results)
    elif request.guest:
        results.browsing = BROWSE_GUEST
        _browse_guest(session, request, results)
    return results


def _browse_speaker(index, session: Session, request: SearchRequest, results: SearchResults) -> None:
    """Every passage the person says (the index's SPEAKER field), grouped by episode, newest episode
    first, each episode's first few in the order they are said; counted by month as a search is."""
    speaker_id = session.exec(select(Person.id).where(Person.slug == request.speaker)).first()
    if speaker_id is None:
        return
    if hasattr(index, "browse_speaker"):  # PostgreSQL: its passages table (app/search/postgres.py)
        return index.browse_speaker(session, request, results, speaker_id)
    current = index.searcher()
    said = wq.Term(SPEAKER, str(speaker_id))
    matches = find_matches(said, current.segments(), time.monotonic() + limits.TIME_BUDGET)
    if matches.partial:
        _partial(results)
    per_episode = matches.per_episode
    refs = _allowed_episodes(metadata_index(session), per_episode, request) if per_episode else {}
    results.episodes = len(refs)
    results.total = sum(per_episode[e] for e in refs)
    if not results.total:
        return
    _count_months(session, results, refs, per_episode)
    first = (request.page - 1) * request.per_page
    page_ids = _newest_first(refs)[first : first + request.per_page]
    shown: dict[int, list[tuple[int, float]]] = {eid: [] for eid in page_ids}
    for docnum in sorted(matches.among(page_ids).docnums(page_ids)):  # an episode's docnums follow its order
        hits = shown[current.episode_of(docnum)]
        if len(hits) < limits.HITS_PER_EPISODE:
            hits.append((docnum, 0.0))
    nothing_to_mark = Compiled(said)
    results.groups = _groups(
        session, current.searcher, shown, _episode_refs(session, page_ids), per_episode, nothing_to_mark, True
    )


def _browse_guest(session: Session, request: SearchRequest, results: SearchResults) -> None:
    """The person's episodes (as a guest or a host) that pass the filters, newest first, a page of
    them as episode results."""
    metadata = metadata_index(session)
    filters = (request.show, request.guest, request.date_from, request.date_to)
    refs = {eid: e for eid, e in sorted(metadata.episodes.items()) if metadata.allowed(eid, *filters)}
    results.episode_matches_total = len(refs)
    first = (request.page - 1) * request.per_page
    page_ids = _newest_first(refs)[first : first + request.per_page]
    if not page_ids:
        return
    rows = {e.id: e for e in session.exec(select(Episode).where(col(Episode.id).in_(page_ids))).all()}
    from app.services.episodes import summarize  # a cycle at import, as in _match_episodes

    summaries = summarize(session, [rows[eid] for eid in page_ids if eid in rows])
    results.episode_matches = [EpisodeMatch(summary, "guests") for summary in summaries]


def _match_episodes(session: Session, metadata, request: SearchRequest, tree, results: SearchResults) -> None:
    """The episodes whose title, guests, show or description match the query and pass the filters:
    counted on every page, the best few shown on the first. None when searching inside one episode
    or among one person's words."""
    if request.episode or request.speaker:
        return
    found = {
        eid: where
        for eid, where in metadata.search(tree).items()
        if metadata.allowed(eid, request.show, request.guest, request.date_from, request.date_to)
    }
    results.episode_matches_total = len(found)
    if request.page != 1 or not found:
        return
    shown = metadata.order(found, by_date=request.sort == "date")[: limits.EPISODE_MATCHES]
    rows = {e.id: e for e in session.exec(select(Episode).where(col(Episode.id).in_(shown))).all()}
    # imported here: app.services reaches app.names, which reads app.search.analysis (a cycle at import)
    from app.services.episodes import summarize

    summaries = summarize(session, [rows[eid] for eid in shown if eid in rows])
    results.episode_matches = [EpisodeMatch(s, found[s.episode.id or 0]) for s in summaries]


def _run(index, session: Session, request: SearchRequest, tree, results: SearchResults, metadata: MetadataIndex):
    """metadata: the archive's episodes and known names, as this search's session reads them."""
    if hasattr(index, "find_passages"):  # PostgreSQL: its passages table (app/search/postgres.py)
        return index.find_passages(session, request, tree, results, metadata)
    names = metadata.names
    deadline = time.monotonic() + limits.TIME_BUDGET
    current = index.searcher()
    searcher = current.searcher
    vocabulary = current.vocabulary
    # a known name also finds the captions' misspellings of it (Keepit: "Kipit")
    compiled = compile_query(tree, vocabulary, variants=lambda word: name_variants(word, vocabulary, names))
    results.notices.extend(compiled.notices)

    # every matching passage, unscored: the total, the episodes, each episode's count; inside one
    # episode, only its passages are looked at (not the whole archive's postings)
    episode_id = None
    if request.episode:
        episode_id = session.exec(select(Episode.id).where(Episode.slug == request.episode)).first()
        if episode_id is None:
            return
    speaker_id = None
    if request.speaker:
        speaker_id = session.exec(select(Person.id).where(Person.slug == request.speaker)).first()
        if speaker_id is None:
            return  # no such person: no passage of theirs
    matches = find_matches(compiled.query, current.segments(), deadline, episode=episode_id, speaker=speaker_id)
    if matches.partial:
        if not matches.per_episode:
            raise QueryError(TOO_SLOW)
        _partial(results)  # the segments read in time: their counts and their best passages
    rank_by = max(deadline, time.monotonic() + limits.RANK_GRACE)
    per_episode = matches.per_episode
    # the matched episodes that pass the filters (their air date for a sort by date); the rest of
    # an episode's row is read for the shown ones only
    refs = _allowed_episodes(metadata, per_episode, request) if per_episode else {}
    results.episodes = len(refs)
    results.total = sum(per_episode[e] for e in refs)
    if not results.total:
        return  # nothing found: run_search tries the closest correction
    if not request.episode:
        _count_months(session, results, refs, per_episode)

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
        page_ids = _newest_first(refs)[first : first + per_page]
        ranked = ranked_among(matches.among(page_ids), None)
        shown = _top_per_episode(ranked, current.episode_of)
        shown = {e: shown.get(e, []) for e in page_ids}
    else:
        # when partial, the segments left unread must not be ranked: among() keeps the ones read
        # every match of the query ranks from the posting lists alone; one person's words are a part of them
        whole = len(refs) == len(per_episode) and not matches.partial and speaker_id is None
        allowed = matches if whole else matches.among(refs)
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


def _allowed_episodes(metadata: MetadataIndex, per_episode, request: SearchRequest) -> dict[int, EpisodeMetadata]:
    """The matched episodes that exist and pass the filters, in id order: read from the metadata
    index, which holds every episode (a query of their 2,000 rows was a seventh of a search)."""
    episodes = metadata.episodes
    filters = (request.show, request.guest, request.date_from, request.date_to)
    found = {}
    for eid in sorted(per_episode):
        episode = episodes.get(eid)
        if episode is None or (request.episode and episode.slug != request.episode):
            continue
        if any(filters) and not metadata.allowed(eid, *filters):
            continue
        found[eid] = episode
    return found


def _newest_first(refs: dict[int, EpisodeMetadata]) -> list[int]:
    """Episode ids by air date, newest first, the undated last; among equals the last ingested first."""
    dated = sorted(refs.items(), key=lambda item: (item[1].aired_text or "", item[0]), reverse=True)
    return [eid for eid, _ in dated]


def _count_months(session: Session, results: SearchResults, refs: dict[int, EpisodeMetadata], per_episode) -> None:
    """Every matching passage counted by the month its episode aired, for the whole archive and per
    show: a group-by of the matched episodes already read, not another search."""
    per_show_month: dict[tuple[int | None, str | None], int] = {}  # one pass, plain dict: 2,000 episodes a search
    for eid, facts in refs.items():
        key = (facts.show_id, facts.aired_text and facts.aired_text[:7])
        per_show_month[key] = per_show_month.get(key, 0) + per_episode[eid]
    months: Counter[str] = Counter()
    by_show: dict[int | None, Counter[str]] = {}
    undated = 0
    for (show_id, month), count in per_show_month.items():
        if month is None:
            undated += count
            continue
        months[month] += count
        by_show.setdefault(show_id, Counter())[month] += count
    results.months = [MonthCount(month, n) for month, n in sorted(months.items())]
    results.undated = undated
    names = {
        sid: (slug, name)
        for sid, slug, name in session.execute(
            sa_select(col(Show.id), col(Show.slug), col(Show.name)).where(
                col(Show.id).in_([sid for sid in by_show if sid is not None])
            )
        )
    }
    shows = [
        ShowTimeline(*names.get(sid, (None, None)), passages=sum(counts.values()), months=dict(counts))
        for sid, counts in by_show.items()
    ]
    results.shows = sorted(shows, key=lambda show: (-show.passages, show.name or "~"))


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _filtered(stmt: _Query, request: SearchRequest) -> _Query:
    """A query of episodes narrowed to those that pass the request's filters (PostgreSQL's search
    filters its passages with it; this module reads the metadata index instead)."""
    if request.show:
        stmt = stmt.join(Show, col(Show.id) == Episode.show_id).where(col(Show.slug) == request.show)
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
    machine: dict[tuple[int, int], str] = {}  # the machine's text of the lines an editor corrected
    speakers: dict[tuple[int, int], tuple[str | None, int | None]] = {}
    if ranges:
        cond = or_(
            *(and_(col(CaptionLine.episode_id) == e, col(CaptionLine.position).between(lo, hi)) for e, lo, hi in ranges)
        )
        for eid, position, text, label, person_id, original in session.execute(
            sa_select(
                col(CaptionLine.episode_id),
                col(CaptionLine.position),
                col(CaptionLine.text),
                col(CaptionLine.speaker),
                col(CaptionLine.person_id),
                col(CaptionLine.original_text),
            ).where(cond)
        ):
            lines[(eid, position)] = text
            if original is not None:
                machine[(eid, position)] = original
            if label is not None:
                speakers[(eid, position)] = (label, person_id)
    people = speakers_by_id(session, (person_id for _, person_id in speakers.values()))
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
            old = [machine.get((eid, p)) for p in range(f[FIRST], f[FIRST] + len(texts))] if machine else None
            found = locate(texts, own, compiled.stems, compiled.exact, compiled.phrases, compiled.windows, old)
            position = f[FIRST] + found.line  # in the passage's own lines: no two hits share it
            label, person_id = speakers.get((eid, position), (None, None))
            speaker = speaker_json(label, people.get(person_id) if person_id else None)
            start = f[STARTS][found.line]
            group.hits.append(Hit(ref, start, position, found.text, found.snippet, score, speaker, found.passage))
        if group.hits or not per_episode:
            groups.append(group)
    return groups


def _suggestion(index, session: Session, q: str) -> str | None:
    """The query with each word that neither the captions nor the known names hold replaced by the
    closest one they hold: written as the transcripts write it (accents, not stems), or for a name
    as descriptions and sidecars do. Operators, prefixes (numéri*) and fuzzy words (mot~) stay."""
    current = index.searcher()
    vocabulary = current.vocabulary
    metadata = metadata_index(session)
    text = clean(q)
    changed = False

    def correct(match):
        nonlocal changed
        word, after = match.group(), text[match.end() : match.end() + 1]
        folded = fold(word)
        if (
            word in ("OR", "AND", "NOT")
            or after in ("*", "~")
            or folded in STOP_WORDS
            or len(folded) < 3
            or folded in metadata.names
            or vocabulary.frequency(folded)
        ):
            return word
        distance = 1 if len(folded) <= 5 else 2  # as Vocabulary.closest allows
        caption = vocabulary.closest(folded)
        name = metadata.closest_name(folded, distance)
        # a name as near as the captions' word wins: the captions misspell names, descriptions do not
        if name is not None and (caption is None or name[1] <= Levenshtein.distance(folded, caption)):
            changed = True
            return metadata.written.get(name[0], name[0])
        if caption is None or caption == folded:
            return word
        changed = True
        return _as_written(session, current, caption)

    def accent(match):
        """A right word typed without its accents, written with them: souveraineté numérique, not
        souveraineté numerique."""
        word, after = match.group(), suggestion[match.end() : match.end() + 1]
        folded = fold(word)
        if (
            not word.isascii()
            or after in ("*", "~")
            or folded in STOP_WORDS
            or folded in metadata.names
            or not vocabulary.frequency(folded)
        ):
            return word
        written = _as_written(session, current, folded)
        return written if written.lower() != word.lower() else word

    suggestion = WORD.sub(correct, text)
    if not changed:
        return None
    suggestion = WORD.sub(accent, suggestion)
    return " ".join(suggestion.split())


def _as_written(session: Session, current, folded: str, passages: int = 5) -> str:
    """An index word as the transcripts write it: its most frequent spelling in the lines of a few
    passages holding it, in lower case unless those lines always capitalise it (a name)."""
    searcher = current.searcher
    try:
        postings = searcher.reader().postings(EXACT, folded)  # deleted passages are skipped
    except TermNotFound:
        return folded
    where: list[ColumnElement[bool]] = []
    while postings.is_active() and len(where) < passages:
        stored = searcher.stored_fields(postings.id())
        first = stored[FIRST]
        where.append(
            and_(
                col(CaptionLine.episode_id) == int(stored[EPISODE]),
                col(CaptionLine.position).between(first, first + len(stored[STARTS]) - 1),
            )
        )
        postings.next()
    spellings: Counter[str] = Counter()
    for text in session.exec(select(CaptionLine.text).where(or_(*where))).all() if where else ():
        spellings.update(text[start:end] for word, start, end in word_spans(text) if word == folded)
    if not spellings:
        return folded
    lower: Counter[str] = Counter()
    for spelling, n in spellings.items():
        lower[spelling.lower()] += n
    best = lower.most_common(1)[0][0]
    if best in spellings:
        return best
    return max((s for s in spellings if s.lower() == best), key=lambda s: spellings[s])

"""Episodes found by their metadata (title, description, show, guests), and the archive's known names."""

import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import limits
from app.models import Appearance, Episode, Person, PersonAlias, Show
from app.search.analysis import STOP_WORDS, body_terms, fold, number_forms, singular, stem, word_spans, words
from app.search.query import LEAVES, And, Fuzzy, Not, Or, Phrase, Prefix, Word, leaves

# Where an episode can match, in the order that says best why it was found: a title names the
# subject, a guest is who people look for, a show is shared by many episodes, a description says much.
FIELDS = ("title", "guests", "show", "description")
MIN_NAME_CHARS = 3  # shorter words of names ("de", "Co") are not names of anything
# A known name brings the captions' spellings of it from this length on: shorter names are too
# close to ordinary words (one edit turns "smart" into "start").
MIN_VARIANT_CHARS = 5
# The affiliation in a role as descriptions state it: after the last comma ("PDG, Artifeel"), or
# after "de", "d'" or "chez" when there is no comma ("PDG de Baracoda").
_AFFILIATION = re.compile(r"(?:^|\s)(?:de|d['’]|chez)\s*(?P<name>[^\s].*)$", re.IGNORECASE)


@dataclass
class EpisodeMetadata:
    """One episode as the filters see it, and its fields' text as lists of folded words."""

    id: int
    aired_on: date | None
    show: str | None  # show slug
    people: set[str] = field(default_factory=set)  # slugs of its guests and host
    texts: dict[str, list[list[str]]] = field(default_factory=dict)  # field -> folded words of each piece
    slug: str = ""
    show_id: int | None = None
    aired_text: str | None = None  # "2024-03-14": what the sort by date and the months read


class MetadataIndex:
    """An in-memory inverted index of the episodes' metadata, analysed as captions are."""

    def __init__(
        self,
        episodes: list[EpisodeMetadata],
        names: set[str],
        written: dict[str, str],
        previous: "MetadataIndex | None" = None,
    ):
        """From `previous`, the index of the same archive before a change, only the episodes whose
        texts changed are indexed again (a write changes a few; indexing all 2,000 again took half
        of a rebuild, which each server process makes after each write, its searches waiting)."""
        self.episodes = {e.id: e for e in episodes}
        self.names = frozenset(names)
        self.written = written  # known name word (folded) -> how descriptions and sidecars write it
        # field -> folded word (or stem) -> episode ids. Sets are never changed once in an index: an
        # index made from `previous` shares its sets, and searches may be reading them.
        self.words: dict[str, dict[str, set[int]]]
        self.stems: dict[str, dict[str, set[int]]]
        changed: list[tuple[int, EpisodeMetadata | None, EpisodeMetadata | None]]
        if previous is None:
            self.words = {name: {} for name in FIELDS}
            self.stems = {name: {} for name in FIELDS}
            changed = [(e.id, None, e) for e in episodes]
        else:
            self.words = {name: dict(previous.words[name]) for name in FIELDS}
            self.stems = {name: dict(previous.stems[name]) for name in FIELDS}
            changed = [
                (eid, previous.episodes.get(eid), self.episodes.get(eid))
                for eid in previous.episodes.keys() | self.episodes.keys()
                if eid not in previous.episodes
                or eid not in self.episodes
                or previous.episodes[eid].texts != self.episodes[eid].texts
            ]
        vocabulary_changed = previous is None
        for name in FIELDS:
            words = [(eid, _found(before, name), _found(after, name)) for eid, before, after in changed]
            vocabulary_changed |= _apply(self.words[name], words)
            _apply(self.stems[name], [(eid, _terms(was), _terms(now)) for eid, was, now in words])
        if vocabulary_changed:
            self._vocabulary = sorted(set().union(*self.words.values()))
        else:  # the same words, in fields or episodes that may have changed
            assert previous is not None
            self._vocabulary = previous._vocabulary
        self._names = sorted(self.names)

    def closest_name(self, folded: str, distance: int) -> tuple[str, int] | None:
        """The known name word nearest to a folded word within `distance` edits, and its distance."""
        found = process.extractOne(folded, self._names, scorer=Levenshtein.distance, score_cutoff=distance)
        return (found[0], int(found[1])) if found else None

    # --- one leaf of the query: field -> episodes ------------------------------------------

    def _leaf(self, node) -> dict[str, set[int]]:
        if isinstance(node, Word):
            term = stem(node.text)
            return {name: stems[term] for name, stems in self.stems.items() if term in stems}
        if isinstance(node, Prefix):
            return self._union(w for w in self._vocabulary if w.startswith(node.text))
        if isinstance(node, Fuzzy):
            near = process.extract(
                node.text, self._vocabulary, scorer=Levenshtein.distance, score_cutoff=node.distance, limit=None
            )
            return self._union(w for w, _, _ in near)
        assert isinstance(node, Phrase)
        return self._phrase(node.words)

    def _union(self, found) -> dict[str, set[int]]:
        found = list(found)
        out = {name: set().union(*(words[w] for w in found if w in words)) for name, words in self.words.items()}
        return {name: ids for name, ids in out.items() if ids}

    def _phrase(self, sequence: list[str]) -> dict[str, set[int]]:
        """The words in this order, singular or plural, as the captions' phrases match them."""
        out: dict[str, set[int]] = {}
        wanted = [singular(w) for w in sequence]
        n = len(wanted)
        for name in FIELDS:
            words_of = self.words[name]
            candidates: set[int] | None = None
            for word in set(sequence):
                ids = set().union(*(words_of.get(form, set()) for form in number_forms(word)))
                candidates = ids if candidates is None else candidates & ids
            for eid in candidates or ():
                pieces = [[singular(w) for w in piece] for piece in self.episodes[eid].texts.get(name, [])]
                if any(piece[i : i + n] == wanted for piece in pieces for i in range(len(piece) - n + 1)):
                    out.setdefault(name, set()).add(eid)
        return out

    # --- the whole query ----------------------------------------------------------------------

    def search(self, tree) -> dict[int, str]:
        """The episodes the query tree matches, each with the first field (FIELDS' order) where a
        word it looks for is found. The words may be in different fields or people: "Pillot
        Weborama" finds one guest's name and another's affiliation, "Keepit Sabattier" an
        affiliation and a description."""
        found: dict[int, str] = {}
        matched = self._evaluate(tree)
        if not matched:
            return found
        where: dict[str, set[int]] = {}
        for leaf, negated in leaves(tree):
            if negated or (isinstance(leaf, Word) and leaf.text in STOP_WORDS):
                continue
            for name, ids in self._leaf(leaf).items():
                where.setdefault(name, set()).update(ids & matched)
        for name in FIELDS:
            for eid in where.get(name, ()):
                found.setdefault(eid, name)
        return found

    def _evaluate(self, node) -> set[int] | None:
        """The episodes a node matches; None for a node that looks for nothing (a stop word), as
        compile_query leaves it out of the passages' query."""
        if isinstance(node, LEAVES):
            if isinstance(node, Word) and node.text in STOP_WORDS:
                return None
            return set().union(*self._leaf(node).values())
        if isinstance(node, Not):
            return self._evaluate(node.child)  # a NOT inside a NOT: what compile_query makes of it
        if isinstance(node, Or):
            parts = [p for p in (self._evaluate(c) for c in node.children) if p is not None]
            return set().union(*parts) if parts else None
        assert isinstance(node, And)
        positives = [p for p in (self._evaluate(c) for c in node.children if not isinstance(c, Not)) if p is not None]
        if not positives:
            return None
        matched = set.intersection(*positives)
        for child in node.children:
            if isinstance(child, Not):
                matched -= self._evaluate(child.child) or set()
        return matched

    def allowed(self, eid: int, show: str | None, guest: str | None, start: date | None, end: date | None) -> bool:
        """Whether an episode passes the search's filters."""
        episode = self.episodes[eid]
        if show and episode.show != show:
            return False
        if guest and guest not in episode.people:
            return False
        if (start or end) and episode.aired_on is None:
            return False
        if start and episode.aired_on and episode.aired_on < start:
            return False
        return not (end and episode.aired_on and episode.aired_on > end)

    def order(self, found: dict[int, str], by_date: bool) -> list[int]:
        """Episode ids: by where they matched (title first), then newest; newest only by date."""

        def key(eid: int):
            aired_on = self.episodes[eid].aired_on
            newest = (aired_on is None, -aired_on.toordinal() if aired_on else 0, -eid)
            return newest if by_date else (FIELDS.index(found[eid]), *newest)

        return sorted(found, key=key)


def _found(episode: EpisodeMetadata | None, name: str) -> set[str]:
    """The folded words of one field of an episode (none for an episode absent on that side)."""
    return set().union(*episode.texts.get(name, [])) if episode is not None else set()


def _terms(found: set[str]) -> set[str]:
    return set(body_terms(list(found)))


def _apply(index: dict[str, set[int]], changes: list[tuple[int, set[str], set[str]]]) -> bool:
    """Each episode taken from the keys it no longer has and given its new ones: one new set for
    each key that changes, the others left as they are. Whether a key appeared or went."""
    removed: defaultdict[str, set[int]] = defaultdict(set)
    added: defaultdict[str, set[int]] = defaultdict(set)
    for eid, was, now in changes:
        for key in was - now:
            removed[key].add(eid)
        for key in now - was:
            added[key].add(eid)
    keys_changed = False
    for key in removed.keys() | added.keys():
        held = index.get(key)
        ids = (held - removed[key] if held is not None else set()) | added[key]
        if ids:
            index[key] = ids
        else:
            index.pop(key, None)
        keys_changed |= (held is None) == bool(ids)  # a key that appears, or one that goes
    return keys_changed


# --- building it, once per change of the metadata ----------------------------------------------

_cache: dict[str, tuple[tuple, MetadataIndex]] = {}  # database URL -> (signature, index)
_build_locks: dict[str, threading.Lock] = {}  # database URL -> one build at a time


def metadata_index(session: Session) -> MetadataIndex:
    """The metadata index of this session's database, rebuilt when an ingest, an edit, a merge or a
    deletion has changed the metadata since it was built (about a second at 5,000 episodes).

    The request that finds it changed builds the new one; the requests that come while it builds
    read the last one rather than queue behind the build (writers in a row had a worker's searches
    wait for six builds in two seconds). For them, an episode added or edited a moment ago is left
    out of the results, or filtered by its old show, guests and date, until the build is done."""
    key = str(session.get_bind().engine.url)
    signature = _signature(session)
    cached = _cache.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    lock = _build_locks.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=cached is None):
        assert cached is not None  # a lock taken without waiting only when there is one to read
        return cached[1]
    try:
        cached = _cache.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]  # built by another search while this one waited
        built = _build(session, before=cached[1] if cached is not None else None)
        _cache[key] = (signature, built)
    finally:
        lock.release()
    return built


def known_names(session: Session) -> frozenset[str]:
    """The folded words of people's names, their affiliations and show names (3 letters or more)."""
    return metadata_index(session).names


def _signature(session: Session) -> tuple:
    """What changes whenever the metadata does, read in one query: every ingest and edit stamps its
    episode's updated_at; a deletion or a merge changes a count (a merge deletes a person), and
    a settled name its length."""
    # count(*), not count(id): SQLite answers it from the smallest index. Only max(updated_at)
    # reads the episode rows (10 ms at 5,000 episodes): an index on the column would spare it.
    aggregates: list[tuple[ColumnElement[Any], type]] = [
        (func.count(), Episode),
        (func.max(Episode.id), Episode),
        (func.max(Episode.updated_at), Episode),
        (func.count(), Show),
        (func.max(Show.id), Show),
        (func.count(), Person),
        (func.max(Person.id), Person),
        (func.sum(func.length(Person.name)), Person),
        (func.count(), Appearance),
        (func.max(Appearance.id), Appearance),
        (func.count(), PersonAlias),
        (func.max(PersonAlias.id), PersonAlias),
    ]
    columns = [sa_select(aggregate).select_from(table).scalar_subquery() for aggregate, table in aggregates]
    return tuple(session.execute(sa_select(*columns)).one())


# Each text's folded words as the last build found them: a build follows a change of a few
# episodes, and analysing the others' titles, descriptions and names again was a sixth of it.
_analysed: dict[str, list[str]] = {}


def _build(session: Session, before: MetadataIndex | None = None) -> MetadataIndex:
    global _analysed
    last_build = _analysed
    analysed: dict[str, list[str]] = {}  # a name, a role or a show name recurs in many episodes

    def folded_words(text: str) -> list[str]:
        found = analysed.get(text)
        if found is None:
            found = last_build.get(text)
            analysed[text] = found = words(text) if found is None else found
        return found

    shows = {sid: (slug, name) for sid, slug, name in session.exec(select(Show.id, Show.slug, Show.name)).all()}
    episodes: dict[int, EpisodeMetadata] = {}
    # five columns or more: more than sqlmodel's select() is typed for, hence SQLAlchemy's and execute()
    for eid, slug, title, description, aired_on, show_id in session.execute(
        sa_select(
            col(Episode.id),
            col(Episode.slug),
            col(Episode.title),
            col(Episode.description),
            col(Episode.aired_on),
            col(Episode.show_id),
        )
    ).all():
        show = shows.get(show_id) if show_id else None
        texts = {"title": [folded_words(title)], "show": [folded_words(show[1])] if show else []}
        texts["description"] = [folded_words(description)] if description else []
        texts["guests"] = []
        episodes[eid] = EpisodeMetadata(
            eid,
            aired_on,
            show[0] if show else None,
            texts=texts,
            slug=slug,
            show_id=show_id,
            aired_text=aired_on.isoformat() if aired_on else None,
        )
    aliases: dict[int, list[str]] = {}
    for person_id, name in session.exec(select(PersonAlias.person_id, PersonAlias.name)).all():
        aliases.setdefault(person_id, []).append(name)
    named: Counter[str] = Counter(name for _, name in shows.values())
    rows = session.execute(
        sa_select(
            col(Appearance.episode_id),
            col(Appearance.kind),
            col(Appearance.role),
            col(Appearance.named_as),
            col(Appearance.found_in),
            col(Person.id),
            col(Person.slug),
            col(Person.name),
        ).join(Person, col(Person.id) == Appearance.person_id)
    ).all()
    for episode_id, kind, role, named_as, found_in, person_id, slug, name in rows:
        episode = episodes.get(episode_id)
        if episode is None:
            continue
        episode.people.add(slug)
        named[name] += 1
        if found_in != "introduction":  # else the captions' spelling, not a known one
            named[named_as] += 1
        if role:
            named[_affiliation(role)] += 1
        if kind != "guest":
            continue
        spellings = {name, named_as, *aliases.get(person_id, [])}
        episode.texts["guests"].extend(folded_words(text) for text in sorted(spellings))
        if role:
            episode.texts["guests"].append(folded_words(role))
    names: set[str] = set()
    seen: dict[str, Counter[str]] = {}
    for text, n in named.items():
        for folded, start, end in word_spans(text):
            if len(folded) >= MIN_NAME_CHARS and folded not in STOP_WORDS and not folded.isdigit():
                names.add(folded)
                seen.setdefault(folded, Counter())[text[start:end]] += n
    written = {folded: spellings.most_common(1)[0][0] for folded, spellings in seen.items()}
    _analysed = analysed  # only this archive's texts of now: the cache never outgrows one build
    return MetadataIndex(list(episodes.values()), names, written, before)


def _affiliation(role: str) -> str:
    if "," in role:
        return role.rsplit(",", 1)[1]
    found = _AFFILIATION.search(role)
    return found.group("name") if found else ""


# --- what names bring to the passages' search --------------------------------------------------


def name_variants(word: str, vocabulary, names: set[str] | frozenset[str]) -> list[str]:
    """The captions' spellings of a known name that the captions never write right: for a folded
    word among `names` of MIN_VARIANT_CHARS letters or more that no caption holds, the caption
    words within one edit (two from six letters on) that sound alike: keepit → kipit, kippit;
    maurel → morel. Else [].

    A name the captions do write (Pillot) brings nothing: its neighbours are ordinary words
    (pilote), not misspellings of it. Nor does a neighbour that sounds otherwise: within two edits
    of Maurel are "aurez" and "matures", of VanAgt "venait", of Imène "mène"."""
    folded = fold(word)
    if len(folded) < MIN_VARIANT_CHARS or folded not in names or vocabulary.frequency(folded):
        return []
    distance = 1 if len(folded) < 6 else 2
    sound = sound_key(folded)
    found = [w for w in vocabulary.near(folded, distance) if w != folded and sound_key(w) == sound]
    return found[: limits.MAX_EXPANSION]


# Spellings of one sound, for machine captions that write names as they hear them.
_SAME_SOUND = [("ph", "f"), ("qu", "k"), ("ck", "k"), ("ce", "se"), ("ci", "si"), ("c", "k"), ("q", "k")]
_SAME_SOUND += [("w", "v"), ("y", "i"), ("h", "")]
_DOUBLED = re.compile(r"(.)\1+")
_SILENT_END = re.compile(r"e?[dstxz]?$")  # Chopinaud, Keepit: the last letters are not heard
_VOWELS = re.compile(r"[aeiou]")


def sound_key(folded: str) -> str:
    """A folded word reduced to what a listener hears of its consonants, and its first letter:
    keepit, kipit and kippit give "kp"; chopinaud and chopineau "kpn"; imene and imen "imn"."""
    for spelling, sound in _SAME_SOUND:
        folded = folded.replace(spelling, sound)
    folded = _SILENT_END.sub("", _DOUBLED.sub(r"\1", folded), count=1)
    return _DOUBLED.sub(r"\1", folded[:1] + _VOWELS.sub("", folded[1:]))

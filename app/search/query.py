"""Tolerant parser for what people type in the search box: any string gives a query or a French message."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq

from app import limits
from app.search.analysis import ELISIONS, STOP_WORDS, WORD, compounds, fold, stem
from app.search.passages import BODY, EXACT, MAX_PHRASE_WORDS
from app.search.phrases import glued_phrases, phrase_query
from app.search.windows import WordsNear


class QueryError(ValueError):
    """A query that cannot run; the message is shown to the user as is."""


NOT_IN_OR = (
    "NOT ou -mot ne peut pas être l'un des termes d'un OR : écrivez (a OR b) -c pour exclure c des résultats de a OR b."
)


# --- the parsed query -------------------------------------------------------------------------


@dataclass
class Word:
    text: str  # folded, unstemmed


@dataclass
class Phrase:
    words: list[str]  # folded, unstemmed


@dataclass
class Prefix:
    text: str


@dataclass
class Fuzzy:
    text: str
    distance: int = 1


@dataclass
class Not:
    child: object


@dataclass
class And:
    children: list = field(default_factory=list)


@dataclass
class Or:
    children: list = field(default_factory=list)


LEAVES = (Word, Phrase, Prefix, Fuzzy)


def clean(text: str) -> str:
    """Drop what cannot be typed on purpose: NUL and control characters, lone surrogates, bidi marks."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    text = unicodedata.normalize("NFC", text)
    text = text.replace("«", '"').replace("»", '"').replace("“", '"').replace("”", '"')
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c for c in text)


# a "-" glued to a quote or a parenthesis excludes it: -"souveraineté numérique", -(a OR b)
_LEX = re.compile(r'(?P<neg>-+(?=["(]))|"(?P<phrase>[^"]*)"?|(?P<open>\()|(?P<close>\))|(?P<word>[^\s()"]+)')


def _lex(text: str):
    for m in _LEX.finditer(text):
        if m.group("neg"):
            yield ("neg", "-")
        elif m.group("phrase") is not None:
            yield ("phrase", m.group("phrase"))
        elif m.group("open"):
            yield ("(", "(")
        elif m.group("close"):
            yield (")", ")")
        else:
            yield ("word", m.group("word"))


def _word_node(raw: str):
    """One typed word: may carry -, *, ~; may split into several words (l'IA, peut-être, title:x)."""
    fuzzy = prefix = False
    distance = None
    m = re.search(r"~(\d?)$", raw)
    if m:
        fuzzy = True
        distance = {"": None, "0": 1, "1": 1}.get(m.group(1), 2)
        raw = raw[: m.start()]
    elif raw.endswith("*"):
        prefix = True
        raw = raw.rstrip("*")
    parts = [fold(w) for w in WORD.findall(raw)]
    if any(len(p) > limits.MAX_WORD_CHARS for p in parts):
        raise QueryError(f"Un mot de la recherche est trop long (plus de {limits.MAX_WORD_CHARS} caractères).")
    while len(parts) > 1 and parts[0] in ELISIONS:
        parts = parts[1:]  # l'intelligence → intelligence, qu'elle → elle
    if not parts:
        return None

    def one(text: str):
        if prefix:
            return Prefix(text)
        if fuzzy:
            # one edit; two for words of six letters or more, as machine transcripts mangle names (Keepit → Kipit)
            return Fuzzy(text, distance or (1 if len(text) < 6 else 2))
        return Word(text)

    if len(parts) > 1:
        # a hyphenated word is also its glued form, which the index holds for the captions'
        # hyphenated words too: e-mail finds "e-mail", "e mail" and "email"
        glued = "".join(parts)
        if len(glued) <= limits.MAX_WORD_CHARS and compounds(raw) == [glued]:
            return Or([Phrase(parts), one(glued)])
        return Phrase(parts)
    return one(parts[0])


def parse(text: str):
    """The query tree for a search string; QueryError for one that cannot run; None when empty."""
    if len(text) > limits.MAX_QUERY_CHARS:
        raise QueryError(f"La recherche est trop longue : {limits.MAX_QUERY_CHARS} caractères au plus.")
    tokens = list(_lex(clean(text)))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else (None, None)

    def parse_or(depth):
        branches = [parse_and(depth)]
        while peek() == ("word", "OR"):
            nonlocal pos
            pos += 1
            branches.append(parse_and(depth))
        branches = [b for b in branches if b is not None]
        if not branches:
            return None
        return branches[0] if len(branches) == 1 else Or(branches)

    def parse_and(depth):
        nonlocal pos
        items: list[object] = []
        while pos < len(tokens):
            kind, value = tokens[pos]
            if kind == ")":
                if depth > 0:
                    break
                pos += 1  # a stray closing parenthesis is ignored
                continue
            if kind == "word" and value == "OR":
                if items:
                    break
                pos += 1  # OR with nothing before it
                continue
            if kind == "word" and value == "AND":
                pos += 1
                continue
            node = parse_unary(depth)
            if node is not None:
                items.append(node)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(items)

    def parse_unary(depth):
        nonlocal pos
        kind, value = tokens[pos]
        if kind == "neg" or (kind == "word" and value == "NOT"):
            pos += 1
            if pos >= len(tokens) or tokens[pos][0] == ")" or tokens[pos] == ("word", "OR"):
                return None
            child = parse_unary(depth)
            return Not(child) if child is not None else None
        if kind == "word" and value.startswith("-") and len(value) > 1:
            pos += 1
            child = _word_node(value[1:])
            return Not(child) if child is not None else None
        pos += 1
        if kind == "(":
            if depth > limits.MAX_NESTING:
                raise QueryError("La recherche a trop de parenthèses imbriquées.")
            inner = parse_or(depth + 1)
            if peek()[0] == ")":
                pos += 1
            return inner
        if kind == "phrase":
            parts = [fold(w) for w in WORD.findall(value)]
            if any(len(p) > limits.MAX_WORD_CHARS for p in parts):
                raise QueryError(f"Un mot de la recherche est trop long (plus de {limits.MAX_WORD_CHARS} caractères).")
            if not parts:
                return None
            if len(parts) > MAX_PHRASE_WORDS:
                raise QueryError(f"Une citation entre guillemets est limitée à {MAX_PHRASE_WORDS} mots.")
            return Phrase(parts)
        return _word_node(value)

    tree = parse_or(0)
    if tree is not None and sum(1 for _ in leaves(tree)) > limits.MAX_TERMS:
        raise QueryError(f"La recherche compte trop de termes : {limits.MAX_TERMS} au plus.")
    return tree


def leaves(node, negated=False):
    """(leaf, negated) for every word, phrase, prefix and fuzzy word of the tree."""
    if isinstance(node, LEAVES):
        yield node, negated
    elif isinstance(node, Not):
        yield from leaves(node.child, not negated)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from leaves(child, negated)


# --- to a whoosh query ------------------------------------------------------------------------


@dataclass
class Compiled:
    query: wq.Query
    stems: set[str] = field(default_factory=set)  # plain words to highlight
    exact: set[str] = field(default_factory=set)  # folded words to highlight (prefix, fuzzy, quoted word)
    phrases: list[list[str]] = field(default_factory=list)
    # plain words that must stand close together: for each group, the stems of each word
    windows: list[list[set[str]]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def word_stems(text: str, variants: Callable[[str], list[str]] | None = None) -> list[str]:
    """The index forms of a plain word: its stem, then the stems of its variants (the captions'
    misspellings of a known name: Keepit → Kipit, Kippit)."""
    stems = [stem(text)]
    for other in variants(text) if variants else ():
        if stem(other) not in stems:
            stems.append(stem(other))
    return stems


def compile_query(tree, vocabulary, variants: Callable[[str], list[str]] | None = None) -> Compiled:
    """vocabulary: expand_prefix(prefix) -> [(word, doc_frequency)] and near(word, distance) -> [word].

    variants(folded word): other words of the captions that a plain word also finds (see word_stems)."""
    out = Compiled(wq.NullQuery)

    def leaf(node, negated):
        if isinstance(node, Word):
            if node.text in STOP_WORDS:
                return None  # too common to mean anything alone; quote it to search it in a phrase
            stems = word_stems(node.text, variants)
            if not negated:
                out.stems.update(stems)
            return wq.Term(BODY, stems[0]) if len(stems) == 1 else wq.Or([wq.Term(BODY, s) for s in stems])
        if isinstance(node, Phrase):
            # also with two neighbouring words glued, where the index holds the glued word: "e mail" → email
            sequences = [node.words, *glued_phrases(node.words, vocabulary.frequency)]
            if not negated:
                out.phrases.extend(sequences)
            queries = [phrase_query(ws) for ws in sequences]
            return queries[0] if len(queries) == 1 else wq.Or(queries)
        if isinstance(node, Prefix):
            if len(node.text) < limits.MIN_PREFIX_CHARS:
                raise QueryError(f"Un préfixe doit avoir au moins {limits.MIN_PREFIX_CHARS} lettres avant *.")
            found = vocabulary.expand_prefix(node.text)
            if len(found) > limits.MAX_EXPANSION:
                out.notices.append(
                    f"« {node.text}* » correspond à {len(found)} mots : "
                    f"seuls les {limits.MAX_EXPANSION} plus fréquents sont cherchés."
                )
                found = sorted(found, key=lambda wf: -wf[1])[: limits.MAX_EXPANSION]
            terms = [w for w, _ in found]
        else:
            terms = vocabulary.near(node.text, node.distance)[: limits.MAX_EXPANSION]
        if not negated:
            out.exact.update(terms)
        return wq.Or([wq.Term(EXACT, t) for t in terms]) if terms else wq.NullQuery

    def build(node, negated=False):
        if isinstance(node, LEAVES):
            return leaf(node, negated)
        if isinstance(node, Not):
            return build(node.child, not negated)
        if isinstance(node, Or):
            if any(_only_excludes(c) for c in node.children):
                raise QueryError(NOT_IN_OR)  # "a OR -b" would mean every passage but b's: refuse, say why
            parts = [build(c, negated) for c in node.children]
            parts = [p for p in parts if p is not None]
            return wq.Or(parts) if parts else None
        # plain words together: all within a window of consecutive lines, not just in one passage
        plain = [c for c in node.children if isinstance(c, Word) and c.text not in STOP_WORDS]
        near = None
        if len({c.text for c in plain}) > 1:
            forms = list({c.text: word_stems(c.text, variants) for c in plain}.values())
            near = WordsNear(forms)
            if not negated:
                out.stems.update(s for stems in forms for s in stems)
                out.windows.append([set(stems) for stems in forms])
        else:
            plain = []
        positives = [near] + [build(c, negated) for c in node.children if not isinstance(c, Not) and c not in plain]
        negatives = [build(c.child, not negated) for c in node.children if isinstance(c, Not)]
        positives = [p for p in positives if p is not None]
        negatives = [n for n in negatives if n is not None]
        if not positives:
            return None
        q = positives[0] if len(positives) == 1 else wq.And(positives)
        if negatives:
            q = wq.AndNot(q, negatives[0] if len(negatives) == 1 else wq.Or(negatives))
        return q

    if isinstance(tree, Not):
        raise QueryError("Ajoutez au moins un mot à chercher en plus de ce qui est exclu.")
    q = build(tree)
    if q is None:
        if any(isinstance(n, Not) for n in getattr(tree, "children", [])):
            raise QueryError("Ajoutez au moins un mot à chercher en plus de ce qui est exclu.")
        raise QueryError("Ces mots sont trop courants pour être cherchés seuls : mettez la citation entre guillemets.")
    out.query = q
    return out


def _only_excludes(node) -> bool:
    """A NOT, or a group of NOTs only: something that excludes and looks for nothing."""
    if isinstance(node, Not):
        return True
    if isinstance(node, (And, Or)):
        return bool(node.children) and all(_only_excludes(c) for c in node.children)
    return False

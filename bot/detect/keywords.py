"""Keyword alerts and watchwords: which posts a set of words matches, and where.

A *query* is what a chat asked for (``тариф, "цены на газ", -реклама``): words and
phrases to look for, and excluded ones. A post matches when one wanted item occurs in
its text and no excluded one does. Words are compared by their :mod:`bot.words` terms
(stems), so ``тариф`` finds ``тарифы`` and ``тарифтер``; a phrase is its words adjacent
and in order, whatever punctuation lies between them.

Matching many queries against every new post is one pass over the post's words, not a
loop over queries: a :class:`KeywordIndex` keeps, per term, the bits of the queries it
decides, so a post costs a set intersection of its terms with the index's, one mask per
term found, and an adjacency check for the phrases whose words all occur. (A term index
rather than Aho-Corasick: a word has one or two terms, so a post is a sequence of term
sets, not one string to scan.) Nobody's input is ever compiled into a regular
expression: the only pattern that runs is :mod:`bot.words`' fixed tokenizer.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import repeat
from operator import or_
from typing import Generic, TypeVar

from bot.words import Token, terms_in, tokens, word_terms

#: Wanted and excluded items one query may have.
MAX_ITEMS = 20
#: Words one phrase may have.
MAX_PHRASE_WORDS = 8
#: Characters one item may have.
MAX_ITEM_CHARS = 100
_QUOTES = "\"'«»“”„"

K = TypeVar("K", bound=Hashable)


class QueryError(ValueError):
    """Words that cannot be a query; ``code`` names the catalog message saying why."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True)
class Item:
    """One word or phrase of a query, as typed, with its normalised words."""

    text: str
    words: tuple[str, ...]
    exclude: bool = False

    @property
    def phrase(self) -> bool:
        """True when the item is several words (matched adjacent and in order)."""
        return len(self.words) > 1

    def stored(self) -> str:
        """The item as stored and shown: ``тариф``, ``"цены на газ"``, ``-реклама``."""
        body = f'"{self.text}"' if " " in self.text else self.text
        return f"-{body}" if self.exclude else body


def make_item(text: str, *, exclude: bool = False) -> Item:
    """The item for ``text`` (quotes and surrounding punctuation dropped)."""
    shown = " ".join(text.strip().strip(_QUOTES + ",;").split())
    if len(shown) > MAX_ITEM_CHARS:
        raise QueryError("too_long_item", shown[:40] + "…")
    words = tuple(t.word for t in tokens(shown))
    if not words:
        raise QueryError("no_words", text)
    if len(words) > MAX_PHRASE_WORDS:
        raise QueryError("too_long_phrase", shown)
    return Item(shown, words, exclude)


def parse_item(stored: str) -> Item:
    """The item a :meth:`Item.stored` string means."""
    exclude = stored.startswith("-")
    return make_item(stored[1:] if exclude else stored, exclude=exclude)


@dataclass(frozen=True, slots=True)
class Query:
    """Wanted and excluded items: a post matches one wanted and no excluded item."""

    items: tuple[Item, ...]

    @property
    def wanted(self) -> tuple[Item, ...]:
        """The items looked for."""
        return tuple(i for i in self.items if not i.exclude)

    @property
    def excluded(self) -> tuple[Item, ...]:
        """The items that veto a post."""
        return tuple(i for i in self.items if i.exclude)

    def stored(self) -> list[str]:
        """Every item as stored (the JSON list of a subscription row)."""
        return [i.stored() for i in self.items]


def make_query(items: Iterable[Item]) -> Query:
    """A query of ``items`` (repeats dropped), checked for sense and size."""
    unique: dict[tuple[tuple[str, ...], bool], Item] = {}
    for item in items:
        unique.setdefault((item.words, item.exclude), item)
    query = Query(tuple(unique.values()))
    if not query.items:
        raise QueryError("empty")
    if len(query.items) > MAX_ITEMS:
        raise QueryError("too_many")
    if not query.wanted:
        raise QueryError("only_exclusions")
    both = {i.words for i in query.wanted} & {i.words for i in query.excluded}
    if both:
        raise QueryError("conflict", next(i.text for i in query.wanted if i.words in both))
    return query


def parse_words(args: Sequence[str]) -> Query:
    """The query typed as ``args`` (already split like a shell, quotes removed).

    An argument with a space in it was quoted: it is one phrase. Other arguments are split
    at commas into words; ``-`` before an item excludes it (``-реклама``, ``-"о нас"``).
    """
    items: list[Item] = []
    exclude_next = False
    for arg in args:
        parts = [arg] if " " in arg.strip() else arg.split(",")
        for part in parts:
            text = part.strip().strip(",;")
            if text == "-":
                exclude_next = True
                continue
            if not text:
                continue
            exclude = exclude_next or text.startswith("-")
            exclude_next = False
            items.append(make_item(text.lstrip("-") if text.startswith("-") else text,
                                   exclude=exclude))  # fmt: skip
    return make_query(items)


def stored_query(stored: Sequence[str]) -> Query | None:
    """The query a stored list of items means, or None when it no longer parses."""
    try:
        return make_query(parse_item(s) for s in stored if isinstance(s, str))
    except QueryError:
        return None


@dataclass(frozen=True, slots=True)
class Hit:
    """One item of one query found in a text: words ``first``..``last`` (token indexes)."""

    rule: int
    item: int
    first: int
    last: int


def _item_terms(item: Item) -> tuple[frozenset[str], ...]:
    return tuple(word_terms(w) for w in item.words)


class KeywordIndex(Generic[K]):
    """Many queries, each under a key, matched against a text in one pass.

    Query number *n* is bit *n* of a Python int. ``_wanted[term]`` has the bits of the
    queries with a one-word wanted item that has ``term`` (``_excluded`` likewise), so the
    one-word items of every query are decided by OR-ing one mask per distinct term of the
    text. Phrases are listed under the terms of their first word and checked for
    adjacency only when all their words occur.
    """

    __slots__ = ("_excluded", "_keys", "_known", "_phrases", "_wanted")

    def __init__(self, rules: Iterable[tuple[K, Query]]) -> None:
        self._keys: list[K] = []
        self._wanted: dict[str, int] = {}
        self._excluded: dict[str, int] = {}
        self._phrases: dict[str, list[tuple[int, tuple[frozenset[str], ...], bool]]] = {}
        for key, query in rules:
            bit = 1 << len(self._keys)
            self._keys.append(key)
            for item in query.items:
                terms = _item_terms(item)
                for term in terms[0]:
                    if item.phrase:
                        self._phrases.setdefault(term, []).append((bit, terms, item.exclude))
                    else:
                        table = self._excluded if item.exclude else self._wanted
                        table[term] = table.get(term, 0) | bit
        #: Every term that may decide something: a post's other words cost nothing more.
        self._known = frozenset((*self._wanted, *self._excluded, *self._phrases))

    def __len__(self) -> int:
        return len(self._keys)

    def mask(self, keys: Iterable[K]) -> int:
        """The bits of the queries under ``keys`` (for :meth:`matching`'s ``among``)."""
        wanted = set(keys)
        return sum(1 << n for n, key in enumerate(self._keys) if key in wanted)

    def matching(self, text: str, among: int = -1) -> list[K]:
        """The keys of the queries (of those whose bits are in ``among``) ``text`` matches."""
        if not self._keys or not text or not among:
            return []
        terms = terms_in(text)
        distinct: set[str] = set().union(*terms)
        known = distinct.intersection(self._known)
        if not known:
            return []
        wanted = reduce(or_, map(self._wanted.get, known, repeat(0)), 0) & among
        excluded = reduce(or_, map(self._excluded.get, known, repeat(0)), 0) & among
        starts = known.intersection(self._phrases)
        if starts:
            wanted, excluded = self._phrase_bits(terms, distinct, starts, among, wanted, excluded)
        found = wanted & ~excluded
        out: list[K] = []
        while found:
            low = found & -found
            out.append(self._keys[low.bit_length() - 1])
            found ^= low
        return out

    def _phrase_bits(
        self,
        terms: list[frozenset[str]],
        distinct: set[str],
        starts: set[str],
        among: int,
        wanted: int,
        excluded: int,
    ) -> tuple[int, int]:
        """``wanted`` and ``excluded`` with the phrases found in ``terms`` added."""
        candidates = [
            (term, bit, phrase, exclude)
            for term in starts
            for bit, phrase, exclude in self._phrases[term]
            if bit & among
            and not bit & (excluded if exclude else wanted)
            and not any(map(distinct.isdisjoint, phrase[1:]))
        ]
        if not candidates:
            return wanted, excluded
        needed = {c[0] for c in candidates}
        where: dict[str, list[int]] = {}
        for at, here in enumerate(terms):
            for term in here:
                if term in needed:
                    where.setdefault(term, []).append(at)
        for term, bit, phrase, exclude in candidates:
            if bit & (excluded if exclude else wanted):
                continue  # another item of the same query already decided it
            if any(_continues(phrase, terms, at) for at in where[term]):
                if exclude:
                    excluded |= bit
                else:
                    wanted |= bit
        return wanted, excluded


def find_hits(queries: Sequence[Query], found: Sequence[Token]) -> list[Hit]:
    """Every occurrence of every item of ``queries`` among the words ``found``, with where
    it is (for highlighting a few queries; :class:`KeywordIndex` decides many)."""
    terms = [word_terms(t.word) for t in found]
    hits: list[Hit] = []
    for rule, query in enumerate(queries):
        for number, item in enumerate(query.items):
            phrase = _item_terms(item)
            hits += [
                Hit(rule, number, at, at + len(phrase) - 1)
                for at in range(len(terms))
                if not phrase[0].isdisjoint(terms[at]) and _continues(phrase, terms, at)
            ]
    return hits


def _continues(phrase: tuple[frozenset[str], ...], terms: list[frozenset[str]], at: int) -> bool:
    """True when the words after ``at`` continue ``phrase`` (its first word is at ``at``)."""
    if at + len(phrase) > len(terms):
        return False
    return all(not phrase[i].isdisjoint(terms[at + i]) for i in range(1, len(phrase)))


@dataclass(frozen=True, slots=True)
class Marks:
    """What an alert shows of the words that matched its post."""

    #: ``(start, end)`` character ranges of the text to highlight, sorted, not overlapping.
    ranges: tuple[tuple[int, int], ...] = ()
    #: The chat's own keyword items that matched, as typed.
    matched: tuple[Item, ...] = ()
    #: ``(watchlist name, its watchwords that matched)`` for each watchlist that marks it.
    watch: tuple[tuple[str, tuple[Item, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class AlertWords:
    """The words one chat's alert about one official is marked with."""

    #: This chat's keyword queries that cover the official.
    keywords: tuple[Query, ...] = ()
    #: ``(watchlist name, watchwords)`` of the official's watchlists that have some.
    watchwords: tuple[tuple[str, Query], ...] = ()

    def marks(self, text: str) -> Marks:
        """Which of these words ``text`` matches, and where (vetoed queries mark nothing)."""
        found = tokens(text)
        queries = [*self.keywords, *(q for _name, q in self.watchwords)]
        hits = find_hits(queries, found)
        vetoed = {h.rule for h in hits if queries[h.rule].items[h.item].exclude}
        kept = [
            h for h in hits if h.rule not in vetoed and not queries[h.rule].items[h.item].exclude
        ]
        ranges = _merge((found[h.first].start, found[h.last].end) for h in kept)
        mine = len(self.keywords)
        matched = _items(queries, (h for h in kept if h.rule < mine))
        watch = tuple(
            (name, items)
            for i, (name, _q) in enumerate(self.watchwords)
            if (items := _items(queries, (h for h in kept if h.rule == mine + i)))
        )
        return Marks(ranges, matched, watch)


def _items(queries: Sequence[Query], hits: Iterable[Hit]) -> tuple[Item, ...]:
    """The distinct items of ``hits``, in the order their queries list them."""
    unique: dict[str, Item] = {}
    for rule, item in sorted({(h.rule, h.item) for h in hits}):
        found = queries[rule].items[item]
        unique.setdefault(found.text.lower(), found)
    return tuple(unique.values())


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """``ranges`` sorted, with overlapping or touching ones joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)

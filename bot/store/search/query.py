"""A search query: its words, phrases and exclusions, and the index expressions of it.

A query is words (all must occur), phrases (words in that order, adjacent) and
exclusions (``-word``, ``-"a phrase"``). Words and two-word phrases are answered by the
index exactly; a longer phrase is narrowed by its pairs there and checked word by word
here (:func:`matches`), with the same normaliser, so both databases give the same versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from bot.words import INDEX_CHARS, PAIR, indexed_terms, tokens, word_terms


@dataclass(frozen=True, slots=True)
class Clause:
    """One word or phrase of a query: what was typed and each word's terms, in order."""

    text: str
    words: tuple[frozenset[str], ...]

    @property
    def searchable(self) -> bool:
        """Every word has terms (a word longer than any word has none and matches nothing)."""
        return all(self.words)


@dataclass(frozen=True, slots=True)
class Query:
    """Clauses that must all occur and clauses that must not."""

    include: tuple[Clause, ...]
    exclude: tuple[Clause, ...] = ()

    @property
    def checked_here(self) -> bool:
        """A phrase of three words or more: the index narrows it, Python decides."""
        return any(len(c.words) > 2 for c in (*self.include, *self.exclude))

    @property
    def searchable(self) -> bool:
        """Something to find, every word of it findable."""
        return bool(self.include) and all(c.searchable for c in self.include)


def parse_query(parts: Sequence[str]) -> Query:
    """The query in ``parts`` (a part with spaces is a phrase; ``-`` first excludes it)."""
    include: list[Clause] = []
    exclude: list[Clause] = []
    for part in parts:
        negative = part.startswith("-") and len(part) > 1
        typed = (part[1:] if negative else part).strip()
        words = tuple(word_terms(t.word) for t in tokens(typed))
        if not words:
            continue  # punctuation alone
        (exclude if negative else include).append(Clause(typed, words))
    return Query(tuple(include), tuple(exclude))


def occurrences(text_: str, clause: Clause) -> list[tuple[int, int]]:
    """Where ``clause`` occurs in ``text_`` (character spans), within what the index covers."""
    found = [t for t in tokens(text_) if t.start < INDEX_CHARS]
    terms = [word_terms(t.word) for t in found]
    size = len(clause.words)
    spans = []
    for i in range(len(found) - size + 1):
        if all(terms[i + j] & clause.words[j] for j in range(size)):
            spans.append((found[i].start, found[i + size - 1].end))
    return spans


def matches(text_: str, query: Query) -> bool:
    """True when ``text_`` has every included clause and no excluded one."""
    terms = indexed_terms(text_)
    return all(_occurs(terms, c) for c in query.include) and not any(
        _occurs(terms, c) for c in query.exclude
    )


def _occurs(terms: Sequence[frozenset[str]], clause: Clause) -> bool:
    """``clause`` occurs among the words' ``terms`` (what :func:`occurrences` finds)."""
    words = clause.words
    size = len(words)
    for i in range(len(terms) - size + 1):
        if all(not terms[i + j].isdisjoint(words[j]) for j in range(size)):
            return True
    return False


def _clause_terms(clause: Clause) -> list[list[str]]:
    """The index terms of a clause as AND of ORs: its word's terms, or its pairs' terms."""
    words = clause.words
    if len(words) == 1:
        return [sorted(words[0])]
    return [sorted(f"{a}{PAIR}{b}" for a in left for b in right) for left, right in pairwise(words)]


def _exact_exclusions(query: Query) -> list[Clause]:
    # A longer excluded phrase cannot be excluded by its pairs: a text may hold the pairs
    # apart. It is excluded in Python instead.
    return [c for c in query.exclude if c.searchable and len(c.words) <= 2]


def fts5_query(query: Query) -> str:
    """The FTS5 MATCH expression of ``query`` (every term quoted)."""

    def any_of(terms: list[str]) -> str:
        return "(" + " OR ".join('"' + t.replace('"', '""') + '"' for t in terms) + ")"

    def clause(c: Clause) -> str:
        return "(" + " AND ".join(any_of(ts) for ts in _clause_terms(c)) + ")"

    expr = " AND ".join(clause(c) for c in query.include)
    excluded = _exact_exclusions(query)
    if excluded:
        expr = f"({expr}) NOT ({' OR '.join(clause(c) for c in excluded)})"
    return expr


def tsquery(query: Query) -> str:
    """The PostgreSQL tsquery text of ``query`` (every lexeme quoted, none parsed)."""

    def lexeme(term: str) -> str:
        return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"

    def any_of(terms: list[str]) -> str:
        return "(" + " | ".join(lexeme(t) for t in terms) + ")"

    def clause(c: Clause) -> str:
        return "(" + " & ".join(any_of(ts) for ts in _clause_terms(c)) + ")"

    expr = " & ".join(clause(c) for c in query.include)
    excluded = _exact_exclusions(query)
    if excluded:
        expr = f"({expr}) & !({' | '.join(clause(c) for c in excluded)})"
    return expr

"""A relevance score computed here from a version's text, so both databases rank alike.

The engines' own ranks (``ts_rank``, FTS5's ``bm25``) differ, so neither is used. A
version scores, with the same normaliser as the search:

- for each word or phrase of the query, 1 point per occurrence, up to
  :data:`PER_CLAUSE` (a text about the word says it more than once);
- :data:`AS_TYPED` points when the query's words also occur together in the order
  typed (``цены газ`` in "цены на газ" does not, in "цены газ выросли" it does);
- :data:`LEAD_POINTS` when the first match starts in the first :data:`LEAD` characters.

Ties go to the newer version (its time, then its id), as in newest-first order.
"""

from __future__ import annotations

from datetime import datetime

from bot.store.search.query import Query
from bot.words import terms_and_lead

PER_CLAUSE = 3
AS_TYPED = 3
LEAD = 100
LEAD_POINTS = 1


def relevance(text: str, query: Query) -> int:
    """The score of ``text`` for ``query`` (see the module's docstring)."""
    words, lead_words = terms_and_lead(text, LEAD)
    score = 0
    first: int | None = None
    for clause in query.include:
        starts = _starts(words, clause.words)
        score += min(len(starts), PER_CLAUSE)
        if starts:
            first = starts[0] if first is None else min(first, starts[0])
    if len(query.include) > 1 and _starts(words, tuple(w for c in query.include for w in c.words)):
        score += AS_TYPED
    # Word indexes, not characters: the first match is in the lead when its index is below
    # the number of words that start before LEAD characters.
    if first is not None and first < lead_words:
        score += LEAD_POINTS
    return score


def _starts(words: list[frozenset[str]], clause: tuple[frozenset[str], ...]) -> list[int]:
    """Indexes where ``clause``'s words occur in ``words``, adjacent and in order."""
    head, rest = clause[0], clause[1:]
    # Test the first word everywhere (cheap), the rest only where it matched.
    hits = [i for i, terms in enumerate(words) if not terms.isdisjoint(head)]
    if rest:
        last = len(words) - len(rest)
        hits = [
            i
            for i in hits
            if i < last and all(not words[i + 1 + j].isdisjoint(w) for j, w in enumerate(rest))
        ]
    return hits


def relevance_key(text: str, query: Query, at: datetime, version_id: int) -> tuple[float, ...]:
    """A sort key: the most relevant first, then the newest."""
    return (-relevance(text, query), -at.timestamp(), -version_id)

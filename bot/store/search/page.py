"""An answer's counts per official and one page, from the latest matches, capped.

An answer reads at most :data:`COUNT_CAP` + 1 matches, the ones stored last: when there
are no more than :data:`COUNT_CAP` of them the counts are exact and the pages hold every
match; otherwise the counts are those of the latest :data:`COUNT_CAP` (``complete`` is
False: the answer must say "more than"), and the pages hold those. The pages are newest
first, or by :mod:`relevance`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.search.find import latest_matches
from bot.store.search.hits import version_texts
from bot.store.search.query import Query
from bot.store.search.relevance import relevance_key
from bot.store.search.scope import Filters, Match

#: Matches an answer counts exactly; above it, it counts these and says "more than".
COUNT_CAP = 1000
ORDERS = ("newest", "relevance")


@dataclass(frozen=True, slots=True)
class Tally:
    """One official's share of an answer."""

    official_id: int
    versions: int
    posts: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    """An answer's counts per official (most posts first) and one page of version ids."""

    tallies: list[Tally]
    version_ids: list[int]
    #: The page shown (the last one when a later one was asked for) and the page size.
    page: int = 1
    size: int = 10
    #: False: more versions match than were counted (the counts are lower bounds).
    complete: bool = True

    @property
    def versions(self) -> int:
        """How many versions were counted."""
        return sum(t.versions for t in self.tallies)

    @property
    def posts(self) -> int:
        """How many posts have a counted version."""
        return sum(t.posts for t in self.tallies)

    @property
    def pages(self) -> int:
        """How many pages the answer has (at least one)."""
        return max(1, -(-self.versions // self.size))


def tallied(found: Sequence[Match]) -> list[Tally]:
    """Counts per official of ``found``: most posts first, ties by official id."""
    versions = Counter(m.official_id for m in found)
    posts = Counter(official for _, official in {(m.post_id, m.official_id) for m in found})
    tallies = [Tally(oid, n, posts[oid]) for oid, n in versions.items()]
    return sorted(tallies, key=lambda t: (-t.posts, -t.versions, t.official_id))


async def search_page(
    conn: AsyncConnection,
    query: Query,
    filters: Filters,
    *,
    page: int,
    size: int,
    order: str = "newest",
    cap: int = COUNT_CAP,
) -> SearchPage:
    """Counts per official of the matches (up to ``cap``) and page ``page``'s ids."""
    found = await latest_matches(conn, query, filters, cap + 1)
    counted = found[:cap]
    if not counted:
        return SearchPage([], [], 1, size)
    result = SearchPage(tallied(counted), [], 1, size, complete=len(found) <= cap)
    shown = min(max(1, page), result.pages)
    ordered = await _ordered(conn, query, counted, order)
    ids = [m.version_id for m in ordered[(shown - 1) * size : shown * size]]
    return SearchPage(result.tallies, ids, shown, size, result.complete)


async def _ordered(
    conn: AsyncConnection, query: Query, found: Sequence[Match], order: str
) -> list[Match]:
    if order == "relevance":
        texts = await version_texts(conn, [m.version_id for m in found])
        return sorted(
            found, key=lambda m: relevance_key(texts.get(m.version_id, ""), query, m.at,
                                               m.version_id)
        )  # fmt: skip
    return sorted(found, key=lambda m: (m.at, m.version_id), reverse=True)

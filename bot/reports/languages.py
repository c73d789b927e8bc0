"""The language mix of officials' posts: Kazakh, Russian, both, other, undetermined.

Codes come from ``bot.langs`` via ``post_versions.language`` (a post counts with its
latest version's language; reposts are left out). Groups: ``kk``, ``ru``, ``mixed`` (a
post in Kazakh and Russian, counted once, in neither of the two), ``other`` (any other
identified language), ``unknown`` (too short or undecidable) and ``pending`` (not
identified yet). Shares are of all counted posts, so they always add up to 100%.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.langs import MIXED, UNKNOWN
from bot.store.languages import PENDING, language_counts

#: The groups, in the order they are shown.
GROUPS: tuple[str, ...] = ("kk", "ru", MIXED, "other", UNKNOWN, PENDING)


def group_of(code: str) -> str:
    """The group a stored language code counts in."""
    return code if code in GROUPS else "other"


@dataclass(frozen=True, slots=True)
class LanguageMix:
    """Posts per language group."""

    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All counted posts."""
        return sum(self.counts.values())

    def count(self, group: str) -> int:
        """Posts in ``group``."""
        return self.counts.get(group, 0)

    def share(self, group: str) -> float | None:
        """Percent of the posts in ``group`` (None when there are no posts)."""
        total = self.total
        return None if not total else self.count(group) * 100.0 / total

    def shown(self) -> list[tuple[str, int]]:
        """(group, posts) of the groups with posts, in ``GROUPS`` order."""
        return [(g, self.count(g)) for g in GROUPS if self.count(g)]


def mix_of(counters: Iterable[Mapping[str, int]]) -> LanguageMix:
    """The mix of several accounts' or officials' code counts together."""
    total: Counter[str] = Counter()
    for counter in counters:
        for code, count in counter.items():
            total[group_of(code)] += count
    return LanguageMix(dict(total))


async def account_mixes(
    session: AsyncSession, account_ids: Sequence[int], since: datetime, until: datetime | None
) -> dict[int, LanguageMix]:
    """Each account's mix of posts published in [since, until)."""
    counts = await language_counts(session, account_ids, since, until)
    return {a: mix_of([c]) for a, c in counts.items()}

"""Full-text search over every stored post version, the same on SQLite and PostgreSQL.

One job per module: :mod:`.query` (what was asked and its index expressions),
:mod:`.index` (the index's own tables), :mod:`.find` (which versions match; the SQLite
plan in :mod:`.sqlite_plan`), :mod:`.page` (an answer's counts and one page),
:mod:`.relevance` (the score of the relevance order), :mod:`.hits` (what a found version
shows) and :mod:`.saved` (searches too long for a button).
"""

from bot.store.search.find import latest_matches, search_versions
from bot.store.search.hits import (
    Hit,
    OfficialName,
    evidence_events,
    load_hits,
    official_names,
    version_texts,
)
from bot.store.search.index import (
    FTS_TABLE,
    SEARCH_TABLE,
    include_in_schema_diff,
    post_search,
    rebuild_index,
    version_time,
)
from bot.store.search.page import COUNT_CAP, ORDERS, SearchPage, Tally, search_page, tallied
from bot.store.search.query import (
    Clause,
    Query,
    fts5_query,
    matches,
    occurrences,
    parse_query,
    tsquery,
)
from bot.store.search.relevance import relevance, relevance_key
from bot.store.search.saved import (
    KEEP_SAVED,
    prune_saved_searches,
    save_search,
    saved_search,
)
from bot.store.search.scope import Filters, Match

__all__ = [
    "COUNT_CAP",
    "FTS_TABLE",
    "KEEP_SAVED",
    "ORDERS",
    "SEARCH_TABLE",
    "Clause",
    "Filters",
    "Hit",
    "Match",
    "OfficialName",
    "Query",
    "SearchPage",
    "Tally",
    "evidence_events",
    "fts5_query",
    "include_in_schema_diff",
    "latest_matches",
    "load_hits",
    "matches",
    "occurrences",
    "official_names",
    "parse_query",
    "post_search",
    "prune_saved_searches",
    "rebuild_index",
    "relevance",
    "relevance_key",
    "save_search",
    "saved_search",
    "search_page",
    "search_versions",
    "tallied",
    "tsquery",
    "version_texts",
    "version_time",
]

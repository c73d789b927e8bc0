"""Arguments of the subcommands whose parsers must not import their work.

``govwatch poll-once`` builds the whole parser before it runs, so what the parser needs
stays here, with nothing heavier than argparse and the domain's names.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.domain import Platform


def add_search(sub: Any, add: Any) -> None:
    """The ``search`` subcommand's arguments (``add`` makes a subparser with --config)."""
    parser: argparse.ArgumentParser = add(
        "search", "find stored posts (every version, deleted ones too) by their words"
    )
    parser.add_argument(
        "words", nargs="+", help="what to find, as in chat: 'тариф \"цены на газ\" -реклама'"
    )
    parser.add_argument("--period", default=None, help="only the last 7d, 30d, 1y...")
    parser.add_argument("--watchlist", default=None, help="only this watchlist's members")
    parser.add_argument("--official", default=None, help="only this official (name or #id)")
    parser.add_argument(
        "--platform", choices=[p.value for p in Platform], default=None, help="only this platform"
    )
    parser.add_argument(
        # bot.store.search.ORDERS: spelled out so the parser does not import the store.
        "--order",
        choices=("newest", "relevance"),
        default="newest",
        help="newest first, or most relevant first",
    )
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument(
        "--database", default=None, metavar="URL", help="database URL (default: the config's)"
    )


def add_languages(parser: argparse.ArgumentParser) -> None:
    """``--batch N`` and ``--limit N`` for ``db languages``."""
    parser.add_argument("--batch", type=int, default=None, metavar="N", help="versions per batch")
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="stop after about N versions"
    )


def add_wikidata(parser: argparse.ArgumentParser) -> None:
    """``import``'s Wikidata options."""
    parser.add_argument(
        "--wikidata", metavar="FILE", default=None, help="a saved SPARQL JSON result"
    )
    parser.add_argument(
        "--wikidata-query",
        metavar="FILE.rq",
        default=None,
        help="run this SPARQL query at [wikidata] endpoint and import the result",
    )
    parser.add_argument(
        "--watchlist",
        metavar="NAME",
        default=None,
        help="with --wikidata/--wikidata-query: put the members in this watchlist",
    )


def add_web(sub: Any, add: Any) -> None:
    """The ``web`` subcommand's arguments."""
    parser = add("web", "serve the public read-only web site ([web] in the config)")
    parser.add_argument("--database", default=None, metavar="URL", help="database URL")
    parser.add_argument("--listen", default=None, metavar="ADDRESS", help="override web.listen")
    parser.add_argument("--port", type=int, default=None, help="override web.port")

"""The ``govwatch`` command (also ``python -m bot``).

Every subcommand takes ``--config PATH`` before or after its name. User mistakes end in
one line on stderr and a non-zero exit, never a traceback. Each subcommand family lives
in its own module here; every one that needs the database opens it with
``bot.store.migrate.open_database``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.cli.arguments import add_languages, add_search, add_web, add_wikidata
from bot.config import Settings, load_settings, resolve_config_path
from bot.errors import ConfigError, GovwatchError, UserInputError

#: ``config check``'s and a bad configuration's exit status (as ``bot.cli.db.EXIT_USAGE``).
EXIT_USAGE = 2

Handler = Callable[[Settings, argparse.Namespace], int]


def _add_config(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Accepted before or after the subcommand; the subcommand's copy must not reset it.
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="config file (default: $GOVWATCH_CONFIG, then ./govwatch.toml)",
    )


def _add_workers(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--workers", type=int, default=None, metavar="N", help=help_text)
    # Set by the parent on the processes it starts (bot.cli.workers); not for people.
    parser.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="govwatch",
        description="Watch officials' public accounts and alert journalists in chat.",
    )
    _add_config(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_config(p, top=False)
        return p

    run = add("run", "migrate the database, then poll, detect, deliver and chat until stopped")
    _add_workers(run, "polling processes (default: scheduler.workers; 0 or unset: one per core)")

    demo = add("demo", "run a simulated world on loopback with a console chat (no tokens)")
    demo.add_argument(
        "--duration", type=float, default=None, metavar="S", help="stop after S seconds"
    )
    demo.add_argument(
        "--speed", type=float, default=60.0, metavar="X", help="world time per real second"
    )
    demo.add_argument("--no-input", action="store_true", help="print alerts, then a final /report")
    demo.add_argument("--telegram-token", default=None, help="also connect a real Telegram bot")
    demo.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="demo database (default: a temporary SQLite file)",
    )
    demo.add_argument(
        "--lang",
        choices=("ru", "kk", "en"),
        default=None,
        help="the console chat's language when it is new (then /lang decides)",
    )
    demo.add_argument(
        "--output", default=None, metavar="DIR", help="where charts are saved (default: here)"
    )

    db = add("db", "database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations")
    _add_config(up, top=False)

    prune = db_sub.add_parser(
        "prune", help="remove what [retention] no longer keeps (old snapshots, outbox rows...)"
    )
    _add_config(prune, top=False)
    prune.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    prune.add_argument(
        "--full", action="store_true", help="also remove posts older than retention.posts_after"
    )
    langs = db_sub.add_parser(
        "languages", help="identify the language of stored post versions that have none yet"
    )
    add_languages(langs)
    _add_config(langs, top=False)

    imp = add("import", "import a roster file (TOML or CSV), or a roster from Wikidata; idempotent")
    imp.add_argument("file", nargs="?", default=None, help="roster file (.toml or .csv)")
    imp.add_argument("--dry-run", action="store_true", help="validate only, change nothing")
    add_wikidata(imp)

    exp = add("export", "export the roster (or, with --what, data for analysts)")
    exp.add_argument(
        "--format", choices=("toml", "csv"), default=None, help="roster: toml (default) or csv"
    )
    exp.add_argument("--what", choices=("roster", "snapshots", "posts", "events"), default="roster")
    exp.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    exp.add_argument("--since", default=None, help="with --what: only rows after this (e.g. 30d)")

    probe = add("probe", "fetch (or parse a saved page) and show what the bot sees")
    target = probe.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a profile or channel URL")
    target.add_argument("--platform", help="platform name (with --handle)")
    probe.add_argument("--handle", help="account handle (the URL for rss and html)")
    probe.add_argument(
        "--file", action="append", default=[], metavar="SAVED", help="saved response"
    )
    probe.add_argument("--json", action="store_true", help="print JSON")
    probe.add_argument(
        "--selector",
        action="append",
        default=[],
        metavar="KEY=CSS",
        help="html only: a CSS selector (followers, posts_count, name, post, post_date, ...)",
    )

    poll = add("poll-once", "one polling pass, for cron-style use")
    which = poll.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="poll every account, due or not")
    which.add_argument("--account", type=int, metavar="ID", help="poll one account")
    _add_workers(poll, "polling processes sharing the pass (default: 1)")
    poll.add_argument("--since", default=None, help=argparse.SUPPRESS)

    ask = add("ask", "run one chat command through the console backend")
    ask.add_argument("text", help='the command, e.g. "/top"')
    ask.add_argument("--as-editor", action="store_true", help="run as an editor")
    ask.add_argument("--chat", default="console", metavar="ID", help="console chat id")
    ask.add_argument("--lang", choices=("ru", "kk", "en"), default=None, help="reply language")
    ask.add_argument(
        "--output", default=None, metavar="DIR", help="where charts are saved (default: here)"
    )

    ev = add("evidence", "write the evidence files (JSON and HTML) of one stored post")
    ev.add_argument("link", help="the post's link (or =EVENT_ID, the alert's event)")
    ev.add_argument("--out", default=".", metavar="DIR", help="where to write (default: here)")
    ev.add_argument(
        "--database", default=None, metavar="URL", help="database URL (default: the config's)"
    )
    ev.add_argument("--lang", choices=("ru", "kk", "en"), default=None, help="the page's language")
    add_search(sub, add)
    add_web(sub, add)

    cfg = add("config", "configuration tools")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cfg_sub.add_parser("check", help="validate the configuration")
    _add_config(check, top=False)
    return parser


# Each subcommand's module is imported only when it runs: ``poll-once`` must start fast,
# without the chat SDKs, charts or the demo that other subcommands need.
def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.run import run

    return run(settings, args)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.demo import demo

    return demo(settings, args)


def _db(settings: Settings, args: argparse.Namespace) -> int:
    if args.db_command == "languages":
        from bot.cli.languages import db_languages

        return db_languages(settings, args)
    from bot.cli.db import db_command

    return db_command(settings, args)


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.roster import import_roster

    return import_roster(settings, args)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.export import export

    return export(settings, args)


def _probe(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.probe import probe

    return probe(settings, args)


def _poll_once(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.poll import poll_once

    return poll_once(settings, args)


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.ask import ask

    return ask(settings, args)


def _evidence(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.evidence import evidence

    return evidence(settings, args)


def _search(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.search import search

    return search(settings, args)


def _web(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.web import web

    return web(settings, args)


#: The handler of every subcommand that runs with loaded settings (``config`` needs none).
HANDLERS: dict[str, Handler] = {
    "run": _run,
    "demo": _demo,
    "db": _db,
    "import": _import,
    "export": _export,
    "probe": _probe,
    "poll-once": _poll_once,
    "ask": _ask,
    "evidence": _evidence,
    "search": _search,
    "web": _web,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``govwatch`` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "config":
        from bot.cli.db import config_check

        return config_check(args)
    try:
        settings = load_settings(resolve_config_path(args.config))
    except ConfigError as exc:
        for file, key, reason in exc.problems:
            print(f"govwatch: {file}: {key}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return HANDLERS[args.command](settings, args)
    except UserInputError as exc:
        print(f"govwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GovwatchError as exc:
        print(f"govwatch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError

        if not isinstance(exc, OSError | DBAPIError):
            raise
        # e.g. the database server is not reachable: one line, no traceback
        detail = exc.orig if isinstance(exc, DBAPIError) else exc
        print(f"govwatch: error: {detail}".splitlines()[0], file=sys.stderr)
        return 1

"""Words in commands: the ``words:`` clause of /subscribe, and editors' watchwords
(``/watchlist words <watchlist> ...``), which mark matching posts in every alert of the
watchlist's members without changing who receives them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.auth import audit, editor_key
from bot.commands.context import CommandContext
from bot.detect.keywords import (
    MAX_ITEM_CHARS,
    MAX_ITEMS,
    MAX_PHRASE_WORDS,
    Query,
    QueryError,
    parse_words,
    stored_query,
)
from bot.i18n import t
from bot.notify.marks import shown_item
from bot.reply import Reply, ReplyBuilder, Span
from bot.store.keywords import set_watchwords, watchwords
from bot.store.watchlists import find_watchlist

#: What starts the words of /subscribe (ru, kk, en); "words:тариф" works too.
WORDS_MARKERS = ("words:", "слова:", "сөздер:")
#: The same without the colon, as /unsubscribe takes it ("/unsubscribe all words").
WORDS_BARE = frozenset(m.rstrip(":") for m in WORDS_MARKERS)
#: Arguments that clear a watchlist's watchwords.
CLEAR_WORDS = frozenset({"off", "clear", "-", "none"})


def split_words_clause(args: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """``(before, after)`` the ``words:`` marker, or None when there is none."""
    for index, arg in enumerate(args):
        lowered = arg.lower()
        marker = next((m for m in WORDS_MARKERS if lowered.startswith(m)), None)
        if marker is not None:
            rest = arg[len(marker) :].strip()
            return list(args[:index]), [*([rest] if rest else []), *args[index + 1 :]]
    return None


def query_error(locale: str, exc: QueryError) -> Reply:
    """Why the words cannot be used, with an example of ones that can."""
    limits = {
        "too_many": MAX_ITEMS,
        "too_long_item": MAX_ITEM_CHARS,
        "too_long_phrase": MAX_PHRASE_WORDS,
    }
    text = t(locale, f"keywords.error.{exc.code}", text=exc.text, limit=limits.get(exc.code, ""))
    return Reply.text(text, t(locale, "keywords.error.example"))


def shown_words(locale: str, query: Query) -> tuple[str, str]:
    """(wanted, excluded) items of ``query`` as the chat sees them, comma-separated."""
    wanted = ", ".join(shown_item(i, locale) for i in query.wanted)
    excluded = ", ".join(shown_item(i, locale).removeprefix("-") for i in query.excluded)
    return wanted, excluded


def words_summary(locale: str, stored: Sequence[str], *, label: bool = True) -> str:
    """ "words: тариф, «цены на газ»; except: реклама" for a stored list of items."""
    query = stored_query(stored)
    if query is None:
        return ", ".join(str(w) for w in stored)
    wanted, excluded = shown_words(locale, query)
    text = t(locale, "keywords.list.words", words=wanted) if label else wanted
    if excluded:
        text += "; " + t(locale, "keywords.list.except", words=excluded)
    return text


# --- /watchlist words ----------------------------------------------------------------------


async def cmd_watchlist_words(ctx: CommandContext, name: str, args: Sequence[str]) -> Reply:
    """Show, set or clear a watchlist's watchwords (changing them is for editors)."""
    if args and not ctx.is_editor:
        async with ctx.db.sessions() as session:
            audit(session, ctx.caller, "denied", target="/watchlist words")
            await session.commit()
        return Reply.text(t(ctx.locale, "chat.auth.editors_only"))
    query: Query | None = None
    if args and not (len(args) == 1 and args[0].lower() in CLEAR_WORDS):
        try:
            query = parse_words(args)
        except QueryError as exc:
            return query_error(ctx.locale, exc)
    async with ctx.db.sessions() as session:
        watchlist = await find_watchlist(session, name)
        if watchlist is None:
            return Reply.text(t(ctx.locale, "chat.watchlist.unknown", name=name))
        if not args:
            stored = await watchwords(session, watchlist.id)
            return _watchwords_reply(ctx.locale, watchlist.name, stored)
        new = query.stored() if query is not None else []
        old = await set_watchwords(session, watchlist.id, new, updated_by=editor_key(ctx.caller))
        audit(session, ctx.caller, "watchlist_words", target=watchlist.name,
              details={"old": old, "new": new})  # fmt: skip
        await session.commit()
    if query is None:
        return Reply.text(t(ctx.locale, "keywords.watchwords.cleared", watchlist=watchlist.name))
    return Reply.text(
        t(ctx.locale, "keywords.watchwords.set", watchlist=watchlist.name,
          words=words_summary(ctx.locale, new, label=False)),
        t(ctx.locale, "keywords.watchwords.effect"),
    )  # fmt: skip


def _watchwords_reply(locale: str, name: str, stored: Sequence[str]) -> Reply:
    if not stored:
        return Reply.text(
            t(locale, "keywords.watchwords.none", watchlist=name),
            t(locale, "keywords.watchwords.how", watchlist=name),
        )
    builder = ReplyBuilder().line(Span(t(locale, "keywords.watchwords.title", watchlist=name),
                                       bold=True))  # fmt: skip
    builder.line(words_summary(locale, stored, label=False))
    builder.line(t(locale, "keywords.watchwords.effect"))
    return builder.build()


async def watchwords_line(session: AsyncSession, locale: str, watchlist_id: int) -> str | None:
    """ "Watchwords: …" for ``/watchlist list <name>``, or None when it has none."""
    stored = await watchwords(session, watchlist_id)
    if not stored:
        return None
    words = words_summary(locale, stored, label=False)
    return t(locale, "keywords.watchwords.line", words=words)

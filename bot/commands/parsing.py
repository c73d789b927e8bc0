"""Reading what was typed: the command name, its words, event kinds and modes."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence

from bot.domain import OPERATOR_EVENTS, EventKind

#: Telegram's message limit; Slack's slash commands are shorter still.
MAX_COMMAND_CHARS = 4096
#: Words that mean "every official" in a subscription (ru, kk, en).
ALL_WORDS = frozenset({"all", "все", "всё", "барлығы", "барлыгы", "бәрі"})
KIND_ALIASES: Mapping[str, tuple[str, ...]] = {
    "posts": (EventKind.NEW_POST, EventKind.POST_EDITED, EventKind.POST_DELETED),
    "followers": (
        EventKind.FOLLOWERS_UP,
        EventKind.FOLLOWERS_DOWN,
        EventKind.FOLLOWERS_MILESTONE,
    ),
    "silence": (EventKind.WENT_SILENT, EventKind.BACK_FROM_SILENCE),
    "account": (
        EventKind.PROFILE_CHANGED,
        EventKind.ACCOUNT_MISSING,
        EventKind.ACCOUNT_RESTORED,
        EventKind.VISIBILITY_CHANGED,
    ),
    "sources": tuple(k for k in EventKind if k in OPERATOR_EVENTS),
    "same": (EventKind.COORDINATED_POSTS,),
}
_MODES = ("immediate", "digest")
_KINDS = frozenset(k.value for k in EventKind)
#: The one order event kinds are listed in: DESIGN.md's, which is ``EventKind``'s.
KIND_ORDER: Mapping[str, int] = {k.value: i for i, k in enumerate(EventKind)}
_QUOTES = str.maketrans("«»“”„", '"""""')


def split_command(text: str) -> tuple[str, list[str]]:
    """The command name (lower case, no slash or @bot suffix) and its arguments."""
    text = text.strip().translate(_QUOTES)
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.replace('"', " ").split()
    if not words:
        return "", []
    name = words[0].removeprefix("/").split("@", 1)[0].lower()
    return name, words[1:]


def parse_kinds(words: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """Split trailing event kinds (and a mode word) off ``words``: (rest, kinds, mode)."""
    rest, kinds, mode = list(words), list[str](), None
    while rest:
        word = rest[-1].lower().replace("-", "_")
        if word in _MODES:
            mode = word
        elif word in KIND_ALIASES:
            kinds[:0] = [str(k) for k in KIND_ALIASES[word]]
        elif word in _KINDS:
            kinds.insert(0, word)
        else:
            break
        rest.pop()
    return rest, ordered_kinds(kinds), mode


def ordered_kinds(kinds: Iterable[str]) -> list[str]:
    """``kinds`` without repeats, in the fixed ``EventKind`` order (unknown ones last)."""
    return sorted(dict.fromkeys(kinds), key=lambda k: (KIND_ORDER.get(k, len(KIND_ORDER)), k))


def kind_words() -> list[str]:
    """Every word ``parse_kinds`` accepts as a kind: the aliases, then each kind's name."""
    return [*KIND_ALIASES, *KIND_ORDER]


def modes_in(words: Sequence[str]) -> list[str]:
    """The mode words among ``words`` (more than one is a contradiction to point out)."""
    return [w.lower() for w in words if w.lower() in _MODES]


def subcommand(args: Sequence[str], default: str = "") -> str:
    """The first argument in lower case (``/watchlist ADD ...`` -> "add"), or ``default``."""
    return args[0].lower() if args else default

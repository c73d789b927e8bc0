"""Which language a page is in: ``?lang=`` when given, else the browser's Accept-Language."""

from __future__ import annotations

from bot.i18n import LOCALES


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an Accept-Language header, by its q-weights."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        code = tag.strip().lower().split("-")[0]
        code = "kk" if code == "kz" else code
        if code in LOCALES and weight > 0:
            choices.append((-weight, index, code))
    return min(choices)[2] if choices else None


def choose_locale(query: str | None, accept_language: str | None, default: str) -> str:
    """The page's language: an explicit ``?lang`` wins, then Accept-Language, then default."""
    if query in LOCALES:
        return query
    return from_accept_language(accept_language) or default

"""The language mix in words, for /official and /report: "Kazakh 40% · Russian 55% · …"."""

from __future__ import annotations

from bot.i18n import format_number, format_percent, plural, t
from bot.reports.languages import LanguageMix


def mix_text(locale: str, mix: LanguageMix) -> str:
    """The groups with posts and their shares, then how many posts were counted."""
    total = mix.total
    shares = " · ".join(
        t(
            locale,
            "lang.share",
            name=t(locale, f"lang.group.{group}"),
            percent=format_percent(count * 100.0 / total, locale),
        )
        for group, count in mix.shown()
    )
    posts = format_number(total, locale) + " " + plural(locale, total, t(locale, "lang.posts"))
    return t(locale, "lang.mix", shares=shares, posts=posts)


def mix_line(locale: str, key: str, mix: LanguageMix) -> str | None:
    """``key``'s sentence with the mix, or None when no post was counted."""
    if not mix.total:
        return None
    return t(locale, key, mix=mix_text(locale, mix))

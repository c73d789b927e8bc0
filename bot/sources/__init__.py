"""Sources: one module per platform, all behind the ``Source`` interface; plain registry.

A platform's module is imported the first time its class is asked for, by a plain
function-level import in its loader below: a ``poll-once`` over Telegram accounts loads
neither feedparser (RSS, YouTube) nor the API platforms' modules (issue 18: start-up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping

from bot.config import Settings
from bot.domain import Platform
from bot.net.client import HttpClient
from bot.sources.base import Source


def _telegram() -> type[Source]:
    from bot.sources.telegram import TelegramSource

    return TelegramSource


def _bluesky() -> type[Source]:
    from bot.sources.bluesky import BlueskySource

    return BlueskySource


def _mastodon() -> type[Source]:
    from bot.sources.mastodon import MastodonSource

    return MastodonSource


def _youtube() -> type[Source]:
    from bot.sources.youtube import YoutubeSource

    return YoutubeSource


def _rss() -> type[Source]:
    from bot.sources.rss import RssSource

    return RssSource


def _html() -> type[Source]:
    from bot.sources.html import HtmlSource

    return HtmlSource


def _facebook() -> type[Source]:
    from bot.sources.facebook import FacebookSource

    return FacebookSource


def _instagram() -> type[Source]:
    from bot.sources.instagram import InstagramSource

    return InstagramSource


def _x() -> type[Source]:
    from bot.sources.x import XSource

    return XSource


def _vk() -> type[Source]:
    from bot.sources.vk import VkSource

    return VkSource


Loader = Callable[[], type[Source]]


class Registry(MutableMapping[Platform, type[Source]]):
    """Every platform's Source class, its module imported when the class is first asked for."""

    def __init__(self, loaders: Mapping[Platform, Loader]) -> None:
        self._loaders = dict(loaders)
        self._classes: dict[Platform, type[Source]] = {}

    def __getitem__(self, platform: Platform) -> type[Source]:
        cls = self._classes.get(platform)
        if cls is None:
            cls = self._classes[platform] = self._loaders[platform]()
        return cls

    def __setitem__(self, platform: Platform, cls: type[Source]) -> None:
        self._loaders[platform] = lambda: cls
        self._classes[platform] = cls

    def __delitem__(self, platform: Platform) -> None:
        del self._loaders[platform]
        self._classes.pop(platform, None)

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


REGISTRY = Registry(
    {
        Platform.TELEGRAM: _telegram,
        Platform.BLUESKY: _bluesky,
        Platform.MASTODON: _mastodon,
        Platform.YOUTUBE: _youtube,
        Platform.RSS: _rss,
        Platform.HTML: _html,
        Platform.FACEBOOK: _facebook,
        Platform.INSTAGRAM: _instagram,
        Platform.X: _x,
        Platform.VK: _vk,
    }
)


class Sources(Mapping[Platform, Source]):
    """The enabled sources, sharing one HTTP client; each is built when first used."""

    def __init__(self, settings: Settings, http: HttpClient, platforms: list[Platform]) -> None:
        self._settings = settings
        self._http = http
        self._platforms = platforms
        self._built: dict[Platform, Source] = {}

    def __getitem__(self, platform: Platform) -> Source:
        source = self._built.get(platform)
        if source is None:
            if platform not in self._platforms:
                raise KeyError(platform)
            source = REGISTRY[platform](http=self._http, settings=self._settings)
            self._built[platform] = source
        return source

    def __contains__(self, platform: object) -> bool:
        return platform in self._platforms

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._platforms)

    def __len__(self) -> int:
        return len(self._platforms)


def build_sources(settings: Settings, http: HttpClient) -> Sources:
    """Every enabled source, sharing the one HTTP client (each built on first use)."""
    enabled = [p for p in REGISTRY if getattr(settings.sources, p.value).enabled]
    return Sources(settings, http, enabled)


__all__ = ["REGISTRY", "Registry", "Source", "Sources", "build_sources"]

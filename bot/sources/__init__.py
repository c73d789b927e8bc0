"""Sources: one module per platform, all behind the ``Source`` interface; plain registry."""

from __future__ import annotations

from bot.config import Settings
from bot.domain import Platform
from bot.net.client import HttpClient
from bot.sources.base import Source
from bot.sources.bluesky import BlueskySource
from bot.sources.facebook import FacebookSource
from bot.sources.html import HtmlSource
from bot.sources.instagram import InstagramSource
from bot.sources.mastodon import MastodonSource
from bot.sources.rss import RssSource
from bot.sources.telegram import TelegramSource
from bot.sources.vk import VkSource
from bot.sources.x import XSource
from bot.sources.youtube import YoutubeSource

REGISTRY: dict[Platform, type[Source]] = {
    cls.platform: cls
    for cls in (
        TelegramSource,
        BlueskySource,
        MastodonSource,
        YoutubeSource,
        RssSource,
        HtmlSource,
        FacebookSource,
        InstagramSource,
        XSource,
        VkSource,
    )
}


def build_sources(settings: Settings, http: HttpClient) -> dict[Platform, Source]:
    """One instance of every enabled source, sharing the one HTTP client."""
    sources: dict[Platform, Source] = {}
    for platform, cls in REGISTRY.items():
        if getattr(settings.sources, platform.value).enabled:
            sources[platform] = cls(http=http, settings=settings)
    return sources


__all__ = ["REGISTRY", "Source", "build_sources"]

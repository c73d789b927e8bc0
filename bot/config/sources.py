"""The sources' sections: what every platform shares, and each platform's own keys."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr

from bot.config.proxies import DIRECT, parse_proxy
from bot.config.values import Section


def _proxy_list(value: list[SecretStr]) -> list[SecretStr]:
    """Each entry a valid proxy URL or "direct", none twice (never quoting a URL)."""
    seen: set[str] = set()
    for index, item in enumerate(value):
        text = item.get_secret_value().strip()
        if text != DIRECT:
            try:
                parse_proxy(text)
            except ValueError as exc:
                raise ValueError(f"entry {index + 1}: {exc}") from None
        if text in seen:
            raise ValueError(f"entry {index + 1} is listed twice")
        seen.add(text)
    return value


class SourceSettings(Section):
    """Settings shared by every source section."""

    base_url: str | None = None
    per_host_rate: float | None = Field(default=None, gt=0)
    enabled: bool = True
    #: Egress addresses this platform's requests are spread over ("direct": our own);
    #: empty: every request goes out directly, as without this key.
    proxies: Annotated[list[SecretStr], AfterValidator(_proxy_list)] = Field(default_factory=list)
    #: Requests per second through each address to one host (None: per_host_rate).
    proxy_rate: float | None = Field(default=None, gt=0)


class TelegramSourceSettings(SourceSettings):
    base_url: str | None = "https://t.me"
    fetch_plain_page: bool = True


class BlueskySourceSettings(SourceSettings):
    base_url: str | None = "https://public.api.bsky.app"


class MastodonSourceSettings(SourceSettings):
    scheme: Literal["https", "http"] = "https"


class YoutubeSourceSettings(SourceSettings):
    base_url: str | None = "https://www.youtube.com"
    api_base_url: str = "https://www.googleapis.com/youtube/v3"
    api_key: SecretStr | None = None


class FacebookSourceSettings(SourceSettings):
    base_url: str | None = "https://graph.facebook.com/v21.0"
    access_token: SecretStr | None = None


class InstagramSourceSettings(SourceSettings):
    base_url: str | None = "https://graph.facebook.com/v21.0"
    access_token: SecretStr | None = None
    ig_user_id: str | None = None


class XSourceSettings(SourceSettings):
    base_url: str | None = "https://api.x.com/2"
    bearer_token: SecretStr | None = None


class VkSourceSettings(SourceSettings):
    base_url: str | None = "https://api.vk.com/method"
    service_token: SecretStr | None = None
    api_version: str = "5.199"


class SourcesSettings(Section):
    telegram: TelegramSourceSettings = TelegramSourceSettings()
    bluesky: BlueskySourceSettings = BlueskySourceSettings()
    mastodon: MastodonSourceSettings = MastodonSourceSettings()
    youtube: YoutubeSourceSettings = YoutubeSourceSettings()
    rss: SourceSettings = SourceSettings()
    html: SourceSettings = SourceSettings()
    facebook: FacebookSourceSettings = FacebookSourceSettings()
    instagram: InstagramSourceSettings = InstagramSourceSettings()
    x: XSourceSettings = XSourceSettings()
    vk: VkSourceSettings = VkSourceSettings()

# ruff: noqa: E501 - the templates keep the real pages' long lines verbatim
"""The one renderer of t.me pages: ``/s/<channel>``, the plain page and the contact page.

Pure functions from a :class:`TmeChannel` to page bytes, copying the markup of the real
pages (tests/data/telegram holds captures) that bot/sources/telegram.py parses. The demo
world, the test fakes and the benchmark world all serve their channels through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

PUBLIC = "https://t.me"
_TAIL_SVG = """        <i class="tgme_widget_message_bubble_tail">
      <svg class="bubble_icon" width="9px" height="20px" viewBox="0 0 9 20">
        <g fill="none">
          <path class="background" fill="#ffffff" d="M8,1 L9,1 L9,20 L8,20 L8,18 C7.8,15.2 7.1,12.2 5.9,9.2 C5,6.9 3.5,4.7 1.3,2.7 C0.9,2.4 0.9,1.7 1.3,1.3 C1.5,1.1 1.7,1 2,1 L8,1 Z"></path>
          <path class="border_1x" fill="#d7e3ec" d="M9,1 L2,1 C1.7,1 1.5,1.1 1.3,1.3 C0.9,1.7 0.9,2.4 1.3,2.7 C3.5,4.7 5,6.9 5.9,9.2 C7.1,12.2 7.8,15.2 8,18 L8,20 L9,20 L9,1 Z"></path>
          <path class="border_2x" d="M9,1 L2,1 C1.7,1 1.5,1.1 1.3,1.3 C0.9,1.7 0.9,2.4 1.3,2.7 C3.5,4.7 5,6.9 5.9,9.2 C7.1,12.2 7.8,15.2 8,18 L8,20 L9,20 L9,1 Z"></path>
          <path class="border_3x" d="M9,1 L2,1 C1.7,1 1.5,1.1 1.3,1.3 C0.9,1.7 0.9,2.4 1.3,2.7 C3.5,4.7 5,6.9 5.9,9.2 C7.1,12.2 7.8,15.2 8,18 L8,20 L9,20 L9,1 Z"></path>
        </g>
      </svg>
    </i>"""
_SCRIPTS = """    <script src="//telegram.org/js/jquery.min.js"></script>
    <script src="//telegram.org/js/jquery-ui.min.js"></script>
    <script src="//telegram.org/js/tgwallpaper.min.js?3"></script>
<script src="//telegram.org/js/tgsticker.js?31"></script>
    <script src="//telegram.org/js/widget-frame.js?66"></script>
    <script src="//telegram.org/js/telegram-web.js?14"></script>
    <script>TWeb.init();</script>"""


@dataclass(frozen=True, slots=True)
class TmePost:
    """One message of a ``/s/`` page; ``html`` is the message body, already markup."""

    id: int
    html: str
    published_at: datetime
    views: int | None = None
    edited: bool = False
    #: The base64 ``data-view`` attribute (it carries the channel id), when shown.
    data_view: str | None = None
    #: URL of a photo above the text.
    photo: str | None = None
    #: ``(emoji, count)`` reactions under the text.
    reactions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TmeChannel:
    """What a channel's pages show; ``posts`` are the ``/s/`` page's, oldest first."""

    handle: str
    title: str
    followers: int
    description: str = ""
    avatar: str | None = None
    verified: bool = False
    posts: tuple[TmePost, ...] = ()
    #: Older posts exist (the page links to ``?before=<first id>``).
    has_older: bool = False
    #: The ``/s/`` subscriber counter as shown; default: :func:`abbreviate` of followers.
    followers_text: str | None = None
    #: Counters after subscribers, as ``(value, kind)``: ``("1.12K", "photos")``.
    counters: tuple[tuple[str, str], ...] = ()
    #: The web preview (``/s/``) is on; when off, the plain page has no "Preview" link.
    preview: bool = True


def abbreviate(value: int) -> str:
    """Telegram's /s/ style with three significant digits: 912, 9.87K, 48.2K, 104K, 1.23M."""
    if value < 1000:
        return str(value)
    size, suffix = (1_000_000, "M") if value >= 1_000_000 else (1000, "K")
    scaled = value / size
    digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
    text = f"{scaled:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + suffix


def spaced(value: int) -> str:
    """An exact count with space separators, as on the plain t.me page ("48 213")."""
    return f"{value:,}".replace(",", " ")


def _stamp(when: datetime) -> tuple[str, str]:
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S+00:00"), utc.strftime("%H:%M")


def _reactions(post: TmePost) -> str:
    if not post.reactions:
        return ""
    spans = "".join(
        f'<span class="tgme_reaction"><i class="emoji" style="background-image:url(\'//telegram.org/img/emoji/40/{emoji.encode().hex().upper()}.png\')"><b>{emoji}</b></i>{count}</span>'
        for emoji, count in post.reactions
    )
    return f'\n<div class="tgme_widget_message_reactions js-message_reactions">{spans}</div>'


def _message(channel: TmeChannel, post: TmePost, title: str) -> str:
    handle, link = channel.handle, f"{PUBLIC}/{channel.handle}"
    view = f' data-view="{post.data_view}"' if post.data_view else ""
    img = f'<img src="{escape(channel.avatar)}">' if channel.avatar else ""
    photo = (
        f'\n<a class="tgme_widget_message_photo_wrap" href="{link}/{post.id}" style="width:800px;background-image:url(\'{escape(post.photo)}\')">\n  <div class="tgme_widget_message_photo" style="padding-top:66.625%"></div>\n</a>'
        if post.photo
        else ""
    )
    views = (
        f'<span class="tgme_widget_message_views">{abbreviate(post.views)}</span><span class="copyonly"> views</span>'
        if post.views is not None
        else ""
    )
    edited = "edited &nbsp;" if post.edited else ""
    iso, hhmm = _stamp(post.published_at)
    return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{handle}/{post.id}"{view}>
  <div class="tgme_widget_message_user"><a href="{link}"><i class="tgme_widget_message_user_photo bgcolor3" data-content="{title[:1]}">{img}</i></a></div>
  <div class="tgme_widget_message_bubble">
{_TAIL_SVG}
    <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="{link}"><span dir="auto">{title}</span></a></div>{photo}
<div class="tgme_widget_message_text js-message_text" dir="auto">{post.html}</div>{_reactions(post)}
<div class="tgme_widget_message_footer compact js-message_footer">
  <div class="tgme_widget_message_info short js-message_info">
    {views}<span class="tgme_widget_message_meta">{edited}<a class="tgme_widget_message_date" href="{link}/{post.id}"><time datetime="{iso}" class="time">{hhmm}</time></a></span>
  </div>
</div>
  </div>
</div></div>"""


def _head(channel: TmeChannel, title: str, description: str) -> str:
    handle = channel.handle
    image = escape(channel.avatar) if channel.avatar else ""
    og_image = f'\n<meta property="og:image" content="{image}">' if image else ""
    twitter_image = f'\n<meta property="twitter:image" content="{image}">' if image else ""
    first = channel.posts[0].id if channel.posts else 1
    after = channel.posts[-1].id + 1 if channel.posts else 1
    prev = f'\n    <link rel="prev" href="/s/{handle}?before={first}">' if channel.has_older else ""
    return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{title} – Telegram</title>
    <meta name="viewport" content="width=device-width, initial-scale=1.0, minimum-scale=1.0, maximum-scale=1.0, user-scalable=no" />
    <meta name="format-detection" content="telephone=no" />
    <meta name="MobileOptimized" content="176" />
    <meta name="HandheldFriendly" content="True" />
<meta property="og:title" content="{title}">{og_image}
<meta property="og:site_name" content="Telegram">
<meta property="og:description" content="{description}">
<meta property="twitter:title" content="{title}">{twitter_image}
<meta property="twitter:site" content="@Telegram">
<meta property="al:ios:app_store_id" content="686449807">
<meta property="al:ios:app_name" content="Telegram Messenger">
<meta property="al:ios:url" content="tg:resolve?domain={handle}">
<meta property="al:android:url" content="tg:resolve?domain={handle}">
<meta property="al:android:app_name" content="Telegram">
<meta property="al:android:package" content="org.telegram.messenger">
<meta name="twitter:card" content="summary">
<meta name="twitter:description" content="{description}
">{prev}
<link rel="canonical" href="/s/{handle}?before={after}">
    <link rel="icon" type="image/svg+xml" href="//telegram.org/img/website_icon.svg?4">
<link rel="apple-touch-icon" sizes="180x180" href="//telegram.org/img/apple-touch-icon.png">
<link rel="icon" type="image/png" sizes="32x32" href="//telegram.org/img/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="//telegram.org/img/favicon-16x16.png">
<link rel="alternate icon" href="//telegram.org/img/favicon.ico" type="image/x-icon" />
    <link href="//telegram.org/css/font-roboto.css?1" rel="stylesheet" type="text/css">
    <link href="//telegram.org/css/widget-frame.css?73" rel="stylesheet" media="screen">
    <link href="//telegram.org/css/telegram-web.css?39" rel="stylesheet" media="screen">
    <script>TBaseUrl='/';</script>
  </head>"""


def _channel_info(channel: TmeChannel, title: str, description: str) -> str:
    handle, shown = channel.handle, channel.followers_text or abbreviate(channel.followers)
    photo = (
        f'\n            <i class="tgme_page_photo_image bgcolor3" data-content="{title[:1]}"><img src="{escape(channel.avatar)}"></i>'
        if channel.avatar
        else ""
    )
    labels = (
        '\n              <div class="tgme_channel_info_header_labels"><i class="verified-icon"> ✔</i></div>'
        if channel.verified
        else ""
    )
    counters = "".join(
        f'<div class="tgme_channel_info_counter"><span class="counter_value">{value}</span> <span class="counter_type">{kind}</span></div>'
        for value, kind in ((shown, "subscribers"), *channel.counters)
    )
    about = (
        f'\n          <div class="tgme_channel_info_description">{description}</div>'
        if description
        else ""
    )
    return f"""        <div class="tgme_channel_info">
          <div class="tgme_channel_info_header">{photo}
            <div class="tgme_channel_info_header_title_wrap">
              <div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>{labels}
            </div>
            <div class="tgme_channel_info_header_username"><a href="{PUBLIC}/{handle}">@{handle}</a></div>
          </div>
          <div class="tgme_channel_info_counters">{counters}</div>{about}
          <div class="tgme_footer">
            <div class="tgme_footer_column"><h5><a href="//telegram.org/faq">About</a></h5></div>
            <div class="tgme_footer_column"><h5><a href="//telegram.org/blog">Blog</a></h5></div>
            <div class="tgme_footer_column"><h5><a href="//telegram.org/apps">Apps</a></h5></div>
          </div>
        </div>"""


def channel_page(channel: TmeChannel) -> bytes:
    """The ``t.me/s/<channel>`` page: header, counters and the given posts."""
    handle, title = channel.handle, escape(channel.title)
    description = escape(channel.description)
    shown = channel.followers_text or abbreviate(channel.followers)
    first = channel.posts[0].id if channel.posts else 1
    more = (
        f'\n      <div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{handle}?before={first}" class="tme_messages_more js-messages_more" data-before="{first}"></a></div>'
        if channel.has_older
        else ""
    )
    messages = "".join(_message(channel, post, title) for post in channel.posts)
    page = f"""{_head(channel, title, description)}
  <body class="widget_frame_base tgme_webpreview mobile emoji_image thin_box_shadow tme_mode no_transitions">
    <div class="tgme_background_wrap">
      <canvas id="tgme_background" class="tgme_background" width="50" height="50" data-colors="dbddbb,6ba587,d5d88d,88b884"></canvas>
      <div class="tgme_background_pattern"></div>
    </div>
    <header class="tgme_header search_collapsed">
  <div class="tgme_container">
    <div class="tgme_header_search">
      <form class="tgme_header_search_form" action="/s/{handle}">
        <input class="tgme_header_search_form_input js-header_search" placeholder="Search" name="q" autocomplete="off" value="" />
        <a href="/s/{handle}" class="tgme_header_search_form_clear"></a>
      </form>
    </div>
    <div class="tgme_header_right_column">
      <section class="tgme_right_column">
{_channel_info(channel, title, description)}
      </section>
    </div>
    <div class="tgme_header_info">
      <a class="tgme_header_link" href="{PUBLIC}/{handle}">
        <div class="tgme_header_title_wrap">
          <div class="tgme_header_title"><span dir="auto">{title}</span></div>
        </div>
        <div class="tgme_header_counter">{shown} subscribers</div>
      </a>
    </div>
  </div>
</header>
<main class="tgme_main" data-url="/{handle}">
  <div class="tgme_container">
    <section class="tgme_channel_history js-message_history">{more}
{messages}
    </section>
  </div>
</main>
{_SCRIPTS}
  </body>
</html>
"""
    return page.encode()


def _plain(head: str, body: str) -> bytes:
    return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    {head}
    <meta property="og:site_name" content="Telegram">
  </head>
  <body class="no_transition">
    <div class="tgme_page_wrap">
      <div class="tgme_body_wrap">
        <div class="tgme_page">
{body}
        </div>
      </div>
    </div>
  </body>
</html>
""".encode()


def plain_page(channel: TmeChannel) -> bytes:
    """The plain ``t.me/<channel>`` page with the exact subscriber count."""
    handle, title = channel.handle, escape(channel.title)
    description = escape(channel.description)
    head = f'<title>Telegram: View @{handle}</title>\n    <meta property="og:title" content="{title}">\n    <meta property="og:description" content="{description}">'
    photo = ""
    if channel.avatar:
        image = escape(channel.avatar)
        head += f'\n    <meta property="og:image" content="{image}">'
        photo = f'          <div class="tgme_page_photo"><a href="tg://resolve?domain={handle}"><img class="tgme_page_photo_image" src="{image}"></a></div>\n'
    verified = '<i class="verified-icon"></i>' if channel.verified else ""
    body = f"""{photo}<div class="tgme_page_title" dir="auto">
  <span dir="auto">{title}</span>{verified}
</div>
<div class="tgme_page_extra">{spaced(channel.followers)} subscribers</div>
<div class="tgme_page_description" dir="auto">{description}</div>"""
    if channel.preview:
        body += f"""
<div class="tgme_page_context_link_wrap"><a class="tgme_page_context_link" href="/s/{handle}">Preview channel</a></div>"""
    return _plain(head, body)


def contact_page(name: str) -> bytes:
    """The page t.me shows for a name that is no channel (no title, a contact link)."""
    safe = escape(name)
    head = f'<title>Telegram: Contact @{safe}</title>\n<meta name="robots" content="noindex, nofollow">'
    body = f"""<div class="tgme_page_icon"><i class="tgme_icon_user"></i></div>
<div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact <a class="tgme_username_link" href="tg://resolve?domain={safe}">@{safe}</a> right away.</div>"""
    return _plain(head, body)

"""`govwatch probe --file` over every saved sample, through the real command line."""

from __future__ import annotations

import argparse
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.cli import main as cli_main
from bot.config import load_settings
from bot.domain import AccountRef, Platform
from bot.errors import FetchError
from bot.net.client import HttpClient
from bot.sources import REGISTRY, probe

DATA = Path(__file__).parent / "data"
KEYS = [
    "platform",
    "handle",
    "status",
    "reason",
    "display_name",
    "followers",
    "followers_exact",
    "posts_count",
    "posts",
    "fetched_at",
    "detail",
    "visibility",
]
POST_KEYS = ["id", "url", "published_at", "text", "views", "edited", "forwarded_from"]


def _probe(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = cli_main(["probe", *args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    doc: dict[str, Any] = json.loads(out)
    assert list(doc) == KEYS
    for post in doc["posts"]:
        assert list(post) == POST_KEYS
    return doc


def _files(*names: str) -> list[str]:
    args: list[str] = []
    for name in names:
        args += ["--file", str(DATA / name)]
    return args


# (target, files, status, reason, followers, exact, posts_count, number of posts, first id)
CASES: list[
    tuple[
        list[str], list[str], str, str | None, int | None, bool | None, int | None, int, str | None
    ]
] = [
    (
        ["--url", "https://t.me/varga_zarechye"],
        ["telegram/tme_s_channel_page_10_posts.html"],
        "ok",
        None,
        48200,
        False,
        None,
        10,
        "1484",
    ),
    (
        ["--url", "https://t.me/s/varga_zarechye"],
        [
            "telegram/tme_s_channel_page_10_posts.html",
            "telegram/tme_plain_channel_page_spaces_count.html",
        ],
        "ok",
        None,
        48213,
        True,
        None,
        10,
        "1484",
    ),
    (
        ["--platform", "telegram", "--handle", "gromov_official"],
        [
            "telegram/tme_s_large_channel_before_90231.html",
            "telegram/tme_plain_channel_page_millions.html",
        ],
        "ok",
        None,
        1234567,
        True,
        None,
        4,
        "90230",
    ),
    (
        ["--platform", "telegram", "--handle", "orlova_deputat"],
        ["telegram/tme_s_small_new_channel_start_of_history.html"],
        "ok",
        None,
        23,
        True,
        None,
        2,
        "3",
    ),
    (
        ["--platform", "telegram", "--handle", "orlova_deputat"],
        ["telegram/tme_s_before_1_no_posts_found.html"],
        "unknown",
        "no_posts_found",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--platform", "telegram", "--handle", "varga_zarechye"],
        ["telegram/tme_plain_channel_page_spaces_count.html"],
        "ok",
        None,
        48213,
        True,
        None,
        0,
        None,
    ),
    (
        ["--platform", "telegram", "--handle", "gromov_official"],
        ["telegram/tme_plain_channel_page_millions.html"],
        "ok",
        None,
        1234567,
        True,
        None,
        0,
        None,
    ),
    (
        ["--platform", "telegram", "--handle", "zarechye_chat"],
        ["telegram/tme_plain_group_page_members_online.html"],
        "absent",
        "is_group",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--platform", "telegram", "--handle", "zar_gubernator_old"],
        ["telegram/tme_nonexistent_contact_page_after_302.html"],
        "absent",
        "not_found",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--platform", "telegram", "--handle", "zar_minstroy"],
        ["telegram/tme_preview_disabled_channel_after_302.html"],
        "ok",
        None,
        6905,
        True,
        None,
        0,
        None,
    ),
    (
        ["--url", "https://bsky.app/profile/mayorwhitfield.bsky.social"],
        ["bluesky/getProfile.json", "bluesky/getAuthorFeed.json"],
        "ok",
        None,
        18342,
        True,
        1207,
        5,
        "3lplrbkz6x22c",
    ),
    (
        ["--platform", "bluesky", "--handle", "gone.bsky.social"],
        ["bluesky/getProfile_404_profile_not_found.json"],
        "absent",
        "not_found",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--platform", "bluesky", "--handle", "busy.bsky.social"],
        ["bluesky/error_429_rate_limited.json"],
        "unknown",
        "rate_limited",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--url", "https://civic.example/@cllr_nandakumar"],
        ["mastodon/accounts_lookup.json", "mastodon/accounts_statuses.json"],
        "ok",
        None,
        3718,
        True,
        1954,
        5,
        "116502218734120957",
    ),
    (
        ["--platform", "mastodon", "--handle", "x@civic.example"],
        ["mastodon/accounts_lookup_404.json"],
        "absent",
        "not_found",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--platform", "mastodon", "--handle", "x@civic.example"],
        ["mastodon/accounts_statuses_401_whitelist_mode.json"],
        "unknown",
        "login_wall",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--platform", "mastodon", "--handle", "x@civic.example"],
        ["mastodon/error_429_too_many_requests.json"],
        "unknown",
        "rate_limited",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--platform", "rss", "--handle", "https://civic.example/@cllr_nandakumar.rss"],
        ["mastodon/user.rss"],
        "ok",
        None,
        None,
        None,
        None,
        3,
        "https://civic.example/@cllr_nandakumar/116502218734120957",
    ),
    (
        ["--url", "https://www.youtube.com/channel/UCq7ZtR3xWn0pLk5vHd2mFbA"],
        ["youtube/feeds_videos_channel_id.xml", "youtube/channels_list_statistics.json"],
        "ok",
        None,
        48200,
        False,
        312,
        3,
        "Kp3vX9wQm2E",
    ),
    (
        ["--platform", "youtube", "--handle", "UCq7ZtR3xWn0pLk5vHd2mFbA"],
        ["youtube/feeds_videos_channel_id.xml"],
        "ok",
        None,
        None,
        None,
        None,
        3,
        "Kp3vX9wQm2E",
    ),
    (
        ["--platform", "youtube", "--handle", "@nosuchhandle"],
        ["youtube/channels_list_forHandle_not_found.json"],
        "absent",
        "not_found",
        None,
        None,
        None,
        0,
        None,
    ),
    (
        ["--url", "https://zarechye-gov.example/press/rss.xml"],
        ["generic/gov_press_releases.rss"],
        "ok",
        None,
        None,
        None,
        None,
        3,
        "press-20260507-0412",
    ),
    (
        ["--platform", "rss", "--handle", "https://portcallow.example/news.atom"],
        ["generic/gov_press_releases.atom"],
        "ok",
        None,
        None,
        None,
        None,
        2,
        "tag:portcallow.example,2026-05-05:news/1187",
    ),
    (
        [
            "--platform",
            "html",
            "--handle",
            "https://gov.example/varga",
            "--selector",
            "followers=.stat--followers .stat__value",
            "--selector",
            "posts_count=.stat--posts .stat__value",
            "--selector",
            "post=.news-item",
            "--selector",
            "post_text=a",
        ],
        ["generic/official_profile_page_with_counter.html"],
        "ok",
        None,
        35000,
        False,
        1207,
        2,
        "4412",
    ),
    (
        ["--platform", "html", "--handle", "https://gov.example/varga"],
        ["generic/official_profile_page_with_counter.html"],
        "unknown",
        "no_selectors",
        None,
        None,
        None,
        0,
        None,
    ),
]


@pytest.mark.parametrize(
    (
        "target",
        "files",
        "status",
        "reason",
        "followers",
        "exact",
        "posts_count",
        "n_posts",
        "first_id",
    ),
    CASES,
)
def test_probe_file(
    capsys: pytest.CaptureFixture[str],
    target: list[str],
    files: list[str],
    status: str,
    reason: str | None,
    followers: int | None,
    exact: bool | None,
    posts_count: int | None,
    n_posts: int,
    first_id: str | None,
) -> None:
    doc = _probe(capsys, *target, *_files(*files))
    assert (doc["status"], doc["reason"]) == (status, reason)
    assert (doc["followers"], doc["followers_exact"], doc["posts_count"]) == (
        followers,
        exact,
        posts_count,
    )
    assert len(doc["posts"]) == n_posts
    if first_id is not None:
        assert doc["posts"][0]["id"] == first_id
    dates = [p["published_at"] for p in doc["posts"] if p["published_at"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert all(d.endswith("Z") for d in [*dates, doc["fetched_at"]])


def test_probe_telegram_post_marks(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _probe(
        capsys,
        "--url",
        "https://t.me/varga_zarechye",
        *_files("telegram/tme_s_channel_page_10_posts.html"),
    )
    posts = {p["id"]: p for p in doc["posts"]}
    assert posts["1484"] == {
        "id": "1484",
        "url": "https://t.me/varga_zarechye/1484",
        "published_at": "2026-05-06T17:59:27Z",
        "text": posts["1484"]["text"],
        "views": 912,
        "edited": False,
        "forwarded_from": None,
    }
    assert posts["1476"]["edited"] is True
    assert posts["1475"]["forwarded_from"] == "Заречная областная дума"
    assert posts["1474"]["views"] == 12300
    assert posts["1473"]["views"] == 9870


def test_probe_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(
        [
            "probe",
            "--url",
            "https://t.me/varga_zarechye",
            *_files("telegram/tme_s_channel_page_10_posts.html"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "48200 (rounded, ±100)" in out
    assert "[edited]" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--platform", "telegram", "--handle", "x", "--file", "/nonexistent/page.html"],
        ["--platform", "html", "--handle", "https://gov.example/", "--selector", "nonsense"],
        ["--platform", "nosuch", "--handle", "x", "--file", str(DATA / "mastodon/user.rss")],
        ["--platform", "telegram", "--file", str(DATA / "mastodon/user.rss")],
    ],
)
def test_probe_user_mistakes_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code = cli_main(["probe", *args])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


_TME_PAGES = {
    "/s/varga_zarechye": "telegram/tme_s_channel_page_10_posts.html",
    "/varga_zarechye": "telegram/tme_plain_channel_page_spaces_count.html",
}


class _TMe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        name = _TME_PAGES.get(self.path)
        body = (DATA / name).read_bytes() if name else b"not here"
        self.send_response(200 if name else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def tme() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TMe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_probe_live_fetch(tme: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(
        None,
        http={"allow_private_networks": True, "per_host_rate": 100.0},
        sources={"telegram": {"base_url": tme}},
    )
    args = argparse.Namespace(
        url=None, platform="telegram", handle="varga_zarechye", file=[], json=True, selector=[]
    )
    assert probe.main(settings, args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["status"], doc["followers"], doc["followers_exact"]) == ("ok", 48213, True)
    assert len(doc["posts"]) == 10


def test_probe_live_refuses_loopback_by_default(
    tme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(None, sources={"telegram": {"base_url": tme}})
    args = argparse.Namespace(
        url=None, platform="telegram", handle="varga_zarechye", file=[], json=True, selector=[]
    )
    assert probe.main(settings, args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["status"], doc["reason"], doc["followers"]) == ("unknown", "blocked_address", None)


def test_probe_telegram_unreadable_plain_page_keeps_the_rounded_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # As the poller does: the plain page only ever adds the exact count.
    doc = _probe(
        capsys,
        "--url",
        "https://t.me/varga_zarechye",
        *_files("telegram/tme_s_channel_page_10_posts.html", "mastodon/user.rss"),
    )
    assert (doc["status"], doc["followers"], doc["followers_exact"]) == ("ok", 48200, False)
    assert len(doc["posts"]) == 10


# --- the cause of an unknown, in words (issue 15) ------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NoSuchName(AbstractResolver):
    """A DNS that knows no name: answers as the system resolver does for ``.invalid``."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        return None


def test_probe_names_the_refused_connection(capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    settings = load_settings(
        None,
        http={"allow_private_networks": True},
        sources={"telegram": {"base_url": f"http://127.0.0.1:{port}"}},
    )
    args = argparse.Namespace(
        url=None, platform="telegram", handle="varga_zarechye", file=[], json=False, selector=[]
    )
    assert probe.main(settings, args) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        f"telegram varga_zarechye: unknown (network: connection refused by 127.0.0.1:{port})"
    )
    args.json = True
    assert probe.main(settings, args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == KEYS
    assert (doc["status"], doc["reason"]) == ("unknown", "network")
    assert doc["detail"] == f"connection refused by 127.0.0.1:{port}"


def test_probe_detail_never_carries_the_url_or_its_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = _closed_port()
    url = f"http://127.0.0.1:{port}/feed.rss?key=SeCrEtKeY123456"
    settings = load_settings(None, http={"allow_private_networks": True})
    args = argparse.Namespace(url=None, platform="rss", handle=url, file=[], json=True, selector=[])
    assert probe.main(settings, args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["detail"] == f"connection refused by 127.0.0.1:{port}"
    assert "SeCrEt" not in doc["detail"]


async def test_a_dns_failure_is_carried_as_data_and_shown_in_words() -> None:
    settings = load_settings(None, http={"allow_private_networks": True})
    async with HttpClient(settings.http, resolver=NoSuchName()) as http:
        with pytest.raises(FetchError) as caught:
            await http.get("http://example.invalid/feed.rss")
        assert (caught.value.reason, caught.value.detail) == (
            "network",
            "could not resolve host example.invalid",
        )
        source = REGISTRY[Platform.RSS](http=http, settings=settings)
        seen = await source.fetch(AccountRef(Platform.RSS, "http://example.invalid/feed.rss"))
    assert (seen.reason, seen.detail) == ("network", "could not resolve host example.invalid")
    assert probe.render_text(seen).splitlines()[0] == (
        "rss http://example.invalid/feed.rss: "
        "unknown (network: could not resolve host example.invalid)"
    )
    assert probe.to_json(seen)["detail"] == "could not resolve host example.invalid"


def test_a_missing_token_is_named_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(None)
    args = argparse.Namespace(
        url=None, platform="x", handle="someone", file=[], json=True, selector=[]
    )
    assert probe.main(settings, args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["reason"], doc["detail"]) == (
        "token_required",
        "sources.x.bearer_token is not set",
    )


# --- an unreadable optional answer leaves the first one standing (issue 16) -----------------

S_PAGE = "telegram/tme_s_channel_page_10_posts.html"


@pytest.mark.parametrize(
    "second", ["/nonexistent/tme_plain_page.html", str(DATA / "telegram")], ids=["gone", "a dir"]
)
def test_probe_unreadable_optional_plain_page_leaves_the_first_result(
    capsys: pytest.CaptureFixture[str], second: str
) -> None:
    alone = _probe(capsys, "--url", "https://t.me/varga_zarechye", *_files(S_PAGE))
    args = ["--url", "https://t.me/varga_zarechye", *_files(S_PAGE), "--file", second]
    code = cli_main(["probe", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0
    doc = json.loads(captured.out)
    assert (doc["status"], doc["followers"], doc["followers_exact"]) == ("ok", 48200, False)
    assert {**doc, "fetched_at": None} == {**alone, "fetched_at": None}
    warning = captured.err.strip().splitlines()
    assert len(warning) == 1
    assert second in warning[0]
    assert "read without it" in warning[0]


def test_probe_unreadable_first_file_is_still_a_mistake(capsys: pytest.CaptureFixture[str]) -> None:
    target = ["--platform", "telegram", "--handle", "varga_zarechye"]
    code = cli_main(["probe", *target, "--file", "/nonexistent/s.html", *_files(S_PAGE)])
    assert code != 0
    assert "cannot read /nonexistent/s.html" in capsys.readouterr().err


def test_read_files_stops_at_the_first_unreadable_optional_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, third = str(DATA / S_PAGE), str(DATA / "mastodon/user.rss")
    bodies = probe.read_files([first, "/nonexistent/second", third])
    assert bodies == [(DATA / S_PAGE).read_bytes()]  # the third would be read as the second
    assert "2 optional files left out" in capsys.readouterr().err


def test_probe_mastodon_url_keeps_its_scheme_and_port(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    statuses = json.loads((DATA / "mastodon/accounts_statuses.json").read_bytes())
    statuses[0]["url"] = None  # a server that leaves the link out
    saved = tmp_path / "statuses.json"
    saved.write_text(json.dumps(statuses))
    doc = _probe(
        capsys,
        "--url",
        "http://civic.example:8080/@cllr_nandakumar",
        *_files("mastodon/accounts_lookup.json"),
        "--file",
        str(saved),
    )
    assert doc["posts"][0]["url"] == (
        "http://civic.example:8080/@cllr_nandakumar/116502218734120957"
    )


def test_probe_text_output_marks_reposts(capsys: pytest.CaptureFixture[str]) -> None:
    saved = _files("bluesky/getProfile.json", "bluesky/getAuthorFeed.json")
    code = cli_main(
        ["probe", "--url", "https://bsky.app/profile/mayorwhitfield.bsky.social", *saved]
    )
    out = capsys.readouterr().out
    assert code == 0
    (line,) = [line for line in out.splitlines() if "3lpk2ab7c5s2h" in line]
    assert "[repost]" in line
    assert "2026-05-04T19:03:10Z" in line

"""Egress through proxy pools, against real loopback forward proxies (tests/fakes/proxy.py).

The world (tests/fakes/world.py) stands behind the proxies. Tests of the SSRF guard use
the seam of test_net_client.py: 127.0.0.1 stands in for the public internet while every
other loopback address stays forbidden; the proxies themselves listen on 127.0.0.3, a
"private" address, which is allowed because proxies are the operator's configuration.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.config import HttpSettings, Settings, load_settings
from bot.domain import AccountRef, Platform, Status
from bot.errors import BlockedAddress, ConfigError, FetchError
from bot.net import guard
from bot.net.client import HttpClient
from bot.sources.telegram import TelegramSource
from tests.fakes.hostile_server import HostileServer
from tests.fakes.proxy import FakeProxy
from tests.fakes.world import World

PUBLIC = "127.0.0.1"  # stands in for a public server in the guarded tests
PROXY_HOST = "127.0.0.3"  # a "private" address: fine for a proxy


def _http(**overrides: Any) -> HttpSettings:
    values: dict[str, Any] = {"per_host_rate": 1000.0, "timeout": "3s"}
    values.update(overrides)
    values.setdefault("allow_private_networks", True)
    return HttpSettings(**values)


def _settings(world: World, proxies: list[str], **telegram: Any) -> Settings:
    return load_settings(
        None,
        http={"allow_private_networks": True, "per_host_rate": 1000.0, "timeout": "3s"},
        sources={
            "telegram": {
                "base_url": world.url(),
                "fetch_plain_page": False,
                "proxies": proxies,
                **telegram,
            }
        },
    )


class Names(AbstractResolver):
    """A DNS of fixed answers: world.test is "public", internal.test is not."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = self.answers[host]
        return [
            ResolveResult(
                hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
def public_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    real = guard.refusal

    def refusal(ip: guard.IPAddress) -> str | None:
        return None if ip == ipaddress.ip_address(PUBLIC) else real(ip)

    monkeypatch.setattr(guard, "refusal", refusal)


@pytest.fixture
async def proxy_a() -> AsyncIterator[FakeProxy]:
    async with FakeProxy(PROXY_HOST) as proxy:
        yield proxy


@pytest.fixture
async def proxy_b() -> AsyncIterator[FakeProxy]:
    async with FakeProxy(PROXY_HOST) as proxy:
        yield proxy


@pytest.fixture
def channel(world: World) -> str:
    world.add_telegram("chan", name="Chan", followers=4200).post("hello")
    return "chan"


def _account(handle: str) -> AccountRef:
    return AccountRef(platform=Platform.TELEGRAM, handle=handle)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((PROXY_HOST, 0))
        return int(sock.getsockname()[1])


# --- no proxies: exactly today's client ---------------------------------------------------


async def test_without_proxies_the_source_reads_directly(
    world: World, channel: str, proxy_a: FakeProxy
) -> None:
    settings = _settings(world, [])
    async with HttpClient(settings.http) as http:
        source = TelegramSource(http=http, settings=settings)
        assert source.http is http
        assert http.via([]) is http
        observation = await source.fetch(_account(channel))
    assert observation.status is Status.OK
    assert world.requests[f"telegram:{channel}"] == 1
    assert proxy_a.requests == 0


# --- spreading ----------------------------------------------------------------------------


async def test_requests_are_spread_over_the_pool(
    world: World, channel: str, proxy_a: FakeProxy, proxy_b: FakeProxy
) -> None:
    settings = _settings(world, [proxy_a.url, proxy_b.url])
    async with HttpClient(settings.http) as http:
        source = TelegramSource(http=http, settings=settings)
        for _ in range(4):
            assert (await source.fetch(_account(channel))).status is Status.OK
        burst = await asyncio.gather(*(source.fetch(_account(channel)) for _ in range(8)))
    assert all(o.status is Status.OK for o in burst)
    assert (proxy_a.served, proxy_b.served) == (6, 6)
    assert world.requests[f"telegram:{channel}"] == 12
    # The proxy was asked for the page by its absolute URL, as forward proxies are.
    assert proxy_a.targets[0] == f"{world.url()}/s/{channel}"


async def test_each_address_keeps_its_own_rate(
    world: World, channel: str, proxy_a: FakeProxy, proxy_b: FakeProxy
) -> None:
    # 0.5 requests/s through each address (the direct rate stays 1000/s): of four
    # requests at once, each address carries one now and the next 2 s later.
    settings = _settings(world, [proxy_a.url, proxy_b.url], proxy_rate=0.5)
    async with HttpClient(settings.http) as http:
        source = TelegramSource(http=http, settings=settings)
        tasks = [asyncio.create_task(source.fetch(_account(channel))) for _ in range(4)]
        async with asyncio.timeout(10):
            while not (proxy_a.served and proxy_b.served):
                await asyncio.sleep(0.01)
        assert (proxy_a.requests, proxy_b.requests) == (1, 1)  # both at once: two budgets
        assert sum(task.done() for task in tasks) <= 2  # the other two wait for their slot
        results = await asyncio.gather(*tasks)
    assert all(o.status is Status.OK for o in results)
    assert (proxy_a.requests, proxy_b.requests) == (2, 2)
    for proxy in (proxy_a, proxy_b):
        # Paced from when each request starts: its second one started 2 s after the first.
        assert proxy.arrivals[1] - proxy.arrivals[0] >= 1.5


async def test_direct_may_be_one_address_of_the_pool(
    world: World, channel: str, proxy_a: FakeProxy
) -> None:
    settings = _settings(world, ["direct", proxy_a.url])
    async with HttpClient(settings.http) as http:
        source = TelegramSource(http=http, settings=settings)
        for _ in range(4):
            assert (await source.fetch(_account(channel))).status is Status.OK
    assert proxy_a.served == 2
    assert world.requests[f"telegram:{channel}"] == 4


async def test_platforms_listing_one_proxy_share_its_state(proxy_a: FakeProxy) -> None:
    async with HttpClient(_http()) as http:
        one, two = http.via([proxy_a.url]), http.via([f" {proxy_a.url} "])
        assert one is not http
        first, second = vars(one)["pool"].egresses[0], vars(two)["pool"].egresses[0]
        assert first is second
        assert first.label == f"proxy {PROXY_HOST}:{proxy_a.port}"


# --- throttling: one address cools down, the others carry on -----------------------------


async def test_a_proxy_answering_429_cools_down_only_itself(
    world: World, channel: str, proxy_a: FakeProxy, proxy_b: FakeProxy
) -> None:
    proxy_a.throttle(retry_after="1")
    settings = _settings(world, [proxy_a.url, proxy_b.url])
    async with HttpClient(settings.http) as http:
        source = TelegramSource(http=http, settings=settings)
        # The first request meets the 429 and moves to the other address at once.
        first = await source.fetch(_account(channel))
        assert first.status is Status.OK
        assert (proxy_a.throttled, proxy_b.served) == (1, 1)
        for _ in range(5):
            assert (await source.fetch(_account(channel))).status is Status.OK
        # While it cools down the throttled address is asked nothing.
        assert proxy_a.requests == 1
        assert proxy_b.served == 6
        assert http.cooling_hosts() == 1
        proxy_a.throttle(0)  # its wait is over as far as the platform is concerned
        await asyncio.sleep(1.1)
        for _ in range(4):
            assert (await source.fetch(_account(channel))).status is Status.OK
    # After its Retry-After the cooled address is used again, for its share.
    assert proxy_a.served == 2
    assert proxy_b.served == 8


async def test_every_address_throttled_fails_fast_as_rate_limited(
    world: World, channel: str, proxy_a: FakeProxy, proxy_b: FakeProxy
) -> None:
    proxy_a.throttle(retry_after="40")
    proxy_b.throttle(retry_after="30")
    settings = _settings(world, [proxy_a.url, proxy_b.url])
    async with HttpClient(settings.http) as http:
        source = TelegramSource(http=http, settings=settings)
        first = await source.fetch(_account(channel))
        second = await source.fetch(_account(channel))
    for observation in (first, second):
        assert observation.status is Status.UNKNOWN  # never absent, never "0 followers"
        assert observation.reason == "rate_limited"
        assert observation.followers is None
        # The pool can send again when its first address may: about 30 s.
        assert observation.retry_after == pytest.approx(30, abs=2)
    assert "through proxy" in (first.detail or "")
    assert (proxy_a.requests, proxy_b.requests) == (1, 1)  # the second poll asked no one
    assert world.requests[f"telegram:{channel}"] == 0


async def test_a_failing_proxy_rests_and_its_share_moves(
    world: World, channel: str, proxy_b: FakeProxy
) -> None:
    async with FakeProxy(PROXY_HOST, credentials=("agent", "right-pass")) as strict:
        dead = f"http://agent:gone-pass@{PROXY_HOST}:{_closed_port()}"
        refused = strict.url_with("agent", "wrong-pass")
        settings = _settings(world, [dead, refused, proxy_b.url])
        async with HttpClient(settings.http) as http:
            source = TelegramSource(http=http, settings=settings)
            for _ in range(4):
                assert (await source.fetch(_account(channel))).status is Status.OK
    # The unreachable and the refusing proxy each failed once, then rested.
    assert strict.requests == 1
    assert strict.refused == 1
    assert proxy_b.served == 4


# --- the SSRF guard applies to the target, never to the proxy ----------------------------


@pytest.mark.usefixtures("public_loopback")
async def test_private_targets_are_refused_through_a_proxy_as_directly(
    proxy_a: FakeProxy,
) -> None:
    names = Names({"world.test": PUBLIC, "internal.test": "127.0.0.2"})
    async with HostileServer(PUBLIC) as public, HostileServer("127.0.0.2") as inside:
        public.redirect_to = f"http://internal.test:{inside.port}/ok"
        targets = [
            f"http://internal.test:{inside.port}/ok",  # a name resolving to a private address
            f"http://127.0.0.2:{inside.port}/ok",  # a private address written out
            "http://169.254.169.254/latest/meta-data/",  # cloud metadata
            f"http://world.test:{public.port}/redirect",  # a public page redirecting inside
        ]
        settings = _http(allow_private_networks=False)
        async with HttpClient(settings, resolver=names) as http:
            pooled = http.via([proxy_a.url])
            for url in targets:
                with pytest.raises(BlockedAddress) as direct_refusal:
                    await http.get(url)
                with pytest.raises(BlockedAddress) as proxied_refusal:
                    await pooled.get(url)
                assert proxied_refusal.value.detail == direct_refusal.value.detail
            ok = await pooled.get(f"http://world.test:{public.port}/ok")
        assert inside.hits == {}  # nothing reached the inside, directly or through the proxy
    assert ok.status == 200
    assert ok.url == f"http://world.test:{public.port}/ok"
    # The proxy was asked for the redirect hop and the public page only, by the address
    # the guard checked (the name goes in Host), so it never resolved a name itself.
    assert proxy_a.targets == [
        f"http://{PUBLIC}:{public.port}/redirect",
        f"http://{PUBLIC}:{public.port}/ok",
    ]
    assert proxy_a.hosts == [f"world.test:{public.port}"] * 2


# --- HTTPS through CONNECT --------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for world.test (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=world.test", "-addext", "subjectAltName=DNS:world.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def tls_world(certificate: tuple[Path, Path]) -> AsyncIterator[World]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    w = World()
    await w.start(tls=server)
    w.add_telegram("chan", name="Chan", followers=4200).post("hello")
    try:
        yield w
    finally:
        await w.stop()


@pytest.mark.usefixtures("public_loopback")
async def test_https_goes_through_a_connect_tunnel_to_the_checked_address(
    tls_world: World, certificate: tuple[Path, Path]
) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    names = Names({"world.test": PUBLIC, "other.test": PUBLIC, "internal.test": "127.0.0.2"})
    port = tls_world.port
    async with FakeProxy(PROXY_HOST, credentials=("agent", "tunnel-pass")) as proxy:
        settings = _http(allow_private_networks=False)
        async with HttpClient(settings, resolver=names, ssl_context=trust) as http:
            pooled = http.via([proxy.url])
            page = await pooled.get(f"https://world.test:{port}/s/chan")
            # The certificate is checked against the name, not the address tunnelled to.
            with pytest.raises(FetchError) as wrong_name:
                await pooled.get(f"https://other.test:{port}/s/chan")
            with pytest.raises(BlockedAddress):
                await pooled.get(f"https://internal.test:{port}/s/chan")
    assert page.status == 200
    assert b"tgme_channel_info" in page.body
    assert "TLS" in (wrong_name.value.detail or "")
    assert proxy.targets == [f"{PUBLIC}:{port}", f"{PUBLIC}:{port}"]
    assert proxy.auth_seen[0] == "Basic YWdlbnQ6dHVubmVsLXBhc3M="  # agent:tunnel-pass
    assert tls_world.requests["telegram:chan"] == 1


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("https://user:Hidden-Pass-1@proxy.example:443", "https:// and socks proxies"),
        ("socks5://user:Hidden-Pass-1@proxy.example:1080", "https:// and socks proxies"),
        ("http://user:Hidden-Pass-1@proxy.example", "name the proxy's port"),
        ("http://user:Hidden-Pass-1@proxy.example:x", "is the port a number"),
        ("http://user:Hidden-Pass-1@proxy.example:3128/path", "no path"),
        ("http://Hidden-Pass-1@proxy.example:3128", "the password is missing"),
        ("proxy.example:3128", "use an HTTP proxy URL"),
    ],
)
def test_a_bad_proxy_entry_is_named_without_its_password(entry: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, sources={"telegram": {"proxies": ["direct", entry]}})
    text = str(caught.value)
    assert "sources.telegram.proxies" in text
    assert "entry 2" in text
    assert words in text
    assert "Hidden-Pass-1" not in text


def test_a_proxy_listed_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="entry 2 is listed twice"):
        load_settings(None, sources={"rss": {"proxies": ["http://h:1", "http://h:1"]}})


def test_every_section_takes_proxies_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "GOVWATCH_SOURCES__BLUESKY__PROXIES", '["http://u:p%40ss-word@10.0.0.5:3128", "direct"]'
    )
    monkeypatch.setenv("GOVWATCH_SOURCES__BLUESKY__PROXY_RATE", "0.5")
    settings = load_settings(None)
    section = settings.sources.bluesky
    assert [p.get_secret_value() for p in section.proxies][1] == "direct"
    assert section.proxy_rate == 0.5
    assert "p%40ss-word" not in repr(settings)
    assert "p@ss-word" not in str(settings.model_dump())
    secrets = settings.secrets()
    # The password as written and decoded, the user info and its Basic form.
    assert {"p%40ss-word", "p@ss-word", "u:p@ss-word", "dTpwQHNzLXdvcmQ="} <= set(secrets)
    assert "direct" not in secrets

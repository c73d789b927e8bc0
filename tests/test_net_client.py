"""The hardened HTTP client against real misbehaving servers on loopback.

Tests that exercise the SSRF guard treat 127.0.0.1 as "the public internet" (the only
seam: a public server cannot run here) while every other loopback, private, link-local
or metadata address stays forbidden; a second server on 127.0.0.2 proves that the
client never opened a connection to a refused address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.config import HttpSettings
from bot.errors import (
    BlockedAddress,
    FetchError,
    FetchTimeout,
    InvalidURL,
    RateLimited,
    ResponseTooLarge,
    TooManyRedirects,
)
from bot.net import guard
from bot.net.client import HttpClient, parse_retry_after
from tests.fakes.hostile_server import HostileServer

PUBLIC = "127.0.0.1"  # stands in for a public server in the guarded tests


def _settings(**overrides: Any) -> HttpSettings:
    values: dict[str, Any] = {
        "per_host_rate": 1000.0,
        "timeout": "3s",
        "allow_private_networks": True,
    }
    values.update(overrides)
    return HttpSettings(**values)


@pytest.fixture
def public_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    real = guard.refusal

    def refusal(ip: guard.IPAddress) -> str | None:
        return None if ip == ipaddress.ip_address(PUBLIC) else real(ip)

    monkeypatch.setattr(guard, "refusal", refusal)


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer(PUBLIC) as srv:
        yield srv


@pytest.fixture
async def inside() -> AsyncIterator[HostileServer]:
    """A server on 127.0.0.2: the "internal" target an attacker wants to reach."""
    async with HostileServer("127.0.0.2") as srv:
        yield srv


class ScriptedResolver(AbstractResolver):
    """Answers each lookup with the next address of a script (a rebinding DNS server)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        return None


# --- SSRF -------------------------------------------------------------------------------


async def test_plain_fetch_with_user_agent_and_validators(server: HostileServer) -> None:
    async with HttpClient(_settings(user_agent="govwatch-test/1")) as http:
        response = await http.get(server.url("/ok"))
    assert response.status == 200
    assert response.body == b"hello"
    assert response.validators == {"etag": '"v1"', "last_modified": "Mon, 04 May 2026 10:00:00 GMT"}
    assert server.seen_headers[0]["User-Agent"] == "govwatch-test/1"


async def test_loopback_refused_without_allow_private(server: HostileServer) -> None:
    async with HttpClient(_settings(allow_private_networks=False)) as http:
        for url in (server.url("/ok"), f"http://localhost:{server.port}/ok"):
            with pytest.raises(BlockedAddress) as caught:
                await http.get(url)
            assert caught.value.detail is not None
            assert caught.value.detail.endswith(("is loopback", "(loopback)"))
    assert server.hits == {}


@pytest.mark.usefixtures("public_loopback")
@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/ok",
        "http://[::ffff:127.0.0.2]:{port}/ok",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]:{port}/ok",
        "http://internal.test:{port}/ok",
        "file:///etc/passwd",
        "http://user:pw@127.0.0.1:{port}/ok",
    ],
)
async def test_redirect_to_forbidden_target_is_refused(
    server: HostileServer, inside: HostileServer, target: str
) -> None:
    server.redirect_to = target.format(port=inside.port)
    resolver = ScriptedResolver("127.0.0.2")  # internal.test -> an internal address
    async with HttpClient(_settings(allow_private_networks=False), resolver=resolver) as http:
        with pytest.raises((BlockedAddress, InvalidURL)):
            await http.get(server.url("/redirect"))
    assert server.hits["/redirect"] == 1
    assert inside.hits == {}


@pytest.mark.usefixtures("public_loopback")
async def test_rebinding_resolver_never_reaches_the_internal_address(
    server: HostileServer, inside: HostileServer
) -> None:
    # First answer public (our stand-in), then the attacker rebinds the name to 127.0.0.2.
    resolver = ScriptedResolver(PUBLIC, "127.0.0.2")
    async with HttpClient(_settings(allow_private_networks=False), resolver=resolver) as http:
        first = await http.get(f"http://rebind.test:{server.port}/ok")
    assert first.status == 200
    assert resolver.calls == 1  # the address checked is the address connected to
    async with HttpClient(_settings(allow_private_networks=False), resolver=resolver) as http:
        with pytest.raises(BlockedAddress):
            await http.get(f"http://rebind.test:{inside.port}/ok")
    assert resolver.calls == 2  # one lookup per connection, none between check and connect
    assert inside.hits == {}


@pytest.mark.usefixtures("public_loopback")
async def test_name_with_one_private_answer_is_refused_whole(inside: HostileServer) -> None:
    class Mixed(ScriptedResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            public, private = await super().resolve(host, port), await super().resolve(host, port)
            return [public[0] | {"host": PUBLIC}, private[0] | {"host": "127.0.0.2"}]

    async with HttpClient(_settings(allow_private_networks=False), resolver=Mixed("x")) as http:
        with pytest.raises(BlockedAddress):
            await http.get(f"http://mixed.test:{inside.port}/ok")
    assert inside.hits == {}


# --- size caps, deadlines -----------------------------------------------------------------


async def test_gzip_body_is_decoded(server: HostileServer) -> None:
    async with HttpClient(_settings()) as http:
        response = await http.get(server.url("/gzip"))
    assert response.body == b"small and honest " * 100


@pytest.mark.parametrize("kind", ["deflate", "rawdeflate"])
async def test_deflate_variants_are_decoded(server: HostileServer, kind: str) -> None:
    async with HttpClient(_settings()) as http:
        response = await http.get(server.url(f"/encoded?kind={kind}"))
    assert response.body == b"encoded body " * 50


@pytest.mark.parametrize("kind", ["corrupt", "br"])
async def test_undecodable_bodies_are_refused(server: HostileServer, kind: str) -> None:
    async with HttpClient(_settings()) as http:
        with pytest.raises(FetchError) as caught:
            await http.get(server.url(f"/encoded?kind={kind}"))
    assert caught.value.reason == "bad_encoding"


async def test_gzip_bomb_is_refused(server: HostileServer) -> None:
    async with HttpClient(_settings(max_response_bytes=1_000_000)) as http:
        with pytest.raises(ResponseTooLarge):
            await http.get(server.url("/bomb"))
    assert server.hits["/bomb"] == 1


async def test_endless_chunked_body_is_cut(server: HostileServer) -> None:
    async with HttpClient(_settings(max_response_bytes=2_000_000)) as http:
        with pytest.raises(ResponseTooLarge):
            await http.get(server.url("/endless"))


async def test_declared_length_over_cap_is_refused_early(server: HostileServer) -> None:
    async with HttpClient(_settings(max_response_bytes=10_000)) as http:
        with pytest.raises(ResponseTooLarge) as caught:
            await http.get(server.url("/big?n=50000"))
        assert caught.value.detail == "the answer declares 50000 bytes, more than 10000"
        small = await http.get(server.url("/big?n=5000"))
        assert len(small.body) == 5000
        with pytest.raises(ResponseTooLarge):  # a per-call cap below the default
            await http.get(server.url("/big?n=5000"), max_bytes=2048)


async def test_slow_drip_hits_the_total_deadline(server: HostileServer) -> None:
    async with HttpClient(_settings(timeout="1s")) as http:
        with pytest.raises(FetchTimeout) as caught:
            await http.get(server.url("/drip"))
    assert caught.value.detail == "no complete answer from 127.0.0.1 within 1 s"


async def test_connection_refused_is_a_fetch_error() -> None:
    async with HttpClient(_settings()) as http:
        with pytest.raises(FetchError) as caught:
            await http.get("http://127.0.0.1:1/")
    assert caught.value.reason == "network"
    assert caught.value.detail == "connection refused by 127.0.0.1:1"


async def test_a_server_that_hangs_up_is_named_in_words() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)  # the request arrives; no answer is ever written
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with HttpClient(_settings()) as http:
            with pytest.raises(FetchError) as caught:
                await http.get(f"http://127.0.0.1:{port}/?token=SeCrEt123456")
    finally:
        server.close()
        await server.wait_closed()
    assert caught.value.reason == "network"
    assert caught.value.detail == "the server closed the connection before answering"


async def test_redirect_loop_stops(server: HostileServer) -> None:
    async with HttpClient(_settings(max_redirects=3)) as http:
        with pytest.raises(TooManyRedirects) as caught:
            await http.get(server.url("/loop"))
    assert caught.value.detail == "more than 3 redirects"
    assert server.hits["/loop"] == 4


async def test_redirect_final_url_is_reported(server: HostileServer) -> None:
    server.redirect_to = "/ok"
    async with HttpClient(_settings()) as http:
        response = await http.get(server.url("/redirect"))
    assert response.url == server.url("/ok")
    assert response.body == b"hello"


# --- politeness -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "after"), [(429, "30"), (503, "7")])
async def test_retry_after_is_honoured_per_host(
    server: HostileServer, status: int, after: str
) -> None:
    async with HttpClient(_settings()) as http:
        with pytest.raises(RateLimited) as caught:
            await http.get(server.url(f"/throttled?status={status}&after={after}"))
        assert caught.value.retry_after == pytest.approx(float(after))
        with pytest.raises(RateLimited):  # the host is cooling down: no request at all
            await http.get(server.url("/ok"))
        other = await http.get(f"http://localhost:{server.port}/ok")  # another host name
        assert other.status == 200
    assert server.hits["/ok"] == 1


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 10) == pytest.approx(
        10
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") == 0
    assert parse_retry_after("999999999") == 24 * 3600


async def test_conditional_get_answers_not_modified(server: HostileServer) -> None:
    async with HttpClient(_settings()) as http:
        first = await http.get(server.url("/etag"))
        second = await http.get(server.url("/etag"), validators=first.validators)
    assert not first.not_modified
    assert second.not_modified
    assert second.status == 304
    assert second.body == b""
    assert server.seen_headers[1]["If-None-Match"] == '"v1"'
    assert server.seen_headers[1]["If-Modified-Since"] == "Mon, 04 May 2026 10:00:00 GMT"


async def test_cookies_are_never_sent_back(server: HostileServer) -> None:
    async with HttpClient(_settings()) as http:
        await http.get(server.url("/cookie"))
        await http.get(server.url("/ok"))
    assert "Cookie" not in server.seen_headers[1]


async def test_per_host_concurrency_limit(server: HostileServer) -> None:
    async with HttpClient(_settings(per_host_concurrency=2)) as http:
        await asyncio.gather(*(http.get(server.url("/slow?s=0.2")) for _ in range(6)))
    assert server.peak == 2


async def test_per_host_rate_spaces_requests(server: HostileServer) -> None:
    async with HttpClient(_settings(per_host_rate=10.0, per_host_concurrency=4)) as http:
        started = time.monotonic()
        await asyncio.gather(*(http.get(server.url("/ok")) for _ in range(5)))
        elapsed = time.monotonic() - started
        fast = await asyncio.gather(*(http.get(server.url("/ok"), rate=1000.0) for _ in range(5)))
    # A lower bound only: the client must wait; how fast the unpaced burst is, is bench's.
    assert elapsed >= 0.35  # 5 requests at 10/s: the last starts 0.4 s after the first
    assert [r.status for r in fast] == [200] * 5
    assert server.hits["/ok"] == 10


async def test_a_stuck_host_does_not_slow_another(server: HostileServer) -> None:
    async with HttpClient(_settings(timeout="2s", per_host_concurrency=2)) as http:
        stuck = [asyncio.create_task(http.get(server.url("/drip"))) for _ in range(4)]
        await asyncio.sleep(0.1)
        results = await asyncio.gather(
            *(http.get(f"http://localhost:{server.port}/ok") for _ in range(5))
        )
        # The other host answered while every slot of the stuck one was still taken.
        assert all(not task.done() for task in stuck)
        outcomes = await asyncio.gather(*stuck, return_exceptions=True)
    assert all(r.status == 200 for r in results)
    assert all(isinstance(o, FetchTimeout) for o in outcomes)

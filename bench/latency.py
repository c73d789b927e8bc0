"""Latencies the tests check only functionally: HTTP guards, other hosts, Slack acks.

``python -m bench.latency`` prints one JSON line. Each figure is the wall time of one
scenario on loopback, next to the bound it used to be asserted against in tests/ (a
bound belongs here: on a busy machine wall time says as much about the machine):

- ``gzip_bomb_refused_s``: a gzip bomb refused at the size cap (was < 10 s);
- ``drip_timeout_s``: a slow-drip body cut at a 1 s total deadline (was < 3 s);
- ``unpaced_5_requests_s``: 5 GETs with a per-call rate of 1000/s (was < 0.35 s);
- ``other_host_while_stuck_s``: 5 GETs to a second host while 4 hang (was < 0.5 s);
- ``hostile_feed_max_s``: the slowest hostile RSS answer read as unknown (was < timeout + 2);
- ``slack_http_ack_s`` / ``slack_socket_ack_s``: a slash command acknowledged (was < 3 s);
- ``slack_other_channel_s``: 3 paced messages to one channel then 1 to another (was < 1.05 s).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.common import Timer, rnd
from bot.config import HttpSettings
from bot.errors import FetchError
from bot.net.client import HttpClient

BOUNDS = {
    "gzip_bomb_refused_s": 10.0,
    "drip_timeout_s": 3.0,
    "unpaced_5_requests_s": 0.35,
    "other_host_while_stuck_s": 0.5,
    "slack_http_ack_s": 3.0,
    "slack_socket_ack_s": 3.0,
    "slack_other_channel_s": 1.05,
}


def _http(**overrides: Any) -> HttpSettings:
    values: dict[str, Any] = {"per_host_rate": 1000.0, "timeout": "3s"}
    values["allow_private_networks"] = True
    return HttpSettings(**(values | overrides))


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    timer = Timer()
    with suppress(FetchError):
        await call()
    return timer.elapsed


async def http_guards() -> dict[str, float]:
    """Wall times of the HTTP client's guards against the hostile loopback server."""
    from tests.fakes.hostile_server import HostileServer

    out: dict[str, float] = {}
    async with HostileServer() as server:
        async with HttpClient(_http(max_response_bytes=1_000_000)) as http:
            out["gzip_bomb_refused_s"] = await _timed(lambda: http.get(server.url("/bomb")))
        async with HttpClient(_http(timeout="1s")) as http:
            out["drip_timeout_s"] = await _timed(lambda: http.get(server.url("/drip")))
        async with HttpClient(_http(per_host_rate=10.0, per_host_concurrency=4)) as http:
            burst = [http.get(server.url("/ok"), rate=1000.0) for _ in range(5)]
            out["unpaced_5_requests_s"] = await _timed(lambda: asyncio.gather(*burst))
        out["other_host_while_stuck_s"] = await _other_host(server)
    return out


async def _other_host(server: Any) -> float:
    async with HttpClient(_http(timeout="2s", per_host_concurrency=2)) as http:
        stuck = [asyncio.create_task(http.get(server.url("/drip"))) for _ in range(4)]
        await asyncio.sleep(0.1)
        other = [http.get(f"http://localhost:{server.port}/ok") for _ in range(5)]
        seconds = await _timed(lambda: asyncio.gather(*other))
        await asyncio.gather(*stuck, return_exceptions=True)
    return seconds


async def hostile_feeds() -> dict[str, float]:
    """The slowest of the hostile RSS cases of tests/test_hostile_feeds.py."""
    from tests.test_hostile_feeds import CASES, TIMEOUT, _serve_and_fetch

    BOUNDS["hostile_feed_max_s"] = TIMEOUT + 2.0

    slowest = 0.0
    for name, handler, _reasons in CASES:
        if name == "xxe_http":
            continue  # needs the test's trap server
        _obs, seconds = await _serve_and_fetch(handler)
        slowest = max(slowest, seconds)
    return {"hostile_feed_max_s": slowest}


async def slack_acks(db_url: str) -> dict[str, float]:
    """Ack time of a slash command in HTTP and Socket Mode, and channel independence."""
    from tests.fakes.slack_api import FakeSlack

    fake = await FakeSlack().start()
    fake.add_channel("C0NEWS", creator="U0CREATOR")
    fake.add_channel("C0OTHER", creator="U0CREATOR")
    try:
        return await _slack_mode(fake, db_url, "http") | await _slack_mode(fake, db_url, "socket")
    finally:
        await fake.close()


async def _slack_mode(fake: Any, db_url: str, mode: str) -> dict[str, float]:
    from bot.chat.slack import SlackBackend
    from bot.commands.service import CommandService
    from bot.store.migrate import open_database
    from tests.fakes.slack_api import slack_settings

    settings = slack_settings(fake, mode=mode)
    database = settings.database.model_copy(update={"url": db_url})
    settings = settings.model_copy(update={"database": database})
    async with open_database(settings) as db:
        commands = CommandService(db=db, settings=settings)
        slack = SlackBackend(
            settings=settings, commands=commands, host="127.0.0.1", port=0,
            min_interval=0.0 if mode == "http" else 0.25,
        )  # fmt: skip
        await slack.start()
        try:
            return await (_http_ack(fake, slack) if mode == "http" else _socket(fake, slack))
        finally:
            await slack.stop()


async def _http_ack(fake: Any, slack: Any) -> dict[str, float]:
    from tests.fakes.slack_api import sign

    body = urlencode(fake.command_payload("help"))
    url = f"http://127.0.0.1:{slack.bound_port}/slack/events"
    headers = {"Content-Type": "application/x-www-form-urlencoded"} | sign(body)
    return {"slack_http_ack_s": await _timed(lambda: _post(url, body, headers))}


async def _socket(fake: Any, slack: Any) -> dict[str, float]:
    await asyncio.wait_for(fake.socket_connected.wait(), 5)
    payload = fake.command_payload("help")
    ack = await _timed(lambda: fake.send_envelope("slash_commands", payload))
    return {"slack_socket_ack_s": ack, "slack_other_channel_s": await _timed(lambda: _paced(slack))}


async def _post(url: str, body: str, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body.encode(), headers=headers) as resp,
    ):
        return resp.status


async def _paced(slack: Any) -> None:
    from bot.reply import ChatAddress, Reply

    for index in range(3):
        await slack.send(ChatAddress("slack", "C0NEWS", "T0TEAM"), Reply.text(f"n{index}"))
    await slack.send(ChatAddress("slack", "C0OTHER", "T0TEAM"), Reply.text("other"))


async def measure() -> dict[str, Any]:
    """Every latency above, rounded to milliseconds, with the old test bounds."""
    with tempfile.TemporaryDirectory(prefix="gw-latency-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'latency.db'}"
        values = await http_guards() | await hostile_feeds() | await slack_acks(url)
    return {key: rnd(value, 3) for key, value in values.items()} | {"bounds": BOUNDS}


def main() -> None:
    """Print the latencies as one JSON line."""
    # The hostile handlers' writes fail once the client hangs up: expected, not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    print(json.dumps(asyncio.run(measure())))


if __name__ == "__main__":
    main()

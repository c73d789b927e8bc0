"""docs/architecture.md's worked example (a Threads-like source) runs as written.

The Python blocks of "Worked example: adding a Threads-like source" are executed, in
order, against the real base classes; the only stand-in is step 1's ``Platform.THREADS``
(and its settings section), which a test cannot add to the real enum.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import bot.domain
from bot.config import SourceSettings, load_settings
from bot.domain import AccountRef, Platform, Status
from bot.net.client import HttpClient
from bot.sources import REGISTRY, probe
from bot.sources.base import ParseContext, Source

DOC = Path(__file__).parent.parent / "docs" / "architecture.md"
NOW = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)
# Step 1 of the example, as a test-only enum: every real platform plus THREADS.
Threads = StrEnum(  # type: ignore[misc]
    "Platform", {**{p.name: p.value for p in Platform}, "THREADS": "threads"}
)


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("### Worked example: adding a Threads-like source")
    return text[start : text.index("\n## ", start)]


def _sample() -> bytes:
    """The answer the example's prose describes, taken from the prose itself."""
    found = re.search(r"serves `GET \{base\}/api/users/\{name\}` as\n`(.*?)`", _section(), re.S)
    assert found is not None, "the example no longer quotes its sample answer"
    return json.dumps(json.loads(found.group(1).replace("\n", " "))).encode()


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The namespace of the example's code blocks, run in order."""
    blocks = re.findall(r"```python\n(.*?)```", _section(), re.S)
    assert len(blocks) >= 2, "the worked example lost its parser or its source class"
    monkeypatch.setattr(bot.domain, "Platform", Threads)
    namespace: dict[str, Any] = {"__name__": "bot.sources.threads"}
    exec(compile("\n".join(textwrap.dedent(b) for b in blocks), str(DOC), "exec"), namespace)
    monkeypatch.setitem(REGISTRY, Threads.THREADS, namespace["ThreadsSource"])
    return namespace


def test_the_class_declares_its_parse_contract(example: dict[str, Any]) -> None:
    cls = example["ThreadsSource"]
    assert issubclass(cls, Source)
    assert cls.platform is Threads.THREADS
    assert cls.responses == ("api/users/<name>",)
    assert not getattr(cls, "__abstractmethods__", None)


def test_the_parser_reads_the_sample(example: dict[str, Any]) -> None:
    obs = example["ThreadsSource"].parse([_sample()], ParseContext("someone", NOW))
    assert (obs.status, obs.platform, obs.handle) == (Status.OK, Threads.THREADS, "someone")
    assert (obs.display_name, obs.followers, obs.followers_exact) == ("...", 1234, True)
    assert [(p.id, p.published_at) for p in obs.posts] == [
        ("9", datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    ]
    assert obs.platform_id == "42"
    gone = example["ThreadsSource"].parse([b'{"error": "not_found"}'], ParseContext("x", NOW))
    assert (gone.status, gone.reason) == (Status.ABSENT, "not_found")


def test_probe_file_uses_the_class(example: dict[str, Any]) -> None:
    obs = probe.parse_saved(Threads.THREADS, "someone", [_sample()], fetched_at=NOW)
    doc = probe.to_json(obs)
    assert (doc["platform"], doc["status"], doc["followers"]) == ("threads", "ok", 1234)
    assert [p["id"] for p in doc["posts"]] == ["9"]
    changed = probe.parse_saved(Threads.THREADS, "someone", [b'{"id": "1"}'], fetched_at=NOW)
    assert (changed.status, changed.reason) == (Status.UNKNOWN, "layout_changed")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    answers = {
        "someone": (200, _sample()),
        "gone": (404, b'{"error": "not_found"}'),
        "missing": (404, b"<html>not here</html>"),
        "busy": (429, b'{"error": "slow down"}'),
        "broken": (500, b'{"error": "not_found"}'),
    }

    async def user(request: web.Request) -> web.Response:
        status, body = answers[request.match_info["name"]]
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/users/{name}", user)
    async with TestServer(app, host="127.0.0.1") as running:
        yield f"http://127.0.0.1:{running.port}"


@pytest.mark.parametrize(
    ("name", "status", "reason", "followers"),
    [
        ("someone", Status.OK, None, 1234),
        ("gone", Status.ABSENT, "not_found", None),
        ("missing", Status.UNKNOWN, "bad_json", None),
        ("busy", Status.UNKNOWN, "rate_limited", None),
        ("broken", Status.UNKNOWN, "http_500", None),
    ],
)
async def test_live_fetch_on_loopback(
    example: dict[str, Any],
    server: str,
    name: str,
    status: Status,
    reason: str | None,
    followers: int | None,
) -> None:
    class LoopbackThreads(example["ThreadsSource"]):  # type: ignore[misc]
        @property
        def options(self) -> SourceSettings:
            return SourceSettings(base_url=server)  # step 1's settings section

    settings = load_settings(None, http={"allow_private_networks": True, "per_host_rate": 100.0})
    async with HttpClient(settings.http) as http:
        source = LoopbackThreads(http=http, settings=settings)
        obs = await source.fetch(AccountRef(platform=Threads.THREADS, handle=name))
    assert (obs.status, obs.reason, obs.followers) == (status, reason, followers)


def test_the_section_names_only_real_helpers_and_attributes() -> None:
    from bot.sources import base, numbers

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## How a source works") : text.index("### Worked example")]
    helpers = re.search(
        r"`bot/sources/base\.py` \((.*?)\) and `bot/sources/numbers\.py` \((.*?)\)", section, re.S
    )
    assert helpers is not None, "the section no longer says where the shared helpers live"
    for module, names in ((base, helpers.group(1)), (numbers, helpers.group(2))):
        for name in re.findall(r"`(\w+)`", names):
            assert hasattr(module, name), f"{module.__name__}.{name} is named in the docs"
    declared = {*vars(Source), *Source.__annotations__}
    for name in [*re.findall(r"^- `(\w+)`", section, re.M), "parse", "parse_first", "parse_next"]:
        assert name in declared, f"Source.{name} is named in the docs"

"""Proxy credentials never reach a log, an error, an observation or an exception's repr.

Failing proxies are real (a closed port, a proxy refusing our credentials with 407, over
plain HTTP and inside CONNECT), everything is logged at DEBUG, and the texts are checked
before any redaction runs: govwatch must not write the credentials in the first place.
The redaction list (Settings.secrets) holds them too, as a second line of defence.
"""

from __future__ import annotations

import logging
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.domain import AccountRef, Observation, Platform, Status
from bot.errors import FetchError
from bot.logs import RedactingFilter
from bot.net.client import HttpClient
from bot.sources.telegram import TelegramSource
from tests.fakes.proxy import FakeProxy
from tests.fakes.world import World

USER = "newsroom-agent"
PASSWORD = "Pr0xy-Pass!word"
WRONG = "Wr0ng-Pass!word"
DEAD = "Dead-Pr0xy-Pass"


def _forms(password: str) -> list[str]:
    """Every shape the credential could leak in, as Settings.secrets() must list them."""
    settings = load_settings(
        None, sources={"telegram": {"proxies": [f"http://{USER}:{password}@127.0.0.3:9"]}}
    )
    secrets = settings.secrets()
    assert password in secrets
    assert f"{USER}:{password}" in secrets
    return [s for s in secrets if s != f"http://{USER}:{password}@127.0.0.3:9"]


def _exception_texts(exc: BaseException | None) -> Iterator[str]:
    """str and repr of an exception and of every exception chained to it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield str(exc)
        yield repr(exc)
        yield repr(vars(exc)) if hasattr(exc, "__dict__") else ""
        exc = exc.__cause__ or exc.__context__


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.3", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(params=["http", "https"])
async def target(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> AsyncIterator[tuple[World, ssl.SSLContext | None]]:
    """The world over plain HTTP (absolute-URI requests) or HTTPS (CONNECT tunnels)."""
    tls = trust = None
    if request.param == "https":
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*certificate)
        trust = ssl.create_default_context(cafile=str(certificate[0]))
    world = World()
    await world.start(tls=tls)
    world.add_telegram("chan", name="Chan", followers=10).post("hello")
    try:
        yield world, trust
    finally:
        await world.stop()


async def _read(
    world: World, trust: ssl.SSLContext | None, proxies: list[str]
) -> tuple[Observation, FetchError]:
    settings = load_settings(
        None,
        http={"allow_private_networks": True, "per_host_rate": 1000.0, "timeout": "3s"},
        sources={
            "telegram": {"base_url": world.url(), "fetch_plain_page": False, "proxies": proxies}
        },
    )
    # Two clients: each meets the failing proxies afresh (not a proxy resting from before).
    async with HttpClient(settings.http, ssl_context=trust) as http:
        source = TelegramSource(http=http, settings=settings)
        observation = await source.fetch(AccountRef(platform=Platform.TELEGRAM, handle="chan"))
    async with HttpClient(settings.http, ssl_context=trust) as http:
        with pytest.raises(FetchError) as caught:
            await TelegramSource(http=http, settings=settings).http.get(f"{world.url()}/s/chan")
    return observation, caught.value


async def test_failing_proxies_never_show_their_credentials(
    target: tuple[World, ssl.SSLContext | None], caplog: pytest.LogCaptureFixture
) -> None:
    world, trust = target
    caplog.set_level(logging.DEBUG)
    async with FakeProxy("127.0.0.3", credentials=(USER, PASSWORD)) as strict:
        refusing = strict.url_with(USER, WRONG)
        dead = f"http://{USER}:{DEAD}@127.0.0.3:{_closed_port()}"
        refused_obs, refused_error = await _read(world, trust, [refusing])
        dead_obs, dead_error = await _read(world, trust, [dead])
        both_obs, both_error = await _read(world, trust, [refusing, dead])
    assert strict.refused >= 1
    for observation in (refused_obs, dead_obs, both_obs):
        assert observation.status is Status.UNKNOWN
        assert observation.reason == "network"
    # The causes are said in words, naming the proxy by host and port only.
    assert "refused our credentials (HTTP 407 Proxy Authentication Required)" in (
        refused_obs.detail or ""
    )
    assert f"proxy 127.0.0.3:{strict.port}" in (refused_obs.detail or "")
    assert "cannot be reached (connection refused)" in (dead_obs.detail or "")
    texts = [caplog.text, *(r.getMessage() for r in caplog.records)]
    texts += [r.exc_text or "" for r in caplog.records]
    for observation in (refused_obs, dead_obs, both_obs):
        texts += [observation.detail or "", observation.reason or "", repr(observation)]
    for error in (refused_error, dead_error, both_error):
        texts += list(_exception_texts(error))
        texts.append(error.detail or "")
    leaks = [
        (form, text)
        for password in (PASSWORD, WRONG, DEAD)
        for form in _forms(password)
        for text in texts
        if form in text
    ]
    assert leaks == []
    assert any("refused our credentials" in t for t in texts)  # the texts were looked at


def test_the_redaction_list_masks_every_form() -> None:
    settings = load_settings(
        None,
        sources={
            "telegram": {"proxies": [f"http://{USER}:{PASSWORD}@10.0.0.5:3128", "direct"]},
            "rss": {"proxies": ["http://open-proxy.example:8080"]},
        },
    )
    redactor = RedactingFilter(settings.secrets())
    line = (
        f"via http://{USER}:{PASSWORD}@10.0.0.5:3128 sent Proxy-Authorization: Basic "
        f"bmV3c3Jvb20tYWdlbnQ6UHIweHktUGFzcyF3b3Jk user info {USER}:{PASSWORD} and "
        f"{PASSWORD} direct http://open-proxy.example:8080"
    )
    masked = redactor.redact(line)
    assert PASSWORD not in masked
    assert "bmV3c3Jvb20tYWdlbnQ6UHIweHktUGFzcyF3b3Jk" not in masked
    assert "direct" in masked  # the word of a pool entry is not a secret
    assert "http://open-proxy.example:8080" in masked  # nor a proxy without credentials

"""The SSRF guard's address and URL rules, table-driven (pure, no network)."""

from __future__ import annotations

import ipaddress

import pytest

from bot.errors import BlockedAddress, InvalidURL
from bot.net.guard import UrlGuard, check_url, refusal

REFUSED = [
    "127.0.0.1",
    "127.9.9.9",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "100.100.100.200",  # Alibaba metadata (CGNAT too)
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.10",  # TEST-NET
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS IPv6 metadata
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1 (obfuscated)
    "2001:db8::1",  # documentation
]
ALLOWED = [
    "93.184.216.34",
    "149.154.167.99",
    "1.1.1.1",
    "2a00:1450:4001:81b::200e",
    "2606:4700::1111",
]


@pytest.mark.parametrize("address", REFUSED)
def test_forbidden_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


BAD_URLS = [
    ("file:///etc/passwd", InvalidURL),
    ("ftp://example.com/x", InvalidURL),
    ("gopher://example.com/", InvalidURL),
    ("http://user:pw@example.com/", InvalidURL),
    ("http://example.com@127.0.0.1/", InvalidURL),
    ("http://example.com\\@evil.example/", InvalidURL),
    ("http://exa mple.com/", InvalidURL),
    ("http://example.com/\r\nHost: x", InvalidURL),
    ("http://example.com:99999/", InvalidURL),
    ("http:///nohost", InvalidURL),
    ("http://127.0.0.1/", BlockedAddress),
    ("http://[::1]:8080/", BlockedAddress),
    ("http://[::ffff:10.0.0.1]/", BlockedAddress),
    ("http://169.254.169.254/latest/meta-data/", BlockedAddress),
    ("https://[64:ff9b::a9fe:a9fe]/", BlockedAddress),
]


@pytest.mark.parametrize(("url", "error"), BAD_URLS)
def test_bad_urls_are_refused(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(("url", "error"), BAD_URLS)
def test_a_guard_that_accepted_similar_urls_still_refuses_bad_ones(
    url: str, error: type[Exception]
) -> None:
    # The client's guard remembers accepted origins: none of them may let a bad URL
    # through, and a refusal is not remembered as anything (it raises every time).
    guard = UrlGuard(allow_private=False)
    for good in ("http://example.com/", "http://example.com:80/a", "https://example.com/x"):
        assert guard.host_of(good) == "example.com"
    for _ in range(2):
        with pytest.raises(error):
            guard.host_of(url)


def test_a_guard_remembers_only_the_origin() -> None:
    guard = UrlGuard(allow_private=False)
    assert guard.host_of("https://T.me/s/durov") == "t.me"
    assert guard.host_of("https://T.me/s/other?before=5#x") == "t.me"
    with pytest.raises(InvalidURL):  # same origin, but a space in the path
        guard.host_of("https://T.me/s/a b")
    with pytest.raises(InvalidURL):  # a user name makes it another origin
        guard.host_of("https://T.me@127.0.0.1/")
    with pytest.raises(BlockedAddress):
        guard.host_of("https://127.0.0.1/s/durov")
    assert UrlGuard(allow_private=True).host_of("http://127.0.0.1:8080/x") == "127.0.0.1"


def test_private_literals_pass_when_allowed() -> None:
    assert check_url("http://127.0.0.1:8080/x", allow_private=True)
    with pytest.raises(InvalidURL):  # the form rules stay even then
        check_url("http://u@127.0.0.1/", allow_private=True)


@pytest.mark.parametrize("url", ["https://t.me/s/durov", "http://93.184.216.34/x?a=1&b=2"])
def test_good_urls_pass(url: str) -> None:
    assert check_url(url, allow_private=False) == url

"""Transport failures in words ("could not resolve host t.me"), from the errors' fields.

Only host names, ports and the operating system's error text are used, never a URL, so
a token in a query string cannot reach the words; they are also passed through the
log redaction patterns in case a host name itself looks like a secret.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

import aiohttp
import httpx

from bot.errors import FetchError, FetchTimeout
from bot.logs import RedactingFilter

_REDACT = RedactingFilter()

_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused by {where}",
    errno.ECONNRESET: "connection reset by {where}",
    errno.EHOSTUNREACH: "no route to {where}",
    errno.ENETUNREACH: "network unreachable for {where}",
    errno.ETIMEDOUT: "connection to {where} timed out",
}


def _where(error: aiohttp.ClientConnectorError) -> str:
    return f"{error.host}:{error.port}" if error.port else error.host


def _os_words(os_error: OSError, where: str) -> str:
    template = _ERRNO_WORDS.get(os_error.errno or 0)
    if template is not None:
        return template.format(where=where)
    text = os_error.strerror or type(os_error).__name__
    return f"could not connect to {where}: {text}"


def cause_in_words(cause: BaseException) -> str:
    """A short English account of a transport error (no URL, no secret)."""
    return _REDACT.redact(_words(cause))


def _words(cause: BaseException) -> str:
    if isinstance(cause, aiohttp.ClientConnectorDNSError):
        return f"could not resolve host {cause.host}"
    if isinstance(cause, aiohttp.ClientConnectorCertificateError):
        return f"the TLS certificate of {cause.host} was refused"
    if isinstance(cause, aiohttp.ClientConnectorSSLError):
        return f"the TLS handshake with {cause.host} failed"
    if isinstance(cause, aiohttp.ClientConnectorError):
        return _os_words(cause.os_error, _where(cause))
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return "the server closed the connection before answering"
    if isinstance(cause, socket.gaierror):
        return f"could not resolve the host ({cause.strerror})"
    if isinstance(cause, ssl.SSLError):
        return "the TLS handshake failed"
    if isinstance(cause, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    if isinstance(cause, OSError) and cause.errno:
        return _os_words(cause, "the server")
    return f"transport error ({type(cause).__name__})"


def classify(exc: Exception) -> FetchError:
    """Map a transport error to FetchTimeout or FetchError(network), its cause in words."""
    # httpx-aiohttp maps every aiohttp connection error (refused, reset) to ConnectTimeout:
    # judge by the original aiohttp error when there is one. A direct request raises the
    # aiohttp error itself (its own cause, the OSError, would lose the address).
    wrapped = isinstance(exc, httpx.HTTPError | httpx.InvalidURL)
    cause = exc.__cause__ if wrapped and isinstance(exc.__cause__, Exception) else exc
    if isinstance(cause, aiohttp.ServerTimeoutError | asyncio.TimeoutError | TimeoutError):
        return FetchTimeout(str(cause) or "timeout", detail="the server did not answer in time")
    if cause is exc and isinstance(exc, httpx.TimeoutException):
        return FetchTimeout(str(exc) or "timeout", detail="the server did not answer in time")
    return FetchError(f"{type(cause).__name__}: {cause}", detail=cause_in_words(cause))

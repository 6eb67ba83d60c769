"""The guarded connection layer under the HTTP client (fetch.py): every connect checked by the fetch policy on
the very address connected to (no DNS rebinding), every socket read bounded by the request's deadline and the
stop event. Also used to check a webhook endpoint's URL when it is registered, before any event is sent."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit

import httpcore

from digest.errors import FeedError
from digest.net.policy import FetchPolicy, Refused

_POLL = 0.5  # seconds between looks at the deadline and the stop event while a socket is silent
_READ_SIZE = 64 * 1024


class Stopped(FeedError):
    """The run was asked to stop (SIGTERM) while this request was in flight."""


class Limits(threading.local):
    """The current request's deadline and trust, per thread: the network backend reads them at each step."""

    deadline: float = float("inf")
    trusted: bool = False
    url: str = ""


class DeadlinePassed(Exception):
    """Raised inside httpcore's read loop; turned into a FeedError naming the URL."""


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the policy allows and gives streams that honour the deadline and stop."""

    def __init__(self, policy: FetchPolicy, limits: Limits, stop: threading.Event) -> None:
        self.policy, self.limits, self.stop = policy, limits, stop
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        addresses = _resolve(host, port)
        refusals, last_error = [], None
        for address in addresses:
            if not self.limits.trusted:
                try:
                    self.policy.check_address(host, address)
                except Refused as exc:
                    refusals.append(exc)
                    continue
            try:
                stream = self._inner.connect_tcp(str(address), port, timeout=self._step(timeout),
                                                 local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return _GuardedStream(stream, self)
        if last_error is not None:
            raise last_error
        if refusals:
            raise refusals[0]
        raise httpcore.ConnectError(f"{host} has no address")

    def _step(self, timeout: float | None) -> float:
        """The time one blocking step may take: its own timeout, never past the deadline."""
        if self.stop.is_set():
            raise Stopped(f"{self.limits.url}: stopped")
        remaining = self.limits.deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed()
        return min(timeout if timeout is not None else remaining, remaining)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedStream(httpcore.NetworkStream):
    """A socket stream whose reads give up at the deadline or on stop, checked every half second."""

    def __init__(self, stream: httpcore.NetworkStream, backend: GuardedBackend) -> None:
        self._stream, self._backend = stream, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        started = time.monotonic()
        while True:
            step = self._backend._step(timeout)
            waited = time.monotonic() - started
            if timeout is not None and waited >= timeout:
                raise httpcore.ReadTimeout(f"no data for {timeout:g} s")
            try:
                return self._stream.read(min(max_bytes, _READ_SIZE), timeout=min(step, _POLL))
            except httpcore.ReadTimeout:
                continue

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout=self._backend._step(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        stream = self._stream.start_tls(ssl_context, server_hostname, timeout=self._backend._step(timeout))
        return _GuardedStream(stream, self._backend)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = []
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def target(url: str) -> str:
    """The URL without its fragment and credentials, host in IDNA, as the request line and pool want it."""
    parts = urlsplit(url)
    return parts._replace(netloc=host_header(url), fragment="").geturl()


def host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if host.isascii():
        return host
    try:
        name = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FeedError(f"{url}: host name cannot be encoded: {exc}") from exc
    return f"{name}:{parts.port}" if parts.port else name


def check_endpoint(policy: FetchPolicy, url: str, seconds: float = 5.0) -> None:
    """Refused (with why) unless the policy lets us connect to every address the URL's host has now: what
    delivery checks again at each connect, said at once to whoever registers the endpoint. The name is looked
    up within `seconds` (a resolver that never answers holds a helper thread, not the request)."""
    policy.check_url(url)
    host = urlsplit(url).hostname or ""
    found: list = []
    done = threading.Event()

    def look_up() -> None:
        try:
            found.append(_resolve(host, urlsplit(url).port or 443))
        except (httpcore.ConnectError, ValueError) as exc:  # no such name; a port out of range
            found.append(exc)
        finally:
            done.set()

    threading.Thread(target=look_up, daemon=True, name="resolve").start()
    if not done.wait(seconds):
        raise Refused(f"{url}: {host} was not resolved within {seconds:g} s")
    if isinstance(found[0], Exception):
        raise Refused(f"{url}: {found[0]}")
    for address in found[0]:
        policy.check_address(host, address)

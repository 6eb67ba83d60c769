"""HTTP for the gatherer: one polite, guarded client shared by every source and article page.

Politeness and safety live here so no caller can forget them:
- an honest User-Agent, conditional GET, and at most `per_host` requests in
  flight to one host however many sources and pages share it;
- the fetch policy (policy.py) on every hop of every redirect chain, with the
  address check made on the very address connected to (no DNS rebinding);
- one wall-clock deadline per request covering connect, TLS, headers, every
  redirect and the body, enforced between socket reads even when no byte
  arrives (a server dripping its headers a byte at a time, or a gzip body of
  empty blocks, is cut off at the deadline, not when a chunk happens to decode);
- `max_bytes` on the bytes received and on the bytes they decode to, decoding
  with a bounded output so a gzip bomb never inflates past the cap in memory;
- a stop event (SIGTERM) that ends every request in flight within half a second.

It speaks HTTP/1.1 through httpcore (httpx's engine) directly, because the
guards above sit below httpx's public API: the connect, each socket read, and
the raw body before decoding. Failures are FeedError with the URL in the
message; nothing here parses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpcore

from digest.settings import GatherSettings
from digest.errors import FeedError
from digest.net.decode import BoundedDecoder
from digest.net.guarded import DeadlinePassed, GuardedBackend, Limits, Stopped, host_header, target
from digest.net.policy import FetchPolicy, Refused

PERMANENT = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10
DRAIN = 16 * 1024  # bytes of a webhook receiver's answer read (and dropped) so its connection can be reused


@dataclass(frozen=True)
class Response:
    """A body we accepted, or `not_modified` (304) with no body."""

    data: bytes = b""
    content_type: str = ""
    etag: str | None = None
    modified: str | None = None
    final_url: str = ""
    # Where the chain of permanent redirects (301/308) from the requested URL ended; "" if there were none.
    moved_to: str = ""
    not_modified: bool = False


class Fetcher:
    """Shared by all the threads of one gathering run; use as a context manager."""

    def __init__(self, *, user_agent: str, timeout: float, max_bytes: int, per_host: int = 2,
                 deadline: float | None = None, policy: FetchPolicy | None = None,
                 stop: threading.Event | None = None, max_page_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        # Article pages are parsed by the extractor, which needs ~20 times a page's size in memory.
        self.max_page_bytes = min(max_page_bytes or max_bytes, max_bytes)
        self.timeout = timeout
        self.deadline = deadline or 3 * timeout
        self.per_host = max(1, per_host)
        self.policy = policy or FetchPolicy()
        self.stop = stop or threading.Event()
        self.user_agent = user_agent
        self._limits = Limits()
        self._pool = httpcore.ConnectionPool(
            max_connections=None, max_keepalive_connections=20, keepalive_expiry=30.0,
            network_backend=GuardedBackend(self.policy, self._limits, self.stop))
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: GatherSettings, trusted: Iterable[str] = (),
                     stop: threading.Event | None = None) -> Fetcher:
        """The fetcher of one run: `trusted` are the URLs the operator configured (their origins are trusted)."""
        policy = FetchPolicy.create(trusted, allow_networks=settings.allow_networks, allow_ports=settings.allow_ports)
        return cls(user_agent=settings.user_agent, timeout=settings.timeout, max_bytes=settings.max_bytes,
                   per_host=settings.per_host_concurrency, deadline=settings.deadline, policy=policy, stop=stop,
                   max_page_bytes=settings.max_page_bytes)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.close()

    def get(self, url: str, *, etag: str | None = None, modified: str | None = None,
            accept: str = "", max_bytes: int | None = None) -> Response:
        """GET one URL within the policy and the size (max_bytes, or the fetcher's), time and per-host limits."""
        limit = min(max_bytes or self.max_bytes, self.max_bytes)
        if self.stop.is_set():
            raise Stopped(f"{url}: not fetched, stopping")
        if url.startswith("file:"):
            self.policy.check_url(url)  # only a file configured as a source
            return Response(data=read_file(url, limit), final_url=url)
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if accept:
            headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        # Redirects may cross hosts; the limit is on the host we were asked for, which is what a source hammers.
        with self._host_slot(url):
            self._limits.deadline = time.monotonic() + self.deadline
            try:
                return self._follow(url, headers, limit)
            finally:
                self._limits.deadline = float("inf")

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST within the policy (no origin trusted: the caller's URLs are not feeds) and the deadline; the status.
        No redirect is followed and the answer's body is drained up to DRAIN bytes and dropped, never kept: a
        short answer leaves the connection open for the next POST (keep-alive), a long one closes it."""
        self._limits.trusted, self._limits.url = False, url
        self.policy.check_url(url)
        self._limits.deadline = time.monotonic() + self.deadline
        timeouts = {"connect": self.timeout, "read": self.timeout, "write": self.timeout, "pool": self.timeout}
        try:
            with self._pool.stream("POST", target(url), content=body, extensions={"timeout": timeouts}, headers=[
                    ("Host", host_header(url)), ("User-Agent", self.user_agent), *headers.items()]) as response:
                drained = 0
                for chunk in response.iter_stream():
                    drained += len(chunk)
                    if drained > DRAIN:
                        break  # closed, not reused: a receiver cannot make us read
                return response.status
        except (DeadlinePassed, httpcore.TimeoutException) as exc:
            raise FeedError(f"{url}: timed out (no answer within {self.deadline:g} s)") from exc
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise FeedError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        finally:
            self._limits.deadline = float("inf")

    def _follow(self, url: str, headers: dict[str, str], limit: int) -> Response:
        """Each hop checked by the policy; the permanent-redirect chain remembered for the source."""
        moved_to, permanent = "", True
        for _hop in range(MAX_REDIRECTS + 1):
            self._limits.trusted = self.policy.check_url(url)
            self._limits.url = url
            if url.startswith("file:"):
                raise Refused(f"{url}: refused, a redirect cannot lead to a local file")
            status, location, response = self._request(url, headers, limit)
            if status in REDIRECTS and location:
                target = urljoin(url, location)
                permanent = permanent and status in PERMANENT
                if permanent and target.startswith(("http://", "https://")):
                    moved_to = target
                url = target
                continue
            return replace(response, moved_to=moved_to) if moved_to else response
        raise FeedError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _request(self, url: str, headers: dict[str, str], limit: int) -> tuple[int, str, Response | None]:
        """(status, redirect location, response): the body is read only when it is not a redirect."""
        request_headers = [("Host", host_header(url)), *headers.items()]
        timeouts = {"connect": self.timeout, "read": self.timeout, "write": self.timeout, "pool": self.timeout}
        try:
            with self._pool.stream("GET", target(url), headers=request_headers,
                                   extensions={"timeout": timeouts}) as response:
                fields = _headers(response.headers)
                status = response.status
                if status in REDIRECTS and fields.get("location"):
                    return status, fields["location"], None
                if status == 304:
                    return status, "", Response(not_modified=True, final_url=url)
                if status >= 400:
                    reason = response.extensions.get("reason_phrase", b"").decode("latin-1", "replace")
                    raise FeedError(f"{url}: HTTP {status} {reason}".rstrip())
                declared = fields.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FeedError(f"{url}: response larger than {limit} bytes")
                data = self._body(url, response.iter_stream(), fields.get("content-encoding", ""), limit)
        except DeadlinePassed as exc:
            raise FeedError(f"{url}: timed out (not complete after {self.deadline:g} s)") from exc
        except httpcore.TimeoutException as exc:
            raise FeedError(f"{url}: timed out ({exc.__class__.__name__}, nothing for {self.timeout:g} s)") from exc
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise FeedError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        return status, "", Response(data, fields.get("content-type", ""), fields.get("etag"),
                                    fields.get("last-modified"), url)

    def _body(self, url: str, chunks, encoding: str, limit: int) -> bytes:
        """The decoded body; both the bytes received and the bytes decoded stay within `limit`."""
        decoder = BoundedDecoder(encoding, limit)
        received, parts = 0, []
        for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise FeedError(f"{url}: response larger than {limit} bytes")
            parts.append(decoder.feed(chunk, url))
        parts.append(decoder.finish(url))
        return b"".join(parts)

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.BoundedSemaphore(self.per_host))


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}


def read_file(url: str, max_bytes: int) -> bytes:
    path = Path(unquote(urlsplit(url).path))
    try:
        if path.stat().st_size > max_bytes:
            raise FeedError(f"{path}: larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror}") from exc

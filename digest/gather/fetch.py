"""HTTP for the gatherer: one polite client shared by every source and article page.

Politeness lives here so no caller can forget it: an honest User-Agent on
every request, connect/read timeouts plus a deadline for the whole body (a
server that drips one byte a second never holds a worker for ever), a cap on
response size, conditional GET, and at most `per_host` requests in flight to
one host however many sources and pages share it. httpx.Client is safe to use
from several threads; the per-host semaphores make the limit hold across them.

Failures are FeedError with the URL in the message; nothing here parses.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from digest.errors import FeedError

PERMANENT = (301, 308)


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
                 transport: httpx.BaseTransport | None = None) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.per_host = max(1, per_host)
        self._client = httpx.Client(timeout=httpx.Timeout(timeout), headers={"User-Agent": user_agent},
                                    follow_redirects=True, max_redirects=10, transport=transport,
                                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=20))
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    def get(self, url: str, *, etag: str | None = None, modified: str | None = None,
            accept: str = "") -> Response:
        """GET one URL (http(s) or file://) within the size, time and per-host limits."""
        if url.startswith("file://"):
            return Response(data=read_file(url, self.max_bytes), final_url=url)
        if not url.startswith(("http://", "https://")):
            raise FeedError(f"{url}: only http(s) and file URLs can be fetched")
        headers = {"Accept": accept} if accept else {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        # Redirects may cross hosts; the limit is on the host we were asked for, which is what a source hammers.
        with self._host_slot(url):
            return self._get(url, headers)

    def _get(self, url: str, headers: dict[str, str]) -> Response:
        deadline = time.monotonic() + 3 * self.timeout
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                moved_to = _permanent_target(response)
                if response.status_code == 304:
                    return Response(not_modified=True, final_url=str(response.url), moved_to=moved_to)
                if response.status_code >= 400:
                    raise FeedError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FeedError(f"{url}: response larger than {self.max_bytes} bytes")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FeedError(f"{url}: response larger than {self.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise FeedError(f"{url}: timed out (body not complete after {3 * self.timeout:g} s)")
                    chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise FeedError(f"{url}: timed out ({exc.__class__.__name__})") from exc
        except httpx.HTTPError as exc:
            raise FeedError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        return Response(b"".join(chunks), response.headers.get("content-type", ""), response.headers.get("etag"),
                        response.headers.get("last-modified"), str(response.url), moved_to)

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.BoundedSemaphore(self.per_host))


def _permanent_target(response: httpx.Response) -> str:
    """The URL reached by the leading run of permanent redirects; a 302 after them is only temporary."""
    target = ""
    for hop in response.history:
        if hop.status_code not in PERMANENT:
            break
        location = hop.headers.get("location", "")
        target = str(hop.url.join(location)) if location else target
    return target if target.startswith(("http://", "https://")) else ""


def read_file(url: str, max_bytes: int) -> bytes:
    path = Path(unquote(urlsplit(url).path))
    try:
        if path.stat().st_size > max_bytes:
            raise FeedError(f"{path}: larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror}") from exc

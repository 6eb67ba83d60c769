"""A hostile HTTP/1.1 server for tests and benchmarks: real attacks on an HTTP client, on loopback.

Standard library only, and raw sockets on purpose: http.server's buffered
handler would flush whole responses and hide what matters here (a header that
never ends, bytes that arrive one at a time, a body that never grows when
decoded). Each request gets its own thread; every blocking call has a short
timeout and checks a stop Event, and stop() also shuts the sockets down, so
stop() returns promptly even while a handler is mid-drip and leaves no thread
behind.

    with HostileServer() as server:
        url = server.url("drip-headers")     # http://127.0.0.1:PORT/drip-headers
        ...                                  # point a fetcher at it
        assert [r.path for r in server.requests] == ["/drip-headers"]

Modes (the URL path selects one; see the `_mode_*` methods' docstrings):
drip-headers, empty-gzip, endless, gzip-bomb, many-entries, slow-body,
ok-feed, plus redirect (`/redirect?to=URL`, a 302 to anywhere) and /a/N (a
small article page, the target of the feeds' links). Anything else is 404.

`InternalService` is a plain server standing in for something a fetcher must
never reach (an intranet page, a metadata endpoint): it answers every path
with "SECRET-INTERNAL-PAGE" and records each hit, so a test can assert it got
none.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

MODES = ("drip-headers", "empty-gzip", "endless", "gzip-bomb", "many-entries", "slow-body", "heavy-pages",
         "ok-feed")

# Every blocking socket call wakes at least this often to look at the stop Event.
_TICK = 0.1
_MAX_HEAD = 65536
_HEAD_TIMEOUT = 10.0

BOMB_UNIT = 1 << 20  # the bomb repeats one 1 MiB block of text
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no mtime, OS unknown


class _Stopped(Exception):
    """The server is stopping, or the client hung up: the handler just returns."""


@dataclass(frozen=True)
class Request:
    """One request as received. Header names are lower-cased; `peer` is (host, port, ...)."""

    method: str
    path: str  # the request target as sent, query string included
    headers: dict[str, str]
    peer: tuple
    at: float = field(default_factory=time.time)


class _RequestLog(list):
    """A list of Request that threads append to under a lock; read it (or copy it) at any time."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def record(self, request: Request) -> None:
        with self._lock:
            self.append(request)

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self)

    def paths(self) -> list[str]:
        return [request.path for request in self.snapshot()]


class _ThreadedSocketServer:
    """Accept loop plus one thread per connection, all stoppable at once; subclasses answer in `_respond`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self.port = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self):
        """Bind, listen and start accepting; returns self so `server = X().start()` reads well."""
        family, _, _, _, address = socket.getaddrinfo(self.host, self._requested_port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(64)
        listener.settimeout(_TICK)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._stop.clear()
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"{type(self).__name__}-accept",
                                          daemon=True)
        self._acceptor.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, cut every open connection, and join every thread (idempotent)."""
        self._stop.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # wakes any thread blocked on this socket at once
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        if self._acceptor is not None:
            self._acceptor.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def threads_alive(self) -> int:
        """Connection and accept threads still running (0 after stop())."""
        with self._lock:
            alive = sum(thread.is_alive() for thread in self._threads)
        return alive + bool(self._acceptor is not None and self._acceptor.is_alive())

    # -- connections -----------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn, peer), daemon=True,
                                      name=f"{type(self).__name__}-conn-{peer[1]}")
            with self._lock:
                self._conns.add(conn)
                self._threads.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket, peer: tuple) -> None:
        conn.settimeout(_TICK)
        try:
            head = self._read_head(conn)
            if head is not None:
                self._respond(conn, _parse_head(head, peer))
                self._linger(conn)
        except (_Stopped, OSError, ValueError):
            pass
        finally:
            conn.close()
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def _respond(self, conn: socket.socket, request: Request) -> None:
        raise NotImplementedError

    def _read_head(self, conn: socket.socket) -> bytes | None:
        """The request line and headers, or None if the client sent no complete head in time."""
        data = b""
        deadline = time.monotonic() + _HEAD_TIMEOUT
        while b"\r\n\r\n" not in data:
            if len(data) > _MAX_HEAD or time.monotonic() > deadline:
                return None
            chunk = self._recv(conn, deadline)
            if not chunk:
                return None
            data += chunk
        return data.split(b"\r\n\r\n", 1)[0]

    def _recv(self, conn: socket.socket, deadline: float) -> bytes:
        """Up to 64 KiB; b"" at end of stream or when `deadline` (monotonic) passes with nothing read."""
        while time.monotonic() < deadline:
            self._check()
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return b""

    def _send(self, conn: socket.socket, data: bytes) -> None:
        """sendall that gives up when the server stops, even if the client stopped reading."""
        view = memoryview(data)
        while view:
            self._check()
            try:
                sent = conn.send(view)
            except TimeoutError:
                continue
            view = view[sent:]

    def _pause(self, seconds: float) -> None:
        """Sleep between writes, waking at once on stop()."""
        if self._stop.wait(seconds):
            raise _Stopped

    def _check(self) -> None:
        if self._stop.is_set():
            raise _Stopped

    def _linger(self, conn: socket.socket) -> None:
        """Half-close and drain briefly, so the client reads the whole response instead of a reset."""
        conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 1.0
        while self._recv(conn, deadline):
            pass


def _parse_head(head: bytes, peer: tuple) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, target, headers, peer)


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


# -- payloads (pure functions, so tests can check them without a socket) ------


def empty_deflate_block() -> bytes:
    """One non-final, empty stored deflate block (00 00 00 ff ff), as zlib's sync flush emits it.

    After a sync flush the stream is byte-aligned, so this block can follow
    itself any number of times: each decodes to nothing.
    """
    compressor = zlib.compressobj(wbits=31)
    out = compressor.compress(b"") + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out[:2] == b"\x1f\x8b" and out[10:] == b"\x00\x00\x00\xff\xff", out.hex()
    return out[10:]


def gzip_bomb(decoded_size: int = 2 << 30) -> bytes:
    """A valid gzip member of about decoded_size/1000 bytes that decodes to `decoded_size` (rounded to MiB).

    Built from one MiB of XML-ish text (an <item> whose description is a long
    run of one letter, the most compressible thing deflate knows), compressed
    once and ended by a full flush: the output is byte-aligned and refers to
    nothing before it, so repeating it N times is a valid stream of N MiB.
    Only the CRC-32 has to walk the decoded size, one MiB at a time; nothing
    ever holds more than a MiB of plain text.
    """
    head = b"<item><title>Bomb</title><description>"
    tail = b"</description></item>\n"
    unit = head + b"A" * (BOMB_UNIT - len(head) - len(tail)) + tail
    count = max(1, round(decoded_size / BOMB_UNIT))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    size = (count * BOMB_UNIT) & 0xFFFFFFFF
    return GZIP_HEADER + segment * count + final + crc.to_bytes(4, "little") + size.to_bytes(4, "little")


def many_entries_feed(base_url: str, count: int = 150_000, *, newest: float | None = None) -> bytes:
    """A gzip-compressed RSS 2.0 feed of `count` small items, one every 10 minutes back from `newest`.

    Built in slices through one compressobj, so the ~27 MB of XML never sits
    in memory whole.
    """
    newest = time.time() if newest is None else newest
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [compressor.compress(b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                               b"<title>Many entries</title><link>" + base_url.encode() +
                               b"/</link><description>A feed too long to keep whole.</description>\n")]
    for start in range(0, count, 2000):
        items = []
        for n in range(start, min(count, start + 2000)):
            date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(newest - n * 600))
            items.append(f"<item><title>Entry {n}</title><link>{base_url}/a/{n}</link>"
                         f'<guid isPermaLink="false">many-{n}</guid><pubDate>{date}</pubDate></item>\n')
        out.append(compressor.compress("".join(items).encode()))
    out.append(compressor.compress(b"</channel></rss>\n"))
    out.append(compressor.flush())
    return b"".join(out)


@functools.lru_cache(maxsize=1)
def heavy_page(size: int) -> bytes:
    """An article page of about `size` bytes: thousands of nested blocks of text, heavy for any parser."""
    block = ("<div class=\"c\"><div><p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8
             + "</p><span><a href=\"/x\">link</a></span></div></div>\n")
    head = "<!doctype html><html><head><title>Heavy</title></head><body><article><h1>Heavy</h1>"
    return (head + block * (size // len(block)) + "</article></body></html>").encode()


def small_feed(base_url: str, count: int = 3) -> bytes:
    """A small, valid RSS 2.0 feed: the control case."""
    now = time.time()
    items = "".join(
        f"<item><title>Control story {n}</title><link>{base_url}/a/{n}</link>"
        f'<guid isPermaLink="false">ok-{n}</guid>'
        f"<pubDate>{time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(now - n * 3600))}</pubDate>"
        f"<description>Control story number {n}. It is short, valid and served at once. "
        f"Nothing about it is hostile.</description></item>\n"
        for n in range(1, count + 1))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>OK feed</title>'
            f"<link>{base_url}/</link><description>Control.</description>\n{items}</channel></rss>\n").encode()


def _endless_block(base_url: str) -> bytes:
    """About 64 KB of RSS items, repeated for ever after the feed's opening."""
    items = []
    size, n = 0, 0
    while size < 65536:
        item = (f"<item><title>Endless {n}</title><link>{base_url}/a/{n}</link>"
                f"<description>More and more and more, and never a closing tag.</description></item>\n")
        items.append(item)
        size += len(item)
        n += 1
    return "".join(items).encode()


def _drip_header_bytes():
    """A status line and headers that never end: a new well-formed header for ever, never the blank line."""
    yield from b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
    n = 0
    while True:
        yield from b"X-Drip-%d: .\r\n" % n
        n += 1


_bomb_lock = threading.Lock()
_bomb_cache: dict[int, bytes] = {}


def cached_gzip_bomb(decoded_size: int) -> bytes:
    """gzip_bomb(), built once per size per process (it takes about a second at 2 GiB)."""
    with _bomb_lock:
        if decoded_size not in _bomb_cache:
            _bomb_cache[decoded_size] = gzip_bomb(decoded_size)
        return _bomb_cache[decoded_size]


class HostileServer(_ThreadedSocketServer):
    """Hostile HTTP/1.1 on 127.0.0.1; `url(mode)` for a mode's address; `requests` lists what came in.

    Arguments tune the attacks (defaults are the real thing; tests may shrink
    them): `drip_interval` between header bytes, `slow_body_interval` between
    body bytes, `empty_gzip_rate` in bytes per second of empty blocks,
    `bomb_size` decoded bytes of /gzip-bomb, `many_entries` items in
    /many-entries.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, drip_interval: float = 0.2,
                 slow_body_interval: float = 0.5, empty_gzip_rate: int = 100_000, bomb_size: int = 2 << 30,
                 many_entries: int = 150_000, heavy_page_size: int = 2_900_000) -> None:
        super().__init__(host, port)
        self.heavy_page_size = heavy_page_size
        self.drip_interval = drip_interval
        self.slow_body_interval = slow_body_interval
        self.empty_gzip_rate = empty_gzip_rate
        self.bomb_size = bomb_size
        self.many_entries = many_entries
        self.requests = _RequestLog()
        self._many_lock = threading.Lock()
        self._many: bytes | None = None

    def url(self, mode: str) -> str:
        """The address of `mode` ("gzip-bomb", "/gzip-bomb" and "redirect?to=..." all work)."""
        return f"{self.base_url}/{mode.lstrip('/')}"

    def prebuild(self) -> HostileServer:
        """Build the big payloads now, so the first client's timing does not include building them."""
        cached_gzip_bomb(self.bomb_size)
        self._many_entries_body()
        return self

    def _respond(self, conn: socket.socket, request: Request) -> None:
        self.requests.record(request)
        path = urlsplit(request.path).path
        mode = path.strip("/")
        handler = getattr(self, "_mode_" + mode.replace("-", "_"), None) if mode in MODES + ("redirect",) else None
        if handler is not None:
            handler(conn, request)
        elif path.startswith("/a/"):
            self._article(conn, path)
        elif path.startswith("/heavy/"):
            self._simple(conn, "200 OK", "text/html; charset=utf-8", heavy_page(self.heavy_page_size))
        else:
            self._simple(conn, "404 Not Found", "text/plain", b"no such mode\n")

    def _simple(self, conn: socket.socket, status: str, content_type: str, body: bytes,
                extra: dict[str, str] | None = None) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close",
                   **(extra or {})}
        self._send(conn, _head(status, headers) + body)

    # -- modes -----------------------------------------------------------

    def _mode_drip_headers(self, conn: socket.socket, request: Request) -> None:
        """Attack: headers one byte every 0.2 s, never finished; each byte resets a per-read timeout."""
        for byte in _drip_header_bytes():
            self._send(conn, bytes((byte,)))
            self._pause(self.drip_interval)

    def _mode_empty_gzip(self, conn: socket.socket, request: Request) -> None:
        """Attack: a gzip body of endless empty deflate blocks: bytes keep coming, the decoded body never grows."""
        self._send(conn, _head("200 OK", {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip",
                                          "Transfer-Encoding": "chunked", "Connection": "close"}))
        self._send(conn, _chunk(GZIP_HEADER))
        ticks_per_second = 20
        block = empty_deflate_block()
        payload = _chunk(block * max(1, self.empty_gzip_rate // ticks_per_second // len(block)))
        while True:
            self._send(conn, payload)
            self._pause(1 / ticks_per_second)

    def _mode_endless(self, conn: socket.socket, request: Request) -> None:
        """Attack: an RSS body with no length that never ends, sent as fast as the client reads."""
        self._send(conn, _head("200 OK", {"Content-Type": "application/rss+xml", "Connection": "close"}))
        self._send(conn, b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                         b"<title>Endless</title>\n")
        block = _endless_block(self.base_url)
        while True:
            self._send(conn, block)

    def _mode_gzip_bomb(self, conn: socket.socket, request: Request) -> None:
        """Attack: ~2 MB on the wire (honest Content-Length) that gzip-decodes to ~2 GB."""
        body = cached_gzip_bomb(self.bomb_size)
        self._simple(conn, "200 OK", "application/rss+xml", body, {"Content-Encoding": "gzip"})

    def _mode_many_entries(self, conn: socket.socket, request: Request) -> None:
        """Attack: a valid, gzip-encoded RSS feed of 150,000 items (~2 MB on the wire, ~27 MB decoded)."""
        self._simple(conn, "200 OK", "application/rss+xml", self._many_entries_body(), {"Content-Encoding": "gzip"})

    def _mode_slow_body(self, conn: socket.socket, request: Request) -> None:
        """Attack: headers at once promising 1,000,000 bytes, then one body byte every 0.5 s."""
        self._send(conn, _head("200 OK", {"Content-Type": "application/rss+xml", "Content-Length": "1000000",
                                          "Connection": "close"}))
        text = small_feed(self.base_url)
        for n in range(1_000_000):
            self._send(conn, text[n % len(text):n % len(text) + 1])
            self._pause(self.slow_body_interval)

    def _mode_ok_feed(self, conn: socket.socket, request: Request) -> None:
        """Control, not an attack: a small valid RSS feed of 3 items, served at once."""
        self._simple(conn, "200 OK", "application/rss+xml; charset=utf-8", small_feed(self.base_url))

    def _mode_redirect(self, conn: socket.socket, request: Request) -> None:
        """Attack: a 302 to whatever `?to=` names (e.g. an InternalService): redirect-based SSRF."""
        target = parse_qs(urlsplit(request.path).query).get("to", [""])[0]
        self._simple(conn, "302 Found", "text/plain", b"moved\n", {"Location": target})

    def _mode_heavy_pages(self, conn: socket.socket, request: Request) -> None:
        """Attack: eight teasers whose article pages are heavy HTML (just under the page cap), all in one run."""
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        items = "".join(f"<item><title>Heavy story {n}</title><link>{self.base_url}/heavy/{n}</link>"
                        f'<guid isPermaLink="false">heavy-{n}</guid><pubDate>{now}</pubDate>'
                        f"<description>A teaser.</description></item>\n" for n in range(8))
        body = (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Heavy pages</title>'
                f"<link>{self.base_url}/</link><description>Teasers.</description>\n{items}</channel></rss>\n")
        self._simple(conn, "200 OK", "application/rss+xml; charset=utf-8", body.encode())

    def _article(self, conn: socket.socket, path: str) -> None:
        """Not an attack: a short article page, what the feeds' /a/N links lead to."""
        body = (f"<!doctype html><html><head><title>Article {path}</title></head><body><article>"
                f"<h1>Article {path}</h1><p>A short article page on the hostile server. It exists so that "
                f"links in the feeds lead somewhere.</p></article></body></html>").encode()
        self._simple(conn, "200 OK", "text/html; charset=utf-8", body)

    def _many_entries_body(self) -> bytes:
        with self._many_lock:
            if self._many is None:
                self._many = many_entries_feed(self.base_url, self.many_entries)
            return self._many


class InternalService(_ThreadedSocketServer):
    """Something a fetcher must never reach: every path answers 200 "SECRET-INTERNAL-PAGE"; `hits` records each.

    Bind it wherever the test needs (default 127.0.0.1, ephemeral port);
    `url(path)` gives its address.
    """

    BODY = b"<!doctype html><html><body><h1>SECRET-INTERNAL-PAGE</h1></body></html>\n"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.hits = _RequestLog()

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _respond(self, conn: socket.socket, request: Request) -> None:
        self.hits.record(request)
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(self.BODY)),
                   "Connection": "close"}
        self._send(conn, _head("200 OK", headers) + self.BODY)

"""Self-test of tests/hostile_http.py with raw sockets: each attack does what it says, and stop() is prompt.

Nothing here touches digest: these tests check the weapon, not the target.
Reads are bounded by deadlines; the only waiting is on the server's own drip.
"""

from __future__ import annotations

import gzip
import socket
import time
import zlib

import pytest
from hostile_http import MODES, HostileServer, InternalService, empty_deflate_block, gzip_bomb


@pytest.fixture(scope="module")
def server():
    with HostileServer() as hostile:
        yield hostile
    assert hostile.threads_alive == 0


def request(server, path: str, headers: dict[str, str] | None = None) -> socket.socket:
    """A connected socket that has sent GET `path`."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             *(f"{k}: {v}" for k, v in (headers or {}).items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    return sock


def read_for(sock: socket.socket, seconds: float, limit: int = 1 << 30) -> bytes:
    """Everything that arrives within `seconds` (or until `limit` bytes, or the end of the stream)."""
    data = b""
    deadline = time.monotonic() + seconds
    while len(data) < limit and (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_head(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """Status line, lower-cased headers, and the body bytes that came with them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = read_for(sock, 5, limit=1)
        assert chunk, f"no complete head: {data[:200]!r}"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, rest


def dechunk(data: bytes) -> bytes:
    """The payload of the complete chunks at the start of a chunked body."""
    out = b""
    while b"\r\n" in data:
        size_line, rest = data.split(b"\r\n", 1)
        size = int(size_line, 16)
        if len(rest) < size + 2:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


def test_drip_headers_come_a_byte_at_a_time_and_never_end(server):
    with request(server, "/drip-headers") as sock:
        data = read_for(sock, 1.0)
    assert data == b"HTTP/1.1 200 OK\r\n"[:len(data)]  # at 0.2 s a byte, 1 s is not even the status line
    assert 2 <= len(data) <= 8, data
    assert b"\r\n\r\n" not in data


def test_gzip_bomb_is_small_on_the_wire_and_huge_decoded(server):
    with request(server, "/gzip-bomb") as sock:
        status, headers, body = read_head(sock)
        length = int(headers["content-length"])
        body += read_for(sock, 5, limit=length - len(body))
        assert read_for(sock, 1) == b""  # nothing after the declared length
    assert status.startswith("HTTP/1.1 200") and headers["content-encoding"] == "gzip"
    assert len(body) == length and 1_500_000 < length < 3_000_000
    assert int.from_bytes(body[-4:], "little") == 2 << 30  # ISIZE: 2 GiB claimed by the trailer
    decoder, produced = zlib.decompressobj(wbits=31), 0
    pending = body[:128 * 1024]
    while pending and produced < 64 << 20:
        produced += len(decoder.decompress(pending, 4 << 20))
        pending = decoder.unconsumed_tail
    assert produced >= 64 << 20  # 64 MiB out of 128 KiB in, and far from the end


def test_gzip_bomb_payload_is_a_valid_gzip_member():
    text = gzip.decompress(gzip_bomb(8 << 20))  # checks the CRC-32 and length trailer too
    assert len(text) == 8 << 20 and text.count(b"<item>") == 8


def test_empty_gzip_keeps_sending_bytes_that_decode_to_nothing(server):
    with request(server, "/empty-gzip") as sock:
        status, headers, body = read_head(sock)
        while len(body) < 32 * 1024:
            chunk = read_for(sock, 2, limit=1)
            assert chunk, "empty-gzip stopped sending"
            body += chunk
    assert headers["content-encoding"] == "gzip" and headers["transfer-encoding"] == "chunked"
    payload = dechunk(body)
    assert len(payload) > 30_000
    assert zlib.decompressobj(wbits=31).decompress(payload, 1 << 20) == b""
    assert payload[10:15] == empty_deflate_block() == b"\x00\x00\x00\xff\xff"


def test_endless_body_has_no_length_and_keeps_coming(server):
    with request(server, "/endless") as sock:
        status, headers, body = read_head(sock)
        body += read_for(sock, 5, limit=(1 << 20) - len(body))
    assert headers["content-type"] == "application/rss+xml" and "content-length" not in headers
    assert len(body) >= 1 << 20 and body.count(b"<item>") > 1000


def test_slow_body_promises_a_megabyte_and_drips_it(server):
    with request(server, "/slow-body") as sock:
        status, headers, body = read_head(sock)
        body += read_for(sock, 2, limit=1 - len(body))  # the first byte follows the head at once
        first = time.monotonic()
        body += read_for(sock, 2, limit=1)
        gap = time.monotonic() - first
    assert headers["content-length"] == "1000000"
    assert len(body) == 2 and gap >= 0.4


def test_many_entries_is_a_valid_feed_of_150000_items(server):
    with request(server, "/many-entries") as sock:
        status, headers, body = read_head(sock)
        body += read_for(sock, 10, limit=int(headers["content-length"]) - len(body))
    assert headers["content-encoding"] == "gzip" and 1_000_000 < len(body) < 4_000_000
    text = gzip.decompress(body)
    assert text.count(b"<item>") == 150_000
    assert f"<link>http://127.0.0.1:{server.port}/a/149999</link>".encode() in text
    assert text.rstrip().endswith(b"</rss>")


def test_ok_feed_and_requests_are_recorded(server):
    with request(server, "/ok-feed?probe=recorded", {"User-Agent": "probe/1"}) as sock:
        status, headers, body = read_head(sock)
        body += read_for(sock, 5, limit=int(headers["content-length"]) - len(body))
    assert status.startswith("HTTP/1.1 200") and body.count(b"<item>") == 3
    seen = [r for r in server.requests.snapshot() if r.path == "/ok-feed?probe=recorded"]
    assert len(seen) == 1
    assert seen[0].method == "GET" and seen[0].headers["user-agent"] == "probe/1"
    assert seen[0].peer[0] == "127.0.0.1"


def test_redirect_and_unknown_paths(server):
    with request(server, "/redirect?to=http://127.0.0.1:9/x") as sock:
        status, headers, _ = read_head(sock)
    assert status.startswith("HTTP/1.1 302") and headers["location"] == "http://127.0.0.1:9/x"
    with request(server, "/nope") as sock:
        assert read_head(sock)[0].startswith("HTTP/1.1 404")
    assert server.url("gzip-bomb") == f"http://127.0.0.1:{server.port}/gzip-bomb"
    assert set(MODES) >= {"drip-headers", "empty-gzip", "endless", "gzip-bomb", "many-entries", "slow-body"}


def test_stop_is_prompt_while_a_drip_is_in_progress():
    hostile = HostileServer().start()
    with request(hostile, "/drip-headers") as sock, request(hostile, "/slow-body") as slow:
        assert read_for(sock, 2, limit=1) == b"H"
        read_head(slow)
        started = time.monotonic()
        hostile.stop()
        elapsed = time.monotonic() - started
        assert elapsed < 2.0
        assert hostile.threads_alive == 0
        try:
            tail = read_for(sock, 2)
        except ConnectionResetError:
            tail = b""
        assert b"\r\n\r\n" not in tail


def test_internal_service_records_hits():
    with InternalService() as internal:
        with request(internal, "/latest/meta-data/") as sock:
            status, headers, body = read_head(sock)
            body += read_for(sock, 5, limit=int(headers["content-length"]) - len(body))
        assert status.startswith("HTTP/1.1 200") and b"SECRET-INTERNAL-PAGE" in body
        assert [hit.path for hit in internal.hits] == ["/latest/meta-data/"]
        assert internal.hits[0].peer[0] == "127.0.0.1"
        assert internal.url("x") == f"http://127.0.0.1:{internal.port}/x"
    assert internal.threads_alive == 0

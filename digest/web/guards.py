"""Guards at the web app's door: who the client is, how big a body may be, what the logs may show.

The client is the TCP peer, unless the peer is one of web.trusted_proxies:
then X-Forwarded-For is read from the right, skipping our own proxies, and
the first address not ours is the client. Anyone else's X-Forwarded-For is
ignored, or a rotating header would make every request a new client to the
signup limits, the consent record and the ops endpoints.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse


class ClientAddress:
    """request -> the client's address, believing X-Forwarded-For only from `trusted_proxies` (CIDRs)."""

    def __init__(self, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.trusted = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)

    def __call__(self, request: Request) -> str:
        peer = request.client.host if request.client else ""
        if not self._is_proxy(peer):
            return peer
        hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_proxy(hop):
                return hop if _is_address(hop) else peer
        return hops[0] if hops and _is_address(hops[0]) else peer

    def is_https(self, request: Request) -> bool:
        """The client reached us over TLS: directly, or through one of our proxies that says so."""
        if request.url.scheme == "https":
            return True
        peer = request.client.host if request.client else ""
        return self._is_proxy(peer) and request.headers.get("x-forwarded-proto", "").lower() == "https"

    def _is_proxy(self, address: str) -> bool:
        if not self.trusted:  # the common case, and every counted link's request (/r/): no parsing at all
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted if network.version == ip.version)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class SecurityHeaders:
    """Headers every answer carries: no sniffing, no Referer to other sites, no framing but /embed/."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        frameable = scope.get("path", "").startswith("/embed/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")  # links carry tokens: none leave the site
                if not frameable:
                    headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, with_headers)


class SameOriginPosts:
    """Refuse a POST that a browser sent from another site (its Origin names neither us nor an allowed site).

    Mail providers' one-click unsubscribe POSTs carry no Origin and pass; a
    page elsewhere cannot make a visitor's browser sign them up or undo things.
    """

    def __init__(self, app, allowed_origins: tuple[str, ...] = (), site_origin: str = "", refuse=None) -> None:
        self.app, self.refuse = app, refuse or _plain  # refuse(path, status, English text): the answer
        self.allowed = {o.rstrip("/").lower() for o in (*allowed_origins, site_origin) if o}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = Headers(scope=scope)
            origin = headers.get("origin", "").rstrip("/").lower()
            host = headers.get("host", "").lower()
            named_elsewhere = origin not in ("", "null") and origin not in self.allowed and \
                origin.split("://", 1)[-1] != host
            cross_site = headers.get("sec-fetch-site") == "cross-site" and origin not in self.allowed
            if named_elsewhere or cross_site:
                return await self.refuse(scope["path"], 403, "Cross-site request refused.")(scope, receive, send)
        return await self.app(scope, receive, send)


class RedactTokens(logging.Filter):
    """Access log lines without the secrets links carry (confirmation and unsubscribe tokens), and none for a
    counted link (/r/): its line would keep the reader's address beside the link (and, per reader, the reader),
    which click analytics promise not to keep; they are counted in /metrics instead."""

    _TOKEN = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            if len(record.args) > 2 and str(record.args[2]).startswith("/r/"):  # uvicorn: (client, method, path..)
                return False
            record.args = tuple(self._TOKEN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        record.msg = self._TOKEN.sub(r"\1[redacted]", str(record.msg))
        return True


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413), declared or streamed."""

    def __init__(self, app, max_bytes: int, refuse=None) -> None:
        self.app, self.max_bytes, self.refuse = app, max_bytes, refuse or _plain

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            return await self.refuse(scope["path"], 413, "Request body too large.")(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self.refuse(scope["path"], 413, "Request body too large.")(scope, receive, send)


class _TooLarge(Exception):
    pass


def _plain(path: str, status: int, text: str) -> PlainTextResponse:
    return PlainTextResponse(text, status_code=status)

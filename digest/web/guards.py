"""Abuse guards for the web app: a per-IP signup limit and a request body cap.

The per-IP window lives in the web process's memory (each worker counts on
its own); the per-address limit that matters most, confirmation emails per
address, is counted in the database by subscribers.optin and holds across
processes.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

from starlette.responses import PlainTextResponse


class IpLimiter:
    """Sliding one-hour window per client IP, in this process's memory."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_hour, self.clock = per_hour, clock
        self.hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, ip: str) -> bool:
        now, hits = self.clock(), self.hits[ip]
        while hits and hits[0] <= now - 3600:
            hits.popleft()
        if len(hits) >= self.per_hour:
            return False
        hits.append(now)
        return True


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413), declared or streamed."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            return await PlainTextResponse("Request body too large.", status_code=413)(scope, receive, send)
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
            await PlainTextResponse("Request body too large.", status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass

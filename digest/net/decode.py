"""Content-Encoding undone with a cap on the output, so a gzip bomb never inflates past it in memory."""

from __future__ import annotations

import zlib

from digest.errors import FeedError


class BoundedDecoder:
    """Content-Encoding gzip / deflate / identity, never producing more than `limit` bytes in total."""

    def __init__(self, encoding: str, limit: int) -> None:
        names = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip().lower() != "identity"]
        if len(names) > 1 or (names and names[0] not in ("gzip", "x-gzip", "deflate")):
            raise FeedError(f"unsupported Content-Encoding {encoding!r}")
        self.kind = names[0] if names else ""
        self.limit, self.produced = limit, 0
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if self.kind in ("gzip", "x-gzip") else zlib.MAX_WBITS)
        self._first = True

    def feed(self, chunk: bytes, url: str) -> bytes:
        if not self.kind:
            return chunk
        if self._first and self.kind == "deflate" and chunk:
            self._first = False
            if chunk[0] & 0x0F != 8:  # raw deflate without the zlib header, as some servers send it
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            out = self._zlib.decompress(chunk, self.limit - self.produced + 1)
        except zlib.error as exc:
            raise FeedError(f"{url}: body does not decode as {self.kind}: {exc}") from exc
        self.produced += len(out)
        if self.produced > self.limit or self._zlib.unconsumed_tail:
            raise FeedError(f"{url}: response larger than {self.limit} bytes once decoded")
        return out

    def finish(self, url: str) -> bytes:
        if not self.kind:
            return b""
        out = self._zlib.flush(self.limit - self.produced + 1)
        if self.produced + len(out) > self.limit:
            raise FeedError(f"{url}: response larger than {self.limit} bytes once decoded")
        return out


__all__ = ["BoundedDecoder"]

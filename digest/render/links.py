"""Counted links (issue 26): an issue's article links turned into /r/<token> on the site, and the tokens.

A token says only "issue N, link number K" and is signed with a key derived
from the site secret, so nobody can make one for a link we did not send and
the web app can refuse a forged or truncated one without asking the
database. The target is never in the token: /r/ looks it up, so the site
is no open redirect. No reader id goes in: counts are per issue and link.

Links are rewritten in the finished bodies (after premailer), once per
issue, when the issue has the id the token carries; the unsubscribe and
preference links and the web version link are not article links and stay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import struct
from collections.abc import Callable

TOKEN_BYTES = 16  # 4 (issue) + 2 (link number) + 10 (signature, 80 bits)
_PACK = struct.Struct(">IH")
BEACONS = "<!--counted-->"
_BEACON_BLOCK = re.compile(r"<!--email-only-->" + re.escape(BEACONS) + r".*?<!--/email-only-->", re.DOTALL)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
_READER = struct.Struct(">II")  # issue, subscriber
READER_BYTES = 12  # 4 (subscriber) + 8 (signature over issue and subscriber, 64 bits)
READER_CHARS = 16
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)


def click_key(secret: str) -> bytes:
    """Its own key: a click token must never be usable as any other token the site secret signs."""
    return hashlib.sha256(b"digest click links\x00" + secret.encode("utf-8")).digest()


def link_token(key: bytes, issue_id: int, number: int) -> str:
    payload = _PACK.pack(issue_id, number)
    signature = hmac.digest(key, payload, "sha256")[:TOKEN_BYTES - _PACK.size]
    return base64.urlsafe_b64encode(payload + signature).rstrip(b"=").decode("ascii")


def read_link_token(key: bytes, token: str) -> tuple[int, int] | None:
    """(issue id, link number), or None for anything we did not sign (forged, truncated, padded, too long)."""
    if len(token) != 22 or not _TOKEN.fullmatch(token):
        return None
    raw = base64.urlsafe_b64decode(token + "==")
    if base64.urlsafe_b64encode(raw)[:22].decode("ascii") != token:  # another spelling of the same bytes
        return None
    payload, signature = raw[:_PACK.size], raw[_PACK.size:]
    if not hmac.compare_digest(signature, hmac.digest(key, payload, "sha256")[:len(signature)]):
        return None
    return _PACK.unpack(payload)


def reader_part(key: bytes, issue_id: int, subscriber_id: int) -> str:
    """What follows a counted link's token in one reader's copy when analytics.per_reader is on: ".<16 chars>",
    the reader's id signed together with the issue, so it is good for that issue's links only."""
    return reader_parts(key, issue_id)(subscriber_id)


def reader_parts(key: bytes, issue_id: int) -> Callable[[int], str]:
    """reader_part for every reader of one issue, the issue's share of the HMAC done once (a send makes one
    per message: a copy of the keyed state and one short update each)."""
    issue = hmac.new(key, b"reader\x00" + issue_id.to_bytes(4, "big"), "sha256")

    def part(subscriber_id: int) -> str:
        mac, reader = issue.copy(), subscriber_id.to_bytes(4, "big")
        mac.update(reader)
        return "." + base64.urlsafe_b64encode(reader + mac.digest()[:READER_BYTES - 4]).decode("ascii")
    return part


def read_reader_part(key: bytes, issue_id: int, part: str) -> int | None:
    """The subscriber id of a reader part (without its dot), or None if we did not sign it for this issue."""
    if len(part) != READER_CHARS or not _TOKEN.fullmatch(part + "xxxxxx"):
        return None
    raw = base64.urlsafe_b64decode(part)
    if base64.urlsafe_b64encode(raw).decode("ascii") != part:
        return None
    payload = _READER.pack(issue_id, int.from_bytes(raw[:4], "big"))
    if not hmac.compare_digest(raw[4:], hmac.digest(key, b"reader\x00" + payload, "sha256")[:READER_BYTES - 4]):
        return None
    return _READER.unpack(payload)[1]


def rewrite_links(body_html: str, body_text: str, counted: dict[str, str]) -> tuple[str, str]:
    """Each href (HTML) and each whole URL (text) that is a key of `counted` replaced by its value."""
    def href(match: re.Match) -> str:
        target = counted.get(html.unescape(match.group(2)))
        return match.group(0) if target is None else f"{match.group(1)}{target}{match.group(3)}"

    body_html = _HREF.sub(href, body_html)
    if counted:
        pattern = re.compile(r"(?<!\S)(" + "|".join(re.escape(u) for u in sorted(counted, key=len, reverse=True))
                             + r")(?!\S)")
        body_text = pattern.sub(lambda m: counted[m.group(1)], body_text)
    return body_html, body_text


def add_beacons(body_html: str, canary_url: str | None, pixel_url: str | None) -> str:
    """The hidden canary link (no person sees or follows it; a scanner following every href does) and the open
    pixel, just before </body>, email-only: the web version carries neither."""
    parts = []
    if canary_url:
        parts.append(f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">'
                     f'<a href="{canary_url}" tabindex="-1">{html.escape("archive")}</a></div>')
    if pixel_url:
        parts.append(f'<img src="{pixel_url}" width="1" height="1" alt="" '
                     'style="display:block;width:1px;height:1px;border:0">')
    if not parts:
        return body_html
    block = f"<!--email-only-->{BEACONS}" + "".join(parts) + "<!--/email-only-->"
    at = body_html.rfind("</body>")
    return body_html + block if at < 0 else body_html[:at] + block + body_html[at:]


def without_beacons(body_html: str) -> str:
    """The HTML without canary and pixel: for an editor's preview, which must count as neither."""
    return _BEACON_BLOCK.sub("", body_html)


__all__ = ["without_beacons", "add_beacons", "click_key", "link_token", "read_link_token", "read_reader_part",
           "reader_part", "reader_parts", "rewrite_links"]

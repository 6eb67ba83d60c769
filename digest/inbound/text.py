"""The words a returned message says to people, without the copy of our own message it carries back.

A bounce usually quotes what it returns: the digest's headers and text,
written by the newsroom ("account suspended", "mailbox full" and "blocked" are
news words too). Only the server's part may speak about the delivery, so the
text is cut where the returned copy starts: its MIME part (message/rfc822,
text/rfc822-headers), a marker line ("----- Original message -----", "Below
this line is a copy of the message"), or the first header block of a quoted
message. Bounded in size: a hostile message cannot make classification slow.
"""

from __future__ import annotations

import re
from email.message import Message

MAX_CHARS = 8000
_RETURNED_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers",
                   "message/delivery-status", "message/feedback-report", "message/global-delivery-status")
_MARKER = re.compile(
    r"^[\s\-=_*>|]*(?:original message|-+ ?original|below (?:this line )?is a copy|(?:this|here) is a copy of|"
    r"a copy of (?:the|your) (?:original )?message|copy of (?:the )?original message|the (?:header|headers) of the "
    r"original|original message (?:headers|follows|details)|headers of (?:the )?(?:original|returned)|"
    r"returned message|undelivered message|message (?:headers|text) follows?|your message reads|"
    r"the original message (?:is|follows)|content-type: message/rfc822|\[original message)",
    re.IGNORECASE | re.MULTILINE)
# Two header lines of a quoted message in a row: what follows is our message, not the server's words.
_QUOTED_HEADERS = re.compile(r"^(?:received|return-path|message-id|list-unsubscribe|dkim-signature|from|to|"
                             r"subject|date|mime-version|content-type): .*\n(?:[ \t].*\n)*"
                             r"(?:received|return-path|message-id|list-unsubscribe|dkim-signature|from|to|subject|"
                             r"date|mime-version|content-type|x-[\w-]+): ", re.IGNORECASE | re.MULTILINE)
_TAG = re.compile(r"<[^>]{0,2000}>")
_HIDDEN = re.compile(r"<(style|script)\b", re.IGNORECASE)
_ENTITY = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'"}


def human_text(message: Message) -> str:
    """The server's own words: the readable parts before any returned copy, each cut at its markers."""
    pieces, size = [], 0
    for part in _readable_parts(message):
        text = cut_returned(_decoded(part))
        if _kind(part) == "text/html":
            text = _untag(text)
        pieces.append(text)
        size += len(text)
        if size >= MAX_CHARS:
            break
    return "\n".join(pieces)[:MAX_CHARS]


def cut_returned(text: str) -> str:
    """Text up to the first sign of the returned message."""
    text = text[: MAX_CHARS * 4]
    ends = [m.start() for m in (_MARKER.search(text), _QUOTED_HEADERS.search(text)) if m is not None]
    return text[: min(ends)] if ends else text


def _readable_parts(message: Message):
    """text/plain (or text/html when a part has no plain text) outside the returned copy, in order."""
    if not message.is_multipart():
        # A multipart whose boundary the parser could not find is still text; so is a body with no type.
        if message.get_content_maintype() in ("text", "multipart"):
            yield message
        return
    stack = [message]
    while stack:
        part = stack.pop(0)
        kind = _kind(part)
        if kind in _RETURNED_TYPES:
            continue
        if part.is_multipart():
            children = part.get_payload()
            if kind == "multipart/alternative":
                plain = [c for c in children if c.get_content_type() == "text/plain"]
                children = plain[:1] or children[:1]
            stack[:0] = list(children)
        elif kind in ("text/plain", "text/html") and not str(part.get("Content-Disposition", "")).lower().startswith(
                "attachment"):
            yield part


def _kind(part: Message) -> str:
    """The content type, also where a server left out the ";" before its parameters ("text/plain\n charset=")."""
    kind = part.get_content_type().split()
    return kind[0] if kind else "text/plain"


def _decoded(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True) or b""
        if isinstance(payload, list):
            return ""
    except Exception:  # noqa: BLE001  (a broken transfer encoding reads as no text)
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload[: MAX_CHARS * 8].decode(charset, "replace")
    except LookupError:
        return payload[: MAX_CHARS * 8].decode("utf-8", "replace")


def _untag(html: str) -> str:
    """Tags out, style and script blocks out with their contents, in one pass (no regex that could
    rescan the rest of the text from every unclosed <style)."""
    kept, at = [], 0
    lower = html.lower()
    while (found := _HIDDEN.search(html, at)) is not None:
        kept.append(html[at:found.start()])
        end = lower.find(f"</{found.group(1).lower()}", found.end())
        at = len(html) if end < 0 else end
    kept.append(html[at:])
    text = _TAG.sub(" ", "".join(kept))
    for entity, char in _ENTITY.items():
        text = text.replace(entity, char)
    return text

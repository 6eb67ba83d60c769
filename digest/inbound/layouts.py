"""Which addresses a bounce in no standard format says failed, and what it says about each one.

A bounce without a delivery-status part still names the failed address in its
text, and each mail server puts it in the same few places: alone on a line
(qmail's "<a@b>:", Exim's indented "  a@b", Lotus Notes, BIGLOBE, Google's old
notices, "  * a@b"), at the head of a line with the server's reply after it or in
brackets ("a@b [User unknown]", as Sisimai's notes on the server it calls X1 show it)
(OpenSMTPD's "a@b: 550 ...", Postfix's "<a@b>: host ... said:", Sendmail's
"550 <a@b>... User unknown", Smail's "a@b ... failed: ..."), or after a phrase
("There was an error delivering your mail to <a@b>", "Could not be delivered
to: <a@b>", "Unable to deliver message to: <a@b>", "Addressed To:", "rejected
recipient <a@b>", a transcript's "RCPT TO:<a@b>"). The lines after it (or,
when none follow, the lines just before it, as Notes writes them) are what the
server said about that address. The bounce's own header addresses and the
postmaster are never a failed recipient. Bounded: at most MAX_LINES lines of
at most 500 characters are read.
"""

from __future__ import annotations

import re

MAX_LINES = 300
ADDRESS = r"[^\s<>()\[\]@,;:\"']{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8}"
# An address at the head of a line, alone or followed by what the server said of it.
_HEAD = re.compile(
    rf"^[ \t]*(?:[*>]+[ \t]*|recipient:[ \t]*)?<?(?P<addr>{ADDRESS})>?(?:[ \t]+<{ADDRESS}>)?[ \t]*"
    r"(?:(?::|\.\.\.|[ \t]\.\.\.(?:[ \t]*failed:)?)[ \t]*(?P<rest>.*)|[ \t]+on[ \t].*"
    r"|[ \t]+\((?P<paren>.{1,400})\)[ \t]*|[ \t]+\[(?P<bracket>[^\[\]]{1,400})\][ \t]*)?$", re.IGNORECASE)
# Sendmail's reply naming the address: "550 <a@b>... User unknown", "550 5.1.1 <a@b>... User unknown".
_REPLY = re.compile(
    rf"^[ \t]*[245]\d\d[ -](?:[245]\.\d{{1,3}}\.\d{{1,3}}[ \t]+)?<(?P<addr>{ADDRESS})>\.\.\.[ \t]*(?P<rest>.*)$")
# An address after a phrase that names the failed recipient.
_NAMED = re.compile(
    r"(?:delivering your mail to|could not be delivered to:?|unable to deliver (?:the )?(?:message )?to:?|"
    rf"addressed to:|rejected recipient|rcpt to:)[ \t]*<?(?P<addr>{ADDRESS})>?", re.IGNORECASE)
_NOT_RECIPIENT = re.compile(r"^(?:postmaster|mailer-daemon|mailer_daemon|abuse|hostmaster)@", re.IGNORECASE)
# A rule or a banner line ("------- Failure Reasons -------"): the end of what was said about an address.
_RULE = re.compile(r"^[\s\-=_*+|]*$|^\s*[\-=_*|]{3,}")
# A short heading ("Technical details:"): what the server said comes after it.
_HEADING = re.compile(r"^[^:]{1,60}:[ \t]*$")


def failed_in_text(text: str, own: set[str] = frozenset()) -> dict[str, str]:
    """{address: what the server said about it}, in the order the text names them (lower-cased addresses)."""
    lines = [line.rstrip("\r")[:500] for line in text.splitlines()[:MAX_LINES]]
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        if "@" not in line:
            continue
        address, rest, named = _address(line)
        if not address or address in own or _NOT_RECIPIENT.match(address):
            continue
        said = _said(lines, index, rest, named)
        earlier = found.get(address, "")
        # Named again (SurfControl's "Addressed To:" then its reply line): all it says of the address counts.
        found[address] = f"{earlier} {said}"[:500].strip() if said not in earlier else earlier
    return found


def _address(line: str) -> tuple[str, str, bool]:
    """(address, the rest of its line, whether a phrase named it) or ("", "", False)."""
    for pattern in (_REPLY, _HEAD):
        match = pattern.match(line)
        if match:
            said = match.groupdict()
            return match.group("addr").lower(), (said.get("rest") or said.get("paren") or said.get("bracket")
                                                 or "").strip(), False
    match = _NAMED.search(line)
    return (match.group("addr").lower(), line.strip(), True) if match else ("", "", False)


def _said(lines: list[str], index: int, rest: str, named: bool) -> str:
    """The address line's own words and the lines that follow it up to a blank line or the next address
    (after a sentence naming the address, its next paragraph: DragonFly's "did not like our RCPT TO:");
    when nothing follows, the lines just before it."""
    words = [rest] if rest else []
    following = lines[index + 1:index + 10]
    if named:
        while following and not following[0].strip():
            following.pop(0)
    for line in following[:7]:
        if not line.strip() or _RULE.match(line) or _HEAD.match(line) or _REPLY.match(line):
            break
        words.append(line.strip())
    if not words:
        for line in reversed(lines[max(0, index - 4):index]):
            if not line.strip() or _RULE.match(line) or line.rstrip().endswith(":"):
                break
            words.insert(0, line.strip())
    if not words:  # the next paragraph, past banners and headings ("----- Non-delivered information -----",
        following = lines[index + 1:index + 12]  # "Technical details:")
        while following and (not following[0].strip() or _RULE.match(following[0]) or _HEADING.match(following[0])):
            following.pop(0)
        for line in following[:5]:
            if not line.strip() or _RULE.match(line) or _HEAD.match(line) or _REPLY.match(line):
                break
            words.append(line.strip())
    return " ".join(words)[:500]

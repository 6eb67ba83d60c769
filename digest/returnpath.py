"""Signed per-message envelope senders (VERP): a bounce names the delivery it is about.

An issue delivery leaves with `bounces+d<delivery id>.<mac>@<domain>`, a
one-off message (a confirmation, a welcome) with `bounces+t<mac of the
address>@<domain>`. The MAC is an HMAC of the site key, so only we can make
an address that acts on a delivery or a reader: a forged bounce to a guessed
address is kept for the operator and changes nothing. Lower case only, since
some MTAs fold the case of local parts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

MAC_CHARS = 10  # 50 bits: a forger needs about 2**49 tries per address


@dataclass(frozen=True)
class ReturnPath:
    """What a bounce address names: a delivery id, or (for one-off mail) the MAC of the recipient's address."""

    delivery_id: int | None = None
    address_mac: str | None = None

    def matches_address(self, secret: str, email: str) -> bool:
        return self.address_mac is not None and hmac.compare_digest(self.address_mac, _mac(secret, f"t:{email.lower()}"))


def for_delivery(secret: str, local_part: str, domain: str, delivery_id: int) -> str:
    tag = f"d{delivery_id}"
    return f"{local_part}+{tag}.{_mac(secret, tag)}@{domain}"


def for_address(secret: str, local_part: str, domain: str, email: str) -> str:
    return f"{local_part}+t{_mac(secret, f't:{email.lower()}')}@{domain}"


def read(secret: str, local_part: str, domain: str, address: str) -> ReturnPath | None:
    """The ReturnPath a (signed) bounce address names; None for any other address or a bad MAC."""
    match = re.fullmatch(rf"{re.escape(local_part)}\+(?:(d\d{{1,18}})\.([a-z2-7]{{{MAC_CHARS}}})|t([a-z2-7]{{{MAC_CHARS}}}))"
                         rf"@{re.escape(domain)}", address.strip().strip("<>").lower())
    if match is None:
        return None
    if match.group(1):
        if not hmac.compare_digest(match.group(2), _mac(secret, match.group(1))):
            return None
        return ReturnPath(delivery_id=int(match.group(1)[1:]))
    return ReturnPath(address_mac=match.group(3))


def is_bounce_address(local_part: str, domain: str, address: str) -> bool:
    """Any address of our bounce mailbox, signed or not (the listener accepts these, then checks)."""
    local, _, host = address.strip().strip("<>").lower().rpartition("@")
    return host == domain.lower() and (local == local_part or local.startswith(f"{local_part}+"))


def _mac(secret: str, tag: str) -> str:
    digest = hmac.new(secret.encode(), b"verp\0" + tag.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_CHARS]

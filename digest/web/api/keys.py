"""API keys: made once and shown once, kept as a SHA-256 hash, each with the scopes it may use.

A key reads `dgk_<8 characters>_<32 characters>`: the first part names it in
logs and lists (the `prefix`), the rest is 190 bits of randomness, so a plain
hash is safe to store (no one guesses such a key from its hash; a slow hash
would only slow every API request). Looking a key up is one indexed read.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.errors import DigestError
from digest.models_api import ApiKey
from subscribers.limits import take

# webhooks:manage registers, changes and removes webhook endpoints (it names where readers' addresses are sent).
SCOPES = ("subscribers:read", "subscribers:write", "issues:read", "issues:write", "stats:read", "webhooks:manage")
NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
LAST_USED_EVERY = timedelta(minutes=1)  # "last used" is shown to the minute
# Requests with an unknown, revoked or forged key per network (/24, /64) a minute: past it, 429 until the minute
# ends, answered from this process's memory (no database read) once it has counted the network over.
UNKNOWN_PER_MINUTE = 30
_BARRED_MAX = 10_000
_barred: dict[str, datetime] = {}  # network -> end of the minute it is over its budget


class ApiKeyError(DigestError):
    """A key that cannot be made or changed (its name, its scopes)."""


@dataclass(frozen=True)
class Caller:
    """Who is asking through the API: a key's name and scopes (the audit log's "operator" is api:<name>)."""

    key_id: int
    name: str
    scopes: frozenset[str]

    @property
    def who(self) -> str:
        return f"api:{self.name}"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_key(session: Session, name: str, scopes: list[str], now: datetime) -> str:
    """The new key itself: shown to the operator once, never stored."""
    if not NAME_RE.match(name):
        raise ApiKeyError(f"a key's name is 1 to 64 letters, digits or _ . @ -, not {name!r}")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ApiKeyError(f"scopes are some of {', '.join(SCOPES)}" + (f"; unknown: {', '.join(unknown)}" if unknown
                                                                     else ""))
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise ApiKeyError(f"there is already a key named {name!r}")
    prefix = secrets.token_urlsafe(6)[:8].replace("_", "x").replace("-", "y")
    key = f"dgk_{prefix}_{secrets.token_urlsafe(24)}"
    session.add(ApiKey(name=name, prefix=prefix, key_hash=_hash(key), scopes=" ".join(sorted(set(scopes))),
                       created_at=now))
    session.flush()
    return key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.name)))


def revoke_key(session: Session, name: str, now: datetime) -> bool:
    """At once for every process (each request reads the key); False if it was revoked already."""
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise ApiKeyError(f"no key named {name!r}")
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    return True


def barred(network: str, now: datetime) -> bool:
    """True while this process knows the network is over its budget of unknown keys (no database read)."""
    until = _barred.get(network)
    if until is None:
        return False
    if now >= until:
        _barred.pop(network, None)
        return False
    return True


def count_unknown(session: Session, network: str, now: datetime) -> bool:
    """Count a request with an unknown key against its network's budget (the rate-limit rows every process
    shares); False, and the network remembered here until the minute ends, once it is over."""
    if take(session, f"api-unknown:{network}", UNKNOWN_PER_MINUTE, now, timedelta(minutes=1)):
        return True
    if len(_barred) >= _BARRED_MAX:
        for stale in [n for n, until in _barred.items() if until <= now]:
            del _barred[stale]
    if len(_barred) < _BARRED_MAX:
        start = int(now.timestamp()) // 60 * 60
        _barred[network] = now + timedelta(seconds=start + 60 - now.timestamp())
    return False


def well_formed(presented: str) -> bool:
    """A key's shape: anything else is refused without a database read (and counts against no budget)."""
    return presented.startswith("dgk_") and len(presented) <= 100


def caller_for(session: Session, presented: str, now: datetime, quick_commit: bool = False) -> Caller | None:
    """The caller a presented key names (its last use stamped); None for an unknown or revoked key.

    `quick_commit` (a read: its transaction holds only the request's count and audit line): on PostgreSQL the
    transaction commits without waiting for the WAL flush, asked in the same round trip as the key."""
    if not well_formed(presented):
        return None
    query = select(ApiKey).where(ApiKey.key_hash == _hash(presented))
    if quick_commit and session.get_bind().dialect.name == "postgresql":
        query = query.add_columns(func.set_config("synchronous_commit", "off", True))
    key = session.scalar(query)
    if key is None or key.revoked_at is not None:
        return None
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:  # not one UPDATE per request
        key.last_used_at = now
    return Caller(key.id, key.name, frozenset(key.scopes.split()))

"""Budgets that hold across processes: counts per key per fixed window, kept in the database.

A signup endpoint is a way to make us send mail to any address. The limits
that stop it from becoming a mail cannon must hold for every web worker and
replica at once and under concurrent requests, so each use is one atomic
upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on SQLite and
PostgreSQL alike) whose returned count decides.

Keys say what is limited: the mailbox (+tags and Gmail's dots folded, so
variants of one inbox share a budget), the network (/24 for IPv4, /64 for
IPv6, where one host or one customer's line lives), the whole site.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from subscribers.models import RateCount

HOUR = timedelta(hours=1)
# Providers that deliver name.surname@ and namesurname@ to one inbox.
_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def take(session: Session, key: str, limit: int, now: datetime, window: timedelta = HOUR) -> bool:
    """Count one use of `key` in the current window; False when that goes past `limit`."""
    seconds = int(window.total_seconds())
    start = int(now.timestamp()) // seconds * seconds
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RateCount).values(key=key[:200], window=start, count=1)
    statement = statement.on_conflict_do_update(index_elements=["key", "window"],
                                                set_={"count": RateCount.count + 1}).returning(RateCount.count)
    count = session.execute(statement).scalar_one()
    if count == 1 and key.startswith("site:"):
        # The first use of the site's budget in a window: a good moment to drop windows long past.
        session.execute(delete(RateCount).where(RateCount.window < start - 2 * seconds))
    return count <= limit


def used(session: Session, key: str, now: datetime, window: timedelta = HOUR) -> int:
    """How many uses `key` has counted in the current window, counting none."""
    seconds = int(window.total_seconds())
    start = int(now.timestamp()) // seconds * seconds
    return session.scalar(select(RateCount.count).where(RateCount.key == key[:200], RateCount.window == start)) or 0


_STAMP_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)  # seconds since then fit a 32-bit count until 2088


def stamp(session: Session, key: str, now: datetime) -> None:
    """Remember when `key` last happened (one row, atomically replaced): for waits that grow with each try."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    seconds = int((now - _STAMP_EPOCH).total_seconds())
    session.execute(insert(RateCount).values(key=key[:200], window=0, count=seconds)
                    .on_conflict_do_update(index_elements=["key", "window"], set_={"count": seconds}))


def stamped(session: Session, key: str) -> datetime | None:
    seconds = session.scalar(select(RateCount.count).where(RateCount.key == key[:200], RateCount.window == 0))
    return None if seconds is None else _STAMP_EPOCH + timedelta(seconds=seconds)


def mailbox_key(email: str) -> str:
    """One inbox, however it is spelled: case, +tag and (for Gmail) dots in the local part do not count."""
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS:
        local, domain = local.replace(".", ""), _DOTLESS[domain]
    return f"{local}@{domain}"


def network_key(ip: str) -> str:
    """The network a client address belongs to: IPv4 /24, IPv6 /64 (IPv4-mapped counts as IPv4)."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))

"""Operators, their passwords and their sessions, and the audit log: the console's identity in the database.

Passwords are hashed with Argon2id (argon2-cffi: memory-hard, salted, its
parameters inside the hash so they can be raised later). A session is a
random 256-bit token in the cookie and only its SHA-256 in the database, so a
leaked table logs no one in. The CSRF token is an HMAC of the session token:
nothing more to store, and it dies with the session. Logins are throttled per
account and per network through the same atomic database counter the signup
form uses, so every web process and replica shares the budget.
"""

from __future__ import annotations

import hashlib
import hmac
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from digest.settings import OPERATOR_ROLES, AdminSettings
from digest.errors import DigestError
from digest.models import AuditEntry, Operator, OperatorSession
from subscribers.limits import network_key, stamp, stamped, take, used

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 takes any length; a megabyte "password" is only a way to burn our CPU
_HASHER = PasswordHasher()
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often (a write per page is waste)


class OperatorError(DigestError):
    pass


@dataclass(frozen=True)
class Who:
    """The operator behind a request, and the CSRF token their forms must carry."""

    id: int
    name: str
    role: str
    csrf: str
    session_id: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise OperatorError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def _check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise OperatorError(f"an operator's name is 1 to 64 letters, digits or _ . @ -, not {name!r}")
    return name


def _check_role(role: str) -> str:
    if role not in OPERATOR_ROLES:
        raise OperatorError(f"role must be one of {', '.join(OPERATOR_ROLES)}, not {role!r}")
    return role


def add_operator(session: Session, name: str, role: str, password: str, now: datetime, email: str = "") -> Operator:
    if session.scalar(select(Operator.id).where(Operator.name == _check_name(name))) is not None:
        raise OperatorError(f"there is already an operator named {name!r}")
    if email and "@" not in email:
        raise OperatorError(f"not an email address: {email!r}")
    operator = Operator(name=name, role=_check_role(role), email=email, password_hash=_HASHER.hash(
        check_password(password)), created_at=now, credentials_at=now)
    session.add(operator)
    session.flush()
    return operator


def get_operator(session: Session, name: str) -> Operator:
    operator = session.scalar(select(Operator).where(Operator.name == name))
    if operator is None:
        known = ", ".join(session.scalars(select(Operator.name).order_by(Operator.name))) or "none yet"
        raise OperatorError(f"no operator named {name!r} (known: {known})")
    return operator


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.name)))


def remove_operator(session: Session, name: str) -> None:
    """The account and every session it has: a removed operator's next request finds no one. Never the last
    admin: someone must be able to manage the console."""
    operator = get_operator(session, name)
    admins = session.scalar(select(func.count()).select_from(Operator).where(Operator.role == "admin"))
    if operator.role == "admin" and admins <= 1:
        raise OperatorError(f"{name} is the last admin: add another admin first")
    session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))
    session.delete(operator)


def set_password(session: Session, name: str, password: str, now: datetime, role: str | None = None) -> None:
    """A new password ends every session of the account (whoever had the old one is out)."""
    operator = get_operator(session, name)
    operator.password_hash = _HASHER.hash(check_password(password))
    operator.credentials_at = now
    if role is not None:
        operator.role = _check_role(role)
    session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))


@functools.cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name costs the same time as a wrong password.

    Made on first use, not at import: Argon2 takes 64 MiB and 80 ms, and every
    `digest` process (each sender among them) imports this module.
    """
    return _HASHER.hash(secrets.token_urlsafe(16))


def authenticate(session: Session, name: str, password: str) -> Operator | None:
    """The operator if the password is theirs; the same work is done for an unknown name."""
    operator = session.scalar(select(Operator).where(Operator.name == name[:64]))
    try:
        _HASHER.verify(operator.password_hash if operator else _dummy_hash(), password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if operator is None:
        return None
    if _HASHER.check_needs_rehash(operator.password_hash):  # parameters raised since: upgrade on login
        operator.password_hash = _HASHER.hash(password)
    return operator


def login_allowed(session: Session, name: str, ip: str, now: datetime, settings: AdminSettings) -> bool:
    """May this network try this account now? Failures count per account *and* network, and per network:
    past a budget, the next try waits twice as long each time (one minute, two, four, up to the window),
    so an attacker is slowed to a crawl while the owner, from a network with no failures, always gets in.
    Failures against one account from everywhere never block it: they raise an alarm (`failed_login`)."""
    window = timedelta(minutes=settings.login_window_minutes)
    pair, net = _login_keys(name, ip)
    for key, budget in ((pair, settings.login_attempts_per_account), (net, settings.login_attempts_per_network)):
        over = used(session, key, now, window) - budget
        last = stamped(session, f"{key}:last") if over >= 0 else None
        # One try per wait after the last failure, the wait doubling with each failure past the budget.
        if last is not None and now - last < min(timedelta(minutes=2 ** min(over, 20)), window):
            return False
    return True


def failed_login(session: Session, name: str, ip: str, now: datetime, settings: AdminSettings) -> bool:
    """Count a wrong password against the account's pair with this network, the network and the account;
    True when the account's failures from everywhere just passed its budget (the alarm, once a window)."""
    window = timedelta(minutes=settings.login_window_minutes)
    pair, net = _login_keys(name, ip)
    for key, budget in ((pair, settings.login_attempts_per_account), (net, settings.login_attempts_per_network)):
        take(session, key, budget, now, window)
        stamp(session, f"{key}:last", now)
    account = f"login-account:{name[:64].lower()}"
    take(session, account, settings.login_attempts_per_account, now, window)
    return used(session, account, now, window) == settings.login_attempts_per_account + 1


def _login_keys(name: str, ip: str) -> tuple[str, str]:
    network = network_key(ip)
    return f"login-pair:{name[:64].lower()}:{network}", f"login-net:{network}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"digest-console-csrf", hashlib.sha256).hexdigest()


def open_session(session: Session, operator: Operator, now: datetime, settings: AdminSettings, *,
                 ip: str = "", user_agent: str = "", replaces: str = "") -> str:
    """A new token for a fresh login; the one the browser held before (if any) is ended, never promoted."""
    if replaces:
        close_session(session, replaces)
    session.execute(delete(OperatorSession).where(OperatorSession.expires_at < now))  # tidy as we go
    token = secrets.token_urlsafe(32)
    session.add(OperatorSession(token_hash=_digest(token), operator_id=operator.id, created_at=now, last_seen_at=now,
                                expires_at=now + timedelta(hours=settings.session_hours), ip=ip[:64],
                                user_agent=user_agent[:500]))
    session.flush()
    return token


def find_session(session: Session, token: str, now: datetime, settings: AdminSettings) -> Who | None:
    """The operator a cookie stands for, if its session is alive (not expired, not idle, account still there)."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(OperatorSession, Operator).join(Operator, Operator.id == OperatorSession.operator_id)
        .where(OperatorSession.token_hash == _digest(token))).first()
    if row is None:
        return None
    login, operator = row
    idle = timedelta(minutes=settings.idle_minutes)
    if login.expires_at <= now or login.last_seen_at + idle <= now or login.created_at < operator.credentials_at:
        session.execute(delete(OperatorSession).where(OperatorSession.id == login.id))
        return None
    if now - login.last_seen_at >= TOUCH_EVERY:
        session.execute(update(OperatorSession).where(OperatorSession.id == login.id).values(last_seen_at=now))
    return Who(operator.id, operator.name, operator.role, csrf_for(token), login.id)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(OperatorSession).where(OperatorSession.token_hash == _digest(token)))


def record(session: Session, operator: str, action: str, now: datetime, *, target: str = "", detail: str = "",
           ip: str = "") -> None:
    """One line of the audit log, in the caller's transaction (the action and its record commit together)."""
    session.add(AuditEntry(at=now, operator=operator[:64], action=action[:64], target=target, detail=detail,
                           ip=ip[:64]))


def recent_audit(session: Session, limit: int = 200, operator: str = "", action: str = "",
                 since: datetime | None = None, until: datetime | None = None, before: int = 0) -> list[AuditEntry]:
    """Newest first, filtered; `before` (an entry id) pages back from there: a page never shifts as lines come."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if operator:
        query = query.where(AuditEntry.operator == operator)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before > 0:
        query = query.where(AuditEntry.id < before)
    return list(session.scalars(query))


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


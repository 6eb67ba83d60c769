"""Acting on what comes back: bounces, complaints, auto-replies and mailed unsubscribe requests.

One entry per inbound message (`handle_message`, used by the SMTP listener
and by `digest inbound --pipe` alike) and one for the refusals our own
sender meets at the relay (`on_send_failures`). Identity comes only from
what we signed: the VERP return path (a delivery, or the MAC of a one-off
message's address) or an unsubscribe token in the returned copy. A report
that names nobody we can verify changes nothing and is kept for the operator,
so a forged bounce or complaint cannot remove a reader.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from digest import metrics, returnpath
from digest.settings import Settings
from digest.flows import reputation
from digest.inbound.classify import Verdict, judge, smtp_refusal
from digest.inbound.reports import Report
from digest.flows.mailto import unsubscribe_request
from digest.flows.read_ahead import Ahead, read_ahead
from digest.models import Delivery, Feedback, KeptMail
from subscribers import (BouncePolicy, Origin, SubscriberError, Subscriber, read_unsubscribe_token, record_bounce,
                         record_complaint)

log = logging.getLogger(__name__)


# One message as the MTA handed it over: envelope sender, recipients, bytes; from the listener, also what
# read_ahead() made of the bytes before the transaction began.
Inbound = tuple


@dataclass(frozen=True)
class Handled:
    """What one inbound message did: one line per recipient address, and whether it was kept."""

    lines: tuple[str, ...]
    kept: bool = False


def bounce_policy(settings: Settings) -> BouncePolicy:
    return BouncePolicy(soft_threshold=settings.bounces.soft_threshold,
                        soft_window=timedelta(days=settings.bounces.soft_window_days))


def handle_message(session: Session, settings: Settings, secret: str, mail_from: str, recipients: list[str],
                   raw: bytes, now: datetime, ahead: Ahead | None = None) -> Handled:
    """Act on one inbound message in the caller's transaction; what cannot be acted on is kept."""
    bounces, lines, keep = settings.bounces, [], []
    for recipient in dict.fromkeys(r.strip().strip("<>").lower() for r in recipients):
        if recipient == settings.site.unsubscribe_mailbox.lower():
            line = unsubscribe_request(session, secret, raw, now)
        elif bounces.domain and returnpath.is_bounce_address(bounces.local_part, bounces.domain, recipient):
            line = _report(session, settings, secret, recipient, raw, now, ahead)
        else:
            line = f"{recipient}: not a bounce or unsubscribe address; kept"
        lines.append(line)
        if line.endswith("; kept"):
            keep.append(line)
    if keep:
        keep_unreadable(session, mail_from, recipients, raw, "\n".join(keep), now)
    for line in lines:
        log.info("inbound: %s", line)
    return Handled(tuple(lines), kept=bool(keep))


def accepts(settings: Settings) -> Callable[[str], bool]:
    """Which RCPT TO the listener takes: our bounce addresses and the List-Unsubscribe mailbox, nothing else."""
    bounces, mailbox = settings.bounces, settings.site.unsubscribe_mailbox.lower()

    def ours(address: str) -> bool:
        address = address.strip().strip("<>").lower()
        return address == mailbox or bool(bounces.domain) and returnpath.is_bounce_address(
            bounces.local_part, bounces.domain, address)
    return ours


def processor(settings: Settings, secret: str, sessions, clock) -> Callable[[Iterable[Inbound]], list[Handled]]:
    """Act on the messages that arrived together, in one transaction: one commit (one fsync) for them all,
    the cost that bounded a flood of returned mail. The caller answers each sender only after this returns.

    When the batch fails (a bug on odd input, or the database), it is rolled back and each message is acted on
    again in a transaction of its own, so only the message at fault is kept for the operator (a savepoint per
    message did the same at a fifth of a flood's cost); only a database that cannot take even that raises
    (the listener answers 451 and the MTAs retry)."""
    def process(messages: Iterable[Inbound]) -> list[Handled]:
        arriving, taken = iter(messages), []  # the listener's: those waiting, and those arriving meanwhile
        try:
            with sessions() as session, session.begin():
                _write_lock(session)
                results = []
                for message in arriving:
                    taken.append(message)
                    results.append(handle_message(session, settings, secret, *message[:3], clock(), *message[3:]))
                return results
        except Exception:  # noqa: BLE001  (see the docstring)
            log.exception("inbound: acting on %d message(s) together failed; acting on each alone", len(taken))
        alone = [_alone(sessions, settings, secret, message, clock) for message in taken]
        return alone + process(arriving)  # the rest of the batch, together again
    return process


def _alone(sessions, settings: Settings, secret: str, message: Inbound, clock) -> Handled:
    mail_from, recipients, raw = message[:3]
    try:
        with sessions() as session, session.begin():
            _write_lock(session)
            return handle_message(session, settings, secret, mail_from, recipients, raw, clock(), *message[3:])
    except Exception as exc:  # noqa: BLE001  (kept for the operator; if even that fails, the caller answers 451)
        log.exception("inbound: acting on a message failed; keeping it for the operator")
        with sessions() as session, session.begin():
            keep_unreadable(session, mail_from, recipients, raw, f"failed: {exc.__class__.__name__}: {exc}", clock())
        return Handled((f"could not act on it ({exc.__class__.__name__}); kept",), kept=True)


def _write_lock(session: Session) -> None:
    """On SQLite, take the write lock at BEGIN: Python's sqlite3 would open the transaction only at the first
    write, after the first savepoint, which would then commit on its own when released."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def keep_unreadable(session: Session, mail_from: str, recipients: list[str], raw: bytes, reason: str,
                    now: datetime) -> None:
    session.connection().execute(_KEPT.insert(), {
        "received_at": now, "mail_from": mail_from[:320], "recipients": ", ".join(recipients)[:2000],
        "reason": reason[:2000], "raw": raw})
    metrics.INBOUND_KEPT.inc()


def _report(session: Session, settings: Settings, secret: str, address: str, raw: bytes, now: datetime,
            ahead: Ahead | None) -> str:
    bounces = settings.bounces
    path = returnpath.read(secret, bounces.local_part, bounces.domain, address)
    if path is None and address == f"{bounces.local_part}@{bounces.domain}".lower():
        path = returnpath.ReturnPath()  # the plain address (a feedback loop's): only a signed token in it counts
    if path is None:
        return f"{address}: unsigned or forged bounce address; kept"
    ahead = ahead or read_ahead(raw)
    report = ahead.report
    delivery = _sent(session, path.delivery_id) if path.delivery_id is not None else None
    if path.delivery_id is not None and delivery is None:
        return f"{address}: delivery {path.delivery_id} no longer exists; kept"
    origin = Origin("bounce", user_agent=report.reporting_mta[:200])
    if report.kind in ("report", "auto_reply"):
        email = delivery.email if delivery else ""
        if delivery is not None:
            _feedback_row(session, delivery, email, report.kind, report.feedback_type, report, "", now, "none",
                          reason=report.feedback_type or "vacation")
        what = f"a {report.feedback_type or 'feedback'} report, not a complaint" if report.kind == "report" \
            else "auto-reply"
        return f"{email or address}: {what}; nothing to do"
    if report.kind == "complaint":
        email = delivery.email if delivery else _complainant(session, secret, path, report)
        if not email:
            return f"{address}: a complaint about no reader we can verify; kept"
        return _complaint(session, delivery, email, report, origin, now)
    if report.kind == "unknown":
        return f"{address}: {'; '.join(report.notes) or 'not a report we can read'}; kept"
    failed = _recipient_status(report, delivery.email if delivery else None, path, secret)
    if failed is None:
        return f"{address}: a bounce about no address this return path was for; kept"
    email, status = failed
    verdict = ahead.verdicts.get(status) or judge(status, report.text)
    detail = _bounce_detail(verdict, status, report, delivery)
    return _act(session, settings, delivery, email, verdict, status.status or verdict.status,
                status.diagnostic or report.text, report, detail, origin, now)


def _act(session, settings, delivery, email, verdict, status, diagnostic, report, detail, origin, now) -> str:
    """What the policy does with one bounce's verdict; the line says so."""
    where = f" from {report.reporting_mta}" if report is not None and report.reporting_mta else ""
    if verdict.kind is None:  # delivered, relayed, expanded, or a delay notice: nothing failed (yet)
        if delivery is not None:
            _feedback_row(session, delivery, email, verdict.reason, status, report, diagnostic, now, "none",
                          reason=verdict.reason)
        return f"{email}: {verdict.reason} ({status or 'no status'}){where}; nothing to do"
    row = _feedback_row(session, delivery, email, verdict.kind, status, report, diagnostic, now, reason=verdict.reason,
                        side=verdict.side, add=False)  # added once its action is known: one INSERT, no UPDATE
    if row is None:
        return f"{email}: {verdict.kind} bounce for delivery {delivery.id} already recorded; nothing more"
    metrics.BOUNCE_REASONS.labels(verdict.reason, verdict.side).inc()
    if verdict.acts_on_reader:
        row["action"] = _counted(verdict.kind, record_bounce(session, email, verdict.kind, detail, origin, now,
                                                             bounce_policy(settings)))
        _add(session, row)
    elif verdict.side == "sender":
        row["action"] = _counted("sender", "none: the receiving server refused us, not the reader; counted toward "
                                           f"{row['domain']}'s sender reputation")
        row_id = _add(session, row)  # before the count of the domain's sender-side bounces, which includes this one
        paused = reputation.check_issue(session, settings.bounces, delivery, detail) if delivery else None
        if paused:
            row["action"] = f"{row['action']}; issue {delivery.issue_id} paused"[:200]
            session.connection().execute(_FEEDBACK.update().where(_FEEDBACK.c.id == row_id).values(
                action=row["action"]))
    else:
        row["action"] = _counted("unclassified", "none: unclassified; kept for the operator")
        _add(session, row)
        return f"{email}: a bounce ({status or 'no status'}){where} no rule explains: unclassified; kept"
    return f"{email}: {verdict.kind} bounce {status or ''} ({verdict.reason}){where}: {row['action']}"


def _recipient_status(report: Report, expected: str | None, path, secret: str):
    """The (address, status) this return path was for: the DSN's matching line, or its only one."""
    for status in report.recipients:
        if expected is not None and status.address == expected:
            return expected, status
        if expected is None and path.matches_address(secret, status.address):
            return status.address, status
    if expected is not None and report.recipients:
        # The remote side may report a forwarded or rewritten address: the signed delivery still says who.
        failed = [s for s in report.recipients if s.action in ("failed", "")] or list(report.recipients)
        return expected, failed[0]
    return None


def _complainant(session: Session, secret: str, path, report: Report) -> str:
    for token in report.unsubscribe_tokens:
        try:
            subscriber_id, _newsletter = read_unsubscribe_token(secret, token)
        except SubscriberError:
            continue
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is not None:
            return subscriber.email
    if report.original_recipient and path.matches_address(secret, report.original_recipient):
        return report.original_recipient
    return ""


def _complaint(session, delivery, email, report, origin, now) -> str:
    row = _feedback_row(session, delivery, email, "complaint", report.feedback_type, report, "", now, add=False)
    if row is None:
        return f"{email}: complaint for delivery {delivery.id} already recorded; nothing more"
    left = record_complaint(session, email, f"{report.feedback_type or 'abuse'} report from "
                            f"{report.reporting_mta or 'unknown'}", origin, now)
    row["action"] = _counted("complaint", f"unsubscribed from {', '.join(left) if left else 'nothing (already out)'}; "
                                          "suppressed")
    _add(session, row)
    return f"{email}: spam complaint ({report.feedback_type or 'abuse'}): {row['action']}"


def _feedback_row(session, delivery, email, kind, status, report, diagnostic, now, action="", *, reason="",
                  side="", add: bool = True) -> dict | None:
    """The new row recording it: once per delivery and kind (None when a repeated report already did).
    add=False: the caller adds it once its action is known (one INSERT instead of an INSERT and an UPDATE)."""
    if delivery is not None and kind in delivery.recorded:
        return None
    row = {"delivery_id": delivery.id if delivery else None, "issue_id": delivery.issue_id if delivery else None,
           "email": email, "kind": kind, "status": (status or "")[:20], "diagnostic": (diagnostic or "")[:500],
           "action": action, "reporting_mta": report.reporting_mta[:200] if report else "", "at": now,
           "reason": (reason or "")[:30], "side": side, "domain": reputation.domain_of(email)}
    if add:
        _add(session, row)
    return row


def _add(session: Session, row: dict) -> int:
    """One Core INSERT: the ORM's unit of work cost more than the statement on a flood of returned mail."""
    return session.connection().execute(_FEEDBACK.insert(), row).inserted_primary_key[0]


@dataclass(frozen=True)
class Sent:
    """What a report needs of the delivery it names, and the kinds of feedback already recorded for it."""

    id: int
    issue_id: int
    email: str
    recorded: frozenset[str]


def _sent(session: Session, delivery_id: int) -> Sent | None:
    """One statement for the delivery and what came back about it before (a repeated report counts once)."""
    rows = session.connection().execute(_SENT, {"id": delivery_id}).all()
    if not rows:
        return None
    return Sent(rows[0].id, rows[0].issue_id, rows[0].email, frozenset(row.kind for row in rows if row.kind))


def _counted(kind: str, action: str) -> str:
    """The metrics of one acted-on report; returns its action, for the row and the log."""
    metrics.FEEDBACK.labels(kind).inc()
    if "suppressed" in action and not action.startswith("already"):
        metrics.SUPPRESSIONS.labels({"hard": "hard_bounce", "soft": "soft_bounces"}.get(kind, kind)).inc()
    return action[:200]


def _bounce_detail(verdict, status, report, delivery) -> str:
    where = f"; delivery {delivery.id} (issue {delivery.issue_id})" if delivery is not None else "; one-off message"
    said = status.diagnostic or " ".join(report.text.split())[:300] or "-"
    return (f"{verdict.kind} bounce {status.status or verdict.status or '?'} ({verdict.reason}) reported by "
            f"{report.reporting_mta or 'unknown MTA'}: {said}{where}")


def on_send_failures(settings: Settings, clock):
    """The engine's hook: the relay refused a recipient while we sent (a synchronous bounce), or we gave up
    retrying one; the same rules as a bounce that comes back by mail."""
    def act(session: Session, failures) -> None:
        now, acted = clock(), []
        for claim, error, refused in failures:
            verdict = smtp_refusal(error)
            if not refused and verdict.side == "":
                verdict = Verdict("expired", "reader", "soft", verdict.status)  # retried until we gave up
            if verdict.kind is None:
                continue
            delivery = _sent(session, claim.delivery_id)
            if delivery is None:
                continue
            detail = (f"{verdict.kind} bounce ({verdict.reason}) at our relay: {error[:300]}; delivery {delivery.id} "
                      f"(issue {delivery.issue_id})")
            line = _act(session, settings, delivery, claim.email, verdict, verdict.status, error, None, detail,
                        Origin("send"), now)
            log.debug("send: %s", line)  # one a reader: the feedback row keeps it; INFO says one line a batch
            acted.append(verdict.kind)
        if acted:
            log.info("send: %d refused readers acted on (%s)", len(acted),
                     ", ".join(f"{acted.count(kind)} {kind}" for kind in sorted(set(acted))))
    return act


_DELIVERIES, _FEEDBACK, _KEPT = Delivery.__table__, Feedback.__table__, KeptMail.__table__
_SENT = select(_DELIVERIES.c.id, _DELIVERIES.c.issue_id, _DELIVERIES.c.email, _FEEDBACK.c.kind).outerjoin(
    _FEEDBACK, _FEEDBACK.c.delivery_id == _DELIVERIES.c.id).where(_DELIVERIES.c.id == bindparam("id"))

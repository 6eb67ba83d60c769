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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest import metrics, returnpath
from digest.settings import Settings
from digest.inbound.classify import bounce_kind, smtp_refusal_kind
from digest.inbound.reports import STATUS_RE, Report, read_report
from digest.flows.mailto import unsubscribe_request
from digest.models import Delivery, Feedback, KeptMail
from subscribers import (BouncePolicy, Origin, SubscriberError, Subscriber, read_unsubscribe_token, record_bounce,
                         record_complaint)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    """What one inbound message did: one line per recipient address, and whether it was kept."""

    lines: tuple[str, ...]
    kept: bool = False


def bounce_policy(settings: Settings) -> BouncePolicy:
    return BouncePolicy(soft_threshold=settings.bounces.soft_threshold,
                        soft_window=timedelta(days=settings.bounces.soft_window_days))


def handle_message(session: Session, settings: Settings, secret: str, mail_from: str, recipients: list[str],
                   raw: bytes, now: datetime) -> Handled:
    """Act on one inbound message in the caller's transaction; what cannot be acted on is kept."""
    bounces, lines, keep = settings.bounces, [], []
    for recipient in dict.fromkeys(r.strip().strip("<>").lower() for r in recipients):
        if recipient == settings.site.unsubscribe_mailbox.lower():
            line = unsubscribe_request(session, secret, raw, now)
        elif bounces.domain and returnpath.is_bounce_address(bounces.local_part, bounces.domain, recipient):
            line = _report(session, settings, secret, recipient, raw, now)
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


def processor(settings: Settings, secret: str, sessions, clock) -> Callable[[str, list[str], bytes], Handled]:
    """Act on one message in its own transaction. A bug on odd input keeps the message instead; only a
    database that cannot take even that raises (the listener answers 451 and the MTA retries)."""
    def process(mail_from: str, recipients: list[str], raw: bytes) -> Handled:
        try:
            with sessions() as session, session.begin():
                return handle_message(session, settings, secret, mail_from, recipients, raw, clock())
        except Exception as exc:  # noqa: BLE001  (see the docstring)
            log.exception("inbound: acting on a message failed; keeping it for the operator")
            with sessions() as session, session.begin():
                keep_unreadable(session, mail_from, recipients, raw, f"failed: {exc.__class__.__name__}: {exc}",
                                clock())
            return Handled((f"could not act on it ({exc.__class__.__name__}); kept",), kept=True)
    return process


def keep_unreadable(session: Session, mail_from: str, recipients: list[str], raw: bytes, reason: str,
                    now: datetime) -> None:
    session.add(KeptMail(received_at=now, mail_from=mail_from[:320], recipients=", ".join(recipients)[:2000],
                         reason=reason[:2000], raw=raw))
    metrics.INBOUND_KEPT.inc()


def _report(session: Session, settings: Settings, secret: str, address: str, raw: bytes, now: datetime) -> str:
    bounces = settings.bounces
    path = returnpath.read(secret, bounces.local_part, bounces.domain, address)
    if path is None and address == f"{bounces.local_part}@{bounces.domain}".lower():
        path = returnpath.ReturnPath()  # the plain address (a feedback loop's): only a signed token in it counts
    if path is None:
        return f"{address}: unsigned or forged bounce address; kept"
    report = read_report(raw)
    delivery = session.get(Delivery, path.delivery_id) if path.delivery_id is not None else None
    if path.delivery_id is not None and delivery is None:
        return f"{address}: delivery {path.delivery_id} no longer exists; kept"
    origin = Origin("bounce", user_agent=report.reporting_mta[:200])
    if report.kind in ("not_spam", "auto_reply"):
        email = delivery.email if delivery else ""
        if delivery is not None:
            _feedback_row(session, delivery, email, report.kind, report.feedback_type, report, "", now, "none")
        return f"{email or address}: {report.kind.replace('_', '-')}; nothing to do"
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
    kind = bounce_kind(status)
    if kind is None:
        return f"{email}: {status.action} ({status.status or 'no status'}); nothing to do"
    row = _feedback_row(session, delivery, email, kind, status.status, report, status.diagnostic, now)
    if row is None:
        return f"{email}: {kind} bounce for delivery {delivery.id} already recorded; nothing more"
    row.action = _counted(kind, record_bounce(session, email, kind, _bounce_detail(kind, status, report, delivery),
                                               origin, now, bounce_policy(settings)))
    return f"{email}: {kind} bounce {status.status} from {report.reporting_mta or 'unknown MTA'}: {row.action}"


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
    row = _feedback_row(session, delivery, email, "complaint", report.feedback_type, report, "", now)
    if row is None:
        return f"{email}: complaint for delivery {delivery.id} already recorded; nothing more"
    left = record_complaint(session, email, f"{report.feedback_type or 'abuse'} report from "
                            f"{report.reporting_mta or 'unknown'}", origin, now)
    row.action = _counted("complaint", f"unsubscribed from {', '.join(left) if left else 'nothing (already out)'}; "
                                       "suppressed")
    return f"{email}: spam complaint ({report.feedback_type or 'abuse'}): {row.action}"


def _feedback_row(session, delivery, email, kind, status, report, diagnostic, now, action="") -> Feedback | None:
    """The new row recording it: once per delivery and kind (None when a repeated report already did)."""
    if delivery is not None and session.scalar(select(Feedback.id).where(
            Feedback.delivery_id == delivery.id, Feedback.kind == kind)) is not None:
        return None
    row = Feedback(delivery_id=delivery.id if delivery else None, issue_id=delivery.issue_id if delivery else None,
                   email=email, kind=kind, status=(status or "")[:20], diagnostic=diagnostic[:500], action=action,
                   reporting_mta=report.reporting_mta[:200] if report else "", at=now)
    session.add(row)
    session.flush()
    return row


def _counted(kind: str, action: str) -> str:
    """The metrics of one acted-on report; returns its action, for the row and the log."""
    metrics.FEEDBACK.labels(kind).inc()
    if "suppressed" in action and not action.startswith("already"):
        metrics.SUPPRESSIONS.labels({"hard": "hard_bounce", "soft": "soft_bounces"}.get(kind, kind)).inc()
    return action[:200]


def _bounce_detail(kind, status, report, delivery) -> str:
    where = f"; delivery {delivery.id} (issue {delivery.issue_id})" if delivery is not None else "; one-off message"
    return (f"{kind} bounce {status.status or '?'} ({status.action or 'failed'}) reported by "
            f"{report.reporting_mta or 'unknown MTA'}: {status.diagnostic or '-'}{where}")


def on_send_failures(settings: Settings, clock):
    """The engine's hook: the relay refused a recipient while we sent (a synchronous bounce)."""
    policy = bounce_policy(settings)

    def act(session: Session, failures) -> None:
        now = clock()
        for claim, error, refused in failures:
            kind = smtp_refusal_kind(error) if refused else "soft"  # retried until we gave up: soft
            if kind is None:
                continue
            delivery = session.get(Delivery, claim.delivery_id)
            if delivery is None:
                continue
            status = STATUS_RE.search(error)
            row = _feedback_row(session, delivery, claim.email, kind, status.group(0) if status else "", None,
                                error, now)
            if row is None:
                continue
            detail = f"{kind} bounce at our relay: {error[:300]}; delivery {delivery.id} (issue {delivery.issue_id})"
            row.action = _counted(kind, record_bounce(session, claim.email, kind, detail, Origin("send"), now, policy))
            log.info("send: %s: %s bounce (%s): %s", claim.email, kind, error[:200], row.action)
    return act



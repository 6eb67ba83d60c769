"""Delivering webhook events: at least once, signed as Standard Webhooks says, retried with backoff, given up
after api.webhook_retry_hours, and an endpoint that keeps failing disabled (not hammered) until re-enabled.

Attempts are leased before the POST (as the outbox's deliveries are), so two
delivering processes never send one attempt at once, and a process killed
mid-POST leaves a lease that runs out: the attempt is sent again (at least
once; the receiver dedupes by webhook-id). The POST goes through the fetch
policy with no origin trusted: an endpoint on a private address is refused
unless api.webhook_allow_networks opens it, no redirect is followed, and the
answer's body is never read.
"""

from __future__ import annotations

import logging
import random
from functools import lru_cache
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook

from digest.errors import FeedError
from digest.flows import webhook_endpoints
from digest.flows.runtime import Runtime
from digest.flows.webhook_events import pump
from digest.models_api import WebhookAttempt, WebhookEvent, WebhookState
from digest.net.fetch import Fetcher
from digest.settings import Settings, WebhookSettings

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
BACKOFF_BASE, BACKOFF_MAX = 10.0, 6 * 3600.0  # seconds: 10, 20, 40 ... at most 6 h, with jitter
PARALLEL = 16  # POSTs in flight at once


@dataclass(frozen=True)
class Round:
    made: int = 0
    delivered: int = 0
    failed: int = 0  # attempts that did not get a 2xx this round (queued again, or given up)


def fetcher_for(settings: Settings) -> Fetcher:
    api = settings.api
    return Fetcher(user_agent=f"digest-webhooks ({settings.site.base_url})", timeout=api.webhook_timeout,
                   max_bytes=1, deadline=api.webhook_timeout * 2, policy=webhook_endpoints.policy_for(settings))


def run_round(rt: Runtime, fetcher: Fetcher, batch: int = 500) -> Round:
    """Turn new records into events, then send what is due (one batch); what happened."""
    now = rt.now()
    with rt.sessions() as session, session.begin():  # the configured and the registered endpoints, read each round
        endpoints = {e.name: e for e in webhook_endpoints.every(session, rt.settings)}
        made = pump(session, endpoints.values(), now) if endpoints else 0
    if not endpoints:
        return Round()
    with rt.sessions() as session, session.begin():
        disabled = {s.name.removeprefix("endpoint:") for s in session.scalars(select(WebhookState).where(
            WebhookState.name.startswith("endpoint:"), WebhookState.disabled_at.is_not(None)))}
        due = session.execute(
            select(WebhookAttempt.id, WebhookAttempt.endpoint, WebhookAttempt.attempts, WebhookEvent.event_id,
                   WebhookEvent.payload, WebhookEvent.at)
            .join(WebhookEvent, WebhookEvent.id == WebhookAttempt.event_id)
            .where(WebhookAttempt.status == "queued", WebhookAttempt.next_attempt_at <= now,
                   (WebhookAttempt.lease_until.is_(None)) | (WebhookAttempt.lease_until < now),
                   WebhookAttempt.endpoint.in_([n for n in endpoints if n not in disabled]))
            .order_by(WebhookAttempt.id).limit(batch)).all()
        if due:
            session.execute(update(WebhookAttempt).where(WebhookAttempt.id.in_([d.id for d in due]))
                            .values(lease_until=now + LEASE))
    if not due:
        return Round(made)
    # POSTs in parallel (a slow receiver holds one worker, not the batch), outcomes written in one transaction.
    errors = list(_workers().map(lambda row: _post(fetcher, endpoints[row.endpoint], row.event_id, row.payload,
                                                   rt.now()), due))
    at = rt.now()
    with rt.sessions() as session, session.begin():
        done = [row.id for row, error in zip(due, errors, strict=True) if error is None]
        if done:  # the common case in one statement
            session.execute(update(WebhookAttempt).where(WebhookAttempt.id.in_(done)).values(
                status="delivered", delivered_at=at, last_error="", lease_until=None,
                attempts=WebhookAttempt.attempts + 1))
            session.execute(update(WebhookState).where(WebhookState.name.in_(
                {f"endpoint:{row.endpoint}" for row, error in zip(due, errors, strict=True) if error is None}))
                .values(failures_in_a_row=0))
        for row, error in zip(due, errors, strict=True):
            if error is not None:
                _record(session, rt.settings, row, error, at)
    delivered = sum(error is None for error in errors)
    return Round(made, delivered, len(errors) - delivered)


def _post(fetcher: Fetcher, endpoint: WebhookSettings, event_id: str, payload: str, now: datetime) -> str | None:
    """None on a 2xx, else why not."""
    if not endpoint.secret:
        return (f"no signing secret: set the environment variable {endpoint.secret_env}" if endpoint.secret_env else
                "no signing secret: the site's secret key changed since it was registered; register it again")
    signature = _signer(endpoint.secret).sign(event_id, now, payload)
    headers = {"Content-Type": "application/json", "webhook-id": event_id,
               "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    try:
        status = fetcher.post(endpoint.url, payload.encode(), headers)
    except FeedError as exc:
        return str(exc)
    return None if 200 <= status < 300 else f"HTTP {status}"


@lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)  # decodes the secret once, not once an event


_pool: list[ThreadPoolExecutor] = []


def _workers() -> ThreadPoolExecutor:
    """One pool for the process's rounds: a backlog of rounds does not start PARALLEL threads each."""
    if not _pool:
        _pool.append(ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="webhook"))
    return _pool[0]


def _record(session, settings: Settings, row, error: str, now: datetime) -> None:
    """A failed attempt: retried later with backoff, or given up; the endpoint's failures in a row counted."""
    name = f"endpoint:{row.endpoint}"
    state = session.get(WebhookState, name)
    if state is None:
        state = WebhookState(name=name, failures_in_a_row=0, last_error="", cursor=0)
        session.add(state)
        session.flush()  # the next outcome of this batch finds it
    attempt = session.get(WebhookAttempt, row.id)
    attempt.attempts, attempt.lease_until, attempt.last_error = row.attempts + 1, None, error[:500]
    state.failures_in_a_row, state.last_error = state.failures_in_a_row + 1, error[:500]
    if now - row.at > timedelta(hours=settings.api.webhook_retry_hours):
        attempt.status = "failed"
        log.error("webhook %s to %s given up after %d attempts: %s", row.event_id, row.endpoint, attempt.attempts,
                  error)
    else:
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(row.attempts, 20))
        attempt.next_attempt_at = now + timedelta(seconds=delay * random.uniform(0.5, 1.0))
    if state.failures_in_a_row >= settings.api.webhook_disable_after and state.disabled_at is None:
        state.disabled_at = now
        log.error("webhook endpoint %s disabled after %d failures in a row (last: %s); `digest webhooks enable %s` "
                  "turns it back on", row.endpoint, state.failures_in_a_row, error, row.endpoint)


def enable(rt: Runtime, name: str) -> bool:
    with rt.sessions() as session, session.begin():
        return enable_in(session, name)


def enable_in(session, name: str) -> bool:
    """Turn a disabled endpoint back on (its queued events go out again); False if it was not disabled."""
    state = session.get(WebhookState, f"endpoint:{name}")
    if state is None or state.disabled_at is None:
        return False
    state.disabled_at, state.failures_in_a_row = None, 0
    return True


def names(rt: Runtime) -> set[str]:
    """Every endpoint's name, configured or registered through the API."""
    with rt.sessions() as session:
        return {e.name for e in webhook_endpoints.every(session, rt.settings)}


def overview(rt: Runtime) -> list[dict]:
    """Per endpoint: queued, delivered, failed, failures in a row, disabled since, last error (digest status)."""
    with rt.sessions() as session:
        return describe(session, rt.settings)


def describe(session, settings: Settings, only: str | None = None) -> list[dict]:
    """overview() within a caller's session, of every endpoint or the one named `only`."""
    query = select(WebhookAttempt.endpoint, WebhookAttempt.status, func.count()).group_by(
        WebhookAttempt.endpoint, WebhookAttempt.status)
    if only is not None:
        query = query.where(WebhookAttempt.endpoint == only)
    counts = {(e, s): n for e, s, n in session.execute(query)}
    states = {s.name: s for s in session.scalars(select(WebhookState).where(WebhookState.name.startswith(
        "endpoint:")))}
    rows = webhook_endpoints.registered(session)
    out = []
    for endpoint in webhook_endpoints.every(session, settings):
        if only is not None and endpoint.name != only:
            continue
        state, row = states.get(f"endpoint:{endpoint.name}"), rows.get(endpoint.name)
        out.append({"name": endpoint.name, "url": endpoint.url, "events": list(endpoint.events),
                    "source": "api" if row is not None else "config",
                    "created_by": row.created_by if row is not None else None,
                    **{s: counts.get((endpoint.name, s), 0) for s in ("queued", "delivered", "failed")},
                    "failures_in_a_row": state.failures_in_a_row if state else 0,
                    "disabled_at": state.disabled_at if state else None,
                    "last_error": state.last_error if state else ""})
    return out


__all__ = ["Round", "describe", "enable", "enable_in", "fetcher_for", "names", "overview", "run_round"]

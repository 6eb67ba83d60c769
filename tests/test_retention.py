"""Retention (issue 31): with the clock moved on, what [retention] no longer keeps goes, in batches, and nothing
that proves consent or protects a reader does; the daemon's leader runs it once a day."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from conftest import DATA, SECRET, Clock, run_cli, wait_until, write_config
import sqlalchemy as sa
from sqlalchemy import func, select

from digest.config import load_settings
from digest.daemon.schedule import Daemon
from digest.deliver import outbox
from digest.deliver.transports import MemoryTransport
from digest.flows import retention, sending
from digest.flows.runtime import Runtime
from digest.models import Article, AuditEntry, Delivery, Feedback, Issue, IssueVariant, KeptMail
from subscribers import Origin, add_subscriber
from subscribers.models import ConsentEvent, RateCount, Subscription, Suppression
from subscribers.suppression import suppress

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.fixture
def site(tmp_path):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, transport="file", sources='[[newsletters.sources]]\nname = "Wire"\n'
                                                               'url = "feed.xml"\n')
    clock = Clock(T0)
    transport = MemoryTransport()
    rt = replace(Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})),
                 transport_factory=lambda: transport, now=clock)
    with rt.sessions() as session, session.begin():
        for i in range(12):
            add_subscriber(session, f"r{i}@example.com", "daily", confirmed=True, origin=Origin("test"), now=T0)
        suppress(session, "r11@example.com", "complaint", "abuse report", Origin("test"), T0)
    yield rt, clock, config
    rt.sessions.kw["bind"].dispose()


def count(rt, model, *where) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def litter(rt, at: datetime, delivery_id: int | None = None) -> None:
    """One of each thing that grows besides the outbox, dated `at`."""
    with rt.sessions() as session, session.begin():
        session.add(Feedback(delivery_id=delivery_id, email="r1@example.com", kind="soft", at=at))
        session.add(KeptMail(received_at=at, reason="unsigned", raw=b"x" * 100))
        session.add(AuditEntry(at=at, operator="ann", action="login"))
        session.add(RateCount(key=f"site:{at.isoformat()}", window=int(at.timestamp()) // 3600 * 3600, count=1))


def test_a_year_of_growth_is_pruned_and_the_proof_of_consent_stays(site, monkeypatch):
    rt, clock, config = site
    first = sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    with rt.sessions() as session:
        counts_before = outbox.counts(session, [first])[first]
        a_delivery = session.scalar(select(Delivery.id).where(Delivery.issue_id == first).limit(1))
    assert counts_before["sent"] == 11
    litter(rt, T0)
    consent, suppressions, subscriptions = (count(rt, ConsentEvent), count(rt, Suppression), count(rt, Subscription))

    clock.now = T0 + 100 * DAY
    second = sending.send_newsletter(rt, "daily", slot="s2", force=True).new_issue_id
    litter(rt, clock.now - DAY, delivery_id=a_delivery)  # a late bounce still linked to the old row

    monkeypatch.setattr(retention, "BATCH", 4)  # several batches per rule
    dry = retention.prune(rt.sessions, rt.settings.retention, clock.now, dry_run=True).counts
    assert count(rt, Delivery, Delivery.issue_id == first) == 11  # a dry run removes nothing
    rests: list[float] = []
    pruner = retention.Pruner(rt.sessions, rt.settings.retention, clock.now, sleep=rests.append)
    done = pruner.run()
    assert done == dry
    assert done["deliveries"] == 11 and done["kept_mail"] == 1 and done["rate_counts"] == 1
    assert done["feedback"] == 0 and done["audit_log"] == 0  # kept 365 and 730 days
    assert len(rests) == 2 and all(rest >= 0 for rest in rests)  # after the batches of 4 and 4 (then 3)

    assert count(rt, Delivery, Delivery.issue_id == first) == 0
    assert count(rt, IssueVariant, IssueVariant.issue_id == first) == 0
    assert count(rt, Delivery, Delivery.issue_id == second) == 11  # the latest issue keeps its rows
    with rt.sessions() as session:
        assert outbox.counts(session, [first])[first] == counts_before  # the issue keeps its counts
        assert session.get(Issue, first).html  # and its archive page
        late = session.scalar(select(Feedback).where(Feedback.at == clock.now - DAY))
        assert late is not None and late.delivery_id is None  # unlinked, not deleted with the row
    assert (count(rt, ConsentEvent), count(rt, Suppression), count(rt, Subscription)) == \
        (consent, suppressions, subscriptions)
    assert count(rt, KeptMail) == 1 and count(rt, RateCount) >= 1

    # A year on: the first feedback goes too (the late one is 301 days old); the old article bodies are emptied, their titles and links stay.
    clock.now = T0 + 400 * DAY
    later = retention.prune(rt.sessions, rt.settings.retention, clock.now).counts
    assert later["feedback"] == 1 and later["article_text"] > 0
    with rt.sessions() as session:
        for article in session.scalars(select(Article)):
            assert article.title and article.link
            assert article.text == "" or article.published_at >= clock.now - 180 * DAY
    assert count(rt, Delivery, Delivery.issue_id == second) == 11  # still the newsletter's latest
    assert retention.prune(rt.sessions, rt.settings.retention, clock.now).counts["article_text"] == 0

    status = run_cli("status", config=config)
    assert status.returncode == 0 and f"#{first} daily" in status.stdout and "sent 11" in status.stdout


def test_zero_days_keeps_forever_and_prune_says_what_it_would_do(site):
    rt, clock, config = site
    sending.send_newsletter(rt, "daily", slot="s1")
    litter(rt, T0)
    forever = replace(rt.settings.retention, kept_mail_days=0, audit_days=0, rate_limit_days=0)
    assert retention.prune(rt.sessions, forever, T0 + 1000 * DAY).counts.keys() == \
        {"deliveries", "feedback", "article_text"}
    assert count(rt, KeptMail) == 1 and count(rt, AuditEntry) == 1
    dry = run_cli("maintain", "--dry-run", config=config)
    assert dry.returncode == 0 and "deliveries: 0 would go" in dry.stdout, dry.stderr
    done = run_cli("prune", config=config)  # the former name still works
    assert done.returncode == 0 and "done in" in done.stdout


def test_a_stop_ends_the_pass_between_batches(site, monkeypatch):
    rt, clock, _config = site
    sending.send_newsletter(rt, "daily", slot="s1")
    clock.now = T0 + 100 * DAY
    sending.send_newsletter(rt, "daily", slot="s2", force=True)
    monkeypatch.setattr(retention, "BATCH", 2)
    stop = threading.Event()
    pruner = retention.Pruner(rt.sessions, rt.settings.retention, clock.now, stop=stop, sleep=lambda _s: stop.set())
    assert pruner.run()["deliveries"] == 2  # one batch, then the stop
    assert retention.prune(rt.sessions, rt.settings.retention, clock.now).counts["deliveries"] == 9  # resumes


def test_the_leader_schedules_retention_once_a_day(site):
    rt, clock, _config = site
    daemon = Daemon(lambda: rt, threading.Event())
    daemon.add_jobs()
    job = daemon.scheduler.get_job("maintain")
    assert job is not None and job.trigger.interval == timedelta(hours=24)
    sending.send_newsletter(rt, "daily", slot="s1")
    clock.now = T0 + 100 * DAY
    sending.send_newsletter(rt, "daily", slot="s2", force=True)
    daemon.maintain()
    assert count(rt, Delivery) == 11


def test_on_postgresql_the_pruned_tables_are_vacuumed(tmp_path, pg_url):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, transport="file", sources='[[newsletters.sources]]\nname = "Wire"\n'
                                                               'url = "feed.xml"\n')
    config.write_text(config.read_text().replace('url = "sqlite:///digest.db"', f'url = "{pg_url}"'))
    clock = Clock(T0)
    rt = replace(Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})),
                 transport_factory=MemoryTransport, now=clock)
    try:
        with rt.sessions() as session, session.begin():
            for i in range(5):
                add_subscriber(session, f"r{i}@example.com", "daily", confirmed=True, origin=Origin("test"), now=T0)
        sending.send_newsletter(rt, "daily", slot="s1")
        clock.now = T0 + 100 * DAY
        sending.send_newsletter(rt, "daily", slot="s2", force=True)
        assert retention.prune(rt.sessions, rt.settings.retention, clock.now).counts["deliveries"] == 5
        assert count(rt, Delivery) == 5

        def vacuumed() -> bool:
            with rt.sessions() as session:
                return bool(session.scalar(sa.text("SELECT vacuum_count FROM pg_stat_user_tables "
                                                   "WHERE relname = 'deliveries'")))
        assert wait_until(vacuumed, seconds=10)
    finally:
        rt.sessions.kw["bind"].dispose()


def test_a_pass_waits_while_an_issue_is_being_sent_and_not_for_ever(site):
    rt, clock, _config = site
    first = sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    clock.now = T0 + 100 * DAY
    second = sending.send_newsletter(rt, "daily", slot="s2", force=True).new_issue_id
    third = sending.send_newsletter(rt, "daily", slot="s3", force=True).new_issue_id

    def being_sent(issue: int, status: str = "sending") -> None:
        with rt.sessions() as session, session.begin():
            session.execute(sa.update(Issue).where(Issue.id == issue).values(status=status))
    being_sent(third)
    looks: list[float] = []

    def sleep(seconds: float) -> None:  # the send ends after the pruner's third look
        looks.append(seconds)
        if len(looks) == 3:
            being_sent(third, "sent")
    pruner = retention.Pruner(rt.sessions, rt.settings.retention, clock.now, sleep=sleep)
    assert pruner.run()["deliveries"] == 11
    assert looks[:3] == [retention.POLL] * 3 and count(rt, Delivery, Delivery.issue_id == first) == 0

    # An issue left "sending" (a crash, hours of retries) holds a pass up for WAIT_FOR_SENDS at most.
    clock.now = T0 + 300 * DAY
    sending.send_newsletter(rt, "daily", slot="s4", force=True)
    being_sent(third)
    waits: list[float] = []
    assert retention.Pruner(rt.sessions, rt.settings.retention, clock.now, sleep=waits.append).run()["deliveries"] == 11
    assert waits.count(retention.POLL) == retention.WAIT_FOR_SENDS / retention.POLL
    assert count(rt, Delivery, Delivery.issue_id == second) == 0

"""Editorial review under real `digest run` daemons: review = "required" across a SIGKILL and a restart, and two
daemons sharing PostgreSQL. One draft per slot, the editors asked once, nothing sent unapproved (held past slot +
grace, the editors told), and an approved draft sent exactly once.

Slots come every 6 seconds, the draft 4.5 s before its slot, grace 1.5 s: every wait is on the database, the
SMTP server or the daemon's log, never on a clock.
"""

from __future__ import annotations

import re
import signal
from datetime import datetime, timezone

import sqlalchemy as sa
from conftest import SECRET, import_readers, run_cli, wait_until
from test_daemon import Daemon, daemon_config

from digest.flows import editorial
from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.models import Issue, ReviewDraft

READERS = ("r1@example.com", "r2@example.com")
EDITOR = "ed@gazette.example.org"


def review_config(tmp_path, smtp_server, url: str = ""):
    config, _port = daemon_config(tmp_path, smtp_server, "*/6 * * * * *", grace_minutes=0.025, readers=READERS,
                                  newsletter='review = "required"\nreview_lead_minutes = 0.075',
                                  scheduling="review_poll_seconds = 0.3\n")
    if url:
        config.write_text(config.read_text().replace('url = "sqlite:///digest.db"', f'url = "{url}"'))
        import_readers(config)
    added = run_cli("operators", "add", "ed", "--role", "editor", "--email", EDITOR, "--password-env", "ED_PASSWORD",
                    config=config, env={"ED_PASSWORD": "correct horse battery"})
    assert added.returncode == 0, added.stderr
    return config, Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET}))


def drafts(rt) -> list[ReviewDraft]:
    with rt.sessions() as session:
        return list(session.scalars(sa.select(ReviewDraft).order_by(ReviewDraft.slot_at)))


def ahead(draft: ReviewDraft, started: datetime) -> bool:
    """A draft made ahead of its slot, for a slot after `started`: the editors are asked about it. A slot that
    passed before a daemon led (caught up at start-up) or that a loaded daemon reached before its review round
    is drafted at the slot and held at once, nobody asked: not the one to follow."""
    return draft.slot_at > started and draft.created_at < draft.slot_at


def told(smtp_server, subject: str, draft_id: int) -> int:
    """How many mails to the editor had this subject and named this draft's page."""
    return sum(1 for m in list(smtp_server.messages) if EDITOR in m.rcpt_tos and subject in m.message["Subject"]
               and re.search(rf"/admin/review/{draft_id}\b", m.message.get_body(("plain",)).get_content()))


def to_readers(smtp_server) -> list[str]:
    return sorted(m.rcpt_tos[0] for m in list(smtp_server.messages) if m.rcpt_tos[0] in READERS)


def approve_the_next_draft(rt, after: datetime) -> ReviewDraft:
    """The first draft for a slot after `after`, approved as soon as it exists (before its slot)."""
    assert wait_until(lambda: any(d.slot_at > after and d.state == "review" for d in drafts(rt)), seconds=30)
    row = next(d for d in drafts(rt) if d.slot_at > after and d.state == "review")
    return editorial.approve(rt, row.id, row.version, "ed")


def sent_once_then_nothing_new(daemon, smtp_server) -> None:
    """Both readers got the issue, and the next slot has run on the same daemon: any second send would be done."""
    assert wait_until(lambda: to_readers(smtp_server) == sorted(READERS), seconds=30), daemon.text()
    already = daemon.text().count("nothing new: no issue")
    assert wait_until(lambda: daemon.text().count("nothing new: no issue") > already, seconds=30), daemon.text()


def test_required_review_survives_a_killed_daemon_holds_the_late_draft_and_sends_an_approved_one_once(
        tmp_path, smtp_server):
    config, rt = review_config(tmp_path, smtp_server)
    started = datetime.now(timezone.utc)
    first = Daemon(config, "first")
    try:
        assert wait_until(lambda: any(ahead(d, started) for d in drafts(rt)), seconds=30), first.text()
        draft = next(d for d in drafts(rt) if ahead(d, started))
        assert wait_until(lambda: told(smtp_server, "Review:", draft.id) == 1), first.text()
        # Killed between the relay's 250 and the commit of asked_at, the next daemon asks again (at least once is
        # the promise, as in the PostgreSQL test below); this test is about the restart, so the kill comes after.
        assert wait_until(lambda: any(d.id == draft.id and d.asked_at for d in drafts(rt))), first.text()
    finally:
        first.stop(signal.SIGKILL)
    second = Daemon(config, "second")
    try:
        assert second.wait_for("this daemon leads"), second.text()
        # The slot comes and goes unapproved: held, the editors told, no reader mailed.
        assert wait_until(lambda: told(smtp_server, "Not sent:", draft.id) == 1, seconds=30), second.text()
        assert [d.state for d in drafts(rt) if d.slot == draft.slot] == ["held"]
        assert told(smtp_server, "Review:", draft.id) == 1  # the restarted daemon found the draft, asked no one again
        assert to_readers(smtp_server) == []
        approved = approve_the_next_draft(rt, draft.slot_at)
        sent_once_then_nothing_new(second, smtp_server)
    finally:
        assert second.stop() == 0
    assert to_readers(smtp_server) == sorted(READERS)  # each reader once
    with rt.sessions() as session:
        (issue,) = session.scalars(sa.select(Issue)).all()
        assert session.get(ReviewDraft, approved.id).issue_id == issue.id and issue.subject == approved.subject
    assert all(d.state in ("held", "sent") for d in drafts(rt) if d.slot_at <= approved.slot_at), drafts(rt)
    assert "Traceback" not in second.text()
    # The sources are asked at most twice a slot (when its lead time starts, and at the slot), not every poll.
    fetches, slots = second.text().count("source Wire:"), len(set(re.findall(r"slot (\S+Z):", second.text())))
    assert fetches <= 2 * slots + 2, (fetches, slots)
    rt.sessions.kw["bind"].dispose()


def test_two_daemons_on_postgresql_one_draft_a_slot_never_unapproved_sent_once(tmp_path, smtp_server, pg_url):
    config, rt = review_config(tmp_path, smtp_server, pg_url)
    try:
        two_daemons_take_turns(config, rt, smtp_server)
    finally:
        rt.sessions.kw["bind"].dispose()  # a failed assertion must not leave a PostgreSQL connection to the next test


def two_daemons_take_turns(config, rt, smtp_server) -> None:
    started = datetime.now(timezone.utc)
    one, two = Daemon(config, "one"), Daemon(config, "two")
    try:
        assert wait_until(lambda: any(ahead(d, started) for d in drafts(rt)), seconds=30), one.text() + two.text()
        leader, standby = (one, two) if "this daemon leads" in one.text() else (two, one)
        draft = next(d for d in drafts(rt) if ahead(d, started))
        assert wait_until(lambda: told(smtp_server, "Review:", draft.id) == 1), leader.text()
        # Killed between the relay's 250 and the commit of asked_at, the leader's successor asks again: at least
        # once is the promise. This test is about the take-over, so the kill comes after the commit.
        assert wait_until(lambda: any(d.id == draft.id and d.asked_at for d in drafts(rt))), leader.text()
        leader.stop(signal.SIGKILL)  # the standby takes over, finds the draft and waits for an approval too
        assert standby.wait_for("this daemon leads", seconds=20), standby.text()
        assert wait_until(lambda: told(smtp_server, "Not sent:", draft.id) == 1, seconds=30), standby.text()
        assert to_readers(smtp_server) == [] and told(smtp_server, "Review:", draft.id) == 1
        approved = approve_the_next_draft(rt, draft.slot_at)
        sent_once_then_nothing_new(standby, smtp_server)
    finally:
        for daemon in (one, two):
            daemon.stop()
    assert to_readers(smtp_server) == sorted(READERS)
    with rt.sessions() as session:
        slots = session.execute(sa.select(ReviewDraft.slot, sa.func.count()).group_by(ReviewDraft.slot)).all()
        (issue,) = session.scalars(sa.select(Issue)).all()
        assert all(count == 1 for _slot, count in slots) and session.get(ReviewDraft, approved.id).issue_id == issue.id
    asked = [re.search(r"/admin/review/(\d+)", m.message.get_body(("plain",)).get_content()).group(1)
             for m in smtp_server.messages if EDITOR in m.rcpt_tos and "Review:" in m.message["Subject"]]
    assert len(asked) == len(set(asked)) == len(slots)  # each draft asked for once, whichever daemon made it

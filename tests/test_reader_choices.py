"""Readers' own choices of sections and of the weekly roundup (issue 25): applied when the outbox is made, one
rendering per distinct choice, the roundup keyed by its slot, and exactly-once under kill -9 with choices on."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
import signal
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from conftest import Clock, DATA, SECRET, import_readers, run_cli, start_cli, wait_until, write_config
from sqlalchemy import func, select
from starlette.testclient import TestClient

from digest.config import load_settings
from digest.deliver.transports import MemoryTransport
from digest.flows import roundup, sending
from digest.flows.runtime import Runtime
from digest.models import Delivery, Issue, IssueVariant
from digest.web.app import create_app
from subscribers import Origin, add_subscriber, export_person, make_unsubscribe_token
from subscribers.models import Subscriber, Subscription

SECTIONS = """
[[newsletters.sources]]
name = "Wire"
url = "feed.xml"

[[newsletters.sections]]
title = "Culture"
categories = ["Culture"]

[[newsletters.sections]]
title = "Transport"
categories = ["Transport"]

[[newsletters.sections]]
title = "News"
"""
READERS = ("ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com")


@pytest.fixture
def site(tmp_path):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, transport="file", sources=SECTIONS,
                          extra_newsletter='roundup_schedule = "0 8 * * 1"\nroundup_items = 1')
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    transport, clock = MemoryTransport(), Clock()
    rt = replace(Runtime.create(settings), transport_factory=lambda: transport, now=clock)
    with rt.sessions() as session, session.begin():
        for address in READERS:
            add_subscriber(session, address, "daily", confirmed=True, origin=Origin("test"))
    app = create_app(settings, rt.sessions, rt.transport_factory, now=clock, mailer=lambda job: job())
    with TestClient(app, base_url="https://gazette.example.org") as client:
        yield rt, transport, clock, client, tmp_path


def page_of(rt, client, address: str) -> tuple[str, str]:
    with rt.sessions() as session:
        reader = session.scalar(select(Subscriber.id).where(Subscriber.email == address))
    path = f"/preferences/{make_unsubscribe_token(SECRET, reader, 'daily')}"
    return path, re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text).group(1)


def post(rt, client, address: str, **form):
    path, csrf = page_of(rt, client, address)
    return client.post(path, data={"csrf": csrf, "newsletter": "daily", **form})


def choose(rt, client, address: str, **form) -> str:
    response = post(rt, client, address, **form)
    assert response.status_code == 200, response.text
    return response.text


def texts_of(transport, address: str) -> list[str]:
    return [email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content()
            for _sender, recipients, raw in transport.messages if address in recipients]


def test_each_reader_gets_only_their_sections_rendered_once_per_choice(site):
    rt, transport, _clock, client, folder = site
    page = client.get(page_of(rt, client, "ann@example.com")[0]).text
    assert all(f'name="section" value="{t}" checked' in page for t in ("Culture", "Transport", "News"))
    done = choose(rt, client, "ann@example.com", action="sections", section="Culture")
    assert "Your sections of Gazette Daily are saved" in done
    assert 'value="Culture" checked' in done and 'value="Transport">' in done
    choose(rt, client, "dan@example.com", action="sections", section="Culture")
    choose(rt, client, "cat@example.com", action="sections", section=["Transport", "News"])
    # not a section of this newsletter: nothing chosen, nothing changed
    refused = post(rt, client, "bob@example.com", action="sections", section="Sport")
    assert refused.status_code == 400 and "Choose at least one section" in refused.text
    with rt.sessions() as session:
        person = export_person(session, "ann@example.com")
    assert ("sections", "source=web; preferences page: only Culture") in [
        (e["kind"], e["detail"]) for e in person["consent_events"]]

    first = sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    ann, bob, cat = (texts_of(transport, a)[0] for a in READERS[:3])
    assert "Museum finds lost map" in ann and "Ferry service" not in ann and "Storm warning" not in ann
    assert all(t in bob for t in ("Museum finds lost map", "Ferry service", "Storm warning"))
    assert "Ferry service" in cat and "Storm warning" in cat and "Museum finds" not in cat
    dan = texts_of(transport, "dan@example.com")[0]
    assert "Museum finds lost map" in dan and "Ferry service" not in dan
    with rt.sessions() as session:
        variants = session.scalars(select(IssueVariant.sections).where(IssueVariant.issue_id == first)).all()
        assert sorted(variants) == ['["Culture"]', '["News", "Transport"]']  # ann and dan share one
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.variant_id.is_(None),
                                                                              Delivery.issue_id == first)) == 1
    # The unsubscribe link in a variant is still the reader's own.
    ann_raw = next(raw for _s, r, raw in transport.messages if "ann@example.com" in r)
    assert b"token=preview" not in ann_raw and re.search(rb"List-Unsubscribe: <https://[^>]+token=", ann_raw)

    # An issue with none of a reader's sections is not sent to them, counted with the reason.
    shutil.copy(DATA / "desk.atom", folder / "feed.xml")  # transport and unlabelled stories, no culture
    second = sending.send_newsletter(rt, "daily", slot="s2").new_issue_id
    assert len(texts_of(transport, "ann@example.com")) == 1 and len(texts_of(transport, "cat@example.com")) == 2
    with rt.sessions() as session:
        assert json.loads(session.get(Issue, second).held_readers) == {"no_section": 2}
    status = run_cli("status", config=folder / "config.toml")
    assert "2 with none of their sections in it" in status.stdout, status.stdout + status.stderr

    # Every section again: the whole issue, no variant.
    choose(rt, client, "ann@example.com", action="sections", section=["Culture", "Transport", "News"])
    with rt.sessions() as session:
        assert session.scalar(select(Subscription.sections).join(Subscriber)
                              .where(Subscriber.email == "ann@example.com")) is None


def test_weekly_roundup_readers_get_no_daily_issue_and_one_roundup_per_slot(site):
    rt, transport, clock, client, folder = site
    page = client.get(page_of(rt, client, "ann@example.com")[0]).text
    assert "A weekly roundup of the best" in page
    done = choose(rt, client, "ann@example.com", action="frequency", frequency="weekly")
    assert "You receive Gazette Daily as a weekly roundup" in done and "You receive the weekly roundup." in done
    choose(rt, client, "bob@example.com", action="sections", section="Transport")

    first = sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    clock.now += timedelta(days=1)
    shutil.copy(DATA / "desk.atom", folder / "feed.xml")
    assert sending.send_newsletter(rt, "daily", slot="s2").new_issue_id
    assert texts_of(transport, "ann@example.com") == []  # no daily issue
    assert len(texts_of(transport, "cat@example.com")) == 2
    with rt.sessions() as session:
        assert json.loads(session.get(Issue, first).held_readers) == {"roundup": 1}

    clock.now += timedelta(hours=1)
    made, report, result = roundup.send_roundup(rt, "daily", "roundup-w1", clock.now)
    assert made and report.sent == 1, result
    (weekly,) = texts_of(transport, "ann@example.com")
    assert "the week" in weekly
    # roundup_items = 1: the lead of each section over the week, each story once.
    assert "Museum finds lost map" in weekly and "Storm warning" not in weekly
    assert weekly.count("Ferry service") + weekly.count("New cycle lanes") == 1
    assert len(texts_of(transport, "cat@example.com")) == 2  # every-issue readers get no roundup
    again = roundup.send_roundup(rt, "daily", "roundup-w1", clock.now)
    assert again[0] is None and "already" in again[2] and len(texts_of(transport, "ann@example.com")) == 1
    # The roundup sets no carry-over and links no article: the next daily issue is made as before.
    with rt.sessions() as session:
        assert session.get(Issue, made).kind == "roundup"
        assert session.scalar(select(Issue).order_by(Issue.id.desc()).limit(1)).id == made

    choose(rt, client, "ann@example.com", action="frequency", frequency="each")
    shutil.copy(DATA / "notes.json", folder / "feed.xml")
    assert sending.send_newsletter(rt, "daily", slot="s3").new_issue_id
    assert len(texts_of(transport, "ann@example.com")) == 2


def test_a_newsletter_without_a_roundup_offers_none_and_refuses_the_choice(tmp_path):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, transport="file", sources=SECTIONS)
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.com", "daily", confirmed=True, origin=Origin("test"))
    with TestClient(create_app(settings, rt.sessions, rt.transport_factory), base_url="https://gazette.example.org") as c:
        path, csrf = page_of(rt, c, "ann@example.com")
        assert "weekly roundup" not in c.get(path).text
        refused = c.post(path, data={"csrf": csrf, "newsletter": "daily", "action": "frequency",
                                     "frequency": "weekly"})
        assert refused.status_code == 400 and "has no weekly roundup" in refused.text
    bad = write_config(tmp_path, transport="file", sources=SECTIONS, extra_newsletter='roundup_schedule = "every monday"')
    result = run_cli("status", config=bad)
    assert result.returncode != 0 and "roundup_schedule" in result.stderr


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_kill_9_mid_send_with_readers_choices_sends_each_their_own_copy_once(database, tmp_path, smtp_server,
                                                                             request):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources=SECTIONS,
                          extra_newsletter='roundup_schedule = "0 8 * * 1"', delivery="connections = 2")
    if database == "postgresql":
        pg_url = request.getfixturevalue("pg_url")
        config.write_text(config.read_text().replace('url = "sqlite:///digest.db"', f'url = "{pg_url}"'))
    readers = [f"reader{i}@example.com" for i in range(16)]
    (tmp_path / "readers.csv").write_text("email\n" + "\n".join(readers) + "\n")
    import_readers(config)
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    culture, plain, paused, weekly = readers[0:4], readers[4:7], readers[7:9], readers[9:11]
    with rt.sessions() as session, session.begin():
        for s in session.scalars(select(Subscription).join(Subscriber)):
            address = s.subscriber.email
            s.sections = '["Culture"]' if address in culture else None
            s.plain_text = address in plain
            s.paused_until = datetime.now(timezone.utc) + timedelta(weeks=1) if address in paused else None
            s.frequency = "weekly" if address in weekly else "each"
    rt.sessions.kw["bind"].dispose()
    smtp_server.delay = 0.3
    process = start_cli("send", "daily", config=config)
    assert wait_until(lambda: len(smtp_server.messages) >= 3, seconds=60, step=0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    smtp_server.delay = 0
    resumed = run_cli("send", "daily", config=config, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    got = [m.rcpt_tos[0] for m in smtp_server.messages]
    expected = set(readers) - set(paused) - set(weekly)
    assert set(got) == expected
    assert len(got) - len(expected) <= 2  # at most what was in flight on the 2 connections
    for m in smtp_server.messages:
        address, message = m.rcpt_tos[0], m.message
        body = message.get_body(("plain",)).get_content()
        assert ("Ferry service" in body) == (address not in culture), address
        assert (message.get_content_type() == "text/plain") == (address in plain), address


def test_the_roundup_goes_through_review_and_the_daemon_schedules_it(tmp_path):
    from digest.daemon.schedule import timetables
    from digest.flows import editorial

    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, transport="file", sources=SECTIONS,
                          extra_newsletter='roundup_schedule = "0 8 * * 1"\nreview = "required"')
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    transport, clock = MemoryTransport(), Clock()
    rt = replace(Runtime.create(settings), transport_factory=lambda: transport, now=clock)
    newsletter = settings.newsletter("daily")
    assert [prefix for prefix, _trigger in timetables(newsletter)] == ["", "roundup-"]
    with rt.sessions() as session, session.begin():
        for address in READERS[:2]:
            add_subscriber(session, address, "daily", confirmed=True, origin=Origin("test"))
        session.scalar(select(Subscription).join(Subscriber).where(
            Subscriber.email == READERS[0])).frequency = "weekly"
    assert sending.send_newsletter(rt, "daily", slot="s1").new_issue_id  # a daily issue, to the other reader
    clock.now += timedelta(days=2)
    slot_at = clock.now + timedelta(minutes=30)
    row, made = editorial.prepare(rt, newsletter, "roundup-2026-12-07T08:00", slot_at, fetch=False)
    items = editorial.items_of(row)  # the week's issue's stories, per section, for the editor to review
    assert made and sorted(i["section"] for i in items) == ["Culture", "News", "Transport"]
    assert editorial.fire(rt, "daily", row.slot, slot_at, timedelta(minutes=30)).endswith("waiting for approval")
    editorial.approve(rt, row.id, row.version, "ed")
    clock.now = slot_at
    result = editorial.fire(rt, "daily", row.slot, slot_at, timedelta(minutes=30))
    assert result.endswith("1 sent"), result
    weekly = texts_of(transport, READERS[0])
    assert len(weekly) == 1 and "the week" in weekly[0]
    with rt.sessions() as session:
        issue = session.scalar(select(Issue).where(Issue.slot == row.slot))
        assert issue.kind == "roundup" and json.loads(issue.held_readers or "{}") == {}
    assert len(texts_of(transport, READERS[1])) == 1  # the every-issue reader got the daily issue only

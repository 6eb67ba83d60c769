"""The reader's own page (issue 25, first step): reached from a received digest, a pause that ends by itself,
leaving one newsletter or everything; every change recorded; forged and other readers' links change nothing."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from urllib.parse import quote
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from conftest import Clock, DATA, SECRET, write_config
from sqlalchemy import select
from starlette.testclient import TestClient

from digest.config import load_settings
from digest.deliver import outbox
from digest.deliver.transports import MemoryTransport
from digest.flows import sending
from digest.flows.runtime import Runtime
from digest.models import Issue
from digest.web.app import create_app
from subscribers import (
    ConsentEvent,
    Origin,
    add_subscriber,
    export_person,
    make_unsubscribe_token,
)
from subscribers.models import Subscription
from subscribers.suppression import suppress

SECOND = """
[[newsletters]]
slug = "weekly"
title = "The Weekly Letter"
from_address = "Weekly <weekly@gazette.example.org>"

[[newsletters.sources]]
name = "Desk"
url = "desk.xml"
"""


@pytest.fixture
def site(tmp_path):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    shutil.copy(DATA / "desk.atom", tmp_path / "desk.xml")
    config = write_config(tmp_path, transport="file", sources='[[newsletters.sources]]\nname = "Wire"\n'
                                                               'url = "feed.xml"\n' + SECOND)
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    transport, clock = MemoryTransport(), Clock()
    rt = replace(Runtime.create(settings), transport_factory=lambda: transport, now=clock)
    with rt.sessions() as session, session.begin():
        for address in ("ann@example.com", "bob@example.com"):
            add_subscriber(session, address, "daily", confirmed=True, origin=Origin("test"))
    app = create_app(settings, rt.sessions, rt.transport_factory, now=clock, mailer=lambda job: job())
    with TestClient(app, base_url="https://gazette.example.org") as client:
        yield rt, transport, clock, client, tmp_path


def received_by(transport, address: str) -> list[bytes]:
    return [raw for _sender, recipients, raw in transport.messages if address in recipients]


def manage_link(raw: bytes) -> str:
    """The footer's "Manage your subscriptions" link, from the text part as a reader sees it."""
    text = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content()
    return re.search(r"Manage your subscriptions: https://gazette\.example\.org(\S+)", text).group(1)


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def events(rt, address: str) -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [(e["newsletter"], e["kind"]) for e in export_person(session, address)["consent_events"]]


def test_a_reader_pauses_from_the_link_in_a_digest_and_mail_resumes_by_itself(site):
    rt, transport, clock, client, folder = site
    assert sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    link = manage_link(received_by(transport, "ann@example.com")[-1])
    page = client.get(link)  # /unsubscribe?token=...&view=preferences -> the reader's own page
    assert page.status_code == 200 and page.url.path.startswith("/preferences/")
    assert "ann@example.com" in page.text and "Gazette Daily" in page.text and "The Weekly Letter" in page.text
    assert "Unsubscribe from everything" in page.text and page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"  # the token in the address never leaves the site
    path = page.url.path

    done = client.post(path, data={"csrf": csrf(page.text), "action": "pause", "newsletter": "daily", "weeks": "2"})
    until = clock.now + timedelta(weeks=2)
    assert done.status_code == 200 and f"paused until {until:%A}, {until.day} {until:%B %Y}" in done.text
    assert "Resume now" in done.text and ("daily", "paused") in events(rt, "ann@example.com")

    shutil.copy(DATA / "desk.atom", folder / "feed.xml")
    second = sending.send_newsletter(rt, "daily", slot="s2")
    assert len(received_by(transport, "ann@example.com")) == 1  # paused: nothing
    assert len(received_by(transport, "bob@example.com")) == 2
    with rt.sessions() as session:
        assert session.get(Issue, second.new_issue_id).paused_readers == 1

    clock.now += timedelta(weeks=2, minutes=1)  # the date passes: no job, no click, mail again
    assert "Paused until" not in client.get(path).text
    shutil.copy(DATA / "notes.json", folder / "feed.xml")
    assert sending.send_newsletter(rt, "daily", slot="s3").new_issue_id
    assert len(received_by(transport, "ann@example.com")) == 2


def test_resume_now_subscribe_to_another_newsletter_and_leave_everything(site):
    rt, transport, clock, client, _folder = site
    with rt.sessions() as session:
        ann = session.scalar(select(Subscription).where(Subscription.newsletter == "daily")).subscriber_id
    path = f"/preferences/{make_unsubscribe_token(SECRET, ann, 'daily')}"
    token = csrf(client.get(path).text)
    client.post(path, data={"csrf": token, "action": "pause", "newsletter": "daily", "weeks": "8"})
    resumed = client.post(path, data={"csrf": token, "action": "resume", "newsletter": "daily"})
    assert "no longer paused" in resumed.text
    joined = client.post(path, data={"csrf": token, "action": "subscribe", "newsletter": "weekly"})
    assert "You are subscribed to The Weekly Letter." in joined.text
    with rt.sessions() as session:  # confirmed at once: the link proved the address
        assert outbox.still_confirmed(session, "weekly", [ann], clock.now) == {ann}
    left = client.post(path, data={"csrf": token, "action": "leave_everything"})
    assert "You are unsubscribed from every newsletter." in left.text
    assert events(rt, "ann@example.com")[-5:] == [("daily", "paused"), ("daily", "resumed"), ("weekly", "confirmed"),
                                                  ("daily", "unsubscribed"), ("weekly", "unsubscribed")]
    with rt.sessions() as session:
        assert outbox.still_confirmed(session, "daily", [ann], clock.now) == set()


def test_forged_foreign_and_cross_site_requests_change_nothing(site):
    rt, _transport, clock, client, _folder = site
    with rt.sessions() as session:
        ann, bob = [s.subscriber_id for s in session.scalars(select(Subscription).order_by(Subscription.id))]
    ann_path = f"/preferences/{make_unsubscribe_token(SECRET, ann, 'daily')}"
    bob_path = f"/preferences/{make_unsubscribe_token(SECRET, bob, 'daily')}"
    forged = make_unsubscribe_token("another-secret-key-of-32-characters!", ann, "daily")
    assert client.get(f"/preferences/{forged}").status_code == 400
    assert client.post(f"/preferences/{forged}", data={"csrf": "0" * 32, "action": "leave_everything"}
                       ).status_code == 403
    # Bob's form field does not work with Ann's link, nor a made-up one, nor a cross-site POST.
    bob_csrf = csrf(client.get(bob_path).text)
    assert client.post(ann_path, data={"csrf": bob_csrf, "action": "leave_everything"}).status_code == 403
    assert client.post(ann_path, data={"csrf": csrf(client.get(ann_path).text), "action": "leave_everything"},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post(ann_path, data={"csrf": csrf(client.get(ann_path).text), "action": "pause",
                                       "newsletter": "daily", "weeks": "3"}).status_code == 400  # not a choice
    assert client.post(ann_path, data={"csrf": csrf(client.get(ann_path).text), "action": "drop_table",
                                       "newsletter": "daily"}).status_code == 400
    with rt.sessions() as session:
        assert session.scalars(select(ConsentEvent.kind).where(ConsentEvent.subscriber_id == ann)).all() == \
            ["confirmed"]
        assert outbox.still_confirmed(session, "daily", [ann, bob], clock.now) == {ann, bob}


def test_a_reader_who_pauses_during_a_send_is_skipped(site):
    rt, _transport, clock, client, _folder = site
    with rt.sessions() as session:
        ann = session.scalar(select(Subscription).order_by(Subscription.id)).subscriber_id
    path = f"/preferences/{make_unsubscribe_token(SECRET, ann, 'daily')}"
    client.post(path, data={"csrf": csrf(client.get(path).text), "action": "pause", "newsletter": "daily",
                            "weeks": "1"})
    with rt.sessions() as session:
        assert outbox.still_confirmed(session, "daily", [ann], clock.now) == set()
        assert outbox.still_confirmed(session, "daily", [ann], clock.now + timedelta(weeks=1, seconds=1)) == {ann}


def test_email_me_my_link_answers_the_same_for_anyone_and_mails_only_a_held_address(tmp_path, smtp_server):
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources='[[newsletters.sources]]\nname = "W"\n'
                                                                        'url = "w.xml"\n' + SECOND,
                          gather="\n[web]\nsignups_per_ip_per_hour = 5\n")
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.com", "weekly", confirmed=True, origin=Origin("test"))
    app = create_app(settings, rt.sessions, rt.transport_factory, mailer=lambda job: job())
    with TestClient(app, base_url="https://gazette.example.org") as client:
        known = client.post("/preferences/link", data={"email": "Ann@Example.com"})
        unknown = client.post("/preferences/link", data={"email": "nobody@example.com"})
        assert known.status_code == unknown.status_code == 200
        answer = "we\u2019ve sent it a link to manage them"
        assert answer in known.text and answer in unknown.text
        assert [m.rcpt_tos for m in smtp_server.messages] == [["ann@example.com"]]  # only the held address
        mail = smtp_server.messages[0].message
        assert mail["From"] == "Weekly <weekly@gazette.example.org>"
        link = re.search(r"https://gazette\.example\.org(/preferences/\S+)", mail.get_body(("plain",)).get_content())
        page = client.get(link.group(1))
        assert "ann@example.com" in page.text and "The Weekly Letter" in page.text
        assert client.post("/preferences/link", data={"email": "not an address"}).status_code == 400
        client.post("/preferences/link", data={"email": "ann@example.com", "website": "http://spam"})  # honeypot
        assert len(smtp_server.messages) == 1
        for _ in range(2):  # the 4th and 5th requests from this network: answered, mailed
            assert client.post("/preferences/link", data={"email": "ann@example.com"}).status_code == 200
        assert len(smtp_server.messages) == 3
        assert client.post("/preferences/link", data={"email": "ann@example.com"}).status_code == 429  # 6th: limit


def test_plain_text_only_from_the_next_issue(site):
    rt, transport, _clock, client, folder = site
    with rt.sessions() as session:
        ann = session.scalar(select(Subscription).order_by(Subscription.id)).subscriber_id
    path = f"/preferences/{make_unsubscribe_token(SECRET, ann, 'daily')}"
    chose = client.post(path, data={"csrf": csrf(client.get(path).text), "action": "plain_text", "newsletter": "daily"})
    assert "Gazette Daily comes as plain text only from the next issue." in chose.text
    assert "Send me the full email" in chose.text and ("daily", "plain_text") in events(rt, "ann@example.com")
    assert sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    (ann_mail,), (bob_mail,) = received_by(transport, "ann@example.com"), received_by(transport, "bob@example.com")
    ann_message = email.message_from_bytes(ann_mail, policy=email.policy.default)
    bob_message = email.message_from_bytes(bob_mail, policy=email.policy.default)
    assert ann_message.get_content_type() == "text/plain" and not ann_message.is_multipart()
    assert bob_message.get_content_type() == "multipart/alternative"
    text = ann_message.get_content()
    assert ann_message.get_body(("plain",)).get_content() == text and "Manage your subscriptions: https://" in text
    token = re.search(r"token=([\w.-]+)>", ann_message["List-Unsubscribe"]).group(1)
    assert text.count(token) == 2 and ann_message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # and back to the full email
    client.post(path, data={"csrf": csrf(client.get(path).text), "action": "html", "newsletter": "daily"})
    shutil.copy(DATA / "desk.atom", folder / "feed.xml")
    assert sending.send_newsletter(rt, "daily", slot="s2").new_issue_id
    again = email.message_from_bytes(received_by(transport, "ann@example.com")[-1], policy=email.policy.default)
    assert again.get_content_type() == "multipart/alternative"


def test_a_reader_changes_address_confirmed_from_the_new_mailbox(tmp_path, smtp_server):
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources='[[newsletters.sources]]\nname = "W"\n'
                                                                        'url = "w.xml"\n' + SECOND)
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        (ann_sub, _), _ = [add_subscriber(session, a, "daily", confirmed=True, origin=Origin("test"))
                           for a in ("ann@example.com", "bob@example.com")]
        ann = ann_sub.subscriber_id
        add_subscriber(session, "ann@example.com", "weekly", confirmed=True, origin=Origin("test"))
        suppress(session, "spam-trap@example.com", "complaint", "test", Origin("test"), datetime.now(timezone.utc))
    app = create_app(settings, rt.sessions, rt.transport_factory, mailer=lambda job: job())
    with TestClient(app, base_url="https://gazette.example.org") as client:
        path = f"/preferences/{make_unsubscribe_token(SECRET, ann, 'daily')}"
        client.post(path, data={"csrf": csrf(client.get(path).text), "action": "plain_text", "newsletter": "weekly"})
        # another reader's address, and a suppressed one: the same refusal, and no mail
        for taken in ("bob@example.com", "spam-trap@example.com"):
            refused = client.post(path, data={"csrf": csrf(client.get(path).text), "action": "change_address",
                                              "new_email": taken})
            assert refused.status_code == 400 and "We cannot move your subscriptions to this address" in refused.text
        assert smtp_server.messages == []
        asked = client.post(path, data={"csrf": csrf(client.get(path).text), "action": "change_address",
                                        "new_email": "Ann.New@Example.org"})
        assert "We sent a link to ann.new@example.org" in asked.text
        (mail,) = smtp_server.messages
        assert mail.rcpt_tos == ["ann.new@example.org"]
        with rt.sessions() as session:  # nothing moved yet
            assert export_person(session, "ann@example.com") is not None
        link = re.search(r"https://gazette\.example\.org(/preferences/move\?token=\S+)",
                         mail.message.get_body(("plain",)).get_content()).group(1)
        shown = client.get(link)  # a scanner opening the link moves nothing
        assert "Confirm my new address" in shown.text and "a***@example.com" in shown.text
        token = link.split("token=")[1].split("&")[0]  # the link also names the newsletter (its language)
        moved = client.post("/preferences/move", data={"token": token})
        assert moved.status_code == 200 and "Your newsletters now come to this address." in moved.text
        assert "ann.new@example.org" in moved.text
        told = smtp_server.messages[-1]
        assert told.rcpt_tos == ["ann@example.com"] and "a***@example.org" in told.message.get_body(
            ("plain",)).get_content()
        again = client.post("/preferences/move", data={"token": token})
        assert again.status_code == 400  # once only
    with rt.sessions() as session:
        assert export_person(session, "ann@example.com") is None
        person = export_person(session, "ann.new@example.org")
        kinds = [(e["newsletter"], e["kind"]) for e in person["consent_events"]]
        assert ("daily", "address_changed") in kinds and ("weekly", "address_changed") in kinds
        assert ("weekly", "plain_text") in kinds  # the history and the choices moved with the reader
        assert session.scalar(select(Subscription.plain_text).where(Subscription.subscriber_id == ann,
                                                                    Subscription.newsletter == "weekly"))
        assert outbox.still_confirmed(session, "daily", [ann], datetime.now(timezone.utc)) == {ann}


def test_hostile_tokens_stay_inside_the_preferences_page_and_a_forged_move_link_moves_nobody(site):
    rt, _transport, _clock, client, _folder = site
    for hostile in ("../admin", "x?y=1", "a/b", "%2e%2e/admin", "\r\nSet-Cookie: x=1"):
        for url in (f"/unsubscribe?view=preferences&token={quote(hostile)}", f"/preferences?token={quote(hostile)}"):
            redirect = client.get(url, follow_redirects=False)
            location = redirect.headers["location"]
            assert redirect.status_code == 303 and location.startswith("/preferences/") and "\n" not in location
            assert location.count("/") == 2 and "?" not in location, (hostile, location)  # one path segment
    with rt.sessions() as session:
        ann = session.scalar(select(Subscription).order_by(Subscription.id)).subscriber_id
    for forged in ("", "x" * 5000, "eyJmYWtlIjoxfQ.forged.sig"):
        assert client.get(f"/preferences/move?token={forged}").status_code == 400
        assert client.post("/preferences/move", data={"token": forged}).status_code == 400
    with rt.sessions() as session:
        assert export_person(session, "ann@example.com")["email"] == "ann@example.com"
        assert session.scalar(select(Subscription.subscriber_id).order_by(Subscription.id)) == ann

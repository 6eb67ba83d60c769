"""The web app through the ASGI test client; confirmation emails land in a real aiosmtpd server."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from conftest import SECRET, start_cli, wait_until, write_config
from starlette.testclient import TestClient

from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.web.app import create_app
from digest.web.signup import BAD_ADDRESS, THANKS, TOO_MANY
from subscribers import confirmed_recipients, list_subscriptions, make_unsubscribe_token

SECOND_NEWSLETTER = """
[[newsletters]]
slug = "ukraine"
title = "Explaining Ukraine with Kate Tsurkan"
description = "A weekly letter."
from_address = "Explaining Ukraine <ukraine@gazette.example.org>"
welcome_email = true

[[newsletters.sources]]
name = "A"
url = "a.xml"
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def web(tmp_path, smtp_server):
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources=(
        '[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n' + SECOND_NEWSLETTER),
        gather='\n[web]\nallowed_origins = ["https://news.example.org"]\nmax_body_bytes = 2048\n'
               'signups_per_ip_per_hour = 8\n')
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    clock = Clock()
    # Confirmation emails go out in the background in production; here, before the answer, to inspect them.
    app = create_app(settings, rt.sessions, rt.transport_factory, now=clock, mailer=lambda job: job())
    with TestClient(app, base_url="https://gazette.example.org") as client:
        yield client, rt, smtp_server, clock


def statuses(rt):
    with rt.sessions() as session:
        return list_subscriptions(session)


def confirm_link(received) -> str:
    text = received.message.get_body(("plain",)).get_content()
    return re.search(r"https://gazette\.example\.org(/confirm\?token=\S+)", text).group(1)


def subscribe_and_confirm(client, rt, smtp, address: str) -> int:
    """Through the pages, as a reader would; returns the subscriber id."""
    client.post("/subscribe", data={"email": address, "newsletter": "daily"})
    client.post("/confirm", data={"token": confirm_link(smtp.messages[-1]).split("token=")[1]})
    with rt.sessions() as session:
        ((subscriber_id, _email),) = confirmed_recipients(session, "daily")
    return subscriber_id


def test_signup_page_lists_every_newsletter_with_the_source_page_words(web):
    client, *_ = web
    page = client.get("/").text
    assert "Gazette Daily" in page and "Explaining Ukraine with Kate Tsurkan" in page
    assert page.count('placeholder="Enter your email to subscribe"') == 2
    assert page.count(">Subscribe</button>") == 2 and page.count("* indicates required") == 2
    assert "<script src" not in page and "<link" not in page  # no external assets


def test_signup_confirm_welcome_flow_without_javascript(web):
    client, rt, smtp, _clock = web
    bad = client.post("/subscribe", data={"email": "not an address", "newsletter": "ukraine"})
    assert bad.status_code == 400 and BAD_ADDRESS in bad.text and 'value="not an address"' in bad.text

    good = client.post("/subscribe", data={"email": "Reader@Example.com", "newsletter": "ukraine"})
    assert good.status_code == 200 and THANKS.replace("\u2019", "&#39;") not in good.text and THANKS in good.text
    (received,) = smtp.messages
    assert received.rcpt_tos == ["reader@example.com"]
    assert received.message["Subject"] == "Please confirm your subscription to Explaining Ukraine with Kate Tsurkan"
    link = confirm_link(received)

    page = client.get(link)  # what a mail scanner does: nothing changes
    assert page.status_code == 200 and "Confirm subscription" in page.text
    assert statuses(rt)[0][2].value == "pending"

    token = link.split("token=")[1]
    done = client.post("/confirm", data={"token": token})
    assert done.status_code == 200 and "Successfully subscribed" in done.text
    assert statuses(rt)[0][2].value == "confirmed"
    welcome = smtp.messages[-1]
    assert welcome.message["Subject"] == "Welcome to Explaining Ukraine with Kate Tsurkan"
    assert "/unsubscribe?token=" in welcome.message.get_body(("plain",)).get_content()

    reused = client.post("/confirm", data={"token": token})
    assert "Successfully subscribed" in reused.text and len(smtp.messages) == 2  # no second welcome


def test_no_enumeration_and_nothing_but_the_confirmation_before_confirming(web):
    client, rt, smtp, _clock = web
    answers = []
    for _ in range(2):
        answers.append(client.post("/api/subscribe", json={"email": "a@example.com", "newsletter": "daily"}))
    client.post("/confirm", data={"token": confirm_link(smtp.messages[-1]).split("token=")[1]})
    answers.append(client.post("/api/subscribe", json={"email": "a@example.com", "newsletter": "daily"}))
    assert {(r.status_code, r.text) for r in answers} == {(200, '{"ok":true,"message":"%s"}' % THANKS)}
    assert [m.message["Subject"] for m in smtp.messages] == ["Please confirm your subscription to Gazette Daily"] * 2
    assert statuses(rt) == [("a@example.com", "daily", statuses(rt)[0][2])] and statuses(rt)[0][2].value == "confirmed"


def test_forged_reused_and_expired_tokens(web):
    client, rt, smtp, clock = web
    forged = client.post("/confirm", data={"token": "AAAAforged"})
    assert forged.status_code == 400 and "not valid" in forged.text
    assert client.get("/confirm?token=").status_code == 400

    client.post("/subscribe", data={"email": "late@example.com", "newsletter": "daily"})
    token = confirm_link(smtp.messages[-1]).split("token=")[1]
    clock.now += timedelta(hours=49)
    expired = client.get(f"/confirm?token={token}")
    assert expired.status_code == 410 and "Send me a new link" in expired.text
    assert client.post("/confirm", data={"token": token}).status_code == 410
    renewed = client.post("/confirm/renew", data={"token": token})
    assert renewed.status_code == 200 and "new confirmation email" in renewed.text
    new_token = confirm_link(smtp.messages[-1]).split("token=")[1]
    assert new_token != token
    assert "Successfully subscribed" in client.post("/confirm", data={"token": new_token}).text
    again = client.post("/confirm/renew", data={"token": token})
    assert again.status_code == 400


def test_one_click_and_page_unsubscribe_with_undo(web):
    client, rt, smtp, _clock = web
    subscriber_id = subscribe_and_confirm(client, rt, smtp, "u@example.com")
    token = make_unsubscribe_token(SECRET, subscriber_id, "daily")

    page = client.get(f"/unsubscribe?token={token}")
    assert page.status_code == 200 and ">Unsubscribe</button>" in page.text
    assert statuses(rt)[0][2].value == "confirmed"  # a GET changes nothing

    one_click = client.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and one_click.text == "Unsubscribed from Gazette Daily."
    assert statuses(rt)[0][2].value == "unsubscribed"

    undo = client.post("/unsubscribe/undo", data={"token": token})  # the link in every digest is no undo token
    assert undo.status_code == 400 and statuses(rt)[0][2].value == "unsubscribed"
    assert "Undo" not in client.post("/unsubscribe", data={"token": token}).text  # nothing to undo here

    subscribe_and_confirm(client, rt, smtp, "u@example.com")
    by_page = client.post("/unsubscribe", data={"token": token})
    assert "You have been unsubscribed" in by_page.text and "Undo" in by_page.text
    assert statuses(rt)[0][2].value == "unsubscribed"
    undo_token = re.search(r'name="token" value="([^"]+)"', by_page.text).group(1)
    assert undo_token != token
    undo = client.post("/unsubscribe/undo", data={"token": undo_token})
    assert "subscribed to Gazette Daily again" in undo.text and statuses(rt)[0][2].value == "confirmed"
    again = client.post("/unsubscribe/undo", data={"token": undo_token})
    assert again.status_code == 400 and statuses(rt)[0][2].value == "confirmed"  # once only
    forged = client.post(f"/unsubscribe?token={token}x", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 400


def test_hostile_input_honeypot_body_size_flood_and_cors(web):
    client, rt, smtp, _clock = web
    for hostile in ["x@example.com\r\nBcc: victim@example.org", "<script>alert(1)</script>@example.com", ""]:
        reply = client.post("/api/subscribe", data={"email": hostile, "newsletter": "daily"})
        assert reply.status_code == 400 and reply.json() == {"ok": False, "error": BAD_ADDRESS}
    assert client.post("/api/subscribe", content=b"{not json", headers={"content-type": "application/json"}
                       ).status_code == 400
    assert client.post("/api/subscribe", json={"email": "a@example.com", "newsletter": "nope"}).status_code == 404

    trap = client.post("/subscribe", data={"email": "bot@example.com", "newsletter": "daily", "website": "spam"})
    assert THANKS in trap.text and smtp.messages == [] and statuses(rt) == []

    big = client.post("/api/subscribe", content=b"x" * 5000, headers={"content-type": "application/json"})
    assert big.status_code == 413

    cors = client.options("/api/subscribe", headers={"Origin": "https://news.example.org",
                                                     "Access-Control-Request-Method": "POST"})
    assert cors.headers["access-control-allow-origin"] == "https://news.example.org"
    other = client.options("/api/subscribe", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers

    answers = [client.post("/api/subscribe", json={"email": f"f{i}@example.com", "newsletter": "daily"}).status_code
               for i in range(10)]
    assert 429 in answers and answers[-1] == 429
    assert client.post("/api/subscribe", json={"email": "z@example.com", "newsletter": "daily"}).json()["error"] \
        == TOO_MANY


def test_embed_page_and_healthz(web):
    client, *_ = web
    embed = client.get("/embed/ukraine")
    assert embed.status_code == 200 and "Explaining Ukraine with Kate Tsurkan" in embed.text
    assert 'name="embed" value="1"' in embed.text
    assert client.get("/embed/none").status_code == 404
    assert client.get("/healthz").text == "ok"
    # The test client's address is "testclient", not in web.ops_allowed_ips: no list details for it.
    assert client.get("/status").status_code == 403 and client.get("/metrics").status_code == 403


def test_digest_serve_runs_the_app(tmp_path):
    import subprocess
    import time

    import httpx
    from conftest import free_port

    config = write_config(tmp_path, transport="file", sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n')
    port = free_port()
    process = start_cli("serve", "--port", str(port), config=config, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
    try:
        deadline, answer = time.monotonic() + 20, None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.text == "ok"
        signup = httpx.post(f"http://127.0.0.1:{port}/api/subscribe",
                            json={"email": "x@example.com", "newsletter": "daily"}, timeout=5)
        assert signup.json()["ok"] is True
        # The confirmation is mailed in the background.
        assert wait_until(lambda: len(list((tmp_path / "outbox").glob("*x@example.com.eml"))) == 1, seconds=10)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_signing_up_again_after_unsubscribing_needs_a_real_confirmation(web):
    client, rt, smtp, _clock = web
    subscriber_id = subscribe_and_confirm(client, rt, smtp, "back@example.com")
    client.post("/unsubscribe", data={"token": make_unsubscribe_token(SECRET, subscriber_id, "daily")})
    client.post("/subscribe", data={"email": "back@example.com", "newsletter": "daily"})
    link = confirm_link(smtp.messages[-1])
    page = client.get(link)
    # A signup alone never takes an address out of "unsubscribed" (so no import can resubscribe it either).
    assert "Confirm subscription" in page.text and statuses(rt)[0][2].value == "unsubscribed"
    assert "Successfully subscribed" in client.post("/confirm", data={"token": link.split("token=")[1]}).text
    assert statuses(rt)[0][2].value == "confirmed"


def test_international_domains_are_accepted_and_non_ascii_mailboxes_refused(web):
    client, rt, smtp, _clock = web
    ok = client.post("/api/subscribe", json={"email": "ann@exämple.com", "newsletter": "daily"})
    assert ok.status_code == 200 and smtp.messages[-1].rcpt_tos == ["ann@xn--exmple-cua.com"]
    refused = client.post("/api/subscribe", json={"email": "jörg@example.com", "newsletter": "daily"})
    assert refused.status_code == 400 and refused.json()["error"] == BAD_ADDRESS

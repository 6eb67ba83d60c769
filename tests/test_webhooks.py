"""Signed webhooks (issue 27): events made from the rows that record each change, delivered at least once to a
real HTTP receiver on 127.0.0.1, verified with the Standard Webhooks reference library; a failing receiver gets
every event once it recovers; an endpoint on a private address is refused unless allowed; kill -9 loses none."""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import SECRET, Clock, run_cli, start_cli, wait_until, write_config
from standardwebhooks.webhooks import Webhook

from digest.config import load_settings
from digest.flows import webhook_delivery
from digest.flows.runtime import Runtime
from subscribers import Origin, add_subscriber, remove_subscriber, suppress

HOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver:
    """A newsroom's endpoint: records each POST (headers, body); answers `status` (or, per call, `answers`)."""

    def __init__(self, port: int = 0) -> None:
        self.got: list[tuple[dict, bytes]] = []
        self.status, self.delay = 204, 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        """Every body received, each verified with the reference library (raises on a bad signature)."""
        return [Webhook(HOOK_SECRET).verify(body, headers) for headers, body in self.got]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def site(tmp_path, receiver: Receiver, allow: bool = True, api: str = "", crm: str = "", storage: str = ""):
    """`api` and `crm`: more TOML lines for [api] and for the configured endpoint; `storage` a database URL."""
    config = write_config(tmp_path, transport="file", sources='[[newsletters.sources]]\nname = "Wire"\n'
                                                             'url = "wire.xml"\n')
    text = config.read_text()
    config.write_text((text.replace('url = "sqlite:///digest.db"', f'url = "{storage}"') if storage else text) + (
        f'\n[api]\nwebhook_allow_ports = [{receiver.port}]\n{api}'
        + ('webhook_allow_networks = ["127.0.0.0/8", "::1/128"]\n' if allow else '')
        + f'\n[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:{receiver.port}/hook"\n'
          f'secret_env = "CRM_SECRET"\n{crm}'))
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET, "CRM_SECRET": HOOK_SECRET})
    clock = Clock()
    rt = replace(Runtime.create(settings), now=clock)
    return rt, clock, config


def deliver(rt) -> webhook_delivery.Round:
    with webhook_delivery.fetcher_for(rt.settings) as fetcher:
        return webhook_delivery.run_round(rt, fetcher)


def test_each_change_reaches_the_endpoint_signed_and_once(tmp_path, receiver):
    rt, clock, _config = site(tmp_path, receiver)
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "before@example.com", "daily", confirmed=True, origin=Origin("test"), now=clock())
    assert deliver(rt).made == 0  # configured now: the site's history is not replayed
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.com", "daily", confirmed=True, origin=Origin("cli"), now=clock())
        add_subscriber(session, "bob@example.com", "daily", confirmed=False, origin=Origin("web"), now=clock())
        remove_subscriber(session, "ann@example.com", "daily", Origin("web"), now=clock())
        suppress(session, "carl@example.com", "operator", "asked", Origin("console"), clock())
    done = deliver(rt)
    assert (done.made, done.delivered, done.failed) == (3, 3, 0)  # carl has no record: no reader event
    events = sorted(receiver.events(), key=lambda e: e["data"]["at"] + e["type"])  # sent in parallel: any order
    assert sorted((e["type"], e["data"]["email"]) for e in events) == [
        ("subscriber.confirmed", "ann@example.com"), ("subscriber.pending", "bob@example.com"),
        ("subscriber.unsubscribed", "ann@example.com")]
    confirmed = next(e for e in events if e["type"] == "subscriber.confirmed")
    assert confirmed["data"]["newsletter"] == "daily" and "source=cli" in confirmed["data"]["detail"]
    headers = receiver.got[0][0]
    assert headers["webhook-id"] == "msg_ce_" + headers["webhook-id"].rsplit("_", 1)[1]
    assert deliver(rt).made == 0 and len(receiver.got) == 3  # read again: the same events, never sent twice
    forged = dict(receiver.got[0][0], **{"webhook-signature": "v1,AAAA"})
    with pytest.raises(Exception):
        Webhook(HOOK_SECRET).verify(receiver.got[0][1], forged)


def test_a_failing_receiver_gets_every_event_once_it_recovers_and_a_dead_one_is_disabled(tmp_path, receiver):
    rt, clock, config = site(tmp_path, receiver)
    deliver(rt)
    receiver.status = 500
    with rt.sessions() as session, session.begin():
        for i in range(3):
            add_subscriber(session, f"r{i}@example.com", "daily", confirmed=True, origin=Origin("api"), now=clock())
    assert deliver(rt).failed == 3
    assert deliver(rt).failed == 0  # backing off: nothing is due yet
    status = run_cli("webhooks", "status", config=config, env={"CRM_SECRET": HOOK_SECRET})
    assert "queued 3" in status.stdout and "3 failures in a row (HTTP 500)" in status.stdout, status.stdout
    receiver.status = 200
    clock.now += timedelta(minutes=5)
    assert deliver(rt).delivered == 3
    assert sorted(e["data"]["email"] for e in receiver.events()[-3:]) == [f"r{i}@example.com" for i in range(3)]

    # Days of failure: each event is given up after api.webhook_retry_hours, and the endpoint is disabled.
    receiver.status = 503
    rt = replace(rt, settings=replace(rt.settings, api=replace(rt.settings.api, webhook_disable_after=2)))
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "late@example.com", "daily", confirmed=True, origin=Origin("api"), now=clock())
        add_subscriber(session, "later@example.com", "daily", confirmed=True, origin=Origin("api"), now=clock())
    assert deliver(rt).failed == 2
    assert webhook_delivery.overview(rt)[0]["disabled_at"] is not None
    clock.now += timedelta(hours=1)
    assert deliver(rt).failed == 0  # disabled: not hammered
    assert webhook_delivery.enable(rt, "crm")
    clock.now += timedelta(hours=80)
    assert deliver(rt).failed == 2
    assert webhook_delivery.overview(rt)[0]["failed"] == 2
    shown = run_cli("status", config=config, env={"CRM_SECRET": HOOK_SECRET}).stdout
    assert "webhook crm: queued 0, delivered 3, failed 2" in shown, shown


def test_a_receiver_that_times_out_or_is_down_gets_every_event_once_it_is_back(tmp_path, receiver):
    rt, clock, _config = site(tmp_path, receiver, api="webhook_timeout = 0.5\n")
    deliver(rt)
    receiver.delay = 3.0  # answers after our deadline (twice the timeout)
    with rt.sessions() as session, session.begin():
        for address in ("slow1@example.com", "slow2@example.com"):
            add_subscriber(session, address, "daily", confirmed=True, origin=Origin("api"), now=clock())
    assert deliver(rt).failed == 2
    assert "timed out" in webhook_delivery.overview(rt)[0]["last_error"]
    port = receiver.port
    receiver.httpd.shutdown()
    receiver.httpd.server_close()  # down: nothing listens on the port
    clock.now += timedelta(minutes=1)
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "down@example.com", "daily", confirmed=True, origin=Origin("api"), now=clock())
    assert deliver(rt).failed == 3
    assert "ConnectError" in webhook_delivery.overview(rt)[0]["last_error"]
    back = Receiver(port)  # up again, on the same address
    try:
        clock.now += timedelta(minutes=1)  # past the backoff (within the signatures' 5 minutes' tolerance)
        assert deliver(rt).delivered == 3
        assert sorted(e["data"]["email"] for e in back.events()) == [
            "down@example.com", "slow1@example.com", "slow2@example.com"]
        assert webhook_delivery.overview(rt)[0]["failures_in_a_row"] == 0
    finally:
        back.httpd.shutdown()
        back.httpd.server_close()


def test_an_endpoint_on_a_private_address_is_refused_unless_allowed(tmp_path, receiver):
    rt, clock, _config = site(tmp_path, receiver, allow=False)
    deliver(rt)
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.com", "daily", confirmed=True, origin=Origin("cli"), now=clock())
    assert deliver(rt).failed == 1 and receiver.got == []
    assert "refused" in webhook_delivery.overview(rt)[0]["last_error"]


def test_kill_9_of_the_delivering_process_loses_no_event(tmp_path, receiver):
    rt, clock, config = site(tmp_path, receiver)
    env = {"CRM_SECRET": HOOK_SECRET}
    assert run_cli("webhooks", "deliver", "--once", config=config, env=env).returncode == 0
    with rt.sessions() as session, session.begin():
        for i in range(12):
            add_subscriber(session, f"r{i}@example.com", "daily", confirmed=True, origin=Origin("api"))
    receiver.delay = 0.2
    os.environ["CRM_SECRET"] = HOOK_SECRET  # start_cli passes the test's environment on
    try:
        process = start_cli("webhooks", "deliver", config=config)
    finally:
        os.environ.pop("CRM_SECRET", None)
    assert wait_until(lambda: len(receiver.got) >= 3, seconds=60)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    receiver.delay = 0
    # The killed round's leases run out (2 minutes); a later run, past them, sends what was not answered.
    rt.sessions.kw["bind"].dispose()
    with rt.sessions() as session, session.begin():
        from sqlalchemy import update

        from digest.models_api import WebhookAttempt
        session.execute(update(WebhookAttempt).values(lease_until=None))  # as if two minutes had passed
    again = run_cli("webhooks", "deliver", "--once", config=config, env=env)
    assert again.returncode == 0, again.stderr
    got = {json.loads(body)["data"]["email"] for _h, body in receiver.got}
    assert got == {f"r{i}@example.com" for i in range(12)}


def test_approvals_become_events_and_api_request_lines_do_not(tmp_path, receiver):
    from digest.web.admin import accounts

    rt, clock, _config = site(tmp_path, receiver)
    deliver(rt)
    with rt.sessions() as session, session.begin():
        accounts.record(session, "api:desk", "api.get", clock(), target="/api/v1/subscribers")
        accounts.record(session, "api:desk", "draft.approve", clock(), target="draft:7", detail="version 2")
    assert deliver(rt).delivered == 1
    (event,) = receiver.events()
    assert event["type"] == "issue.approved" and event["data"]["draft"] == 7 and event["data"]["by"] == "api:desk"

"""Webhook endpoints registered through the API (issue 27): the URL refused on a private address unless allowed,
the secret made and shown once (or given), delivered to a real receiver on 127.0.0.1 by the same code as the
configured endpoints and verified with the Standard Webhooks reference library; events changed, an endpoint
disabled for failing and re-enabled, removed; the wrong scope changes nothing; config.toml's stay read only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import run_cli
from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient
from test_console import PASSWORD, csrf, login
from test_webhooks import HOOK_SECRET, receiver  # noqa: F401 - the fixture
from test_webhooks import site as webhook_site

from sqlalchemy import text

from digest.flows import webhook_delivery
from digest.models import AuditEntry
from digest.models_api import WebhookEndpoint
from digest.web.admin import accounts
from digest.web.api import keys
from digest.web.app import create_app


def site(tmp_path, receiver, allow: bool, storage: str = ""):  # noqa: F811
    rt, clock, config = webhook_site(tmp_path, receiver, allow, api="webhook_disable_after = 2\n",
                                     crm='events = ["issue.sent"]\n', storage=storage)
    settings = rt.settings
    with rt.sessions() as session, session.begin():
        hooks = keys.add_key(session, "integrations", ["webhooks:manage", "subscribers:write"], clock())
        readers = keys.add_key(session, "cms", ["subscribers:write", "subscribers:read"], clock())
        accounts.add_operator(session, "ann", "admin", PASSWORD, clock(), email="ann@gazette.example.org")
    client = TestClient(create_app(settings, rt.sessions, rt.transport_factory, now=clock),
                        base_url="https://gazette.example.org")
    return rt, clock, config, client, {"hooks": hooks, "readers": readers}


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def deliver(rt) -> webhook_delivery.Round:
    with webhook_delivery.fetcher_for(rt.settings) as fetcher:
        return webhook_delivery.run_round(rt, fetcher)


def add_reader(client, key, email: str) -> None:
    made = client.post("/api/v1/subscribers", headers=auth(key), json={
        "email": email, "newsletter": "daily", "consent_obtained": True, "consent_statement": "ticked at signup"})
    assert made.status_code == 201, made.text


def test_an_endpoint_on_a_private_address_is_refused_unless_allowed(tmp_path, receiver):  # noqa: F811
    rt, _clock, _config, client, key = site(tmp_path, receiver, allow=False)
    with client:
        for url in (f"http://127.0.0.1:{receiver.port}/hook", f"http://localhost:{receiver.port}/hook",
                    "http://10.1.2.3/hook", "http://[::1]/hook"):
            refused = client.post("/api/v1/webhooks", headers=auth(key["hooks"]), json={"name": "mine", "url": url})
            assert refused.status_code == 400 and "refused" in refused.json()["detail"], (url, refused.text)
        wrong_port = client.post("/api/v1/webhooks", headers=auth(key["hooks"]),
                                 json={"name": "mine", "url": "http://203.0.113.5:8025/hook"})
        assert wrong_port.status_code == 400
        not_http = client.post("/api/v1/webhooks", headers=auth(key["hooks"]),
                               json={"name": "mine", "url": "file:///etc/passwd"})
        assert not_http.status_code == 400
        listed = client.get("/api/v1/webhooks", headers=auth(key["hooks"])).json()["data"]
    assert [(e["name"], e["source"]) for e in listed] == [("crm", "config")]
    with rt.sessions() as session:
        assert session.query(WebhookEndpoint).count() == 0


def test_a_registered_endpoint_gets_signed_events_until_removed(tmp_path, receiver):  # noqa: F811
    rt, clock, config, client, key = site(tmp_path, receiver, allow=True)
    with client:
        assert deliver(rt).made == 0
        url = f"http://127.0.0.1:{receiver.port}/newsroom"
        wrong = client.post("/api/v1/webhooks", headers=auth(key["readers"]), json={"name": "desk", "url": url})
        assert wrong.status_code == 403 and "webhooks:manage" in wrong.json()["detail"]
        made = client.post("/api/v1/webhooks", headers=auth(key["hooks"]), json={
            "name": "desk", "url": url, "events": ["subscriber.confirmed"]})
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        assert secret.startswith("whsec_") and made.json()["source"] == "api"
        assert made.json()["created_by"] == "api:integrations"
        shown = client.get("/api/v1/webhooks/desk", headers=auth(key["hooks"])).json()
        assert "secret" not in shown and shown["events"] == ["subscriber.confirmed"]
        with rt.sessions() as session:  # sealed: the database alone cannot sign
            assert secret.removeprefix("whsec_") not in session.query(WebhookEndpoint).one().secret_sealed
        for clash in ("desk", "crm"):
            again = client.post("/api/v1/webhooks", headers=auth(key["hooks"]), json={"name": clash, "url": url})
            assert again.status_code == 409
        assert client.delete("/api/v1/webhooks/crm", headers=auth(key["hooks"])).status_code == 409

        add_reader(client, key["readers"], "ann@example.com")
        assert deliver(rt).delivered == 1
        (headers, body), = receiver.got
        event = Webhook(secret).verify(body, headers)
        assert event["type"] == "subscriber.confirmed" and event["data"]["email"] == "ann@example.com"
        with pytest.raises(Exception):
            Webhook(HOOK_SECRET).verify(body, headers)  # another endpoint's secret does not verify it

        changed = client.patch("/api/v1/webhooks/desk", headers=auth(key["hooks"]),
                               json={"events": ["subscriber.unsubscribed"]})
        assert changed.status_code == 200 and changed.json()["events"] == ["subscriber.unsubscribed"]
        bad = client.patch("/api/v1/webhooks/desk", headers=auth(key["hooks"]), json={"events": ["reader.ate"]})
        assert bad.status_code == 400
        add_reader(client, key["readers"], "bob@example.com")
        left = client.post("/api/v1/subscribers/ann@example.com/unsubscribe", headers=auth(key["readers"]), json={})
        assert left.status_code == 200
        assert deliver(rt).delivered == 1
        assert Webhook(secret).verify(receiver.got[-1][1], receiver.got[-1][0])["type"] == "subscriber.unsubscribed"

        # A receiver that keeps failing disables the endpoint (webhook_disable_after = 2); re-enabled by the API.
        receiver.status = 500
        add_reader(client, key["readers"], "carl@example.com")
        client.post("/api/v1/subscribers/bob@example.com/unsubscribe", headers=auth(key["readers"]), json={})
        client.post("/api/v1/subscribers/carl@example.com/unsubscribe", headers=auth(key["readers"]), json={})
        assert deliver(rt).failed == 2
        failing = client.get("/api/v1/webhooks/desk", headers=auth(key["hooks"])).json()
        assert failing["disabled_at"] and failing["queued"] == 2 and failing["last_error"] == "HTTP 500"
        status = run_cli("webhooks", "status", config=config, env={"CRM_SECRET": HOOK_SECRET}).stdout
        assert "desk" in status and "DISABLED" in status, status
        login(client)
        page = client.get("/admin/apikeys").text  # the console shows it to admins, with a button
        assert "disabled" in page and "HTTP 500" in page and "Enable desk" in page and "API (api:integrations)" in page
        receiver.status = 204
        clock.now += timedelta(minutes=2)  # past the backoff, within the signature's 5 minutes' tolerance
        assert deliver(rt).delivered == 0  # disabled: not tried
        enabled = client.post("/api/v1/webhooks/desk/enable", headers=auth(key["hooks"]))
        assert enabled.status_code == 200 and enabled.json()["enabled"] is True
        assert deliver(rt).delivered == 2
        assert sorted(Webhook(secret).verify(b, h)["data"]["email"] for h, b in receiver.got[-2:]) == [
            "bob@example.com", "carl@example.com"]
        again = client.post("/admin/apikeys", data={"csrf": csrf(client), "action": "enable-webhook", "name": "desk"},
                            follow_redirects=False)
        assert again.status_code == 303
        with rt.sessions() as session:
            assert session.query(AuditEntry).filter_by(action="webhook.enable", operator="ann").count() == 1
        assert "Enable desk" not in client.get("/admin/apikeys").text

        gone = client.delete("/api/v1/webhooks/desk", headers=auth(key["hooks"]))
        assert gone.json() == {"name": "desk", "removed": True}
        add_reader(client, key["readers"], "dora@example.com")
        client.post("/api/v1/subscribers/dora@example.com/unsubscribe", headers=auth(key["readers"]), json={})
        sent_before = len(receiver.got)
        deliver(rt)
        assert len(receiver.got) == sent_before
        assert client.get("/api/v1/webhooks/desk", headers=auth(key["hooks"])).status_code == 404


def test_a_given_secret_is_used_and_a_malformed_one_refused(tmp_path, receiver):  # noqa: F811
    rt, _clock, _config, client, key = site(tmp_path, receiver, allow=True)
    url = f"http://127.0.0.1:{receiver.port}/given"
    with client:
        deliver(rt)
        for secret in ("plain-text", "whsec_!!", "whsec_" + "QUJD"):  # not base64, or too short
            refused = client.post("/api/v1/webhooks", headers=auth(key["hooks"]),
                                  json={"name": "given", "url": url, "secret": secret})
            assert refused.status_code == 400, secret
        made = client.post("/api/v1/webhooks", headers=auth(key["hooks"]),
                           json={"name": "given", "url": url, "secret": HOOK_SECRET})
        assert made.status_code == 201 and made.json()["secret"] == HOOK_SECRET
        add_reader(client, key["readers"], "ann@example.com")
        assert deliver(rt).delivered == 1
        event = receiver.events()[0]  # verified with HOOK_SECRET
        assert event["data"]["email"] == "ann@example.com"
        document = client.get("/api/v1/openapi.json").json()
        docs = client.get("/api/v1/docs").text
    assert "/api/v1/webhooks/{name}" in docs and "<code>subscriber.confirmed</code>" in docs
    import jsonschema_rs  # schemathesis's validator

    described = document["webhooks"]["subscriber.confirmed"]["post"]
    jsonschema_rs.validate(described["requestBody"]["content"]["application/json"]["schema"], event)
    assert {p["name"] for p in described["parameters"]} <= set(receiver.got[0][0])
    assert len(document["webhooks"]) == 11
    assert {"get", "post"} <= set(document["paths"]["/api/v1/webhooks"])
    assert {"get", "patch", "delete"} <= set(document["paths"]["/api/v1/webhooks/{name}"])
    assert "webhooks:manage" in document["paths"]["/api/v1/webhooks"]["post"]["description"]


def test_on_postgresql_a_registered_endpoint_gets_the_events_and_reads_commit(tmp_path, receiver, pg_url):  # noqa: F811
    """The pump's batch insert returning ids, the reads' commit without the WAL flush, the unknown keys' count."""
    rt, _clock, _config, client, key = site(tmp_path, receiver, allow=True, storage=pg_url)
    with client:
        deliver(rt)
        made = client.post("/api/v1/webhooks", headers=auth(key["hooks"]), json={
            "name": "desk", "url": f"http://127.0.0.1:{receiver.port}/pg", "events": ["subscriber.confirmed"]})
        assert made.status_code == 201, made.text
        for i in range(3):
            add_reader(client, key["readers"], f"pg{i}@example.com")
        assert deliver(rt).delivered == 3
        got = sorted(Webhook(made.json()["secret"]).verify(b, h)["data"]["email"] for h, b in receiver.got)
        assert got == [f"pg{i}@example.com" for i in range(3)]
        for _ in range(2):  # reads commit their audit lines (without waiting for the flush) like any other
            assert client.get("/api/v1/subscribers", headers=auth(key["readers"])).status_code == 200
        assert client.get("/api/v1/subscribers", headers=auth("dgk_forged00_pg")).status_code == 401
    with rt.sessions() as session:
        lines = session.query(AuditEntry).filter_by(operator="api:cms", action="api.get").count()
        synchronous = session.execute(text("SHOW synchronous_commit")).scalar()
    rt.sessions.kw["bind"].dispose()  # its connections closed before the database is dropped
    assert lines == 2 and synchronous == "on"  # set for a read's transaction only

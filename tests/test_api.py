"""The REST API (issue 27, first step): keys and scopes, the readers' lists through the same rules as the CLI,
RFC 9457 errors, cursor paging, and schemathesis exploring every endpoint from our own OpenAPI document."""

from __future__ import annotations

import json

import pytest
from conftest import SECRET, run_cli, write_config
from starlette.testclient import TestClient

from digest.config import load_settings
from digest.flows.runtime import Runtime
from digest.web.api import keys
from digest.web.app import create_app
from subscribers import Origin, add_subscriber, export_person


@pytest.fixture
def api(tmp_path, smtp_server):
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources='[[newsletters.sources]]\nname = "Wire"\n'
                                                                      'url = "wire.xml"\n')
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        for i in range(5):
            add_subscriber(session, f"r{i}@example.com", "daily", confirmed=True, origin=Origin("test"))
        write = keys.add_key(session, "cms", ["subscribers:read", "subscribers:write"], rt.now())
        read = keys.add_key(session, "data", ["subscribers:read", "issues:read"], rt.now())
    app = create_app(settings, rt.sessions, rt.transport_factory)
    with TestClient(app, base_url="https://gazette.example.org") as client:
        yield client, rt, config, {"write": write, "read": read}


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_a_newsroom_adds_a_reader_with_consent_and_double_opt_in_by_default(api, smtp_server):
    client, rt, _config, key = api
    made = client.post("/api/v1/subscribers", headers=auth(key["write"]), json={
        "email": "New.Reader@Example.com", "newsletter": "daily", "consent_obtained": True,
        "consent_statement": "ticked 'Gazette Daily' at registration on 2026-12-01"})
    assert made.status_code == 201 and made.json() == {"email": "new.reader@example.com", "newsletter": "daily",
                                                       "status": "confirmed"}
    with rt.sessions() as session:
        event = export_person(session, "new.reader@example.com")["consent_events"][-1]
    assert event["kind"] == "confirmed" and "api:cms" in event["user_agent"] and "registration" in event["user_agent"]
    pending = client.post("/api/v1/subscribers", headers=auth(key["write"]), json={
        "email": "maybe@example.org", "newsletter": "daily"})
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    assert smtp_server.messages[-1].rcpt_tos == ["maybe@example.org"]  # the confirmation mail, as the CLI sends
    vague = client.post("/api/v1/subscribers", headers=auth(key["write"]), json={
        "email": "x@example.org", "newsletter": "daily", "consent_obtained": True})
    assert vague.status_code == 400 and vague.headers["content-type"] == "application/problem+json"
    assert vague.json()["title"] == "Consent needs a statement" and vague.json()["status"] == 400

    got = client.get("/api/v1/subscribers/new.reader@example.com", headers=auth(key["read"]))
    assert got.status_code == 200 and got.json()["subscriptions"][0]["status"] == "confirmed"
    left = client.post("/api/v1/subscribers/new.reader@example.com/unsubscribe", headers=auth(key["write"]),
                       json={"newsletter": "daily"})
    assert left.json() == {"email": "new.reader@example.com", "unsubscribed": 1}

    suppressed = client.post("/api/v1/suppressions", headers=auth(key["write"]),
                             json={"email": "r1@example.com", "reason": "asked by phone"})
    assert suppressed.status_code == 201
    refused = client.post("/api/v1/subscribers", headers=auth(key["write"]), json={
        "email": "r1@example.com", "newsletter": "daily"})
    assert refused.status_code == 409 and refused.json()["title"] == "Suppressed"
    listed = client.get("/api/v1/suppressions", headers=auth(key["read"])).json()
    assert [s["email"] for s in listed["data"]] == ["r1@example.com"]
    assert client.post("/api/v1/suppressions/r1@example.com/lift", headers=auth(key["write"]),
                       json={"reason": "wrong person"}).json()["active"] is False
    audit = run_cli("operators", "list", config=_config)  # the CLI still runs against the same database
    assert audit.returncode == 0


def test_keys_scopes_and_revocation_refuse_and_change_nothing(api):
    client, rt, config, key = api
    assert client.get("/api/v1/subscribers").status_code == 401
    assert client.get("/api/v1/subscribers", headers=auth("dgk_forged_0000")).status_code == 401
    wrong = client.post("/api/v1/subscribers", headers=auth(key["read"]), json={"email": "a@example.org",
                                                                               "newsletter": "daily"})
    assert wrong.status_code == 403 and "subscribers:write" in wrong.json()["detail"]
    with rt.sessions() as session:
        assert export_person(session, "a@example.org") is None
    assert client.get("/api/v1/issues", headers=auth(key["write"])).status_code == 403

    revoked = run_cli("apikeys", "revoke", "data", config=config)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert client.get("/api/v1/subscribers", headers=auth(key["read"])).status_code == 401
    listing = run_cli("apikeys", "list", config=config).stdout
    assert "REVOKED" in listing and key["read"] not in listing and "cms" in listing
    made = run_cli("apikeys", "add", "paywall", "--scope", "subscribers:read", config=config)
    assert made.returncode == 0 and made.stdout.startswith("dgk_")
    assert client.get("/api/v1/newsletters", headers=auth(made.stdout.strip())).status_code == 200
    assert run_cli("apikeys", "add", "paywall", "--scope", "subscribers:read", config=config).returncode == 1


def test_lists_page_by_cursor_and_the_key_budget_holds(api, tmp_path):
    client, rt, _config, key = api
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/subscribers", headers=auth(key["read"]),
                          params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["email"] for row in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"r{i}@example.com" for i in range(5)]
    assert client.get("/api/v1/subscribers", headers=auth(key["read"]), params={"cursor": "!!"}).status_code == 400
    assert client.get("/api/v1/subscribers", headers=auth(key["read"]), params={"limit": 0}).status_code == 400
    found = client.get("/api/v1/subscribers", headers=auth(key["read"]), params={"q": "r3@"}).json()["data"]
    assert [row["email"] for row in found] == ["r3@example.com"]


def test_schemathesis_finds_no_server_error_and_no_response_off_the_schema(api):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    client, rt, _config, key = api
    with rt.sessions() as session, session.begin():
        every = keys.add_key(session, "all", list(keys.SCOPES), rt.now())
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    failures = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def explore(case):
            # Every check but "a schema-valid request is accepted": an address the schema allows (any string up
            # to 320 characters) may still fail our address validation, and that is a 400 by design.
            if op.path == "/api/v1/webhooks" and isinstance(case.body, dict) and "url" in case.body:
                # Tests talk only to 127.0.0.1: a generated host name would be looked up in DNS when checked.
                case.body["url"] = "http://127.0.0.1:9/" + str(case.body["url"])[-40:]
            case.call_and_validate(headers=auth(every), excluded_checks=[positive_data_acceptance])

        try:
            explore()
        except Exception as exc:  # collect every operation's finding, then fail once with all of them
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert failures == []


def test_a_readers_choices_and_erasure_through_the_api(api):
    client, rt, _config, key = api
    path = "/api/v1/subscribers/r2@example.com"
    paused = client.post(f"{path}/preferences", headers=auth(key["write"]),
                         json={"newsletter": "daily", "pause_weeks": 2, "plain_text": True})
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused_until"] and paused.json()["plain_text"] is True
    no_roundup = client.post(f"{path}/preferences", headers=auth(key["write"]),
                             json={"newsletter": "daily", "frequency": "weekly"})
    assert no_roundup.status_code == 400 and no_roundup.json()["title"] == "No roundup"
    bad = client.post(f"{path}/preferences", headers=auth(key["write"]), json={"newsletter": "daily",
                                                                               "sections": ["Sport"]})
    assert bad.status_code == 400 and "Wire" in bad.json()["detail"]
    with rt.sessions() as session:
        kinds = [e["kind"] for e in export_person(session, "r2@example.com")["consent_events"]]
    assert "paused" in kinds and "plain_text" in kinds
    exported = client.get(f"{path}/export", headers=auth(key["read"]))
    assert exported.status_code == 200 and exported.json()["deliveries"] == []
    by_cli = json.loads(run_cli("subscribers", "export", "r2@example.com", config=_config).stdout)
    assert exported.json() == by_cli
    gone = client.post(f"{path}/forget", headers=auth(key["write"]))
    assert gone.json() == {"email": "r2@example.com", "erased": True}
    assert client.get(path, headers=auth(key["read"])).status_code == 404
    assert client.post(f"{path}/forget", headers=auth(key["write"])).status_code == 404


def test_a_draft_made_approved_and_sent_through_the_api_names_its_audience(tmp_path, smtp_server):
    import shutil

    from conftest import DATA

    from digest.flows import gathering

    shutil.copy(DATA / "wire.xml", tmp_path / "wire.xml")
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra_newsletter='review = "required"',
                          sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        for address in ("r1@example.com", "r2@example.com"):
            add_subscriber(session, address, "daily", confirmed=True, origin=Origin("test"))
        key = keys.add_key(session, "desk", ["issues:read", "issues:write"], rt.now())
    gathering.gather_all(rt)
    with TestClient(create_app(settings, rt.sessions, rt.transport_factory),
                    base_url="https://gazette.example.org") as client:
        refused = client.post("/api/v1/newsletters/daily/send", headers=auth(key), json={"readers": 2})
        assert refused.status_code == 409 and refused.json()["title"] == "Review required"
        draft = client.post("/api/v1/drafts", headers=auth(key), json={"newsletter": "daily"})
        assert draft.status_code == 201, draft.text
        row = draft.json()
        early = client.post(f"/api/v1/drafts/{row['id']}/send", headers=auth(key), json={"readers": 2})
        assert early.status_code == 409 and "approved" in early.json()["detail"]
        stale = client.post(f"/api/v1/drafts/{row['id']}/approve", headers=auth(key), json={"version": 99})
        assert stale.status_code == 409
        approved = client.post(f"/api/v1/drafts/{row['id']}/approve", headers=auth(key),
                               json={"version": row["version"]})
        assert approved.json()["state"] == "approved" and approved.json()["approved_by"] == "api:desk"
        wrong = client.post(f"/api/v1/drafts/{row['id']}/send", headers=auth(key), json={"readers": 5})
        assert wrong.status_code == 409 and '"readers": 2' in wrong.json()["detail"]
        assert smtp_server.messages == []
        sent = client.post(f"/api/v1/drafts/{row['id']}/send", headers=auth(key), json={"readers": 2})
        assert sent.status_code == 202 and sent.json()["readers"] == 2
        from conftest import wait_until
        assert wait_until(lambda: len(smtp_server.messages) == 2, seconds=30)
        listed = client.get("/api/v1/drafts", headers=auth(key)).json()["data"]
        assert listed[0]["state"] == "sent" and listed[0]["issue_id"] == sent.json()["issue"]

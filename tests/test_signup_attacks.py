"""The signup endpoint under attack: floods, header spoofing, bursts, and state changes by link scanners.

Each test counts what an attacker wants to count: confirmation emails that
reached one mailbox (at a real SMTP server), the subscriber's state in the
database, the address the consent record names. The floods go through the
ASGI app and through `digest serve` started as a user would.
"""

from __future__ import annotations

import re
import socket
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
from conftest import SECRET, free_port, run_cli, start_cli, wait_until, write_config
from starlette.testclient import TestClient
from test_message import NEWSLETTER, NOW, items
from test_web import confirm_link, statuses, subscribe_and_confirm, web  # noqa: F401  (web: the fixture)

from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.web.app import create_app
from subscribers import make_unsubscribe_token
from subscribers.limits import mailbox_key, network_key


def test_mailbox_and_network_keys_fold_what_one_inbox_or_one_line_can_vary():
    assert mailbox_key("Victim+1@Example.com") == mailbox_key("victim@example.com") == "victim@example.com"
    assert mailbox_key("j.o.h.n+x@googlemail.com") == mailbox_key("john@gmail.com")
    assert mailbox_key("j.o.h.n@example.com") != mailbox_key("john@example.com")  # dots count elsewhere
    assert network_key("203.0.113.7") == network_key("203.0.113.250") == "203.0.113.0/24"
    assert network_key("2001:db8:1:2::1") == network_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert network_key("::ffff:203.0.113.9") == "203.0.113.0/24" and network_key("garbage") == "unknown"


def test_tag_and_case_variants_of_one_mailbox_share_its_budget(web):  # noqa: F811
    client, rt, smtp, _clock = web
    variants = [f"victim+{n}@example.com" for n in range(20)] + ["VICTIM@example.com", "Victim+x@EXAMPLE.com"]
    for n, address in enumerate(variants):  # each from its own network, so only the mailbox budget can hold
        with TestClient(client.app, client=(f"192.0.{n}.1", 4000)) as one:
            assert one.post("/api/subscribe", json={"email": address, "newsletter": "daily"}).status_code == 200
    sent = [m for m in smtp.messages if mailbox_key(m.rcpt_tos[0]) == "victim@example.com"]
    assert len(sent) == 3  # confirmations_per_address_per_hour, however the address is spelled


def test_ipv6_addresses_of_one_64_share_a_network_budget(web):  # noqa: F811
    client, rt, smtp, _clock = web
    answers = []
    for n in range(12):
        with TestClient(client.app, base_url="https://gazette.example.org", client=(f"2001:db8:7:7::{n:x}", 4000)) \
                as one:
            answers.append(one.post("/api/subscribe", json={"email": f"r{n}@example.com", "newsletter": "daily"}
                                    ).status_code)
    assert answers == [200] * 8 + [429] * 4  # signups_per_ip_per_hour = 8 in this fixture, per /64
    with TestClient(client.app, base_url="https://gazette.example.org", client=("2001:db8:7:8::1", 4000)) as other:
        assert other.post("/api/subscribe", json={"email": "z@example.com", "newsletter": "daily"}
                          ).status_code == 200  # the next /64 is another network


def test_head_and_get_on_links_change_nothing(web):  # noqa: F811
    client, rt, smtp, _clock = web
    subscriber_id = subscribe_and_confirm(client, rt, smtp, "scan@example.com")
    token = make_unsubscribe_token(SECRET, subscriber_id, "daily")
    for method in ("HEAD", "GET"):
        assert client.request(method, f"/unsubscribe?token={token}").status_code == 200
    assert statuses(rt)[0][2].value == "confirmed"  # a link scanner's HEAD unsubscribes nobody
    client.post("/subscribe", data={"email": "pending@example.com", "newsletter": "daily"})
    link = confirm_link(smtp.messages[-1])
    client.head(link)
    client.get(link)
    assert [s[2].value for s in statuses(rt) if s[0] == "pending@example.com"] == ["pending"]


def test_an_anonymous_signup_does_not_let_an_import_resubscribe_someone_who_left(web, tmp_path):  # noqa: F811
    client, rt, smtp, _clock = web
    subscriber_id = subscribe_and_confirm(client, rt, smtp, "left@example.com")
    client.post("/unsubscribe", data={"token": make_unsubscribe_token(SECRET, subscriber_id, "daily")})
    client.post("/subscribe", data={"email": "left@example.com", "newsletter": "daily"})  # anyone can post this
    (tmp_path / "list.csv").write_text("email\nleft@example.com\n")
    result = run_cli("subscribers", "import", "list.csv", "-n", "daily", "--consent-obtained",
                     config=tmp_path / "config.toml")
    assert result.returncode == 0, result.stderr
    assert [s[2].value for s in statuses(rt) if s[0] == "left@example.com"] == ["unsubscribed"]


@pytest.fixture
def served(tmp_path, smtp_server):
    """`digest serve` as a user starts it, with tight limits; yields (base URL, database path, smtp)."""
    def start(web_settings: str):
        port = free_port()
        config = write_config(tmp_path, smtp_port=smtp_server.port,
                              sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n',
                              gather=f"\n[web]\nport = {port}\n{web_settings}\n")
        process = start_cli("serve", config=config)
        assert wait_until(lambda: _listening(port), seconds=30), process
        started.append(process)
        return f"http://127.0.0.1:{port}", tmp_path / "digest.db"

    started = []
    yield start
    for process in started:
        process.terminate()
        process.communicate(timeout=15)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _events(db_path, kind: str = "requested") -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT ip, detail FROM consent_events WHERE kind = ? ORDER BY id", (kind,)).fetchall()


def test_rotating_x_forwarded_for_does_not_reset_the_network_limit(served, smtp_server):
    base, db_path = served("signups_per_ip_per_hour = 5")
    answers = [httpx.post(f"{base}/api/subscribe", json={"email": f"p{n}@example.com", "newsletter": "daily"},
                          headers={"X-Forwarded-For": f"203.0.{n}.9"}).status_code for n in range(15)]
    assert answers == [200] * 5 + [429] * 10  # no trusted proxy: the header is ignored
    assert wait_until(lambda: len(_events(db_path)) == 5)
    assert {ip for ip, _detail in _events(db_path)} == {"127.0.0.1"}  # the consent record names the real peer


def test_a_trusted_proxy_is_believed_and_the_site_budget_still_holds(served, smtp_server):
    base, db_path = served('trusted_proxies = ["127.0.0.1"]\nsignups_per_ip_per_hour = 5\n'
                           "confirmations_per_hour = 4")
    answers = [httpx.post(f"{base}/api/subscribe", json={"email": f"q{n}@example.com", "newsletter": "daily"},
                          headers={"X-Forwarded-For": f"198.51.{n}.20, 127.0.0.1"}).status_code for n in range(10)]
    assert answers == [200] * 10  # ten readers on ten networks behind our proxy
    assert wait_until(lambda: len(_events(db_path)) == 10)
    # Each reader's own network, as the proxy forwarded it (in any order: two background threads write them).
    assert sorted(ip for ip, _detail in _events(db_path)) == sorted(f"198.51.{n}.20" for n in range(10))
    assert len(smtp_server.messages) == 4  # confirmations_per_hour: the site's own ceiling
    assert sum("site's hourly budget" in detail for _ip, detail in _events(db_path)) == 6


def test_a_concurrent_burst_for_one_address_sends_at_most_its_budget(served, smtp_server):
    base, db_path = served("signups_per_ip_per_hour = 100")

    def post(n: int) -> int:
        return httpx.post(f"{base}/api/subscribe", json={"email": f"burst+{n}@example.com", "newsletter": "daily"},
                          timeout=30).status_code

    with ThreadPoolExecutor(14) as pool:
        answers = list(pool.map(post, range(14)))
    assert answers == [200] * 14  # no 500s

    def refused() -> int:  # requests that sent nothing, counted (recorded only up to the mailbox's budget)
        with sqlite3.connect(db_path) as db:
            return db.execute("SELECT coalesce(sum(count), 0) FROM rate_counts WHERE key LIKE 'noted:%'").fetchone()[0]

    assert wait_until(lambda: refused() == 11, seconds=30)
    assert len(_events(db_path)) == 6  # 3 emails and the first 3 refusals; the other 8 only counted
    assert len(smtp_server.messages) == 3
    assert {m.rcpt_tos[0].split("+")[0] for m in smtp_server.messages} == {"burst"}


def test_the_same_answer_for_new_pending_confirmed_and_unsubscribed_addresses(tmp_path, smtp_server):
    config = write_config(tmp_path, smtp_port=smtp_server.port,
                          sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n')
    rt = Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET}))
    queued = []
    app = create_app(rt.settings, rt.sessions, rt.transport_factory, mailer=queued.append)
    with TestClient(app) as client:
        answers = {address: client.post("/api/subscribe", json={"email": address, "newsletter": "daily"})
                   for address in ("new@example.com", "again@example.com")}
        assert len(queued) == 2 and not statuses(rt)  # the work happens after the answer, for every address
        for job in queued:
            job()
        assert {(a.status_code, a.text) for a in answers.values()} == {(200, answers["new@example.com"].text)}


def test_malformed_requests_get_answers_not_500s(web):  # noqa: F811
    client, *_ = web
    nested = b"[" * 100_000 + b"]" * 100_000
    deep = client.post("/api/subscribe", content=b"[" * 1020 + b"]" * 1020,
                       headers={"content-type": "application/json"})
    assert deep.status_code == 400  # nested past Python's recursion limit, within the body cap
    assert client.post("/api/subscribe", content=nested, headers={"content-type": "application/json"}
                       ).status_code == 413
    for day in ("9999-12-31", "0001-01-01", "2026-02-30"):
        assert client.get(f"/issues/daily/{day}").status_code == 404


def test_pages_carry_security_headers_and_refuse_cross_site_posts(web):  # noqa: F811
    client, rt, smtp, _clock = web
    home = client.get("/")
    assert home.headers["x-content-type-options"] == "nosniff" and home.headers["x-frame-options"] == "DENY"
    assert home.headers["referrer-policy"] == "same-origin"
    nonce = re.search(r"script-src 'nonce-([^']+)'", home.headers["content-security-policy"]).group(1)
    assert f'<script nonce="{nonce}">' in home.text and "frame-ancestors 'none'" in home.headers[
        "content-security-policy"]
    embed = client.get("/embed/daily")
    assert "x-frame-options" not in embed.headers
    assert "frame-ancestors 'self' https://news.example.org" in embed.headers["content-security-policy"]
    moved = client.get("/issues/daily/", headers={"host": "evil.example"}, follow_redirects=False)
    assert moved.status_code == 404 and "evil.example" not in moved.headers.get("location", "")

    forged = client.post("/subscribe", data={"email": "csrf@example.com", "newsletter": "daily"},
                         headers={"origin": "https://evil.example"})
    scanner = client.post("/subscribe", data={"email": "csrf@example.com", "newsletter": "daily"},
                          headers={"sec-fetch-site": "cross-site"})
    assert forged.status_code == scanner.status_code == 403 and statuses(rt) == []
    partner = client.post("/api/subscribe", json={"email": "ok@example.com", "newsletter": "daily"},
                          headers={"origin": "https://news.example.org", "sec-fetch-site": "cross-site"})
    assert partner.status_code == 200  # web.allowed_origins may embed the box


def test_secrets_stay_out_of_reprs_logs_and_spreadsheets(web):  # noqa: F811
    import logging

    from digest.compose import build_issue
    from digest.render.html import make_subject
    from digest.web.guards import RedactTokens
    from subscribers import export_csv, subscriptions_for_export

    client, rt, smtp, _clock = web
    assert SECRET not in repr(rt.settings) and SECRET not in str(rt.settings.site)
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4:5", "GET", "/confirm?token=abc.def-1&x=2", "1.1", 200), None)
    RedactTokens().filter(record)
    assert "abc.def-1" not in record.getMessage() and "token=[redacted]&x=2" in record.getMessage()

    client.post("/subscribe", data={"email": "=1+2@example.com", "newsletter": "daily"})
    with rt.sessions() as session:
        sheet = export_csv(subscriptions_for_export(session))
    assert "\n'=1+2@example.com," in sheet

    # A feed title with bidi overrides would read differently in the Subject than it is.
    first = replace(items()[0], title="Rates \u202egnikaerb\u202c rise \u2066x\u2069")
    assert make_subject(build_issue(NEWSLETTER, [first], NOW)).endswith("Rates gnikaerb rise x")


def test_config_refuses_a_password_in_clear_and_a_broken_dkim_key(tmp_path):
    from digest.errors import ConfigError
    from digest.render.dkim import make_signer

    config = write_config(tmp_path, sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n')
    config.write_text(config.read_text().replace('[delivery.smtp]\nhost = "127.0.0.1"\n',
                                                 '[delivery.smtp]\nhost = "relay.example.org"\nuser = "me"\n', 1))
    with pytest.raises(ConfigError, match="in clear"):
        load_settings(config, environ={})
    for bad in ("not a key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"):
        with pytest.raises(ConfigError, match="does not work"):
            make_signer("sel", "example.org", bad)


def test_a_flood_of_signups_for_one_mailbox_does_not_flood_the_consent_record():
    """Red team: 10 signups of one address in an hour made 10 consent rows (the mails held at 3)."""
    from datetime import timedelta

    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from subscribers import Origin, request_signup
    from subscribers.db import Base
    from subscribers.models import ConsentEvent

    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    sent = 0
    with Session(engine) as session, session.begin():
        for i in range(40):
            result = request_signup(session, f"Flood+{i}@Example.org" if i % 2 else "flood@example.org", "daily",
                                    Origin("web", ip="198.51.100.7"), now=NOW + timedelta(seconds=i), max_per_hour=3)
            sent += result.token is not None
        rows = session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent))
    assert sent == 3 and rows == 6, (sent, rows)  # 3 emails recorded, then 3 refusals; the rest only counted
    with Session(engine) as session, session.begin():  # an hour later the mailbox has its budget again
        assert request_signup(session, "flood@example.org", "daily", Origin("web"), now=NOW + timedelta(hours=1),
                              max_per_hour=3).token is not None

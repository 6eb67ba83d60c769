"""The operator's console through its ASGI client: accounts, sessions, CSRF, throttling, every /admin route's
door, hostile feed text, and the editor's review from draft to the bytes the SMTP server receives."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from conftest import DATA, SECRET, run_cli, wait_until, write_config
from starlette.testclient import TestClient

from digest import metrics
from digest.flows import editor_mail, editorial, gathering
from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.models import Article, Delivery, DeliveryStatus, Feedback, Issue, ReviewDraft
from digest.web.admin import accounts
from digest.web.app import create_app
from subscribers import Origin, Subscriber, add_subscriber

PASSWORD = "correct horse battery"
SCRIPT = '<script>alert(1)</script><img src=x onerror=alert(2)>'


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def make_console(tmp_path, smtp_port: int, extra_newsletter: str = "", web: str = ""):
    (tmp_path / "wire.xml").write_bytes((DATA / "wire.xml").read_bytes())
    config = write_config(tmp_path, smtp_port=smtp_port, extra_newsletter=extra_newsletter,
                          sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n',
                          gather="\n[admin]\nlogin_attempts_per_account = 5\nlogin_attempts_per_network = 8\n" + web)
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    clock = Clock()
    rt = Runtime.create(settings)
    rt.now = clock
    return settings, rt, clock


@contextmanager
def open_console(tmp_path, smtp_server, review: str, web: str = ""):
    """(client, runtime, clock, app): an admin ann and an editor ed (both with an address), two readers."""
    settings, rt, clock = make_console(tmp_path, smtp_server.port, extra_newsletter=f'review = "{review}"', web=web)
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "ann", "admin", PASSWORD, clock(), email="ann@gazette.example.org")
        accounts.add_operator(session, "ed", "editor", PASSWORD, clock(), email="ed@gazette.example.org")
        for address in ("r1@example.com", "r2@example.com"):
            add_subscriber(session, address, "daily", confirmed=True, origin=Origin("test"), now=clock())
    app = create_app(settings, rt.sessions, rt.transport_factory, now=clock)
    with TestClient(app, base_url="https://gazette.example.org") as client:
        yield client, rt, clock, app


@pytest.fixture
def console(tmp_path, smtp_server):
    with open_console(tmp_path, smtp_server, "required") as opened:
        yield opened


@pytest.fixture
def plain_console(tmp_path, smtp_server):
    """No review: "send now" sends."""
    with open_console(tmp_path, smtp_server, "off") as opened:
        yield opened


def login(client, name="ann", password=PASSWORD, expect=303):
    page = client.get("/admin/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/admin/login", data={"name": name, "password": password, "login_token": token,
                                                 "next": "/admin"}, follow_redirects=False)
    assert expect is None or response.status_code == expect, response.text
    return response


def csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/admin").text).group(1)


def test_operators_cli_never_takes_a_password_argument(tmp_path, smtp_server):
    settings, _rt, _clock = make_console(tmp_path, smtp_server.port)
    config = settings.config_path
    added = run_cli("operators", "add", "kate", "--role", "editor", "--email", "kate@example.org",
                    "--password-stdin", config=config, env={"NO_COLOR": "1"}, timeout=60)
    assert added.returncode != 0 and "password needs 10" in added.stderr  # empty stdin: refused in one line
    import subprocess
    import sys
    import os
    done = subprocess.run([sys.executable, "-m", "digest", "--config", str(config), "operators", "add", "kate",
                           "--role", "editor", "--password-stdin"], input=PASSWORD + "\n", capture_output=True,
                          text=True, env={**os.environ, "DIGEST_SECRET_KEY": SECRET}, timeout=60)
    assert done.returncode == 0, done.stderr
    env_set = run_cli("operators", "add", "lee", "--role", "admin", "--password-env", "LEE_PW", config=config,
                      env={"LEE_PW": PASSWORD})
    assert env_set.returncode == 0, env_set.stderr
    listed = run_cli("operators", "list", config=config)
    assert "kate\teditor" in listed.stdout and "lee\tadmin" in listed.stdout
    assert run_cli("operators", "add", "bad", "--role", "root", config=config).returncode == 2
    twice = run_cli("operators", "add", "lee", "--role", "admin", "--password-env", "LEE_PW", config=config,
                    env={"LEE_PW": PASSWORD})
    assert twice.returncode == 1 and twice.stderr.count("\n") == 1 and "already an operator named" in twice.stderr
    assert run_cli("operators", "remove", "kate", config=config).returncode == 0
    gone = run_cli("operators", "password", "kate", "--password-env", "X", config=config, env={"X": PASSWORD})
    assert gone.returncode == 1 and "no operator named 'kate'" in gone.stderr
    assert "--password " not in run_cli("operators", "add", "--help", config=config).stdout


def test_every_admin_route_without_a_session_shows_nothing(console):
    client, _rt, _clock, app = console
    paths = {route.path for route in app.routes if route.path.startswith("/admin") and route.path != "/admin/login"}
    assert len(paths) > 15
    for path in sorted(paths):
        concrete = re.sub(r"\{[^}]+\}", "1", path).replace("/1/", "/daily/", 1) if "newsletters" in path else \
            re.sub(r"\{[^}]+\}", "1", path)
        got = client.get(concrete, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"].startswith("/admin/login?next="), concrete
        assert "r1@example.com" not in got.text and got.text == ""
        posted = client.post(concrete, data={"csrf": "x"}, follow_redirects=False)
        assert posted.status_code in (401, 405), concrete
        assert "r1@example.com" not in posted.text
    assert client.get("/admin/no/such/page", follow_redirects=False).status_code == 303
    assert client.get("/status").status_code == 403  # the ops endpoints keep their own rule (web.ops_allowed_ips)


def test_login_cookie_flags_csrf_and_logout(console):
    client, rt, _clock, _app = console
    response = login(client)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie and "Path=/admin" in cookie
    assert "r1@example.com" not in client.get("/admin").text  # the dashboard counts; it lists no one
    assert ">2<" in client.get("/admin/newsletters/daily").text  # two confirmed readers
    with rt.sessions() as session:
        issue_count = session.query(Issue).count()
    good = csrf(client)  # hex: its last character changed (one token in 16 ends in "0" already: that one to "1")
    for token in ("", "forged", good[:-1] + ("1" if good.endswith("0") else "0")):
        refused = client.post("/admin/newsletters/daily/send", data={"csrf": token}, follow_redirects=False)
        assert refused.status_code == 403
    with rt.sessions() as session:
        assert session.query(Issue).count() == issue_count
    out = client.post("/admin/logout", data={"csrf": csrf(client)}, follow_redirects=False)
    assert out.status_code == 303 and 'digest_console=""' in out.headers["set-cookie"]
    assert client.get("/admin", follow_redirects=False).status_code == 303
    with rt.sessions() as session:
        actions = [e.action for e in accounts.recent_audit(session)]
    assert actions[:2] == ["logout", "login"]


def test_cookie_is_secure_only_over_https_or_a_trusted_proxy_saying_so(tmp_path, smtp_server):
    settings, rt, clock = make_console(tmp_path, smtp_server.port, web='\n[web]\ntrusted_proxies = ["10.0.0.1"]\n')
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "ann", "admin", PASSWORD, clock())
    app = create_app(settings, rt.sessions, rt.transport_factory, now=clock)
    said_https = {"X-Forwarded-Proto": "https"}
    with TestClient(app, base_url="http://gazette.example.org", client=("203.0.113.9", 5000)) as client:
        client.headers.update(said_https)  # a stranger saying so counts for nothing
        assert "Secure" not in login(client).headers["set-cookie"]
    with TestClient(app, base_url="http://gazette.example.org", client=("10.0.0.1", 5000)) as client:
        client.headers.update(said_https)  # our proxy, which terminated TLS (its browser will send the cookie back)
        assert "Secure" in client.get("/admin/login").headers["set-cookie"]


def test_session_fixation_a_planted_token_is_worth_nothing(console):
    client, rt, _clock, app = console
    attacker = TestClient(app, base_url="https://gazette.example.org")
    login(attacker, "ed")
    planted = attacker.cookies.get("digest_console")
    client.cookies.set("digest_console", planted, domain="gazette.example.org", path="/admin")
    login(client)  # the victim logs in with the attacker's token in their browser
    assert client.cookies.get("digest_console") != planted
    assert attacker.get("/admin", follow_redirects=False).status_code == 303  # the planted session ended
    assert "Log out ann" in client.get("/admin").text


def test_brute_force_is_throttled_per_account_and_per_network_across_processes(console):
    client, rt, _clock, app = console
    other_process = create_app(rt.settings, rt.sessions, rt.transport_factory, now=rt.now)
    second = TestClient(other_process, base_url="https://gazette.example.org")
    for attempt in range(5):  # login_attempts_per_account = 5 per network, split over two web processes
        login(client if attempt % 2 else second, "ann", "wrong password!", expect=401)
    throttled = login(client, "ann", PASSWORD, expect=429)  # from this network, even the right one must wait
    assert "Too many wrong passwords from your network" in throttled.text
    for _ in range(3):  # other names from the same network: 8 failures per network
        login(second, "nobody", "wrong password!", expect=401)
    login(second, "ed", PASSWORD, expect=429)
    with rt.sessions() as session:
        actions = [e.action for e in accounts.recent_audit(session)]
    assert actions.count("login.failed") == 8 and actions.count("login.throttled") == 2


def test_an_attacker_cannot_lock_the_owner_out_and_is_slowed_ever_more(console):
    """The outside check: 11 wrong tries from one network, then the admin's right password from another."""
    _client, rt, clock, app = console
    attacker = TestClient(app, base_url="https://gazette.example.org", client=("198.51.100.7", 40000))
    owner = TestClient(app, base_url="https://gazette.example.org", client=("203.0.113.5", 40001))
    alarms_before = metrics.LOGIN_ALARMS._value.get()
    outcomes = [login(attacker, "ann", f"guess {i}!!!!!!", expect=None).status_code for i in range(11)]
    assert outcomes == [401] * 5 + [429] * 6, outcomes  # past the budget, one try per wait
    login(owner, "ann", PASSWORD, expect=303)  # the owner, from a network with no failures, gets in
    assert "Log out ann" in owner.get("/admin").text
    # The attacker's next try waits a minute after the last failure, then two, then four: never a wall.
    clock.now += timedelta(seconds=61)
    assert login(attacker, "ann", "guess again!!", expect=401).status_code == 401
    clock.now += timedelta(seconds=61)
    assert login(attacker, "ann", "and again!!!!", expect=429).status_code == 429  # now two minutes
    clock.now += timedelta(seconds=60)
    assert login(attacker, "ann", "and again!!!!", expect=401).status_code == 401
    # Failures against one account from every network raise one alarm a window, in the audit log and /metrics.
    for i in range(3):
        other = TestClient(app, base_url="https://gazette.example.org", client=(f"192.0.2.{i + 1}", 40002))
        login(other, "ann", "wrong password!", expect=401)
    with rt.sessions() as session:
        actions = [e.action for e in accounts.recent_audit(session)]
    assert actions.count("login.alarm") == 1, actions
    assert metrics.LOGIN_ALARMS._value.get() == alarms_before + 1  # with the account's sixth failure


def test_removed_operator_or_new_password_is_logged_out_and_sessions_expire(console):
    client, rt, clock, _app = console
    login(client, "ed")
    assert client.get("/admin/review").status_code == 200
    with rt.sessions() as session, session.begin():
        accounts.set_password(session, "ed", "another long password", clock())
    assert client.get("/admin/review", follow_redirects=False).status_code == 303
    login(client, "ed", "another long password")
    with rt.sessions() as session, session.begin():
        accounts.remove_operator(session, "ed")
    assert client.get("/admin/review", follow_redirects=False).status_code == 303
    login(client, "ann")
    clock.now += timedelta(minutes=61)  # admin.idle_minutes = 60
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_an_editor_cannot_do_an_admins_work(console):
    client, _rt, _clock, _app = console
    login(client, "ed")
    for path in ("/admin/readers", "/admin/audit", "/admin/readers/export.csv"):
        assert client.get(path).status_code == 403, path
    token = csrf(client)
    assert client.post("/admin/newsletters/daily/send", data={"csrf": token}).status_code == 403
    assert client.post("/admin/issues/1/requeue", data={"csrf": token}).status_code == 403


def hostile_rows(rt, clock):
    with rt.sessions() as session, session.begin():
        article = Article(uid="evil", source_url=rt.settings.newsletters[0].sources[0].url, source_name=SCRIPT,
                          link="javascript:alert(3)", title=SCRIPT, text=SCRIPT, author=SCRIPT, categories=SCRIPT,
                          published_at=clock(), fetched_at=clock())
        session.add(article)
        issue = Issue(newsletter="daily", slot="evil", created_at=clock(), subject=SCRIPT, html=f"<p>{SCRIPT}</p>",
                      text=SCRIPT, personal_mark="@@m@@", paused_reason=SCRIPT)
        session.add(issue)
        session.flush()
        session.add(Delivery(issue_id=issue.id, subscriber_id=1, email="r1@example.com",
                             status=DeliveryStatus.failed, last_error=SCRIPT))
        accounts.record(session, "ann", "x", clock(), target=SCRIPT, detail=SCRIPT, ip=SCRIPT)
        return issue.id


def live_markup(html: str) -> list[str]:
    """Elements a browser would run or load from feed text: scripts, handlers, javascript: links, our x image."""
    from html.parser import HTMLParser

    found = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "script" or (tag == "img" and ("src", "x") in attrs):
                found.append(tag)
            found.extend(name for name, value in attrs if name.startswith("on")
                         or (value or "").strip().lower().startswith("javascript:"))

    Finder().feed(html)
    return found


def test_feed_content_with_script_in_every_field_is_inert(console):
    client, rt, clock, _app = console
    issue_id = hostile_rows(rt, clock)
    login(client)
    row, _made = editorial.prepare(rt, rt.settings.newsletters[0], "2026-11-25T07:00:00Z",
                                   clock() + timedelta(hours=1), fetch=False)
    pages = ["/admin", "/admin/newsletters/daily", "/admin/issues", f"/admin/issues/{issue_id}", "/admin/audit",
             f"/admin/review/{row.id}", "/admin/review", "/admin/newsletters/daily/next", "/admin/readers/1",
             "/admin/readers?q=r1"]
    shows_feed_text = {"/admin", "/admin/newsletters/daily", "/admin/issues", f"/admin/issues/{issue_id}",
                       "/admin/audit", f"/admin/review/{row.id}"}
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        assert not live_markup(page.text), path
        assert ("&lt;script&gt;alert(1)" in page.text) == (path in shows_feed_text), path
        policy = page.headers["content-security-policy"]
        assert "script-src" not in policy and policy.startswith("default-src 'none'") and "'unsafe-inline'" not in policy
    for path in (f"/admin/issues/{issue_id}/sent.html", f"/admin/review/{row.id}/preview.html",
                 "/admin/newsletters/daily/preview.html"):
        framed = client.get(path)
        assert "sandbox" in framed.headers["content-security-policy"]
        assert "script-src" not in framed.headers["content-security-policy"]  # default-src 'none' covers scripts


def approve_via_console(client, draft_id):
    page = client.get(f"/admin/review/{draft_id}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return client.post(f"/admin/review/{draft_id}", data={"csrf": csrf(client), "action": "approve",
                                                          "version": version}, follow_redirects=False)


def test_review_required_sends_exactly_the_approved_issue(console, smtp_server):
    client, rt, clock, _app = console
    newsletter = rt.settings.newsletters[0]
    gathering.gather_all(rt)
    slot_at = clock() + timedelta(hours=1)
    row, made = editorial.prepare(rt, newsletter, "2026-11-24T13:00:00Z", slot_at, fetch=False)
    assert made and editorial.prepare(rt, newsletter, "2026-11-24T13:00:00Z", slot_at, fetch=False) == (row, False) \
        or editorial.prepare(rt, newsletter, "2026-11-24T13:00:00Z", slot_at, fetch=False)[1] is False
    items = editorial.items_of(row)
    login(client, "ed")
    token = csrf(client)
    removed, edited = items[0], items[1]
    for data in ({"action": "remove", "item": removed["id"]},
                 {"action": "save", "item": edited["id"], "title": "An editor's title", "summary": "Edited <b>."},
                 {"action": "note", "note": "A word from the editor."}):
        assert client.post(f"/admin/review/{row.id}", data={"csrf": token, **data},
                           follow_redirects=False).status_code == 303
    assert editorial.fire(rt, "daily", row.slot, slot_at, timedelta(minutes=30)).endswith("waiting for approval")
    assert approve_via_console(client, row.id).status_code == 303
    with rt.sessions() as session:
        approved = session.get(ReviewDraft, row.id)
    clock.now = slot_at
    result = editorial.fire(rt, "daily", row.slot, slot_at, timedelta(minutes=30))
    assert result.endswith("2 sent"), result
    assert len([m for m in smtp_server.messages if "r1@example.com" in m.rcpt_tos]) == 1
    message = next(m.message for m in smtp_server.messages if "r1@example.com" in m.rcpt_tos)
    html = message.get_body(("html",)).get_content()
    with rt.sessions() as session:
        sent = session.get(ReviewDraft, row.id)
    link = re.search(r'https://[^"]+/unsubscribe\?token=[^"]+', html).group(0)
    expected = approved.html.replace(approved.web_mark, str(sent.issue_id)).replace(approved.mark, link)
    assert html.replace("\r\n", "\n").rstrip("\n") == expected.replace("\r\n", "\n").rstrip("\n")
    assert "An editor's title" in html and "A word from the editor." in html and removed["title"] not in html
    assert "Edited &lt;b&gt;." in html
    with rt.sessions() as session:
        log = [(e.action, e.target) for e in accounts.recent_audit(session)]
    assert ("draft.approve", f"draft:{row.id}") in log and ("draft.save", f"draft:{row.id} item:{edited['id']}") in log
    assert editorial.fire(rt, "daily", row.slot, slot_at, timedelta(minutes=30)) == f"draft {row.id} is sent"


def test_an_edit_after_approval_takes_the_approval_back(console):
    client, rt, clock, _app = console
    gathering.gather_all(rt)
    row, _ = editorial.prepare(rt, rt.settings.newsletters[0], "s1", clock() + timedelta(hours=1), fetch=False)
    login(client, "ed")
    stale_page = client.get(f"/admin/review/{row.id}").text
    assert approve_via_console(client, row.id).status_code == 303
    client.post(f"/admin/review/{row.id}", data={"csrf": csrf(client), "action": "pin",
                                                 "item": editorial.items_of(row)[-1]["id"]})
    with rt.sessions() as session:
        assert session.get(ReviewDraft, row.id).state == "review"
    version = re.search(r'name="version" value="(\d+)"', stale_page).group(1)
    stale = client.post(f"/admin/review/{row.id}", data={"csrf": csrf(client), "action": "approve", "version": version})
    assert stale.status_code == 409 and "changed since you opened it" in stale.text


def test_required_and_not_approved_in_time_is_held_and_the_editors_are_told(console, smtp_server):
    _client, rt, clock, _app = console
    gathering.gather_all(rt)
    slot_at = clock()
    row, _ = editorial.prepare(rt, rt.settings.newsletters[0], "s2", slot_at, fetch=False)
    clock.now = slot_at + timedelta(minutes=31)
    assert "held" in editorial.fire(rt, "daily", "s2", slot_at, timedelta(minutes=30))
    with rt.sessions() as session:
        assert session.get(ReviewDraft, row.id).state == "held" and session.query(Issue).count() == 0
    told = [m for m in smtp_server.messages if "ed@gazette.example.org" in m.rcpt_tos]
    assert told and "not approved in time" in told[-1].message["Subject"]
    assert not [m for m in smtp_server.messages if "r1@example.com" in m.rcpt_tos]


def test_optional_review_goes_out_as_drafted(tmp_path, smtp_server):
    settings, rt, clock = make_console(tmp_path, smtp_server.port, extra_newsletter='review = "optional"')
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "r1@example.com", "daily", confirmed=True, origin=Origin("test"), now=clock())
    gathering.gather_all(rt)
    row, _ = editorial.prepare(rt, settings.newsletters[0], "s3", clock(), fetch=False)
    editorial.edit(rt, row.id, "remove", editorial.items_of(row)[0]["id"])
    assert editorial.fire(rt, "daily", "s3", clock(), timedelta(minutes=30)).endswith("1 sent")
    html = smtp_server.messages[-1].message.get_body(("html",)).get_content()
    assert editorial.items_of(row)[0]["title"] not in html and editorial.items_of(row)[1]["title"] in html


def test_admin_retries_failures_after_an_outage(plain_console, smtp_server):
    client, rt, _clock, _app = plain_console
    smtp_server.replies = {"r1@example.com": "550 5.4.1 relay is down", "r2@example.com": "550 5.4.1 relay is down"}
    gathering.gather_all(rt)
    login(client)
    asked = client.post("/admin/newsletters/daily/send", data={"csrf": csrf(client)}, follow_redirects=False)
    assert asked.status_code == 200 and "Yes, send to 2 readers" in asked.text  # the second step: nothing sent yet
    assert client.post("/admin/newsletters/daily/send", data={"csrf": csrf(client), "confirm": "2"},
                       follow_redirects=False).status_code == 303
    with rt.sessions() as session:
        issue_id = session.query(Issue).one().id
    assert wait_until(lambda: "relay is down" in client.get(f"/admin/issues/{issue_id}").text)
    smtp_server.replies = {}
    assert client.post(f"/admin/issues/{issue_id}/requeue", data={"csrf": csrf(client)},
                       follow_redirects=False).status_code == 303
    assert wait_until(lambda: len(smtp_server.messages) == 2)
    assert wait_until(lambda: ">sent<" in client.get(f"/admin/issues/{issue_id}").text.replace("<strong>", ">")
                      .replace("</strong>", "<"))


def test_two_replicas_on_postgresql_make_one_draft_and_never_send_it_unapproved(tmp_path, smtp_server, pg_url):
    import threading

    settings, _rt, clock = make_console(tmp_path, smtp_server.port, extra_newsletter='review = "required"')
    from dataclasses import replace

    settings = replace(settings, storage=replace(settings.storage, url=pg_url))
    replicas = [Runtime.create(settings) for _ in range(2)]
    for rt in replicas:
        rt.now = clock
    with replicas[0].sessions() as session, session.begin():
        add_subscriber(session, "r1@example.com", "daily", confirmed=True, origin=Origin("test"), now=clock())
    gathering.gather_all(replicas[0])
    newsletter, slot_at, grace = settings.newsletters[0], clock(), timedelta(minutes=30)
    barrier, made = threading.Barrier(2), []

    def prepare(rt):
        barrier.wait()
        made.append(editorial.prepare(rt, newsletter, "pg-slot", slot_at, fetch=False))

    threads = [threading.Thread(target=prepare, args=(rt,)) for rt in replicas]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(flag for _row, flag in made) == [False, True] and made[0][0].id == made[1][0].id
    results = []

    def fire(rt):
        barrier.wait()
        results.append(editorial.fire(rt, "daily", "pg-slot", slot_at, grace))

    for _round in range(2):  # unapproved: both wait; then approved: exactly one sends
        threads = [threading.Thread(target=fire, args=(rt,)) for rt in replicas]
        [t.start() for t in threads]
        [t.join() for t in threads]
        if _round == 0:
            assert all(r.endswith("waiting for approval") for r in results) and not smtp_server.messages
            editorial.approve(replicas[1], made[0][0].id, made[0][0].version, "ed")
    assert sum(r.endswith("1 sent") for r in results) == 1, results
    assert len([m for m in smtp_server.messages if "r1@example.com" in m.rcpt_tos]) == 1
    for rt in replicas:
        rt.sessions.kw["bind"].dispose()


def test_admin_suppresses_and_lifts_a_reader_with_a_reason(plain_console, smtp_server):
    client, rt, _clock, _app = plain_console
    login(client)
    with rt.sessions() as session:
        reader_id = session.scalar(sa.select(Subscriber.id).where(Subscriber.email == "r1@example.com"))
    token = csrf(client)
    assert client.post(f"/admin/readers/{reader_id}/suppress", data={"csrf": token, "reason": ""},
                       follow_redirects=False).status_code == 400  # a reason is required
    assert client.post(f"/admin/readers/{reader_id}/suppress", data={"reason": "asked by phone"},
                       follow_redirects=False).status_code in (401, 403)  # no CSRF token: refused
    done = client.post(f"/admin/readers/{reader_id}/suppress", data={"csrf": token, "reason": "asked by phone"},
                       follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text  # the page says what was done (it said nothing)
    assert "The address is suppressed" in page
    page = client.get(f"/admin/readers/{reader_id}").text
    assert "Suppressed" in page and "asked by phone" in page
    assert ">1<" in client.get("/admin/newsletters/daily").text.split("Suppressed")[1][:200]
    gathering.gather_all(rt)
    stale = client.post("/admin/newsletters/daily/send", data={"csrf": token, "confirm": "2"})  # one was suppressed
    assert stale.status_code == 200 and "The number of readers changed" in stale.text and not smtp_server.messages
    assert client.post("/admin/newsletters/daily/send", data={"csrf": token, "confirm": "1"},
                       follow_redirects=False).status_code == 303
    assert wait_until(lambda: len(smtp_server.messages) == 1)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["r2@example.com"]]  # the suppressed reader got nothing
    lifted = client.post(f"/admin/readers/{reader_id}/lift", data={"csrf": token, "reason": "mistake"},
                         follow_redirects=False)
    assert lifted.status_code == 303 and "The suppression is lifted" in client.get(lifted.headers["location"]).text
    page = client.get(f"/admin/readers/{reader_id}").text
    assert "Not suppressed." in page and "suppression_lifted" in page and "mistake" in page
    assert "reader.lift" in client.get("/admin/audit").text


def test_send_now_is_refused_when_review_is_required_and_the_approved_draft_goes_out_once(console, smtp_server):
    client, rt, clock, _app = console
    gathering.gather_all(rt)
    login(client)
    token = csrf(client)
    page = client.get("/admin/newsletters/daily/next").text
    assert "/admin/newsletters/daily/send" not in page and "Draft it for review now" in page
    refused = client.post("/admin/newsletters/daily/send", data={"csrf": token}, follow_redirects=False)
    assert refused.status_code == 409 and "review is required" in refused.text
    with rt.sessions() as session:
        assert session.query(Issue).count() == 0 and session.query(ReviewDraft).count() == 0
    drafted = client.post("/admin/newsletters/daily/draft", data={"csrf": token}, follow_redirects=False)
    assert drafted.status_code == 303 and drafted.headers["location"].startswith("/admin/review/")
    draft_id = int(re.search(r"/admin/review/(\d+)", drafted.headers["location"]).group(1))
    asked = [m for m in smtp_server.messages if "ed@gazette.example.org" in m.rcpt_tos]
    assert asked and f"/admin/review/{draft_id}" in asked[0].message.get_body(("plain",)).get_content()
    again = client.post("/admin/newsletters/daily/draft", data={"csrf": token}, follow_redirects=False)
    assert again.headers["location"] == f"/admin/review/{draft_id}"  # the open draft, not a second one
    assert client.post(f"/admin/review/{draft_id}/send", data={"csrf": token}).status_code == 409  # unapproved
    assert client.post("/admin/newsletters/daily/send", data={"csrf": token}).status_code == 409  # still refused
    assert not [m for m in smtp_server.messages if "r1@example.com" in m.rcpt_tos]
    login(client, "ed")
    assert approve_via_console(client, draft_id).status_code == 303
    login(client)
    asked = client.post(f"/admin/review/{draft_id}/send", data={"csrf": csrf(client)}, follow_redirects=False)
    assert asked.status_code == 200 and "Yes, send to 2 readers" in asked.text and "Gazette Daily" in asked.text
    assert not [m for m in smtp_server.messages if "r1@example.com" in m.rcpt_tos]  # nothing before the second step
    sent = client.post(f"/admin/review/{draft_id}/send", data={"csrf": csrf(client), "confirm": "2"},
                       follow_redirects=False)
    assert sent.status_code == 303
    assert wait_until(lambda: len([m for m in smtp_server.messages if m.rcpt_tos[0].startswith("r")]) == 2)
    with rt.sessions() as session:
        row = session.get(ReviewDraft, draft_id)
        assert row.state == "sent" and session.query(Issue).one().id == row.issue_id
    assert editorial.fire(rt, "daily", row.slot, row.slot_at, timedelta(minutes=30)) == f"draft {draft_id} is sent"
    with rt.sessions() as session:
        log = [(e.operator, e.action) for e in accounts.recent_audit(session)]
    assert ("ann", "draft.prepare") in log and ("ed", "draft.approve") in log and ("ann", "draft.send_now") in log


def test_a_review_request_the_mail_server_refused_is_asked_again_once(console, smtp_server):
    _client, rt, clock, _app = console
    newsletter = rt.settings.newsletters[0]
    gathering.gather_all(rt)
    smtp_server.replies = {"ed@gazette.example.org": ["451 4.3.0 try again later"]}
    row, made = editorial.prepare(rt, newsletter, "s9", clock() + timedelta(hours=1), fetch=False)
    editor_mail.ask_editors(rt, newsletter, row)

    def asked():
        return [m for m in smtp_server.messages if "ed@gazette.example.org" in m.rcpt_tos]

    with rt.sessions() as session:
        assert made and not asked() and session.get(ReviewDraft, row.id).asked_at is None
    assert editor_mail.ask_pending(rt) == 1 and len(asked()) == 1  # the leader's next round
    assert editor_mail.ask_pending(rt) == 0 and len(asked()) == 1
    with rt.sessions() as session:
        again = session.get(ReviewDraft, row.id)
        assert again.asked_at is not None and again.version == row.version  # asking is not an edit


def test_a_review_request_on_its_way_is_not_asked_again_by_the_round_beside_it(console, smtp_server):
    """A daemon's slot job drafts and asks while its review round runs: the round must not ask a second time."""
    import threading

    _client, rt, clock, _app = console
    newsletter = rt.settings.newsletters[0]
    gathering.gather_all(rt)
    smtp_server.delay = 1.0  # a slow relay: the first request is still on its way when the round looks
    row, made = editorial.prepare(rt, newsletter, "s10", clock() + timedelta(hours=1), fetch=False)
    first = threading.Thread(target=editor_mail.ask_editors, args=(rt, newsletter, row))
    first.start()
    assert wait_until(lambda: smtp_server.attempts.get("ed@gazette.example.org"))  # at the relay, not yet accepted
    assert made and editor_mail.ask_pending(rt) == 0
    first.join()
    assert editor_mail.ask_pending(rt) == 0
    assert len([m for m in smtp_server.messages if "ed@gazette.example.org" in m.rcpt_tos]) == 1


def test_command_line_send_respects_required_review(tmp_path, smtp_server):
    settings, rt, _clock = make_console(tmp_path, smtp_server.port, extra_newsletter='review = "required"')
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "r1@example.com", "daily", confirmed=True, origin=Origin("test"), now=_clock())
    refused = run_cli("send", "daily", config=settings.config_path)
    assert refused.returncode == 1 and 'review = "required"' in refused.stderr and not smtp_server.messages
    assert run_cli("send", "daily", "--dry-run", config=settings.config_path).returncode == 0
    forced = run_cli("send", "daily", "--skip-review", config=settings.config_path)
    assert forced.returncode == 0 and "without editorial review" in forced.stderr
    assert [m.rcpt_tos for m in smtp_server.messages] == [["r1@example.com"]]


def test_bounce_reasons_and_sender_reputation_are_shown(plain_console):
    """A receiving domain blocking us shows on the dashboard with an alarm, and each issue lists its bounces by
    reason and side; feed-controlled text never reaches these tables (domains and reasons are ours)."""
    client, rt, clock, _app = plain_console
    login(client)
    assert "No receiving domain refused our mail" in client.get("/admin").text
    with rt.sessions() as session, session.begin():
        issue = Issue(newsletter="daily", slot="s1", created_at=clock(), subject="One", html="", text="",
                      personal_mark="m")
        session.add(issue)
        session.flush()
        for subscriber in session.scalars(sa.select(Subscriber).order_by(Subscriber.id)):
            session.add(Delivery(issue_id=issue.id, subscriber_id=subscriber.id, email=subscriber.email,
                                 status=DeliveryStatus.sent, sent_at=clock()))
        session.flush()
        for delivery in session.scalars(sa.select(Delivery)):
            session.add(Feedback(delivery_id=delivery.id, issue_id=issue.id, email=delivery.email, kind="soft",
                                 side="sender", reason="blocked", domain="example.com", at=clock(),
                                 action="none"))
        issue_id = issue.id
    dashboard = client.get("/admin").text
    assert "example.com" in dashboard and "ALARM" not in dashboard  # 2 of 2, under sender_side_min (20)
    assert "warning: refusing some of our mail" in dashboard
    page = client.get(f"/admin/issues/{issue_id}").text
    assert "Bounces by reason" in page and re.search(r"<td>blocked</td><td>sender</td><td>soft</td>"
                                                     r"<td class=\"num\">2</td>", page), page
    listing = client.get("/admin/issues").text
    assert "Sender-side" in listing


def test_test_copies_go_only_to_operators_and_allowed_addresses_a_few_an_hour(tmp_path, smtp_server):
    """The outside check: an editor mailed the next issue to 12 outside addresses, 12 of 12 sent."""
    with open_console(tmp_path, smtp_server, "off", web='test_copy_addresses = ["@partner.example.net"]\n'
                                                        'test_copies_per_hour = 3') as (client, rt, _clock, _app):
        login(client, "ed")

        def test_copy(address: str):
            return client.post("/admin/newsletters/daily/test", data={"csrf": csrf(client), "address": address},
                               follow_redirects=False)

        smtp_server.messages.clear()
        refused = test_copy("victim@elsewhere.example.org")
        assert refused.status_code == 403 and "test copies go only to operators" in refused.text
        assert test_copy("ed@gazette.example.org").status_code == 303  # the editor's own address
        assert test_copy("ann@gazette.example.org").status_code == 303  # another operator's
        assert test_copy("desk@partner.example.net").status_code == 303  # an allowed domain
        limited = test_copy("ed@gazette.example.org")
        assert limited.status_code == 429 and "3 test copies an hour" in limited.text
        assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
            "ann@gazette.example.org", "desk@partner.example.net", "ed@gazette.example.org"]
        assert all(m.message["Subject"].startswith("[Test]") for m in smtp_server.messages)
        with rt.sessions() as session:
            actions = [(e.action, e.operator) for e in accounts.recent_audit(session)]
        assert actions.count(("issue.test_send", "ed")) == 3 and actions.count(("issue.test_send.refused", "ed")) == 2


def test_previews_load_no_image_from_the_feeds_servers(plain_console):
    """An editor reviewing must not tell a feed's image server when and from where: remote images show as a
    placeholder, keep their alt text, and the frames' policy allows data: images only."""
    client, rt, clock, _app = plain_console
    with rt.sessions() as session, session.begin():
        session.add(Article(uid="pic", source_url=rt.settings.newsletters[0].sources[0].url, source_name="Wire",
                            link="https://news.example.org/pic", title="Ferry doubles its sailings",
                            text="The ferry will sail twice an hour. " * 5, author="", categories="",
                            published_at=clock(), fetched_at=clock(), image_url="https://img.example.org/ferry.jpg",
                            image_alt="The ferry at the pier", image_width=800))
    login(client)
    framed = client.get("/admin/newsletters/daily/preview.html")
    assert framed.status_code == 200 and "The ferry at the pier" in framed.text
    assert "img.example.org" not in framed.text and "Image not loaded in the preview" in framed.text
    policy = framed.headers["content-security-policy"]
    assert "img-src data:;" in policy and "https:" not in policy
    row, _made = editorial.prepare(rt, rt.settings.newsletters[0], "2026-11-25T07:00:00Z",
                                   clock() + timedelta(hours=1), fetch=False)
    review = client.get(f"/admin/review/{row.id}/preview.html").text
    assert "img.example.org" not in review and "The ferry at the pier" in review


def test_reader_search_finds_a_whole_domain(plain_console):
    """An operator's first search was "@example.com", and it found nobody."""
    client, _rt, _clock, _app = plain_console
    login(client)
    found = client.get("/admin/readers?q=@example.com").text
    assert "r1@example.com" in found and "r2@example.com" in found
    assert "r1@example.com" in client.get("/admin/readers?q=r1@exa").text  # a mailbox prefix, as before
    assert "r1@example.com" not in client.get("/admin/readers?q=@example.org").text

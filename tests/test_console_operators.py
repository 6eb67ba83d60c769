"""The console's own housekeeping (issue 30): operators managed by admins, a password changed by its owner,
the audit log paged and filtered, and a dashboard that says what needs doing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from test_console import PASSWORD, csrf, login, open_console

from digest.flows import editorial, gathering
from digest.models import AuditEntry, Issue, IssueStatus, ReviewDraft, SourceState
from digest.web.admin import accounts


@pytest.fixture
def console(tmp_path, smtp_server):
    with open_console(tmp_path, smtp_server, "required") as opened:
        yield opened


def test_admins_add_reset_and_remove_operators_and_never_the_last_admin(console):
    client, rt, _clock, _app = console
    login(client)
    page = client.get("/admin/operators")
    assert page.status_code == 200 and "ann (you)" in page.text and "Remove ed" in page.text
    assert "Remove ann" not in page.text  # no button to remove oneself
    token = csrf(client)
    added = client.post("/admin/operators", data={"csrf": token, "action": "add", "name": "kate", "role": "editor",
                                                  "email": "kate@example.org", "password": PASSWORD + "!"})
    assert added.status_code == 200 and "The operator is added" in added.text and "kate@example.org" in added.text
    short = client.post("/admin/operators", data={"csrf": token, "action": "add", "name": "lee", "role": "admin",
                                                  "password": "short"})
    assert short.status_code == 400 and "a password needs 10" in short.text
    twice = client.post("/admin/operators", data={"csrf": token, "action": "add", "name": "kate", "role": "admin",
                                                  "password": PASSWORD})
    assert twice.status_code == 400 and "already an operator named" in twice.text

    # kate logs in elsewhere; a reset ends her session, and only the new password opens the console.
    other = client.__class__(client.app, base_url=str(client.base_url))
    login(other, "kate", PASSWORD + "!")
    assert other.get("/admin").status_code == 200
    reset = client.post("/admin/operators", data={"csrf": token, "action": "reset", "name": "kate",
                                                  "password": "a brand new secret"})
    assert "The password is reset" in reset.text
    assert other.get("/admin", follow_redirects=False).status_code == 303  # logged out
    login(other, "kate", PASSWORD + "!", expect=401)
    login(other, "kate", "a brand new secret")

    assert "Nothing done" not in client.post("/admin/operators", data={
        "csrf": token, "action": "remove", "name": "kate"}).text
    assert other.get("/admin", follow_redirects=False).status_code == 303
    me = client.post("/admin/operators", data={"csrf": token, "action": "remove", "name": "ann"})
    assert me.status_code == 400 and "cannot remove your own account" in me.text
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "zed", "admin", PASSWORD, rt.now())
    with rt.sessions() as session, session.begin():  # the last admin standing is never removed
        accounts.remove_operator(session, "zed")
        with pytest.raises(accounts.OperatorError, match="last admin"):
            accounts.remove_operator(session, "ann")
    with rt.sessions() as session:
        actions = [a for (a,) in session.execute(AuditEntry.__table__.select().with_only_columns(
            AuditEntry.action).order_by(AuditEntry.id))]
    assert actions.count("operator.add") == 1 and "operator.reset" in actions and "operator.remove" in actions

    # An editor has no operators page.
    editor = client.__class__(client.app, base_url=str(client.base_url))
    login(editor, "ed")
    assert editor.get("/admin/operators").status_code == 403
    assert editor.post("/admin/operators", data={"csrf": csrf(editor), "action": "add", "name": "x",
                                                 "role": "admin", "password": PASSWORD}).status_code == 403


def test_an_operator_changes_their_own_password(console):
    client, _rt, _clock, _app = console
    login(client, "ed")
    token = csrf(client)
    wrong = client.post("/admin/account", data={"csrf": token, "current": "not it", "password": "another secret!",
                                                "again": "another secret!"})
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    differ = client.post("/admin/account", data={"csrf": token, "current": PASSWORD, "password": "another secret!",
                                                 "again": "another secret?"})
    assert differ.status_code == 400 and "differ" in differ.text
    done = client.post("/admin/account", data={"csrf": token, "current": PASSWORD, "password": "another secret!",
                                               "again": "another secret!"})
    assert done.status_code == 200 and "Your password is changed" in done.text and "Log in" in done.text
    login(client, "ed", PASSWORD, expect=401)
    login(client, "ed", "another secret!")


def test_audit_log_pages_and_filters_by_action_and_day(console):
    client, rt, clock, _app = console
    with rt.sessions() as session, session.begin():
        for k in range(130):
            accounts.record(session, "ann" if k % 2 else "ed", "reader.suppress" if k % 3 == 0 else "issue.pause",
                            clock() - timedelta(days=k // 50), target=f"t{k}")
    login(client)
    first = client.get("/admin/audit")
    assert first.text.count("<tr><td class=\"when\">") == 100 and "Older entries" in first.text
    older = re.search(r'href="/admin/audit\?([^"]*before=\d+)"', first.text).group(1).replace("&amp;", "&")
    second = client.get(f"/admin/audit?{older}")
    rows = second.text.count("<tr><td class=\"when\">")
    assert 30 <= rows < 100 and "Older entries" not in second.text and "Newest entries" in second.text
    only = client.get("/admin/audit?action=reader.suppress")
    assert "issue.pause</td>" not in only.text and only.text.count("reader.suppress</td>") >= 40
    day = (clock() - timedelta(days=2)).date().isoformat()
    dated = client.get(f"/admin/audit?since={day}&until={day}")
    assert ">t100<" in dated.text and ">t0<" not in dated.text
    assert "Nothing matches this filter" in client.get("/admin/audit?operator=nobody").text
    assert client.get("/admin/audit?since=junk&before=x").status_code == 200


def test_dashboard_says_what_needs_doing_and_review_shows_a_count(console):
    client, rt, clock, _app = console
    login(client)
    calm = client.get("/admin")
    assert "Nothing: no draft waits for review" in calm.text
    gathering.gather_all(rt)
    newsletter = rt.settings.newsletters[0]
    editorial.prepare(rt, newsletter, "s1", clock() + timedelta(minutes=30), fetch=False)
    with rt.sessions() as session, session.begin():
        session.get(SourceState, 1).failures = 3
        session.get(SourceState, 1).last_error = "HTTP 503"
    busy = client.get("/admin")
    assert "Gazette Daily: 1 draft waiting for review" in busy.text
    assert "source Wire failed 3 times in a row (HTTP 503)" in busy.text
    assert re.search(r'Review <span class="count">1<', busy.text)
    with rt.sessions() as session, session.begin():
        session.add(Issue(newsletter="daily", slot="x", created_at=clock(), status=IssueStatus.paused,
                          subject="Stuck issue", html="", text="", paused_reason="5 failures in a row"))
    paused = client.get("/admin")
    assert "Issue paused: Stuck issue (5 failures in a row)" in paused.text
    assert paused.text.index("Issue paused") < paused.text.index("waiting for review")  # most urgent first


def test_one_save_keeps_every_item_change_and_a_stale_page_changes_nothing(console):
    client, rt, clock, _app = console
    gathering.gather_all(rt)
    row, _ = editorial.prepare(rt, rt.settings.newsletters[0], "s1", clock() + timedelta(minutes=30), fetch=False)
    items = editorial.items_of(row)
    assert len(items) == 3
    login(client, "ed")
    token = csrf(client)
    form = {"csrf": token, "action": "save_all", "version": str(row.version)}
    for position, item in zip((3, 1, 2), items):
        form |= {f"keep-{item['id']}": "on", f"title-{item['id']}": item["title"], f"position-{item['id']}": position,
                 f"summary-{item['id']}": " ".join(item["summary"])}
    unchanged = client.post(f"/admin/review/{row.id}", data={**form, **{
        f"position-{i['id']}": n for n, i in enumerate(items, 1)}})
    assert "Nothing had changed" in unchanged.text
    del form[f"keep-{items[2]['id']}"]
    form[f"summary-{items[1]['id']}"] = "Rewritten by the editor."
    form[f"pin-{items[0]['id']}"] = "on"
    saved = client.post(f"/admin/review/{row.id}", data=form)
    assert "Saved." in saved.text
    with rt.sessions() as session:
        fresh = session.get(ReviewDraft, row.id)
    after = editorial.items_of(fresh)
    assert [i["id"] for i in after] == [items[1]["id"], items[2]["id"], items[0]["id"]]
    assert after[0]["summary"] == ["Rewritten by the editor."] and after[1]["removed"] and after[2]["pinned"]
    assert fresh.version == row.version + 1
    stale = client.post(f"/admin/review/{row.id}", data={**form, f"title-{items[0]['id']}": "Sneaked in"})
    assert stale.status_code == 409 and "changed since you opened it" in stale.text
    blank = client.post(f"/admin/review/{row.id}", data={**form, "version": str(fresh.version),
                                                         f"title-{items[0]['id']}": "  "})
    assert blank.status_code == 409 and "a title cannot be empty" in blank.text
    history = client.get(f"/admin/review/{row.id}").text
    assert "save all: version 1: changed" in history and "nothing changed" in history


def test_admins_make_and_revoke_api_keys_in_the_console(console):
    client, _rt, _clock, _app = console
    login(client)
    token = csrf(client)
    made = client.post("/admin/apikeys", data={"csrf": token, "action": "add", "name": "paywall",
                                               "scope-subscribers:read": "on"})
    key = re.search(r"<code>(dgk_[^<]+)</code>", made.text).group(1)
    assert made.status_code == 200 and "not shown again" in made.text
    assert client.get("/api/v1/newsletters", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert key not in client.get("/admin/apikeys").text  # shown once
    none = client.post("/admin/apikeys", data={"csrf": token, "action": "add", "name": "empty"})
    assert none.status_code == 400 and "scopes are some of" in none.text
    client.post("/admin/apikeys", data={"csrf": token, "action": "revoke", "name": "paywall"})
    assert client.get("/api/v1/newsletters", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    editor = client.__class__(client.app, base_url=str(client.base_url))
    login(editor, "ed")
    assert editor.get("/admin/apikeys").status_code == 403

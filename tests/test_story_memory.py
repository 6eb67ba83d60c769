"""One story, once across issues and in review (issue 32): a real SQLite file, real sends to aiosmtpd on 127.0.0.1,
the console through its ASGI app with its login and CSRF checks."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from test_console import csrf, login, open_console
from test_stories import CHILE, GDANSK, GDANSK_UPDATE, JAPAN, WIRE

from digest.flows import editorial
from digest.flows.sending import send_newsletter
from digest.models import Article, Issue, IssueArticle, StoryChoice
from digest.web.admin import accounts


def add_article(rt, clock, uid: str, source: str, title: str, text: str, hours_ago: float = 1) -> int:
    with rt.sessions() as session, session.begin():
        article = Article(uid=uid, source_url=rt.settings.newsletters[0].sources[0].url, source_name=source,
                          link=f"https://{source.lower()}.example.org/{uid}", title=title, text=text,
                          published_at=clock() - timedelta(hours=hours_ago), fetched_at=clock())
        session.add(article)
        session.flush()
        return article.id


def received(smtp_server, address: str, count: int):
    """The `count`-th message `address` received: its html and text parts."""
    mails = [m.message for m in smtp_server.messages if address in m.rcpt_tos]
    assert len(mails) == count, len(mails)
    return mails[-1].get_body(("html",)).get_content(), mails[-1].get_body(("plain",)).get_content()


def test_a_story_sent_yesterday_is_not_sent_again_and_an_update_at_a_new_url_is_marked(tmp_path, smtp_server):
    with open_console(tmp_path, smtp_server, "off") as (_client, rt, clock, _app):
        add_article(rt, clock, "tap", "Wire", "Portugal approves sale of TAP stake to Lufthansa", WIRE)
        add_article(rt, clock, "fire", "Gazette", "Fire at Gdansk port warehouse, two hurt", GDANSK)
        first = send_newsletter(rt, "daily", fetch=False)
        assert first.new_issue_id is not None
        html, _text = received(smtp_server, "r1@example.com", 1)
        assert "Fire at Gdansk port warehouse" in html and "Update:" not in html

        clock.now += timedelta(days=1)
        republished = add_article(rt, clock, "tap-new-url", "Post", "Lisbon lawmakers back airline deal", WIRE)
        update = add_article(rt, clock, "fire-updated", "Gazette",
                             "UPDATED: Gdansk warehouse fire under control after 14 hours", GDANSK_UPDATE)
        add_article(rt, clock, "quake", "Wire", "Magnitude 6.1 earthquake strikes northeastern Japan", JAPAN)
        second = send_newsletter(rt, "daily", fetch=False)
        html, text = received(smtp_server, "r1@example.com", 2)
        earlier = f"https://gazette.example.org/issues/daily/2026-11-24?issue={first.new_issue_id}"
        assert "Update: <a" in html and "Gdansk warehouse fire under control" in html
        assert f'<a href="{earlier}">first in an earlier issue</a>' in html
        assert f"first in an earlier issue: {earlier}" in text and "Update: UPDATED: Gdansk" in text
        assert "Magnitude 6.1 earthquake" in html and "Lisbon lawmakers" not in html and "TAP" not in html
        with rt.sessions() as session:
            carried = dict(session.execute(select(IssueArticle.article_id, IssueArticle.included)
                                           .where(IssueArticle.issue_id == second.new_issue_id)).all())
            # The republished copy is used up (never offered again), not carried.
            assert carried[republished] is False and carried[update] is True

        # The same copy once more the next day: still not news.
        clock.now += timedelta(days=1)
        add_article(rt, clock, "tap-third-url", "Times", "TAP goes to the Germans", "Our correspondent writes. " + WIRE)
        assert send_newsletter(rt, "daily", fetch=False).nothing_new


def story_form(client, draft_id: int) -> tuple[str, str]:
    page = client.get(f"/admin/review/{draft_id}/stories")
    assert page.status_code == 200
    return page.text, re.search(r'name="version" value="(\d+)"', page.text).group(1)


def test_a_group_split_by_an_editor_stays_split_and_a_merge_stays_merged(tmp_path, smtp_server):
    with open_console(tmp_path, smtp_server, "required") as (client, rt, clock, _app):
        newsletter = rt.settings.newsletters[0]
        wire = add_article(rt, clock, "wire", "Wire", "Portugal approves sale of TAP stake to Lufthansa", WIRE, 2)
        post = add_article(rt, clock, "post", "Post", "Lisbon lawmakers back airline deal", WIRE[:-60], 1)
        chile = add_article(rt, clock, "chile", "Wire", "Magnitude 6.4 earthquake strikes central Chile", CHILE, 3)
        japan = add_article(rt, clock, "japan", "Post", "Magnitude 6.1 earthquake strikes northeastern Japan", JAPAN, 3)
        row, _ = editorial.prepare(rt, newsletter, "slot-1", clock() + timedelta(hours=1), fetch=False)
        items = {entry["id"]: entry for entry in editorial.items_of(row)}
        assert sorted(items) == sorted([post, chile, japan]) and items[post]["versions"] == [wire]

        login(client, "ed")
        page, version = story_form(client, row.id)
        assert "Portugal approves sale of TAP stake" in page and "Not this story" in page
        forged = client.post(f"/admin/review/{row.id}/stories", data={"csrf": "forged", "action": "split",
                             "version": version, "item": post, "split": wire}, follow_redirects=False)
        assert forged.status_code == 403
        split = client.post(f"/admin/review/{row.id}/stories", data={"csrf": csrf(client), "action": "split",
                            "version": version, "item": post, "split": wire}, follow_redirects=False)
        assert split.status_code == 303, split.text
        stale = client.post(f"/admin/review/{row.id}/stories", data={"csrf": csrf(client), "action": "merge",
                            "version": version, "item": japan, "into": chile}, follow_redirects=False)
        assert stale.status_code == 409 and "changed since you opened it" in stale.text
        _page, version = story_form(client, row.id)
        merged = client.post(f"/admin/review/{row.id}/stories", data={"csrf": csrf(client), "action": "merge",
                             "version": version, "item": japan, "into": chile}, follow_redirects=False)
        assert merged.status_code == 303, merged.text

        draft = {entry["id"]: entry for entry in editorial.items_of(draft_row(rt, row.id))}
        assert sorted(draft) == sorted([post, wire, chile])  # the wire copy is its own item, Japan inside Chile
        assert draft[post]["versions"] == [] and draft[post]["also_in"] == []
        assert draft[wire]["summary"] and draft[chile]["versions"] == [japan] and draft[chile]["also_in"] == ["Post"]
        with rt.sessions() as session:
            log = [(e.operator, e.action, e.target) for e in accounts.recent_audit(session)]
            stored = sorted((c.first_id, c.second_id, c.choice) for c in session.scalars(select(StoryChoice)))
        assert ("ed", "draft.story_split", f"draft:{row.id} item:{post}") in log
        assert ("ed", "draft.story_merge", f"draft:{row.id} item:{japan}") in log
        assert stored == sorted([(min(wire, post), max(wire, post), "split"),
                                 (min(chile, japan), max(chile, japan), "merge")])
        assert "story split" in client.get(f"/admin/review/{row.id}").text  # in the draft's history

        # The next draft of the same articles (another slot) groups them as the editor said.
        again, made = editorial.prepare(rt, newsletter, "slot-2", clock() + timedelta(hours=2), fetch=False)
        assert made
        nxt = {entry["id"]: entry for entry in editorial.items_of(again)}
        assert len(nxt) == 3 and not any(wire in entry["versions"] for entry in nxt.values())
        assert {wire, post} <= set(nxt)
        story = next(entry for entry in nxt.values() if chile in (entry["id"], *entry["versions"]))
        assert japan in (story["id"], *story["versions"])


def draft_row(rt, draft_id: int):
    from digest.models import ReviewDraft

    with rt.sessions() as session:
        return session.get(ReviewDraft, draft_id)


def test_issue_links_of_earlier_versions_are_bounded(tmp_path, smtp_server):
    """Only the newsletter's last issues within the window are read, however long it has run."""
    from digest.compose.updates import SENT_ISSUES
    from digest.flows.story_memory import sent_versions

    with open_console(tmp_path, smtp_server, "off") as (_client, rt, clock, _app):
        with rt.sessions() as session, session.begin():
            for k in range(SENT_ISSUES + 3):
                issue = Issue(newsletter="daily", slot=f"s{k}", created_at=clock() - timedelta(hours=k), subject="s",
                              html="h", text="t", personal_mark="@@m@@")
                article = Article(uid=f"a{k}", source_url="u", source_name="Wire", link=f"https://w.example/{k}",
                                  title=f"A{k}", text="text", published_at=clock(), fetched_at=clock())
                session.add_all([issue, article])
                session.flush()
                session.add(IssueArticle(issue_id=issue.id, article_id=article.id, newsletter="daily",
                                         section="News", position=0))
        with rt.sessions() as session:
            versions = sent_versions(session, rt.settings.newsletters[0], rt.settings.site, clock())
        assert len({v.issue_id for v in versions}) == SENT_ISSUES

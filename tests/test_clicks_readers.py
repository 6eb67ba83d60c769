"""Click analytics per reader (issue 26, analytics.per_reader): a real send to aiosmtpd, each reader's links
followed through the real web app.

Each reader's copy carries a signed reader part (the pixel never does); a reader who switched it off on their
preferences page gets the aggregate links; a scanner that spreads one copy's links over many networks is still
caught through the reader's canary and burst; export lists a reader's clicks and forget erases the reader from
them while the counts stay; the signatures of per-reader messages verify.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import datetime, timedelta, timezone

from conftest import SECRET, run_cli
from sqlalchemy import select, update
from starlette.testclient import TestClient
from test_clicks import BASE, BROWSER, counted_links, parts, sent
from test_dkim import DOMAIN, NOW, keys, pem, verify_all  # noqa: F401 (keys: the fixture)

from digest.analytics.figures import issue_figures
from digest.content import RenderedIssue
from digest.render.dkim import make_signer
from digest.models import Delivery
from digest.models_clicks import Click, ClickLink, ClickOptOut
from digest.render.links import click_key, link_token, reader_part
from digest.render.message import build_template, personalize
from digest.web.app import create_app
from subscribers import make_unsubscribe_token
from subscribers.models import Subscriber

NEXT_FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>
<link>https://wire.example.org/</link>""" + "".join(
    f"<item><title>{title}</title><link>https://wire.example.org/2/{slug}</link><guid>wire2-{slug}</guid>"
    f"<pubDate>Tue, 24 Nov 2026 0{n}:00:00 GMT</pubDate><description>{text}</description></item>"
    for n, (slug, title, text) in enumerate((
        ("bridge", "Bridge repairs start on Monday", "Crews will close one lane of the river bridge for six weeks. "
         "Buses keep their routes. The council apologised for the delays."),
        ("map", "Library opens a reading room for children", "The new room has two thousand books and a puppet "
         "theatre. It opens on Saturdays from ten. Volunteers read aloud every week."),
        ("choir", "Harbour choir wins the regional prize", "Forty singers travelled to the final by coach. Their "
         "programme mixed sea shanties and hymns. The prize money will buy new music stands.")))) \
    + "</channel></rss>"
PER_READER = "[newsletters.analytics]\nclicks = true\nopens = true\nper_reader = true\n"


def copies(smtp_server) -> dict[str, list[str]]:
    """Each reader's counted links, from the HTML part of the message they received."""
    return {str(m.message["To"]): counted_links(parts(m)[0]) for m in smtp_server.messages}


def opt_out(client: TestClient, subscriber_id: int) -> str:
    """Through the reader's own page, as a reader does it: GET shows the switch, POST turns it."""
    token = make_unsubscribe_token(SECRET, subscriber_id, "daily")
    page = client.get(f"/preferences/{token}").text
    assert "Your clicks" in page and "tied to you" in page and "After 30 days only totals are kept." in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    done = client.post(f"/preferences/{token}", data={"csrf": csrf, "action": "clicks_total"},
                       headers={"Origin": BASE})
    assert done.status_code == 200 and "your clicks count only in totals" in done.text
    return done.text


def test_each_copy_carries_its_reader_and_an_opted_out_reader_gets_the_aggregate_links(tmp_path, smtp_server):
    # Bob switches per-reader counting off before the issue goes out: the preferences page needs the settings
    # and readers first, so send once to make them, then look at his page on that site.
    settings, rt = sent(tmp_path, smtp_server, PER_READER)
    app = create_app(settings, rt.sessions, rt.transport_factory)
    with rt.sessions() as session:
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())
        targets = {row.number: row for row in session.scalars(select(ClickLink).where(ClickLink.issue_id == 1))}
    mine = copies(smtp_server)
    ann, bob = mine["ann@example.com"], mine["bob@example.net"]
    key = click_key(SECRET)
    ann_part, bob_part = reader_part(key, 1, ids["ann@example.com"]), reader_part(key, 1, ids["bob@example.net"])
    # Articles and the canary carry the reader's part; the pixel (opens) never does.
    assert [link.endswith(ann_part) for link in ann] == [True, True, True, True, False]
    assert [link.endswith(bob_part) for link in bob] == [True, True, True, True, False]
    assert [a.removesuffix(ann_part) for a in ann] == [b.removesuffix(bob_part) for b in bob]
    assert ann_part[1:] in parts(smtp_server.messages[0])[1] or ann_part[1:] in parts(smtp_server.messages[1])[1]
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        assert "Your clicks are counted only in totals" in opt_out(client, ids["bob@example.net"])
        # A reader part not signed for this issue, or garbled, is a 404 like a forged token.
        aggregate = ann[0].removesuffix(ann_part)
        for bad in (aggregate + reader_part(key, 2, ids["ann@example.com"]), aggregate + "." + "A" * 16,
                    ann[0][:-1], ann[0] + "A", aggregate + "." + ann_part[1:-1] + "=",
                    aggregate + reader_part(click_key("another secret"), 1, ids["ann@example.com"])):
            assert client.get(bad).status_code == 404, bad
    with rt.sessions() as session:
        assert session.scalars(select(ClickOptOut.subscriber_id)).all() == [ids["bob@example.net"]]

    # The next issue: Bob's copy has the aggregate links, Ann's still her own.
    smtp_server.messages.clear()
    (tmp_path / "wire.xml").write_text(NEXT_FEED)
    again = run_cli("send", "daily", config=settings.config_path)
    assert again.returncode == 0 and "2 sent" in again.stdout, (again.stdout, again.stderr)
    mine = copies(smtp_server)
    assert all(link.endswith(reader_part(key, 2, ids["ann@example.com"])) for link in mine["ann@example.com"][:4])
    assert all(len(link.rsplit("/", 1)[1]) == 22 for link in mine["bob@example.net"])

    with rt.sessions() as session, session.begin():  # readers come later than the first seconds after delivery
        session.execute(update(Delivery).values(sent_at=datetime.now(timezone.utc) - timedelta(minutes=10)))
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        # A scanner on Ann's copy of issue 1 with a fresh address for every link (Safe Links spreads them):
        # no network makes a burst, but her canary and her links within a second do.
        for n, link in enumerate(ann):
            scanner = TestClient(app, base_url=BASE, follow_redirects=False, client=(f"40.94.{n}.7", 4000),
                                 headers={"User-Agent": BROWSER})
            scanner.get(link)
        reader = TestClient(app, base_url=BASE, follow_redirects=False, client=("203.0.113.9", 5000),
                            headers={"User-Agent": BROWSER})
        answer = reader.get(mine["ann@example.com"][1])  # Ann, later, one story of issue 2
        assert answer.status_code == 302 and answer.headers["location"] == "https://wire.example.org/2/map"
        other = TestClient(app, base_url=BASE, follow_redirects=False, client=("198.51.100.4", 5000),
                           headers={"User-Agent": BROWSER})
        assert other.get(bob[2]).headers["location"] == targets[3].url  # Bob's old copy: his part, opted out
    with rt.sessions() as session:
        rows = [(c.issue_id, c.number, c.verdict, c.subscriber_id) for c in session.scalars(
            select(Click).order_by(Click.id))]
        figures = issue_figures(session, [1, 2])
    ann_id = ids["ann@example.com"]
    assert rows[:5] == [(1, 1, "canary", ann_id), (1, 2, "canary", ann_id), (1, 3, "canary", ann_id),
                        (1, 4, "canary", ann_id), (1, 5, "person", None)]  # the pixel: an open, nobody's
    assert rows[5:] == [(2, 2, "person", ann_id), (1, 3, "person", None)]  # Bob opted out: nobody's click
    assert (figures[1].people, figures[1].requests, figures[2].people) == (1, 4, 1)

    exported = json.loads(run_cli("subscribers", "export", "ann@example.com", config=settings.config_path).stdout)
    assert [(c["issue"], c["url"], c["verdict"]) for c in exported["clicks"]["clicks"]] == [
        (1, targets[1].url, "canary"), (1, targets[2].url, "canary"), (1, targets[3].url, "canary"),
        (1, targets[4].url, "canary"), (2, "https://wire.example.org/2/map", "person")]
    assert run_cli("subscribers", "forget", "ann@example.com", "--yes", config=settings.config_path).returncode == 0
    with rt.sessions() as session:
        assert session.scalars(select(Click.subscriber_id).where(Click.subscriber_id.is_not(None))).all() == []
        assert len(session.scalars(select(Click.id)).all()) == 7  # the counts stay, nobody's
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        assert client.get(ann[0]).status_code == 302  # her old copy still works, counted for nobody
    with rt.sessions() as session:
        assert session.scalars(select(Click.subscriber_id).order_by(Click.id.desc())).first() is None


def test_per_reader_off_the_links_are_aggregate_and_the_page_has_no_switch(tmp_path, smtp_server):
    settings, rt = sent(tmp_path, smtp_server)
    mine = copies(smtp_server)
    assert mine["ann@example.com"] == mine["bob@example.net"]
    with TestClient(create_app(settings, rt.sessions, rt.transport_factory), base_url=BASE) as client:
        page = client.get(f"/preferences/{make_unsubscribe_token(SECRET, 1, 'daily')}").text
    assert "Your subscriptions" in page and "Your clicks" not in page


def test_per_reader_messages_are_signed_over_each_readers_links(keys):  # noqa: F811
    rsa_key, ed_key, dnsfunc = keys
    key, mark = click_key(SECRET), "@@unsubscribe-test-mark@@"
    links = tuple(f"https://gazette.example.org/r/{link_token(key, 9, n)}" for n in (1, 2))
    text = f"Read: {links[0]}\n.dot-led {links[1]}\n" + "word " * 300 + f"\nUnsubscribe: {mark}\n\n"
    html = (f'<p>{"long " * 400}</p><a href="{links[0]}">one</a>\n.<a href="{links[1]}">two</a>'
            f'<a href="{mark}">Unsubscribe</a>\n\n')
    signer = make_signer("news", DOMAIN, pem(rsa_key), ed25519_selector="ed", ed25519_private_key=pem(ed_key))

    def template(reader_links=()):
        return build_template(RenderedIssue("Subject", html, text, mark), from_address="L <n@ledger.example.org>",
                              list_id="morning", list_name="Ledger", base_url="https://gazette.example.org",
                              unsubscribe_mailbox="u@gazette.example.org", message_id_prefix="digest.9.x",
                              date=NOW, signer=signer, reader_links=reader_links)

    assert template().gaps is None
    counted = template(links)
    assert counted.gaps == (True, True, False, True, True, False)
    for n, subscriber in enumerate((7, 8, 70000)):
        part = reader_part(key, 9, subscriber) if n < 2 else ""  # the last one opted out: aggregate links
        token = make_unsubscribe_token(SECRET, subscriber, "morning")
        raw = personalize(counted, to=f"r{n}@example.com", token=token, personal_id=str(subscriber), reader=part)
        assert verify_all(raw, dnsfunc) == [True, True], n
        message = email.message_from_bytes(raw, policy=email.policy.default)
        decoded = "".join(p.get_content() for p in (message.get_body(("plain",)), message.get_body(("html",))))
        assert decoded.count(links[0] + part) == 2 and decoded.count(links[1] + part) == 2
        assert b"\r\n." not in raw.split(b"\r\n\r\n", 1)[1]  # no line starts with a dot (no stuffing needed)
        tampered = raw.replace(part[3:9].encode(), b"AAAAAA", 1) if part else raw.replace(b"Read:", b"Reed:", 1)
        assert tampered != raw and verify_all(tampered, dnsfunc) == [False, False], n

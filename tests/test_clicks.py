"""Click analytics (issue 26): a real send to aiosmtpd, its links followed through the real web app.

Scanners (HEAD, then every link within a second) count as machines, a person's later click as a person; forged
and truncated tokens are 404; the target always comes from the database; analytics off leaves links alone.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta, timezone

from conftest import SECRET, copy_feed, import_readers, run_cli, write_config
from sqlalchemy import select, update
from starlette.testclient import TestClient

from digest.analytics import classify as rules
from digest.analytics.figures import issue_figures
from digest.analytics.recorder import Recorder
from digest.analytics.rollup import roll_up
from digest.config import load_settings
from digest.db import make_engine, make_sessionmaker
from digest.flows.runtime import Runtime
from digest.models import Article, Delivery
from digest.models_clicks import Click, ClickDay, ClickLink
from digest.render.links import click_key, link_token, read_link_token
from digest.web.app import create_app

BASE = "https://gazette.example.org"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
COUNTED = "[newsletters.analytics]\nclicks = true\nopens = true\n"


def sent(tmp_path, smtp_server, extra: str = COUNTED):
    copy_feed("wire.xml", tmp_path)
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra_newsletter=extra,
                          sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')
    (tmp_path / "readers.csv").write_text("email\nann@example.com\nbob@example.net\n")
    import_readers(config)
    result = run_cli("send", "daily", config=config)
    assert result.returncode == 0 and "2 sent" in result.stdout, result.stderr
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    return settings, Runtime.create(settings)


def parts(received) -> tuple[str, str]:
    message = received.message
    return message.get_body(("html",)).get_content(), message.get_body(("plain",)).get_content()


def counted_links(body: str) -> list[str]:
    return list(dict.fromkeys(html.unescape(u) for u in re.findall(rf'{BASE}/r/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]{{16}})?', body)))


def test_a_scanner_burst_counts_as_machine_and_a_later_reader_as_a_person(tmp_path, smtp_server):
    settings, rt = sent(tmp_path, smtp_server)
    body_html, body_text = parts(smtp_server.messages[0])
    links = counted_links(body_html)
    assert len(links) == 5  # three stories, the hidden canary, the open pixel
    assert "https://wire.example.org/" not in body_html and "https://wire.example.org/" not in body_text
    assert re.search(r"Read more: https://gazette\.example\.org/r/\S+", body_text)
    assert "/unsubscribe?token=" in body_text and "/r/" not in smtp_server.messages[0].message["List-Unsubscribe"]
    assert counted_links(parts(smtp_server.messages[1])[0]) == links  # aggregate: no reader id in a link
    with rt.sessions() as session:
        targets = {row.number: row for row in session.scalars(select(ClickLink))}
    assert [targets[n].kind for n in sorted(targets)] == ["link", "link", "link", "canary", "open"]
    assert targets[1].url == "https://wire.example.org/ferry?id=7"

    app = create_app(settings, rt.sessions, rt.transport_factory)
    scanner = TestClient(app, base_url=BASE, follow_redirects=False, client=("40.94.1.7", 4000),
                         headers={"User-Agent": BROWSER})
    with scanner:
        for link in links:
            assert scanner.head(link).status_code in (200, 302)
        for link in links:  # every link, the hidden one too, within a second
            scanner.get(link)
        with rt.sessions() as session:  # the reader comes later than the first seconds after delivery
            session.execute(update(Delivery).values(sent_at=datetime.now(timezone.utc) - timedelta(minutes=10)))
            session.commit()
        reader = TestClient(app, base_url=BASE, follow_redirects=False, client=("203.0.113.9", 5000),
                            headers={"User-Agent": BROWSER})
        answer = reader.get(links[1])
        assert answer.status_code == 302 and answer.headers["location"] == targets[2].url
        assert "no-store" in answer.headers["cache-control"]
        pixel = reader.get(links[4])
        assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    # Leaving the client ran the app's shutdown: every queued click is written.
    with rt.sessions() as session:
        verdicts = [(n, v) for n, v in session.execute(select(Click.number, Click.verdict).order_by(Click.id))]
        figures = issue_figures(session, [1])[1]
    assert len(verdicts) == 12
    assert {v for _n, v in verdicts[:10]} <= set(rules.MACHINE_RULES) and verdicts[:5] == [
        (n, "head") for n in range(1, 6)]
    assert verdicts[10:] == [(2, "person"), (5, "person")]
    assert figures.people == 1 and figures.requests == 7  # article links: 3 HEAD + 3 GET + the reader's
    assert [(f.number, f.people, f.requests) for f in figures.links] == [(1, 0, 2), (2, 1, 3), (3, 0, 2)]
    assert figures.opens == 3 and figures.opens_people == 1 and figures.canary == 2

    stats = run_cli("stats", "daily", "--csv", config=settings.config_path)
    assert stats.returncode == 0, stats.stderr
    rows = list(csv.DictReader(io.StringIO(stats.stdout)))
    assert [(r["link"], r["people"], r["requests"]) for r in rows if r["link"]] == [
        ("1", "0", "2"), ("2", "1", "3"), ("3", "0", "2")]
    text = run_cli("stats", config=settings.config_path).stdout
    assert "people (estimated)" in text and "Museum finds lost map" in text


def test_forged_truncated_and_unknown_tokens_are_404_and_nothing_is_counted(tmp_path, smtp_server):
    settings, rt = sent(tmp_path, smtp_server)
    link = counted_links(parts(smtp_server.messages[0])[0])[0]
    token = link.rsplit("/", 1)[1]
    key = click_key(SECRET)
    forged = [token[:-1], token + "A", token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "x" * 5000,
              link_token(click_key("another secret"), 1, 1), link_token(key, 1, 99), link_token(key, 77, 1),
              "..%2F..%2Fetc", "%00" + token[1:]]
    with TestClient(create_app(settings, rt.sessions, rt.transport_factory), base_url=BASE,
                    follow_redirects=False) as client:
        for bad in forged:
            assert client.get(f"/r/{bad}").status_code == 404, bad
        answer = client.get(f"/r/{token}?u=https://evil.example")  # a query string never picks the target
        assert answer.status_code == 302 and answer.headers["location"].startswith("https://wire.example.org/")
    with rt.sessions() as session:
        assert session.scalars(select(Click.number)).all() == [1]
    assert read_link_token(key, token) == (1, 1)


def test_off_by_default_links_stay_as_they_are(tmp_path, smtp_server):
    _settings, rt = sent(tmp_path, smtp_server, extra="")
    body_html, body_text = parts(smtp_server.messages[0])
    assert "/r/" not in body_html and "/r/" not in body_text
    assert 'href="https://wire.example.org/map"' in body_html and "Read more: https://wire.example.org/map" in body_text
    with rt.sessions() as session:
        assert session.scalars(select(ClickLink)).all() == []


def test_readers_are_sent_on_when_the_database_is_down(tmp_path, smtp_server, caplog):
    settings, rt = sent(tmp_path, smtp_server)
    links = counted_links(parts(smtp_server.messages[0])[0])
    app = create_app(settings, rt.sessions, rt.transport_factory)
    broken = make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/no/such/folder/x.db"))
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        assert client.get(links[0]).status_code == 302  # the issue's links are read once, and kept
        clicks = next(r.endpoint.__self__ for r in app.routes if getattr(r, "path", "") == "/r/{token}")
        clicks.recorder.sessions = clicks.targets.sessions = broken
        assert client.get(links[1]).headers["location"] == "https://wire.example.org/map"
        clicks.targets.issues.clear()  # a cold cache and no database: the front page, not an error
        assert client.get(links[2]).headers["location"] == BASE
    assert clicks.recorder.lost == 2 and "not recorded" in caplog.text


def test_rules_and_roll_up(tmp_path):
    hit = rules.Hit(1, 1, "link", 1000.0, rules.network_of("2001:db8:1:2::5"), agent=BROWSER)
    assert hit.network == "2001:db8:1::/48" and rules.network_of("198.51.100.77") == "198.51.100.0/24"
    assert rules.classify([hit], [], {}) == ["person"]
    assert rules.classify([hit], [], {1: 990.0}) == ["early"]
    assert rules.read_headers([(b"Sec-Purpose", b"prefetch;prerender"), (b"User-Agent", b"X")]) == (True, "X")
    for agent in ("", "python-requests/2.31", "Mozilla/5.0 (compatible; Barracuda Sentinel)", "Mimecast-Scanner"):
        assert rules.request_rule(rules.Hit(1, 1, "link", 0.0, "n", agent=agent)) == "agent"
    flood = [rules.Hit(1, 1, "link", 1000 + i / 10_000, "n", agent=BROWSER) for i in range(10_000)]
    assert set(rules.classify(flood, [], {})) == {"burst"}  # one address, 10,000 requests in a second



def test_old_clicks_roll_up_into_daily_counts_and_the_figures_stay(tmp_path, smtp_server):
    _settings, rt = sent(tmp_path, smtp_server)
    now = datetime.now(timezone.utc)
    old = now - timedelta(days=40)
    with rt.sessions() as session, session.begin():
        session.add_all([Click(issue_id=1, number=1, at=old, verdict="person"),
                         Click(issue_id=1, number=1, at=old + timedelta(seconds=5), verdict="burst"),
                         Click(issue_id=1, number=2, at=now, verdict="person")])
    with rt.sessions() as session:
        before = issue_figures(session, [1])[1]
    assert roll_up(rt.sessions, 30, now) == 2
    with rt.sessions() as session:
        after = issue_figures(session, [1])[1]
        assert [(d.number, d.people, d.machines) for d in session.scalars(select(ClickDay))] == [(1, 1, 1)]
        assert session.scalars(select(Click.number)).all() == [2]
    assert (after.people, after.requests) == (before.people, before.requests) == (2, 3)
    assert roll_up(rt.sessions, 0, now) == 0  # 0: raw rows kept for good


def test_the_recorder_writes_in_batches_and_everything_at_close(tmp_path, smtp_server):
    _settings, rt = sent(tmp_path, smtp_server)
    clock = [1_000_000.0]
    recorder = Recorder(rt.sessions, flush_seconds=3600, clock=lambda: clock[0])
    for i in range(500):
        recorder.add(rules.Hit(1, 1 + i % 3, "link", clock[0] + i / 1000, f"10.0.{i}.0/24", agent=BROWSER))
    assert recorder.flush() == 0  # each click waits for the ones that may come after it
    clock[0] += rules.WINDOW + 0.2995
    assert recorder.flush() == 300  # those older than the window; the rest wait
    recorder.close()  # shutdown: the rest at once
    with rt.sessions() as session:
        assert len(session.scalars(select(Click.id)).all()) == 500 == recorder.written


def test_the_console_shows_people_and_all_requests_per_link_and_its_preview_counts_nothing(tmp_path, smtp_server):
    from digest.flows import editorial
    from digest.web.admin import accounts

    settings, rt = sent(tmp_path, smtp_server)
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "ed", "editor", "correct horse battery", datetime.now(timezone.utc))
        session.add_all([Click(issue_id=1, number=2, at=datetime.now(timezone.utc), verdict=v)
                         for v in ("person", "person", "burst", "head", "canary")])
    with TestClient(create_app(settings, rt.sessions, rt.transport_factory), base_url=BASE) as client:
        token = re.search(r'name="login_token" value="([^"]+)"', client.get("/admin/login").text).group(1)
        client.post("/admin/login", data={"name": "ed", "password": "correct horse battery", "login_token": token,
                                          "next": "/admin"})
        page = client.get("/admin/issues/1").text
        preview = client.get("/admin/issues/1/sent.html").text
        with rt.sessions() as session, session.begin():  # news for a next draft
            session.add(Article(uid="next", source_url=settings.newsletters[0].sources[0].url, source_name="Wire",
                                link="https://wire.example.org/next", title="Next story", text="It happened.",
                                published_at=datetime.now(timezone.utc)))
        row, _made = editorial.prepare(rt, settings.newsletters[0], "2030-01-01T07:00:00Z",
                                       datetime(2030, 1, 1, 7, tzinfo=timezone.utc), fetch=False)
        review = client.get(f"/admin/review/{row.id}").text
    assert "What readers clicked" in page and "People (estimated)" in page and "burst 1" in page
    row = re.search(r"<tr><td class=\"num\">2</td>.*?</tr>", page).group(0)
    assert "Museum finds lost map" in row and row.endswith('<td class="num">2</td><td class="num">5</td></tr>')
    assert "Top stories of daily by people, last 7 days" in page
    assert "/r/" in preview and "<!--counted-->" not in preview and 'width="1" height="1"' not in preview
    assert "What readers chose last time" in review
    assert re.search(r"<tr><td>Wire</td><td class=\"num\">3</td><td class=\"num\">2</td></tr>", review)


def test_the_demo_with_analytics_shows_which_stories_people_clicked(tmp_path):
    """`digest demo --analytics` from nothing: a real send, the received links through `digest serve` as a
    scanner and then a reader, and the figures per story."""
    result = run_cli("demo", "--dir", str(tmp_path / "demo"), "--analytics", env={"DIGEST_SECRET_KEY": ""},
                     timeout=240)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "which stories were clicked: people (estimated) / all requests; total 2 / 16" in out, out
    opened = re.findall(r"a reader opened (\S+) \(302\)", out)
    assert len(opened) == 2 and all(u.startswith("https://ledger.example.org/") for u in opened)
    figures = re.findall(r"^\s+(\d+) / (\d+)\s+(.+)$", out, re.MULTILINE)
    assert sorted((int(p), int(r)) for p, r, _title in figures) == [(0, 2)] * 5 + [(1, 3)] * 2
    assert "'head': 8" in out and "People (estimated)" in out
    stats = run_cli("stats", "--csv", config=tmp_path / "demo" / "demo-config.toml")
    assert stats.returncode == 0 and sum(row["people"] == "1" for row in csv.DictReader(io.StringIO(stats.stdout))
                                         if row["link"]) == 2

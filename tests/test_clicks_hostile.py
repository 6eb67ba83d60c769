"""Hostile input to counted links (issue 26), through the real web app after a real send to aiosmtpd.

Replayed links, 10,000 clicks in a second from one address, a feed whose links point at our own /r/ URLs,
huge query strings, paths and headers: a clear 404 or a redirect, bounded memory, every request stored once.
"""

from __future__ import annotations

import asyncio
import logging

from conftest import SECRET, run_cli
from sqlalchemy import func, select
from starlette.testclient import TestClient
from test_clicks import BASE, BROWSER, counted_links, parts, sent

from digest.models_clicks import Click, ClickLink
from digest.render.links import click_key, link_token
from digest.web.app import create_app
from digest.web.guards import RedactTokens


def clicks_of(app):
    return next(r.endpoint.__self__ for r in app.routes if getattr(r, "path", "") == "/r/{token}")


async def flood(app, paths: list[str], agent: bytes = BROWSER.encode(), query: bytes = b"") -> list[int]:
    """Requests straight into the ASGI app, as fast as one thread makes them (all from one address)."""
    statuses: list[int] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for path in paths:
        await app({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": query,
                   "headers": [(b"host", b"gazette.example.org"), (b"user-agent", agent)], "scheme": "https",
                   "client": ("198.51.100.20", 40000), "server": ("gazette.example.org", 443), "root_path": "",
                   "http_version": "1.1", "asgi": {"version": "3.0"}}, receive, send)
    return statuses


def test_ten_thousand_clicks_in_a_second_from_one_address_are_all_redirected_stored_once_as_burst(
        tmp_path, smtp_server):
    settings, rt = sent(tmp_path, smtp_server)
    paths = [link.removeprefix(BASE) for link in counted_links(parts(smtp_server.messages[0])[0])[:3]]
    app = create_app(settings, rt.sessions, rt.transport_factory)
    with TestClient(app, base_url=BASE):
        statuses = asyncio.run(flood(app, [paths[i % 3] for i in range(10_000)]))
        clicks = clicks_of(app)
        assert len(clicks.tokens) == 3  # three links, however many requests
    assert statuses == [302] * 10_000
    with rt.sessions() as session:
        verdicts = dict(session.execute(select(Click.verdict, func.count()).group_by(Click.verdict)).all())
    assert verdicts == {"burst": 10_000} and clicks.recorder.written == 10_000 and clicks.recorder.lost == 0


def test_a_flood_the_writer_cannot_keep_up_with_is_still_redirected_in_bounded_memory(tmp_path, smtp_server):
    settings, rt = sent(tmp_path, smtp_server)
    path = counted_links(parts(smtp_server.messages[0])[0])[0].removeprefix(BASE)
    app = create_app(settings, rt.sessions, rt.transport_factory)
    with TestClient(app, base_url=BASE):
        recorder = clicks_of(app).recorder
        recorder.max_pending, recorder.flush_seconds = 2_000, 3600.0  # a writer that has fallen far behind
        forged = [f"/r/{link_token(click_key('not our secret'), 1, n % 50_000)}" for n in range(5_000)]
        assert set(asyncio.run(flood(app, forged))) == {404}
        assert asyncio.run(flood(app, [path] * 5_000)) == [302] * 5_000
        assert len(recorder.pending) <= 2_000 and len(clicks_of(app).tokens) == 1  # forged tokens kept nowhere
    assert recorder.written == 2_000 and recorder.lost == 3_000  # counted as lost (logged, /metrics), not queued


def test_replays_huge_query_strings_paths_and_headers(tmp_path, smtp_server, caplog):
    settings, rt = sent(tmp_path, smtp_server)
    link = counted_links(parts(smtp_server.messages[0])[0])[1]
    path = link.removeprefix(BASE)
    app = create_app(settings, rt.sessions, rt.transport_factory)
    with TestClient(app, base_url=BASE, follow_redirects=False, headers={"User-Agent": BROWSER}) as client:
        for _ in range(3):  # a reader's mail client opening the same link again: three requests, three rows
            assert client.get(link).headers["location"] == "https://wire.example.org/map"
        huge = client.get(f"{link}?u=https://evil.example/&{'x' * 60_000}")
        assert huge.status_code == 302 and huge.headers["location"] == "https://wire.example.org/map"
        assert client.get("/r/" + "A" * 60_000).status_code == 404
        assert client.get(f"{link}/{'A' * 1000}").status_code == 404
        assert client.get(link, headers={"User-Agent": "Mozilla/5.0 " + "x" * 200_000}).status_code == 302
        assert client.post(link).status_code == 405
        assert len(clicks_of(app).tokens) == 1
    with rt.sessions() as session:
        rows = session.scalars(select(Click.number)).all()
    assert rows == [2] * 5  # three replays, the huge query, the huge agent: each request once
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("203.0.113.9:5000", "GET", path, "1.1", 302), None)
    assert RedactTokens().filter(record) is False  # no access log line ties an address to a counted link


def test_a_feed_linking_to_our_own_counted_links_is_not_counted_twice(tmp_path, smtp_server):
    settings, rt = sent(tmp_path, smtp_server)
    ours = counted_links(parts(smtp_server.messages[0])[0])[0]
    (tmp_path / "wire.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example.org/</link>'
        f'<item><title>Readers loved the ferry story</title><link>{ours}</link><guid>loop-1</guid>'
        '<pubDate>Tue, 24 Nov 2026 09:00:00 GMT</pubDate><description>Our own link comes back through a feed. '
        'It should lead where it led before. Nobody should count it twice.</description></item>'
        f'<item><title>A forged counted link in a feed</title><link>{BASE}/r/{"A" * 22}</link><guid>loop-2</guid>'
        '<pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate><description>A made-up token points at our site. '
        'It must lead nowhere. The page says the link is not valid.</description></item></channel></rss>')
    smtp_server.messages.clear()
    again = run_cli("send", "daily", config=settings.config_path)
    assert again.returncode == 0 and "2 sent" in again.stdout, again.stderr
    body = parts(smtp_server.messages[0])[0]
    with rt.sessions() as session:
        second = session.scalars(select(ClickLink).where(ClickLink.issue_id == 2)).all()
    assert [row.kind for row in second] == ["canary", "open"]  # our /r/ links are never wrapped again
    assert ours in body and f"{BASE}/r/{'A' * 22}" in body
    with TestClient(create_app(settings, rt.sessions, rt.transport_factory), base_url=BASE,
                    follow_redirects=False, headers={"User-Agent": BROWSER}) as client:
        assert client.get(ours).headers["location"] == "https://wire.example.org/ferry?id=7"
        assert client.get(f"{BASE}/r/{'A' * 22}").status_code == 404
    with rt.sessions() as session:
        assert session.execute(select(Click.issue_id, Click.number)).all() == [(1, 1)]  # once, on issue 1
    assert SECRET

"""Fetching and parsing sources: formats, sanitizing, identity, first-run backlog, failures."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import DATA

from digest.settings import GatherSettings, SourceSettings
from digest.content import FeedEntry
from digest.errors import FeedError
from digest.net.fetch import Fetcher
from digest.net.policy import FetchPolicy
from digest.gather.feeds import canonical_url, html_to_text, parse_feed, select_first_run
from digest.gather.sources import Job, gather_source

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


def fetcher(*sources: str, timeout: float = 1.0, max_bytes: int = 10_000_000,
            user_agent: str = "digest-test") -> Fetcher:
    """A fetcher for which `sources` are configured sources (their origins trusted, as the pipeline does)."""
    return Fetcher(user_agent=user_agent, timeout=timeout, max_bytes=max_bytes, policy=FetchPolicy.create(sources))


def fetch_source(client: Fetcher, name: str, url: str, *, etag=None, modified=None, category="", fetch_url=""):
    """One source through the gatherer as the pipeline runs it (no stored entries, no page fetches)."""
    job = Job(SourceSettings(name, url, category=category), fetch_url=fetch_url, etag=etag, modified=modified)
    return gather_source(client, job, GatherSettings(), lambda uids: set(uids), NOW)


def fetch_file(name: str, **kwargs):
    with fetcher((DATA / name).as_uri()) as client:
        return fetch_source(client, name, (DATA / name).as_uri(), **kwargs)


def test_rss_entries_are_parsed_and_sanitized():
    result = fetch_file("wire.xml")
    assert result.error is None
    ferry, museum, storm = result.entries
    assert ferry.title == "Ferry service to Gull Island doubles in summer"
    assert ferry.link == "https://wire.example.org/ferry?id=7"  # utm_* dropped
    assert ferry.categories == ("Transport",)
    assert ferry.published == datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
    assert ferry.text.startswith("The ferry to Gull Island will sail twice an hour from June")
    assert "\n\nIsland shops had asked" in ferry.text  # paragraphs kept
    assert "alert" not in ferry.text and "tracker" not in ferry.text
    assert ferry.uid.startswith("guid:") and ferry.uid.endswith("#wire-ferry")


def test_atom_relative_links_and_summary_only_entries():
    result = fetch_file("desk.atom")
    cycle, bakery = result.entries
    assert cycle.link == "https://desk.example.org/cycle-lanes"
    assert cycle.text.startswith("Four kilometres of protected cycle lanes")
    assert bakery.text.startswith("A family bakery on Mill Street")
    assert bakery.categories == ()


def test_json_feed_and_entries_without_id_keyed_by_canonical_link():
    result = fetch_file("notes.json", category="Community")
    first, second = result.entries
    assert first.title == "Library extends weekend hours"
    assert first.categories == ("Libraries", "Community")
    assert "\n\nStaff said demand" in first.text
    assert second.uid == "link:https://notes.example.org/2"
    assert second.published == datetime(2026, 11, 23, 7, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("name, error", [
    ("broken.xml", "not a readable feed"),
    ("notafeed.txt", "not a readable feed"),
    ("missing.xml", "cannot read"),
])
def test_broken_sources_become_errors_not_exceptions(name, error):
    result = fetch_file(name)
    assert result.entries == () and error in result.error


def test_json_that_is_not_a_json_feed_is_an_error():
    with pytest.raises(Exception, match="not a JSON Feed"):
        parse_feed(b'{"hello": 1}', "x", "file:///x.json")


def test_http_conditional_get_redirect_timeout_and_size(feed_server):
    body = (DATA / "wire.xml").read_bytes()
    feed_server.routes["/feed"] = (200, {"ETag": '"abc"', "Last-Modified": "Tue, 24 Nov 2026 08:00:00 GMT"}, body)
    feed_server.routes["/moved"] = (301, {"Location": "/feed"}, b"")
    with fetcher(feed_server.url("/feed")) as client:
        first = fetch_source(client, "wire", feed_server.url("/feed"))
        assert len(first.entries) == 3 and first.etag == '"abc"'
        again = fetch_source(client, "wire", feed_server.url("/feed"), etag=first.etag, modified=first.modified)
        assert again.not_modified and again.entries == ()
        path, headers = feed_server.requests[-1]
        assert headers["If-None-Match"] == '"abc"' and headers["User-Agent"] == "digest-test"
        assert headers["If-Modified-Since"] == "Tue, 24 Nov 2026 08:00:00 GMT"

        moved = fetch_source(client, "wire", feed_server.url("/moved"))
        assert len(moved.entries) == 3 and moved.final_url == feed_server.url("/feed")
        assert moved.entries[0].source_url == feed_server.url("/moved")  # identity stays the configured URL
        assert moved.fetch_url == feed_server.url("/feed")  # a 301 is remembered for the next fetch

    with fetcher(feed_server.url("/feed"), max_bytes=100) as client:
        too_big = fetch_source(client, "wire", feed_server.url("/feed"))
        assert "larger than 100 bytes" in too_big.error
    with fetcher(feed_server.url("/feed")) as client:
        feed_server.delay = 1.5
        slow = fetch_source(client, "wire", feed_server.url("/feed"))
        assert "timed out" in slow.error


def test_connection_refused_is_an_error():
    with fetcher("http://127.0.0.1:9/feed.xml") as client:
        result = fetch_source(client, "dead", "http://127.0.0.1:9/feed.xml")
    assert result.error and "ConnectError" in result.error


def test_html_to_text_drops_hostile_markup():
    html = ('<p>Safe <b>text</b>.</p><script>steal()</script><iframe src="x"></iframe>'
            '<a href="javascript:alert(1)" onclick="x()">link</a><style>body{}</style>')
    assert html_to_text(html) == "Safe text.\n\nlink"


def test_canonical_url_drops_tracking_and_fragment():
    assert canonical_url("HTTPS://Ex.org/a?utm_source=x&b=1&fbclid=2#top") == "https://ex.org/a?b=1"


def _entry(uid: str, age_days: float | None, now: datetime) -> FeedEntry:
    published = None if age_days is None else now - timedelta(days=age_days)
    return FeedEntry(uid=uid, link="", title=uid, text="", source_name="s", source_url="u", published=published)


def test_first_run_takes_only_recent_and_newest_entries():
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    entries = [_entry(f"e{i}", i, now) for i in range(30)] + [_entry("undated", None, now)]
    # An undated entry among dated ones may be years old: never "new" on a first run.
    assert select_first_run(entries, now, max_items=5, max_age_days=7) == {"e0", "e1", "e2", "e3", "e4"}
    assert select_first_run(entries, now, max_items=100, max_age_days=7) == {f"e{i}" for i in range(8)}
    assert len(select_first_run(entries, now, max_items=100, max_age_days=0)) == 30
    # A source that dates nothing at all: its first entries in feed order.
    undated = [_entry(f"u{i}", None, now) for i in range(10)]
    assert select_first_run(undated, now, max_items=3, max_age_days=7) == {"u0", "u1", "u2"}


def test_feed_with_no_entries_yet_is_empty_not_an_error():
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>New blog</title></channel></rss>'
    assert parse_feed(empty, "x", "https://blog.example.org/feed") == ()  # no Content-Type header either
    assert parse_feed(b"<rss></rss>", "x", "file:///x.xml", "text/xml; charset=us-ascii") == ()


def test_html_page_is_not_a_feed():
    page = b"<html><head><title>Home</title></head><body><p>Welcome</p></body></html>"
    with pytest.raises(FeedError, match="not a (readable )?feed"):
        parse_feed(page, "x", "https://site.example.org/")
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(page, "x", "https://site.example.org/", "application/xhtml+xml")


def test_gzip_file_served_as_the_feed_is_unpacked():
    body = (DATA / "wire.xml").read_bytes()
    assert [e.title for e in parse_feed(gzip.compress(body), "w", "https://wire.example.org/feed.xml.gz")] == [
        e.title for e in parse_feed(body, "w", "https://wire.example.org/feed.xml")]
    with pytest.raises(FeedError, match="gzip"):
        parse_feed(gzip.compress(body)[:40], "w", "https://wire.example.org/feed.xml.gz")


def test_unparseable_dates_leave_the_entry_undated_without_warnings():
    rss = b'<rss version="2.0"><channel><item><title>t</title><pubDate>not a date</pubDate></item></channel></rss>'
    (entry,) = parse_feed(rss, "x", "https://x.example.org/feed")  # pytest turns warnings into errors
    assert entry.published is None and entry.uid.startswith("hash:")


def test_json_feed_with_wrongly_typed_fields_is_read_not_crashed():
    feed = {"version": "https://jsonfeed.org/version/1.1", "home_page_url": 7, "items": [
        {"id": 1, "title": {"x": 1}, "content_html": ["a"], "url": 5, "tags": "news", "authors": "bob",
         "date_published": 12345},
        {"id": "b", "title": "Kept", "url": "https://x.example.org/b", "summary": 7, "content_text": 3,
         "authors": [{"name": None}, {"name": "Ann"}, "Bob"], "tags": ["a", 1, " "], "date_published": "soon"},
        "not an item",
    ]}
    (entry,) = parse_feed(json.dumps(feed).encode(), "j", "file:///j.json")
    assert (entry.title, entry.author, entry.categories, entry.published) == ("Kept", "Ann", ("a",), None)
    for items in ("abc", {"a": 1}, None):
        assert parse_feed(json.dumps({**feed, "items": items}).encode(), "j", "file:///j.json") == ()
    with pytest.raises(FeedError, match="not a JSON Feed"):
        parse_feed(b"[1, 2]", "j", "file:///j.json")
    bom = b"\xef\xbb\xbf" + json.dumps({**feed, "items": [{"title": "BOM"}]}).encode()
    assert parse_feed(bom, "j", "file:///j.json")[0].title == "BOM"


def test_read_page_reports_the_canonical_link_without_tracking():
    from digest.gather.pages import read_page

    page = read_page(b'<html><head><link rel="Canonical" href="/story/42?utm_source=x&id=1"></head>'
                     b'<body><p>Text</p></body></html>', "https://news.example.org/amp/42")
    assert page.canonical == "https://news.example.org/story/42?id=1"
    assert read_page(b"<html><body><p>No canonical</p></body></html>", "https://x.example/a").canonical == ""

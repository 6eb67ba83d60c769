"""Gathering as the pipeline runs it, against a real HTTP server on 127.0.0.1.

Concurrency and politeness (a slow source, the per-host limit, the minimum
interval, conditional GET, permanent redirects, size caps), the html source
kind, feed autodiscovery, full text for teasers, and lead images. No timed
pass/fail thresholds: ordering and counts come from the server's own log.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import SECRET, write_config
from sqlalchemy import select

from digest import store
from digest.flows import drafting, gathering
from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.gather.feeds import parse_feed
from digest.gather.pages import read_page
from digest.models import Article, SourceState
from subscribers.db import utcnow

PARAGRAPH = ("The harbour board met on Tuesday evening to settle the future of the old pier, which has stood "
             "since 1898 and now needs repairs that would cost more than the town spends on roads in a year. ")
SIGNUP = ('<div class="newsletter"><p>Enter your email to subscribe</p><form><input name="email">'
          '<button>Subscribe</button></form><p>* indicates required</p></div>')


def article_page(title: str, body: str = PARAGRAPH, image: str = "/img/pier.jpg") -> bytes:
    paragraphs = "".join(f"<p>{body} Paragraph {i} adds detail about the {title.lower()}.</p>" for i in range(6))
    return (f'<!DOCTYPE html><html><head><title>{title} | Riverton Ledger</title>'
            f'<meta property="og:title" content="{title}"><meta property="og:image" content="{image}">'
            f'<meta property="og:image:alt" content="The pier at dusk">'
            f'<meta property="article:published_time" content="2026-11-24T09:00:00Z"></head>'
            f'<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>{paragraphs}{SIGNUP}</article>'
            f'<aside><h2>More news</h2><a href="/news/2026/other">Other</a></aside></body></html>').encode()


def rss(*items: tuple[str, str, str], extra: str = "") -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid><description>{d}</description>"
                   f"{extra}</item>" for t, link, d in items)
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
            f"<title>Desk</title>{body}</channel></rss>").encode()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict | None = None
    delay: float = 0.0
    length: bool = True  # send Content-Length (else the body ends when the connection closes)


class Server:
    """routes: path -> Route; log: (path, headers, started, finished); tracks the most requests at once."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict, float, float]] = []
        self.active = self.most_active = 0
        lock, server = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                started = time.monotonic()
                with lock:
                    server.active += 1
                    server.most_active = max(server.most_active, server.active)
                route = server.routes.get(self.path, Route(b"not found", 404))
                try:
                    time.sleep(route.delay)
                    headers = {"Content-Type": "application/rss+xml", **(route.headers or {})}
                    status, body = route.status, route.body
                    if headers.get("ETag") and self.headers.get("If-None-Match") == headers["ETag"]:
                        status, body = 304, b""
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if route.length:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a size cap): that is the point
                finally:
                    with lock:
                        server.active -= 1
                    server.log.append((self.path, dict(self.headers), started, time.monotonic()))

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def paths(self) -> list[str]:
        return [entry[0] for entry in self.log]


@pytest.fixture
def server():
    s = Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def make_runtime(tmp_path, sources: str, gather: str = ""):
    config = write_config(tmp_path, transport="file", sources=sources, gather=gather)
    if "timeout" in gather:  # write_config sets its own gather.timeout
        config.write_text(config.read_text().replace("timeout = 2.0\n", "", 1))
    return Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET}))


def source(name: str, url: str, **options) -> str:
    lines = [f'[[newsletters.sources]]\nname = "{name}"\nurl = "{url}"']
    lines += [f"{key} = {value!r}".replace("True", "true").replace("False", "false") if not isinstance(value, str)
              else f"{key} = '{value}'" for key, value in options.items()]
    return "\n".join(lines) + "\n\n"


def articles(rt) -> list[Article]:
    with rt.sessions() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def state(rt, url: str) -> SourceState:
    with rt.sessions() as session:
        return store.source_state(session, url)


def test_a_slow_source_does_not_hold_up_the_others(tmp_path, server):
    server.routes["/slow.xml"] = Route(rss(("Slow story", "https://s.example.org/1", "Slow.")), delay=2.0)
    server.routes["/fast.xml"] = Route(rss(("Fast story", "https://f.example.org/1", "Fast.")))
    rt = make_runtime(tmp_path, source("Slow", server.url("/slow.xml")) + source("Fast", server.url("/fast.xml")),
                      gather="timeout = 5.0")
    results = gathering.gather_all(rt)
    assert [r.source_name for r in results] == ["Slow", "Fast"]  # config order, whatever finished first
    assert all(r.error is None and len(r.entries) == 1 for r in results)
    log = {path: (started, finished) for path, _headers, started, finished in server.log}
    assert log["/fast.xml"][1] < log["/slow.xml"][1]  # the fast one was done first...
    assert log["/fast.xml"][0] < log["/slow.xml"][1]  # ...because it was asked while the slow one was pending


def test_per_host_limit_and_user_agent(tmp_path, server):
    for i in range(6):
        server.routes[f"/f{i}.xml"] = Route(rss((f"Story {i}", f"https://x.example.org/{i}", "Text.")), delay=0.3)
    rt = make_runtime(tmp_path, "".join(source(f"S{i}", server.url(f"/f{i}.xml")) for i in range(6)),
                      gather='max_concurrency = 6\nper_host_concurrency = 2\nuser_agent = "digest-test/1 (ops@x)"')
    assert all(r.error is None for r in gathering.gather_all(rt))
    assert server.most_active == 2
    assert {headers["User-Agent"] for _path, headers, *_ in server.log} == {"digest-test/1 (ops@x)"}


def test_min_interval_conditional_get_and_304(tmp_path, server):
    server.routes["/feed.xml"] = Route(rss(("One", "https://x.example.org/1", "Text.")), headers={"ETag": '"v1"'})
    rt = make_runtime(tmp_path, source("Desk", server.url("/feed.xml"), min_interval_minutes=30.0))
    start = utcnow()
    rt = replace(rt, now=lambda: start)
    (first,) = gathering.gather_all(rt)
    assert len(first.entries) == 1 and len(articles(rt)) == 1

    rt = replace(rt, now=lambda: start + timedelta(minutes=10))
    (skipped,) = gathering.gather_all(rt)
    assert skipped.not_modified and server.paths() == ["/feed.xml"]  # not asked again within 30 minutes

    rt = replace(rt, now=lambda: start + timedelta(minutes=31))
    (again,) = gathering.gather_all(rt)
    assert again.not_modified and again.error is None and server.paths() == ["/feed.xml", "/feed.xml"]
    assert server.log[-1][1]["If-None-Match"] == '"v1"'
    assert len(articles(rt)) == 1 and state(rt, server.url("/feed.xml")).last_fetched_at == start + timedelta(
        minutes=31)


def test_permanent_redirect_is_remembered_but_identity_stays(tmp_path, server):
    server.routes["/old.xml"] = Route(status=301, headers={"Location": "/new.xml"})
    server.routes["/temp.xml"] = Route(status=302, headers={"Location": "/new.xml"})
    server.routes["/new.xml"] = Route(rss(("Moved story", "https://x.example.org/m", "Text.")))
    old, temp = server.url("/old.xml"), server.url("/temp.xml")
    rt = make_runtime(tmp_path, source("Old", old) + source("Temp", temp))
    gathering.gather_all(rt)
    assert state(rt, old).fetch_url == server.url("/new.xml")
    assert state(rt, temp).fetch_url is None  # a 302 is temporary: keep asking the configured URL
    with rt.sessions() as session:  # newsletters still find the articles by the configured URL
        assert [a.title for a in store.unsent_articles(session, "daily", [old])] == ["Moved story"]

    server.log.clear()
    gathering.gather_all(rt)
    assert sorted(server.paths()) == ["/new.xml", "/new.xml", "/temp.xml"]  # /old.xml is not asked again

    server.routes["/new.xml"] = Route(b"gone", 410)
    (broken, _temp) = gathering.gather_all(rt)
    assert "410" in broken.error and state(rt, old).fetch_url is None  # gone: back to the configured URL


def test_oversized_bodies_are_refused_with_or_without_content_length(tmp_path, server):
    big = rss(*[(f"Story {i}", f"https://x.example.org/{i}", "Words " * 50) for i in range(20)])
    server.routes["/big.xml"] = Route(big)
    server.routes["/big-stream.xml"] = Route(big, length=False)
    server.routes["/small.xml"] = Route(rss(("Small", "https://x.example.org/s", "Text.")))
    rt = make_runtime(tmp_path, source("Big", server.url("/big.xml")) + source("Stream", server.url(
        "/big-stream.xml")) + source("Small", server.url("/small.xml")), gather="max_bytes = 2000")
    big_result, stream_result, small = gathering.gather_all(rt)
    assert "larger than 2000 bytes" in big_result.error and "larger than 2000 bytes" in stream_result.error
    assert small.error is None and [a.title for a in articles(rt)] == ["Small"]


def test_html_source_fetches_matching_links_bounded(tmp_path, server):
    listing = (b'<html><body><a href="/news/2026/pier">Pier</a> <a href="/news/2026/pier?utm_source=x">again</a>'
               b'<a href="/about">About</a><a href="javascript:alert(1)">x</a>'
               b'<a href="/news/2026/ferry#comments">Ferry</a></body></html>')
    server.routes["/news/"] = Route(listing, headers={"Content-Type": "text/html", "ETag": '"l1"'})
    server.routes["/news/2026/pier"] = Route(article_page("Pier to be rebuilt"), headers={"Content-Type": "text/html"})
    server.routes["/news/2026/ferry"] = Route(article_page("Ferry timetable", image="data:image/png;base64,xx"),
                                              headers={"Content-Type": "text/html; charset=utf-8"})
    rt = make_runtime(tmp_path, source("Ledger", server.url("/news/"), kind="html", link_pattern=r"/news/\d{4}/"),
                      gather="max_pages_per_source = 1")
    (first,) = gathering.gather_all(rt)
    (pier,) = first.entries
    assert (pier.title, pier.link) == ("Pier to be rebuilt", server.url("/news/2026/pier"))
    assert pier.text.startswith("The harbour board met") and len(pier.text.split()) > 100
    for furniture in ("Enter your email to subscribe", "Subscribe", "* indicates required", "More news"):
        assert furniture not in pier.text
    assert (pier.image_url, pier.image_alt) == (server.url("/img/pier.jpg"), "The pier at dusk")
    assert pier.published.isoformat() == "2026-11-24T09:00:00+00:00"
    assert "/about" not in server.paths() and first.etag is None  # a link was left for later: no 304 next time

    (second,) = gathering.gather_all(rt)
    (ferry,) = second.entries  # the pier is stored: only the link left over is fetched
    assert ferry.title == "Ferry timetable" and ferry.image_url == ""  # a data: og:image is no image
    assert server.paths().count("/news/2026/pier") == 1 and second.etag == '"l1"'
    assert [a.source_url for a in articles(rt)] == [server.url("/news/")] * 2


def test_feed_autodiscovery_from_a_homepage(tmp_path, server):
    server.routes["/"] = Route(b'<html><head><link rel="alternate" type="application/rss+xml" title="RSS" '
                               b'href="/feeds/all.xml"></head><body><p>Welcome</p></body></html>',
                               headers={"Content-Type": "text/html"})
    server.routes["/feeds/all.xml"] = Route(rss(("Found it", "https://x.example.org/f", "Text.")))
    home = server.url("/")
    rt = make_runtime(tmp_path, source("Home", home))
    (result,) = gathering.gather_all(rt)
    assert [e.title for e in result.entries] == ["Found it"] and result.entries[0].source_url == home
    assert state(rt, home).fetch_url == server.url("/feeds/all.xml")
    server.log.clear()
    gathering.gather_all(rt)
    assert server.paths() == ["/feeds/all.xml"]  # straight to the feed next time


def test_teasers_get_the_full_text_once(tmp_path, server):
    long_text = "A complete entry. " + "It has many words in it. " * 15
    server.routes["/feed.xml"] = Route(rss(("Pier plan for spring", server.url("/story"), "The board met. Read on..."),
                                           ("Long", server.url("/long"), long_text)))
    server.routes["/story"] = Route(article_page("Pier plan for spring"), headers={"Content-Type": "text/html"})
    rt = make_runtime(tmp_path, source("Desk", server.url("/feed.xml")), gather="max_pages_per_source = 20")
    gathering.gather_all(rt)
    pier, long = articles(rt)
    assert pier.text.startswith("The harbour board met") and "Enter your email" not in pier.text
    assert pier.image_url == server.url("/img/pier.jpg") and pier.image_alt == "The pier at dusk"
    assert long.text.startswith("A complete entry.") and "/long" not in server.paths()  # not a teaser
    gathering.gather_all(rt)
    assert server.paths().count("/story") == 1  # stored entries never have their page fetched again


def test_full_text_option_fetches_every_new_entry(tmp_path, server):
    server.routes["/feed.xml"] = Route(rss(("Pier plan for spring", server.url("/story"), "Short but " + "long " * 70)))
    server.routes["/story"] = Route(article_page("Pier plan for spring"), headers={"Content-Type": "text/html"})
    rt = make_runtime(tmp_path, source("Desk", server.url("/feed.xml"), full_text=True),
                      gather="max_pages_per_source = 20")
    gathering.gather_all(rt)
    assert articles(rt)[0].text.startswith("The harbour board met")


def test_lead_image_choice_and_sanitizing():
    media = ('<media:content url="javascript:alert(1)" medium="image"/>'
             '<media:content url="https://img.example.org/pixel.gif" medium="image"/>'
             '<media:thumbnail url="https://img.example.org/t.gif" width="1" height="1"/>'
             '<media:content url="https://img.example.org/clip.mp4" medium="video"/>'
             '<media:content url="/lead.jpg" medium="image" width="800" height="450"/>')
    (entry,) = parse_feed(rss(("Pier", "https://x.example.org/p", "Text."), extra=media), "d",
                          "https://x.example.org/feed.xml")
    # The alt text never just repeats the headline beside the image (issue 13 item 4).
    assert (entry.image_url, entry.image_alt, entry.image_width) == ("https://x.example.org/lead.jpg", "", 800)

    enclosure = '<enclosure url="https://img.example.org/e.jpg" type="image/jpeg" length="1"/>'
    (entry,) = parse_feed(rss(("E", "https://x.example.org/e", "Text."), extra=enclosure), "d", "https://x.org/f")
    assert entry.image_url == "https://img.example.org/e.jpg"

    inline = ('&lt;p&gt;Text&lt;img src="data:image/png;base64,AAAA" alt="x"&gt;'
              '&lt;img src="https://t.example.org/o.gif" width="1" height="1" alt=""&gt;'
              '&lt;img src="https://img.example.org/quay.jpg" alt="The quay" onerror="steal()"&gt;&lt;/p&gt;')
    (entry,) = parse_feed(rss(("Q", "https://x.example.org/q", inline)), "d", "https://x.org/f")
    assert (entry.image_url, entry.image_alt) == ("https://img.example.org/quay.jpg", "The quay")
    assert "steal" not in entry.text

    (entry,) = parse_feed(rss(("None", "https://x.example.org/n", "&lt;img src='javascript:x()'&gt;Text")), "d",
                          "https://x.org/f")
    assert entry.image_url == "" and entry.image_alt == ""

    page = read_page(b'<html><head><meta property="og:image" content="javascript:alert(1)">'
                     b'<meta name="twitter:image" content="https://img.example.org/tw.jpg"></head></html>',
                     "https://x.example.org/a")
    assert page.image_url == ""  # the first declared image is bad: no guessing past it
    page = read_page(b'<html><head><meta property="og:image" content="https://img.example.org/1x1.png">'
                     b'</head></html>', "https://x.example.org/a")
    assert page.image_url == ""


def test_lead_image_reaches_the_rendered_issue(tmp_path, server):
    server.routes["/feed.xml"] = Route(rss(("Pier plan", "https://x.example.org/p", "The board met. " * 40),
                                           extra='<media:content url="https://img.example.org/p.jpg" '
                                                 'medium="image"/>'))
    rt = make_runtime(tmp_path, source("Desk", server.url("/feed.xml")))
    draft, rendered = drafting.preview(rt, "daily")
    assert draft.items[0].image_url == "https://img.example.org/p.jpg"
    # Width unknown: the column's width; alt empty, since the headline beside it already says it.
    assert 'src="https://img.example.org/p.jpg" alt="" width="552"' in rendered.html
    assert "img.example.org" not in rendered.text


@pytest.mark.parametrize("renditions, chosen, shown", [
    # media:content in three widths: the smallest that fills the column, never the thumbnail.
    ('<media:content url="https://i.example.org/a-140.jpg" medium="image" width="140"/>'
     '<media:content url="https://i.example.org/a-1200.jpg" medium="image" width="1200"/>'
     '<media:content url="https://i.example.org/a-640.jpg" medium="image" width="640"/>',
     "https://i.example.org/a-640.jpg", 'width="552"'),
    # Widths written into the URLs only (?w=, _WxH): the same choice.
    ('<media:content url="https://i.example.org/b.jpg?w=140" medium="image"/>'
     '<media:content url="https://i.example.org/b_142x100.jpg" medium="image"/>'
     '<media:content url="https://i.example.org/b.jpg?w=800" medium="image"/>',
     "https://i.example.org/b.jpg?w=800", 'width="552"'),
    # Only a 400 px one: shown at its own width, not stretched to 552.
    ('<media:content url="https://i.example.org/c-400x300.jpg" medium="image"/>',
     "https://i.example.org/c-400x300.jpg", 'width="400" style="display:block; width:100%; max-width:400px'),
    # Only a thumbnail: too small to help, so no image at all.
    ('<media:content url="https://i.example.org/d.jpg" medium="image" width="140"/>',
     "https://i.example.org/d.jpg", None),
])
def test_the_best_rendition_leads_and_nothing_is_upscaled(tmp_path, server, renditions, chosen, shown):
    server.routes["/feed.xml"] = Route(rss(("Harbour", "https://x.example.org/h", "The board met. " * 40),
                                           extra=renditions))
    rt = make_runtime(tmp_path, source("Desk", server.url("/feed.xml")))
    draft, rendered = drafting.preview(rt, "daily")
    assert draft.items[0].image_url == chosen
    if shown is None:
        assert "<img" not in rendered.html.split("<body", 1)[1] or chosen not in rendered.html
    else:
        assert f'src="{chosen.replace("&", "&amp;")}" alt="" {shown}' in rendered.html, re.findall("<img[^>]*>", rendered.html)


def test_a_fetched_page_gives_the_story_its_canonical_link():
    from digest.content import FeedEntry
    from digest.gather.pages import Page
    from digest.gather.sources import _enrich

    entry = FeedEntry(uid="guid:u#1", link="https://feeds.example.org/r/1?utm_source=rss", title="T",
                      text="Short teaser.", source_name="S", source_url="u")
    enriched = _enrich(entry, ("A much longer main text of the article page. " * 5,
                               Page(canonical="https://news.example.org/story/1")))
    assert enriched.link == "https://news.example.org/story/1" and enriched.uid == entry.uid
    assert enriched.text.startswith("A much longer main text")

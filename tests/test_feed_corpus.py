"""Robustness on ~2,200 third-party feed files (feedparser's, rss-parser's and node-feedparser's test feeds).

The corpus lives outside the repo in ../shared/evaldata/feeds (see its README.md and
load_feeds.py); nothing from it is copied here. Every file must give entries or a
FeedError that names the source; files upstream calls well-formed must give every
entry that has some text, counted independently with the standard library.
"""

from __future__ import annotations

import gzip
import json
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from digest.errors import FeedError
from digest.gather.feeds import parse_feed

EVALDATA = Path(__file__).parents[2] / "shared" / "evaldata"
if not (EVALDATA / "load_feeds.py").exists():
    pytest.skip(f"feed corpus not found: {EVALDATA} (../shared/evaldata next to the repo) is absent",
                allow_module_level=True)
sys.path.insert(0, str(EVALDATA))
import load_feeds  # noqa: E402 - lives in the shared folder, found only at run time

FEEDS = list(load_feeds.iter_feeds())

# Well-formed files whose entry text our sanitizer and the stdlib count judge differently, on purpose:
KNOWN_DIFFERENT = {
    # content is only inline MathML/SVG markup; nh3 drops those elements, so the entry has no text
    "feedparser/wellformed/namespace/atommathml.xml",
    "feedparser/wellformed/namespace/atomsvgdesc.xml",
    "feedparser/wellformed/namespace/atomsvgtitle.xml",
    "feedparser/wellformed/namespace/rss2.0mathml.xml",
    "feedparser/wellformed/namespace/rss2.0svgtitle.xml",
    # the only "text" is a stray "<!DOCTYPE" / "<!'": HTML parsers disagree on whether that is text
    "feedparser/wellformed/rss/item_description_not_a_doctype.xml",
    "feedparser/wellformed/rss/item_description_not_a_doctype2.xml",
    # <category> holding an <image> block: our count sees the image's <title> as the item's own
    "feedparser/wellformed/rss/item_category_image.xml",
}
# These tests check that the parser reads every entry; the gatherer keeps only the newest gather.max_entries.
EVERY = 1_000_000
ENTRY_TAGS = {"item", "entry"}
TEXT_TAGS = {"title", "description", "summary", "content", "encoded", "abstract", "fullitem", "body"}


def source_url(feed_id: str) -> str:
    return f"https://feeds.example.org/{feed_id}"


def parse(feed_id: str, path: str, info: dict):
    content_type = (info.get("headers") or {}).get("Content-type", "")
    return parse_feed(Path(path).read_bytes(), feed_id, source_url(feed_id), content_type, max_entries=EVERY)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style") and self.hidden > 0

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def _has_text(element: ET.Element) -> bool:
    markup = ET.tostring(element, encoding="unicode", method="html") if len(element) else element.text or ""
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    return bool("".join(parser.parts).strip())


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def stdlib_entry_count(path: str) -> int | None:
    """Entries (item/entry elements with a non-empty title or body) per xml.etree; None if it rejects the file."""
    raw = Path(path).read_bytes()
    try:
        root = ET.fromstring(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (ET.ParseError, ValueError, LookupError, OSError):
        return None
    return sum(1 for el in root.iter() if _local(el.tag) in ENTRY_TAGS
               and any(_local(child.tag) in TEXT_TAGS and _has_text(child) for child in el))


def test_every_feed_file_gives_entries_or_a_clear_feed_error():
    assert len(FEEDS) > 2000
    crashed, unclear, wellformed_rejected = [], [], []
    outcome = {"entries": 0, "no entries": 0, "FeedError": 0}
    for feed_id, path, info in FEEDS:
        try:
            entries = parse(feed_id, path, info)
        except FeedError as exc:
            outcome["FeedError"] += 1
            message = str(exc)
            if not message.startswith(source_url(feed_id) + ": ") or len(message) < len(source_url(feed_id)) + 12:
                unclear.append((feed_id, message))
            if info["expect_bozo"] is False:
                wellformed_rejected.append((feed_id, message))
            continue
        except Exception as exc:  # noqa: BLE001 - the point of this test is that nothing else escapes
            crashed.append((feed_id, f"{exc.__class__.__name__}: {exc}"))
            continue
        outcome["entries" if entries else "no entries"] += 1
        assert all(e.title or e.text for e in entries), feed_id
        assert all(e.link == "" or e.link.startswith(("http://", "https://")) for e in entries), feed_id
    print(f"{len(FEEDS)} feed files: {outcome}")
    assert not crashed, crashed[:20]
    assert not unclear, unclear[:20]
    assert not wellformed_rejected, wellformed_rejected[:20]


def test_wellformed_files_yield_every_entry_with_text():
    wrong, checked = [], 0
    for feed_id, path, info in FEEDS:
        if info["expect_bozo"] is True or feed_id in KNOWN_DIFFERENT:
            continue
        expected = stdlib_entry_count(path)
        if expected is None:
            continue
        checked += 1
        try:
            got = len(parse(feed_id, path, info))
        except FeedError as exc:
            got = f"FeedError: {exc}"
        if got != expected:
            wrong.append((feed_id, expected, got))
    assert checked > 1800
    assert not wrong, wrong[:20]


def test_real_world_feeds_give_as_many_items_as_rss_parser():
    checked = 0
    for feed_id, path, info in FEEDS:
        if not info.get("expected_json"):
            continue
        reference = json.loads(Path(info["expected_json"]).read_bytes().decode("utf-8", "replace"))["feed"]["items"]
        with_text = [i for i in reference if i.get("title") or i.get("content") or i.get("contentSnippet")]
        assert len(parse(feed_id, path, info)) == len(with_text), feed_id
        checked += 1
    assert checked >= 25


def _node(name: str):
    feed_id = f"node_feedparser/{name}"
    path = EVALDATA / "feeds" / feed_id
    return parse_feed(path.read_bytes(), name, source_url(feed_id), max_entries=EVERY)


def test_broken_real_world_feeds():
    with pytest.raises(FeedError, match="not a readable feed"):
        _node("notafeed.html")
    assert [e.title for e in _node("saxerror.xml")] == ["Good Item", "Bad Item", "Item After Error"]
    assert len(_node("illegally-nested.xml")) == 10
    assert _node("invalid-characters-gzipped.xml")  # a gzip file served as the feed is unpacked
    assert [e.title for e in _node("compressed.xml")] == [e.title for e in _node("iconv.xml")]
    assert any("Бузулук" in e.title for e in _node("iconv.xml"))  # windows-1251 decoded


def test_latin1_feed_is_decoded_without_mojibake():
    feed_id = "rss_parser/input/uolNoticias.rss"
    entries = parse_feed((EVALDATA / "feeds" / feed_id).read_bytes(), "uol", source_url(feed_id))
    titles = " ".join(e.title for e in entries)
    assert "ç" in titles or "ã" in titles
    assert "Ã" not in titles

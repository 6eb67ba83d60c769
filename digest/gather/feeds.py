"""Bytes -> FeedEntry tuples and page facts: parse, sanitize, pick the lead image.

Pure functions: no network, no database. digest.net.fetch does the HTTP and
digest.gather.sources decides what to fetch; this module only reads what came back.
A feed that cannot be read raises FeedError, which the caller turns into a
per-source error.

Feed content is untrusted: every piece of HTML goes through nh3 and is turned
into plain text before anything else sees it, and the only URLs kept (links,
images) are http(s) ones; 1x1 tracking pixels are never taken for a lead image.
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import html as html_lib
import json
import re
import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import lxml.etree
import lxml.html
import nh3

from digest.content import FeedEntry
from digest.errors import FeedError
from digest.gather.dates import parse_date
from digest.gather.extract import extract_text
from digest.gather.images import alt_text, best_rendition, image_url, rendition_width

__all__ = ["canonical_url", "extract_text", "html_to_text", "image_url", "parse_feed",
           "select_first_run"]

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.IGNORECASE)
# The start of an RSS item or Atom entry (any namespace prefix), to cut a huge feed before parsing.
_ENTRY_START = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s>/]")
# Openings and closings are found once each and paired by position: a regex with .*? rescans to the end
# of the document from every opening, and a feed of unclosed ones took 5.8 s for 160 KB (quadratic).
_MEDIA_DESCRIPTION_OPEN = re.compile(rb"<media:description\b[^>]{0,500}>")
_MEDIA_DESCRIPTION_CLOSE = b"</media:description>"
_CAPTION_MAX = 4000
DEFAULT_MAX_ENTRIES = 500
DEFAULT_MAX_BYTES = 10_000_000
feedparser.registerDateHandler(parse_date)  # localized month names, RSS 0.92 forms: tried before its own
BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "section"}


def parse_feed(
    data: bytes, name: str, url: str, content_type: str = "", *, base_url: str | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[FeedEntry, ...]:
    """RSS, Atom (feedparser) or JSON Feed; raises FeedError when nothing usable is there.

    `url` is the configured source (it namespaces GUIDs, so a redirect never
    re-keys stored articles); `base_url` is where the bytes came from, for
    relative links. At most `max_entries` come back, the newest.
    """
    base_url = base_url or url
    data = _gunzip(data, url, max_bytes)
    if "json" in content_type or data.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"["):
        return newest(_parse_json_feed(data, name, url, base_url), max_entries)
    data = _fewer_entries(data, max_entries)
    # An empty Content-Type would make feedparser call every feed "not an XML media type".
    headers = {"content-type": content_type} if content_type else {}
    if not base_url.startswith("file:"):
        headers["content-location"] = base_url
    parsed = feedparser.parse(data, response_headers=headers)
    # feedparser names no version for CDF; an HTML page parses to a lone feed "summary" (its body text).
    looks_like_feed = bool(parsed.get("version") or set(parsed.feed) - {"summary", "summary_detail"})
    # A wrong or missing charset / Content-Type is worth a bozo flag to feedparser, not a rejection to us.
    soft = isinstance(parsed.get("bozo_exception"),
                      (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType))
    if parsed.bozo and not parsed.entries and not (soft and looks_like_feed):
        reason = parsed.get("bozo_exception", "not a feed")
        raise FeedError(f"{url}: not a readable feed: {reason}")
    if not parsed.entries and not looks_like_feed:
        raise FeedError(f"{url}: not a feed (no RSS, Atom, RDF or CDF channel and no entries)")
    # From here on it is a feed; one with no entries yet (a new blog, an empty channel) gives ().
    if base_url.startswith("file:"):
        # A local copy of a feed: relative links belong to the site the feed names.
        base_url = parsed.feed.get("link") or ""
    captions = _captions(data) if b"description" in data else frozenset()
    return newest(tuple(entry for raw in parsed.entries
                        if (entry := _from_feedparser(raw, name, url, base_url, captions))), max_entries)


def newest(entries: tuple[FeedEntry, ...], limit: int) -> tuple[FeedEntry, ...]:
    """The `limit` newest entries in feed order; undated ones count by their place in the feed."""
    if len(entries) <= limit:
        return entries
    far_past = datetime.min.replace(tzinfo=timezone.utc)
    ranked = sorted(range(len(entries)), key=lambda i: (entries[i].published or far_past, -i), reverse=True)
    keep = set(ranked[:limit])
    return tuple(entry for i, entry in enumerate(entries) if i in keep)


def _fewer_entries(data: bytes, limit: int) -> bytes:
    """A feed of very many entries cut to its first and last `limit` before parsing.

    feedparser holds every entry in memory (10 MB of small items: 200 MB and
    12 s), while a digest wants only the newest few. Feeds list newest first,
    a few oldest first, so both ends are kept and `newest` chooses by date.
    Items are siblings, so the cut leaves well-formed XML.
    """
    starts = [m.start() for m in _ENTRY_START.finditer(data)]
    if len(starts) <= 2 * limit:
        return data
    return data[:starts[limit]] + data[starts[-limit]:]


def _gunzip(data: bytes, url: str, max_bytes: int) -> bytes:
    """A .gz file served as the feed itself (no Content-Encoding): unpack it, within a size limit."""
    if data[:2] != b"\x1f\x8b":
        return data
    unpacker = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        unpacked = unpacker.decompress(data, max_bytes)
    except zlib.error as exc:
        raise FeedError(f"{url}: gzip data that does not unpack: {exc}") from exc
    if unpacker.unconsumed_tail:
        raise FeedError(f"{url}: gzip data unpacks to more than {max_bytes} bytes")
    if not unpacker.eof:
        raise FeedError(f"{url}: gzip data is truncated")
    return unpacked


def _captions(data: bytes) -> frozenset[str]:
    """The texts of every media:description in the document (up to _CAPTION_MAX bytes), as _squeeze leaves them."""
    closings, at = [], data.find(_MEDIA_DESCRIPTION_CLOSE)
    while at != -1:
        closings.append(at)
        at = data.find(_MEDIA_DESCRIPTION_CLOSE, at + 1)
    found = set()
    for opening in _MEDIA_DESCRIPTION_OPEN.finditer(data):
        index = bisect.bisect_left(closings, opening.end())
        if index < len(closings) and closings[index] - opening.end() <= _CAPTION_MAX:
            raw = data[opening.end():closings[index]].decode("utf-8", "replace")
            found.add(_squeeze(html_lib.unescape(raw.replace("<![CDATA[", "").replace("]]>", ""))))
    return frozenset(found)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _from_feedparser(raw, name: str, url: str, base_url: str, captions: frozenset[str] = frozenset()
                     ) -> FeedEntry | None:
    link = urljoin(base_url, raw.get("link", "")) if raw.get("link") else ""
    if not link.startswith(("http://", "https://")):
        link = ""  # javascript:, data:, file: or unresolvable: not a link we put in an email
    # feedparser files media:description (a photo caption) under content or summary, whichever
    # it meets first: the item's own text is whatever is not a caption.
    texts = [c.get("value", "") for c in raw.get("content", [])] + [raw.get("summary", "")]
    own = [t for t in texts if t and _squeeze(t) not in captions]
    html = max(own or texts, key=len)
    # dict.get: FeedParserDict.get("updated_parsed") falls back to published_parsed with a DeprecationWarning.
    struct = dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(struct), timezone.utc) if struct else None
    categories = tuple(t.get("term", "").strip() for t in raw.get("tags", []) if t.get("term", "").strip())
    return _make_entry(name, url, raw.get("id", ""), link, raw.get("title", ""), html, published,
                       categories, raw.get("author", ""), _feed_image(raw, html, base_url))


def _feed_image(raw, html: str, base_url: str) -> tuple[str, int, str]:
    """(url, width or 0, alt) of the entry's lead image, the best rendition (images.best_rendition) among
    media:content, media:thumbnail, image enclosures and the <img>s of its text."""
    candidates = [(m.get("url", ""), m.get("width"), m.get("height"), "") for m in raw.get("media_content", [])
                  if m.get("medium", "image") == "image" and "image" in (m.get("type") or "image/")]
    candidates += [(m.get("url", ""), m.get("width"), m.get("height"), "") for m in raw.get("media_thumbnail", [])]
    candidates += [(ln.get("href", ""), None, None, "") for ln in raw.get("links", [])
                   if ln.get("rel") == "enclosure" and (ln.get("type") or "").startswith("image/")]
    if "<img" in html:
        clean = nh3.clean(html, tags={"img"}, attributes={"img": {"src", "alt", "width", "height"}})
        candidates += [(img.get("src", ""), img.get("width"), img.get("height"), img.get("alt", ""))
                       for img in lxml.html.fragment_fromstring(clean, create_parent="div").iter("img")]
    usable = [(url, rendition_width(url, width), alt) for src, width, height, alt in candidates
              if (url := image_url(src, base_url, width, height))]
    return best_rendition(usable)


def _parse_json_feed(data: bytes, name: str, url: str, base_url: str) -> tuple[FeedEntry, ...]:
    try:
        feed = json.loads(data)  # bytes: json detects UTF-8/16/32 and skips a BOM
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FeedError(f"{url}: not valid JSON: {exc}") from exc
    if not isinstance(feed, dict) or not _str(feed.get("version")).startswith("https://jsonfeed.org/version/"):
        raise FeedError(f"{url}: JSON but not a JSON Feed (no jsonfeed.org version)")
    if base_url.startswith("file:"):
        base_url = _str(feed.get("home_page_url"))
    items = feed.get("items")
    entries = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = urljoin(base_url, _str(item.get("url")) or _str(item.get("external_url")))
        if not link.startswith(("http://", "https://")):
            link = ""
        html = _str(item.get("content_html"))
        if not html and _str(item.get("content_text")):
            html = "".join(f"<p>{_escape(p)}</p>" for p in _str(item["content_text"]).split("\n\n"))
        html = html or _escape(_str(item.get("summary")))
        published = parse_iso(_str(item.get("date_published")) or _str(item.get("date_modified")))
        authors = item.get("authors") if isinstance(item.get("authors"), list) and item["authors"] else [
            item.get("author")]  # JSON Feed 1.0's single author
        author = ", ".join(n for a in authors if isinstance(a, dict) and (n := _str(a.get("name")).strip()))
        tags = item.get("tags") if isinstance(item.get("tags"), list) else []
        tags = tuple(t.strip() for t in tags if isinstance(t, str) and t.strip())
        guid = item.get("id")
        guid = str(guid) if isinstance(guid, (str, int)) and not isinstance(guid, bool) else ""
        image = image_url(_str(item.get("image")) or _str(item.get("banner_image")), base_url)
        entry = _make_entry(name, url, guid, link, _str(item.get("title")), html, published, tags, author,
                            (image, rendition_width(image), ""))
        if entry:
            entries.append(entry)
    return tuple(entries)


def _str(value) -> str:
    """A JSON Feed string field; anything else (a number, list, object, null) counts as absent."""
    return value if isinstance(value, str) else ""


def _make_entry(name, url, guid, link, title, html, published, categories, author,
                image=("", 0, "")) -> FeedEntry | None:
    text = html_to_text(html)
    title = html_to_text(title).replace("\n", " ").strip()
    if not title and not text:
        return None
    link = canonical_url(link) if link else ""
    if guid:
        uid = f"guid:{url}#{guid}"
    elif link:
        uid = f"link:{link}"
    else:
        uid = "hash:" + hashlib.sha256(f"{url}\n{title}\n{text}".encode()).hexdigest()
    title = title or _first_words(text)
    alt = alt_text(html_to_text(image[2]), title) if image[0] else ""
    return FeedEntry(uid=uid, link=link, title=title, text=text, source_name=name, source_url=url,
                     published=published, categories=categories, author=author, image_url=image[0],
                     image_alt=alt, image_width=image[1])


def html_to_text(html: str) -> str:
    """Sanitize (nh3), then keep the text with paragraph breaks."""
    if not html or not html.strip():
        return ""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    clean = nh3.clean(html, tags=BLOCK_TAGS | {"a", "b", "i", "em", "strong", "span", "ul", "ol", "td", "th",
                                               "table", "tbody", "thead"})
    if not clean.strip():
        return ""
    root = lxml.html.fragment_fromstring(clean, create_parent="div")
    for element in root.iter(*BLOCK_TAGS):
        element.tail = "\n\n" + (element.tail or "")
    return _tidy(root.text_content())


def _tidy(text: str) -> str:
    paragraphs = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", p).strip() for p in re.split(r"\n\s*\n|\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def canonical_url(url: str) -> str:
    """Drop tracking parameters and fragments so one story has one link."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not TRACKING_PARAMS.match(k)])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def select_first_run(
    entries: Iterable[FeedEntry], now: datetime, *, max_items: int, max_age_days: int
) -> set[str]:
    """uids a new source may mail on its first run; the rest is backlog.

    A newsroom adding a feed with 300 old entries must not mail all 300.
    max_age_days = 0 means no age limit.
    """
    entries = list(entries)
    if not any(e.published for e in entries):
        # A source that dates nothing: its first entries, in the order it gives them.
        return {e.uid for e in entries[:max_items]}
    cutoff = now - timedelta(days=max_age_days) if max_age_days > 0 else None
    # An undated entry beside dated ones may be years old: it is backlog, never "new" on a first run.
    fresh = [e for e in entries if e.published and (cutoff is None or e.published >= cutoff)]
    fresh.sort(key=lambda e: e.published, reverse=True)
    return {e.uid for e in fresh[:max_items]}


def parse_iso(value) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _first_words(text: str, count: int = 10) -> str:
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")

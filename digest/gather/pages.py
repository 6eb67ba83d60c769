"""What an HTML page says about itself: title, lead image, date, advertised feeds, links, canonical URL.

Pure: bytes in, a Page out. The page's main text is extract.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from digest.gather.feeds import canonical_url, html_to_text, parse_iso
from digest.gather.images import alt_text, image_url, rendition_width

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json")


@dataclass(frozen=True)
class Page:
    """What an HTML page tells the gatherer besides its main text (which is extract_text's job)."""

    title: str = ""
    image_url: str = ""
    image_alt: str = ""
    image_width: int = 0  # 0: unknown
    published: datetime | None = None
    feeds: tuple[str, ...] = ()  # <link rel="alternate"> feeds, for autodiscovery
    links: tuple[str, ...] = ()  # every http(s) <a href>, absolute and canonical, in page order
    canonical: str = ""  # the page's own <link rel="canonical">: the link one story has everywhere


def read_page(data: bytes | str, url: str) -> Page:
    """Title, lead image, date, advertised feeds and links of a page; an empty Page if it is not HTML."""
    try:
        root = lxml.html.document_fromstring(data)
    except (lxml.etree.ParserError, ValueError):
        return Page()
    base = url if url.startswith(("http://", "https://")) else ""
    base = urljoin(base, root.xpath("string(//base/@href)").strip()) if base else base

    def meta(*names: str) -> str:
        for name in names:
            for value in root.xpath(f"//meta[@property='{name}' or @name='{name}']/@content"):
                if value.strip():
                    return value.strip()
        return ""

    title = html_to_text(meta("og:title", "twitter:title") or root.findtext(".//title") or "")
    image = image_url(meta("og:image:secure_url", "og:image", "twitter:image"), base,
                      meta("og:image:width") or None, meta("og:image:height") or None)
    width = rendition_width(image, meta("og:image:width") or None) if image else 0
    alt = alt_text(html_to_text(meta("og:image:alt", "twitter:image:alt")), title) if image else ""
    date = parse_iso(meta("article:published_time", "og:published_time", "date", "dc.date")
                      or root.xpath("string((//time[@datetime])[1]/@datetime)"))
    feeds = tuple(dict.fromkeys(
        feed for link in root.xpath("//link[@href and @type]")
        if "alternate" in (link.get("rel") or "").lower().split() and link.get("type").lower().strip() in FEED_TYPES
        and (feed := urljoin(base, link.get("href").strip())).startswith(("http://", "https://"))))
    links = tuple(dict.fromkeys(
        canonical_url(href) for a in root.iter("a") if a.get("href")
        and (href := urljoin(base, a.get("href").strip())).startswith(("http://", "https://"))))
    canonical = next((link.get("href").strip() for link in root.iter("link")
                      if link.get("href") and "canonical" in (link.get("rel") or "").lower().split()), "")
    canonical = urljoin(base, canonical) if canonical and base else ""
    canonical = canonical_url(canonical) if canonical.startswith(("http://", "https://")) else ""
    return Page(title.replace("\n", " "), image, alt.replace("\n", " "), width, date, feeds, links, canonical)


__all__ = ["FEED_TYPES", "Page", "read_page"]

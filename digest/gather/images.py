"""Which of an entry's images leads it in the email, and how wide it really is.

Feeds offer one picture in several renditions (media:content widths, `?w=140`,
`_142x100.jpg`, WordPress's `-300x200.jpg`). The email shows a lead image at
most DISPLAY_WIDTH px wide: the best rendition is the smallest one at least
that wide, else the largest there is; its width is kept so the email never
stretches a thumbnail (render.html shows it at its natural size, or drops it
when it is too small to help). Tracking pixels and non-http(s) URLs never lead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

DISPLAY_WIDTH = 552  # the email's content column
# File names that mean "tracking pixel" or "spacer", whatever size they claim.
PIXEL_NAME = re.compile(r"(^|/)(pixel|spacer|blank|beacon|transparent|1x1|clear)(\.\w+)?$|1x1\.\w+$", re.IGNORECASE)
# A rendition's width as image servers and CMSs write it into the URL.
_WIDTH_IN_URL = (
    re.compile(r"[?&](?:w|width|resize_w|imwidth|im_w)=(\d{2,5})(?:&|$)", re.IGNORECASE),
    re.compile(r"[_\-/](\d{2,5})x\d{2,5}(?=[._/\-?]|$)"),  # _142x100.jpg, -300x200.jpg, /640x360/
    re.compile(r"/(?:w_|width[=/])(\d{2,5})(?=[,/])", re.IGNORECASE),  # Cloudinary-style /w_140,
)


def image_url(src, base_url: str, width=None, height=None) -> str:
    """An absolute http(s) image URL, or "" for javascript:/data: URLs and tracking pixels."""
    if not isinstance(src, str) or not src.strip():
        return ""
    url = urljoin(base_url, src.strip()) if base_url else src.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 2048 or any(c in url for c in "\"'<> \t\n"):
        return ""
    if any(_pixels(size) <= 2 for size in (width, height) if size not in (None, "")):
        return ""
    return "" if PIXEL_NAME.search(urlsplit(url).path) else url


def rendition_width(url: str, declared=None) -> int:
    """The width the feed declares, else the one the URL names; 0 when nobody says."""
    if declared not in (None, ""):
        pixels = _pixels(declared)
        if 2 < pixels < 999:
            return pixels
    for pattern in _WIDTH_IN_URL:
        match = pattern.search(url)
        if match:
            return int(match.group(1))
    return 0


def best_rendition(candidates: Iterable[tuple[str, int, str]]) -> tuple[str, int, str]:
    """(url, width, alt) to lead with, from (url, width, alt) in the feed's order of preference.

    At least DISPLAY_WIDTH wide: the smallest such. Otherwise one of unknown
    width (likely the original) before a known small one, then the widest.
    """
    found = [c for c in candidates if c[0]]
    if not found:
        return "", 0, ""
    wide = [c for c in found if c[1] >= DISPLAY_WIDTH]
    if wide:
        return min(wide, key=lambda c: c[1])
    unknown = [c for c in found if not c[1]]
    return unknown[0] if unknown else max(found, key=lambda c: c[1])


def alt_text(alt: str, title: str) -> str:
    """The image's own description; "" when it only repeats the headline beside it (screen readers read both)."""
    plain = " ".join(alt.split())
    if not plain or _words(plain) == _words(title) or _words(plain) <= _words(title) and len(_words(plain)) > 2:
        return ""
    return plain


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


def _pixels(size) -> int:
    match = re.match(r"\s*(\d+)", str(size))
    return int(match.group(1)) if match else 999

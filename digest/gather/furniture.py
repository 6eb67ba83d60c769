"""Page-aware furniture: paragraphs whose whole text the page itself marks as not article text.

trafilatura reads text, not roles; some furniture looks like prose once flattened, but the
page gives it away elsewhere in its markup:

* a teaser: the paragraph is, word for word, the text of a link to another page of the same
  site (a headline pointing at another story: "you may also like" cards, "related" lists,
  promo strips above the article). An article's own sentences are not whole links to the
  site's other pages; a link to another site (a shop, a source) is left alone, and so is a
  link to the page itself (a table of contents). A label after the link, "[VIDEO]",
  "(PHOTOS)", is part of the teaser;
* a closing list of teasers: the text ends with a list in which every item (three or more)
  links to another page of the same site, even when only part of an item is the link
  ("Tides rise. <a>What the harbour master says</a>"): "more stories" under the
  article. Only at the end: inside the text such a list may be the story's own summary;
* a caption: the paragraph is, word for word, an image's alt or title text (a photo's
  description repeated under it), or the text of a <figcaption> or of WordPress's
  "wp-caption-text". Without the picture it describes nothing.

Shipped: captions. REJECTED and off unless asked for (teasers=True in page_furniture, and
extract_paragraphs' closing_teasers): both rules raised the fold of dev pages they were
designed on and lowered the held-out fold (bench/README.md, round 3); they stay so that the
bench can show them.

The match is by text, not by element, so two guards keep the article's own words: short
texts are not matched (TEASER_WORDS, CAPTION_WORDS; a tag or section link is a few words),
and the text of an unlinked heading (h1-h6 with no link in it or around it) is never
furniture, even when a tag link or an image's alt text says the same. The look-ups read a
bounded number of elements (MAX_LINKS, MAX_IMAGES, MAX_HEADINGS), so a page of a million
links costs the same as one of a few thousand.
"""

from __future__ import annotations

import itertools
import re
from urllib.parse import urljoin, urlsplit

from digest.gather.combine import key

TEASER_WORDS = 4  # a teaser headline has at least this many words
CAPTION_WORDS = 3
MAX_LINKS = 5000
MAX_IMAGES = 2000
MAX_HEADINGS = 2000
MAX_LISTS = 500
MAX_LIST_ITEMS = 100  # items read per list
MIN_TEASERS = 3
_LABEL = re.compile(r"\s*[\[(]\W*\w+(\W+\w+)?\W*[\])]$")  # one or two words in brackets, at the end
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A picture's caption by its markup: <figcaption>, or WordPress's caption class (a caption read as prose opened
# summaries: "The club's footballers training ahead of a match." above the lede). Not any class that says caption:
# a gallery's slides hold the post itself in <div class="caption">.
_CAPTIONS = "//figcaption | //*[contains(concat(' ', normalize-space(@class), ' '), ' wp-caption-text ')]"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def _page(url: str) -> str:
    return _host(url) + urlsplit(url).path.rstrip("/")


class _Site:
    """Tells a link to another page of the page's own site (relative links are, without a URL)."""

    def __init__(self, root, url: str | None):
        self.base = url or next(iter(root.xpath("//link[@rel='canonical']/@href")), "") or ""
        self.own = _page(self.base) if self.base else None
        self.host = _host(self.base)

    def other_page(self, a) -> bool:
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            return False
        try:
            if not self.base:
                return not urlsplit(href).netloc
            target = urljoin(self.base, href)
            return _host(target) == self.host and _page(target) != self.own
        except ValueError:  # a malformed address (an unclosed "[" in the host)
            return False


def page_furniture(root, url: str | None, *, teasers: bool = False, captions: bool = True) -> set[str]:
    """Word keys (combine.key) of the page's teaser links and image descriptions."""
    found: set[str] = set()
    if root is None:
        return found
    site = _Site(root, url)
    if teasers:
        for n, a in enumerate(root.iter("a")):
            if n >= MAX_LINKS:
                break
            text = key(a.text_content())
            if len(text.split()) >= TEASER_WORDS and site.other_page(a):
                found.add(text)
    if captions:
        for n, img in enumerate(root.iter("img")):
            if n >= MAX_IMAGES:
                break
            for attribute in ("alt", "title"):
                text = key(img.get(attribute) or "")
                if len(text.split()) >= CAPTION_WORDS:
                    found.add(text)
        for element in itertools.islice(root.xpath(_CAPTIONS), MAX_IMAGES):
            text = key(element.text_content())
            if len(text.split()) >= CAPTION_WORDS:
                found.add(text)
    if found:
        found -= _own_headings(root)
    return found


def _own_headings(root) -> set[str]:
    own = set()
    for n, heading in enumerate(root.iter(*_HEADINGS)):
        if n >= MAX_HEADINGS:
            break
        if next(heading.iter("a"), None) is None and not any(a.tag == "a" for a in heading.iterancestors()):
            own.add(key(heading.text_content()))
    return own


def teaser_list_items(root, url: str | None) -> set[str]:
    """Word keys of the items of lists whose every item (MIN_TEASERS or more) links to another page of the site."""
    found: set[str] = set()
    if root is None:
        return found
    site = _Site(root, url)
    for n, listing in enumerate(root.iter("ul", "ol")):
        if n >= MAX_LISTS:
            break
        items = list(itertools.islice((li for li in listing if li.tag == "li"), MAX_LIST_ITEMS))
        if len(items) >= MIN_TEASERS and all(any(site.other_page(a) for a in li.iter("a")) for li in items):
            found.update(key(li.text_content()) for li in items)
    return found


def drop_closing_teasers(paragraphs: list[str], items: set[str]) -> list[str]:
    """The paragraphs without a closing run of MIN_TEASERS or more teaser-list items."""
    end = len(paragraphs)
    while end and paragraphs[end - 1].startswith("- ") and key(paragraphs[end - 1]) in items:
        end -= 1
    return paragraphs[:end] if len(paragraphs) - end >= MIN_TEASERS and end else paragraphs


def drop_furniture(paragraphs: list[str], furniture: set[str]) -> list[str]:
    """The paragraphs that are not, word for word, one of the page's teasers or image descriptions."""
    if not furniture:
        return paragraphs
    return [p for p in paragraphs if not _is_furniture(p.removeprefix("- "), furniture)]


def _is_furniture(paragraph: str, furniture: set[str]) -> bool:
    if key(paragraph) in furniture:
        return True
    return paragraph.endswith(("]", ")")) and key(_LABEL.sub("", paragraph)) in furniture

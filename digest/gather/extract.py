"""Full-text extraction: the main article text of a web page, without boilerplate.

Built on trafilatura, read twice (fast mode and precision mode, comments dropped;
combine.py says why and how the two are merged), each reading through a post-filter
that removes what trafilatura tends to keep inside article bodies (boilerplate.py): the page's own
headline (the digest shows the title separately), inline newsletter sign-up
boxes, "Read more:" / "Related:" teasers, share/follow/contact lines, copyright
notices, lone time stamps and newswire credit lines, and trailing "More news"-style
headings with their link lists, and captions that repeat an image's alt text
(furniture.py). Before trafilatura reads the page, sign-up forms and hover cards
inside sentences are pruned (PRUNE_XPATH, HOVER_CARD_XPATH), and embedded tweets
are unwrapped so that they read as the quotations they are. The page is parsed
once, as trafilatura parses it, and the two readings share the work they have in
common (readings.py); precision mode's comparison with readability and jusText is
skipped where the precision reading is long and sound (COMPARE, issue 29: speed). When the
combined reading holds under half of what the precision reading kept (a heading,
a teaser, the first of two containers), the precision reading is the answer
(FLOOR, issue 29). Three more rules of
round 3 (teaser links, newswire credits and legal notices, a closing list of
teasers) are kept as options, off: each lowered the held-out fold of the dev pages
(bench/README.md).

The result is plain text, paragraphs separated by blank lines; "" when the page
has no recognisable article. Nothing here touches the network.
"""

from __future__ import annotations

import copy
import functools
import itertools
import logging
import re

import lxml.etree
import lxml.html
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.utils import load_html

from digest.gather.boilerplate import (
    cut_at_comments,
    drop_lone_bars,
    is_boilerplate,
)
from digest.gather.combine import SHORT_WORDS as SHORT_OUTSIDE
from digest.gather.combine import (
    DISJOINT,
    LEAD_WORDS,
    combine,
    list_link_density,
    paragraph_elements,
)
from digest.gather.furniture import (
    drop_closing_teasers,
    drop_furniture,
    page_furniture,
    teaser_list_items,
)
from digest.gather.readings import FAST, PRECISION, Readings

# Sign-up boxes and similar page furniture, removed before trafilatura looks at the page.
PRUNE_XPATH = [
    "//form[string-length(normalize-space(.)) < 600]",  # whole-page ASP.NET forms stay
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' newsletter ')"
    " or contains(@class, 'newsletter-signup') or contains(@class, 'signup-form')"
    " or contains(@class, 'subscribe-form') or contains(@id, 'newsletter')]",
]
_HOVER = " or ".join(f"contains(@class, '{word}')" for word in ("tooltip", "popover", "rollover", "hovercard", "hover-card"))
# A hover card inside running text (a person's photo and their latest headlines, shown on
# mouse-over): the innermost such element holding a picture or several links goes; the linked
# name it hangs on stays.
HOVER_CARD_XPATH = f"//p//*[{_HOVER}][.//img or count(.//a) >= 2][not(.//*[{_HOVER}][.//img or count(.//a) >= 2])]"

# Posts embedded from a social network with the platform's markup (see _unwrap_embedded_posts).
EMBEDDED_POST_XPATH = "//blockquote[contains(concat(' ', normalize-space(@class), ' '), ' twitter-tweet ')]"
_EMBED_WRAPPER = re.compile(r"social|embed|tweet|twitter", re.IGNORECASE)
EMBED_WRAPPER_DEPTH = 3  # wrappers looked at above each post
MAX_EMBEDDED_POSTS = 200

# trafilatura's two readings (see combine.py and readings.py): fast, recall-leaning; and the slower precision mode.
# Precision mode's comparison with readability/jusText (a seventh of our time) runs only when the precision
# reading's own text is under COMPARE characters, has no paragraph or is mostly tables (readings.py; 0: always).
# Chosen from 0 / 500 / 1000 / 2000 by Dragnet site fold (bench/README.md, issue 29).
COMPARE = 1000
# A page whose body is split into same-class containers is read again from all of them (_merge_split_body);
# the new reading is taken when it holds at least this share of the long lines the first one had (0.8 let
# teasers of other posts in "nextstory" boxes replace a short post: issue 29; chosen by Dragnet site fold).
MERGE_COVER = 0.9
# Past this the second reading is skipped: a 3 MB page of list items takes trafilatura ~2.5 s
# in precision mode on top of ~1.6 s in fast mode (the benchmark's largest page is 1.4 MB).
PRECISION_MAX_CHARS = 2_000_000
# Never less than the careful reading's article (issue 29): when the combined reading holds under this
# share of the words the precision reading kept, the fast reading was a fragment (a heading, a teaser,
# one paragraph of many) or a rule misfired, and the precision reading is the answer.
FLOOR = 0.5
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_BODY_CLASS = re.compile(r"body|article|story|content|text|field-item|entry|post", re.IGNORECASE)

# trafilatura logs a WARNING for every page it finds thin; a digest run fetches hundreds.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def extract_text(html: str, url: str | None = None) -> str:
    """Main article text of `html` (paragraphs separated by blank lines), or "" if none is found."""
    return "\n\n".join(extract_paragraphs(html, url))


def extract_paragraphs(html: str, url: str | None = None, *, short_words: int = SHORT_OUTSIDE,
                       protect_lists: bool = True, precision: bool = True, fragment: float = 0,
                       hover_cards: bool = True, metadata_lines: bool = True,
                       teaser_headings: bool = True, teaser_links: bool = False, captions: bool = True,
                       notices: bool = False, embedded_posts: bool = True, closing_teasers: bool = False,
                       floor: float = FLOOR, fast_reading: bool = True,
                       separator_bars: bool = True, compare: int = COMPARE,
                       merge_cover: float = MERGE_COVER, meta_bars: bool = True,
                       widgets: bool = True, disjoint: float = DISJOINT, lead_words: int = LEAD_WORDS) -> list[str]:
    """The article's paragraphs; the keyword arguments exist for bench/extraction.py's cross-validation
    (all False / 0 but `precision` is the method of round 1; the last five are round 3's rules, of
    which teaser_links, notices and closing_teasers were rejected and are off: see bench/README.md;
    `floor` is issue 29's guard against a page reduced to its heading, 0 turns it off)."""
    if not html or not html.strip():
        return []
    root = _tree(html)
    if root is None:
        return []
    if embedded_posts:
        _unwrap_embedded_posts(root)
    _prune(root, [*PRUNE_XPATH, HOVER_CARD_XPATH] if hover_cards else PRUNE_XPATH)
    furniture = page_furniture(root, url, teasers=teaser_links, captions=captions)
    rules = {"metadata_lines": metadata_lines, "notices": notices, "separator_bars": separator_bars,
             "meta_bars": meta_bars, "widgets": widgets}
    readings, page = Readings(root, url), _Page(root, url, rules, furniture, merge_cover)
    if not fast_reading:  # measured in bench/extraction_outside.py: the precision reading alone, filtered
        return page.paragraphs(readings.careful(), PRECISION)
    paragraphs = page.paragraphs(readings.fast(), FAST)
    if paragraphs and precision and len(html) <= PRECISION_MAX_CHARS:
        careful = page.paragraphs(readings.careful(compare), PRECISION)
        paragraphs = combine(paragraphs, careful, list_link_density(root, headings=teaser_headings),
                             short_words=short_words, protect_lists=protect_lists, fragment=fragment,
                             disjoint=disjoint, lead_words=lead_words, paragraph_element=paragraph_elements(root))
        if floor and _words(paragraphs) < floor * _words(careful):
            paragraphs = careful  # our reading kept a heading or a teaser of what the careful one holds
    if closing_teasers and paragraphs and paragraphs[-1].startswith("- "):
        paragraphs = _drop_trailing_furniture(drop_closing_teasers(paragraphs, teaser_list_items(root, url)))
    return paragraphs


def _words(paragraphs: list[str]) -> int:
    return sum(len(_WORD.findall(p)) for p in paragraphs)


def _tree(html: str):
    """The page parsed once, the way trafilatura parses it (its decoding and repairs), for every reading:
    trafilatura copies a tree it is given, so the readings never see each other's cleaning."""
    try:
        return load_html(html)
    except (ValueError, TypeError, lxml.etree.LxmlError):
        return None


def _prune(root, expressions: list[str]) -> None:
    """Remove sign-up boxes and hover cards before any reading (as trafilatura's prune_xpath would, once)."""
    prune_unwanted_nodes(root, [_compiled(x) for x in expressions])


@functools.lru_cache(maxsize=16)
def _compiled(expression: str) -> lxml.etree.XPath:
    return lxml.etree.XPath(expression)


def _unwrap_embedded_posts(root) -> bool:
    """Let a tweet embedded in the story read as the quotation it is; True if the page changed.

    The platform's own markup (a blockquote of class twitter-tweet: the post's text, then its
    author and date) sits in a wrapper whose class says "social" or "embed", and trafilatura
    drops both as share-button furniture. The writer put the post in the story's flow (the
    reaction the story reports, the statement it quotes), so its text is read like any blockquote.
    """
    posts = root.xpath(EMBEDDED_POST_XPATH)
    for post in posts[:MAX_EMBEDDED_POSTS]:
        for element in [post, *itertools.islice(post.iterancestors(), EMBED_WRAPPER_DEPTH)]:
            if element is post or _EMBED_WRAPPER.search(element.get("class", "") + " " + element.get("id", "")):
                element.attrib.pop("class", None)
                element.attrib.pop("id", None)
    return bool(posts)


class _Page:
    """One page's readings filtered; what the page says about itself is looked up once for every reading."""

    def __init__(self, root, url: str | None, rules: dict, furniture: set[str], merge_cover: float):
        self.root, self.url, self.rules, self.furniture, self.merge_cover = root, url, rules, furniture, merge_cover
        self.identity = _page_identity(root, url)
        self.verdicts: dict[str, bool] = {}  # paragraph -> is_boilerplate (the readings share most paragraphs)
        self.classed: list[tuple[str, tuple]] | None = None  # see _merge_split_body
        self.merged: dict[tuple[str, str], Readings] = {}

    def paragraphs(self, text: str, mode: dict) -> list[str]:
        """One trafilatura reading of the page (`text`, read in `mode`) with the furniture filters applied."""
        if not text:
            return []
        text = _merge_split_body(self, text, mode)
        paragraphs = [p for p in (_SPACES.sub(" ", line).strip() for line in text.splitlines()) if p]
        titles, own_urls = self.identity
        if self.rules["widgets"]:
            paragraphs = cut_at_comments(paragraphs)
        paragraphs = [p for p in _drop_headline(paragraphs, titles)
                      if not self.boilerplate(p) and p.rstrip("/") not in own_urls]
        if self.rules.get("separator_bars"):
            paragraphs = drop_lone_bars(paragraphs, widgets=self.rules["widgets"])
        return _drop_trailing_furniture(drop_furniture(paragraphs, self.furniture))

    def boilerplate(self, paragraph: str) -> bool:
        verdict = self.verdicts.get(paragraph)
        if verdict is None:
            verdict = self.verdicts[paragraph] = is_boilerplate(paragraph, **self.rules)
        return verdict


def _merge_split_body(page: _Page, text: str, mode: dict) -> str:
    """Pages that split the article body into several same-class containers (ads in between).

    trafilatura keeps only the best container; when the paragraphs it kept sit in a
    container whose class says "body"/"article"/..., and the page has more containers
    of that very class, extract again from all of them together.
    """
    root, url = page.root, page.url
    kept = {_SPACES.sub(" ", line).strip() for line in text.splitlines()}
    kept = {k for k in kept if len(k) > 40}
    if page.classed is None:  # (text, container) of every <p> whose parent has a class, once a page
        page.classed = [(_SPACES.sub(" ", p.text_content()).strip(), (parent.tag, parent.get("class")))
                        for p in root.iter("p") if (parent := p.getparent()) is not None and parent.get("class")]
    votes: dict[tuple[str, str], int] = {}
    for paragraph, key in page.classed:
        if paragraph in kept:
            votes[key] = votes.get(key, 0) + 1
    if not votes:
        return text
    (tag, cls), count = max(votes.items(), key=lambda kv: kv[1])
    if count < 2 or not _BODY_CLASS.search(cls) or not isinstance(tag, str):
        return text
    containers = root.xpath(f"//{tag}[@class=$cls]", cls=cls)
    containers = [c for c in containers if not any(a in containers for a in c.iterancestors())]
    if len(containers) < 2:
        return text
    if (tag, cls) not in page.merged:  # both readings may merge the same containers: one page for both
        page.merged[tag, cls] = Readings(_merged_page(root, containers), url)
    merged = page.merged[tag, cls].fast() if mode is FAST else page.merged[tag, cls].careful()
    merged_lines = {_SPACES.sub(" ", line).strip() for line in merged.splitlines()}
    if len(merged) > len(text) and len(kept & merged_lines) >= page.merge_cover * len(kept):
        return merged
    return text


def _merged_page(root, containers: list):
    """A page of the containers' children, unwrapped, so the parts read as one body."""
    title = "".join(root.xpath("//title//text()"))
    doc = lxml.html.fromstring("<html><head><title></title></head><body><article></article></body></html>")
    doc.find("head/title").text = title
    article = doc.find("body/article")
    for container in containers:
        for child in container:
            article.append(copy.deepcopy(child))
    return doc


def _page_identity(root, url: str | None) -> tuple[set[str], set[str]]:
    """Headline candidates (<title>, og:/twitter:title, first <h1>) and the page's own URLs."""
    own_urls = {url.rstrip("/")} if url else set()
    if root is None:
        return set(), own_urls
    found = root.xpath("//title//text()") + root.xpath(
        "//meta[@property='og:title' or @name='og:title' or @name='twitter:title']/@content")
    h1 = root.xpath("(//h1)[1]")
    if h1:
        found.append(h1[0].text_content())
    own_urls.update(u.strip().rstrip("/") for u in root.xpath(
        "//link[@rel='canonical']/@href | //meta[@property='og:url' or @name='twitter:url']/@content"))
    return {_norm(t) for t in found if _norm(t)}, own_urls


def _drop_headline(paragraphs: list[str], titles: set[str]) -> list[str]:
    """Drop the headline when it leads the text: it is shown as the entry's title anyway."""
    if not titles:
        return paragraphs
    for i, p in enumerate(paragraphs[:2]):
        n = _norm(p)
        if len(n) >= 10 and any(n == t or (t.startswith(n) and len(n) > 0.5 * len(t)) for t in titles):
            return paragraphs[:i] + paragraphs[i + 1:]
    return paragraphs


def _drop_trailing_furniture(paragraphs: list[str]) -> list[str]:
    """Strip short heading-like lines and bare link lists after the last real paragraph."""
    end = len(paragraphs)
    while end > 1:
        last = paragraphs[end - 1]
        heading_like = (len(last.split()) <= 6 and len(last) <= 60
                        and not last.endswith((".", "!", "?", "…", "\"", "”", "。", "！", "？", ")", "）")))
        if heading_like:
            end -= 1
        else:
            break
    return paragraphs[:end]


def _norm(text: str) -> str:
    return _SPACES.sub(" ", re.sub(r"[^\w\s]", " ", text)).strip().lower()

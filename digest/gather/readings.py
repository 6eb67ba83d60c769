"""trafilatura's two readings of one page (fast mode, precision mode), sharing the work they have in common.

`trafilatura.extract` run twice on one page does some work twice: it copies the tree, prunes
infinite-scroll containers and comment sections with regular-expression XPaths (the same ones
in both modes), and cleans the tree (the same steps but the last). Here that work is done once
and each mode's own steps run on copies, in trafilatura's order (trafilatura_sequence in its
core.py), so each reading is the text `trafilatura.extract(tree, url, fast=True or
favor_precision=True, include_comments=False, include_tables=True)` returns.

This leans on trafilatura's internals, so it is used only with the versions it was checked
against (TESTED_VERSIONS; tests/test_extract_readings.py compares it with trafilatura.extract
on our own pages); with any other version, and on forum threads (which trafilatura reads
differently), each reading is a plain trafilatura.extract call.

One step may be skipped: precision mode's comparison with readability and jusText
(compare_extraction, about a seventh of our time), when the page leaves no room for it to
change the precision reading by much: see `careful` in `read`.
"""

from __future__ import annotations

from copy import copy

import lxml.etree
import trafilatura
from lxml.etree import Element

try:
    from trafilatura import core as _core
    from trafilatura.baseline import baseline, html2txt
    from trafilatura.external import compare_extraction
    from lxml.etree import strip_tags
    from trafilatura.htmlprocessing import _handle_forms, convert_tags, prune_html, prune_unwanted_nodes, recover_math
    from trafilatura.main_extractor import extract_content
    from trafilatura.metadata import Document
    from trafilatura.settings import MANUALLY_CLEANED, MANUALLY_STRIPPED, Extractor
    from trafilatura.xml import delete_element
    from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH, REMOVE_COMMENTS_XPATH
except ImportError:  # another trafilatura: the plain calls below
    _core = None

TESTED_VERSIONS = ("2.3.1",)
SHARED = _core is not None and trafilatura.__version__ in TESTED_VERSIONS
FAST = {"fast": True}
PRECISION = {"favor_precision": True}
_ERRORS = (ValueError, TypeError, lxml.etree.LxmlError)


def extract(tree, url: str | None, mode: dict) -> str:
    """One plain trafilatura reading with our options ("" when trafilatura finds nothing or fails)."""
    try:
        return trafilatura.extract(tree, url=url, include_comments=False, include_tables=True,
                                   include_images=False, include_links=False, **mode) or ""
    except _ERRORS:
        return ""


class Readings:
    """The fast and the precision reading of the parsed page `root` (left as it is), each made when asked for."""

    def __init__(self, root, url: str | None):
        self.root, self.url = root, url
        try:
            self.tree = _shared(root) if SHARED else None
        except _ERRORS:  # a page trafilatura's shared steps trip on: each reading on its own, as trafilatura would
            self.tree = None

    def fast(self) -> str:
        if self.tree is not None:
            try:
                return _fast(self.tree, self.url)
            except _ERRORS:
                pass
        return extract(self.root, self.url, FAST)

    def careful(self, compare: int = 0) -> str:
        """The precision reading. compare > 0: precision mode's comparison with readability and jusText
        runs only when the reading's own text is under `compare` characters, has no paragraph or is
        mostly tables (0: it always runs, as in trafilatura)."""
        if self.tree is not None:
            try:
                return _precision(self.tree, self.url, compare)
            except _ERRORS:
                pass
        return extract(self.root, self.url, PRECISION)


def _shared(root):
    """The steps both modes begin with (comments off), or None on a forum thread: (pruned tree, cleaned tree)."""
    tree = copy(root)
    if _core._forum_thread_page(tree):
        return None
    tree = prune_unwanted_nodes(tree, RAW_TREE_PRUNE_XPATH)
    tree = prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS_XPATH)
    return tree, _cleaned(copy(tree))


def _cleaned(tree):
    """trafilatura's tree_cleaning with tables on and images off, but its last step (prune_html, which
    differs by mode): the same steps in the same order."""
    recover_math(tree)
    cleaning, stripping = MANUALLY_CLEANED.copy(), MANUALLY_STRIPPED.copy()
    forms = "form" in cleaning
    if forms:
        cleaning.remove("form")
    for element in tree.iter("figure", "table"):  # figures holding a table, layout tables
        if element.find(".//table") is not None if element.tag == "figure" else element.get("role") in (
                "presentation", "none"):
            element.tag = "div"
    strip_tags(tree, stripping)
    for expression in cleaning:
        for element in tree.iter(expression):
            delete_element(element)
    if forms:
        _handle_forms(tree)
    return tree


def _options(url: str | None, **mode) -> Extractor:
    return Extractor(comments=False, tables=True, images=False, links=False, url=url, **mode)


def _fast(shared, url: str | None) -> str:
    """trafilatura_sequence in fast mode (balanced focus): main extractor, baseline rescue, recall retry."""
    tree, cleaned = shared
    options = _options(url, fast=True)
    cleaned = prune_html(copy(cleaned), options.focus)
    body, text = extract_content(convert_tags(cleaned, options, url), options)
    if len(text) < options.min_extracted_size:
        b_body, b_text, b_len = baseline(tree)
        if b_len > len(text):
            body, text = b_body, b_text
    if 0 < len(text) < _core.ESCALATION_MAX_LENGTH and len(text) < _core.ESCALATION_PAGE_SHARE * len(html2txt(tree)):
        retry = copy(options)
        retry.focus = "recall"
        r_text = ""
        try:
            r_body, r_text = _core._recall_retry(tree, retry, url)
        except Exception:  # noqa: BLE001  (trafilatura catches everything here too)
            pass
        if len(r_text) >= options.min_extracted_size and len(r_text) > _core.ESCALATION_ACCEPT_RATIO * len(text):
            body, text = r_body, r_text
    return _text(body, text, options)


def _precision(shared, url: str | None, compare: int) -> str:
    """trafilatura_sequence in precision mode: main extractor, then the comparison with readability/jusText."""
    tree, cleaned = shared
    options = _options(url, precision=True)
    cleaned = prune_html(copy(cleaned), options.focus)
    backup = copy(cleaned)
    cleaned = prune_unwanted_nodes(convert_tags(cleaned, options, url), REMOVE_COMMENTS_XPATH)
    body, text = extract_content(cleaned, options)
    if not compare or _may_compare(body, text, compare):
        body, text = compare_extraction(backup, copy(tree), body, text, options)
    return _text(body, text, options)


def _may_compare(body, text: str, compare: int) -> bool:
    """Whether the comparison is worth running: the text is short (readability takes over when it finds
    twice as much, jusText when the text is under trafilatura's 250 characters), has no paragraph or
    has more tables than paragraphs (readability's other ways in, _prefer_readability in trafilatura)."""
    return (len(text) < compare or not body.xpath(".//p//text()")
            or len(body.findall(".//table")) > len(body.findall(".//p")))


def _text(body, text: str, options) -> str:
    """The reading as trafilatura.extract returns it (bare_extraction's size check, then txt output)."""
    if len(text) < options.min_output_size:
        return ""
    document = Document()
    document.body, document.commentsbody = body, Element("body")
    return _core.determine_returnstring(document, options)

"""Two readings of one page, combined: trafilatura's recall-leaning fast mode and its precision mode.

The fast mode keeps nearly all of an article but also what sits around it (a
standfirst above it, a "more stories" list below it) and, on some layouts, runs
a whole column into one paragraph. The precision mode drops that furniture but
also, on other layouts, real paragraphs or a closing list. Neither is better on
every page, so the fast reading stays the base and the precision reading only
vouches for where the article starts and ends:

* a fast-mode paragraph that holds two or more precision paragraphs is a merged
  column: it is replaced by those paragraphs (the text between them was furniture);
* paragraphs before the first or after the last paragraph both readings share are
  dropped when they are short (furniture is short; a long one is kept, since the
  precision mode is known to lose real text), except list items that are not
  mostly links (an article's closing list; a list of links, or of items with a
  linked headline, is "related stories"), and paragraph elements of a few words
  or more above the span (the lede the precision mode cut: LEAD_WORDS);
* readings that share no paragraph: the one that reads as prose is kept (DISJOINT).

Nothing here parses HTML except the link-density look-up, which reads <li> elements
of the already parsed page, a bounded number of them.
"""

from __future__ import annotations

import functools
import itertools
import re

_WORD = re.compile(r"\w+")
SHORT_WORDS = 30  # outside the shared span, paragraphs under this many words are dropped
# ...but above it, a paragraph of LEAD_WORDS or more that is a <p> of the page stays: the lede or standfirst the
# precision mode cut. Furniture above an article is a label of a few words (a kicker, a date, a menu item) or a
# heading (a dek, which reads with the title); a sentence in a paragraph element is the article's own (issue 29:
# SHORT_WORDS applied above the span too before, which lost the ledes of news pages; 0: as before). Chosen from
# 0 / 1 / 5 / 10 / 15 / 20 by Dragnet site fold (bench/README.md).
LEAD_WORDS = 5
LINK_DENSITY = 0.5  # a list item whose text is at least this much link text is a link list
# Readings that share no paragraph: the precision one is taken when the fast one has under DISJOINT times
# its words in paragraphs of PROSE_WORDS or more that are not link-list items (0: the fast one, as before).
PROSE_WORDS = 10
DISJOINT = 0.25
# Tried in round two and REJECTED (off by default; bench/extraction.py still measures it): take
# the fast reading for a fragment when the precision reading has this many times its words and
# holds nearly all of them (FRAGMENT_COVER), and use the precision reading instead. The idea:
# fast mode runs no fallback extractor. On the one dev page where it fires (held-out fold B),
# the short fast reading was right (a list of quotes of which the article is one): F1 -0.4.
FRAGMENT_RATIO = 2.0
FRAGMENT_COVER = 0.9
MAX_SCANNED_CHARS = 50_000_000  # fragment test's substring searches, bounded likewise
MAX_SUBSTRING_CHECKS = 200_000  # merged-column search, bounded for pages with thousands of paragraphs
MAX_LIST_ITEMS = 2000  # <li> elements read for link density (a hostile page may have millions)
MAX_PARAGRAPHS = 5000  # <p> elements read for paragraph_elements, bounded likewise


@functools.lru_cache(maxsize=4096)  # a page's paragraphs are keyed by each reading, the combination and the filters
def key(paragraph: str) -> str:
    """Word tokens only: the two modes differ in spacing, bullets and punctuation runs."""
    return " ".join(_WORD.findall(paragraph.lower()))


def combine(recall: list[str], precision: list[str], link_density=None,
            short_words: int = SHORT_WORDS, protect_lists: bool = True,
            fragment: float = 0, disjoint: float = DISJOINT, lead_words: int = LEAD_WORDS,
            paragraph_element=None) -> list[str]:
    """Fast-mode paragraphs trimmed to the span the precision paragraphs vouch for.

    link_density(paragraph) -> float in [0, 1] or None when unknown; short_words=0 turns
    trimming off (only merged columns are split); paragraph_element(paragraph) -> bool (a <p> of the page) or
    None when unknown (see LEAD_WORDS); fragment=FRAGMENT_RATIO swaps the base
    for a fragment (rejected, see FRAGMENT_RATIO); disjoint: see DISJOINT (0 keeps the fast reading
    when the two share no paragraph, as before issue 29); lead_words: see LEAD_WORDS.
    """
    if not precision:
        return recall
    if fragment and is_fragment(recall, precision, fragment):
        return precision
    recall = _split_merged(recall, precision)
    shared = {key(p) for p in precision}
    inside = [i for i, p in enumerate(recall) if key(p) in shared]
    if not inside:  # the readings disagree entirely: keep the one that reads as prose (issue 29)
        if disjoint and _prose_words(recall, link_density) < disjoint * _prose_words(precision, link_density):
            return precision
        return recall
    first, last = inside[0], inside[-1]
    kept = []
    for i, p in enumerate(recall):
        if first <= i <= last or len(p.split()) >= short_words:
            kept.append(p)
        elif i < first and lead_words and paragraph_element and len(p.split()) >= lead_words and paragraph_element(p):
            kept.append(p)
        elif protect_lists and p.startswith("- "):
            density = link_density(p) if link_density else None
            if (density or 0.0) < LINK_DENSITY:
                kept.append(p)
    return kept


def _prose_words(paragraphs: list[str], link_density) -> int:
    """Words in paragraphs of PROSE_WORDS or more that are not items of a link list ("Link Love: - headline —
    Source" beside the article)."""
    return sum(n for p in paragraphs if (n := len(p.split())) >= PROSE_WORDS and not (
        p.startswith("- ") and ((link_density(p) if link_density else None) or 0.0) >= LINK_DENSITY))


def is_fragment(recall: list[str], precision: list[str], ratio: float = FRAGMENT_RATIO) -> bool:
    """True when the precision reading is `ratio` times longer and holds (nearly) all of the fast one."""
    recall_words = sum(len(_WORD.findall(p)) for p in recall)
    precision_words = sum(len(_WORD.findall(p)) for p in precision)
    if not recall_words or precision_words < ratio * recall_words:
        return False
    keys = [key(p) for p in precision]
    shared, whole = set(keys), f" {' '.join(keys)} "  # in reading order: a fast paragraph split in two is found
    held, budget = 0, MAX_SCANNED_CHARS
    for paragraph in recall:
        k = key(paragraph)
        if k in shared:
            held += len(k.split())
        elif budget >= len(whole):  # a paragraph the precision mode split or trimmed: search its text
            budget -= len(whole)
            held += len(k.split()) if f" {k} " in whole else 0
    return held >= FRAGMENT_COVER * recall_words


def _split_merged(recall: list[str], precision: list[str]) -> list[str]:
    keys = [(p, key(p)) for p in precision]
    shared = {k for _, k in keys}
    out, budget = [], MAX_SUBSTRING_CHECKS
    for paragraph in recall:
        k = key(paragraph)
        if k not in shared and budget > 0:  # only a paragraph the precision reading lacks can be a merge
            budget -= len(keys)
            parts = [p for p, pk in keys if pk and pk in k]
            if len(parts) >= 2:
                out.extend(parts)
                continue
        out.append(paragraph)
    return out


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _linked_heading(li) -> bool:
    for heading in li.iter(*_HEADINGS):
        if next(heading.iter("a"), None) is not None:
            return True
        for above in heading.iterancestors():  # a link around the heading, up to the item itself
            if above is li:
                break
            if above.tag == "a":
                return True
    return False


def paragraph_elements(root):
    """A look-up: paragraph -> whether it is the text of one of the page's first <p> elements (word tokens)."""
    texts: set[str] | None = None

    def lookup(paragraph: str) -> bool:
        nonlocal texts
        if texts is None:
            texts = set() if root is None else {
                key(" ".join(p.itertext())) for p in itertools.islice(root.iter("p"), MAX_PARAGRAPHS)}
        return key(paragraph) in texts

    return lookup


def list_link_density(root, *, headings: bool = True):
    """A look-up: list-item text -> share of it that is link text, over the page's first <li>s.

    An item holding a linked heading is a story teaser (headline, then a standfirst that is
    not linked): it counts as all link, whatever the share of its words (headings=False: it
    counts by its words, as before).
    """
    table: dict[str, float] | None = None

    def lookup(paragraph: str) -> float | None:
        nonlocal table
        if table is None:
            table = {}
            if root is not None:
                for n, li in enumerate(root.iter("li")):
                    if n >= MAX_LIST_ITEMS:
                        break
                    text = key(" ".join(li.itertext()))
                    if text and text not in table:
                        linked = sum(len(key(" ".join(a.itertext()))) for a in li.iter("a"))
                        table[text] = 1.0 if headings and _linked_heading(li) else min(1.0, linked / len(text))
        return table.get(key(paragraph))

    return lookup

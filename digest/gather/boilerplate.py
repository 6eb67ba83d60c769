"""Whether one paragraph of a reading is page furniture rather than article text.

Lines no article is made of: sign-up and share prompts, "Read more:" teasers,
copyright and contact lines, a lone time stamp, a newswire's credit line, and
navigation bars between separators. Each rule reads the paragraph alone, but a
table's row is judged with its neighbours (drop_lone_bars). Pure: strings in,
a verdict out; extract.py applies them to every reading of a page.
"""

from __future__ import annotations

import re

# A whole paragraph that is one of these is never article text.
_JUNK_LINE = re.compile(
    r"^(subscribe|sign up|log in|thank you|thanks|advertisement|share|share this( article)?|tweet|print"
    r"|comments?|more news|news feed|editors['’]? picks?|related( articles| stories| posts)?|read more"
    r"|recommended|trending|most popular|most read|don['’]?t miss|leggi anche|see also|also read"
    r"|skip to (main )?content"
    r"|- (order reprints|print article|share|email|print))[.:!]?$",
    re.IGNORECASE,
)
# Paragraphs starting like this are cross-links to other stories.
_TEASER_START = re.compile(
    r"^(read more|read also|also read|related|recommended|see also|more|don['’]?t miss|watch|listen"
    r"|leggi anche|lesen sie auch|à lire aussi|lea también)\s*:", re.IGNORECASE)
# Short paragraphs containing any of these are sign-up, share, contact or legal furniture.
_JUNK_PHRASE = re.compile(
    r"indicates required|enter (your|a valid|correct) e-?mail|e-?mail address|successful+y subscribed"
    r"|thank you for (signing up|subscribing)|sign up for|signing up for|subscribe to|subscribe now"
    r"|newsletter|follow us|follow @|on twitter @|follow \w+ on (twitter|facebook|instagram|youtube)"
    r"|all rights reserved|copyright [©ⓒ]|[©ⓒ] ?\d{4}|originally published (on|in|at)"
    r"|non-commercial use|subscriber agreement|order reprints|an error has occurred"
    r"|this article has been sent to|have a tip\?|may be reached at|write to \w[\w .-]* at \S+@",
    re.IGNORECASE,
)
# A newswire's credit line closing a story: who else reported, not what.
_CREDIT_LINE = re.compile(r"contributed (to )?this (report|story)", re.IGNORECASE)
# Round 3, REJECTED (is_boilerplate's notices, off): the newswire's closing credits, who
# reported and who edited: "(Reporting by A; Editing by B)".
_WIRE_CREDIT = re.compile(r"^\(?\s*(additional )?(reporting|writing) by\b.*\b(editing|writing|reporting) by\b",
                          re.IGNORECASE)
# A legal notice names two or more of the furniture phrases ("personal, non-commercial use",
# "Subscriber Agreement"); it may run past SHORT_WORDS, so it is counted up to NOTICE_WORDS.
NOTICE_WORDS = 100
# A navigation bar between separators (is_separator_bar): parts of at most this many words, in a line
# at most this long (a longer line with bars is a table's row of text, left alone).
BAR_PART_WORDS = 5
BAR_CHARS = 300
_NUMBER = re.compile(r"[\d.,:%$€£+\-/ ]+")
# Parts of a post's byline or footer bar (is_separator_bar's meta_bars): who and when, tags, comment counts.
_META_PART = re.compile(r"(tags|tagged|permalink|posted (by|in|on)|published( in|:)|filed (under|in)|categories"
                        r"|leave a comment|no comments|\d+ comments?( »)?$|comments? \(\d+\)|digg this)\b", re.IGNORECASE)
DANGLING_WORDS = 6  # "Becky |": a piece of a bar cut at its separator
# Blog widgets (is_boilerplate's widgets, issue 29): an archive's month count ("June (2)", "March 2011 (14)"),
# a breadcrumb trail ("Home > News > Linux"), a comment section's own lines ("Leave a Reply", "No comments
# yet.", "RSS feed for comments on this post", "4 Responses to “Open Enrollment”").
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
COMMENTS_AFTER = 50
_ARCHIVE_COUNT = re.compile(rf"^({_MONTHS})( \d{{4}})? \(\d+\)$", re.IGNORECASE)
_CRUMB = re.compile(r"\s(?:>|»|›)\s")
COMMENT_HEAD = re.compile(
    r"^((\d+|no|one|two|three) (comments?|responses?|replies|thoughts)( (to|on) [\"“‘'].{1,150})?|leave a (reply|comment)"
    r"|post a comment|add (a|your) comment|comments? \(\d+\)|no comments yet|rss feed for comments on this post"
    r"|trackback uri)[.:!]?$", re.IGNORECASE)

# A time stamp standing alone ("November 20, 2019 - 11:28 AMT", "Updated at 1:23 p.m."): the
# page's metadata, not its text. A clock time with a year or an "updated"-like word, in a short
# line that does not end like a sentence.
_CLOCK = re.compile(r"\b\d{1,2}[:.h]\d{2}\b")
_STAMP_CONTEXT = re.compile(r"\b(1[89]|20)\d\d\b|^(updated|published|posted|last updated|modified)\b", re.IGNORECASE)
_MERIDIEM = re.compile(r"\s*\b[ap]\.m\.$", re.IGNORECASE)  # "1:23 p.m." ends in a full stop, not a sentence
STAMP_WORDS = 10
SHORT_WORDS = 40  # phrase rules only apply to paragraphs shorter than this


def is_boilerplate(paragraph: str, *, metadata_lines: bool = True, notices: bool = False,
                   separator_bars: bool = True, meta_bars: bool = True, widgets: bool = True) -> bool:
    """True for a paragraph that is page furniture rather than article text.

    metadata_lines: also a lone time stamp and a newswire's credit line (off: the rules before them);
    notices: also a newswire's reporting/editing credits, a longer legal notice and a cross-link
    in brackets (round 3, REJECTED: off unless asked for); separator_bars: also a bar of links
    between separators (issue 29); meta_bars: also byline and tag bars, and pieces of bars (is_separator_bar);
    widgets: also an archive's month count, a breadcrumb trail, a comment section's own lines (issue 29).
    """
    p = paragraph.strip().strip("*").strip()
    if not re.search(r"[^\W_]", p):
        return True  # "___", "* * *" and other separators
    if separator_bars and is_separator_bar(p, meta_bars=meta_bars):
        return True
    if _JUNK_LINE.match(p) or _TEASER_START.match(p) or (metadata_lines and is_time_stamp(p)):
        return True
    if widgets and (_ARCHIVE_COUNT.match(p) or COMMENT_HEAD.match(p) or is_breadcrumb(p)):
        return True
    if notices and p.startswith(("[", "(")) and _TEASER_START.match(p[1:].lstrip()):
        return True  # "[Related: ...]": the same cross-link, in brackets
    words = len(p.split())
    if notices and words < NOTICE_WORDS and _WIRE_CREDIT.match(p):
        return True
    if words < SHORT_WORDS:
        return bool(_JUNK_PHRASE.search(p) or (metadata_lines and _CREDIT_LINE.search(p)))
    phrase = _JUNK_PHRASE.search(p) if notices and words < NOTICE_WORDS else None
    return bool(phrase and any(m.group(0).lower() != phrase.group(0).lower()
                               for m in _JUNK_PHRASE.finditer(p, phrase.end())))


def is_separator_bar(paragraph: str, *, meta_bars: bool = True) -> bool:
    """A navigation bar written inline between separators: "« Older post | Main | Newer post »",
    "Transcript | Download mp4 | Download mp3". (A table's row, "| a | b |", is judged by its
    neighbours in drop_lone_bars: a lone row of links is navigation, rows together are a table.)
    meta_bars (issue 29): also a post's byline bar ("Posted by Kathy on April 6 | Permalink",
    "Staff | Tags: Doug Martin"), a piece of a bar left dangling at a separator ("Becky |", "- 1:46 pm |")
    and a previous/next bar open at one end ("« Older post | Main")."""
    if "|" not in paragraph or len(paragraph) > BAR_CHARS or paragraph.startswith("|"):
        return False
    if paragraph.startswith("«") and paragraph.endswith("»"):
        return True  # the previous and next posts around the blog's index
    if meta_bars and (paragraph.startswith("«") or paragraph.endswith("»") or _meta_bar(paragraph)):
        return True
    return paragraph.count("|") >= 2 and _bar_parts(paragraph) >= 2


def is_breadcrumb(paragraph: str) -> bool:
    """"Home > News > Linux & Opensource Blog": three or more parts of a few words between > » or ›."""
    parts = _CRUMB.split(paragraph.strip("| "))
    return len(parts) >= 3 and len(paragraph) <= BAR_CHARS and not paragraph.endswith((".", "!", "?")) and all(
        0 < len(part.split()) <= 4 and not _NUMBER.fullmatch(part) for part in parts)


def cut_at_comments(paragraphs: list[str]) -> list[str]:
    """The paragraphs before a comment section's heading ("4 Responses to ...", "Leave a Reply"), when one
    follows the text (COMMENTS_AFTER words or more; a comment count at the top is a link): readers' comments
    are not the article."""
    words = 0
    for i, paragraph in enumerate(paragraphs):
        if words >= COMMENTS_AFTER and len(paragraph) <= 200 and COMMENT_HEAD.match(paragraph.strip()):
            return paragraphs[:i]
        words += len(paragraph.split())
    return paragraphs


def _meta_bar(paragraph: str) -> bool:
    if paragraph.rstrip().endswith("|") and len(paragraph.split()) <= DANGLING_WORDS:
        return True
    return any(_META_PART.match(part.strip(" -•·\\")) for part in paragraph.split("|"))


def _bar_parts(paragraph: str) -> int:
    """How many parts a bar has when every part is a few words that end no sentence and none is a figure
    (a row of figures is data); 0 when some part is not like that."""
    parts = [part for part in (p.strip(" \\") for p in paragraph.split("|")) if part]
    if all(len(part.split()) <= BAR_PART_WORDS and not part.endswith((".", "!", "?", ":"))
           and not _NUMBER.fullmatch(part) for part in parts):
        return len(parts)
    return 0


def _table_row(paragraph: str) -> bool:
    return paragraph.startswith("|") and paragraph.endswith("|")


def _lone_cell(row: str) -> bool:
    """"| TRENDING TODAY |": a row of one cell of a few words that ends no sentence (a layout table's label)."""
    cells = [c for c in (c.strip() for c in row.strip("|").split("|")) if c]
    return len(cells) == 1 and len(cells[0].split()) <= BAR_PART_WORDS and not cells[0].endswith((".", "!", "?"))


def drop_lone_bars(paragraphs: list[str], *, widgets: bool = True) -> list[str]:
    """A table row standing alone whose cells are a few words each ("| < Prev | Next > |", a layout table's
    "| Home \\| News \\| Contact |") is a navigation bar; rows next to rows are a table and stay."""
    kept = []
    for i, p in enumerate(paragraphs):
        lone = _table_row(p) and len(p) <= BAR_CHARS and not (
            i > 0 and _table_row(paragraphs[i - 1]) or i + 1 < len(paragraphs) and _table_row(paragraphs[i + 1]))
        if not (lone and (_bar_parts(p) >= 2 or widgets and _lone_cell(p))):
            kept.append(p)
    return kept


def is_time_stamp(paragraph: str) -> bool:
    """True for a line that is only a date and time (a publication or update stamp)."""
    p = paragraph.strip()
    if len(p) > 40 * STAMP_WORDS or len(p.split()) > STAMP_WORDS:  # checked before any pattern runs
        return False
    p = _MERIDIEM.sub("", p)
    return not p.endswith((".", "!", "?", "…", "。")) and bool(_CLOCK.search(p)) and bool(_STAMP_CONTEXT.search(p))

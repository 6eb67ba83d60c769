"""The plain data that flows between the pipeline stages.

Stages never import each other; they exchange these frozen dataclasses, and
only digest.flows chains them. Nothing here touches a database or network.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

# The fixed mark of issues rendered before marks were random; only read back from old rows.
LEGACY_UNSUBSCRIBE_MARK = "@@UNSUBSCRIBE_URL@@"
# Unicode's directional marks, embeddings, overrides and isolates: in feed text they can make a line read in an
# order other than it is written ("Trojan Source"), in a subject, a summary or a console page alike.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi(text: str) -> str:
    return _BIDI_CONTROLS.sub("", text)


def new_personal_mark() -> str:
    """Where each reader's own unsubscribe link goes, random per render.

    Feed text is written before the issue is rendered and cannot guess 128
    random bits, so no title, link or image URL from a feed can carry the mark
    and be turned into a copy of every reader's personal link.
    """
    return f"@@unsubscribe-{secrets.token_hex(16)}@@"


class DotlessMessage(bytes):
    """A message in which no line starts with "." (render.message builds each reader's copy so).

    The SMTP transport sends it without the dot-stuffing scan, which cost
    20 us a message: more than the rest of building it.
    """


@dataclass(frozen=True)
class FeedEntry:
    """One entry as a source offered it, already sanitized to plain text."""

    uid: str
    link: str
    title: str
    text: str
    source_name: str
    source_url: str
    published: datetime | None = None
    categories: tuple[str, ...] = ()
    author: str = ""
    # Lead image: an http(s) URL (never javascript:, data: or a tracking pixel) and its alt text.
    image_url: str = ""
    image_alt: str = ""
    image_width: int = 0  # the chosen rendition's width in px; 0: unknown


@dataclass(frozen=True)
class FetchResult:
    """What one source gave: entries, or the error that made us skip it."""

    source_name: str
    source_url: str
    entries: tuple[FeedEntry, ...] = ()
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    modified: str | None = None
    final_url: str | None = None
    # Where to fetch this source from next time (a permanent redirect, a discovered feed); identity stays
    # on source_url. None: keep what is remembered; "": forget it and go back to the configured URL.
    fetch_url: str | None = None
    # Filled in by the pipeline once stored: entries not seen before, and how many of those are backlog
    # (a first run's older entries, stored but never mailed).
    new: int = 0
    backlog: int = 0

    def summary(self) -> str:
        """One line for the operator: what this source gave, and what of it can still be mailed."""
        if self.error:
            return f"ERROR {self.error}"
        if self.not_modified:
            return "not modified"
        return (f"{len(self.entries)} entries, {self.new} new ({self.new - self.backlog} mailable"
                f"{f', {self.backlog} backlog' if self.backlog else ''})")


@dataclass(frozen=True)
class ArticleItem:
    """An article as compose and render see it."""

    id: int
    title: str
    link: str
    source_name: str
    published: datetime | None  # None: the feed gave no date we could read (shown without one)
    categories: tuple[str, ...] = ()
    text: str = ""
    summary: tuple[str, ...] = ()
    # Other sources that carried the same story; compose keeps one copy and credits these,
    # with their versions' links in the same order ("" where a version had none).
    also_in: tuple[str, ...] = ()
    # Lead image (sanitized http(s) URL) and its alt text; "" when the article has none.
    image_url: str = ""
    image_alt: str = ""
    image_width: int = 0  # the chosen rendition's width in px; 0: unknown
    also_in_links: tuple[str, ...] = ()
    # The story's other versions (article ids, every one, a source's own included): what an editor splits.
    versions: tuple[int, ...] = ()
    # An earlier issue carried this story and this version brings substantial new text: that issue's web link.
    update_of: str = ""

    def __post_init__(self) -> None:
        # Read back from a draft's JSON they are lists: keep the item hashable like every other.
        object.__setattr__(self, "also_in_links", tuple(self.also_in_links))
        object.__setattr__(self, "versions", tuple(self.versions))


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[ArticleItem, ...]


@dataclass(frozen=True)
class IssueDraft:
    newsletter: str
    title: str
    description: str
    date: datetime
    sections: tuple[Section, ...]
    # Stories that did not fit (max_items, a section's max_items): kept for the next issue while fresh.
    held_back: tuple[int, ...] = ()
    # An editor's note at the top of the issue (editorial review); "" when none.
    note: str = ""

    @property
    def items(self) -> tuple[ArticleItem, ...]:
        return tuple(item for section in self.sections for item in section.items)


@dataclass(frozen=True)
class RenderedIssue:
    """Subject and both bodies; the bodies carry `mark` where each reader's unsubscribe link goes."""

    subject: str
    html: str
    text: str
    mark: str
    # In the "View in your browser" URL (?issue=<web_mark>) until the issue has an id to put there:
    # two issues on one day each keep their own permanent link.
    web_mark: str = ""

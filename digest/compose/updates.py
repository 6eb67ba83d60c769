"""A story an earlier issue already carried: sent again only as an update, when it brings substantial new text.

Readers of a daily digest saw yesterday's story; the same wire copy at a new link, or a
rewrite of the same facts, is a line they scroll past. An article updated with new
developments is news again, and is shown marked as an update, linking the earlier issue.

"Substantial new text", measured on the version's text (its first READ_CHARS characters),
sentence by sentence against every earlier sent version of the story (title and text):
a sentence is new when at least half of its content words (NEW_SENTENCE; words that are not
stop words, at least MIN_CONTENT of them) appear in none of the earlier versions. A reworded
sentence keeps the facts' words (names, numbers, nouns) and is not new; a new development
("the fire was under control after 14 hours; police investigators began work at the site")
brings its own. The version is an update when its new sentences hold at least UPDATE_WORDS
words and at least UPDATE_SHARE of its words: a paragraph of news, not a changed figure or a
standfirst (those are the kind of edit the same story gets all day), and not a long feature
that added a line at its end.

The work is bounded: the earlier versions are the included items of the newsletter's last
SENT_ISSUES issues (not roundups) within SENT_DAYS days, SENT_ITEMS at most, newest first
(the flow reads them: flows.story_memory); they are grouped together with the candidates,
so a story older than the grouping's date window (compose.stories.Rule.days) is not
matched anyway.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from digest.compose.story_evidence import STOP_WORDS, WORD, StoryItem

READ_CHARS = 20_000
NEW_SENTENCE = 0.5
MIN_CONTENT = 3
UPDATE_WORDS = 40
UPDATE_SHARE = 0.15
SENT_ISSUES = 7
SENT_DAYS = 7
SENT_ITEMS = 300
_SENTENCE = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+")


@dataclass(frozen=True)
class Sent:
    """A version an earlier issue carried: what grouping reads of it, and where readers saw it."""

    item: StoryItem  # id: the article's id
    issue_id: int
    issue_link: str  # the issue's web (archive) address


@dataclass(frozen=True)
class Memory:
    """What a newsletter remembers when grouping: earlier sent versions and the editors' choices."""

    sent: tuple[Sent, ...] = ()
    together: tuple[tuple[int, int], ...] = ()  # article id pairs an editor merged
    apart: tuple[tuple[int, int], ...] = ()  # article id pairs an editor split


def known_words(earlier: Sequence[StoryItem]) -> frozenset[str]:
    """Every word of the earlier versions (title, lead, text; READ_CHARS of each): what readers already had."""
    known: set[str] = set()
    for version in earlier:
        known.update(WORD.findall(f"{version.title}\n{version.lead}\n{version.text}"[:READ_CHARS].casefold()))
    return frozenset(known)


def new_text(text: str, known: frozenset[str]) -> tuple[int, int]:
    """(words in the new sentences of `text`, words of `text` read) against the earlier versions' words."""
    fresh = total = 0
    for sentence in _SENTENCE.split(text[:READ_CHARS]):
        words = WORD.findall(sentence.casefold())
        total += len(words)
        content = [w for w in words if len(w) > 1 and w not in STOP_WORDS]
        if len(content) >= MIN_CONTENT and sum(w not in known for w in content) >= NEW_SENTENCE * len(content):
            fresh += len(words)
    return fresh, total


def substantial(text: str, known: frozenset[str]) -> int:
    """The words of new text when they make the version an update (see the module's docstring), else 0."""
    fresh, total = new_text(text, known)
    return fresh if fresh >= UPDATE_WORDS and fresh >= UPDATE_SHARE * total else 0

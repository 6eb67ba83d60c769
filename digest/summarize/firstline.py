"""What the text's first line may lean on: the headline above it, and nothing else.

A digest's reader sees the headline over the summary, so a first line's "It" or "This" reads (extractive.py lets
them through). But "This man hates you and your start-up." points at a picture, and "That concession came after..."
at a standfirst the reader never sees: a demonstrative's noun that the headline does not name is a reference the
summary cannot carry (blind reads of outside pages, issue 29, eighth round). A first line that opens with a
reaction to the headline ("Sure, 7-segment displays are common...") answers it as a pronoun would.
"""

from __future__ import annotations

import re

from digest.summarize.readable import NOW, stem

__all__ = ["answers_headline", "points_past_headline"]

_POINTING = re.compile(r"^[\"'“‘(]?((?i:this|that|these|those))\s+(?!(?i:" + NOW + r"))"
                       r"((?:[a-z][\w'’-]*\s+){0,2}[a-z][\w'’-]*)")
_NOT_NOUNS = frozenset("is are was were be been has have had do does did will would can could may might must shall "
                       "should not also just only still even never always in on at of to for by with from as and or "
                       "but one".split())
_REACTION = re.compile(r"^[\"'“‘]?(?:well|okay|ok|alright|all right|yes|sure)\s*,\s*(?=\S)", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def points_past_headline(sentence: str, title: str | None) -> bool:
    """Whether a first line opens on "This/That/These/Those" and a noun phrase that the headline does not name."""
    found = _POINTING.match(sentence)
    if not found or not title:
        return False  # no headline known (a text alone): nothing to judge by
    singular = found.group(1).lower() in ("this", "that")
    phrase = []
    for word in _WORD.findall(found.group(2)):  # as the headline's words are cut: "live-action" is "live", "action"
        if word in _NOT_NOUNS or word.endswith("ed") or (singular and phrase and word.endswith("s")):
            break  # the verb: "This man hates", "That concession came" ends at the word list
        phrase.append(word)
    named = {stem(w) for w in _WORD.findall(title.lower())}
    return bool(phrase) and not any(stem(w.lower()) in named for w in phrase)


def answers_headline(sentence: str) -> bool:
    """Whether a sentence opens with a reaction ("Sure,", "Well,") that a first line can only be giving the headline."""
    return bool(_REACTION.match(sentence))

"""The wording table compiled for matching: one pattern per family, and which longer phrases of other families
can take a family's words away.

Apart from classify.py so the decision rules and the matching machinery each stay readable; bench/bounces.py
builds one per scored family, leaving that family's own dev phrases out.
"""

from __future__ import annotations

import bisect
import itertools
import re

from digest.inbound import wording

# Sections of wording.txt that refine another family rather than compete with it (lda_userunknown is a kind of
# userunknown): a longer phrase there never takes words away from another family.
OVERLAY_FAMILIES = frozenset({"lda_userunknown"})


class Matcher:
    """One compiled pattern per family; "a … b" parts must appear in order with a short gap."""

    def __init__(self, phrases: list[wording.Phrase]) -> None:
        self.rules = frozenset(phrase.text for phrase in phrases if phrase.reason == "rule")
        by_family: dict[str, list[str]] = {}
        for phrase in phrases:
            if phrase.reason == "rule":
                continue
            parts = [re.escape(part.strip()) for part in phrase.text.split("…")]
            by_family.setdefault(phrase.reason, []).append(r".{0,40}?".join(parts))
        self.patterns = {family: re.compile("|".join(f"(?:{p})" for p in sorted(set(alternatives))))
                         for family, alternatives in by_family.items()}
        # Per family, the other families' phrases that hold one of its phrases inside them (by their text): the
        # only ones that can take its words away (says()), so only they are looked for.
        texts = [(p.reason, p.text, [part.strip() for part in p.text.split("…")]) for p in phrases
                 if p.reason not in ("rule", *OVERLAY_FAMILIES)]
        joined = "\n".join(text for _, text, _ in texts)
        starts = list(itertools.accumulate((len(text) + 1 for _, text, _ in texts), initial=0))
        longer: dict[str, set[str]] = {}
        for family, text, parts in texts:
            key = max(parts, key=len)
            at = joined.find(key)
            while at != -1:
                other, other_text, _ = texts[bisect.bisect_right(starts, at) - 1]
                if other != family and len(other_text) > len(text) and all(part in other_text for part in parts):
                    longer.setdefault(family, set()).add(
                        r".{0,40}?".join(re.escape(part.strip()) for part in other_text.split("…")))
                at = joined.find(key, at + 1)
        self.longer = {family: re.compile("|".join(f"(?:{p})" for p in sorted(found)))
                       for family, found in longer.items()}

    def says(self, family: str, words: str) -> bool:
        """Whether the family's wording is in `words`, other than inside a longer phrase of another family:
        "mailbox unavailable" is an unknown user's words, but inside Tencent's "mailbox unavailable or access
        denied" a rate limit's, and "quota exceeded" inside "submission quota exceeded" is our own quota."""
        pattern = self.patterns.get(family)
        if not words or pattern is None:
            return False
        return any(not self._swallowed(family, words, found.start(), found.end())
                   for found in itertools.islice(pattern.finditer(words), 8))

    def _swallowed(self, family: str, words: str, start: int, end: int) -> bool:
        pattern = self.longer.get(family)
        if pattern is None:
            return False
        for found in pattern.finditer(words, max(0, start - 120), min(len(words), end + 120)):
            if found.start() <= start and found.end() >= end and found.end() - found.start() > end - start:
                return True
        return False

    def allows(self, rule: str) -> bool:
        """Whether a decision rule named in wording.txt's [rule] section is on (off for its own dev families)."""
        return rule in self.rules

"""The page's title in its text: the headline run into the first paragraph, the site's masthead, the headline repeated
as a sentence with its kicker.

A digest shows the headline above the summary, so the headline inside the summary is furniture twice over. Extractors
leave it glued to the text ("North Korea launches rocket The Kwangmyongsong carrier rocket blasted off...", "November
13, 2012 Free Online Cryptography Course Dan Boneh of Stanford..."), and pages repeat it with a kicker and a dek
("Tag der Abstimmung: Niederlage für Johnson: Parlament vertagt Votum über Brexit-Deal - wie geht es jetzt weiter?").
"""

from __future__ import annotations

import re

__all__ = ["headline_parts", "is_headline", "without_masthead", "without_title"]

_TITLE_PARTS = re.compile(r"\s+[-|–—«»:]\s+")
_SITE_PARTS = re.compile(r"\s+[-|–—«»:]\s+|:\s+")  # "Schneier on Security: Micromorts" too
MASTHEAD_WORDS = 25  # words: the site's name and its motto, a masthead line, is no longer
HEADLINE_WORDS = 4  # words: a part of the title shorter than this is too likely a phrase of the story itself
KICKER_WORDS = 6  # words: a kicker before a repeated headline ("Tag der Abstimmung:") is no longer
_DATE = re.compile(r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,? )?(?:\d{1,2}\.? )?(?:Jan|Feb|Mar|Apr|May|Jun|"
                   r"Jul|Aug|Sep|Oct|Nov|Dec|Mär|Mai|Okt|Dez)[a-zä]*\.? (?:\d{1,2}(?:st|nd|rd|th)?,? )?\d{4}|"
                   r"\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_DEK = ("-", "–", "—", ":", "|", "?")  # what follows a repeated headline on its line: a dek or a question


def without_title(text: str, title: str) -> str:
    """The text without the headline run into one of its first paragraphs, with a section label or a date before it
    ("Technology Former Facebook workers launch...", "November 13, 2012 Free Online..."). The headline is the longest
    part of the title between separators ("... - CBS News"), or after a site's name and a colon ("Schneier on
    Security: Free Online Cryptography Course"). A headline that ends its paragraph or a sentence is left alone: that
    is a line or a sentence, not a glued headline."""
    title = title.strip()
    candidates = [max(_TITLE_PARTS.split(title), key=len), max(_SITE_PARTS.split(title), key=len)]
    for part in dict.fromkeys(p.strip().rstrip(".!?") for p in candidates):
        if len(part.split()) < HEADLINE_WORDS:
            continue
        words = r"\s+".join(map(re.escape, part.split()))
        found = re.search(r"(^|\n)([^\n]{0,60}?)" + words + r"[ \t]+(?-i:(?=[A-Z“\"‘']))", text[:len(part) + 400],
                          re.IGNORECASE)
        if found and len(_DATE.sub("", found.group(2)).split()) <= 2:  # else the headline's words inside a sentence
            return text[:found.start()] + found.group(1) + text[found.end():]
    return text


def without_masthead(text: str, title: str) -> str:
    """The text without a masthead line that opens a paragraph: the site's name as the title gives it, run into
    its motto ("Schneier on Security A blog covering security and security technology."). The name is a part of
    the title of two words or more; a capitalised word must follow it, so "The Guardian has learned..." stays."""
    parts = [p.strip() for p in _SITE_PARTS.split(title.strip()) if len(p.split()) >= 2]
    if not parts:
        return text
    names = "|".join(r"\s+".join(map(re.escape, p.split())) for p in parts)
    motto = r"(?:[^\s.!?]+\s+){0,%d}?[^\s.!?]*[.!?](?:\s+|$)" % MASTHEAD_WORDS
    return re.sub(r"(?m)^[ \t]*(?:" + names + r")[ \t]+(?=[A-Z])" + motto, "", text[:2000]) + text[2000:]


def headline_parts(title: str | None) -> set[str]:
    """The parts of a title between separators that may be the headline (three words or more)."""
    return {part for part in _TITLE_PARTS.split(title or "") if len(part.split()) >= 3}


def is_headline(sentence: str, title: str | None, parts: set[str]) -> bool:
    """The page's headline repeated as a sentence ("Shaping a Firefox feature - how does it work?"), alone or with a
    kicker before it and a dek after it."""
    bare = sentence.rstrip(".?!")
    if not title or len(bare.split()) < 3:
        return False
    if bare in parts or title.startswith(bare):
        return True
    for part in parts:
        at = sentence.find(part) if len(part.split()) >= HEADLINE_WORDS + 1 else -1
        if at >= 0:
            before, after = sentence[:at].rstrip(), sentence[at + len(part):].strip(" .!")
            if ((not before or (before.endswith((":", "-", "–", "—", "|")) and len(before.split()) <= KICKER_WORDS))
                    and (not after or after.startswith(_DEK)) and (before or after)):
                return True
    return False

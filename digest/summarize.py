"""Article text -> summary sentences, offline.

The default summarizer is extractive: it picks whole sentences, in article
order, so a summary can never misquote or cut a sentence. News puts the facts
first, so position weighs most; overlap with the title and centrality (how
much a sentence shares the article's frequent words) pick among the rest.
No model, no download: it runs anywhere the package installs.
"""

from __future__ import annotations

import math
import re
from collections import Counter

__all__ = ["split_sentences", "summarize"]

# Words that end with a period without ending a sentence.
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt", "gov", "sen",
    "rep", "pres", "rev", "hon", "no", "vs", "etc", "inc", "ltd", "co", "corp", "dept", "est", "fig", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mon", "tue", "wed", "thu", "fri", "sat", "sun", "u.s", "u.k", "e.g", "i.e", "a.m", "p.m",
}
STOPWORDS = set(
    "a an the and or but if of at by for with about against between into through during before after above "
    "below to from up down in out on off over under again further then once here there when where why how all "
    "any both each few more most other some such no nor not only own same so than too very can will just should "
    "now is are was were be been being have has had having do does did doing i me my we our you your he him his "
    "she her it its they them their what which who whom this that these those am would could said says also "
    "told according as".split()
)
_CANDIDATE = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")
# A photo caption ends with its credit: "... on Jan. 30, 2023. (Danilo Pavlov)" or "(Photo: AFP)".
_CAPTION = re.compile(r"[.!?]\s*\((?:photo|image|credit|getty|[A-Z][\w'’.-]*)(?:[:/ ]+[\w'’.-]+){0,4}\)\s*$",
                      re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d[\d,.]*", re.UNICODE)


def split_sentences(text: str) -> list[str]:
    """Split into sentences, keeping "Sept. 1", "U.S.", "7.5" and "22,816" whole."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n", text):
        paragraph = " ".join(paragraph.split())
        start = 0
        for match in _CANDIDATE.finditer(paragraph):
            end = match.end()
            before = paragraph[start:match.start() + 1]
            after = paragraph[end:end + 1]
            if _is_boundary(before, after):
                sentences.append(paragraph[start:end].strip())
                start = end
        if paragraph[start:].strip():
            sentences.append(paragraph[start:].strip())
    return sentences


def _is_boundary(before: str, after: str) -> bool:
    if not after or not (after.isupper() or after.isdigit() or after in "\"'“‘(["):
        return False
    if not before.endswith("."):
        return True
    last_word = before.rsplit(None, 1)[-1].rstrip(".").lower().lstrip("\"'“‘(")
    if last_word in ABBREVIATIONS:
        return False
    # A single capital before the period is an initial ("J. Smith"), not an end.
    return not (len(last_word) == 1 and last_word.isalpha())


def summarize(text: str, *, title: str | None = None, max_sentences: int = 3) -> list[str]:
    """The chosen sentences, in article order: at most `max_sentences`, never cut."""
    paragraphs = [p for p in re.split(r"\n\s*\n|\n", text) if not _CAPTION.search(p)]
    sentences = [s for s in split_sentences("\n".join(paragraphs)) if _is_prose(s)]
    if len(sentences) <= max_sentences:
        return sentences
    words = [_content_words(s) for s in sentences]
    frequency = Counter(w for ws in words for w in set(ws))
    title_words = set(_content_words(title or ""))
    scores = []
    for index, ws in enumerate(words):
        position = 1.0 / math.sqrt(index + 1)
        centrality = (sum(frequency[w] - 1 for w in set(ws)) / (len(set(ws)) or 1)) / max(frequency.values())
        overlap = len(title_words & set(ws)) / (len(title_words) or 1)
        length = min(len(ws), 20) / 20 if len(ws) >= 5 else 0.1
        scores.append(1.2 * position + 0.6 * centrality + 0.5 * overlap + 0.4 * length)
    chosen = sorted(range(len(sentences)), key=lambda i: scores[i], reverse=True)[:max_sentences]
    return [sentences[i] for i in sorted(chosen)]


def _is_prose(sentence: str) -> bool:
    """Real sentences only: page furniture ("Skip to content", "* indicates required",
    "Subscribe") has no closing punctuation or too few words to be news."""
    return len(sentence.split()) >= 3 and sentence.rstrip("\"'”’)]").endswith((".", "!", "?", "…"))


def _content_words(sentence: str) -> list[str]:
    return [w for w in (m.group().lower() for m in _WORD.finditer(sentence)) if w not in STOPWORDS and len(w) > 1]

"""Article text -> summary sentences, offline.

The default summarizer is extractive: it picks whole sentences, in article
order, so a summary can never misquote or cut a sentence. Each sentence gets
a score from a small linear model over cheap features: position, TextRank
centrality (how much a sentence shares with the sentences that share most
with the rest), similarity to the whole article, overlap with the title,
length, numbers and quotes; plus a fixed bonus that decays down the article,
because news puts the facts first. The weights live in digest/summarize/model.py,
fitted offline by bench/fit_summarizer.py; this module needs only the
standard library, no model file and no download.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from digest.summarize import model as summarize_model

__all__ = ["split_sentences", "summarize"]


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that end with a period without ending a sentence, by how sure we are.
# Titles before a name never end one ("Mr. J. Smith", "Dr. Jones", "e.g. this").
TITLES = {
    "mr", "mrs", "ms", "dr", "prof", "st", "mt", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "gov", "sen",
    "rep", "pres", "rev", "hon", "fr", "supt", "det", "insp", "messrs", "mme", "mlle", "e.g", "i.e", "cf", "vs", "viz",
    "approx", "ca", "nr", "ave", "blvd", "mgr",
}
# Only an abbreviation before a number: "No. 10", "Sept. 1, 2022", "Fig. 3" (but "The answer was no. Then").
BEFORE_NUMBER = {
    "no", "nos", "vol", "pp", "fig", "figs", "art", "sec", "ch", "op", "ed", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
}
# Often end a sentence too ("... in the U.S. The talks"): a boundary only before a typical sentence opener.
AMBIGUOUS = {"etc", "inc", "ltd", "co", "corp", "plc", "llc", "bros", "jr", "sr", "dept", "est", "govt", "al"}
OPENERS = _wordset(
    "the a an he she it they we i you this that these those there here his her its their our my your if when while "
    "as after before but and so yet or in on at for from by with since despite although though however meanwhile "
    "also then now still some many most one two both all no not what why how who where mr mrs ms dr besides instead "
    "indeed earlier later last next according under during among another each every such only even just"
)
STOPWORDS = _wordset(
    "a an the and or but if of at by for with about against between into through during before after above "
    "below to from up down in out on off over under again further then once here there when where why how all "
    "any both each few more most other some such no nor not only own same so than too very can will just should "
    "now is are was were be been being have has had having do does did doing i me my we our you your he him his "
    "she her it its they them their what which who whom this that these those am would could said says also "
    "told according as"
)
_CANDIDATE = re.compile(r"([.!?…]+)[\"'”’)\]]*(\s*)")
# A photo caption ends with its credit: "... on Jan. 30, 2023. (Danilo Pavlov)" or "(Photo: AFP)".
_CAPTION = re.compile(r"[.!?]\s*\((?:photo|image|credit|getty|[A-Z][\w'’.-]*)(?:[:/ ]+[\w'’.-]+){0,4}\)\s*$",
                      re.IGNORECASE)
# Page furniture that reads like prose ("Thank you for signing up for this newsletter."): chosen only as a last resort.
_FURNITURE = re.compile(r"\b(?:subscrib(?:e|ed|ing)\b|sign(?:ed|ing)? up\b|newsletters?\b|click here|"
                        r"all rights reserved|enable javascript|cookie policy|accept cookies)", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d[\d,.]*", re.UNICODE)
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
_OPENING = "\"'“‘(["
MAX_CANDIDATES = 250
_SAID = re.compile(r"\b(?:said|says|told|added)\b")
# The columns of sentence_features(), in the order of summarize_model.WEIGHTS.
FEATURES = ("first", "second", "position", "relative", "paragraph_start", "log_words", "short", "title_overlap",
            "centroid", "textrank", "log_textrank", "textrank_rank", "digits", "opens_with_quote", "said",
            "question", "capitals")


def split_sentences(text: str) -> list[str]:
    """Split into sentences, keeping "Sept. 1", "U.S.", "7.5", "22,816" and "Mr. J. Smith" whole."""
    return [sentence for sentence, _ in _sentences_with_breaks(text)]


def _sentences_with_breaks(text: str) -> list[tuple[str, bool]]:
    """(sentence, starts a paragraph) pairs; every line break ends a paragraph."""
    out: list[tuple[str, bool]] = []
    for paragraph in _PARAGRAPHS.split(text):
        paragraph = " ".join(paragraph.split())
        first = True
        start = 0
        for match in _CANDIDATE.finditer(paragraph):
            end = match.end()
            if end >= len(paragraph) or not _is_boundary(paragraph, start, match):
                continue
            sentence = paragraph[start:end].strip()
            if sentence:
                out.append((sentence, first))
                first = False
            start = end
        if paragraph[start:].strip():
            out.append((paragraph[start:].strip(), first))
    return out


def _is_boundary(paragraph: str, start: int, match: re.Match) -> bool:
    after = paragraph[match.end():match.end() + 1]
    token = paragraph[start:match.start()].rsplit(" ", 1)[-1]  # the word the punctuation ends
    if not match.group(2):
        # Glued sentences ("...website.He said"): a lower-case word, a stop, then a capitalised word; never a
        # decimal, initials, a domain or a path ("7.5", "U.S.", "example.com", "Bungie.net").
        rest = paragraph[match.end():].split(" ", 1)[0]
        return (match.group(1) in ".!?" and len(token) >= 2 and token[-2:].isalpha() and token[-2:].islower()
                and not any(c in token for c in "./@:") and rest[:1].isupper() and rest[1:2].islower()
                and not any(c in rest for c in ".@/"))
    if not (after.isupper() or after.isdigit() or after in _OPENING):
        return False
    if not match.group(1).endswith(".") or match.group(1).endswith(".."):
        return True  # "!", "?", "…", "...": a question or exclamation inside a sentence keeps a lower-case word after
    word = token.lstrip(_OPENING).lower()
    if word in TITLES:
        return False
    if word in BEFORE_NUMBER:
        return not after.isdigit()
    if word in AMBIGUOUS or (len(word) == 1 and word.isalpha()) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        # "Inc.", "p.m.", "U.S." and initials ("J. Smith", "World War I."): a boundary before "The", "He", ...
        following = paragraph[match.end():].split(" ", 1)[0].strip(_OPENING).lower()
        return following in OPENERS and not after.isdigit()
    return True


def summarize(text: str, *, title: str | None = None, max_sentences: int = 3) -> list[str]:
    """The chosen sentences, in article order: at most `max_sentences`, never cut."""
    if max_sentences <= 0:
        return []
    paragraphs = [p for p in _PARAGRAPHS.split(text) if not _CAPTION.search(p)]
    units = [(s, br) for s, br in _sentences_with_breaks("\n".join(paragraphs)) if _is_prose(s)]
    units = units[:MAX_CANDIDATES]  # centrality is quadratic; a summary never needs page 40 of a book
    sentences = [s for s, _ in units]
    if len(set(sentences)) <= max_sentences:
        return list(dict.fromkeys(sentences))
    if summarize_model.FEATURES != FEATURES:
        raise RuntimeError("digest/summarize/model.py is stale: regenerate it with bench/fit_summarizer.py")
    rows = sentence_features(sentences, [br for _, br in units], title)
    weights, bias, lead = summarize_model.WEIGHTS, summarize_model.BIAS, summarize_model.LEAD_PRIOR
    # The fitted log-odds, plus a fixed bonus for the top of the article: the lede (see summarize_model).
    scores = [bias + sum(w * x for w, x in zip(weights, row)) + lead / math.sqrt(i + 1) for i, row in enumerate(rows)]
    ranked = sorted(range(len(sentences)), key=lambda i: (_FURNITURE.search(sentences[i]) is None, scores[i]),
                    reverse=True)
    chosen: dict[str, int] = {}  # a sentence repeated in the article is chosen once, at its first place
    for i in ranked:
        if len(chosen) == max_sentences:
            break
        chosen.setdefault(sentences[i], sentences.index(sentences[i]))
    return sorted(chosen, key=chosen.__getitem__)


def sentence_features(sentences: list[str], paragraph_starts: list[bool], title: str | None) -> list[list[float]]:
    """One row per sentence, columns as in FEATURES (bench/fit_summarizer.py fits on these very rows)."""
    n = len(sentences)
    vectors = [Counter(_content_words(s)) for s in sentences]
    norms = [math.sqrt(sum(c * c for c in v.values())) for v in vectors]
    centrality = _textrank(vectors, norms)
    order = sorted(range(n), key=lambda i: -centrality[i])
    rank = [0] * n
    for position, i in enumerate(order):
        rank[i] = position
    total: Counter = Counter()
    for v in vectors:
        total.update(v)
    total_sq = sum(c * c for c in total.values())
    title_words = set(_content_words(title or ""))
    rows = []
    for i, (sentence, v) in enumerate(zip(sentences, vectors)):
        dot = sum(c * total[w] for w, c in v.items())
        self_sq = norms[i] * norms[i]
        rest = math.sqrt(max(total_sq - 2 * dot + self_sq, 0.0))
        centroid = (dot - self_sq) / (norms[i] * rest) if norms[i] and rest else 0.0
        words = sentence.split()
        overlap = len(title_words.intersection(v)) / len(title_words) if title_words else 0.0
        capitals = sum(1 for w in words[1:] if w[:1].isupper()) / max(len(words) - 1, 1)
        rows.append([
            1.0 if i == 0 else 0.0,
            1.0 if i == 1 else 0.0,
            1.0 / (i + 1),
            i / (n - 1) if n > 1 else 0.0,
            1.0 if paragraph_starts[i] else 0.0,
            math.log(1 + len(words)),
            1.0 if len(words) < 8 else 0.0,
            overlap,
            centroid,
            centrality[i],
            math.log(centrality[i] + 0.05),
            rank[i] / n,
            1.0 if any(ch.isdigit() for ch in sentence) else 0.0,
            1.0 if sentence[:1] in "\"'“‘" else 0.0,
            1.0 if _SAID.search(sentence) else 0.0,
            1.0 if sentence.rstrip("\"'”’)").endswith("?") else 0.0,
            capitals,
        ])
    return rows


def _textrank(vectors: list[Counter], norms: list[float], damping: float = 0.85) -> list[float]:
    """PageRank over the cosine-similarity graph of the sentences; 1.0 is the average sentence."""
    n = len(vectors)
    postings: dict[str, list[tuple[int, int]]] = {}
    for i, v in enumerate(vectors):
        for w, c in v.items():
            postings.setdefault(w, []).append((i, c))
    sim = [[0.0] * n for _ in range(n)]
    for plist in postings.values():
        for a in range(len(plist)):
            i, ci = plist[a]
            row = sim[i]
            for j, cj in plist[a + 1:]:
                row[j] += ci * cj
    for i in range(n):
        for j in range(i + 1, n):
            if sim[i][j]:
                sim[i][j] = sim[j][i] = sim[i][j] / (norms[i] * norms[j])
    out = [sum(row) for row in sim]
    incoming = [[(j, sim[j][i] / out[j]) for j in range(n) if sim[j][i]] for i in range(n)]
    scores = [1.0] * n
    for _ in range(50):
        new = [(1 - damping) + damping * sum(w * scores[j] for j, w in links) for links in incoming]
        done = max(abs(a - b) for a, b in zip(new, scores)) < 1e-4
        scores = new
        if done:
            break
    return scores


def _is_prose(sentence: str) -> bool:
    """Real sentences only: page furniture ("Skip to content", "* indicates required",
    "Subscribe") has no closing punctuation or too few words to be news."""
    return len(sentence.split()) >= 3 and sentence.rstrip("\"'”’)]").endswith((".", "!", "?", "…"))


def _content_words(sentence: str) -> list[str]:
    return [w for w in (m.group().lower() for m in _WORD.finditer(sentence)) if w not in STOPWORDS and len(w) > 1]

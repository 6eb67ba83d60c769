"""Article text -> summary sentences, offline, standard library only.

Whole sentences, in article order, so a summary can never misquote. News puts
its facts first and repeats them further down, so a sentence's score is a
position prior (flat over the lede, decaying after it) plus its centrality with
respect to the sentences and captions that FOLLOW it (PACSUM's directed
centrality: a sentence that later text elaborates is a summary sentence, one
that echoes earlier text is not), minus penalties for quotations and for length
beyond what a reader takes in at a glance. Six round constants, chosen on a
coarse grid with 2-fold cross-validation against human-written summaries
(bench/fit_summarizer.py); nothing is fitted per word or per feature.

Choosing is then constrained so the summary reads like a lede and not like a
cut-up: captions, furniture, code and fragments are never candidates; a sentence
that leans on the one before it (a pronoun, "But", a quotation that started
earlier) comes only with that sentence; a surname whose full name was given in
a skipped sentence is not left dangling; near-duplicates are chosen once.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import NamedTuple

from digest.summarize.furniture import is_caption
from digest.summarize.split import Unit, is_furniture, split_sentences, units, word_count
from digest.summarize.readable import (dangling_names, english, fragment, leans_on_adjacent, leans_on_previous, list_intro,
                                      name_intros, pronoun_dangles, starts_mid_sentence, teaser)

__all__ = ["Weights", "WEIGHTS", "choose", "split_sentences", "summarize"]


class Weights(NamedTuple):
    lead: int  # the first `lead` real sentences share the top position prior (the lede is often 3-4 sentences)
    position: float  # after them the prior decays as (lead / (k + 1)) ** position for the k-th real sentence
    centrality: float  # weight of directed centrality (normalised to 1 for the article's most central sentence)
    quote: float  # penalty for a sentence with a quotation in it: summaries state facts, articles quote people
    length: float  # penalty per `pivot` words beyond `pivot`: F1 against a short summary punishes long sentences
    pivot: float  # words: a sentence this long costs nothing extra
    words: int  # a summary stops before the sentence that would take it past this many words (0: no such stop)


# Chosen by bench/fit_summarizer.py on 243 CNN/DM articles with journalists' highlights; its 2-fold cross-validated
# figures (each half scored with the point chosen on the other) are there and in bench/README.md. The six earlier
# constants are the grid's second point of the 2026-11-30 round (the first drops the key figure of the seed page's
# story for a quote); `words` (issue 29): 90, the best of the 720 points on all 243 (in-sample) and fold B's choice for
# fold A (fold A chose 80 by the summed ROUGE, 100 by the smallest margin over Lead-3). It was 100 while the seed page's
# summary lost its key figure at 90; since a text's first line may open a summary (its "They" points at the headline)
# the seed's summary is the same at 90 and at 100.
WEIGHTS = Weights(lead=4, position=1.0, centrality=1.0, quote=0.2, length=0.5, pivot=30.0, words=90)
MAX_NODES = 80  # sentences and captions looked at; centrality is quadratic and a summary never needs page 40
MAX_TEXT_CHARS = 100_000  # read no further: 80 sentences come well before this, and a hostile text may be megabytes
SHORT = 6  # words: shorter sentences ("He declined.") are poor summary sentences
DUPLICATE = 0.6  # share of the smaller sentence's content words found in a chosen one: a near-duplicate

STOPWORDS = frozenset(
    "a an the and or but if of at by for with about against between into through during before after above "
    "below to from up down in out on off over under again further then once here there when where why how all "
    "any both each few more most other some such no nor not only own same so than too very can will just should "
    "now is are was were be been being have has had having do does did doing i me my we our you your he him his "
    "she her it its they them their what which who whom this that these those am would could said says also "
    "told according as".split()
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_KNOWN_THING = re.compile(r"[\"'“‘(]?(?:The|This|These|Those|That|Such) (?![A-Z])")  # "The survey", not "The Guardian"
_LIST_LINE = re.compile(r"(?:[-–*•] |\d{1,2}[.)] )")
_QUOTATION = re.compile(r"[\"“‘]\w|(?:^|\s)'\w")


def summarize(text: str, *, title: str | None = None, max_sentences: int = 3) -> list[str]:
    """The chosen sentences, in article order: at most `max_sentences`, never cut (except an over-long teaser).

    `title` only finds the headline where an extractor ran it into the first paragraph (it is cut there); no
    title-aware weighting could be validated (the human-reference dev set has no titles)."""
    if max_sentences <= 0 or not text.strip():
        return []
    found = units(text[:MAX_TEXT_CHARS], title)
    if len(found) <= 2 or not any(u.prose for u in found):
        return teaser(found, max_sentences)  # a headline-like teaser, a wire brief, a one- or two-sentence article
    return choose(found, max_sentences, WEIGHTS)


def choose(found: list[Unit], max_sentences: int, weights: Weights = WEIGHTS) -> list[str]:
    """The best `max_sentences` real sentences of an article's units, under the readability rules, in order.

    Captions are never chosen but count as evidence: a sentence that a later caption repeats is one the
    editors thought mattered."""
    unique: dict[str, Unit] = {}
    for unit in found:
        if unit.prose or (word_count(unit.text) >= 3 and not is_furniture(unit.text)):
            unique.setdefault(unit.text, unit)  # a sentence repeated in the article counts once, at its first place
    nodes = list(unique.values())[:MAX_NODES]
    prose = [u for u in nodes if u.prose]
    bags = [Counter(_stem(w) for w in _content_words(u.text)) for u in nodes]
    scores = sentence_scores(nodes, bags, weights)
    where = [i for i, u in enumerate(nodes) if u.prose]
    sentences, bags = [u.text for u in prose], [bags[i] for i in where]
    scores = [scores[i] for i in where]
    intros = name_intros(sentences)
    after = _straight_after(found)
    direct = [after.get(id(u), True) for u in prose]
    lists = _after_list(found)
    listed = [id(u) in lists for u in prose]
    loose = _Loose(sentences)
    first_line = bool(prose) and found[0] is prose[0]  # the text opens with a sentence (no standfirst, no heading)
    ranked = sorted(range(len(sentences)), key=lambda i: -scores[i])
    intro = list_intro(found)
    if intro:
        ranked = [i for i in ranked if id(prose[i]) in intro]  # a list's intro says what the list is

    def acceptable(i: int, chosen: list[int]) -> bool:
        return _acceptable(i, chosen, prose, sentences, bags, intros, direct, listed, loose, first_line)

    chosen = _greedy(ranked, sentences, acceptable, max_sentences, weights.words)
    if 0 in ranked and 0 not in chosen and _lede_skipped(sentences, chosen):
        chosen = _greedy([0] + [i for i in ranked if i], sentences, acceptable, max_sentences, weights.words)
    if not chosen:  # nothing reads on its own (every sentence leans on another, or all is one quotation):
        chosen = list(range(min(max_sentences, len(sentences))))  # the lede is the least bad
    return [sentences[i] for i in sorted(chosen)]


def _greedy(ranked: list[int], sentences: list[str], acceptable, max_sentences: int, words: int) -> list[int]:
    """The best-ranked sentences that read together, until `max_sentences` or the word stop."""
    chosen: list[int] = []
    length = 0
    while len(chosen) < max_sentences:
        pick = next((i for i in ranked if i not in chosen and acceptable(i, chosen)), None)
        if pick is None or (chosen and words and length + word_count(sentences[pick]) > words):
            break  # a blurb that runs past `words` loses the reader (and F1 against a short reference) more than
            # a third sentence adds
        chosen.append(pick)
        length += word_count(sentences[pick])
    return chosen


def _lede_skipped(sentences: list[str], chosen: list[int]) -> bool:
    """Whether the summary should start from the text's first real sentence after all: a chosen sentence names
    something as known ("The phone survey found...", "The dire conditions were...", "The goal was...") and the
    lede, which usually introduces it (a poll, a collapse, a challenge) in other words, was left out. A lede of a
    few words or a question ("The answer is 2.", "What is it?") introduces nothing and stays out. Read as pairs on
    480 outside pages: 15 summaries change, 8 lose a dangling "the X", none reads worse (bench/README.md)."""
    lede = sentences[0]
    return (word_count(lede) >= SHORT and not lede.rstrip("\"'”’)").endswith("?")
            and any(_KNOWN_THING.match(sentences[i]) for i in chosen))


def sentence_scores(nodes: list[Unit], bags: list[Counter], weights: Weights) -> list[float]:
    """Position prior + directed centrality - quotation and length penalties, one score per real sentence
    (captions get none); positions count real sentences only, so a caption or byline is never the lede."""
    sim = _similarities(bags)
    directed = [sum(v for j, v in row.items() if j > i) for i, row in enumerate(sim)]
    top = max((d for d, u in zip(directed, nodes) if u.prose), default=0.0) or 1.0
    scores = [0.0] * len(nodes)
    k = 0
    for i, unit in enumerate(nodes):
        if not unit.prose:
            continue
        words = word_count(unit.text)
        score = 1.0 if k < weights.lead else (weights.lead / (k + 1)) ** weights.position
        score += weights.centrality * directed[i] / top
        score -= weights.length * max(0.0, words - weights.pivot) / weights.pivot
        if words < SHORT:
            score -= 1.0
        if _QUOTATION.search(unit.text):
            score -= weights.quote
        scores[i] = score
        k += 1
    return scores


def _straight_after(found: list[Unit]) -> dict[int, bool]:
    """id of each real sentence -> whether it follows the real sentence before it with nothing but captions between:
    a line that is not a sentence ("here's the front cover:") or a sentence that is furniture may be what it answers."""
    out, clear = {}, True
    for unit in found:
        if unit.prose:
            out[id(unit)], clear = clear, True
        elif not is_caption(unit.text):
            clear = False
    return out


class _Loose:
    """Which sentences read only straight after the one before them: "However,", a piece of a sentence, a noun
    phrase with a stop (English texts only). Judged when asked and kept: most sentences are never asked about."""

    def __init__(self, sentences: list[str]):
        self.sentences, self.known, self.judge = sentences, {}, None

    def only_after(self, i: int) -> bool:
        if i not in self.known:
            text = self.sentences[i]
            self.known[i] = leans_on_adjacent(text) or starts_mid_sentence(text)
            if not self.known[i]:
                if self.judge is None:
                    self.judge = english(self.sentences)
                self.known[i] = self.judge and fragment(text)
        return self.known[i]


def _after_list(found: list[Unit]) -> set[int]:
    """ids of the real sentences that come straight after a list's lines ("- The north end has two cracks")."""
    return {id(u) for before, u in zip(found, found[1:]) if u.prose and not before.prose and _LIST_LINE.match(before.text)}


def _acceptable(i: int, chosen: list[int], prose: list[Unit], sentences: list[str], bags: list[Counter],
                intros: dict[str, int], direct: list[bool], listed: list[bool], loose: _Loose, first_line: bool) -> bool:
    """Whether sentence i may join the chosen ones without a reader tripping over it."""
    if not prose[i].balanced:
        return False  # half of a quotation that runs over several sentences: never whole in a summary
    opens_text = i == 0 and first_line
    if (starts_mid_sentence if opens_text else leans_on_previous)(prose[i].text) and not any(j < i for j in chosen):
        return False  # it cannot open the summary; after an earlier chosen sentence it reads as news does. The text's
        # first line skips nothing: its "They" or "This" points at the headline, which the reader sees above it
    if loose.only_after(i) and (i - 1 not in chosen or not direct[i]):
        return False  # "However,", "Who knew", "This means": only straight after what they answer; a noun phrase
        # ("Sports broadcaster for a radio network.") or a piece of a sentence only straight after its sentence
    if not opens_text and pronoun_dangles(i, sentences, [j for j in chosen if j != i - 1] if listed[i] else chosen):
        return False  # a list between them: "This" or "It" points at the list, not at the sentence before
    if dangling_names(i, sentences, intros, chosen):
        return False
    words = bags[i]
    for j in chosen:
        shared = sum(1 for w in words if w in bags[j])
        if shared >= DUPLICATE * max(1, min(len(words), len(bags[j]))):
            return False
    return True


def _similarities(bags: list[Counter]) -> list[dict[int, float]]:
    """Cosine similarity of tf-idf vectors, as sparse rows: only pairs that share a word are computed."""
    n = len(bags)
    df: Counter = Counter()
    for bag in bags:
        df.update(bag.keys())
    idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
    vectors = [{w: c * idf[w] for w, c in bag.items()} for bag in bags]
    norms = [math.sqrt(sum(x * x for x in v.values())) or 1.0 for v in vectors]
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, vector in enumerate(vectors):
        for w, x in vector.items():
            postings.setdefault(w, []).append((i, x))
    dots: list[dict[int, float]] = [{} for _ in range(n)]
    for plist in postings.values():
        for a, (i, xi) in enumerate(plist):
            row = dots[i]
            for j, xj in plist[a + 1:]:
                row[j] = row.get(j, 0.0) + xi * xj
    sim: list[dict[int, float]] = [{} for _ in range(n)]
    for i, row in enumerate(dots):
        for j, d in row.items():
            sim[i][j] = sim[j][i] = d / (norms[i] * norms[j])
    return sim


def _content_words(sentence: str) -> list[str]:
    return [w for w in (m.group().lower() for m in _WORD.finditer(sentence)) if w not in STOPWORDS and len(w) > 1]


def _stem(word: str) -> str:
    """Just enough folding that "Klopp's" meets "Klopp" and "guards" meets "guard"."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word

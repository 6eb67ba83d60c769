"""What grouping reads of two items: each item's features, the candidate pairs, and each pair's evidence.

Kept apart from the rule (compose.stories) so the thresholds can be chosen on the evidence
computed once (bench/stories.py scores hundreds of rules on one pass of `pairs`).
"""

from __future__ import annotations

import heapq
import math
import re
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

TEXT_CHARS = 4000   # of lead + text read per item: the opening says what the event is
NAME_CHARS = 1800   # of the body's opening searched for proper names
SHINGLE_WORDS = 150
KEY_TERMS = 20      # an item's rarest terms, through which it finds candidates
VECTOR_TERMS = 60   # terms kept per TF-IDF vector
MAX_POSTING = 120   # a term carried by more items than this finds no candidates (hostile floods)
NEIGHBOURS = 40     # candidates compared per item
TITLE_ONLY_WORDS = 20  # fewer body words than this: judged on the headline
TITLE_JACCARD = 0.6
COPY_KEY = 16

WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
# A capitalised word after a word or a comma and one space: not a sentence's first word.
_NAME = re.compile(r"(?<=[\w,] )([A-Z][\w'’-]*\w|[A-Z])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
STOP_WORDS = frozenset("""a an the and or but nor of to in on at for with by from as is are was were be been being it its
this that these those he she they we you i his her their our your them him us me not no so if than then there here
has have had do does did will would can could should may might must shall also after before over under into about
up down out off new says said say how why what who whom which when where while all any some more most other such
only own same just very one two three first last now year years week day days time just like get got make made
""".split())
# Names every kind of story carries: they say nothing about which event it is.
_COMMON_NAMES = frozenset("""monday tuesday wednesday thursday friday saturday sunday january february march april
may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec mr mrs ms
dr ap afp reuters associated press cnn bbc updated update read more photo getty images twitter facebook instagram
youtube google news i u s us uk president government officials police today yesterday advertisement story image
video copyright file""".split())


@dataclass(frozen=True)
class StoryItem:
    """What grouping reads of an item: a wire copy and the same event's report share these."""

    id: str
    title: str
    lead: str = ""
    text: str = ""
    published: datetime | None = None
    source: str = ""




@dataclass
class _Features:
    vector: dict[str, float]
    names: frozenset[str]
    title_names: frozenset[str]
    title_numbers: frozenset[str]
    title_words: frozenset[str]
    mentioned: frozenset[str]  # names and headline words: what the item speaks of
    shingles: frozenset[int]
    body_words: int
    day: float | None


@dataclass(frozen=True)
class Pair:
    """Two items' evidence, before any threshold."""

    i: int
    j: int
    cosine: float
    names: float       # the shared names' weight (1 a name, less for names many items carry)
    copy: float        # Jaccard of the opening word triples
    names_clash: bool  # each headline names what the other item never mentions
    numbers_clash: bool  # each headline gives numbers the other lacks
    title_only: bool
    title_jaccard: float
    days: float | None
    duplicate: bool = False  # j is a copy of i (the same text on the same day): it takes i's story as it is


def pairs(items: Sequence[StoryItem]) -> list[Pair]:
    """The candidate pairs with their evidence; identical items come out as a pair of copies (copy 1.0)."""
    features = [_features(item) for item in items]
    first_of: dict[tuple, int] = {}
    found: list[Pair] = []
    unique: list[int] = []
    for index, item in enumerate(items):
        key = _copy_key(item, features[index])
        if key in first_of:  # the same item again: one story, no need to compare it with anything else
            found.append(Pair(first_of[key], index, 1.0, 99.0, 1.0, False, False, False, 1.0, 0.0, duplicate=True))
        else:
            first_of[key] = index
            unique.append(index)
    df = _weigh(features, unique)
    name_weight = _name_weights(features, unique)
    for i, j in _candidates(features, unique, df):
        found.append(_evidence(i, j, features[i], features[j], name_weight))
    return found


def _copy_key(item: StoryItem, features: _Features) -> tuple:
    """Equal for copies of one text on one calendar day: its COPY_KEY smallest word-triple hashes.

    Two texts share them by chance about as often as J**COPY_KEY for word-triple Jaccard J:
    near-identical copies (a flood) nearly always, two different reports (J <= 0.5) about once
    in 65,000 pairs.
    """
    day = math.floor(features.day) if features.day is not None else None
    if len(features.shingles) < 20:
        return item.title.strip().casefold(), features.shingles, day
    return tuple(heapq.nsmallest(COPY_KEY, features.shingles)), day


def _features(item: StoryItem) -> _Features:
    body = f"{item.lead}\n{item.text}"[:TEXT_CHARS]
    title = item.title[:500]
    words = WORD.findall(body.casefold())
    title_words = WORD.findall(title.casefold())
    counts: dict[str, float] = defaultdict(float)
    for w in title_words:
        if w not in STOP_WORDS and len(w) > 1:
            counts[w] += 2.0  # the headline says what the story is about
    for w in words:
        if w not in STOP_WORDS and len(w) > 1:
            counts[w] += 1.0
    names = _names(body[:NAME_CHARS])
    title_names = _title_names(title, names)
    published = item.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    opening = words[:SHINGLE_WORDS]
    all_names = frozenset(names | (title_names if len(words) < TITLE_ONLY_WORDS else set()))
    headline = frozenset(w for w in title_words if w not in STOP_WORDS)
    return _Features(
        vector=dict(counts), names=all_names, title_names=frozenset(title_names),
        title_numbers=frozenset(_NUMBER.findall(title)), title_words=headline,
        mentioned=all_names | title_names | headline,
        shingles=frozenset(_stable_hash(t) for t in zip(opening, opening[1:], opening[2:])),
        body_words=len(words), day=published.timestamp() / 86400 if published else None)


def _stable_hash(triple: tuple[str, str, str]) -> int:
    """The same in every process (str's hash() is salted per process): `digest stories` gives the same
    stories for the same input every run, and copies collapse alike (_copy_key keeps the smallest)."""
    return zlib.crc32("\x1f".join(triple).encode())


def _names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence, the common ones left out."""
    found = {word.casefold().removesuffix("'s").removesuffix("’s") for word in _NAME.findall(text)}
    return {word for word in found if len(word) > 1 and word not in STOP_WORDS and word not in _COMMON_NAMES}


def _title_names(title: str, body_names: set[str]) -> set[str]:
    """The headline's names (its first word when the text names it too), unless it capitalises every word."""
    words = WORD.findall(title)
    capitalised = [w for w in words[1:] if w[:1].isupper()]
    if len(words) > 2 and len(capitalised) > 0.6 * (len(words) - 1):
        return set()
    if words and words[0].casefold() in body_names:
        capitalised.append(words[0])
    return {w.casefold() for w in capitalised if w.casefold() not in STOP_WORDS and w.casefold() not in _COMMON_NAMES}


def _weigh(features: list[_Features], unique: list[int]) -> dict[str, int]:
    """TF-IDF in place (sublinear tf, smoothed idf over the batch), cut to the heaviest terms, unit length."""
    df: dict[str, int] = defaultdict(int)
    for k in unique:
        for term in features[k].vector:
            df[term] += 1
    n = len(unique)
    idf = {t: math.log((n + 1) / (d + 1)) + 1 for t, d in df.items()}
    tf = {c: 1 + math.log(c) for c in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)}
    for k in unique:
        weighted = [((tf.get(c) or 1 + math.log(c)) * idf[t], t) for t, c in features[k].vector.items()]
        top = heapq.nlargest(VECTOR_TERMS, weighted)
        norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
        features[k].vector = {t: w / norm for w, t in top}
    return df


def _name_weights(features: list[_Features], unique: list[int]) -> dict[str, float]:
    """1 for a name few items carry, less for one half the batch carries (a country, a big company)."""
    df: dict[str, int] = defaultdict(int)
    for k in unique:
        for name in features[k].names:
            df[name] += 1
    n = len(unique)
    return {name: 1.0 if n < 8 else min(1.0, math.log(n / d) / math.log(8)) for name, d in df.items()}


def _candidates(features: list[_Features], unique: list[int], df: dict[str, int]) -> list[tuple[int, int]]:
    """Each item's likeliest partners: shared weight over its heaviest shared terms, NEIGHBOURS at most."""
    postings: dict[str, list[int]] = defaultdict(list)
    keys = {}
    for k in unique:
        vector = features[k].vector
        shared = [t for t in vector if 1 < df[t] <= MAX_POSTING]  # a word no other item has finds nobody
        keys[k] = sorted(shared, key=lambda t: (-vector[t], t))[:KEY_TERMS]
        for term in keys[k]:
            postings[term].append(k)
    chosen: set[tuple[int, int]] = set()
    for k in unique:
        score: dict[int, float] = defaultdict(float)
        for term in keys[k]:
            posting = postings[term]
            if len(posting) > MAX_POSTING:
                continue
            for other in posting:
                if other != k:
                    score[other] += features[k].vector[term]
        best = sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:NEIGHBOURS]
        chosen.update((min(k, o), max(k, o)) for o, _ in best)
    return sorted(chosen)


def _evidence(i: int, j: int, a: _Features, b: _Features, name_weight: dict[str, float]) -> Pair:
    va, vb = a.vector, b.vector
    cosine = sum(va[t] * vb[t] for t in va.keys() & vb.keys())
    shared = sum(name_weight.get(name, 1.0) for name in a.names & b.names)
    copy = 0.0
    if min(len(a.shingles), len(b.shingles)) >= 20:
        common = len(a.shingles & b.shingles)
        copy = common / (len(a.shingles) + len(b.shingles) - common)
    title_union = a.title_words | b.title_words
    title_jaccard = len(a.title_words & b.title_words) / len(title_union) if title_union else 0.0
    days = abs(a.day - b.day) if a.day is not None and b.day is not None else None
    names_clash = (a.title_names and b.title_names and a.title_names.isdisjoint(b.mentioned)
                   and b.title_names.isdisjoint(a.mentioned))
    numbers_clash = (a.title_numbers and b.title_numbers and a.title_numbers - b.title_numbers
                     and b.title_numbers - a.title_numbers)
    return Pair(i, j, cosine, shared, copy, bool(names_clash), bool(numbers_clash),
                min(a.body_words, b.body_words) < TITLE_ONLY_WORDS, title_jaccard, days)

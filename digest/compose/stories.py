"""Items -> stories: which items report the same event, across sources and across recent issues.

Precision first: merging two stories hides news, showing a duplicate wastes a line. Two
items are one story when
- they were published within `Rule.days` of each other (undated items: no limit), and
- either their opening texts are nearly the same words (wire copy, an article updated at a
  new link: Jaccard of word triples >= `Rule.copy`), unless each headline names what the
  other item never mentions (automated reports: two companies' results, two scores),
- or their words are close (TF-IDF cosine of title, lead and opening text >= `Rule.cosine`,
  >= `Rule.apart` when the headlines share no word: two events in one place on one day share
  its names and much of its vocabulary, rarely a headline word) AND they share the event's particulars: at least `Rule.names` proper names (people,
  places, organisations; names of weekdays, months and the wire agencies do not count),
  weighted by how rare they are in the batch, and no clash between headlines (each names
  a place or a person the other item never mentions).
  Two earthquakes on one day share "earthquake", "magnitude" and "tsunami" but not the place.
Items without text (a title only) are one story when their headline words overlap
(Jaccard >= 0.6) with no clash of names, nor of numbers ("day 500", "day 501").
Then average linkage: two groups join only when their pairs' mean similarity (a pair that
is not one story counts 0) is at least `Rule.link`, so one loose pair cannot chain two
events together.

Work is bounded whatever comes in: each item is read up to TEXT_CHARS characters,
identical items collapse first, candidate pairs come from each item's rarest terms
through posting lists cut at MAX_POSTING, and each item is compared with at most
NEIGHBOURS others.
"""

from __future__ import annotations

import heapq
import math
import re
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

_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
# A capitalised word after a word or a comma and one space: not a sentence's first word.
_NAME = re.compile(r"(?<=[\w,] )([A-Z][\w'’-]*\w|[A-Z])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP = frozenset("""a an the and or but nor of to in on at for with by from as is are was were be been being it its
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


@dataclass(frozen=True)
class Rule:
    """The thresholds (bench/stories.py chooses them by cross-validation on events)."""

    cosine: float = 0.08
    names: float = 0.5
    copy: float = 0.5
    link: float = 0.10
    days: float = 7.0
    apart: float = 0.20  # the cosine needed when the headlines share no word


DEFAULT_RULE = Rule()


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


def group(items: Sequence[StoryItem], rule: Rule = DEFAULT_RULE) -> list[int]:
    """The story of each item: a number per item, equal for items of one story (the first item's index)."""
    return cluster(len(items), pairs(items), rule)


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


def same_story(pair: Pair, rule: Rule) -> float:
    """The pair's similarity when it passes the rule, else 0."""
    if pair.days is not None and pair.days > rule.days:
        return 0.0
    if pair.names_clash:  # not even a copy: automated reports (results, scores) share their words
        return 0.0
    if pair.copy >= rule.copy:
        return 1.0
    if pair.title_only:  # with text, headline numbers differ as a toll or a count is updated: no clash
        return pair.title_jaccard if pair.title_jaccard >= TITLE_JACCARD and not pair.numbers_clash else 0.0
    if pair.cosine >= (rule.cosine if pair.title_jaccard > 0 else max(rule.cosine, rule.apart)) \
            and pair.names >= rule.names:
        return pair.cosine
    return 0.0


def cluster(count: int, found: Sequence[Pair], rule: Rule) -> list[int]:
    """Average linkage over the pairs that pass the rule (a missing pair counts 0), best pair first."""
    parent = list(range(count))
    size = [1] * count
    links: list[dict[int, float]] = [{} for _ in range(count)]  # group root -> root -> summed similarity
    edges = []
    duplicates = {}
    for pair in found:
        if pair.duplicate:  # outside the linkage: ten thousand copies are one story, not a chain to average
            duplicates[pair.j] = pair.i
            continue
        score = same_story(pair, rule)
        if score > 0:
            edges.append((score, pair.i, pair.j))
            links[pair.i][pair.j] = links[pair.i].get(pair.j, 0.0) + score
            links[pair.j][pair.i] = links[pair.j].get(pair.i, 0.0) + score
    edges.sort(key=lambda edge: (-edge[0], edge[1], edge[2]))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for _, i, j in edges:
        a, b = root(i), root(j)
        if a == b or links[a].get(b, 0.0) / (size[a] * size[b]) < rule.link:
            continue
        if len(links[a]) < len(links[b]):
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        for other, total in links[b].items():  # small into large: each link moves O(log n) times
            if other != a:
                links[a][other] = links[a].get(other, 0.0) + total
                links[other][a] = links[other].get(a, 0.0) + total
                del links[other][b]
        links[a].pop(b, None)
        links[b] = {}
    roots = [root(duplicates.get(k, k)) for k in range(count)]
    first: dict[int, int] = {}
    return [first.setdefault(r, k) for k, r in enumerate(roots)]


def _features(item: StoryItem) -> _Features:
    body = f"{item.lead}\n{item.text}"[:TEXT_CHARS]
    title = item.title[:500]
    words = _WORD.findall(body.casefold())
    title_words = _WORD.findall(title.casefold())
    counts: dict[str, float] = defaultdict(float)
    for w in title_words:
        if w not in _STOP and len(w) > 1:
            counts[w] += 2.0  # the headline says what the story is about
    for w in words:
        if w not in _STOP and len(w) > 1:
            counts[w] += 1.0
    names = _names(body[:NAME_CHARS])
    title_names = _title_names(title, names)
    published = item.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    opening = words[:SHINGLE_WORDS]
    all_names = frozenset(names | (title_names if len(words) < TITLE_ONLY_WORDS else set()))
    headline = frozenset(w for w in title_words if w not in _STOP)
    return _Features(
        vector=dict(counts), names=all_names, title_names=frozenset(title_names),
        title_numbers=frozenset(_NUMBER.findall(title)), title_words=headline,
        mentioned=all_names | title_names | headline,
        shingles=frozenset(hash(t) for t in zip(opening, opening[1:], opening[2:])),
        body_words=len(words), day=published.timestamp() / 86400 if published else None)


def _names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence, the common ones left out."""
    found = {word.casefold().removesuffix("'s").removesuffix("’s") for word in _NAME.findall(text)}
    return {word for word in found if len(word) > 1 and word not in _STOP and word not in _COMMON_NAMES}


def _title_names(title: str, body_names: set[str]) -> set[str]:
    """The headline's names (its first word when the text names it too), unless it capitalises every word."""
    words = _WORD.findall(title)
    capitalised = [w for w in words[1:] if w[:1].isupper()]
    if len(words) > 2 and len(capitalised) > 0.6 * (len(words) - 1):
        return set()
    if words and words[0].casefold() in body_names:
        capitalised.append(words[0])
    return {w.casefold() for w in capitalised if w.casefold() not in _STOP and w.casefold() not in _COMMON_NAMES}


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

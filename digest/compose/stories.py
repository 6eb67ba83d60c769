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
NEIGHBOURS others (compose.story_evidence).

An editor's word overrides the evidence: pairs an editor split (`apart`) are never in one
story, pairs an editor merged (`together`) always are, unless that would put a split pair
together (a split is the later, narrower word: "not these two").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from digest.compose.story_evidence import TITLE_JACCARD, Pair, StoryItem, pairs

__all__ = ["DEFAULT_RULE", "Pair", "Rule", "StoryItem", "cluster", "group", "pairs", "same_story"]


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


def group(items: Sequence[StoryItem], rule: Rule = DEFAULT_RULE, *, together: Iterable[tuple[int, int]] = (),
          apart: Iterable[tuple[int, int]] = ()) -> list[int]:
    """The story of each item: a number per item, equal for items of one story (the first item's index).

    `together` and `apart` are index pairs an editor merged or split (see the module's docstring).
    """
    return cluster(len(items), pairs(items), rule, together=together, apart=apart)


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



def cluster(count: int, found: Sequence[Pair], rule: Rule, *, together: Iterable[tuple[int, int]] = (),
            apart: Iterable[tuple[int, int]] = ()) -> list[int]:
    """Average linkage over the pairs that pass the rule (a missing pair counts 0), best pair first;
    the editor's merges first, and no join that puts an editor's split pair in one story."""
    parent = list(range(count))
    size = [1] * count
    links: list[dict[int, float]] = [{} for _ in range(count)]  # group root -> root -> summed similarity
    split = [(i, j) for i, j in apart if 0 <= i < count and 0 <= j < count and i != j]
    split_items = {k for pair in split for k in pair}
    edges = []
    duplicates = {}
    for pair in found:
        if pair.duplicate and pair.i not in split_items and pair.j not in split_items:
            duplicates[pair.j] = pair.i  # outside the linkage: ten thousand copies are one story, not a chain
            continue
        score = same_story(pair, rule)
        if score > 0:
            edges.append((score, pair.i, pair.j))
            links[pair.i][pair.j] = links[pair.i].get(pair.j, 0.0) + score
            links[pair.j][pair.i] = links[pair.j].get(pair.i, 0.0) + score
    edges.sort(key=lambda edge: (-edge[0], edge[1], edge[2]))

    def root(k: int) -> int:
        k = duplicates.get(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def kept_apart(a: int, b: int) -> bool:
        return any({root(i), root(j)} == {a, b} for i, j in split)

    def join(a: int, b: int) -> None:
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

    for i, j in together:
        if 0 <= i < count and 0 <= j < count:
            a, b = root(i), root(j)
            if a != b and not kept_apart(a, b):
                join(a, b)
    for _, i, j in edges:
        a, b = root(i), root(j)
        if a == b or links[a].get(b, 0.0) / (size[a] * size[b]) < rule.link or (split and kept_apart(a, b)):
            continue
        join(a, b)
    roots = [root(k) for k in range(count)]
    first: dict[int, int] = {}
    return [first.setdefault(r, k) for k, r in enumerate(roots)]

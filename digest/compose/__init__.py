"""Articles -> an issue draft with sections, as the newsletter's config defines them.

A reader scans a digest top-down, so the order of work is the reader's:
1. One story, one entry: items reporting the same event (compose.stories:
   wire copy under other headlines, a rewrite, an article updated at a new
   link) appear once, crediting and linking the other versions in `also_in`
   and `also_in_links`. The copies are simply not in the issue, so the
   pipeline records them as left out and they never come back as news.
2. "Top stories" first (when `top_stories` > 0): the stories that score
   highest on source priority, how many sources carry them, and recency.
3. Then the configured sections, each taking articles by source name, feed
   category, or keyword in the title or text (case-insensitive, whole words).
   Each article lands in the first section that claims it, so nothing appears
   twice; a section with no rules is the "everything else" section. Without
   sections, each source becomes a section.
Newest first within sections (Top stories: best first; with rank_by_sources,
stories carried by more sources first), per-section limits, and empty sections
are left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from digest.compose.stories import StoryItem, group
from digest.compose.updates import SENT_ITEMS, Memory, Sent, known_words, substantial
from digest.settings import NewsletterSettings, SectionSettings
from digest.content import ArticleItem, IssueDraft, Section

OTHER_SECTION_TITLE = "More news"
# Recency counts 1 for a story published now, 1/2 at this age: a tie-breaker
# between stories of equal priority and coverage, not a trump over them.
RECENCY_HALF_LIFE_HOURS = 12.0
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A version leads over the newest one of its story when it has this many times the words, and this many more.
FULLER = 1.5
FULLER_WORDS = 40
TEXT_CHARS = 50_000  # of a text counted


def build_issue(newsletter: NewsletterSettings, items: Sequence[ArticleItem], date: datetime,
                memory: Memory | None = None) -> IssueDraft:
    """`memory`: earlier issues' versions and the editors' story choices (compose.updates)."""
    priority = {source.name: source.priority for source in newsletter.sources}
    stories = merge_duplicates(items, priority, memory)
    newest = sorted(stories, key=_newest_key, reverse=True)[: newsletter.max_items]
    sections: list[Section] = []
    if newsletter.top_stories > 0:
        top = pick_top_stories(newest, priority, date, newsletter.top_stories)
        if top:
            sections.append(Section(newsletter.top_stories_title, tuple(top)))
            chosen = {item.id for item in top}
            newest = [item for item in newest if item.id not in chosen]
    sections.extend(group_into_sections(newest, _rules(newsletter), by_sources=newsletter.rank_by_sources))
    placed = {item.id for section in sections for item in section.items}
    return IssueDraft(
        newsletter=newsletter.slug,
        title=newsletter.title,
        description=newsletter.description,
        date=date.astimezone(ZoneInfo(newsletter.timezone)),  # the reader's calendar day, not UTC's
        sections=tuple(sections),
        held_back=tuple(story.id for story in stories if story.id not in placed),
    )


def section_titles(newsletter: NewsletterSettings) -> tuple[str, ...]:
    """Every section an issue of this newsletter can have, in issue order: what a reader may choose from."""
    rules = _rules(newsletter)
    titles = [newsletter.top_stories_title] if newsletter.top_stories > 0 else []
    titles += [rule.title for rule in rules]
    if not any(not (rule.sources or rule.categories or rule.keywords) for rule in rules):
        if newsletter.sections:  # without sections, every source is one: nothing is left over
            titles.append(OTHER_SECTION_TITLE)
    return tuple(dict.fromkeys(titles))


def _rules(newsletter: NewsletterSettings) -> tuple[SectionSettings, ...]:
    return newsletter.sections or tuple(
        SectionSettings(title=source.name, sources=(source.name,)) for source in newsletter.sources
    )


def merge_duplicates(items: Sequence[ArticleItem], priority: dict[str, int],
                     memory: Memory | None = None) -> list[ArticleItem]:
    """One item per story (compose.stories.group), crediting and linking the other versions.

    Which version leads: the highest-priority source (the operator's word on whom readers
    trust); among its versions the fullest, when one has FULLER times the words of the
    newest (and FULLER_WORDS more), else the newest. The fullest, because the summary is
    drawn from the leading version's text: a wire copy cut to two paragraphs or a teaser
    summarizes worse than the full report. Otherwise the newest, which carries the latest
    figures (an article updated at a new link). `also_in` names each other source once,
    `also_in_links` its version's link; a source's own other version is not credited.

    With `memory` (compose.updates): the editors' merges and splits hold, and a story an
    earlier issue carried is left out unless a version brings substantial new text; then the
    version with the most new text leads, marked as an update of the latest earlier issue.
    """
    memory = memory or Memory()
    ordered = sorted(items, key=lambda item: (priority.get(item.source_name, 0), *_newest_key(item)), reverse=True)
    sent = memory.sent[:SENT_ITEMS]
    index: dict[int, int] = {}
    for k, article_id in enumerate([item.id for item in ordered] + [int(s.item.id) for s in sent]):
        index.setdefault(article_id, k)
    labels = group([StoryItem(id=str(item.id), title=item.title, text=item.text, published=item.published,
                              source=item.source_name) for item in ordered] + [s.item for s in sent],
                   together=[(index[a], index[b]) for a, b in memory.together if a in index and b in index],
                   apart=[(index[a], index[b]) for a, b in memory.apart if a in index and b in index])
    versions: dict[int, list[ArticleItem]] = {}
    for item, label in zip(ordered, labels):
        versions.setdefault(label, []).append(item)
    earlier: dict[int, list[Sent]] = {}
    for version, label in zip(sent, labels[len(ordered):]):
        earlier.setdefault(label, []).append(version)
    stories = []
    for label, story in versions.items():
        lead, update_of = _fullest(story, priority), ""
        if label in earlier:
            known = known_words([s.item for s in earlier[label]])
            words, fresh = max(((substantial(item.text, known), item) for item in story), key=lambda pair: pair[0])
            if not words:
                continue  # already sent, nothing new: its versions are used up
            lead, update_of = fresh, max(earlier[label], key=lambda s: s.issue_id).issue_link
        also_in, links = credit(lead, story)
        stories.append(replace(lead, also_in=also_in, also_in_links=links, update_of=update_of,
                               versions=tuple(item.id for item in story if item.id != lead.id)))
    return stories


def credit(lead: ArticleItem, story: Sequence[ArticleItem]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(also_in, also_in_links): each other source once, its first version's web link ("" when it has none)."""
    credited: dict[str, str] = {}
    for other in story:
        if other.source_name != lead.source_name and other.source_name not in credited:
            credited[other.source_name] = other.link if other.link.startswith(("https://", "http://")) else ""
    return tuple(credited), tuple(credited.values())


def _fullest(story: list[ArticleItem], priority: dict[str, int]) -> ArticleItem:
    """The first (best priority, newest) version, unless one of equal priority is much fuller."""
    first = story[0]
    rank = priority.get(first.source_name, 0)
    words = {id(item): len(_WORD.findall(item.text[:TEXT_CHARS])) for item in story}
    fullest = max((item for item in story if priority.get(item.source_name, 0) == rank), key=lambda i: words[id(i)])
    much_fuller = words[id(fullest)] >= max(FULLER * words[id(first)], words[id(first)] + FULLER_WORDS)
    return fullest if much_fuller else first


def pick_top_stories(items: Sequence[ArticleItem], priority: dict[str, int], now: datetime,
                     count: int) -> list[ArticleItem]:
    """The `count` best stories, best first."""
    return sorted(items, key=lambda item: (story_score(item, priority, now), *_newest_key(item)),
                  reverse=True)[:count]


def story_score(item: ArticleItem, priority: dict[str, int], now: datetime) -> float:
    """Source priority + one per other source carrying the story + recency in (0, 1]."""
    if item.published is None:
        recency = 0.0  # no date: no claim to be recent
    else:
        age_hours = max((_aware(now) - _aware(item.published)).total_seconds() / 3600, 0.0)
        recency = math.pow(0.5, age_hours / RECENCY_HALF_LIFE_HOURS)
    return priority.get(item.source_name, 0) + len(item.also_in) + recency


def group_into_sections(items: Sequence[ArticleItem], rules: Sequence[SectionSettings], *,
                        by_sources: bool = False) -> tuple[Section, ...]:
    """`by_sources` (the newsletter's rank_by_sources): within a section, stories more sources carry first,
    before a section's limit cuts: a story three papers ran is likelier the day's news than one only one did."""
    buckets: dict[str, list[ArticleItem]] = {rule.title: [] for rule in rules}
    catch_all = next((rule.title for rule in rules if not (rule.sources or rule.categories or rule.keywords)),
                     None)
    matchers = [(rule, _keyword_pattern(rule.keywords)) for rule in rules]
    leftovers: list[ArticleItem] = []
    order = (lambda item: (len(item.also_in), *_newest_key(item))) if by_sources else _newest_key
    for item in sorted(items, key=order, reverse=True):
        rule = next((rule for rule, keywords in matchers if _claims(rule, keywords, item)), None)
        if rule is not None:
            buckets[rule.title].append(item)
        elif catch_all is not None:
            buckets[catch_all].append(item)
        else:
            leftovers.append(item)
    limits = {rule.title: rule.max_items for rule in rules}
    sections = [
        Section(title, tuple(bucket[: limits[title]] if limits[title] else bucket))
        for title, bucket in buckets.items()
        if bucket
    ]
    if leftovers:
        sections.append(Section(OTHER_SECTION_TITLE, tuple(leftovers)))
    return tuple(sections)


def _claims(rule: SectionSettings, keywords: re.Pattern[str] | None, item: ArticleItem) -> bool:
    if item.source_name in rule.sources:
        return True
    wanted = {c.casefold() for c in rule.categories}
    if any(c.casefold() in wanted for c in item.categories):
        return True
    return keywords is not None and (keywords.search(item.title) is not None or keywords.search(item.text) is not None)


def _keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """Whole words or phrases, any case, any run of spaces between a phrase's words: "Kyiv" never matches "Kyivstar"."""
    phrases = [r"\s+".join(re.escape(word) for word in keyword.split()) for keyword in keywords if keyword.strip()]
    if not phrases:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


def _aware(moment: datetime) -> datetime:
    """Naive times are UTC (as stored); comparing naive with aware would raise mid-send."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _newest_key(item: ArticleItem) -> tuple[int, datetime, int]:
    """Sorted descending: dated stories newest first, then undated ones in the order their feed gave them."""
    if item.published is None:
        return 0, datetime.min.replace(tzinfo=timezone.utc), -item.id
    return 1, _aware(item.published), item.id

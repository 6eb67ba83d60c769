"""Articles -> an issue draft with sections, as the newsletter's config defines them.

A reader scans a digest top-down, so the order of work is the reader's:
1. One story, one entry: when several sources carry the same story (near
   duplicate titles or texts), it appears once, from the source the operator
   ranks highest, crediting the others in `also_in`. The copies are simply not
   in the issue, so the pipeline records them as left out and they never come
   back as news.
2. "Top stories" first (when `top_stories` > 0): the stories that score
   highest on source priority, how many sources carry them, and recency.
3. Then the configured sections, each taking articles by source name, feed
   category, or keyword in the title or text (case-insensitive, whole words).
   Each article lands in the first section that claims it, so nothing appears
   twice; a section with no rules is the "everything else" section. Without
   sections, each source becomes a section.
Newest first within sections (Top stories: best first), per-section limits,
and empty sections are left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from digest.settings import NewsletterSettings, SectionSettings
from digest.content import ArticleItem, IssueDraft, Section

OTHER_SECTION_TITLE = "More news"
# Title token-set Jaccard at or above this: the same story. Rewritten headlines
# of one story share most of their words; different stories rarely share half.
TITLE_SIMILARITY = 0.6
# Or the same text (syndicated copy under another headline): Jaccard of word
# triples over the opening words.
TEXT_SIMILARITY = 0.5
TEXT_WORDS = 120
# Recency counts 1 for a story published now, 1/2 at this age: a tie-breaker
# between stories of equal priority and coverage, not a trump over them.
RECENCY_HALF_LIFE_HOURS = 12.0
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been it its this that "
    "after over new says said how why what who will".split()
)


def build_issue(newsletter: NewsletterSettings, items: Sequence[ArticleItem], date: datetime) -> IssueDraft:
    priority = {source.name: source.priority for source in newsletter.sources}
    stories = merge_duplicates(items, priority)
    newest = sorted(stories, key=_newest_key, reverse=True)[: newsletter.max_items]
    sections: list[Section] = []
    if newsletter.top_stories > 0:
        top = pick_top_stories(newest, priority, date, newsletter.top_stories)
        if top:
            sections.append(Section(newsletter.top_stories_title, tuple(top)))
            chosen = {item.id for item in top}
            newest = [item for item in newest if item.id not in chosen]
    sections.extend(group_into_sections(newest, _rules(newsletter)))
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


def merge_duplicates(items: Sequence[ArticleItem], priority: dict[str, int]) -> list[ArticleItem]:
    """One item per story: the copy from the highest-priority source (then the newest), crediting the rest.

    Only copies from different sources merge: two articles of one source with
    similar titles ("Live: day 500", "Live: day 501") are two articles.
    """
    ordered = sorted(items, key=lambda item: (priority.get(item.source_name, 0), *_newest_key(item)), reverse=True)
    stories: list[tuple[ArticleItem, _Fingerprint, list[str]]] = []
    for item in ordered:
        fingerprint = _Fingerprint(item)
        for lead, lead_print, sources in stories:
            if item.source_name not in sources and fingerprint.same_story(lead_print):
                sources.append(item.source_name)
                break
        else:
            stories.append((item, fingerprint, [item.source_name]))
    return [replace(lead, also_in=tuple(sources[1:])) if len(sources) > 1 else lead
            for lead, _, sources in stories]


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


def group_into_sections(items: Sequence[ArticleItem], rules: Sequence[SectionSettings]) -> tuple[Section, ...]:
    buckets: dict[str, list[ArticleItem]] = {rule.title: [] for rule in rules}
    catch_all = next((rule.title for rule in rules if not (rule.sources or rule.categories or rule.keywords)),
                     None)
    matchers = [(rule, _keyword_pattern(rule.keywords)) for rule in rules]
    leftovers: list[ArticleItem] = []
    for item in sorted(items, key=_newest_key, reverse=True):
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


class _Fingerprint:
    """What two articles are compared on: title words and the opening word triples of the text."""

    def __init__(self, item: ArticleItem) -> None:
        self.title = frozenset(w for w in _words(item.title) if w not in _STOP)
        words = _words(item.text)[:TEXT_WORDS]
        self.text = frozenset(zip(words, words[1:], words[2:]))

    def same_story(self, other: _Fingerprint) -> bool:
        shared_title = self.title & other.title
        if len(shared_title) >= 2 and len(shared_title) / len(self.title | other.title) >= TITLE_SIMILARITY:
            return True
        if min(len(self.text), len(other.text)) < 20:  # too little text to tell
            return False
        return len(self.text & other.text) / len(self.text | other.text) >= TEXT_SIMILARITY


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]

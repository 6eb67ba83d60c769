"""Articles -> an issue draft with sections, as the newsletter's config defines them.

A section takes articles by source name and/or by feed category; a section
with neither is the "everything else" section. Each article lands in the first
section that claims it, so nothing appears twice. Without any sections
configured, each source becomes a section (what a reader of a multi-feed
digest expects). Newest first, everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from digest.config import NewsletterSettings, SectionSettings
from digest.content import ArticleItem, IssueDraft, Section

OTHER_SECTION_TITLE = "More news"


def build_issue(newsletter: NewsletterSettings, items: Sequence[ArticleItem], date: datetime) -> IssueDraft:
    newest = sorted(items, key=lambda item: (item.published, item.id), reverse=True)[: newsletter.max_items]
    rules = newsletter.sections or tuple(
        SectionSettings(title=source.name, sources=(source.name,)) for source in newsletter.sources
    )
    return IssueDraft(
        newsletter=newsletter.slug,
        title=newsletter.title,
        description=newsletter.description,
        date=date.astimezone(ZoneInfo(newsletter.timezone)),  # the reader's calendar day, not UTC's
        sections=group_into_sections(newest, rules),
    )


def group_into_sections(items: Sequence[ArticleItem], rules: Sequence[SectionSettings]) -> tuple[Section, ...]:
    buckets: dict[str, list[ArticleItem]] = {rule.title: [] for rule in rules}
    catch_all = next((rule.title for rule in rules if not rule.sources and not rule.categories), None)
    leftovers: list[ArticleItem] = []
    for item in items:
        rule = next((rule for rule in rules if _claims(rule, item)), None)
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


def _claims(rule: SectionSettings, item: ArticleItem) -> bool:
    if item.source_name in rule.sources:
        return True
    wanted = {c.casefold() for c in rule.categories}
    return any(c.casefold() in wanted for c in item.categories)

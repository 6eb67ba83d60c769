"""Sections as the newsletter's config defines them; newest first; limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from digest.compose import build_issue
from digest.config import NewsletterSettings, SectionSettings, SourceSettings
from digest.content import ArticleItem

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


def item(i: int, source: str, *categories: str) -> ArticleItem:
    return ArticleItem(id=i, title=f"t{i}", link=f"https://x/{i}", source_name=source,
                       published=NOW - timedelta(hours=i), categories=categories)


def newsletter(sections=(), max_items=20) -> NewsletterSettings:
    return NewsletterSettings(slug="n", title="N", from_address="n@example.org", max_items=max_items,
                              sources=(SourceSettings("Wire", "u1"), SourceSettings("Desk", "u2")),
                              sections=tuple(sections))


def layout(draft):
    return [(s.title, [i.id for i in s.items]) for s in draft.sections]


def test_without_sections_each_source_is_a_section_newest_first():
    items = [item(3, "Desk"), item(1, "Wire"), item(2, "Desk"), item(4, "Wire")]
    assert layout(build_issue(newsletter(), items, NOW)) == [("Wire", [1, 4]), ("Desk", [2, 3])]


def test_sections_by_category_source_and_catch_all():
    sections = [
        SectionSettings("Ukraine", categories=("ukraine",)),
        SectionSettings("From the desk", sources=("Desk",), max_items=1),
        SectionSettings("Everything else"),
        SectionSettings("Empty", categories=("nothing",)),
    ]
    items = [item(1, "Wire", "Ukraine"), item(2, "Desk"), item(3, "Desk", "UKRAINE"), item(4, "Wire"),
             item(5, "Desk")]
    assert layout(build_issue(newsletter(sections), items, NOW)) == [
        ("Ukraine", [1, 3]), ("From the desk", [2]), ("Everything else", [4])]


def test_unclaimed_articles_go_to_more_news_and_max_items_keeps_the_newest():
    sections = [SectionSettings("Desk only", sources=("Desk",))]
    items = [item(i, "Wire" if i % 2 else "Desk") for i in range(1, 9)]
    draft = build_issue(newsletter(sections, max_items=4), items, NOW)
    assert layout(draft) == [("Desk only", [2, 4]), ("More news", [1, 3])]

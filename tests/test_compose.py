"""Sections as the newsletter's config defines them; newest first; limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from digest.compose import build_issue
from digest.settings import NewsletterSettings, SectionSettings, SourceSettings
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


def story(i: int, source: str, title: str, text: str = "", hours: float | None = None) -> ArticleItem:
    return ArticleItem(id=i, title=title, link=f"https://x/{i}", source_name=source, text=text,
                       published=NOW - timedelta(hours=i if hours is None else hours))


def paper(sections=(), top_stories=0, priorities=(0, 0, 0), max_items=20) -> NewsletterSettings:
    names = ("Wire", "Desk", "Blog")
    return NewsletterSettings(slug="n", title="N", from_address="n@example.org", max_items=max_items,
                              top_stories=top_stories, top_stories_title="Top stories",
                              sources=tuple(SourceSettings(n, f"u{n}", priority=p) for n, p in zip(names, priorities)),
                              sections=tuple(sections))


def test_keyword_sections_match_whole_words_and_phrases_in_title_or_text_any_case():
    sections = [SectionSettings("Kyiv", keywords=("Kyiv", "air defence")), SectionSettings("Rest")]
    items = [story(1, "Wire", "Drones over KYIV tonight"),
             story(2, "Wire", "Kyivstar restores mobile service"),           # not the word "Kyiv"
             story(3, "Desk", "Quiet night", "Air\ndefence was busy in the east."),  # phrase across a line break
             story(4, "Desk", "Air defenceless", "Nothing else.")]
    assert layout(build_issue(paper(sections), items, NOW)) == [("Kyiv", [1, 3]), ("Rest", [2, 4])]


def test_a_keyword_section_is_not_the_catch_all():
    sections = [SectionSettings("Weather", keywords=("storm",))]
    items = [story(1, "Wire", "Storm warning"), story(2, "Wire", "Budget passes")]
    assert layout(build_issue(paper(sections), items, NOW)) == [("Weather", [1]), ("More news", [2])]


def test_the_same_story_from_several_sources_appears_once_crediting_the_others():
    items = [story(1, "Wire", "Parliament passes the 2027 budget after long debate"),
             story(2, "Desk", "Parliament passes 2027 budget after a long debate"),
             story(3, "Blog", "Budget: parliament passes 2027 plan after long debate"),
             story(4, "Desk", "Storm closes schools")]
    draft = build_issue(paper(priorities=(0, 2, 0)), items, NOW)
    assert layout(draft) == [("Desk", [2, 4])]  # Desk has the highest priority: its copy leads
    assert draft.items[0].also_in == ("Wire", "Blog")
    assert draft.items[1].also_in == ()


def test_syndicated_text_under_another_headline_is_the_same_story():
    text = ("The central bank raised its key rate by half a point on Thursday, the third rise this year, "
            "citing stubborn inflation in services and a weaker currency. The governor said further "
            "increases were possible if prices kept climbing through the winter months.")
    items = [story(1, "Wire", "Central bank raises rate again", text),
             story(2, "Desk", "Borrowing gets dearer", text + " Our reporter adds local reaction."),
             story(3, "Blog", "Different story", "A completely different article about football and the "
                                                  "weekend matches in the league, with goals and more goals "
                                                  "and a late winner from the home side that delighted fans.")]
    draft = build_issue(paper(), items, NOW)
    assert layout(draft) == [("Wire", [1]), ("Blog", [3])]
    assert draft.items[0].also_in == ("Desk",)


def test_similar_titles_from_one_source_are_two_articles():
    items = [story(1, "Wire", "Live updates: war in Ukraine, day 500"),
             story(2, "Wire", "Live updates: war in Ukraine, day 501")]
    assert layout(build_issue(paper(), items, NOW)) == [("Wire", [1, 2])]


def test_top_stories_lead_by_priority_coverage_and_recency_and_are_not_repeated():
    items = [story(1, "Blog", "Fresh but minor", hours=0.5),
             story(2, "Wire", "Old story from the main wire", hours=20),
             story(3, "Desk", "Ceasefire talks resume in Geneva", hours=10),
             story(4, "Blog", "Ceasefire talks resume in Geneva today", hours=9),
             story(5, "Blog", "Another minor item", hours=3)]
    sections = [SectionSettings("Everything")]
    draft = build_issue(paper(sections, top_stories=2, priorities=(1, 0, 0)), items, NOW)
    # Wire's priority (1) and the two-source story (1 other source) beat recency alone; between the two
    # copies of equal priority the newer one leads.
    assert layout(draft) == [("Top stories", [4, 2]), ("Everything", [1, 5])]
    assert draft.sections[0].items[0].also_in == ("Desk",)


def test_top_stories_between_equals_are_the_newest_and_none_when_zero():
    items = [story(i, "Wire", f"Unrelated headline number {i}") for i in range(1, 5)]
    assert layout(build_issue(paper(top_stories=2), items, NOW)) == [("Top stories", [1, 2]), ("Wire", [3, 4])]
    assert layout(build_issue(paper(top_stories=0), items, NOW)) == [("Wire", [1, 2, 3, 4])]
    assert build_issue(paper(top_stories=3), [], NOW).sections == ()


def test_max_items_counts_stories_not_copies():
    items = [story(1, "Wire", "Election results are in for the capital"),
             story(2, "Desk", "Election results are in for the capital city"),
             story(3, "Wire", "Second story headline here"),
             story(4, "Wire", "Third story headline here please")]
    draft = build_issue(paper(max_items=3), items, NOW)
    assert [i.id for i in draft.items] == [1, 3, 4]

"""One story, once (issue 32): items reporting one event group into one story, two events of one kind never do."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from digest.compose import build_issue, merge_duplicates
from digest.compose.stories import StoryItem, group, pairs
from digest.compose.story_evidence import NEIGHBOURS, TEXT_CHARS
from digest.compose.updates import READ_CHARS, UPDATE_WORDS, Memory, Sent, known_words, new_text, substantial
from digest.content import ArticleItem
from digest.settings import NewsletterSettings, SectionSettings, SourceSettings
from tests.conftest import run_cli

DAY = datetime(2026, 11, 24, 6, tzinfo=timezone.utc)

WIRE = ("LISBON (AP) - Portugal's parliament on Tuesday approved a plan by Prime Minister Ana Ribeiro's "
        "government to sell its remaining 49 percent stake in the national airline TAP to Lufthansa, ending "
        "months of argument over the carrier's future. Finance Minister Rui Couto told lawmakers the sale would "
        "bring 1.2 billion euros and protect jobs at Lisbon's Humberto Delgado airport. Opposition parties said "
        "the price was too low and vowed to challenge the deal in the Constitutional Court. Unions at TAP called "
        "a two-day strike for next week. Lufthansa said it expected to complete the purchase in the spring.")

CHILE = ("SANTIAGO, Chile - A magnitude 6.4 earthquake struck off the coast of central Chile early on Tuesday, "
         "shaking buildings in Valparaiso and the capital Santiago, the U.S. Geological Survey said. The quake "
         "hit at a depth of 30 kilometres about 40 km west of Valparaiso. Chile's navy said there was no threat "
         "of a tsunami. Interior Minister Carolina Toha said there were no early reports of serious damage, "
         "though some houses in San Antonio lost power. Chile sits on the Pacific Ring of Fire and is one of the "
         "most seismically active countries in the world.")
JAPAN = ("TOKYO, Japan - A magnitude 6.1 earthquake struck northeastern Japan on Tuesday, shaking buildings in "
         "Sendai and Fukushima prefecture, the Japan Meteorological Agency said. The quake hit at a depth of 50 "
         "kilometres off the coast of Miyagi. The agency said there was no threat of a tsunami. Tohoku Electric "
         "Power said its Onagawa nuclear plant was operating normally, and East Japan Railway briefly halted "
         "Shinkansen trains between Tokyo and Morioka. Japan sits on the Pacific Ring of Fire and is one of the "
         "most seismically active countries in the world.")


def story(ident: str, title: str, text: str, hours: float = 0, source: str = "") -> StoryItem:
    return StoryItem(id=ident, title=title, text=text, published=DAY + timedelta(hours=hours), source=source)


def test_wire_copy_under_different_headlines_is_one_story():
    items = [story("ap", "Portugal approves sale of TAP stake to Lufthansa", WIRE, 0, "AP"),
             story("post", "Lisbon lawmakers back airline deal despite strike threat", WIRE[:-60], 2, "Post"),
             story("times", "TAP goes to the Germans: 1.2 billion euros and a strike", "Our correspondent writes. "
                   + WIRE, 5, "Times"),
             story("other", "Storm closes schools in Porto", "Schools in Porto stayed shut on Tuesday as a storm "
                   "brought winds of 120 km/h to the northern coast and the city council cancelled classes.", 1)]
    assert group(items) == [0, 0, 0, 3]


def test_two_earthquakes_on_one_day_stay_apart():
    items = [story("cl", "Magnitude 6.4 earthquake strikes central Chile", CHILE, 0, "AP"),
             story("jp", "Magnitude 6.1 earthquake strikes northeastern Japan", JAPAN, 1, "Reuters")]
    assert group(items) == [0, 1]
    # Headlines alone (a feed with no text) are no more alike for it.
    bare = [story("cl", "Magnitude 6 earthquake strikes Chile", ""), story("jp", "Magnitude 6 earthquake strikes Japan", "")]
    assert group(bare) == [0, 1]


def test_two_quarterly_results_on_one_day_stay_apart():
    text = ("{co} reported third-quarter revenue of {rev} billion dollars on Thursday, beating analysts' "
            "forecasts, as chief executive {ceo} said demand for cloud services kept growing. Net income rose "
            "to {net} billion dollars. Shares of {co} rose in after-hours trading in New York. The company "
            "raised its forecast for the full year and said it would buy back more shares.")
    items = [story("a", "Northwind beats forecasts as cloud sales grow",
                   text.format(co="Northwind", rev="31.2", ceo="Maria Olsen", net="7.1")),
             story("b", "Contoso beats forecasts as cloud sales grow",
                   text.format(co="Contoso", rev="18.4", ceo="James Park", net="3.9"), 3)]
    assert group(items) == [0, 1]


def test_an_updated_article_at_a_new_link_is_the_same_story():
    first = ("Firefighters were battling a blaze at a warehouse in the port of Gdansk on Monday evening, the city's "
             "fire service said. Two workers were taken to hospital with smoke inhalation. Residents of the "
             "Letnica district were told to keep windows closed. The cause of the fire was not yet known, said "
             "spokesman Tomasz Wrona.")
    update = (first.replace("Two workers were", "Five workers were") +
              " By Tuesday morning the fire was under control after 14 hours, Wrona said, and investigators from "
              "the Pomeranian police had begun work at the site owned by Baltic Logistics.")
    items = [story("1", "Fire at Gdansk port warehouse, two hurt", first, 0, "Gazette"),
             story("2", "UPDATED: Gdansk warehouse fire under control after 14 hours", update, 14, "Gazette")]
    assert group(items) == [0, 0]


def test_dates_far_apart_are_two_stories_even_with_the_same_words():
    items = [story("a", "Portugal approves sale of TAP stake", WIRE, 0), story("b", "Portugal approves sale of TAP stake",
                                                                                 WIRE + " More.", 24 * 30)]
    assert group(items) == [0, 1]


def article(i: int, source: str, title: str, text: str, hours: float, link: str = "") -> ArticleItem:
    return ArticleItem(id=i, title=title, link=link or f"https://{source.lower()}.example/{i}", source_name=source,
                       published=DAY + timedelta(hours=hours), text=text, summary=(f"summary {i}",))


def test_the_digest_shows_a_story_once_with_links_to_the_other_versions():
    items = [article(1, "Wire", "Portugal approves sale of TAP stake to Lufthansa", WIRE, 0),
             article(2, "Post", "Lisbon lawmakers back airline deal", WIRE[:-60], 2),
             article(3, "Times", "TAP goes to the Germans", "Our correspondent writes. " + WIRE, 3),
             article(4, "Post", "Magnitude 6.4 earthquake strikes central Chile", CHILE, 1),
             article(5, "Wire", "Magnitude 6.1 earthquake strikes northeastern Japan", JAPAN, 1)]
    newsletter = NewsletterSettings(slug="n", title="N", from_address="n@example.org", sources=(
        SourceSettings("Wire", "u1"), SourceSettings("Post", "u2"), SourceSettings("Times", "u3")),
        sections=())
    draft = build_issue(newsletter, items, DAY + timedelta(hours=6))
    assert sorted(item.id for item in draft.items) == [3, 4, 5]  # the newest of equals leads the TAP story
    tap = next(item for item in draft.items if item.id == 3)
    assert tap.also_in == ("Post", "Wire") and tap.also_in_links == ("https://post.example/2", "https://wire.example/1")


def test_a_much_fuller_version_leads_and_a_sources_own_update_is_not_credited():
    short = article(1, "Wire", "Portugal approves TAP sale", WIRE[:300], 5)
    full = article(2, "Wire", "Portugal approves sale of TAP stake to Lufthansa, unions call strike", WIRE, 0)
    merged = merge_duplicates([short, full], {})
    assert [(item.id, item.also_in) for item in merged] == [(2, ())]


def test_bounded_work_on_a_flood_and_on_megabyte_texts():
    """The bounds hold by construction (bench/stories.py prints the times): copies collapse before any pair is
    compared, each item meets at most NEIGHBOURS others, and only the opening of a text is read."""
    flood = [StoryItem(id=str(k), title=f"Breaking: airline deal ({k % 5})", text=f"{WIRE} {k}") for k in range(3000)]
    found = pairs(flood)
    assert len(found) <= 3000 * (NEIGHBOURS + 1) and sum(pair.duplicate for pair in found) > 2400  # most are copies
    assert len(group(flood)) == 3000
    huge = [StoryItem(id=str(k), title=f"Item {k}", text=f"word{k} " + WIRE * 2000) for k in range(5)]
    opening = [dataclasses.replace(item, text=item.text[:TEXT_CHARS]) for item in huge]
    assert len(huge[0].text) > 1_000_000 and group(huge) == group(opening)


def test_digest_stories_through_the_command_line(tmp_path):
    rows = [{"id": "ap", "title": "Portugal approves sale of TAP stake", "lead": "", "text": WIRE,
             "published": "2026-11-24T06:00:00Z", "source": "AP"},
            {"id": "post", "title": "Lisbon lawmakers back airline deal", "lead": WIRE[:200], "text": WIRE[200:],
             "published": "2026-11-24T08:00:00+00:00", "source": "Post"},
            {"id": "cl", "title": "Magnitude 6.4 earthquake strikes central Chile", "lead": "", "text": CHILE,
             "published": None, "source": "AP"},
            {"id": "jp", "title": "Magnitude 6.1 earthquake strikes northeastern Japan", "lead": "", "text": JAPAN,
             "published": "2026-11-24", "source": "Reuters"}]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    done = run_cli("stories", str(path))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"id": "ap", "story": "ap"}, {"id": "post", "story": "ap"}, {"id": "cl", "story": "cl"},
        {"id": "jp", "story": "jp"}]
    path.write_text('{"title": "no id"}\n', encoding="utf-8")
    done = run_cli("stories", str(path))
    assert done.returncode != 0 and "line 1" in done.stderr


GDANSK = ("Firefighters were battling a blaze at a warehouse in the port of Gdansk on Monday evening, the city's fire "
          "service said. Two workers were taken to hospital with smoke inhalation. Residents of the Letnica district "
          "were told to keep windows closed. The cause of the fire was not yet known, said spokesman Tomasz Wrona.")
GDANSK_UPDATE = (GDANSK.replace("Two workers were", "Five workers were") + " By Tuesday morning the blaze was under "
                 "control after 14 hours, Wrona said, and investigators from the Pomeranian police had begun work at "
                 "the site, which is owned by Baltic Logistics. The company said about 2,000 tonnes of grain and "
                 "fertiliser stored there were destroyed and that its insurers had been informed. Port authorities "
                 "reopened two of the three terminals on Tuesday afternoon; ferries to Sweden sailed on time.")


def test_an_editors_split_and_merge_override_the_evidence():
    copies = [story("a", "Portugal approves sale of TAP stake", WIRE, 0, "AP"),
              story("b", "Lisbon lawmakers back airline deal", WIRE, 1, "Post"),
              story("c", "TAP sale approved", WIRE, 2, "Times")]
    assert group(copies) == [0, 0, 0]
    assert group(copies, apart=[(0, 1), (1, 2)]) == [0, 1, 0]  # b split off; a and c stay one story
    quakes = [story("cl", "Magnitude 6.4 earthquake strikes central Chile", CHILE, 0, "AP"),
              story("jp", "Magnitude 6.1 earthquake strikes northeastern Japan", JAPAN, 1, "Reuters")]
    assert group(quakes, together=[(0, 1)]) == [0, 0]
    assert group(quakes, together=[(0, 1)], apart=[(1, 0)]) == [0, 1]  # a split outweighs a merge of the same pair


def sent(article_id: int, title: str, text: str, hours: float, issue_id: int = 1) -> Sent:
    return Sent(StoryItem(id=str(article_id), title=title, text=text, published=DAY + timedelta(hours=hours),
                          source="Gazette"), issue_id, f"https://gazette.example/issues/n/2026-11-24?issue={issue_id}")


def replace_text(item: StoryItem, text: str) -> StoryItem:
    return dataclasses.replace(item, text=text)


def test_a_story_sent_yesterday_comes_back_only_as_an_update_with_new_text():
    earlier = Memory(sent=(sent(100, "Fire at Gdansk port warehouse, two hurt", GDANSK, 0),
                           sent(101, "Portugal approves sale of TAP stake to Lufthansa", WIRE, 0, issue_id=2)))
    today = [article(1, "Post", "Lisbon lawmakers back airline deal", WIRE, 20, link="https://post.example/new-url"),
             article(2, "Gazette", "UPDATED: Gdansk warehouse fire under control after 14 hours", GDANSK_UPDATE, 22),
             article(3, "Wire", "Magnitude 6.1 earthquake strikes northeastern Japan", JAPAN, 21)]
    shown = {item.id: item for item in merge_duplicates(today, {}, earlier)}
    assert sorted(shown) == [2, 3]  # the wire copy at a new link, nothing new in it: not sent again
    assert shown[2].update_of == "https://gazette.example/issues/n/2026-11-24?issue=1" and shown[3].update_of == ""
    # Reworded or trimmed, the same facts are no update; a paragraph of news is.
    known = known_words([earlier.sent[0].item])
    assert substantial(GDANSK.replace("were taken", "went"), known) == 0
    assert substantial(GDANSK_UPDATE, known) >= UPDATE_WORDS
    # A megabyte of text is read only up to READ_CHARS, the earlier versions' too.
    huge = GDANSK_UPDATE * 3000
    assert new_text(huge, known) == new_text(huge[:READ_CHARS], known)
    assert known_words([replace_text(earlier.sent[0].item, GDANSK * 3000)]) == \
        known_words([replace_text(earlier.sent[0].item, (GDANSK * 3000)[:READ_CHARS - len(earlier.sent[0].item.title) - 2])])


def test_stories_more_sources_carry_rank_first_when_the_newsletter_says_so():
    items = [article(1, "Wire", "Portugal approves sale of TAP stake to Lufthansa", WIRE, 0),
             article(2, "Post", "Lisbon lawmakers back airline deal", WIRE[:-60], 1),
             article(3, "Post", "Magnitude 6.4 earthquake strikes central Chile", CHILE, 4)]
    sources = (SourceSettings("Wire", "u1"), SourceSettings("Post", "u2"))
    plain = NewsletterSettings(slug="n", title="N", from_address="n@example.org", sources=sources,
                               sections=(SectionSettings("News"),))
    ranked = dataclasses.replace(plain, rank_by_sources=True)
    assert [i.id for i in build_issue(plain, items, DAY + timedelta(hours=6)).items] == [3, 2]
    assert [i.id for i in build_issue(ranked, items, DAY + timedelta(hours=6)).items] == [2, 3]


def test_rank_by_sources_is_read_from_the_newsletters_table_and_checked(tmp_path):
    from digest.config import load_settings
    from digest.errors import ConfigError
    from tests.conftest import SECRET, write_config

    on = write_config(tmp_path, sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n',
                      extra_newsletter="rank_by_sources = true")
    assert load_settings(on, environ={"DIGEST_SECRET_KEY": SECRET}).newsletters[0].rank_by_sources is True
    on.write_text(on.read_text().replace("rank_by_sources = true", ""))
    assert load_settings(on, environ={"DIGEST_SECRET_KEY": SECRET}).newsletters[0].rank_by_sources is False
    on.write_text(on.read_text().replace("[[newsletters.sources]]", 'rank_by_sources = "yes"\n[[newsletters.sources]]'))
    with pytest.raises(ConfigError, match=r"'newsletters\[0\]\.rank_by_sources' must be true or false"):
        load_settings(on, environ={"DIGEST_SECRET_KEY": SECRET})


def test_digest_stories_gives_the_same_stories_in_every_process(tmp_path):
    """Copies collapse by hashes of their word triples: salted per process, a flood came out as 1,046 stories in
    one run and 1,549 in the next. Two processes with different salts now agree."""
    rows = [{"id": str(k), "title": f"Breaking: airline deal ({k % 7})", "lead": "", "text": f"{WIRE} {k}",
             "published": None, "source": "Wire"} for k in range(2000)]
    path = tmp_path / "flood.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    runs = [run_cli("stories", str(path), env={"PYTHONHASHSEED": seed}) for seed in ("1", "2")]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout.splitlines()) == 2000

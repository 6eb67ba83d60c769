"""Page furniture and dangling references never reach a summary (issue 29).

Each text here is written for these tests, shaped like what an extractor leaves of a news page: the
furniture sits where pages put it (above the story, glued to its first sentence, between paragraphs),
so a summarizer that takes it for prose would choose it."""

from __future__ import annotations

import pytest

from digest.summarize.extractive import summarize
from digest.summarize.furniture import is_caption, is_furniture, strip_furniture
from digest.summarize.readable import leans_on_adjacent, pronoun_dangles
from digest.summarize.split import units

STORY = ("The council of Carrow voted on Monday to rebuild the harbour wall that storms broke in March. "
         "Work on the new wall will start in June and cost the town about four million pounds. "
         "Fishing crews have tied up at the old quay since the storm, and two boats sank at their moorings. "
         "The harbour master said the new wall would be two metres higher than the old one. "
         "Residents will be asked to comment on the plans at a meeting in the town hall next week.")


def joined(text: str, title: str | None = None) -> str:
    return " ".join(summarize(text, title=title, max_sentences=3))


@pytest.mark.parametrize("bar", [
    "Home | News | Politics | Sport | Weather",
    "Home » News » Local",
    "Latest • Carrow • Harbour • Opinion",
])
def test_navigation_bar_of_separators_never_reaches_a_summary(bar):
    summary = joined(f"{bar}\n\n{STORY}")
    assert not any(mark in summary for mark in "|»•")
    assert summary.startswith("The council of Carrow voted")


def test_navigation_items_run_into_the_first_sentence_are_cut():
    assert strip_furniture("News | Local | The council voted on Monday.") == "The council voted on Monday."
    assert strip_furniture("Thursday, May 2 | The council voted on Monday.") == "The council voted on Monday."
    # A sentence with a long part before the separator is a sentence, not navigation.
    line = "The council voted to close the bridge to heavy lorries in the spring | an aside"
    assert strip_furniture(line) == line


@pytest.mark.parametrize("promo", [
    "Only £4.50 per trade when you open a share account with us today.",
    "Learn how to cut your energy bills in this white paper.",
    "Download our free guide to buying a home by the sea.",
    "Start a free trial of the premium plan and read without limits.",
    "Use code HARBOUR10 for ten per cent off at the shop.",
    "Copyright 2024 The Carrow Gazette.",
    "This material may not be published, broadcast, rewritten or redistributed.",
    "The content published on this site belongs to the Gazette group.",
    "Read more about the council's plans here.",
    "Watch the video of the storm below.",
    "The storm hit the harbour hard last night @carrowcouncil pic.twitter.com/abc123",
    "To see what the new wall will look like, visit the council's website for more information.",
    "For more information, call the harbour office on weekdays.",
    "You can read more about the wall's history in this post.",
    "For a list of all our stories on the harbour, see the archive.",
    "The drawings above show the wall as the engineers planned it.",
    "« Council meets on Monday \\| Back to Main Page Harbour news for the week.",
    "Next post: The ferry timetable for the summer",
    "This post contains references to products from one or more of our advertisers.",
    "Terms apply to the offers listed on this page.",
    "Welcome to Harbour Week, our look back at a year of storms on the coast.",
    "Get our bestselling harbour cookbook, with 250 recipes from the quay.",
    "See the whole story of the wall written by our reporter Ann Price here.",
    "In this video, watch the storm break over the old wall.",
    "Here, the trailer for the film about the harbour.",
    "Carrowharbour.com is a personal website. Opinions expressed are not necessarily those of the council.",
    "Scroll down for the council's plans and the engineers' drawings.",
    "When you join the Gazette family, you will get unlimited digital access to our reporting.",
    "PHOTO OF THE DAY: The harbour master on the broken wall at dawn.",
    "You can see all CarrowGazette.com readers' photos of the storm here.",
    "If you saw the storm from the quay, tell us in the comments.",
    "Our notes on the plans are included underneath each one.",
    "To get more information you can check the original post on the council's blog.",
    "Below are two letters from the harbour master to the council.",
    "Take a moment and comment with a link to your own photos of the storm.",
    "Much more over at the Harbour Watch blog.",
    "The below letter will appear in the Gazette's letters page next week.",
])
def test_ad_promo_and_site_lines_are_furniture_and_never_chosen(promo):
    assert is_furniture(promo)
    text = f"{promo}\n\n{STORY}\n\n{promo}"
    assert promo not in summarize(text, max_sentences=3)


def test_furniture_rules_leave_news_about_prices_and_sites_alone():
    for sentence in ("Fares rose to £4.50 a trip from Monday, the operator said.",
                     "The council bought the site of the old fish market for a new school.",
                     "Copyright lawyers said the ruling would change how music is licensed.",
                     "Divers found the wreck twenty metres below the surface.",
                     "The band was back to the top of the charts within a week.",
                     "The next post office to close will be the one on the quay.",
                     "The council found more information about the storm in old records.",
                     "The mayor would not comment with the inquiry still open.",
                     "Tide levels came in below the forecast for the third day."):
        assert not is_furniture(sentence), sentence


def test_headline_run_into_the_first_sentence_is_cut():
    title = "Carrow votes to rebuild its harbour wall - The Carrow Gazette"
    text = "Carrow votes to rebuild its harbour wall " + STORY
    summary = summarize(text, title=title, max_sentences=3)
    assert summary[0].startswith("The council of Carrow voted")
    # With a section label in front, as some pages print it.
    assert joined("Local news Carrow votes to rebuild its harbour wall " + STORY, title).startswith("The council")
    # A first sentence that only begins like the headline is the story's own sentence: left whole.
    lede = "Carrow votes to rebuild its harbour wall after the March storms."
    assert summarize(f"{lede} {STORY}", title=title, max_sentences=1) == [lede]


@pytest.mark.parametrize("caption", [
    "In this March 3, 2024 file photo, a ferry waits at the quay in Carrow as waves break over the wall.",
    "This photo provided by the Carrow harbour board shows the broken wall on the morning after the storm.",
    "Harbour master Ann Price poses for photographers on the broken wall in Carrow on Tuesday.",
    "A ferry waits at the quay in Carrow on Tuesday. (AP Photo/Tom Reed)",
    "A ferry waits at the quay in Carrow on Tuesday. (AFP/Getty Images)",
    "Figure 1: The harbour wall of Carrow before and after the storm.",
    "Photo at top by Ann Price.",
])
def test_photo_caption_is_never_the_first_sentence(caption):
    assert is_caption(caption)
    summary = summarize(f"{caption}\n\n{STORY}", max_sentences=3)
    assert caption not in summary and summary[0].startswith("The council of Carrow voted")


def test_what_stands_above_the_dateline_is_furniture_and_the_dateline_goes():
    text = ("Storm damage in Carrow\n\nA ferry waits at the quay as waves break over the broken wall.\n\n"
            "CARROW, Wales — " + STORY)
    summary = summarize(text, max_sentences=3)
    assert summary[0].startswith("The council of Carrow voted")
    assert not any("ferry waits" in s for s in summary)
    # A dateline far below the start belongs to a related story's teaser: the story above it stays.
    long_story = STORY + "\n\n" + STORY.replace("Carrow", "Bray") + "\n\nRelated\n\nLONDON — Other news."
    assert strip_furniture(long_story).startswith("The council of Carrow")


@pytest.mark.parametrize("sentence", [
    "Who knew a sea wall could divide a town so sharply?",
    "However, the harbour board said it had not been asked.",
    "This means the ferry will not run until the autumn.",
    "The harbour board, however, said it had not been asked.",
    "As a result, the ferry will not run until the autumn.",
])
def test_a_sentence_that_answers_the_one_before_needs_it(sentence):
    assert leans_on_adjacent(sentence) or sentence.startswith("This")
    before = "Engineers from the harbour board inspected the broken wall and the quay on Tuesday."
    text = STORY.replace(" Work on the new wall", f" {before} {sentence} Work on the new wall")
    summary = summarize(text, max_sentences=3)
    assert sentence not in summary or before in summary


def test_a_headline_before_a_separator_is_cut_from_its_sentence():
    assert strip_furniture("Storm Breaks The Carrow Harbour Wall Once Again | The council voted on Monday.") == \
        "The council voted on Monday."  # eight words: longer than a navigation item


def test_a_quotation_said_by_a_pronoun_needs_the_sentence_naming_the_speaker():
    for third in ("\"I made my first application ten years ago,\" she says.", "Was she right about the wall?"):
        sentences = ["The harbour board met on Tuesday.", "Its chair Ann Price spoke first.", third]
        assert pronoun_dangles(2, sentences, [0])
        assert not pronoun_dangles(2, sentences, [1])


def test_a_pronoun_after_an_opening_phrase_points_back_like_one_at_the_start():
    sentences = ["The harbour board met on Tuesday.", "Its chair Ann Price spoke first.",
                 "In a statement on Wednesday, she said the wall would be rebuilt."]
    assert pronoun_dangles(2, sentences, [0])  # "she" skips the sentence that names Ann Price
    assert not pronoun_dangles(2, sentences, [1])
    named = ["The harbour board met on Tuesday.", "Its chair spoke first.",
             "In a statement, Ann Price said she would stay."]
    assert not pronoun_dangles(2, named, [0])  # the name comes before the pronoun


def test_a_masthead_of_a_table_layout_never_reaches_a_summary():
    """Separators left from a table layout before the site's name and motto ("| | | Site Name A blog about..."),
    and a pipe escaped by the extractor ("\\|") in the bar after it."""
    page = ("| | | Carrow Harbour Watch | | |\n\n"
            "| | | Carrow Harbour Watch A blog covering the harbour and the town. "
            "« Older post \\| Main \\| Newer post »\n\n" + STORY)
    summary = summarize(page, title="Carrow Harbour Watch: The wall vote", max_sentences=3)
    assert summary[0].startswith("The council of Carrow voted")
    assert not any("|" in s or "blog covering" in s for s in summary)
    # The site's name opening a real sentence stays: a lower-case word follows it.
    kept = strip_furniture("Carrow Harbour Watch has learned that the wall will be rebuilt.",
                           "The wall vote | Carrow Harbour Watch")
    assert kept.startswith("Carrow Harbour Watch has learned")


def test_a_caption_glued_after_a_stop_without_a_space_is_split_off():
    text = STORY.replace("storms broke in March. ", "storms broke in March.CHB's Old Harbour Wall.\n\n", 1)
    summary = summarize(text, max_sentences=3)
    assert summary[0] == "The council of Carrow voted on Monday to rebuild the harbour wall that storms broke in March."
    assert not any("Old Harbour Wall" in s for s in summary)


def test_a_related_headline_in_title_case_is_not_a_sentence():
    found = units(STORY.replace(" Fishing crews", " Storm Damage Closes Carrow Harbour For A Month! Fishing crews"))
    assert [u.prose for u in found if "Closes Carrow" in u.text] == [False]
    assert all(u.prose for u in found if "Closes Carrow" not in u.text)


@pytest.mark.parametrize("sentence", [
    "Wow, now that is what I call a harbour wall!",
    "Giving us the clearest picture yet of the damage to the quay.",
    "(That photo was taken before the second storm hit the quay.)",
    "Rather, the council wants the wall finished before the winter storms.",
    "Now, a study has found the new wall may last a century, too.",
    "No, the harbour board's plan for the wall has not been costed yet.",
    "Namely, the wall will be two metres higher than the old one.",
    "For example, the ferry will stop at the old quay until June.",
    "For one thing, the old wall was never meant for storms like these.",
    "Explaining why the old wall failed when the storm came in March.",
])
def test_a_reaction_or_an_aside_reads_only_straight_after_its_sentence(sentence):
    assert leans_on_adjacent(sentence)
    assert not leans_on_adjacent("Bring us the plans by Friday, the council said.")
    assert not leans_on_adjacent("Rather than wait, the council voted on Monday.")
    assert not leans_on_adjacent("Now the council says the wall will cost more.")
    assert not leans_on_adjacent("No one was hurt when the old wall broke in March.")


def test_a_line_that_is_not_a_sentence_ends_the_run():
    """The answer to a line the summary cannot carry ("Here is the forecast:" before a chart) is not chosen after
    the sentence before that line, and nothing after that line is: the summary is one run of the article."""
    text = ("The council of Carrow voted on Monday to rebuild the harbour wall.\n\n"
            "Here is what the forecast for the harbour said on Monday:\n\n"
            "Well, the forecast for the harbour was wrong about the wind again.\n\n"
            "Work on the new harbour wall will start in June.")
    assert summarize(text, max_sentences=3) == ["The council of Carrow voted on Monday to rebuild the harbour wall."]
    assert summarize(text.replace("Here is what the forecast for the harbour said on Monday:\n\n", ""),
                     max_sentences=3)[1].startswith("Well, the forecast")


def test_the_texts_first_line_may_open_with_a_pronoun_a_standfirst_first_may_not():
    """"They played in grey..." as a text's first line points at the headline the reader sees above the summary;
    after a standfirst the summary leaves out, the same "It" points at nothing."""
    story = ("They voted on Monday to rebuild the harbour wall of Carrow that storms broke in March. "
             "Work on the new wall will start in June and cost the town about four million pounds. "
             "Fishing crews have tied up at the old quay since the storm broke the wall.")
    assert summarize(story, max_sentences=3)[0].startswith("They voted")
    summary = summarize("The council of Carrow met at last\n\n" + story, max_sentences=3)
    assert not summary[0].startswith("They voted")


def test_a_byline_or_an_agency_tag_run_into_the_first_sentence_is_cut():
    assert strip_furniture("By Ann Price: The council voted on Monday.") == "The council voted on Monday."
    assert strip_furniture("(EFE).- El consejo votó el lunes.") == "El consejo votó el lunes."
    assert strip_furniture("By Monday the council will have voted.") == "By Monday the council will have voted."
    assert strip_furniture("HARBOURWATCH via CGN — The council voted.") == "The council voted."
    assert strip_furniture("(CGN/AP) The council voted.") == "The council voted."
    assert strip_furniture("(CBS News) The council voted.") == "The council voted."
    assert strip_furniture("Carrow Gazette – The council voted.") == "The council voted."
    assert strip_furniture("A ferry at the quay. (Tom Reed/AFP)\n\n(CGN/AP) CARROW, Wales - The council voted.") == \
        "The council voted."
    assert strip_furniture("Q: Will the ferry run?\n\nA: It will run from June.") == "Q: Will the ferry run?\n\nIt will run from June."


def test_the_headline_repeated_as_the_first_sentence_is_not_chosen():
    title = "Carrow votes to rebuild its harbour wall - The Carrow Gazette"
    summary = summarize("Carrow votes to rebuild its harbour wall.\n\n" + STORY, title=title, max_sentences=3)
    assert summary[0].startswith("The council of Carrow voted")


def test_a_line_of_a_list_does_not_open_or_fill_a_summary():
    found = units(STORY + "\n\n2) The ferry will stop in June.\n\n- Work starts in June. It ends in May.")
    assert [u.text for u in found if not u.prose] == ["2) The ferry will stop in June.", "- Work starts in June."]


def test_a_short_question_or_a_list_line_alone_in_its_paragraph_is_a_heading():
    text = "What is the harbour wall?\n\n" + STORY + "\n\n- ferry times (not yet known?)\n\nWhy did the council wait so long?"
    found = units(text)
    assert [u.text for u in found if not u.prose] == ["What is the harbour wall?", "- ferry times (not yet known?)"]
    assert summarize(text, max_sentences=3)[0].startswith("The council of Carrow voted")


def test_a_subhead_in_capitals_and_a_source_glued_to_the_first_word_are_cut():
    assert strip_furniture("(The Carrow Gazette)The council voted on Monday.") == "The council voted on Monday."
    text = STORY.replace("Fishing crews", "HARBOUR IN LIMBO Fishing crews")
    assert [u.text for u in units(text)][2].startswith("Fishing crews have tied up")
    assert any(u.text.startswith("US officials") for u in units("US officials met on Monday. They agreed."))


def test_a_picture_pointer_in_parentheses_is_cut_from_its_sentence():
    assert strip_furniture("The new wall (drawing below) will be two metres higher.") == \
        "The new wall will be two metres higher."
    assert strip_furniture("The old wall (seen above) stood for a century.") == "The old wall stood for a century."


def test_an_interviewers_question_is_not_a_summary_sentence():
    found = units("The council met on Monday. Gazette: What do you hope the new wall will mean for the town? "
                  "Price: It means the boats can stay.")
    assert [u.prose for u in found] == [True, False, True]


def test_this_one_after_an_opening_phrase_points_back():
    sentences = ["The harbour board met on Tuesday.", "Divers found a second crack in the wall.",
                 "With this one, the engineers are more worried."]
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(2, sentences, [1])


def test_it_standing_for_a_thing_reads_only_after_the_sentence_naming_it():
    sentences = ["The council met on Monday.", "On the agenda was a new harbour wall.",
                 "It would cost four million pounds."]
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(2, sentences, [1])
    assert not pronoun_dangles(2, sentences[:2] + ["It is unclear whether the wall will be built."], [0])
    assert pronoun_dangles(2, sentences[:2] + ["Despite the cost, it was approved."], [0])


def test_a_quotation_cut_at_its_start_does_not_open_a_summary():
    from digest.summarize.readable import starts_mid_sentence
    assert starts_mid_sentence("… we need not marvel that the wall fell.")
    assert not starts_mid_sentence("… The wall fell.")


def test_a_headline_and_a_dated_byline_run_into_the_text_are_cut():
    # Issue 29, sixth round: the headline, "By ... posted on <date> <time>" and the first sentence were one line.
    assert strip_furniture("Portrait of a Craftsman – Ann Reid By Tom Lee posted on November 13, 2012 6:00 pm Take a "
                           "visit inside the leather works of Ann Reid in Carrow.") == \
        "Take a visit inside the leather works of Ann Reid in Carrow."
    assert strip_furniture("By Tom Lee, published on Mar. 3rd, 2021 The council voted.") == "The council voted."
    kept = "By Monday the council had voted on May 3, 2012 to close the pool."
    assert strip_furniture(kept) == kept


def test_pointers_at_a_post_at_the_picture_or_at_what_follows_are_furniture():
    assert strip_furniture("The list was made by Ann Reid, who also writes two blogs (see this post).") == \
        "The list was made by Ann Reid, who also writes two blogs."
    assert is_furniture("To understand how the new engine of the ferry works, read on.")
    assert is_furniture("It is my first try at dovetails and, as shown here, the joints took a whole evening.")
    assert not is_furniture("The council will read on Monday the report on the harbour wall.")


def test_datelines_without_spaces_and_dates_as_datelines_are_cut():
    assert strip_furniture("CARROW—The council voted on Monday to rebuild the wall.") == "The council voted on Monday to rebuild the wall."
    assert strip_furniture("October 25, 2012 - The council will rebuild the wall.") == "The council will rebuild the wall."
    kept = "May 3, 2012 was the day the council voted."
    assert strip_furniture(kept) == kept


def test_a_blog_engines_reply_footer_and_bare_pointers_are_furniture():
    assert is_furniture("You can follow any responses to this entry through the RSS 2.0 feed.")
    assert is_furniture("You can leave a response, or trackback from your own site.")
    assert is_furniture("More details here.")
    assert is_furniture("Here are four short videos from the harbour museum that show how the wall was built.")
    assert not is_furniture("The council will respond to the letters it received this week.")


def test_a_short_paragraph_over_a_photo_credit_line_is_a_caption():
    text = ("The Harbour Wall Question\n\n"
            "Fishing crews tie up at the old quay, which the storm of March left open to the sea.\n\n"
            "ANN REID/CARROW GAZETTE\n\n"
            "The council of Carrow voted on Monday to rebuild the harbour wall that the storms of March broke. "
            "Work will start in June and cost the town about four million pounds.")
    summary = summarize(text, max_sentences=3)
    assert summary[0].startswith("The council of Carrow") and not any("Fishing crews" in s for s in summary)
    credit_like = ("The council of Carrow voted on Monday to rebuild the harbour wall.\n\nEither/or is fine\n\n"
                   "Work will start in June and cost the town about four million pounds.")
    assert summarize(credit_like, max_sentences=3)[0].startswith("The council of Carrow")


def test_a_guest_post_note_a_call_to_support_the_podcast_and_a_download_pointer_are_furniture():
    # Issue 29, sixth round, from the held-out read s6z (so tuned on it from here).
    assert is_furniture("The following is a guest post from Dr. Ann Reid, founder at Carrow Labs, makers of tide charts.")
    assert is_furniture("SUPPORT the podcast by getting anything from the shop through THIS LINK.")
    assert is_furniture("The full data is available for free download in spreadsheet format.")
    assert not is_furniture("The government will support the show of force at the harbour.")
    assert not is_furniture("Voters support the blog ban the council proposed.")
    assert not is_furniture("The report on the harbour wall is available online from Monday.")

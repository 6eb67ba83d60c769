"""Issue 29, eighth round: rules from the round's dev reads of outside pages (bench/README.md), each from our own text.

Where a summary opens (a paragraph's start, a first line that points past the headline or answers it), and the lines
a reader tripped over: share widgets, a phrase opening on "Like", a paragraph cut off. The page pointing at itself is
in test_summarize_seventh.py's FURNITURE lists."""

from __future__ import annotations

import pytest

from digest.summarize.extractive import summarize
from digest.summarize.firstline import points_past_headline
from digest.summarize.readable import fragment
from digest.summarize.split import units

ROWING = ("Rowing on the river, in the cold and the rain, all weekend long.\u00a0The organisers could not ignore the weather, which "
          "turned cold by noon on both days of the regatta.\n\n"
          "Clubs from Henley and Marlow entered eight crews in the races this year, more than ever before.\n\n"
          "The last race was won by a crew from Marlow in a time of six minutes.")


def test_a_summary_opens_where_a_paragraph_does_not_in_the_middle_of_one():
    summary = summarize(ROWING, title="Regatta draws record entry")
    assert summary and summary[0].startswith("Clubs from Henley")  # not "The organisers could not ignore the weather"


def test_a_text_without_paragraphs_may_still_open_at_its_second_sentence():
    summary = summarize(ROWING.replace("\n\n", " "), title="Regatta draws record entry")
    assert summary and summary[0].startswith("The organisers")  # CNN/DM's texts are one line: nothing to go by


@pytest.mark.parametrize(("first", "title", "points"), [
    ("This man wants your taxi gone.", "Council votes on taxi fares", True),
    ("That concession came after a long night of talks.", "Union wins pay deal", True),
    ("This device is the answer to every cook's prayers.", "A robot that finds spices", True),
    ("This man wants your taxi gone.", "The man who wants your taxi gone", False),  # the headline names him
    ("These peanut truffles take ten minutes to make.", "Peanut truffles - a recipe", False),
    ("This is not the welcome the mayor expected.", "Mayor booed at rally", False),  # "This" alone: the headline
    ("This week the council voted on the new fares.", "Council votes", False),  # the time of writing
    ("This man wants your taxi gone.", None, False),  # no headline known: nothing to judge by
])
def test_a_first_line_pointing_at_what_the_headline_does_not_name(first, title, points):
    assert points_past_headline(first, title) is points


@pytest.mark.parametrize(("text", "title", "start"), [
    ("This man wants your taxi gone.\n\nThe city council in Leeds voted on Tuesday to set a minimum fare for ride "
     "services, its chair Ann Lee said.\n\nThe new fare will start in March and will be reviewed after a year.",
     "Council votes on taxi fares", "The city council in Leeds"),
    # after a first line pointing at a picture, its paragraph may go on
    ("This device is the answer to every cook's prayers. As a home cook, you probably have jars of spices bought for "
     "one recipe and never used again. Finding the right one can take longer than the cooking.\n\nThe robot reads a "
     "spoken request and pushes the right drawer open.", "A robot that finds spices", "As a home cook"),
])
def test_a_first_line_pointing_at_a_picture_does_not_open_the_summary(text, title, start):
    summary = summarize(text, title=title)
    assert summary and summary[0].startswith(start)


def test_a_first_line_answering_the_headline_with_a_reaction_opens_the_summary():
    text = ("Sure, paper maps are something we have all folded and unfolded many times.\u00a0This one, however, is "
            "an entirely different kind of map which folds itself when you let go of it.\u00a0To do this, it uses "
            "thin springs sewn into each of its twelve panels.\n\n"
            "The maker sells it online for twenty pounds.")
    summary = summarize(text, title="A map that folds itself")
    assert summary and summary[0].startswith("Sure, paper maps")


def test_share_widgets_run_into_a_heading_are_cut():
    found = units("| Email this Print this Skip to comments Why should the ferry stop? The council voted on Tuesday "
                  "to end the night ferry, its chair said.", "Night ferry to end")
    assert not any("Email this" in u.text or "Skip to" in u.text for u in found)


@pytest.mark.parametrize(("line", "phrase"), [
    ("Like the one behind the new shop at the harbour.", True),
    ("Like most teenagers, Sam hated the ferry.", False),
    ("Like many others, he takes the ferry to work.", False),
])
def test_a_phrase_opening_on_like_is_a_fragment(line, phrase):
    assert fragment(line) is phrase


def test_a_paragraph_cut_off_in_an_ellipsis_is_not_taken():
    text = ("Ferry traffic in the harbour fell in July but at a slower pace than in June, the port said on Monday.\n\n"
            "The port's monthly count, a gauge of traffic across the whole estuary, rose to 4,950 crossings in July "
            "compared with 4,820 in June, the port authority…\n\n"
            "Subscribe to read the rest of this story.")
    summary = summarize(text, title="Ferry traffic falls more slowly")
    assert summary == ["Ferry traffic in the harbour fell in July but at a slower pace than in June, the port said on "
                       "Monday."]

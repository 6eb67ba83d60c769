"""Issue 29, eighth round: rules from the round's dev reads of outside pages (bench/README.md), each from our own text.

Where a summary opens (a first line that points past the headline or answers it), and the lines
a reader tripped over: share widgets, a phrase opening on "Like", a caption over a credit in capitals. The page pointing at itself is
in test_summarize_seventh.py's FURNITURE lists."""

from __future__ import annotations

import pytest

from digest.summarize.extractive import summarize
from digest.summarize.firstline import points_past_headline
from digest.summarize.readable import fragment, leans_on_adjacent
from digest.summarize.split import units
from digest.summarize.verbs import verbless

def test_conversely_answers_the_sentence_before():
    assert leans_on_adjacent("Conversely, a town that builds no ferry saves the money but loses the trade.")


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
    # a first line answering the headline with a reaction opens the summary
    ("Sure, paper maps are something we have all folded and unfolded many times.\u00a0This one, however, is an "
     "entirely different kind of map which folds itself when you let go of it.\u00a0To do this, it uses thin springs "
     "sewn into each of its twelve panels.\n\nThe maker sells it online for twenty pounds.",
     "A map that folds itself", "Sure, paper maps"),
    # a short paragraph ending in a credit in capitals is a caption
    ("Agents found 200 pounds of cocaine inside a boat at the ramp in Fajardo. By U.S. CUSTOMS AND BORDER "
     "PROTECTION\n\nFederal agents found 200 pounds of cocaine inside a boat being taken out of the water at the "
     "Fajardo ramp, the customs service said on Tuesday.\n\nThe drugs are worth about $2 million, officials said.",
     "Cocaine found in boat at Fajardo", "Federal agents found"),
])
def test_where_a_summary_opens_a_picture_a_reaction_a_caption(text, title, start):
    summary = summarize(text, title=title)
    assert summary and summary[0].startswith(start)


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


@pytest.mark.parametrize(("sentence", "language", "without"), [
    ("Living under the flight path.", "en", True),
    ("First class seats for every passenger!", "en", True),
    ("The tallest and fastest coaster in the world.", "en", True),
    ("The council voted on Tuesday to end the night ferry.", "en", False),
    ("Lewis Harding waves to the crowd after the race.", "en", False),  # the tagger reads "waves" as a noun
    ("The new owners paid over $2 billion for the club, a record price.", "en", False),
    ("Governments exercise control over their ferries.", "en", False),
    ("What a perfect name for this ferry!", "en", False),  # an exclamation: the writer's voice
    ("Not a fan of ferries?", "en", False),
    ("Mit bestem Wissen und Gewissen in den Winter.", "de", True),
    ("Alle Daten und Ergebnisse sowie Tipps zum Einkauf.", "de", True),
    ("Die Stadt baut eine neue Mauer am Hafen.", "de", False),
    ("Ländliche Regionen schrumpfen, während die Städte wachsen.", "de", False),  # -en read as an infinitive
    ("Mehl mit Hefe in einer Schüssel sorgfältig vermischen.", "de", False),  # a recipe's instruction
    ("Die Stadt baut eine neue Mauer am Hafen.", None, False),  # no language known from the text: its own words
    ("La ville construit un nouveau mur.", None, False),  # another language: no judging
])
def test_a_sentence_without_a_finite_verb_is_told_by_the_tagger(sentence, language, without):
    assert verbless(sentence, language) is without


def test_a_verbless_line_in_german_does_not_enter_a_summary():
    text = ("Mit bestem Wissen und Gewissen in den Bergwinter. Lawinen sind natürliche Ereignisse, die niemand ganz "
            "ausschließen kann, sagt der Bergführer Anton Huber aus Garmisch.\n\n"
            "Kurse und Erfahrung helfen, die Risiken klein zu halten, und die Bergwacht bietet sie jeden Winter an.")
    summary = summarize(text, title="Sicher durch den Bergwinter")
    assert summary and not any(s.startswith("Mit bestem Wissen") for s in summary)


@pytest.mark.parametrize("text", [
    "Der Wettbewerb findet in diesem Jahr bereits zum 6. Mal statt.",
    "Die Energiewende ist eine Aufgabe des 21. Jahrhunderts.",
    "Er sorgte beim 9. Hallenmeeting in Erfurt für eine Überraschung.",
])
def test_a_german_rank_after_an_article_does_not_end_the_sentence(text):
    assert [u.text for u in units(text)] == [text]


@pytest.mark.parametrize(("sentence", "without"), [
    ("All that rigorous training.", True),  # "that" is no verb
    ("Not in that creepy, weird kind of over sharing.", True),
    ("He averages over 1000 sit-ups a day.", False),  # a word after a subject pronoun
    ("There is hope for the ferry yet.", False),
    ("Sitting in the airport, a very familiar place, and trying to get home.", True),  # "to get" is no finite verb
    ("I want to get home.", False),
    ("The ferry's third crossing in a row cannot stop the tide.", False),  # "cannot" is "can not"
])
def test_a_relative_or_demonstrative_word_is_not_a_verb(sentence, without):
    assert verbless(sentence, "en") is without


def test_an_honorific_and_a_surname_lean_on_the_full_name_before():
    text = ("Lisa Price, nurse of the year at the clinic in Leeds.\n\n"
            "Ms. Price has worked in the town's clinic for twenty years and trained most of its staff, the health "
            "board said.\n\nThe health board in Leeds gives the award every spring to one of its nurses.")
    summary = summarize(text, title="Nurse wins award")
    assert not any(s.startswith("Ms. Price") for s in summary)


def test_for_instance_after_the_first_phrase_answers_the_sentence_before():
    assert leans_on_adjacent("The ship is about 230 feet long, for instance, and carries forty people.")


def test_a_first_line_whose_hyphenated_noun_the_headline_names_is_kept():
    assert not points_past_headline("This live-action trailer for the game is fun.", "The game's live-action TV ad")


@pytest.mark.parametrize("sentence", ["Apple's on deck to report its earnings today.", "We're back on the ferry."])
def test_a_contraction_is_a_verb(sentence):
    assert not verbless(sentence, "en")


def test_a_german_rank_after_und_does_not_end_the_sentence():
    text = "Das Viertel entstand im 17. und 18. Jahrhundert außerhalb der Stadtmauer."
    assert [u.text for u in units(text)] == [text]


def test_a_sentence_ending_in_a_colon_points_at_what_follows_and_is_not_taken():
    text = ("In addition to the first sample images from the new lens I published a few days ago, here are a few more "
            "pictures found on flickr:\n\nThe lens weighs 850 grams and costs about 1,400 dollars in shops in Tokyo, "
            "the maker said on Monday.")
    assert summarize(text, title="More sample images") == [
        "The lens weighs 850 grams and costs about 1,400 dollars in shops in Tokyo, the maker said on Monday."]


@pytest.mark.parametrize(("text", "summary"), [
    ("Authorities in Ireland arrested two former bank executives on Monday, the first charges in an inquiry into the "
     "lender.\n\nThe bank was at the centre of the crisis that pushed the economy toward collapse in…\n\n"
     "Subscribe to read more.",
     ["Authorities in Ireland arrested two former bank executives on Monday, the first charges in an inquiry into "
      "the lender."]),  # cut where the paywall ends it
    ("[Readers, by the end of this week I will be blogging only on the new web site of the harbour trust.]\n\n"
     "The flight review for the harbour ferry is under way today, and the launch is set for May 14, the trust "
     "said.\n\nThe ferry will carry two hundred people on each crossing of the estuary.",
     ["The flight review for the harbour ferry is under way today, and the launch is set for May 14, the trust said.",
      "The ferry will carry two hundred people on each crossing of the estuary."]),  # an editor's note in brackets
])
def test_a_sentence_cut_off_or_in_square_brackets_is_not_taken(text, summary):
    assert summarize(text, title="Harbour news") == summary


def test_to_wit_answers_the_sentence_before_and_a_noun_like_call_is_no_verb():
    assert leans_on_adjacent("To wit: late last week the company announced that production had begun.")
    assert verbless("A few comments from Jay Brinkmann, the chief economist, on the conference call.", "en")

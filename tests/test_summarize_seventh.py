"""Issue 29, seventh round: rules from the round's blind reads of outside pages (bench/README.md), each from our own text.

The run itself (no skipping, the opening, no lede taken anyway) is in test_summarize_opening.py; here are the
lines a reader tripped over: the page asking its reader, pointers at the page, subheads run into a paragraph."""

from __future__ import annotations

import pytest

from digest.summarize.extractive import summarize
from digest.summarize.furniture import is_furniture
from digest.summarize.readable import leans_on_adjacent
from digest.summarize.split import units

# Lines each read found (or a review found wrongly taken), by read; every one from our own text.
FURNITURE = [
    # first read (A, B): the page asking its reader, pointers at itself
    "Let us know what you think!",
    "Why not also take a look at our photo archive?",
    "In case you are just tuning in now, we have got coverage of the first day of the festival as well.",
    "« Anna Berg on the harbour wall | Main November 9, 2012 How the wall was rebuilt",
    "Click on each for more about the harbour (or, in one case, the ferry timetable).",
    "To download, click the thumbnail of the map you want, then save it.",
    "I had to shrink the photo to fit the blog, so click it to see the full picture.",
    "Above and below are five posters from the harbour festival that cost less than a hundred pounds each.",
    "But first here's what you need to know.",
    "To get you started, and this is just a start, here are a few tips that you should consider.",
    # second read (C, D): pointers, promos, credits
    "Check out this short video to see the ferry in action.",
    "Check it out here before the tickets are gone!",
    "Check out these photos I have gathered for you.",
    "Your support helps us to keep the harbour news free for everyone.",
    "Don't Miss the Harbour Gala, tickets are on sale now!",
    "Note: this page is only for people who missed the email about the ferry.",
    "Shortly after the storm, the harbour master wrote the following letter to the council.",
    "One of the town's best writers looked at the following Gazette story about the ferry.",
    "Below, read the statement from the harbour board on the new wall.",
    "If your town does not have the above plan in place by next year, it may regret it.",
    "When this video was shot in June, the wall was still standing.",
    "Here we have another picture of the new ferry, the largest in the fleet.",
    "Here, their stories of the night the wall broke.",
    "So here we go....",
    "You can find every stop of the tour in the left sidebar.",
    "The Carrow Gazette's Anna Berg reports.",
    "Do you know someone who might want to receive the Harbour News?",
    # third read (T): a list announced, an upsell
    "The following are the arrest reports as recorded by the Carrow police this week.",
    "Already have an older version of the ferry app?",
    # fourth read (R): lists announced, pointers, self-promotion
    "In that spirit, here are a half dozen tips to save money on the ferry.",
    "There's a lot here to digest.",
    "The archive is yet to come (bar for the one picture included here, from the Carrow library).",
    "I also publish a collection of articles about harbours on my other site.",
    # fifth read (E, F): asks and a bio
    "Post time to comments.",
    "The host admitted she loves the harbour as much as anyone– Get the details here!",
    "After some pizza and pastrami, please follow this link and give what you can.",
    "If you find anything interesting here and decide to share it pls link back :-)",
    "Comments may be no longer than 2000 characters and will post to the site shortly after submitting.",
    "Win tickets, ferry passes and more from the Carrow Gazette!",
    "Anna Berg is a prolific blogger, sailor and ukulele player living in Carrow with two dogs.",
    # W: English, German, French, Spanish
    "Below you can read the step by step method, with photos, to make the harbour stew at home.",
    "This article is part of a series on the harbours of the north coast.",
    "Was das mit uns macht und welche Einfälle dabei rauskommen, lest ihr hier.",
    "Neben meinen Beiträgen zum Hafen siehst du hier auch alles zum Thema Fähren.",
    "Hier findest Du alle Begriffe rund um den Hafen.",
    "Sie verwenden einen Browser, der für eine Darstellung moderner Websites nicht geeignet ist.",
    "Dann nutze einfach unser Hafenlexikon.",
    "Article mis à jour le 7 janvier 2020.",
    "Lire aussi : le port de Carrow après la tempête.",
    "Haz clic aquí para ver el vídeo del puerto.",
    "Ingresa tu nombre completo y conoce si tus documentos están en nuestro puerto.",
    # eighth round, dev reads of Dragnet and trafilatura-eval pages (tests/test_summarize_eighth.py has the rest)
    "So here it is… the ten best goals of the season.",
    "Here they are, in the order they were built.",
    "Find out how the crews trained after the break.",
    "Head down past the break for the full story.",
    # eighth round, the held-out reads F and L (tuned on them after their tally)
    "You can post your comments in any language.",
    "This space is moderated, but not censored.",
    "Join CNET for live coverage of the council's meeting.",
    "More on that here.",
    "When I saw it, the following slide hit me between the eyes.",
    "Lesen Sie weiter…",
    "Das Heft ist hier zu bestellen.",
    "Siehe Kapitel Hafen!",
    "Nachfolgend finden Sie die wichtigsten Punkte.",
    # eighth round, the dev read P (Dragnet s8d 720-840)
    "Listed below are links to weblogs that reference the post.",
    "More information is available at the harbour trust's web sites.",
    "Please note: if you are taking the blog feed, it has changed.",
    "Use this feed URL instead if you read the blog in a reader.",
    "Also, please let us know if there are any other harbours you would like to see here!",
    "Let me know which ferry you liked best.",
    'Previously on "What does a ferry captain eat anyway?"',
]
NOT_FURNITURE = [
    # first read
    "The council said it would look at the archive again in the spring.",
    "Readers who click on adverts earn the site money, the study found.",
    "Below the bridge is the old harbour wall that the storms broke.",
    "The mayor said here is a town that knows what it wants.",
    # second read
    "The following day, the council voted to rebuild the wall again.",
    "Temperatures were above average for the third month in a row.",
    "Police released this photo of the suspect on Monday night.",
    "Check out this week's edition of the ferry podcast as the crew answers your questions.",
    "He said the storm was the worst in a century, the agency reports.",
    # third read
    "The following week, the council met again to vote on the wall.",
    # fourth read
    "The council also publishes its minutes every month on paper.",
    # the review: news a first version of these rules took for furniture
    "But the harbour board disputed the news media reports.",
    "The Gazette was unable to confirm the reports.",
    "'This video in no way represents the values of the school,' the headmaster said.",
    "These images were strong and she has become an icon of the town.",
    "A spokesman emailed the Gazette the following statement: “The wall will be rebuilt.”",
    # W
    "Below the bridge you can see the old harbour wall from the ferry.",
    "The report is part of a wider inquiry into the harbour.",
    "Die Stadt hat hier im Hafen eine neue Mauer gebaut.",
    "Sie verwenden das Geld für eine neue Mauer im Hafen.",
    "Le maire a lu aussi le rapport sur le port.",
    # eighth round
    "'Let me know when you land,' she told him before the ferry left.",
    "The council said it would let residents know about the new fares by June.",
    "Here it was that the first ferry sank in 1902, the museum's guide said.",
    "The talks broke down after the break for lunch on Tuesday, officials said.",
    "Arsenal scored twice after the break to win the cup.",
    "The council will post its comments on the plan in June, the mayor said.",
    "The following day, the ferry sank.",
    "Siehe da: Die Fähre fuhr wieder.",
    "More information is needed before the council can decide, the mayor said.",
]


@pytest.mark.parametrize("line", FURNITURE)
def test_the_page_asking_its_reader_pointing_at_itself_or_promoting_is_furniture(line):
    assert is_furniture(line)


@pytest.mark.parametrize("line", NOT_FURNITURE)
def test_news_that_only_shares_those_words_is_not(line):
    assert not is_furniture(line)


def test_there_is_that_and_a_late_though_answer_the_sentence_before():
    assert leans_on_adjacent("There is that, and also that I am off to France until April.")
    assert leans_on_adjacent("One thing's for sure though, the wall will not be rebuilt this year.")
    assert not leans_on_adjacent("Even though the council voted for it, the wall was never rebuilt.")
    assert not leans_on_adjacent("The town, though small, has three harbours and two ferries.")


@pytest.mark.parametrize("text, first", [
    ("Work ruled out: The council of Carrow will not rebuild the harbour wall this year.", "The council of Carrow"),
    ("Challenge Mode: Challenge Mode asks players to cross the harbour without touching a boat.", "Challenge Mode asks"),
    ("TODAY: The council of Carrow meets to vote on the harbour wall at last.", "The council of Carrow"),
])
def test_a_subhead_run_into_its_paragraph_is_cut(text, first):
    assert units("The harbour of Carrow was closed by the storms in March.\n\n" + text)[1].text.startswith(first)


def test_a_speaker_a_phrase_without_the_or_a_label_mid_paragraph_is_kept():
    kept = ["Anna Berg: The council never asked the fishermen what they wanted.",
            "Bottom line: the council never asked the fishermen what they wanted.",
            "The vote was close. Work ruled out: The council will not rebuild the wall."]
    for text in kept:
        assert any(":" in u.text for u in units("The harbour of Carrow was closed in March.\n\n" + text)), text


def test_a_sentence_from_further_in_opens_a_summary_only_when_it_stands_alone():
    """When the opening's sentences all lean on something ("They were covered..." under a heading), a sentence from
    further in opens the summary only if it names someone or somewhere and is not the writer talking."""
    start = ("The five posters that made the town famous in a single week\n\n"
             "They were covered by every paper in the country within a week of the launch. "
             "Despite this tiny budget, they reached millions of readers all over the world. ")
    assert summarize(start + "People are still talking about them today in every harbour town.", max_sentences=3) == []
    assert summarize(start + "Realistically I am not going to make another one before the spring.",
                     max_sentences=3) == []
    named = "The posters were designed by Anna Berg, a teacher at the Carrow school of art."
    assert summarize(start + named, max_sentences=3) == [named]


def test_a_sentence_opening_with_which_is_the_rest_of_the_one_before():
    assert leans_on_adjacent("Which remains one of my favourite places in the harbour.")
    assert not leans_on_adjacent("Which team will win the harbour cup this year?")


def test_third_read_the_answer_to_a_skipped_question_leans_on_it():
    from digest.summarize.readable import leans_on_previous
    assert leans_on_previous("The answer, the harbour master suggests, is a higher wall.")
    assert not leans_on_previous("The answering machine at the harbour office was full.")


def test_a_quotation_alone_does_not_open_a_summary():
    """Who says it comes only after it; with its speaker in the same sentence it may open one."""
    bare = ('"A harbour is more than a place to moor boats, it is the heart of the town."\n\n'
            "Anna Berg has run the ferry office of Carrow for thirty years and will retire in May. "
            "The council will choose who takes her place at its meeting in April.")
    assert summarize(bare, max_sentences=3)[0].startswith("Anna Berg has run")
    said = ('"A harbour is more than a place to moor boats," said Anna Berg, who runs the ferry office.\n\n'
            "She will retire in May after thirty years at the harbour of Carrow.")
    assert summarize(said, max_sentences=3)[0].startswith('"A harbour is more')


def test_fourth_read_a_from_byline_run_into_the_first_sentence_is_cut():
    found = units("From Anna: With about 100 days until the vote, the harbour wall is still the question. "
                  "Nobody in Carrow talks about anything else.")
    assert found[0].text.startswith("With about 100 days")


def test_a_footnote_mark_after_a_stop_ends_the_sentence_and_is_dropped():
    found = units("The cup will go to some player you have never heard of.* At least I hope so. "
                  "Nobody in Carrow watches the games anyway.")
    assert [u.text for u in found][:2] == ["The cup will go to some player you have never heard of.", "At least I hope so."]


def test_a_question_quoted_before_its_speaker_is_one_sentence():
    found = units("'Why on earth is the ferry late again?' Anna Berg asked the harbour master on Monday. "
                  "'It is just ridiculous.' The ferry came an hour later.")
    assert found[0].text == "'Why on earth is the ferry late again?' Anna Berg asked the harbour master on Monday."


def test_a_posts_dated_credit_run_into_the_text_is_cut():
    found = units("Ferry App 1.6 Released Submitted by annab on November 12, 2012 - 3:03pm Ferry App 1.6 has been "
                  "released. It shows the timetable of every boat in Carrow. It is free.")
    assert found[0].text == "Ferry App 1.6 has been released."


def test_a_noun_phrase_ending_in_a_plural_after_and_is_a_fragment():
    from digest.summarize.readable import fragment
    assert fragment("The balance between security and civil liberties.")
    assert fragment("The integration of Facebook contacts and maps.")
    assert not fragment("The council of Carrow rebuilt the wall and the harbour walls.")
    assert not fragment("The new rules apply to all boats in the harbour.")


@pytest.mark.parametrize("text", [
    '"Why are they filming the boats?" Loeb said he filed a complaint against the harbour master. The case goes on.',
    "'Look, he is flying!' Lawrence said his goal is to teach every child in Carrow to sail. More to come.",
    "I asked him 'what happened?' He said he thinks he fell asleep on the ferry. Then he left.",
])
def test_a_new_sentence_after_a_quoted_question_stays_a_sentence(text):
    assert len(units(text)) == 3


def test_a_label_that_says_whose_words_follow_is_not_cut_as_a_subhead():
    for text in ("The mayor's response: The report is wrong and the wall is safe, she said on Monday.",
                 "Police believe: The man fled on foot after the storm broke the harbour wall.",
                 "CORRECTION: An earlier version of this story gave the wrong date for the vote."):
        assert ":" in units("The harbour of Carrow was closed in March.\n\n" + text)[1].text, text


def test_a_first_sentence_from_further_in_is_not_the_writer_talking_in_capitals_either():
    start = ("The five posters that made the town famous in a single week\n\n"
             "They were covered by every paper in the country within a week of the launch. "
             "Despite this tiny budget, they reached millions of readers all over the world. ")
    assert summarize(start + "We still talk about Anna Berg and her posters in Carrow today.", max_sentences=3) == []


def test_half_of_a_quotation_is_not_taken_when_a_sentence_outside_it_leans():
    text = ("But nobody came to the meeting on Monday.\n\n“We will build the bridge this year… It will be the best "
            "bridge in the land. Nobody will stop us… We have the money.\n\n“The vote is in May,” he said.")
    assert summarize(text, max_sentences=3) == []



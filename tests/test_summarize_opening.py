"""The summary is the article's opening, cleaned (issue 29, sixth round).

Texts written for these tests. The first and the last were summarized otherwise by the ranking this replaced
(a position prior plus directed centrality, 19b5875): a later sentence that the rest of the article echoes
jumped ahead of the lede's own third sentence, and a short sentence after a gap took the place the word stop
left. The two in between held then and hold now."""

from __future__ import annotations

from digest.summarize.extractive import WORDS, summarize
from digest.summarize.split import units, word_count

ECHOED = (
    "The ferry company of Carrow said on Monday that it would stop the winter crossings to the islands. "
    "Fuel prices rose by a third this year and the two older boats need new engines. "
    "Islanders will have to fly to the mainland between November and March. "
    "The island school depends on the teachers who cross each Monday morning from the mainland. "
    "The island school asked the council whether the teachers could stay on the island during the week. "
    "The council said the island school could house the teachers in the old harbour office. "
    "Parents at the island school welcomed the offer but asked who would pay for the teachers' meals. "
    "The teachers said they would rather cross by plane than stay on the island all week."
)


def test_the_summary_is_the_opening_even_when_a_later_sentence_is_what_the_article_repeats():
    assert summarize(ECHOED, max_sentences=3) == [
        "The ferry company of Carrow said on Monday that it would stop the winter crossings to the islands.",
        "Fuel prices rose by a third this year and the two older boats need new engines.",
        "Islanders will have to fly to the mainland between November and March.",
    ]


def test_a_short_sentence_does_not_open_the_summary_but_is_read_in_its_place():
    """A summary opens with a sentence that says something; after it, a short one is part of the run it stands in
    (skipping it would leave the next sentence leaning on it as often as not)."""
    text = ("Big news. "
            "The mayor of Carrow refused on Monday to sign the contract for the new harbour wall. "
            "Nobody knows why. "
            "The contract was agreed by the council in March after two years of talks with the builders. "
            "The builders said they would wait until the end of the month before looking for other work.")
    summary = summarize(text, max_sentences=3)
    assert summary == ["The mayor of Carrow refused on Monday to sign the contract for the new harbour wall.",
                       "Nobody knows why.",
                       "The contract was agreed by the council in March after two years of talks with the builders."]


def test_a_short_sentence_is_taken_when_nothing_else_reads():
    text = ("The mayor of Carrow refused on Monday to sign the contract for the new harbour wall.\n\n"
            "Nobody knows why.\n\nShe left.")
    assert summarize(text, max_sentences=3)[0].startswith("The mayor of Carrow")
    assert len(summarize(text, max_sentences=3)) >= 2


def test_the_word_stop_ends_the_summary_instead_of_skipping_to_a_shorter_sentence():
    long = ("The council of Carrow voted on Monday night, after a meeting that lasted more than five hours and "
            "heard from forty residents, to close the old swimming pool on the harbour front at the end of the year. ")
    second = ("The pool was opened in 1936 and repaired four times since, the last time in 2011 after a storm broke "
              "the sea wall that protects it from the winter tides and flooded the changing rooms. ")
    third = ("Residents who spoke at the meeting said the town would lose the only place where its children can "
             "learn to swim safely, and asked the council to put the question to a vote of the whole town. ")
    fourth = "A new pool is planned at the school. "
    text = long + second + third + fourth + "The school said it would open the new pool to the public at weekends."
    summary = summarize(text, max_sentences=3)
    assert word_count(long) + word_count(second) <= WORDS < word_count(long) + word_count(second) + word_count(third)
    assert summary == [long.strip(), second.strip()]  # not the short fourth sentence after a gap


def test_a_pronoun_after_a_list_or_code_between_it_and_the_sentence_before_is_not_chosen():
    text = ("After reading a colleague's notes I finally changed how my shell finds the projects I work on every day.\n\n"
            "export CDPATH=\".:~:~/src:~/work\"\n\nalias p='cd ~/src/harbour'\n\n"
            "It works well from the shell, but it is very static: a new directory means editing the file again.\n\n"
            "The editor I use every day does not read the shell's settings at all, so I looked for other tools.")
    summary = summarize(text, max_sentences=3)
    assert summary[0].startswith("After reading") and not any(s.startswith("It works") for s in summary)


def test_the_first_sentence_under_labels_only_may_open_with_a_pronoun():
    story = ("It will be a hard season for the national team, which has had no league matches at home since spring. "
             "That is the view of the coach, who said on Tuesday that the players had trained together only twice. "
             "The federation has asked two neighbouring islands to play friendly matches in May.")
    assert summarize("Posted on\n\n" + story, max_sentences=3)[0].startswith("It will be a hard season")
    assert not any(s.startswith("It will be")
                   for s in summarize("The coach speaks about the season\n\n" + story, max_sentences=3))


def test_this_week_is_the_time_of_writing_not_a_reference():
    from digest.summarize.readable import leans_on_previous
    assert not leans_on_previous("This week, the conference comes to the city for the first time since 1990.")
    assert not leans_on_previous("This weekend I walked the new path along the old railway.")
    assert leans_on_previous("This was a fun, easy costume.") and leans_on_previous("This weekly paper closed.")


def test_a_run_on_sentence_of_hundreds_of_words_ends_the_run():
    run_on = "The council listed " + ", ".join(f"street number {i}" for i in range(200)) + " as closed."
    text = ("The council of Carrow closed the old harbour road on Monday after the storm. " + run_on + " "
            "Work on the road will start in June and cost the town about four million pounds.")
    summary = summarize(text, max_sentences=3)
    assert summary == ["The council of Carrow closed the old harbour road on Monday after the storm."]
    opens = summarize(run_on + " Work on the road will start in June and cost the town about four million pounds. "
                      "The road will open again in the spring.", max_sentences=3)
    assert opens[0].startswith("Work on the road")  # it waits, as a short one does, when it comes first


def test_the_summary_is_one_run_and_stops_where_a_sentence_is_skipped():
    """What a skipped sentence said is what the next one leans on ("There is no obligation" after the sign-up line
    it answers): the summary stops there instead of skipping over it."""
    text = ("This is a fun game about road safety that I put together for my class in Carrow. "
            "To download, just sign up to our website as a free member. "
            "There is no obligation and you will find lots of free stuff as well.")
    assert summarize(text, max_sentences=3) == [
        "This is a fun game about road safety that I put together for my class in Carrow."]


def test_a_caption_glued_into_a_sentence_does_not_end_the_run():
    """A caption run into the text without a stop ("... in Carrow Skilful: The kite ...") is cut off as a piece;
    the sentences either side of it still read as one run."""
    text = ("The kite festival of Carrow opened on the beach on Friday with flyers from nine countries. "
            "Hundreds of people came to the kite festival on the beach at Carrow on Saturday to watch the flyers "
            "from nine countries compete for the silver cup in strong winds off the sea Skilful: The kite weighs "
            "less than a kilo and flies on two lines held by one flyer. "
            "The cup was won by a team from Denmark for the third year in a row.")
    found = units(text)
    assert any(u.glued and not u.prose for u in found)
    summary = summarize(text, max_sentences=3)
    assert summary == ["The kite festival of Carrow opened on the beach on Friday with flyers from nine countries.",
                       "The cup was won by a team from Denmark for the third year in a row."]
    assert not any("Skilful" in s for s in summary)


def test_when_nothing_reads_on_its_own_there_is_no_summary_but_one_quotation_is_kept():
    """The lede taken anyway (a "But" after a two-word line, an "And," from a bio) was a defect three times in
    four on blind reads; a text that is all one quotation is still its own summary."""
    assert summarize("Storms blow.\n\nBut they do not call it retail therapy for nothing.\n\nWHAT\n\nPrints\n\n"
                     "WHY\n\nFor the animals", max_sentences=3) == []
    quoted = ('Mike Carrow writes "Later this week the harbour board of Carrow will meet the builders of the new '
              'wall. The board wants the work to start in June, before the storms. The builders want more money '
              'for working in the winter.')
    assert summarize(quoted, max_sentences=3)[0].startswith("Mike Carrow writes")

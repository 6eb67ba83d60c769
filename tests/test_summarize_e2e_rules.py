"""Furniture and dangling references found by a fresh end-to-end count (issue 29, fourth round, helper h29f).

As in test_summarize_fresh.py, every text here is written for these tests, shaped like what an extractor leaves
of a page: each case is a general cause seen on fresh pages (a page of web -> digest.gather.extract -> summarize),
never a site's wording."""

from __future__ import annotations

from digest.summarize.extractive import summarize
from digest.summarize.furniture import is_furniture
from digest.summarize.readable import pronoun_dangles
from digest.summarize.split import split_sentences, units


def joined(text: str, title: str | None = None) -> str:
    return " ".join(summarize(text, title=title, max_sentences=3))


def test_the_danda_ends_a_sentence_with_or_without_a_space_after_it():
    text = "नदी का पानी आज सुबह बढ़ गया।गाँव के लोग ऊँची जगह पर चले गए। प्रशासन ने नावें भेजीं॥"
    assert split_sentences(text) == ["नदी का पानी आज सुबह बढ़ गया।", "गाँव के लोग ऊँची जगह पर चले गए।",
                                     "प्रशासन ने नावें भेजीं॥"]


STORY = ("The ferry between Carrow and Ennis Point will run twice a day from June, the harbour board said on "
         "Monday. The board expects about three hundred passengers a week in the first summer.")
TEASERS = ("Our food writer spent a week on the night boats and found the best chowder on the coast, though the "
           "cook would not give away the […]\n\n"
           "The island choir has a new conductor and a new hall. Rehearsals now start at seven.\n\n"
           "If you have ever wanted to learn the fiddle, the winter classes at the library are a good place to […]")


def test_teasers_of_other_posts_cut_by_the_page_are_not_summary_sentences():
    out = joined(STORY + "\n\n" + TEASERS)
    assert "ferry between Carrow" in out
    assert not any(word in out for word in ("chowder", "choir", "Rehearsals", "fiddle"))


def test_one_cut_paragraph_is_a_feed_description_and_stays_the_story():
    text = ("The ferry between Carrow and Ennis Point will run twice a day from June. The board expects three "
            "hundred passengers a week. Tickets go on sale in May at the harbour office and cost four pounds a […]")
    assert all(u.prose for u in units(text)[:2])


def test_a_sentence_the_extractor_broke_at_a_line_break_is_not_chosen_by_halves():
    text = ("The harbour board met on Monday to plan the summer season.The board gave a grant to the Carrow Society "
            "for Coastal\n\n"
            "Birds and Seals with their survey, as they count the colonies on the islands every spring.\n\n"
            "Counting starts in April and the results go to the county council in September.")
    found = units(text)
    assert not any(u.prose and u.text.startswith("Birds and Seals") for u in found)
    assert "Birds and Seals" not in joined(text)
    # a heading without a stop, alone in its paragraph, leaves the next paragraph whole
    assert all(u.prose for u in units("Counting the colonies\n\nBirds and seals are counted every spring on the "
                                      "islands. The results go to the council.") if u.text.endswith("."))


def test_a_blog_engines_footer_is_furniture():
    assert is_furniture("RSS feed for comments on this post.")
    assert is_furniture("Comments are closed.")
    assert is_furniture("TrackBack URI")
    assert not is_furniture("The feed for the harbour seals is delivered every morning.")


def test_pointers_at_what_follows_and_at_other_answers_are_furniture():
    assert is_furniture("Here are a few of our favourites.")
    assert is_furniture("Here’s how the new timetable works:")
    assert not is_furniture("Here is the problem with the plan: it costs more than the old ferry did.")
    assert is_furniture("Click through for the whole thing.")
    assert is_furniture("How do I know which tense to use in sentences like the following?")
    assert is_furniture("I don't quite agree with the other two answers.")
    assert not is_furniture("The board did not answer the questions about the other ferries.")


def test_a_pronoun_after_a_question_word_or_an_opening_phrase_without_a_comma_points_back():
    sentences = ["My phrase book gives the ferry's name in the old spelling.",
                 "Why didn't they use the new spelling in that book?",
                 "In many cases they keep both spellings on the signs."]
    assert pronoun_dangles(1, sentences, [])
    assert pronoun_dangles(2, sentences, [])
    assert not pronoun_dangles(1, sentences, [0])  # straight after its sentence it reads


def test_they_reads_only_straight_after_its_sentence_even_when_no_name_is_between():
    sentences = ["Ferry tickets will cost four pounds from June.",
                 "Fishermen who sold their boats still want to work on the water.",
                 "They have asked the board for jobs on the new ferry.",
                 "She said the board would answer in May."]
    assert pronoun_dangles(2, sentences, [0])  # "They" are the fishermen, in the skipped sentence
    assert not pronoun_dangles(2, sentences, [0, 1])

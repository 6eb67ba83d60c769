"""Furniture and dangling references found by a fresh end-to-end count (issue 29, fourth round, helper h29f).

As in test_summarize_fresh.py, every text here is written for these tests, shaped like what an extractor leaves
of a page: each case is a general cause seen on fresh pages (a page of web -> digest.gather.extract -> summarize),
never a site's wording."""

from __future__ import annotations

import pytest

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


# From the second count (ranks 20-40, at 56bbf11).

def test_prose_pointers_with_a_dash_or_a_clause_after_here():
    assert is_furniture("See the whole series on the festival's channel – here.")
    assert is_furniture("Be sure to read my first post here, to find out why the boat was late.")
    assert not is_furniture("The ferry stops here, to the relief of the islanders.")


def test_turns_that_point_back_read_only_after_their_sentence():
    from digest.summarize.readable import leans_on_adjacent
    assert leans_on_adjacent("Jokes aside (and there were plenty), the crews are proud of the new wall.")
    assert leans_on_adjacent("That said, the board still wants a second ferry.")
    assert leans_on_adjacent("Like I said, nobody knows when the wall will be finished.")
    assert not leans_on_adjacent("As I said in my letter in 2019 the wall was always too low.")


def test_the_answer_to_a_short_question_reads_only_after_it():
    sentences = ["Small ferries are coming back to the islands of the north.", "Need an example?",
                 "Take the new boat between Carrow and Ennis Point, which carries forty people."]
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(2, sentences, [0, 1])


def test_a_thing_introduced_by_a_skipped_sentence_is_not_named_as_known():
    sentences = ["Three accidents were reported on the coast road this week.",
                 "A van driven by a local baker was heading north when a deer crossed the road.",
                 "The van could not avoid the deer and was damaged at the front.",
                 "The road was closed for an hour on Tuesday."]
    assert pronoun_dangles(2, sentences, [0])  # which van?
    assert not pronoun_dangles(2, sentences, [0, 1])
    assert not pronoun_dangles(3, sentences, [0])  # no road was introduced just before: the road is known


def test_a_paragraph_opened_by_a_one_word_label_is_not_the_pages_prose():
    text = ("The Carrow ferry season opens on Saturday with two boats instead of one. The board expects about three "
            "hundred passengers a week in the first summer.\n\n"
            "Crew: Mary Hale skippers the new boat. The former fisherman has sailed the route for twenty years.\n\n"
            "Fares: The single fare is four pounds. Children under five travel free.\n\n"
            "Ali: I have waited ten years for this boat. It changes everything for us.")
    found = units(text)
    assert [u.text for u in found if u.prose] == [
        "The Carrow ferry season opens on Saturday with two boats instead of one.",
        "The board expects about three hundred passengers a week in the first summer."]


def test_lines_broken_inside_a_sentence_are_joined_again():
    text = ("The new timetable works well for the morning boats, but\n\n"
            "unfortunately the evening crossing still leaves at six, so\n\n"
            "commuters from the city miss it.\n\nThe board will look at it again in May.")
    assert "The new timetable works well for the morning boats, but unfortunately the evening crossing still " \
           "leaves at six, so commuters from the city miss it." in [u.text for u in units(text)]
    lower = "the new timetable works well\n\nfor the morning boats."
    assert [u.text for u in units(lower)] == ["the new timetable works well", "for the morning boats."]
    # a one-word line is a heading or a widget ("Subscribe"), not a sentence broken in two
    assert [u.text for u in units("The ferry runs daily.\n\nTimetable\n\nfrom June, two boats.")][1] == "Timetable"


def test_an_update_label_with_a_date_is_cut_and_a_readers_comment_is_furniture():
    from digest.summarize.furniture import strip_furniture
    assert strip_furniture("Update 11-4-12: The board has moved the first crossing to Sunday.") == \
        "The board has moved the first crossing to Sunday."
    assert is_furniture("Ann Reid leaves a comment that says it better than this post does.")


# From the third count (ranks 40-60, at 696493f).

def test_plus_a_pronoun_inside_an_opening_clause_and_the_latter_point_back():
    from digest.summarize.readable import leans_on_adjacent
    assert leans_on_adjacent("Plus, the harbour master has the figures to prove it.")
    assert not leans_on_adjacent("Plus-size sailing gear sells well on the islands.")
    sentences = ["The ferry's crew was hired in May.", "As she did, the skipper checked the charts again.",
                 "Naturally, the island votes fall into the latter group.", "The former skipper runs the cafe now."]
    assert pronoun_dangles(1, sentences, [])
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(2, sentences, [0, 1])
    assert not pronoun_dangles(3, sentences, [0])  # "the former skipper": a title, not a pointer


def test_a_sentence_that_leans_on_the_pages_video_is_furniture():
    assert is_furniture("As I mention in the video, I leave out one egg white and add two yolks.")
    assert is_furniture("Like you can see in the photos, the quay is finished.")
    assert not is_furniture("As I mentioned to the board, the quay is finished.")


# From the fourth count (ranks 60-80, at 5585300).

def test_a_company_or_a_site_speaking_of_itself_and_a_lone_credit_line_are_furniture():
    assert is_furniture("At Carrow Data, we provide clean maps for shipping firms.")
    assert is_furniture("Enjoy your visit and have a nice stay in our picture gallery!")
    assert is_furniture("For a longer introduction to the library, please consult our handbook.")
    assert is_furniture("Created by Glasgow-based designer Ann Reid!")
    assert not is_furniture("At Carrow harbour, the ferry stops twice a day.")
    assert not is_furniture("Created by accident in 1928, the drug changed medicine.")


def test_the_first_or_the_second_as_a_noun_points_back():
    sentences = ["Ann Reid sent two letters to the board in 2019.", "She wanted the quay rebuilt.",
                 "The first was written in March, after the storm."]
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(2, sentences, [0, 1])


def test_one_thing_introduced_is_named_as_known_only_after_its_sentence():
    sentences = ["The islands vote in March.", "One group of fishermen, known as the Quay Crew, backs the ferry.",
                 "The group's founder, Ann Reid, is a force in island politics."]
    assert pronoun_dangles(2, sentences, [0])


def test_step_numbers_glued_to_their_first_word_are_cut_in_a_list_of_steps():
    text = "1Heat the oven to 180 degrees.\n\n2Add the water to the juice.\n\n3Pour the batter into the tin."
    assert [u.text for u in units(text)] == ["Heat the oven to 180 degrees.", "Add the water to the juice.",
                                            "Pour the batter into the tin."]
    assert units("1Password is a password manager for families.")[0].text.startswith("1Password")


def test_a_shared_small_word_is_no_introduction():
    sentences = ["The ferry season opened on Saturday.", "Boats left a harbour and went north before dawn.",
                 "The wind and the tide turned by noon."]
    assert not pronoun_dangles(2, sentences, [0])  # "and" is in both; no thing was introduced


# From the sixth count (ranks 100-120, at 770dec3).

def test_a_phrase_set_aside_reads_only_after_its_sentence():
    from digest.summarize.readable import leans_on_adjacent
    assert leans_on_adjacent("Better timetables aside, the islands have another reason to cheer.")
    assert not leans_on_adjacent("Aside from the ferry, the islands have a new school.")


def test_a_comment_box_pointer_and_a_here_is_line_with_a_list_are_furniture():
    assert is_furniture("If you have a request, you may leave it using the comment box below.")
    assert is_furniture("Here is the timetable, the fares, and the map, followed by three ways to book.")
    assert not is_furniture("Here is the problem with the plan: it costs more than the old ferry did.")


def test_an_interviewers_unlabelled_questions_are_not_the_pages_sentences():
    text = ("Ann Reid has skippered the Carrow ferry for twenty years. This summer she retires, and we spoke to her "
            "about the job.\n\n"
            "What is the hardest part of the crossing?\n\n"
            "The hardest part is the tide at the harbour mouth. It turns fast and the boat is slow.\n\n"
            "You started in 2005, when the old boat still ran. What has changed since then?\n\n"
            "Everything has changed. The new boat has radar and twice the engines.\n\n"
            "What will you miss most?\n\n"
            "I will miss the passengers most.")
    questions = [u.text for u in units(text) if u.text.endswith("?") or u.text.startswith("You started")]
    assert questions and not any(u.prose for u in units(text) if u.text in questions)
    rhetorical = ("The ferry runs twice a day. Is that enough?\n\nThe board thinks so. It will add a boat in June.")
    assert all(u.prose for u in units(rhetorical) if u.text.endswith("?"))


# From the seventh count (ranks 120-140, at 3e2fccc).

def test_calls_to_submit_and_read_more_lines_are_furniture():
    assert is_furniture("Submit your letter to the editor via this form.")
    assert is_furniture("Read more Letters to the Editor.")
    assert not is_furniture("Readers can submit questions to the council before May.")
    assert not is_furniture("Read the small print before you book a crossing.")


def test_the_answer_or_the_cons_read_only_after_their_sentence():
    sentences = ["The island needs a second ferry.", "Why has nobody bought one?",
                 "The answer, the harbour master says, is money."]
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(2, sentences, [1])


# From the eighth count (ranks 140-160, at e254ed9).

def test_pointers_at_what_was_outlined_or_at_a_post_below_and_a_wikis_notice_are_furniture():
    assert is_furniture("The timetable as outlined above can be seen at work on the summer crossings.")
    assert is_furniture("Be sure to look at what we have planned for the summer in the post below.")
    assert is_furniture("At least some content in this article is derived from the harbour board's reports.")
    assert not is_furniture("The board outlined its plans above the din of the engines.")


def test_one_of_two_and_next_came_read_only_after_their_sentence():
    from digest.summarize.readable import leans_on_adjacent
    sentences = ["The board has two plans for the ferry.", "It will choose in May.", "One is that the town buys a boat."]
    assert pronoun_dangles(2, sentences, [0])
    assert leans_on_adjacent("Next came the winter storms, which closed the quay for a month.")
    assert not leans_on_adjacent("Next year the ferry will run twice a day.")


# From the ninth count (ranks 160-180, at 7ba791a).

def test_specifically_and_sorry_read_only_after_their_sentence():
    from digest.summarize.readable import leans_on_adjacent
    assert leans_on_adjacent("Specifically, the board wants a second boat by June.")
    assert leans_on_adjacent("Sorry, but without that the ferry cannot run.")
    assert not leans_on_adjacent("Sorrymore Bay is the ferry's last stop.")


def test_a_link_partys_rules_and_a_pointer_at_the_following_syntax_are_furniture():
    assert is_furniture("Please leave only one link per comment, or it goes to the spam filter.")
    assert is_furniture("With the following R syntax, we can change the colour of the bars.")


def test_a_lettered_list_marker_opens_a_list_line():
    found = units("The river runs past the town. It is wide.\n\nA] We are always doing things for the first time.")
    assert [u.prose for u in found] == [True, True, False]


# From the tenth count (Dragnet ranks 180-220, at 3cf9175).

def test_a_company_suffix_after_a_hyphen_does_not_end_a_sentence_before_a_name():
    assert split_sentences("Her son, President of Carrow-Inc. Ann Reid runs the yard. It builds ferries.") == [
        "Her son, President of Carrow-Inc. Ann Reid runs the yard.", "It builds ferries."]
    assert split_sentences("She founded Carrow-Inc. The yard grew.") == ["She founded Carrow-Inc.", "The yard grew."]


def test_a_far_pointer_below_and_learn_more_at_a_link_are_furniture():
    assert is_furniture("Watch a video of the skipper's last crossing on the old boat below, with music.")
    assert is_furniture("She was a founder of the harbour society, learn more at http://example.org/about.")
    assert not is_furniture("Sailors learn more at sea than in any classroom.")


@pytest.mark.parametrize("sentence", [
    "Google said its spam filter now blocks 99.9 percent of phishing mail.",
    "Earlier replies from the ministry were vague about the cost of the bridge.",
])
def test_news_about_spam_filters_or_earlier_replies_is_not_a_blog_footer(sentence):
    """The link-party and forum rules name their furniture with its context ("go to the spam filter", "the other two
    answers"); a news sentence with the same words is prose."""
    assert not is_furniture(sentence)


# From the sixth round's held-out read and a fresh count (seed h6r, helper h6r): verbless taglines and asides.

@pytest.mark.parametrize("phrase", [
    "Nine current recipes with new ones to be added every two months.",
    "From Ann's garden blog in 09, how to turn an old ladder into shelves and a bench.",
    "Coastal, rural and island transport policy & reports.",
])
def test_a_noun_phrase_whose_plurals_follow_a_number_a_determiner_or_a_preposition_is_a_fragment(phrase):
    """"titles", "ones", "reports" cannot be verbs there, nor "to be added" a finite one."""
    from digest.summarize.readable import fragment
    assert fragment(phrase)


@pytest.mark.parametrize("sentence", [
    "The new rules apply from Monday.", "Two died in the crash on Monday.", "This makes no sense to the board.",
    "In a pan, heat the oil over a low flame.", "The Carrow Tab 15 starts at 299 pounds.",
    "After all, Reid and Lee lead in the county polls.", "Pour the batter over the cherries.",
])
def test_a_verb_after_a_plural_a_name_or_a_comma_still_makes_a_sentence(sentence):
    from digest.summarize.readable import fragment
    assert not fragment(sentence)


def test_a_tagline_of_noun_phrases_does_not_open_the_summary():
    text = ("Coastal, rural and island transport policy & reports.\nCommunity transport and volunteer engagement.\n"
            "All in one place.\n\nWho we are\n\nThe Carrow Transport Network was founded in 2014 by bus drivers and "
            "ferry crews to share timetables across the county. Its first project, a joint map of routes, was "
            "printed in 2015 and given away at every stop.")
    out = joined(text)
    assert out.startswith("The Carrow Transport Network was founded")
    assert "policy &" not in out and "volunteer engagement" not in out


def test_an_aside_in_parentheses_that_trails_off_is_not_a_summary_sentence():
    from digest.summarize.apart import aside
    assert aside("(think of the big sponsors' race at last year's show)…")
    text = ("I think these friendly contests are always fun to watch at the show…\n\n(think of the big sponsors' "
            "race at last year's show)…\n\nTwo consulting firms will race to build the same sales report on stage. "
            "The winner gets a mention in the keynote on Tuesday.")
    assert "(think" not in joined(text)


@pytest.mark.parametrize("sentence, furniture", [
    ("Use the caption field to tell us where you took the photo.", True),
    ("Tell us which roads are still closed near you.", True),
    ("In this post, we'll look at tide tables and at the end there's a recording of me reading the charts aloud.", True),
    ("Those long queues I described above?", True),
    ("The sketches above are of harbour pilots, ferry cooks and lock keepers.", True),
    ("These are just a few of the boats I've sailed on this year...", True),
    ("We have also earlier seen some of the finest model ferries.", True),
    ("This post is from Carrow Notes by Ann Reid.", True),
    ("Thank you to Tom Lee for his contribution on packing a dry bag for a long crossing.", True),
    ("We test every kayak ourselves, and advertisers do not influence our choices.", True),
    ("We are happy to share that the Carrow Tides app (beta) is now available for you to try.", True),
    ("If you want to hear more about the crew, check it out below.", True),
    ("If you sail in winter, you will find some tips here.", True),
    ("Pick your county below to see its timetable.", True),
    ("While the steps below may work, the board has not checked them on older boats.", True),
    ("The pictures are from our friend Ann's book on lighthouses.", True),
    ("Have a great weekend, everyone!", True),
    ("Ann Reid is the Tom Lee Professor of Marine Law at the Carrow Institute and co-author of “Tides and Courts.”", True),
    ("We continue our County Ferries series, a harbour-by-harbour look at how each crossing is changing.", True),
    ("This is the second in a four part series on how the Carrow yard moved from wooden to steel hulls.", True),
    ("Mentioned earlier in the week, that the lifeboat crew tried the new dry suits yesterday.", True),
    ("Monday, May 3rd, 2021 Warning: This post contains some gruesome pictures of the wreck!", True),
    ("If you haven't yet, read the first installment on the ferry's timetable.", True),
    ("We'll be adding more photos as they come in from the harbour.", True),
    # prose near those patterns
    ("I've already seen a few holiday ads, and the summer has barely ended.", False),
    ("Check out this week's edition of the ferry podcast as the crew answers your questions.", False),
    ("The new timetable is now available at the harbour office.", False),
    ("Residents told us where the water had reached in 1953.", False),
    ("These are the first ferries built in Carrow since the war.", False),
    ("Smith is a professor at the institute, where he studies tides.", False),
])
def test_the_page_speaking_to_its_reader_about_itself_is_furniture(sentence, furniture):
    assert is_furniture(sentence) == furniture


def test_an_imperative_pointer_in_parentheses_is_cut_from_its_sentence():
    text = ("To mark the launch of her new book, the harbour society hosts a live talk tonight at 6 pm Carrow time "
            "(use this handy clock to see what time it will be for you). She will answer questions afterwards. "
            "The talk is free.")
    out = joined(text)
    assert "handy clock" not in out and out.startswith("To mark the launch of her new book")
    assert "Carrow time." in out


def test_them_after_the_first_words_or_it_ending_a_short_sentence_points_back():
    sentences = ["Here are four short films from the harbour museum.", "You can watch them all in twenty minutes.",
                 "Pupils will also learn from it.", "The films were made by the ferry crews in 1960."]
    assert pronoun_dangles(1, sentences, [])
    assert not pronoun_dangles(1, sentences, [0])
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(3, sentences, [])


def test_a_pointer_removed_before_a_them_sentence_leaves_it_out_of_the_summary():
    text = ("Here are four very good films from the harbour museum that will make you think about the sea.\n\n"
            "You can watch them all in less than half an hour.\n\n"
            "The museum's archive holds more than two hundred films made by the ferry crews since 1950.")
    assert "watch them all" not in joined(text)


def test_a_sidebar_bio_under_a_profile_box_is_not_the_story():
    text = ("About Me\n\n- Name: harbourwriter\n\n- Location: Carrow, Kent\n\n"
            "I have been a ferry timetable writer for 12 years. I dislike wet socks. I probably do not care for you.\n\n"
            "The Carrow ferry will run twice a day from June, the harbour board said on Monday. The board expects "
            "three hundred passengers a week.")
    out = joined(text)
    assert "socks" not in out and "timetable writer" not in out
    assert out.startswith("The Carrow ferry will run")


def test_this_weekend_opening_a_sentence_is_a_time_not_a_pointer():
    sentences = ["Warning: This post contains some gruesome pictures of the wreck!",
                 "This weekend I walked the new harbour path and passed the old lifeboat house on the east pier."]
    assert not pronoun_dangles(1, sentences, [])
    assert pronoun_dangles(1, ["The yard launched a ferry.", "This boat carries two hundred people."], [])


def test_a_screenshots_or_a_credits_line_is_a_caption_and_which_is_to_say_answers_the_sentence_before():
    from digest.summarize.furniture import is_caption
    from digest.summarize.readable import leans_on_adjacent
    assert is_caption("Screenshot from the harbour webcam at Carrow at 20:30 UTC.")
    assert is_caption("Credit: Ann Reid.")
    assert not is_caption("Credit unions in Carrow lent more this year.")
    assert leans_on_adjacent("Which is to say, why did the council vote for a ferry nobody asked for?")


def test_an_imperative_that_away_points_back_and_a_hashtag_call_is_furniture():
    sentences = ["The board lists its ferries by the sort of crew they need.", "Strip that away and you still have "
                 "three kinds of boat."]
    assert pronoun_dangles(1, sentences, [])
    assert not pronoun_dangles(1, sentences, [0])
    assert is_furniture("Follow hashtag #carrowstorm on Twitter for news of the ferries.")
    assert is_furniture("Read on (and see you next week, after the regatta!)")
    assert not is_furniture("Strip the paint away before you varnish the hull.")


def test_a_mixed_case_dateline_with_an_agencys_tag_is_cut():
    text = ("Lovely!\n\nCarrow Bay, May 3 (CPA) — There is a tea room near the old lighthouse, a quiet spot on the "
            "east pier. The two-storey tea room has a souvenir counter and a terrace for visitors.")
    out = joined(text)
    assert out.startswith("There is a tea room near the old lighthouse")


def test_follow_us_to_keep_up_is_furniture_and_following_them_to_a_place_is_not():
    assert is_furniture("Follow us to stay up to date on ferry news.")
    assert not is_furniture("Gulls follow them to the harbour every evening.")


def test_a_sentence_that_trails_off_into_a_list_is_not_a_summary_sentence():
    text = ("Let us talk about wet boots on the ferry.\n\n"
            "If you have crossed to Ennis Point in winter, I am betting you have felt…\n\n"
            "- Cold after ten minutes on the open deck\n\n- Worried about the last boat home\n\n"
            "The harbour board will put a heated cabin on the winter ferry from December, the chairman said on "
            "Monday. The cabin seats forty passengers.")
    out = joined(text)
    assert out == "Let us talk about wet boots on the ferry."  # the run ends before the sentence that trails off
    assert "betting" in joined(text.replace("felt…", "felt the cold."))
    assert is_furniture("And now you can read the timetable on the following phones and tablets:")

"""The offline extractive summarizer: whole sentences, article order, the real news first, readable cold.

Every article text here is written for these tests (none is copied from an evaluation set)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from digest.gather.feeds import html_to_text
from digest.summarize.extractive import split_sentences, summarize
from digest.summarize.readable import dangling_names, leans_on_previous, name_intros, pronoun_dangles
from digest.summarize.split import units

SEED = Path(__file__).parent.parent.parent / "shared" / "seed" / "source-article.txt"
EVALDATA = Path(__file__).parents[2] / "shared" / "evaldata"


@pytest.mark.parametrize("text, expected", [
    ("Russia lost 22,816 people since Sept. 1, 2022, he said. Bakhmut fell in May.",
     ["Russia lost 22,816 people since Sept. 1, 2022, he said.", "Bakhmut fell in May."]),
    ("Losses were lower by a factor of 7.5 in the U.S. report. Next sentence here.",
     ["Losses were lower by a factor of 7.5 in the U.S. report.", "Next sentence here."]),
    ("Mr. J. Smith met Dr. Jones at 5 p.m. on Monday. They talked.",
     ["Mr. J. Smith met Dr. Jones at 5 p.m. on Monday.", "They talked."]),
    ('"We will hold the city," he said. "No retreat." The end came later!',
     ['"We will hold the city," he said.', '"No retreat."', "The end came later!"]),
    ("First paragraph without a stop\n\nSecond paragraph. Two.",
     ["First paragraph without a stop", "Second paragraph.", "Two."]),
    # Abbreviations that can also end a sentence end one before a sentence opener, not before a name.
    ("He moved to the U.S. The move was quick. The U.S. President agreed.",
     ["He moved to the U.S.", "The move was quick.", "The U.S. President agreed."]),
    ("Shares in Acme Inc. rose. They fell at 5 p.m. They rose at 9 a.m. on Friday.",
     ["Shares in Acme Inc. rose.", "They fell at 5 p.m.", "They rose at 9 a.m. on Friday."]),
    # "No." and month names are abbreviations only before a number.
    ("He lives at No. 10 Downing Street. The answer was no. Then he left.",
     ["He lives at No. 10 Downing Street.", "The answer was no.", "Then he left."]),
    ("It closed in Sept. Officials said it would reopen on Oct. 3, 2023.",
     ["It closed in Sept.", "Officials said it would reopen on Oct. 3, 2023."]),
    # Initials stay with the name; a lone capital before "Her", "The"... ends the sentence.
    ("George W. Bush met Mr. J. R. Smith. She quoted Malcolm X. Her father agreed.",
     ["George W. Bush met Mr. J. R. Smith.", "She quoted Malcolm X.", "Her father agreed."]),
    ("Prices rose 7.5% to $1,234.56 in 2022, or 22,816 units. Next year 0.5 more.",
     ["Prices rose 7.5% to $1,234.56 in 2022, or 22,816 units.", "Next year 0.5 more."]),
    # Quotes and ellipses: the closing quote stays with its sentence; a lower-case word after "?" continues it.
    ('He asked: "Why?" Then he left. "Is it over?" she asked. Wait... What happened?',
     ['He asked: "Why?"', "Then he left.", '"Is it over?" she asked.', "Wait...", "What happened?"]),
    ("\u201cWe won,\u201d he said. \u201cIt\u2019s over.\u201d Nobody agreed.",
     ["\u201cWe won,\u201d he said.", "\u201cIt\u2019s over.\u201d", "Nobody agreed."]),
    # Sentences glued without a space are split; decimals, domains and initials are not.
    ("Read it on the website.He said more. Visit example.com or Bungie.net today. Made in the U.S.A. today.",
     ["Read it on the website.", "He said more.", "Visit example.com or Bungie.net today.",
      "Made in the U.S.A. today."]),
    ("", []),
])
def test_sentence_splitting(text, expected):
    assert split_sentences(text) == expected


def test_summary_is_whole_sentences_in_article_order():
    text = ("Storms broke the harbour wall on Monday. Four fishing boats sank at their moorings. Sea water flooded "
            "forty homes near the quay. The coast road stayed closed until Wednesday. Two schools shut for the week. "
            "Trains to the city stopped at Carrow. Power failed across the old town overnight. Insurers sent twelve "
            "assessors on Tuesday. The council promised a new wall by next winter. Volunteers filled sandbags at "
            "the church.")
    summary = summarize(text, title="Harbour wall", max_sentences=3)
    sentences = split_sentences(text)
    assert len(summary) == 3
    assert all(s in sentences for s in summary)
    assert summary == sorted(summary, key=sentences.index)


def test_short_text_is_returned_whole_and_empty_text_gives_nothing():
    assert summarize("Only one sentence.", max_sentences=3) == ["Only one sentence."]
    assert summarize("", max_sentences=3) == []


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seed is not beside this clone")
def test_source_page_summarizes_to_its_news_not_its_signup_box():
    page = SEED.read_text(encoding="utf-8")
    # The page as a feed would deliver it: paragraphs, with the newsletter box after the article.
    html = "".join(f"<p>{line}</p>" for line in page.splitlines() if line.strip())
    summary = summarize(html_to_text(html), title="Danilov: Russia's losses in Bakhmut 7.5 times higher",
                        max_sentences=3)
    joined = " ".join(summary)
    assert "factor of 7.5" in joined
    assert "22,816 people in Bakhmut since Sept. 1, 2022" in joined
    assert "speaks with the Kyiv Independent" not in joined  # the photo's caption, its credit on its own after it
    for boilerplate in ("Enter your email", "Subscribe", "indicates required", "MORE NEWS", "Editors' Picks"):
        assert boilerplate not in joined


ARTICLE = """Harbour wall to be rebuilt after winter storms

The council will rebuild the harbour wall at a cost of 2.4 million pounds, it said on Monday.

The wall was breached twice in January. Storms flooded 40 homes near the quay. "We cannot wait for another winter," said the council leader, Mr. A. Jones.

Work starts in May. It should take 18 months. Fishing boats will moor at the north quay meanwhile.

Thank you for signing up for this newsletter. We have sent you a confirmation email.
"""


@pytest.mark.parametrize("max_sentences", [1, 2, 3, 4, 5, 50])
def test_summary_sentences_are_whole_unique_and_in_article_order(max_sentences):
    title, body = ARTICLE.split("\n", 1)
    sentences = split_sentences(body)
    summary = summarize(body, title=title, max_sentences=max_sentences)
    assert all(s in sentences for s in summary)
    positions = [sentences.index(s) for s in summary]
    assert positions == sorted(set(positions))
    news = sentences[:-2]  # the newsletter box is never a summary sentence, however many are asked for
    assert len(summary) == min(max_sentences, len(news))
    if max_sentences <= 3:
        assert summary[0].startswith("The council will rebuild the harbour wall")
    if max_sentences < len(sentences):
        assert not any("signing up" in s or "confirmation email" in s for s in summary)


def test_a_repeated_sentence_is_chosen_once_at_its_first_place():
    text = "The storm hit the harbour wall. Three boats sank. The storm hit the harbour wall. The wall will be rebuilt."
    summary = summarize(text, title="Storm hits harbour wall", max_sentences=3)
    assert summary == ["The storm hit the harbour wall.", "Three boats sank.", "The wall will be rebuilt."]
    assert summarize(text, title="Storm hits harbour wall", max_sentences=1) == ["The storm hit the harbour wall."]


def test_zero_sentences_and_furniture_only_text():
    assert summarize(ARTICLE, max_sentences=0) == []
    assert summarize("Skip to content\n\nSubscribe\n\n* indicates required", max_sentences=3) == []


# --- Readability: what a reader trips over when a sentence is read without the article around it.

BRIDGE = """Engineers closed the Old Mill bridge in Dunmore on Tuesday after divers found cracks in two of its piers.
Why now? It is the second closure of the bridge in three years, and the town council says it cannot afford another repair.
The council will ask the regional government for 6 million euros to replace the bridge with a new one by 2027.
Mayor Clara Fenwick said the crossing carried 9,000 cars a day. "We warned them in 2021. We warned them again last spring. Nobody listened," she said.
Fenwick's office has asked the army for a temporary pontoon bridge while the piers are inspected.
Traffic is being sent 14 kilometres around through Carrow, where queues formed at the only other bridge over the river.
Engineers closed the Old Mill bridge in Dunmore on Tuesday after divers found cracks in its piers, officials said.
Divers will return on Friday to inspect the remaining piers of the bridge.
"""


def _sentences_of(summary):
    return [s for s in summary if s]


@pytest.mark.parametrize("max_sentences", [1, 2, 3, 4])
def test_first_sentence_stands_on_its_own_and_no_near_duplicates(max_sentences):
    summary = summarize(BRIDGE, max_sentences=max_sentences)
    assert summary and not leans_on_previous(summary[0])
    assert not summary[0].startswith(("It ", "Why", '"'))
    # The sentence repeating the lede with "officials said" is never chosen beside it.
    assert sum(s.startswith("Engineers closed the Old Mill bridge") for s in summary) == 1


def test_a_bare_surname_comes_only_after_the_sentence_that_introduced_the_person():
    for n in range(1, 6):
        summary = summarize(BRIDGE, max_sentences=n)
        for i, sentence in enumerate(summary):
            if "Fenwick" in sentence and "Clara Fenwick" not in sentence:
                assert any("Clara Fenwick" in earlier for earlier in summary[:i]), summary


@pytest.mark.parametrize("max_sentences", [1, 2, 3, 4, 5])
def test_quotes_in_a_summary_are_balanced(max_sentences):
    for sentence in summarize(BRIDGE, max_sentences=max_sentences):
        assert sentence.count('"') % 2 == 0, sentence
        assert sentence.count("\u201c") == sentence.count("\u201d"), sentence
    assert "We warned them again last spring." not in summarize(BRIDGE, max_sentences=5)


FURNISHED = """By . Tom Baxter . PUBLISHED: . 09:14 EST, 3 May 2014 . | . UPDATED: . 11:02 EST, 3 May 2014 .
(Reuters) -- Dockworkers at the port of Velden walked out on Monday in a dispute over night-shift pay, halting container traffic.
Scroll down for video
Stranded: Lorries queue outside the Velden container terminal on Monday morning (Photo: Jan Mertens)
The strike is the first at the port since 1998, when a two-week stoppage cost the region an estimated 40 million euros.[3]
The union wants night shifts paid at double the day rate.[12] Talks with the port authority broke down on Sunday evening.
Use the tracker like this: `var shifts = load(port); shifts.filter(x => x.night);`
<b>Live updates</b> will follow on our site.
Sign up for our morning newsletter to get the latest news in your inbox. Click here to subscribe.
This article was originally published on Medium. Follow us on Twitter for more.
"""


@pytest.mark.parametrize("max_sentences", [1, 3, 5])
def test_no_bylines_datelines_captions_citations_code_markup_or_furniture(max_sentences):
    summary = summarize(FURNISHED, max_sentences=max_sentences)
    joined = " ".join(summary)
    assert summary[0].startswith("Dockworkers at the port of Velden walked out on Monday")
    for bad in ("By .", "PUBLISHED", "UPDATED", "(Reuters)", "--", "Scroll down", "Stranded:", "Photo:", "[3]", "[12]",
                "var ", "=>", "<b>", "newsletter", "Click here", "originally published", "Follow us"):
        assert bad not in joined, (bad, summary)


def test_a_list_lead_in_is_not_glued_to_the_next_sentence():
    text = ("The city will change its bin collections from June, the council said on Wednesday.\n"
            "The new plan has three parts:\n"
            "- food waste collected every week\n- glass collected every fortnight\n- a new recycling centre\n"
            "Residents will receive a new calendar by post before the change starts.\n"
            "The council expects to save 1.2 million pounds a year from the new schedule.")
    summary = summarize(text, max_sentences=3)
    assert summary[0].startswith("The city will change its bin collections")
    assert not any(s.rstrip().endswith(":") or ":" in s and "food waste" in s for s in summary), summary
    assert all(not s.startswith("-") for s in summary)


@pytest.mark.parametrize("text, expected", [
    # No space after an exclamation mark, and lower-case or tokenized text as some feeds and corpora store it.
    ("Our garden is about to GROW!So you're invited to the opening on Saturday. Bring a friend.",
     ["Our garden is about to GROW!", "So you're invited to the opening on Saturday.", "Bring a friend."]),
    # Found reading our summaries of real feed items (2026-11-30):
    # A day number before a month is an ordinal (German, Scandinavian), not the end of a sentence.
    ("Die Staffel startet am 22. November. Mit dabei sind alle.", ["Die Staffel startet am 22. November.",
                                                                   "Mit dabei sind alle."]),
    # German abbreviations before a (capitalised) noun.
    ("Das Modell ist vom sog. Digital Darwinismus bedroht, z.B. Banken. Das ist neu.",
     ["Das Modell ist vom sog. Digital Darwinismus bedroht, z.B. Banken.", "Das ist neu."]),
    # Street and place abbreviations end a sentence only before a sentence opener.
    ("Call the Mtn. View office today. He lives on Gallows Rd. The house is big.",
     ["Call the Mtn. View office today.", "He lives on Gallows Rd.", "The house is big."]),
    # An aside in parentheses keeps its sentences inside the sentence it belongs to.
    ("They met the whole band (yes, the drummer came too. He even spoke!). Then they left.",
     ["They met the whole band (yes, the drummer came too. He even spoke!).", "Then they left."]),
    # Code is not split into sentences at a method call ("sm.Inhibit(").
    ("cookie = sm.Inhibit($0, 0).first. This is prose.He said more.",
     ["cookie = sm.Inhibit($0, 0).first.", "This is prose.", "He said more."]),
    # Chinese and Japanese stops end sentences with no space after them; scripts without capitals split too.
    ("今日は雨です。明日は晴れるでしょう。", ["今日は雨です。", "明日は晴れるでしょう。"]),
    ("시작은 사진 공개였다. 그건 잘못된 일이다.", ["시작은 사진 공개였다.", "그건 잘못된 일이다."]),
    # A German quotation closes with “.
    ("Sie sagte: „Das ist gut.“ Dann ging sie.", ["Sie sagte: „Das ist gut.“", "Dann ging sie."]),
])
def test_robust_splitting(text, expected):
    assert split_sentences(text) == expected


def test_tokenized_lowercase_text_is_split_and_summarized():
    text = ("the council voted on monday to rebuild the harbour wall . it 's the first repair since 1990 , "
            "officials said . work starts in may and should take 18 months . boats will moor at the north quay .")
    summary = summarize(text, max_sentences=3)
    assert len(summary) == 3
    assert summary[0] == "the council voted on monday to rebuild the harbour wall."
    assert all(" ." not in s and " 's" not in s and " ," not in s for s in summary), summary


@pytest.mark.parametrize("text, expected", [
    # A teaser with no final punctuation is the publisher's own summary: kept whole.
    ("Police say the guards now face a criminal case", ["Police say the guards now face a criminal case"]),
    ("Police say the guards now face a criminal case\n", ["Police say the guards now face a criminal case"]),
    # Cut by the feed: keep the words, mark the cut with one ellipsis.
    ("The minister resigned after a week of protests over the new [\u2026]", ["The minister resigned after a week of "
                                                                              "protests over the new\u2026"]),
    # Very short articles are kept whole, even when a sentence has no final stop.
    ("The bridge reopens on Monday. Drivers should expect delays", ["The bridge reopens on Monday.",
                                                                    "Drivers should expect delays"]),
    ("The bridge reopens on Monday.", ["The bridge reopens on Monday."]),
])
def test_teasers_and_very_short_texts_are_kept(text, expected):
    assert summarize(text, max_sentences=3) == expected


def test_an_overlong_teaser_is_cut_at_a_word_boundary_with_an_ellipsis():
    text = " ".join(f"word{i}" for i in range(200))
    [summary] = summarize(text, max_sentences=3)
    assert summary.endswith("\u2026") and len(summary.split()) == 50
    assert all(w.startswith("word") for w in summary.rstrip("\u2026").split())


HUMAN = EVALDATA / "human_summaries" / "frank_cnndm_test.jsonl"


@pytest.mark.skipif(not HUMAN.exists(), reason="../shared/evaldata (human summaries) is not beside this clone")
def test_beats_lead3_on_human_written_summaries():
    """A regression guard (the constants were chosen on this set; bench/fit_summarizer.py has the
    cross-validated figures): ROUGE-1/2/L F1 above Lead-3 on the journalists' highlights."""
    spec = importlib.util.spec_from_file_location("baseline_rouge", EVALDATA / "baseline_rouge.py")
    rouge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rouge)
    rows = [json.loads(line) for line in HUMAN.read_text(encoding="utf-8").splitlines()]

    def mean_rouge(picks):
        totals = [0.0, 0.0, 0.0]
        for row, sentences in zip(rows, picks):
            pred = rouge.tokenize(" ".join(sentences))
            for ref in map(rouge.tokenize, row["references"][:1]):
                found = (rouge.rouge_n(pred, ref, 1), rouge.rouge_n(pred, ref, 2), rouge.rouge_l(pred, ref))
                totals = [t + f for t, f in zip(totals, found)]
        return [t / len(rows) for t in totals]

    ours = [summarize(row["article"], max_sentences=3) for row in rows]
    lead = mean_rouge([rouge.split_sentences(row["article"])[:3] for row in rows])
    assert all(1 <= len(s) <= 3 for s in ours)  # three, or fewer when a third would run past WORDS
    mine = mean_rouge(ours)
    assert all(a > b for a, b in zip(mine, lead)), (mine, lead)
    for row, summary in zip(rows, ours):
        # A pronoun or "This" opens a summary only as the text's own first line, where it points at the headline.
        assert not leans_on_previous(summary[0]) or units(row["article"])[0].text == summary[0], summary
        assert not any(re.search(r"Scroll down|\(CNN\)", s) for s in summary)


# --- Found reading our summaries of real feed items (the texts here are written for these tests).

def test_a_pronoun_never_follows_a_skipped_sentence():
    text = ("Prosecutors in Velden dropped the fraud case against the former mayor on Tuesday after a review of the "
            "evidence. \"We found that the evidence was too weak to bring to a court, and we have told the court and his "
            "lawyers so this morning,\" chief prosecutor Anna Berg told reporters at a crowded news conference in the "
            "town hall. She said the former mayor could still face a civil case over the harbour contract. "
            "The harbour contract was signed in 2019 and the civil case could cost the former mayor his pension. "
            "The former mayor had always denied taking money over the harbour contract.")
    sentences = split_sentences(text)
    for n in (2, 3, 4):
        summary = summarize(text, max_sentences=n)
        for s in summary:
            if s.startswith(("She ", "He ", "They ", "It ")):
                assert sentences[sentences.index(s) - 1] in summary, summary


def test_a_leaning_sentence_does_not_open_even_a_short_text():
    # A standfirst without a stop, then a sentence starting "It": a two-sentence article is still not
    # summarised by a sentence that points at nothing.
    text = ("A cross-border library was the site of a plot to smuggle rifles into Quebec\n\n"
            "It was built to straddle the frontier between the two countries as a symbol of friendship.\n\n"
            "A century later, the Haskell library still lets readers of both countries meet without a passport.\n\n"
            "Continue reading...")
    summary = summarize(text, max_sentences=3)
    assert summary and not leans_on_previous(summary[0]), summary


@pytest.mark.parametrize("bad, text", [
    ("China.\"", 'The president spoke at length on Monday about trade. He said: "We will win.\n\n'
                 'Thanks to my tariffs, we are taking in billions of dollars from China." Backers of tariffs say '
                 'they help companies compete. Critics say consumers pay the price in the shops.'),
    ("[...]", "Apartment Features\n\nTwo bedrooms, one bath\n\nLoads of light and large windows\n\nModern kitche [...]"),
    ("(0:27)", "Scott talks about the founders of Square this week. We got the share count wrong last week. "
               "The correct figure is closer to 18 per cent of the company.\n\n(0:27) Source: SEC filing, "
               "February 2017.\n\n(0:41) Source: Company report, May 2017."),
    ("printer-friendly", "You can download a printer-friendly version to display in your office. Code reviews "
                         "slow a change down but teach a lot. Aim to get most changes approved in the first round. "
                         "Small changes are reviewed faster than large ones."),
    ("sm.", "The interface is a bit low level, but workable:\n\nbus = DBus::SessionBus.instance\n\n"
            "cookie = sm.Inhibit($0, 0, 'inhibiting', 4).first\n\nNote: the call to Uninhibit is optional.\n\n"
            "Hat tip to the reader who sent this."),
])
def test_cut_off_unbalanced_show_notes_and_code_sentences_are_not_chosen(bad, text):
    summary = summarize(text, max_sentences=3)
    assert not any(bad in s for s in summary), summary


def test_text_in_a_script_without_spaces_gets_a_summary():
    text = ("市議会は月曜日、港の防波堤を再建することを決めた。費用は二億円になる見込みだ。"
            "工事は五月に始まり、十八か月かかる。漁船はその間、北の岸壁に係留される。住民説明会は来週開かれる。")
    summary = summarize(text, max_sentences=2)
    assert len(summary) == 2 and all(s.endswith("。") for s in summary)
    assert summary[0] == "市議会は月曜日、港の防波堤を再建することを決めた。"


@pytest.mark.parametrize("dateline", ["VIENNA — ", "BERLIN -- ", "HONOLULU, Hawaii (Island News) - ", "Hong Kong (CNN Business) ",
                                      "SAN FRANCISCO, Calif. — ", "[Seoul=Newsdesk] ", "【Vienna】"])
def test_datelines_are_not_part_of_the_summary(dateline):
    text = (f"{dateline}The house where the composer was born will become a museum, the city said on Tuesday. "
            "The city bought the building last year after a long dispute with its owner. "
            "Architects will be invited to submit plans for the museum by the spring.")
    summary = summarize(text, max_sentences=2)
    assert summary[0].startswith("The house where the composer was born"), summary
    # An acronym before a dash is not a dateline.
    assert summarize("NASA — the space agency — said the launch will slip to May. Engineers found a leak.",
                     max_sentences=1)[0].startswith("NASA — the space agency")


def test_a_quotation_reopened_in_each_paragraph_is_still_one_quotation():
    # The Daily Mail style: each paragraph of a long quotation opens with a quote mark; only the last one closes.
    text = ("The harbour master backed the new wall in a speech on Monday. He said: 'We have lost four boats in "
            "two winters and the insurers will not wait. 'The council has been slow but the money is there now. "
            "I think the wall will save the fishing fleet and the old town together. 'We start in May,' he added. "
            "Work on the new harbour wall starts in May and should take eighteen months.")
    for n in (1, 2, 3, 4):
        summary = summarize(text, max_sentences=n)
        assert not any(s.startswith("I think the wall") for s in summary), summary


def test_a_text_of_megabytes_is_read_only_as_far_as_a_summary_needs():
    from digest.summarize.extractive import MAX_TEXT_CHARS
    text = BRIDGE + "Divers found more cracks (in the piers. And the deck.) on Friday. " * 40_000 + "Mr. " * 100_000
    assert len(text) > 10 * MAX_TEXT_CHARS
    assert summarize(text) == summarize(text[:MAX_TEXT_CHARS])
    assert summarize(text)[0].startswith("Engineers closed the Old Mill bridge")
    assert len(split_sentences("Mr. " * 100_000 + "Smith left. He came back.")) == 2
    assert units("word of The " * 20_000)  # candidate caption joins that never split: once took minutes (quadratic)
    assert len(summarize("return " * 14_000 + "end.")) <= 1  # the code pattern once scanned to the end at every word
    assert len(summarize("-" * 100_000)) <= 1  # a quotation marker's pattern ("--- Zitat ---") once backtracked on a page of
    # dashes (minutes, quadratic)
    assert len(summarize("Because a " + "." * 99_000 + "x y.")) <= 1  # and "Because ..." alone on a run of dots


# --- From a review of the readability round: each case broke on its first version.

@pytest.mark.parametrize("text, expected", [
    # English sentences that end in a number before a month name, or in a street abbreviation, are split.
    ("Temperatures fell to minus 12. December was the coldest month.", ["Temperatures fell to minus 12.",
                                                                         "December was the coldest month."]),
    ("Sie kommt den 3. april. Dann mehr.", ["Sie kommt den 3. april.", "Dann mehr."]),
    ("He lives on Sandy Ridge Rd. Sheriff John Doe said so. The tower is 300 ft. Engineers say it sways.",
     ["He lives on Sandy Ridge Rd.", "Sheriff John Doe said so.", "The tower is 300 ft.", "Engineers say it sways."]),
    ("He lives in Apt. 4B now. Es kostet 3 Mio. Euro im Jahr.", ["He lives in Apt. 4B now.",
                                                                 "Es kostet 3 Mio. Euro im Jahr."]),
    # A parenthesis that never closes does not hold the next sentences, even when a later one closes.
    ("Smith (who joined in 2019 said the plan had failed. The mayor (a Democrat) disagreed.",
     ["Smith (who joined in 2019 said the plan had failed.", "The mayor (a Democrat) disagreed."]),
    ("He said it was over.Smith-Jones disagreed.", ["He said it was over.", "Smith-Jones disagreed."]),
    ("They drew 1-1 on Sunday afternoon.“It was tough,” said the manager.",
     ["They drew 1-1 on Sunday afternoon.", "“It was tough,” said the manager."]),
    # A second review: Fort, highway, Sainte and apartment abbreviations; German dates after a weekday or a
    # place; a German quotation glued to the next sentence.
    ("She lives in Ft. Lauderdale now. Hwy. 101 closed near Sault Ste. Marie. He lives in Apt. B on the top floor.",
     ["She lives in Ft. Lauderdale now.", "Hwy. 101 closed near Sault Ste. Marie.", "He lives in Apt. B on the top floor."]),
    ("Am Montag, 4. September, beginnt die Schule. Berlin, 22. November. Dann mehr.",
     ["Am Montag, 4. September, beginnt die Schule.", "Berlin, 22. November.", "Dann mehr."]),
    ("„Wir gehen.“Er sagte nichts mehr.", ["„Wir gehen.“", "Er sagte nichts mehr."]),
])
def test_splitting_after_review(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize("text, first", [
    # A quotation glued to the lede's stop.
    ("Manchester United drew 1-1 with Arsenal at Old Trafford on Sunday afternoon.“It was a tough game,” said the "
     "manager after the match. The draw leaves United fourth in the table. Arsenal remain second, five points behind.",
     "Manchester United drew 1-1 with Arsenal"),
    # List markers and smileys are not parentheses left open.
    ("The plan has three goals: a) lower taxes, b) more jobs and c) less debt. It was unveiled by the finance "
     "minister on Monday. Parliament votes next week.", "The plan has three goals"),
])
def test_the_lede_survives_quotes_lists_and_credits(text, first):
    assert summarize(text, max_sentences=3)[0].startswith(first)


def test_a_closing_note_in_parentheses_is_not_glued_to_the_last_sentence():
    text = ("A fire broke out at a chemical plant near the river on Monday. Firefighters fought the blaze for six "
            "hours. Residents were told to stay indoors. (Developing story)")
    assert summarize(text, max_sentences=3)[-1] == "Residents were told to stay indoors."


def test_an_apostrophe_of_elision_opens_no_quotation():
    for text in ("The band, which dominated British music in the '90s, will play 17 dates.",
                 "They played rock 'n' roll until the lights went out.", "We waited 'til the end of the show."):
        assert all(unit.balanced for unit in units(text)), text


def test_quotations_in_other_languages_are_never_chosen_by_halves():
    german = ("„Wir bleiben hier. Wir geben nicht auf.“ Das sagte der Bürgermeister am Montag vor dem Werkstor. "
              "Die Stadt will das Werk retten. Der Konzern will es im Mai schließen.")
    chinese = "国家统计局发言人说：「经济运行总体平稳。就业稳定。」物价保持稳定。出口增长较快。"
    for text in (german, chinese):
        for n in (1, 2, 3):
            for sentence in summarize(text, max_sentences=n):
                assert sentence.count("„") == sentence.count("“") and sentence.count("「") == sentence.count("」"), \
                    sentence
    assert split_sentences("»Wir kommen morgen.« Das sagte er.") == ["»Wir kommen morgen.«", "Das sagte er."]


def test_a_pronoun_after_a_sentence_naming_someone_else_is_not_chosen():
    sentences = ["Mayor Alice Brown unveiled a plan to rebuild the harbour wall on Monday.",
                 "Johnson, the leader of the opposition on the council, criticised the cost of the plan.",
                 "He said the cost would double within two years."]
    assert pronoun_dangles(2, sentences, [0])  # "He" would be read as the mayor
    assert not pronoun_dangles(2, sentences, [0, 1])
    assert not pronoun_dangles(2, [sentences[0], "the cost was not given.", sentences[2]], [0])
    assert not pronoun_dangles(2, [sentences[0], "Firefighters arrived at dawn.", sentences[2]], [0])
    assert pronoun_dangles(2, [sentences[0], "Anna Berg spoke at dawn.", sentences[2]], [0])


def test_datelines_only_at_the_start_and_never_an_acronym():
    for text in ("ICE — Immigration and Customs Enforcement — arrested 200 people in raids on Monday. Officials said "
                 "more raids would follow.", "WOW -- That is what fans said after the final whistle on Sunday."):
        assert summarize(text, max_sentences=1)[0] == split_sentences(text)[0]


@pytest.mark.parametrize("text, expected", [
    # Straight and curly marks mixed in one quotation.
    ("“We are delighted,\" said the mayor of the town on Monday. The new bridge opens to traffic next week. It cost the "
     "council about 5 million pounds to build.", 3),
    ("‘I was a little surprised to be substituted,' Hazard said after the game. Chelsea won 2-0 at home. The result "
     "keeps them top of the league.", 3),
    # Parentheses closed after a number or a letter.
    ("A boy (aged 12) was taken to hospital on Monday. The storm (Category 4) hit Florida. Group (B) met today.", 3),
    # An article that is one long quotation still gets its lede.
    ("“We are devastated. He was our only son. We will never forget him. He loved football and his dog.”", 3),
])
def test_mixed_quote_marks_and_closed_parentheses_leave_a_full_summary(text, expected):
    assert len(summarize(text, max_sentences=3)) == expected


def test_quotations_that_are_halves_in_nordic_and_number_openings():
    for text in ("»Vi stannar här. Vi ger inte upp», sa han.", "‘20 people died. We are devastated,’ he said."):
        assert not any(unit.balanced for unit in units(text)), text


def test_credits_glue_only_to_a_caption_paragraph():
    assert [u.prose for u in units("She cited health reasons. (Developing Story)")] == [True, False]
    assert [u.prose for u in units("The show opens. (Photography exhibition opens Monday)")] == [True, False]
    assert [u.prose for u in units("It rained all night. The river rose a metre. (Danilo Pavlov)")] == [True, True, False]
    assert [u.prose for u in units("Danilov speaks on Jan. 30, 2023. (Danilo Pavlov)")] == [False]
    assert [u.prose for u in units("The river at dawn near the mill. (Photo: AFP)")] == [False]


# --- From an editor's read of 1,361 summaries of real texts (third review).

def test_a_tokenized_possessive_does_not_cost_the_lede():
    text = ("Emirates finalized a deal to buy 30 of Boeing 's Dreamliner jets on Wednesday. The order is worth "
            "8.8 billion dollars at list prices. The deal cuts an earlier order of larger jets by 30 planes.")
    assert summarize(text, max_sentences=2)[0].startswith("Emirates finalized a deal")
    assert all(unit.balanced for unit in units(text))


def test_a_sentence_about_a_return_is_not_code_and_a_place_label_is_a_dateline():
    assert [u.prose for u in units("The show covers the return of Banjo & Kazooie (who never really left).")] == [True]
    text = ("Mangaluru: Karnataka Bank, a private sector bank, has won two national awards for its work with small "
            "and medium businesses at a ceremony held in New Delhi on Friday evening before a large audience of "
            "bankers and officials from the ministry. The awards were presented by the minister. The bank thanked "
            "its staff in a statement.")
    assert summarize(text, max_sentences=3)[0].startswith("Karnataka Bank, a private sector bank, has won")


@pytest.mark.parametrize("text", [
    "submitted by /u/someone to /r/news\n\n[link] [1143 comments]",
    "Por Matt Spetalnick e Jason Szep\n\nRead full article >>",
    "Updated by Mike Shulman on Nov 3, 2019",
])
def test_feed_furniture_and_bylines_are_no_summary(text):
    assert summarize(text, max_sentences=3) == []


def test_a_standfirst_is_kept_without_its_continue_reading_link():
    assert summarize("A cross-border library was the site of a smuggling plot\n\nContinue reading...") == [
        "A cross-border library was the site of a smuggling plot"]


def test_names_behind_a_possessive_or_a_comma_are_still_names():
    sentences = ["Homeland Security nominee Kirstjen Nielsen testified on Wednesday.", "She was asked about the climate.",
                 "Nielsen's comment contradicts mainstream climate science."]
    assert dangling_names(2, sentences, name_intros(sentences), [1])
    assert not dangling_names(2, sentences, name_intros(sentences), [0])
    sentences = ["Police arrested six people on Monday, Lt. Matt Harris said.", "The raid took place at a home.",
                 "Officers arrested a man near 17th Street and Gladstone Avenue, Harris said."]
    assert dangling_names(2, sentences, name_intros(sentences), [1])


@pytest.mark.parametrize("text, expected", [
    ("This week on the show we somehow manage to mix Battlefield: WWII, Hunt: Showdown and a lot of other games "
     "into one very long and winding sentence about the podcast and the many guests who joined us from around the "
     "world over this long and busy year.", 1),
    ("He beat state Del. John Smith in the race. It was close.", 2),
])
def test_no_cut_at_a_game_title_or_a_delegate(text, expected):
    assert len([u for u in units(text)]) == expected


def test_connectives_in_other_languages_do_not_open_a_summary():
    for text in ("Die Stadt will das Werk retten. Und der Konzern will es im Mai schließen. Die Gewerkschaft ist dagegen.",
                 "La ville veut sauver l'usine. Mais le groupe veut la fermer en mai. Le syndicat proteste.",
                 "Город хочет спасти завод. Но концерн хочет закрыть его в мае. Профсоюз протестует."):
        for n in (1, 2):
            assert not leans_on_previous(summarize(text, max_sentences=n)[0]), text
        assert leans_on_previous(split_sentences(text)[1])


def test_a_demonstrative_opens_no_sentence_after_a_skipped_one():
    sentences = ["The new phone charges a laptop and a watch at once.", "It ships with a braided cable and a case.",
                 "This lets you charge everything from one socket."]
    assert pronoun_dangles(2, sentences, [0])
    assert not pronoun_dangles(2, sentences, [0, 1])


def test_a_surname_that_spells_a_foreign_connective_is_not_leaning():
    for sentence in ("Ma Ying-jeou said the talks would go on.", "Lei Jun, the founder of the firm, spoke first.",
                     "Elle Macpherson opened the show on Monday."):
        assert not leans_on_previous(sentence), sentence
    for sentence in ("Ma il governo non ha risposto.", "Und der Konzern schweigt.", "Но завод закроют в мае."):
        assert leans_on_previous(sentence), sentence


def test_a_wire_brief_under_its_own_headline_keeps_its_one_sentence():
    """A brief whose one sentence repeats the headline, then the agency's notices, is that sentence; a page of
    notices and registration lines without a sentence stays empty."""
    brief = ("LISBON — Harbour pilots at the port of Sines will strike for two days from Monday over pay.\n"
             "Copyright 2026 The Associated Press. All rights reserved. This material may not be published, "
             "broadcast, rewritten or redistributed.")
    title = "Harbour pilots at the port of Sines will strike for two days from Monday over pay"
    assert summarize(brief, title=title) == [
        "Harbour pilots at the port of Sines will strike for two days from Monday over pay."]
    notices = ("Copyright 2026. All rights reserved.\nLicence for publishing news online 0412233\n"
               "Registration Number: 5512 Registration Number: 5512")
    assert summarize(notices, title="Harbour pilots strike at Sines for two days") == []


_POLL = ("Leeds city council published a poll on Tuesday.\n"
         "The survey found that shoppers want the Kirkgate market open until nine on weekdays.\n"
         "Stallholders say evening trade would barely cover wages and heating.\n"
         "A late-night opening was tried at Kirkgate market in 2019 and dropped after a month.\n"
         "Shoppers who answered the survey mostly work until six.\n"
         "The council will decide in March whether the market stays open until nine.\n"
         "Stallholders want the council to pay for heating if the market opens late.\n")


def test_a_summary_that_names_something_as_known_starts_from_the_lede_that_introduced_it():
    """"The survey found..." without the lede's "a poll": the reader was never told which survey. The lede scores
    lower than the sentences after it (they share more words with the rest), yet it opens the summary."""
    summary = summarize(_POLL)
    assert summary[0] == "Leeds city council published a poll on Tuesday."
    assert "The survey found that shoppers want the Kirkgate market open until nine on weekdays." in summary


def test_a_lede_of_a_few_words_is_not_forced_into_the_summary():
    """"The answer is yes." introduces nothing: the summary is chosen as if the rule did not exist."""
    summary = summarize(_POLL.replace("Leeds city council published a poll on Tuesday.", "The answer is yes."))
    assert "The answer is yes." not in summary and len(summary) == 3

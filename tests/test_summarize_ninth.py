"""Issue 29, ninth round: what blind readers of outside pages still found in summaries, one test per kind, on text
written here in the shape the pages had (bench/README.md, "Issue 29, ninth round")."""

from __future__ import annotations

import pytest

from digest.summarize.extractive import summarize
from digest.summarize.furniture import is_furniture
from digest.summarize.split import split_sentences, units
from digest.summarize.verbs import verbless


def test_a_text_that_opens_on_a_connective_lost_what_it_answers():
    text = ("Denn für die Elefanten im Tierpark Nord entsteht ein neues Haus mit einem großen Badebecken. Auf rund "
            "9.000 Quadratmetern wächst eine Landschaft aus Sand, Wasser und Bäumen für die Herde. Der Umzug der Tiere "
            "ist für den Herbst geplant.")
    summary = summarize(text, title="Ein Haus für die Elefanten")
    assert summary and not summary[0].startswith("Denn")
    english = ("But the council never voted on the plan, and the budget for the new bridge ran out in May. The city "
               "engineer said the bridge would now wait until next year. Work on the river path goes on as planned.")
    assert not summarize(english, title="Bridge plan stalls")[0].startswith("But")


def test_a_pronoun_first_line_still_points_at_the_headline():
    text = ("He won the race by four seconds after leading from the first lap. The 24-year-old had finished second "
            "in each of the last three years. His coach said the win had been a long time coming.")
    assert summarize(text, title="Ana Ruiz's rival Tom Berg wins the Harbour 10k")[0].startswith("He won")


@pytest.mark.parametrize("text, title", [
    ("Das neue Gesetz, ein Rätsel? Diese Unsicherheit wird mit der neuen Broschüre der Stadt endgültig "
     "beseitigt. Die Broschüre erklärt auf zwölf Seiten, was sich für Mieter und Vermieter ab Januar ändert.",
     "Neue Broschüre zum Mietrecht"),
    ("Wir alle kennen Staus. Konkret will die Stadt nun mehr Busse auf der Linie 4 einsetzen, damit weniger Autos "
     "fahren. Die ersten neuen Busse fahren ab März im Zehn-Minuten-Takt.", "Mehr Busse gegen Staus"),
])
def test_a_german_sentence_that_answers_a_skipped_one_does_not_open(text, title):
    summary = summarize(text, title=title)
    assert summary and summary[0].startswith("Die ")


def test_the_pages_video_is_not_in_the_digest():
    text = ("The new season of the farm game arrives on 22 October on computers and consoles. The trailer gives "
            "you a short look at the new machines and fields. The full edition has more than 380 vehicles to drive.")
    summary = summarize(text, title="Farm game grows a year after release")
    assert summary == ["The new season of the farm game arrives on 22 October on computers and consoles."]
    told = ("A video released by the harbour police shows the boat drifting toward the rocks. The video was filmed "
            "from a rescue helicopter on Sunday morning. All six people on board were brought ashore unhurt.")
    assert len(summarize(told, title="Boat rescued off the point")) == 3  # the video named before: it reads


def test_a_quotation_under_a_lead_in_does_not_open_the_summary():
    text = ("by a reader on April 16, 2012\n\n"
            "This past Friday I read Carl Berg's post entitled Don't Fear the Press. He writes:\n\n"
            "I often see very puzzling behavior from some founders when it comes to dealing with the press. Either "
            "they are desperate for it, or they hate the press for whatever happened.\n\n"
            "Despite the fact that I think Carl is a genius, I'm going out on a limb to disagree with him here.")
    summary = summarize(text, title="A healthy dose of fear is right when dealing with the press")
    assert summary == ["This past Friday I read Carl Berg's post entitled Don't Fear the Press."]


def test_a_byline_that_says_is_not_a_lead_in():
    text = ("Heather says:\n\nCooler weather has finally arrived in my little corner of the world. I'm finally in "
            "the mood for soups, stews and chilis. I thought I would put together a round up of the soups here.")
    assert summarize(text, title="Let's make soup this fall")[0].startswith("Cooler weather")


def test_a_teaser_cut_short_is_not_taken_nor_its_paragraph():
    text = ("Die drei Buchstaben GTI stehen seit jeher für schnelles Fahren. War Volkswagen anfangs vom ...\n\n"
            "Mit dem neuen Kleinwagen will der Hersteller im wachsenden Segment der kleinen SUV mitmischen. Nur "
            "wenige Wochen nach dem Marktstart hat sich das Modell bereits 5.000 Mal verkauft.")
    summary = summarize(text, title="Japanisches Mini-SUV auf dem Vormarsch")
    assert summary and summary[0].startswith("Mit dem neuen Kleinwagen")
    writer = ("I won't be writing a post tonight because I'll be playing golf all day against my brother. He was a "
              "raw beginner in July, but he has played at home ever since. So it's on …\n\nThe first round was a tie.")
    assert summarize(writer, title="Golf updates")[0].startswith("I won't")  # "on …" is the writer's


@pytest.mark.parametrize("text, title, first", [
    ("| | | Notes on Security A blog covering security and security technology. November 13, 2012 Free Online "
     "Cryptography Course Dan Boneh of Stanford University is offering a free online course. The course runs for six "
     "weeks. It just started last week.", "Notes on Security: Free Online Cryptography Course", "Dan Boneh of"),
    ("Tag der Abstimmung: Niederlage für den Premier: Parlament vertagt Votum über den Vertrag - wie geht es jetzt "
     "weiter?\n\nDas Parlament hat die Entscheidung über den Vertrag verschoben und dem Premier damit eine Niederlage "
     "zugefügt. Die Abgeordneten stimmten mit 322 zu 306 für den Antrag.",
     "Niederlage für den Premier: Parlament vertagt Votum über den Vertrag | Magazin", "Das Parlament hat"),
])
def test_the_headline_with_a_date_or_a_kicker_is_not_a_sentence(text, title, first):
    assert summarize(text, title=title)[0].startswith(first)


def test_a_roundups_rubrics_are_cut_from_its_paragraphs():
    text = ("Second Term: The mayor was re-elected with 58 percent of the vote, the Herald reports.\n\n"
            "Harbour Plan: Voters approved the new harbour wall, a victory for the fishing families, the Post reports."
            "\n\nBudget Talks: The council will meet on Monday to set next year's budget.")
    assert summarize(text, title="The morning wrap")[1].startswith("Voters approved")


@pytest.mark.parametrize("text, expected", [
    ("Das Online-Voting läuft von 14. September bis 14. Oktober 2011. Jedes Projekt kann bewertet werden.",
     "Das Online-Voting läuft von 14. September bis 14. Oktober 2011."),
    ("Das Haus bietet Platz für bis zu max. 6 Personen. Es hat zwei Schlafzimmer.",
     "Das Haus bietet Platz für bis zu max. 6 Personen."),
    ("Das Gericht verurteilte ihn nur wegen Art. 90 Abs. 2 SVG zu einer Geldstrafe. Er ging in Berufung.",
     "Das Gericht verurteilte ihn nur wegen Art. 90 Abs. 2 SVG zu einer Geldstrafe."),
    ("Der Rektor begrüßte Ursula Lackner in Vertretung von LHStv. Anton Lang im Saal. Dann begann die Feier.",
     "Der Rektor begrüßte Ursula Lackner in Vertretung von LHStv. Anton Lang im Saal."),
    ("The framework is from the work of Drath, et el. (2008) as discussed in their article. It has three parts.",
     "The framework is from the work of Drath, et el. (2008) as discussed in their article."),
])
def test_abbreviations_and_asides_do_not_end_a_sentence(text, expected):
    assert split_sentences(text)[0] == expected
    assert split_sentences("I bought an iPad. The screen broke.") == ["I bought an iPad.", "The screen broke."]


@pytest.mark.parametrize("text, kept", [
    ("Düsseldorf, 22. November 2022 - Der Versorger hat eine Umfrage zum Strompreis machen lassen. Das ist klar.",
     "Der Versorger hat eine Umfrage zum Strompreis machen lassen."),
    ("Der Erfolg des Modells sorgt für Unruhe. VW-Chef Herbert Diess (Bild) hatte sich schon besorgt gezeigt. Gut.",
     "VW-Chef Herbert Diess hatte sich schon besorgt gezeigt."),
    ("Eins zwei drei vier. (c) agrarnews Wie der Minister am Dienstag erklärte, würde es teuer. Gut so.",
     "Wie der Minister am Dienstag erklärte, würde es teuer."),
    ("The mayor (pictured left, with his wife) opened the new bridge on Sunday. It cost four million.",
     "The mayor opened the new bridge on Sunday."),
])
def test_datelines_picture_pointers_and_credits_are_cut_from_sentences(text, kept):
    assert kept in [u.text for u in units(text)]


@pytest.mark.parametrize("sentence", [
    "Here's a (mostly) complete list of schools that will be closed until at least Monday.",
    "Several of the papers below illustrate the power of a single word.",
    "Wer dabei sein möchte, findet drei Bildmotive am Ende der Meldung zum Download.",
    "Unsere ersten Eindrücke schildern wir euch nun in der folgenden Preview.",
    "Schön, dass Du diese Seite gefunden hast.",
    "Welcome to my blog about gardening in small spaces.",
    "Auf unserer Website nutzen wir neben technisch erforderlichen Cookies auch optionale Cookies zur Analyse.",
    "Weitere Details finden Sie in unserer Datenschutzerklärung.",
    "Die einfachste Art, uns zu unterstützen, ist es, euren Werbeblocker auszuschalten.",
    "Fragen Sie bei uns nach…",
    "Das Gespräch führte Nicole Berger.",
    # from the held-out reads, after their tally (4779070)
    "Dieser Beitrag enthält Werbung für eine Bademodenmarke.",
    "Dieser Artikel enthält Affiliate-Links und/oder werbende Inhalte.",
    "Registrieren Sie sich jetzt kostenlos und testen Sie neue Produkte.",
    "Dann bist du hier genau richtig!",
    "Welche drei Regeln das sind, verraten wir hier.",
    "Hier informieren wir Sie, was Sie beachten müssen.",
    "Wenn du das lernen magst, siehe Infos unten.",
    "Mehr dazu kannst Du hier nachlesen.",
    "Please help spread the word.",
])
def test_the_page_speaking_to_its_reader_is_furniture(sentence):
    assert is_furniture(sentence)


@pytest.mark.parametrize("sentence", [
    "Temperatures fell below freezing overnight.",
    "Prices stayed below expectations for the third month.",
    "The flats above the shop burned on Sunday.",
])
def test_sentences_that_only_look_like_pointers_are_not_furniture(sentence):
    assert not is_furniture(sentence)


@pytest.mark.parametrize("sentence, fragment", [
    ("Could have gone either way. . .", True),
    ("Was great to see everyone at the market.", True),
    ("Perhaps because there was a lot more doing throughout the day in those years.", True),
    ("Because it's that good, but also because I need a break.", True),
    ("Will Smith stars in the new film about the harbour.", False),
    ("Because of the rain, the match was cancelled.", False),
    ("Is it true that he left the club in May?", False),
])
def test_a_clause_without_its_subject_or_its_main_clause_is_a_fragment(sentence, fragment):
    assert verbless(sentence, "en") is fragment


def test_an_object_pronoun_leans_on_the_sentence_that_named_him():
    text = ("This is Drew Berg.\n\nI met him in Chiang Mai, along with the usual suspects of smoothie-drinking. We "
            "are drinking mango smoothies at a cart near the old city gate. He was staying at a guest house nearby.")
    summary = summarize(text, title="Serendipity: the redux")
    assert not summary or not summary[0].startswith("I met him")


# Held-out reads of the round's final code (Dragnet s8d 1080-1320, German s8g 480-569), tallied first; then this.
def test_insbesondere_leans_on_the_general_claim_before_it():
    text = ("Die Klimakonferenz gilt als die wichtigste seit Paris. Zum ersten Mal waren alle Staaten aufgerufen, ihre "
            "Ziele zu erhöhen.\n\nInsbesondere die großen Emittenten müssen ihre Ziele erhöhen und umsetzen.")
    assert summarize(text, title="Klimakonferenz in Glasgow")[0].startswith("Die Klimakonferenz")
    alone = ("Insbesondere sollen neue Recyclingprozesse auf biotechnologischer Basis entwickelt werden. Die neue "
             "Gruppe wird fünf Jahre lang gefördert und arbeitet eng mit der Hochschule in Aachen zusammen. Die ersten "
             "Ergebnisse werden im Frühjahr erwartet.")
    assert not summarize(alone, title="Neue Forschungsgruppe")[0].startswith("Insbesondere")

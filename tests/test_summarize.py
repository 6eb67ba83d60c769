"""The offline extractive summarizer: whole sentences, article order, the real news first."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from digest.gather.feeds import html_to_text
from digest.summarize.extractive import split_sentences, summarize
from digest.summarize.model import held_out

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
    text = " ".join(f"Sentence number {i} talks about the harbour wall and storms." for i in range(1, 11))
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
    assert len(summary) == min(max_sentences, len(sentences))
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


def _bbc_held_out_sample(count: int):
    """(title, body, reference) for the first `count` held-out BBC articles, duplicates dropped."""
    spec = importlib.util.spec_from_file_location("load_bbc_news_summary", EVALDATA / "load_bbc_news_summary.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    seen, docs = set(), []
    for doc_id, article, reference in loader.iter_pairs():
        digest = hashlib.md5(article.encode("utf-8")).hexdigest()
        if digest not in seen and held_out(doc_id):
            docs.append((*loader.split_title(article), reference))
        seen.add(digest)
        if len(docs) == count:
            break
    return loader, docs


@pytest.mark.skipif(not (EVALDATA / "load_bbc_news_summary.py").exists(),
                    reason="../shared/evaldata (BBC News Summary) is not beside this clone")
def test_beats_lead3_sentence_precision_on_held_out_bbc_sample():
    loader, docs = _bbc_held_out_sample(150)
    assert len(docs) == 150

    def precision(picks):
        found = [" ".join(s.split()).rstrip("\"'\u201d\u2019") in ref for (_, _, ref), ss in zip(docs, picks) for s in ss]
        return sum(found) / len(found)

    lead3 = precision([loader.split_sentences(body)[:3] for _, body, _ in docs])
    ours = [summarize(body, title=title, max_sentences=3) for title, body, _ in docs]
    assert all(len(s) == 3 for s in ours)
    assert precision(ours) > lead3 + 0.1, (precision(ours), lead3)
    for (_, body, _), summary in zip(docs, ours):
        sentences = split_sentences(body)
        assert [sentences.index(s) for s in summary] == sorted(sentences.index(s) for s in summary)

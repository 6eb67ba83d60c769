"""The offline extractive summarizer: whole sentences, article order, the real news first."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.gather import html_to_text
from digest.summarize import split_sentences, summarize

SEED = Path(__file__).parent.parent.parent / "shared" / "seed" / "source-article.txt"


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

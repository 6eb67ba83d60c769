"""A picture's caption is not article text (issue 29, sixth round): read as prose it opened summaries
("The club's footballers training ahead of a match against the islands." above the lede). The markup says what
a caption is; a gallery that keeps its post in a "caption" box keeps it."""

from __future__ import annotations

from digest.gather.extract import extract_text
from digest.summarize.extractive import summarize

BODY = [
    "It will be a hard season for the national team, which has had no league matches at home since the spring.",
    "The coach said on Tuesday that the players had trained together only twice this month and needed more games.",
    "The federation has asked two neighbouring islands to play friendly matches in May before the cup starts.",
    "Tickets for the first home match go on sale next week at the stadium and at the federation's office.",
]
CAPTION = "The club's footballers training ahead of a match against the islands. (FILE)"


def page(picture: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return f"""<html><head><title>A hard season</title></head><body>
<header><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav></header>
<article><h1>A hard season for the national team</h1><p class="byline">Posted on April 29, 2022</p>
{picture}{paragraphs}</article><footer><p>Copyright 2022 The Daily Example</p></footer></body></html>"""


def test_a_figcaption_is_left_out_of_the_text_and_of_the_summary():
    # A theme's picture inside a paragraph, its caption after the figure: trafilatura reads the caption as the
    # paragraph's text (before this rule the text and the summary opened with it).
    html = page(f'<p><figure><img src="/team.jpg" alt="The team"></figure>'
                f'<figcaption class="wp-caption-text">{CAPTION}</figcaption></p>')
    text = extract_text(html, "https://news.example.com/2022/04/29/hard-season/")
    assert BODY[0] in text and "footballers training" not in text
    assert summarize(text, title="A hard season")[0] == BODY[0]


def test_a_wordpress_caption_is_left_out():
    # trafilatura alone leaves this one out already: the rule must not bring it back.
    html = page(f'<div class="wp-caption aligncenter"><img src="/team.jpg" alt="The team">'
                f'<p class="wp-caption-text">{CAPTION}</p></div>')
    text = extract_text(html, "https://news.example.com/2022/04/29/hard-season/")
    assert BODY[0] in text and "footballers training" not in text


def test_a_gallery_post_kept_in_a_caption_box_stays():
    slide = ('<div class="gallery"><img src="/walk.jpg" alt=""><div class="caption" id="slide-content">'
             + "".join(f"<p>{p}</p>" for p in BODY) + "</div></div>")
    html = f"<html><head><title>Out for a walk</title></head><body><article><h1>Out for a walk</h1>{slide}</article></body></html>"
    text = extract_text(html, "https://gallery.example.com/out-for-a-walk")
    assert all(p in text for p in BODY)


def test_a_flood_of_captions_is_read_a_bounded_number_of_times_and_the_article_stays():
    # Hostile input: 40,000 <figcaption>s (3 MB). The caption look-up reads at most MAX_IMAGES of them; the page's own
    # paragraphs are still the text (no timing assertion here: bench/extraction.py prints the hostile pages' seconds).
    flood = '<figure><img src="/w.jpg" alt=""><figcaption>A view of the harbour wall from the pier</figcaption></figure>' * 40000
    html = page(flood)
    text = extract_text(html, "https://news.example.com/2022/04/29/hard-season/")
    assert all(p in text for p in BODY) and "A view of the harbour wall" not in text

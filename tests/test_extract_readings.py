"""readings.py: the two trafilatura readings with their shared work done once read what trafilatura.extract reads."""

from __future__ import annotations

import lxml.html
import pytest
import trafilatura

from digest.gather import readings
from digest.gather.extract import _tree
from digest.gather.readings import FAST, PRECISION, Readings

SENTENCE = ("The council met on Tuesday evening to weigh the harbour plan, which would widen the quay, "
            "move the ferry ramp and add a second crane for the autumn shipping season. ")


def article(paragraphs: int, extra: str = "", head: str = "") -> str:
    body = "".join(f"<p>{SENTENCE * 2} Paragraph {n}.</p>" for n in range(paragraphs))
    return (f"<html><head><title>Harbour plan</title>{head}</head><body>"
            "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul></nav>"
            f"<div class='content'><h1>Harbour plan</h1>{body}</div>{extra}"
            "<footer><p>Contact us | Imprint</p></footer></body></html>")


PAGES = {
    "article": article(6),
    "comments": article(4, "<div id='comments'><p>" + "First! I think the crane is too tall. " * 6 + "</p></div>"
                        "<ul class='comment-list'><li>" + "Great article, thanks for posting this. " * 5 + "</li></ul>"),
    "short": article(1),  # under 250 characters of paragraphs: baseline rescue, recall retry, readability and jusText
    "table": "<html><body><table>" + "".join(
        f"<tr><td>Row {n}</td><td>{SENTENCE}</td></tr>" for n in range(8)) + "</table></body></html>",
    "infinite scroll": article(5, "<div class='infinite-scroll'><h2>Next story</h2><p>" + SENTENCE * 4 + "</p></div>"),
    "forum": article(3, head='<script type="application/ld+json">{"@type": "DiscussionForumPosting"}</script>'),
    "no paragraphs": "<html><body><div>" + "<br>".join(SENTENCE for _ in range(12)) + "</div></body></html>",
}


def plain(html: str, mode: dict) -> str:
    return trafilatura.extract(_tree(html), url="https://news.example/harbour", include_comments=False,
                               include_tables=True, include_images=False, include_links=False, **mode) or ""


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_reading_is_what_trafilatura_extract_reads(name):
    html = PAGES[name]
    root = _tree(html)
    before = lxml.html.tostring(root)
    read = Readings(root, "https://news.example/harbour")
    assert read.fast() == plain(html, FAST)
    assert read.careful() == plain(html, PRECISION)
    assert lxml.html.tostring(root) == before  # the parsed page is left as it was for the other rules


def test_the_shared_path_is_taken_on_the_checked_version():
    assert readings.SHARED == (trafilatura.__version__ in readings.TESTED_VERSIONS)
    assert Readings(_tree(PAGES["article"]), None).tree is not None or not readings.SHARED
    assert Readings(_tree(PAGES["forum"]), None).tree is None  # forum threads: trafilatura's own path


def test_another_trafilatura_gets_the_plain_calls(monkeypatch):
    monkeypatch.setattr(readings, "SHARED", False)
    read = Readings(_tree(PAGES["comments"]), None)
    assert read.tree is None
    assert read.fast() == trafilatura.extract(_tree(PAGES["comments"]), include_comments=False, fast=True)


def test_the_comparison_is_skipped_only_for_a_long_sound_text(monkeypatch):
    calls = []
    real = readings.compare_extraction
    monkeypatch.setattr(readings, "compare_extraction", lambda *a: calls.append(1) or real(*a))
    Readings(_tree(PAGES["article"]), None).careful(compare=1000)
    assert calls == []  # six long paragraphs: readability cannot find twice as much
    Readings(_tree(PAGES["short"]), None).careful(compare=1000)
    Readings(_tree(PAGES["no paragraphs"]), None).careful(compare=1000)
    Readings(_tree(PAGES["article"]), None).careful(compare=0)
    assert calls == [1, 1, 1]

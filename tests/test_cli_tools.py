"""`digest summarize FILE`: the extractive summary of one article, one sentence per line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from digest.cli.main import cli
from digest.errors import DigestError
from digest.gather.extract import extract_text
from digest.summarize.extractive import summarize

TEXT = ("The city council approved a new bridge on Monday. The vote was 7 to 2 after a long debate.\n\n"
        "Construction starts in May, the mayor said. The bridge will cost 40 million euros.\n\n"
        "Opponents worried about the cost. It will open in 2028, officials said.")


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["summarize", *args], input=stdin, catch_exceptions=False)


def test_plain_text_file_prints_one_sentence_per_line(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = run(str(path), "--sentences", "2", "--title", "Council approves bridge")
    assert result.exit_code == 0, result.output
    expected = summarize(TEXT, title="Council approves bridge", max_sentences=2)
    assert len(expected) == 2
    assert result.output.splitlines() == expected


def test_html_from_stdin_is_turned_into_text_and_its_title_used():
    page = ("<!doctype html><html><head><title>Council approves bridge</title>"
            "<script>var tracking = 'Do not print this sentence.';</script></head><body>"
            + "".join(f"<p>{p.replace('&', '&amp;')}</p>" for p in TEXT.split("\n\n"))
            + "<script>track('Nor this one, reader.');</script></body></html>")
    result = run("-", stdin=page)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines == summarize(TEXT, title="Council approves bridge", max_sentences=3)
    assert not any(bad in line for line in lines for bad in ("<", "tracking", "Nor this one"))


def test_default_is_three_sentences_and_bad_arguments_are_refused(tmp_path):
    assert len(run("-", stdin=TEXT).output.splitlines()) == 3
    assert run("-", "--sentences", "0", stdin=TEXT).exit_code == 2
    assert run(str(tmp_path / "missing.txt")).exit_code == 2


def test_needs_no_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config.toml here
    result = run("-", "--sentences", "1", stdin=TEXT)
    assert result.exit_code == 0 and len(result.output.splitlines()) == 1


def test_a_teaser_without_final_punctuation_is_printed():
    """Issue 13 item 2: a feed item that is only a headline-like teaser is the publisher's own summary."""
    result = run("-", stdin="Police say the guards now face a criminal case\n")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["Police say the guards now face a criminal case"]


def test_a_whole_page_is_summarized_from_its_article_not_its_menus():
    """A saved web page goes through the article extractor, as a page the daemon fetches does: the teasers and
    footer around the article are not sentences to choose from (all of a page's text began with a sidebar teaser)."""
    teasers = "".join(f'<li><a href="/news/{n}">Residents say the library on street {n} reopened on Saturday after '
                      f'years of delay.</a></li>' for n in range(6))
    page = ("<!doctype html><html><head><title>Council approves bridge | City News</title></head><body>"
            '<header><nav><a href="/">Home</a> <a href="/city">City</a></nav></header>'
            f'<aside class="most-read"><h2>Most read</h2><ul>{teasers}</ul></aside>'
            "<main><article><h1>Council approves bridge</h1>"
            + "".join(f"<p>{p}</p>" for p in TEXT.split("\n\n"))
            + "</article></main><footer><p>Copyright City News. All rights reserved worldwide.</p>"
            "<p>Sign up for our newsletter to get the news every morning in your inbox.</p></footer></body></html>")
    for args in ((), ("--url", "https://news.example/bridge")):
        result = run("-", *args, stdin=page)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines == summarize(TEXT, title="Council approves bridge | City News", max_sentences=3)
        assert not any(bad in line for line in lines for bad in ("Residents", "Copyright", "Sign up"))


def test_a_page_where_the_extractor_keeps_nothing_falls_back_to_its_text():
    page = "<html><body><aside>Police say the guards now face a criminal case</aside></body></html>"
    assert extract_text(page) == ""  # what makes this the fallback's case
    result = run("-", stdin=page)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["Police say the guards now face a criminal case"]


def test_a_saved_page_larger_than_the_gatherers_page_limit_is_refused_and_a_long_text_only_cut():
    from digest.cli.tools import PAGE_LIMIT
    page = "<html><body><p>" + "The council of Carrow met again on Monday. " * (PAGE_LIMIT // 40) + "</p></body></html>"
    with pytest.raises(DigestError, match="larger than .*max_page_bytes"):  # `digest` prints it and exits 1
        run("-", stdin=page)
    long_text = TEXT + "\n\n" + "The ferry ran late again. " * (PAGE_LIMIT // 20)
    result = run("-", stdin=long_text)
    assert result.exit_code == 0 and result.output.splitlines()[0] == summarize(TEXT)[0]

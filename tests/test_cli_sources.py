"""`digest check-source` and `digest extract`: what an operator sees before adding a source."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import DATA
from test_sources import SIGNUP, Route, article_page, rss, server  # noqa: F401  (server: the fixture)

from digest.cli.main import cli


def run(*args: str, folder=None):
    # No config file in the folder: the commands use the [gather] defaults.
    return CliRunner().invoke(cli, ["--config", str((folder or DATA) / "absent.toml"), *args])


def test_check_source_lists_entries_from_a_file():
    result = run("check-source", "--no-pages", str(DATA / "wire.xml"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("3 entries")
    assert "Ferry service to Gull Island doubles in summer" in result.output
    assert "  date:  2026-11-24T08:00:00+00:00" in result.output
    assert "  link:  https://wire.example.org/ferry?id=7" in result.output
    assert "  text:  51 words" in result.output and "  image: (none)" in result.output


def test_check_source_reports_the_error(tmp_path):
    result = run("check-source", str(DATA / "broken.xml"))
    assert result.exit_code != 0 and "ERROR" in result.output and "not a readable feed" in result.output
    missing = run("check-source", str(tmp_path / "nope.xml"))
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_check_source_over_http_with_full_text_and_html_kind(server):
    server.routes["/feed.xml"] = Route(rss(
        ("Pier plan for spring", server.url("/story"), "Teaser."),
        extra='<media:content url="https://img.example.org/p.jpg" medium="image"/>'))
    server.routes["/story"] = Route(article_page("Pier plan for spring"), headers={"Content-Type": "text/html"})
    result = run("check-source", server.url("/feed.xml"))
    assert result.exit_code == 0, result.output
    # No alt text: the only one the page gave would repeat the headline.
    assert "Pier plan for spring" in result.output and "  image: https://img.example.org/p.jpg\n" \
        in result.output
    words = int(result.output.split("  text:  ")[1].split()[0])
    assert words > 100  # the teaser was replaced by the page's text

    server.routes["/news/"] = Route(b'<a href="/story">Pier</a><a href="/about">About</a>',
                                    headers={"Content-Type": "text/html"})
    listing = run("check-source", "--kind", "html", "--link-pattern", "/story$", server.url("/news/"))
    assert listing.exit_code == 0, listing.output
    assert listing.output.startswith("1 entries") and f"link:  {server.url('/story')}" in listing.output
    assert run("check-source", "--kind", "html", server.url("/news/")).exit_code == 2  # needs a pattern


def test_extract_prints_the_main_text_without_furniture(tmp_path, server):
    page = tmp_path / "story.html"
    page.write_bytes(article_page("Pier plan for spring"))
    result = run("extract", str(page))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Pier plan for spring\n\nThe harbour board met")
    assert "Enter your email" not in result.output and "indicates required" not in result.output
    assert SIGNUP not in result.output

    server.routes["/story"] = Route(article_page("Pier plan for spring"), headers={"Content-Type": "text/html"})
    over_http = run("extract", server.url("/story"))
    assert over_http.exit_code == 0 and "The harbour board met" in over_http.output
    empty = tmp_path / "empty.html"
    empty.write_text("<html><head><title>Nothing</title></head><body></body></html>")
    assert run("extract", str(empty)).exit_code != 0

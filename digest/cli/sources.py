"""Operator tools for checking a source before (or after) it goes into config.toml.

`digest check-source URL_OR_FILE` runs the real gatherer on one source and
shows what it would take (entries with title, date, link, words of text,
image) or the error; `digest extract URL_OR_FILE` shows the main text the
gatherer would keep from one article page. Both use the same fetcher as the
pipeline (User-Agent, timeouts, size cap from [gather] when a config file is
there, the defaults otherwise) and touch no database. They live apart from
digest/cli/main.py so the command group stays about the newsletter job.
"""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli.context import Context
from digest.config import load_settings
from digest.settings import GatherSettings, SourceSettings
from digest.errors import DigestError
from digest.net.fetch import Fetcher
from digest.gather.sources import Job, describe, fetch_article, gather_source
from subscribers.db import utcnow


@click.command("check-source")
@click.argument("target", metavar="URL_OR_FILE")
@click.option("--kind", type=click.Choice(["feed", "html"]), default="feed", show_default=True,
              help="A feed, or an html listing page (needs --link-pattern).")
@click.option("--link-pattern", default="", help="For --kind html: regex that article links match.")
@click.option("--full-text", is_flag=True, help="Fetch every entry's page, not only teasers'.")
@click.option("--no-pages", is_flag=True, help="Do not fetch article pages (teasers stay teasers).")
@click.pass_obj
def check_source(ctx: Context, target: str, kind: str, link_pattern: str, full_text: bool, no_pages: bool) -> None:
    """Show what the gatherer would take from URL_OR_FILE: its entries, or the error."""
    if kind == "html" and not link_pattern:
        raise click.UsageError("--kind html needs --link-pattern")
    settings = _gather_settings(ctx)
    source = SourceSettings(name="check", url=_url(target), kind=kind, link_pattern=link_pattern, full_text=full_text)
    with _fetcher(settings, source.url) as fetcher:
        # Nothing is stored here, so every entry counts as new (or, with --no-pages, as already stored).
        result = gather_source(fetcher, Job(source), settings, (lambda uids: set(uids)) if no_pages else
                               (lambda uids: set()), utcnow())
    for line in describe(result):
        click.echo(line)
    if result.error:
        raise DigestError(f"{target}: the gatherer would skip this source")


@click.command("extract")
@click.argument("target", metavar="URL_OR_FILE")
@click.pass_obj
def extract_command(ctx: Context, target: str) -> None:
    """Print the main text the gatherer would keep from the article page at URL_OR_FILE."""
    settings = _gather_settings(ctx)
    url = _url(target)
    with _fetcher(settings, url) as fetcher:
        found = fetch_article(fetcher, url)
    if found is None:
        raise DigestError(f"{target}: could not fetch an HTML page (the log line above says why)")
    text, page = found
    if not text:
        raise DigestError(f"{target}: no article text found on this page")
    if page.title:
        click.echo(f"# {page.title}\n")
    click.echo(text)


def _gather_settings(ctx: Context) -> GatherSettings:
    """[gather] of the config file when there is one: check with the limits the gatherer will use."""
    path = Path(ctx.config_path)
    return load_settings(path).gather if path.is_file() else GatherSettings()


def _fetcher(settings: GatherSettings, target: str) -> Fetcher:
    """The operator named `target`, so its origin is trusted as a configured source's would be."""
    return Fetcher.for_settings(settings, trusted=[target])


def _url(target: str) -> str:
    if target.startswith(("http://", "https://", "file://")):
        return target
    path = Path(target)
    if not path.is_file():
        raise click.BadParameter(f"no such file, and not an http(s) URL: {target}", param_hint="URL_OR_FILE")
    return path.resolve().as_uri()

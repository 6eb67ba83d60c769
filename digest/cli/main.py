"""The `digest` command: load settings once, wire the runtime, call the flows.

Every command is thin. Errors we expect (DigestError, SubscriberError) are
caught once in `main` and printed as one line with a non-zero exit; -v adds
the traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import webbrowser
from dataclasses import replace
from pathlib import Path

import click

from digest.cli.context import Context, pass_context
from digest.errors import DigestError
from subscribers import SubscriberError

log = logging.getLogger("digest")
EXIT_SOURCES_FAILED = 3  # some sources failed; what the others gave was stored (and, for send, sent)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# The command modules define their commands; only the group here knows them all (no import circle). Each
# module is imported when its command runs: one command's process does not pay for every other's imports (the
# whole set costs 1-2 s, more than a status or a subscriber command does itself).
COMMANDS = {"run": "daemon:run", "status": "delivery:status", "requeue": "delivery:requeue",
            "worker": "delivery:worker", "roundup": "delivery:roundup_command", "apikeys": "apikeys:apikeys",
            "webhooks": "webhooks:webhooks", "check-source": "sources:check_source", "extract": "sources:extract_command",
            "subscribers": "subscribers:subscribers", "summarize": "tools:summarize_command",
            "stories": "tools:stories_command", "inbound": "inbound:inbound", "kept-mail": "inbound:kept_mail",
            "operators": "operators:operators", "backup": "upkeep:backup_command", "restore": "upkeep:restore_command",
            "maintain": "upkeep:maintain_command", "prune": "upkeep:prune_command", "stats": "stats:stats_command"}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module, attribute = COMMANDS[name].split(":")
            command = getattr(importlib.import_module(f"digest.cli.{module}"), attribute)
            if name == "subscribers":  # its suppressions subgroup lives with the other feedback commands
                command.add_command(importlib.import_module("digest.cli.inbound").suppressions)
            self.add_command(command, name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--config", "config_path", default="config.toml", envvar="DIGEST_CONFIG", show_default=True,
              help="Settings file (also $DIGEST_CONFIG).", type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="Debug logging and full tracebacks on errors.")
@click.option("--log-json", is_flag=True, help="Log one JSON object per line (for log collectors).")
@click.version_option(package_name="digest")
@click.pass_context
def cli(ctx: click.Context, config_path: str, verbose: bool, log_json: bool) -> None:
    """Gather new articles, summarize them into sections, and mail the digest to confirmed subscribers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_json else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
    for noisy in ("httpx", "httpcore", "mail.log", "CSSUTILS", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = Context(config_path, verbose)


@cli.command()
@click.option("--no-pages", is_flag=True, help="Do not fetch article pages (teasers stay teasers): for no network.")
@pass_context
def gather(ctx: Context, no_pages: bool) -> None:
    """Fetch every source of every newsletter and store new articles (sends nothing)."""
    from digest.cli.delivery import stop_on_signals
    from digest.flows import gathering

    with stop_on_signals() as stop:
        results = gathering.gather_all(ctx.runtime(pages=not no_pages), stop=stop)
    for result in results:
        click.echo(f"{result.source_name}: {result.summary()}")
    _exit_on_failed_sources(results)


def _held_back(n: int) -> str:
    return (f"{_count(n, 'article')} held back for the next issue: over max_items or a section's max_items "
            "(kept while younger than carry_over_hours)")


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _exit_on_failed_sources(results, *, all_failed_is_error: bool = True) -> None:
    """Every source failed: an error (1), unless the work went on anyway. Some failed: exit status 3."""
    failed = [r for r in results if r.error]
    if all_failed_is_error and results and len(failed) == len(results):
        raise DigestError("every source failed")
    if failed:
        click.echo(f"{len(failed)} of {len(results)} sources failed: "
                   f"{', '.join(r.source_name for r in failed)}", err=True)
        sys.exit(EXIT_SOURCES_FAILED)


@cli.command()
@click.argument("newsletter")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the HTML here instead of stdout.")
@click.option("--text", "as_text", is_flag=True, help="Show the plain-text part instead of the HTML.")
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a web browser.")
@click.option("--no-fetch", is_flag=True, help="Use stored articles only; do not fetch the sources first.")
@click.option("--no-pages", is_flag=True, help="Do not fetch article pages (teasers stay teasers): for no network.")
@pass_context
def preview(ctx: Context, newsletter: str, out: str | None, as_text: bool, open_browser: bool,
            no_fetch: bool, no_pages: bool) -> None:
    """Show the next issue of NEWSLETTER as it would go out. Sends nothing and marks nothing as sent."""
    from digest.flows import drafting

    draft, rendered = drafting.preview(ctx.runtime(pages=not no_pages), newsletter, fetch=not no_fetch)
    body = rendered.text if as_text else rendered.html
    if out or open_browser:
        path = Path(out or f"preview-{newsletter}.{'txt' if as_text else 'html'}")
        path.write_text(body, encoding="utf-8")
        click.echo(f"Subject: {rendered.subject}\n{len(draft.items)} articles; preview written to {path}")
    if draft.held_back:
        click.echo(_held_back(draft.held_back), err=True)
        if open_browser:
            webbrowser.open(path.resolve().as_uri())
    else:
        click.echo(body)


@cli.command()
@click.argument("newsletter")
@click.option("--dry-run", is_flag=True, help="Gather (new articles are stored, as `digest gather` does), then show "
              "what would be sent and to how many; sends nothing and makes no issue.")
@click.option("--to", "to_address", metavar="ADDRESS", help="Send a test copy to ADDRESS only; mark nothing.")
@click.option("--force", is_flag=True, help="Make an issue even when there is nothing new.")
@click.option("--no-fetch", is_flag=True, help="Do not fetch the sources first.")
@click.option("--enqueue", is_flag=True, help="Make the issue and its outbox only; `digest worker` processes send it.")
@click.option("--no-pages", is_flag=True, help="Do not fetch article pages (teasers stay teasers): for no network.")
@click.option("--skip-review", is_flag=True, help='Send although the newsletter has review = "required" (the '
              "issue goes out unapproved; logged).")
@pass_context
def send(ctx: Context, newsletter: str, dry_run: bool, to_address: str | None, force: bool, no_fetch: bool,
         enqueue: bool, no_pages: bool, skip_review: bool) -> None:
    """Send one issue of NEWSLETTER now (and finish any interrupted one first)."""
    from digest.cli.delivery import Progress, stop_on_signals
    from digest.flows import drafting, overview, sending

    rt = ctx.runtime(pages=not no_pages)
    if rt.settings.newsletter(newsletter).review == "required" and not (dry_run or to_address):
        if not skip_review:
            raise DigestError(f"{newsletter} has review = \"required\": an editor approves each issue in the console "
                              "(/admin/review) and it goes out at its slot; `--skip-review` sends one unapproved")
        logging.getLogger("digest").warning("%s: sending without editorial review (--skip-review)", newsletter)
    if dry_run:
        draft, rendered = drafting.preview(rt, newsletter, fetch=not no_fetch)
        click.echo(f"Subject: {rendered.subject}")
        readers = overview.recipient_count(rt, newsletter)
        click.echo(f"{_count(len(draft.items), 'new article')} in {_count(len(draft.sections), 'section')}; "
                   f"would go to {_count(readers, 'confirmed subscriber')} (dry run)")
        return
    if to_address:
        rendered = sending.test_send(rt, newsletter, to_address, fetch=not no_fetch)
        click.echo(f"test copy of {rendered.subject!r} sent to {to_address}")
        return
    rt = replace(rt, processes=rt.settings.delivery.processes)  # this command owns its process: all cores
    with stop_on_signals() as stop, Progress() as progress:
        outcome = sending.send_newsletter(rt, newsletter, force=force, fetch=not no_fetch, stop=stop,
                                           progress=progress.update, deliver=not enqueue, resume_paused=True)
    if outcome.held_back:
        click.echo(_held_back(outcome.held_back), err=True)
    if enqueue and outcome.new_issue_id:
        click.echo(f"issue {outcome.new_issue_id} queued for `digest worker`")
    for result in outcome.fetches:
        if result.error:
            click.echo(f"source {result.source_name} skipped: {result.error}", err=True)
    for report in outcome.reports:
        click.echo(f"issue {report.issue_id}: {report.sent} sent, {report.failed} failed, {report.skipped} skipped"
                   + (f"; PAUSED: {report.paused_reason}" if report.paused_reason else "")
                   + ("; stopped, run again to resume" if report.stopped else ""))
    if outcome.nothing_new and outcome.fetches and all(r.error for r in outcome.fetches):
        raise DigestError(f"every source of {newsletter} failed; nothing was gathered and no issue made")
    if outcome.nothing_new:
        click.echo(f"{newsletter}: nothing new, no issue made (use --force to send anyway)")
    if outcome.slot_taken:
        click.echo(f"{newsletter}: another run made this issue first; not making a second one")
    if any(r.paused_reason for r in outcome.reports):
        sys.exit(75)  # EX_TEMPFAIL: fix the cause, then run again to resume
    # The issue went out with what the other sources (and earlier runs) gave: 3, even if all of them failed.
    _exit_on_failed_sources(outcome.fetches, all_failed_is_error=False)


@cli.command()
@click.option("--dir", "folder", default="digest-demo", show_default=True, type=click.Path(file_okay=False),
              help="Where the demo keeps its database and writes what it received.")
@click.option("--analytics", is_flag=True, help="Count the links, then follow them through the web app as a "
              "scanner and a reader would, and show people beside all requests (about 35 s).")
def demo(folder: str, analytics: bool) -> None:
    """Run the whole job on bundled sample feeds, mailing one demo reader through a local SMTP server."""
    from digest.demo import run_demo

    for line in run_demo(Path(folder), analytics=analytics):
        click.echo(line)


@cli.command()
@click.option("--host", help="Interface to listen on (default: web.host).")
@click.option("--port", type=int, help="Port to listen on (default: web.port).")
@pass_context
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Run the web app: signup, confirmation and unsubscribe pages, and POST /api/subscribe."""
    import uvicorn

    from digest.flows.runtime import secret_key
    from digest.web.app import create_app
    from digest.web.guards import RedactTokens

    rt = ctx.runtime()
    secret_key(rt)  # refuse to start: without it every unsubscribe link would answer 500
    app = create_app(rt.settings, rt.sessions, rt.transport_factory, now=rt.now)
    web = rt.settings.web
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    # The app decides whose X-Forwarded-For to believe (web.trusted_proxies); uvicorn's own rule would
    # believe any loopback peer's.
    uvicorn.run(app, host=host or web.host, port=port or web.port, log_level="info", proxy_headers=False)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (DigestError, SubscriberError) as exc:
        if "-v" in sys.argv or "--verbose" in sys.argv:
            logging.getLogger("digest").exception("failed")
        click.echo(f"digest: error: {exc}", err=True)
        sys.exit(1)

"""`digest stats [NEWSLETTER] [--csv]`: what readers clicked, per issue and per link (issue 26).

People (estimated) and all requests side by side, always: the second is
what other tools call clicks, and is mostly scanners. Opens are printed
apart and never added to either.
"""

from __future__ import annotations

import csv
import sys
from datetime import timedelta

import click

from digest.analytics.figures import HOW, newsletter_issues, top_items
from digest.cli.context import Context, pass_context

COLUMNS = ("newsletter", "issue", "made", "subject", "link", "section", "title", "url", "people", "requests",
           "opens_people", "opens", "machines")


@click.command("stats")
@click.argument("newsletter", required=False)
@click.option("--csv", "as_csv", is_flag=True, help="One row per issue and per link, for a spreadsheet.")
@click.option("--issues", "limit", default=10, show_default=True, help="How many of the latest issues.")
@pass_context
def stats_command(ctx: Context, newsletter: str | None, as_csv: bool, limit: int) -> None:
    """Clicks per issue and per link: people (estimated) beside all requests ([analytics] in the config)."""
    rt = ctx.runtime()
    if newsletter:
        rt.settings.newsletter(newsletter)  # an unknown name fails with the known ones listed
    with rt.sessions() as session:
        issues = newsletter_issues(session, newsletter, limit)
        now = rt.now()
        top = {days: top_items(session, newsletter, now - timedelta(days=days)) for days in (7, 30)}
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for issue, f in issues:
            head = (issue.newsletter, issue.id, f"{issue.created_at:%Y-%m-%d %H:%M}", issue.subject)
            machines = " ".join(f"{rule}={n}" for rule, n in sorted(f.machines.items()))
            writer.writerow((*head, "", "", "", "", f.people, f.requests, f.opens_people, f.opens, machines))
            for link in f.links:
                writer.writerow((*head, link.number, link.section, link.title, link.url, link.people, link.requests,
                                 "", "", ""))
        return
    if not issues:
        click.echo("no issue with counted links yet (turn on analytics.clicks for a newsletter)")
        return
    for issue, f in issues:
        click.echo(f"{issue.newsletter} issue {issue.id}, {issue.created_at:%Y-%m-%d %H:%M} UTC: {issue.subject}")
        click.echo(f"  article links: {f.people} people (estimated), {f.requests} requests in all"
                   + (f" (machines: {', '.join(f'{r} {n}' for r, n in f.machines.most_common())})"
                      if f.machines else ""))
        if f.opens:
            click.echo(f"  opens (unreliable, apart): {f.opens_people} estimated, {f.opens} requests")
        for link in f.links:
            click.echo(f"  {link.number:>3}. {link.people:>5} people {link.requests:>6} requests  "
                       f"[{link.section}] {link.title}")
    for days, items in top.items():
        if items:
            click.echo(f"top items by people, last {days} days:")
            for link in items:
                click.echo(f"  {link.people:>5}  {link.title}  {link.url}")
    click.echo(HOW)


__all__ = ["stats_command"]

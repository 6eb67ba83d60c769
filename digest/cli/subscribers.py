"""`digest subscribers ...`: the operator's tools for the audience.

Adding or importing someone without `--consent-obtained` / `--confirmed`
sends them the confirmation email, exactly as the signup form does: nothing
else reaches an address before it confirms.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from digest.flows import notices, person
from digest.flows.runtime import secret_key
from digest.flows.mailto import unsubscribe_request
from digest.cli.context import Context, pass_context
from digest.errors import DigestError
from subscribers import (
    Origin,
    SubscriptionStatus,
    add_subscriber,
    export_csv,
    import_csv,
    list_subscriptions,
    remove_subscriber,
    subscriptions_for_export,
)

STATUSES = click.Choice([s.value for s in SubscriptionStatus])


@click.group()
def subscribers() -> None:
    """Manage subscribers (readers normally join through the signup pages of `digest serve`)."""


def _mail_confirmations(rt, slug: str, pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        return
    failures = notices.send_confirmations(rt.transport_factory(), rt.templates, rt.settings.site,
                                           rt.settings.newsletter(slug), pairs, now=rt.now(),
                                           ttl_hours=rt.settings.web.token_ttl_hours, bounces=rt.settings.bounces)
    for failure in failures:
        click.echo(f"confirmation email failed: {failure}", err=True)
    click.echo(f"{len(pairs) - len(failures)} confirmation email(s) sent")


@subscribers.command("add")
@click.argument("address")
@click.option("-n", "--newsletter", required=True, help="Newsletter slug.")
@click.option("--confirmed", is_flag=True,
              help="State that this person already consented (recorded as such); otherwise they are sent "
                   "the confirmation email and stay pending until they confirm.")
@pass_context
def subscribers_add(ctx: Context, address: str, newsletter: str, confirmed: bool) -> None:
    """Subscribe ADDRESS to a newsletter."""
    rt = ctx.runtime()
    rt.settings.newsletter(newsletter)
    ttl = rt.settings.web.token_ttl_hours
    with rt.sessions() as session, session.begin():
        subscription, token = add_subscriber(session, address, newsletter, confirmed=confirmed,
                                             origin=Origin("cli"), now=rt.now(), ttl=_hours(ttl))
        email, status = subscription.subscriber.email, subscription.status.value
    click.echo(f"{email}: {status} for {newsletter}")
    _mail_confirmations(rt, newsletter, [(email, token)] if token else [])


@subscribers.command("list")
@click.option("-n", "--newsletter", help="Only this newsletter.")
@click.option("--status", type=STATUSES, help="Only this status.")
@pass_context
def subscribers_list(ctx: Context, newsletter: str | None, status: str | None) -> None:
    """List subscriptions: address, newsletter, status."""
    rt = ctx.runtime()
    if newsletter:
        rt.settings.newsletter(newsletter)  # an unknown slug is an error naming the known ones, not an empty list
    with rt.sessions() as session:
        rows = list_subscriptions(session, newsletter, SubscriptionStatus(status) if status else None)
    for email, slug, state in rows:
        click.echo(f"{email}\t{slug}\t{state.value}")


@subscribers.command("remove")
@click.argument("address")
@click.option("-n", "--newsletter", help="Only this newsletter (default: all).")
@pass_context
def subscribers_remove(ctx: Context, address: str, newsletter: str | None) -> None:
    """Unsubscribe ADDRESS (the consent record is kept; see `forget` to erase it)."""
    with ctx.runtime().sessions() as session, session.begin():
        changed = remove_subscriber(session, address, newsletter, Origin("cli"))
    click.echo(f"{address}: {changed} subscription(s) ended")


@subscribers.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "--newsletter", required=True, help="Newsletter slug.")
@click.option("--consent-obtained", is_flag=True,
              help="State that everyone in the file already consented to this newsletter (recorded on each "
                   "row). Without it, each new address is sent a confirmation email.")
@pass_context
def subscribers_import(ctx: Context, csv_file: Path, newsletter: str, consent_obtained: bool) -> None:
    """Import addresses from CSV_FILE (an `email` column, or one address per line)."""
    rt = ctx.runtime()
    rt.settings.newsletter(newsletter)
    text = csv_file.read_text(encoding="utf-8-sig")
    with rt.sessions() as session, session.begin():
        report = import_csv(session, text, newsletter, source=csv_file.name, consent_obtained=consent_obtained,
                            now=rt.now(), ttl=_hours(rt.settings.web.token_ttl_hours))
    for line, problem in report.errors:
        click.echo(f"{csv_file}:{line}: {problem}", err=True)
    click.echo(f"{report.added} added, {report.unchanged} unchanged, {len(report.errors)} bad row(s)"
               + (f", {report.unsubscribed} left alone (they unsubscribed earlier)" if report.unsubscribed else "")
               + (f", {report.suppressed} suppressed (bounced or complained; see `digest subscribers "
                  "suppressions list`)" if report.suppressed else ""))
    _mail_confirmations(rt, newsletter, report.confirmations)


@subscribers.command("export")
@click.argument("address", required=False)
@click.option("-n", "--newsletter", help="CSV: only this newsletter.")
@click.option("--status", type=STATUSES, help="CSV: only this status.")
@pass_context
def subscribers_export(ctx: Context, address: str | None, newsletter: str | None, status: str | None) -> None:
    """With ADDRESS: print all data held about that person as JSON (subscriptions, consent record,
    deliveries). Without: write subscriptions as CSV to standard output."""
    with ctx.runtime().sessions() as session:
        if address is None:
            rows = subscriptions_for_export(session, newsletter, SubscriptionStatus(status) if status else None)
            sys.stdout.write(export_csv(rows))
            return
        data = person.export_everything(session, address)  # the API's export is the same function
        if data is None:
            raise DigestError(f"no data is held about {address}")
    click.echo(json.dumps(data, indent=2))


@subscribers.command("forget")
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def subscribers_forget(ctx: Context, address: str, yes: bool) -> None:
    """Erase everything held about ADDRESS, consent record included."""
    if not yes:
        click.confirm(f"Erase all data about {address}? This cannot be undone", abort=True)
    with ctx.runtime().sessions() as session, session.begin():
        if person.forget_everything(session, address) is None:
            raise DigestError(f"no data is held about {address}")
    click.echo(f"{address}: erased")


def _hours(hours: int) -> timedelta:
    return timedelta(hours=hours)


@subscribers.command("unsubscribe-mail")
@click.argument("message", type=click.File("rb"), default="-")
@pass_context
def subscribers_unsubscribe_mail(ctx: Context, message) -> None:
    """Act on a mail sent to the List-Unsubscribe mailto: address (MESSAGE file, or stdin).

    Deliver that mailbox to this command, e.g. a Postfix alias
    `unsubscribe: "|/srv/digest/.venv/bin/digest --config /srv/digest/config.toml subscribers unsubscribe-mail"`.
    """
    rt = ctx.runtime()
    with rt.sessions() as session, session.begin():
        line = unsubscribe_request(session, secret_key(rt), message.read(), rt.now())
    if line.endswith("; kept") or "nothing done" in line:
        raise DigestError(line.removesuffix("; kept"))
    click.echo(line)

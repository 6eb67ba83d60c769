"""`digest inbound` (bounces, complaints and mailed unsubscribes coming back) and the suppression list."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace

import click
from sqlalchemy import select

from digest.flows import feedback, read_ahead
from digest.flows.runtime import secret_key
from digest.cli.context import Context, pass_context
from digest.cli.delivery import stop_on_signals
from digest.errors import DigestError
from digest.inbound.listener import InboundHandler, InboundServer, ListenerLimits
from digest.models import KeptMail
from subscribers import Origin, export_suppressions_csv, lift, list_suppressions, normalize_address, suppress

log = logging.getLogger(__name__)
EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries the pipe again later


def make_server(rt) -> InboundServer:
    """The listener as configured in [bounces], acting through feedback.processor (also used by `digest run`)."""
    b = rt.settings.bounces
    sqlite = rt.settings.storage.url.startswith("sqlite")  # one writer at a time there: more threads only wait
    limits = ListenerLimits(max_bytes=b.max_message_bytes, max_messages_per_connection=b.max_messages_per_connection,
                            max_connections=b.max_connections, workers=1 if sqlite else ListenerLimits.workers)
    handler = InboundHandler(feedback.accepts(rt.settings),
                             feedback.processor(rt.settings, secret_key(rt), rt.sessions, rt.now), limits,
                             prepare=read_ahead.reader_ahead(rt.settings))
    return InboundServer(handler, b.listen_host, b.listen_port, limits)


@click.command("inbound")
@click.option("--pipe", is_flag=True, help="Read one message on standard input (an MTA alias or pipe transport) "
                                           "instead of listening.")
@click.option("--recipient", help="With --pipe: the envelope recipient (default: $ORIGINAL_RECIPIENT or "
                                  "$RECIPIENT, which Postfix sets for pipes and aliases).")
@click.option("--sender", default="", help="With --pipe: the envelope sender (default: $SENDER).")
@click.option("--host", help="Listen here instead of bounces.listen_host.")
@click.option("--port", type=int, help="Listen here instead of bounces.listen_port.")
@pass_context
def inbound(ctx: Context, pipe: bool, recipient: str | None, sender: str, host: str | None, port: int | None) -> None:
    """Receive bounces, spam complaints and mailed unsubscribe requests, and act on them.

    Listens for SMTP on bounces.listen_host:listen_port, taking mail only for
    the bounce addresses and site.unsubscribe_mailbox. Point your relay's
    bounce domain here (see README, "Bounces and complaints").
    """
    rt = ctx.runtime()
    if pipe:
        sys.exit(_pipe(rt, recipient or os.environ.get("ORIGINAL_RECIPIENT") or os.environ.get("RECIPIENT"),
                       sender or os.environ.get("SENDER", "")))
    if not rt.settings.bounces.domain:
        log.warning("bounces.domain is not set: only mail to %s (unsubscribe requests) will be taken",
                    rt.settings.site.unsubscribe_mailbox)
    if host or port:
        b = rt.settings.bounces
        rt.settings = replace(rt.settings, bounces=replace(b, listen_host=host or b.listen_host,
                                                            listen_port=port or b.listen_port))
    server = make_server(rt)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        raise DigestError(f"cannot listen on {server.hostname}:{server.port}: {exc}") from exc
    click.echo(f"inbound: listening on {server.hostname}:{server.port} (Ctrl-C or SIGTERM stops)", err=True)
    with stop_on_signals() as stop:
        stop.wait()
    server.stop()
    click.echo("inbound: stopped", err=True)


def _pipe(rt, recipient: str | None, sender: str) -> int:
    if not recipient:
        raise DigestError("--pipe needs the envelope recipient: pass --recipient, or run it from an MTA that sets "
                          "ORIGINAL_RECIPIENT or RECIPIENT")
    limit = rt.settings.bounces.max_message_bytes
    raw = sys.stdin.buffer.read(limit + 1)
    if len(raw) > limit:
        click.echo(f"digest: message larger than bounces.max_message_bytes ({limit}); refused", err=True)
        return 65  # EX_DATAERR: the MTA bounces it back to its (not our) sender
    process = feedback.processor(rt.settings, secret_key(rt), rt.sessions, rt.now)
    try:
        (handled,) = process([(sender, [recipient], raw)])
    except Exception as exc:  # noqa: BLE001  (the database is unreachable: let the MTA keep it and retry)
        click.echo(f"digest: could not record the message ({exc}); the MTA will retry", err=True)
        return EX_TEMPFAIL
    for line in handled.lines:
        click.echo(line)
    return 0


@click.group("suppressions")
def suppressions() -> None:
    """Addresses no issue goes to (hard bounces, repeated soft bounces, complaints, operator's choice)."""


@suppressions.command("list")
@click.option("--all", "include_lifted", is_flag=True, help="Also the lifted ones.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on standard output (an export).")
@pass_context
def suppressions_list(ctx: Context, include_lifted: bool, as_csv: bool) -> None:
    """List suppressed addresses: address, reason, since, detail."""
    with ctx.runtime().sessions() as session:
        rows = list_suppressions(session, include_lifted=include_lifted)
    if as_csv:
        sys.stdout.write(export_suppressions_csv(rows))
        return
    for row in rows:
        state = "" if row.active else f"  (lifted {row.lifted_at:%Y-%m-%d}: {row.lifted_reason})"
        click.echo(f"{row.email}\t{row.reason}\t{row.created_at:%Y-%m-%d %H:%M}\t{row.detail[:120]}{state}")


@suppressions.command("lift")
@click.argument("address")
@click.option("--reason", required=True, help="Why (recorded in the consent record).")
@pass_context
def suppressions_lift(ctx: Context, address: str, reason: str) -> None:
    """Let ADDRESS receive issues again (their subscriptions are as they were; a complainer stays unsubscribed)."""
    rt = ctx.runtime()
    with rt.sessions() as session, session.begin():
        row = lift(session, address, reason, Origin("cli"), rt.now())
        click.echo(f"{row.email}: suppression ({row.reason}) lifted")


@suppressions.command("add")
@click.argument("address")
@click.option("--reason", required=True, help="Why (recorded).")
@pass_context
def suppressions_add(ctx: Context, address: str, reason: str) -> None:
    """Suppress ADDRESS by hand (e.g. a request received by phone)."""
    rt = ctx.runtime()
    email = normalize_address(address)
    with rt.sessions() as session, session.begin():
        added = suppress(session, email, "operator", reason, Origin("cli"), rt.now())
    click.echo(f"{email}: {'suppressed' if added else 'already suppressed'}")


@click.command("kept-mail")
@click.argument("message_id", type=int, required=False)
@pass_context
def kept_mail(ctx: Context, message_id: int | None) -> None:
    """Inbound mail that was not acted on (unreadable, forged, unknown): list it, or print one (raw)."""
    with ctx.runtime().sessions() as session:
        if message_id is not None:
            row = session.get(KeptMail, message_id)
            if row is None:
                raise DigestError(f"no kept message #{message_id}")
            sys.stdout.buffer.write(row.raw)
            return
        for row in session.scalars(select(KeptMail).order_by(KeptMail.id.desc()).limit(100)):
            click.echo(f"#{row.id} {row.received_at:%Y-%m-%d %H:%M} from {row.mail_from or '<>'} to "
                       f"{row.recipients}: {row.reason.splitlines()[0][:160] if row.reason else ''}")


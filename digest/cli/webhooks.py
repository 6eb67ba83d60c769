"""`digest webhooks`: deliver the events to the configured endpoints (the daemon's leader does it by itself),
see how each endpoint is doing, and turn a disabled one back on."""

from __future__ import annotations

import click

from digest.cli.context import Context, pass_context
from digest.cli.delivery import stop_on_signals
from digest.errors import DigestError
from digest.flows import webhook_delivery


@click.group()
def webhooks() -> None:
    """Signed webhooks to the newsroom's endpoints ([[webhooks]] in the config)."""


@webhooks.command("deliver")
@click.option("--once", is_flag=True, help="One round (new events, then what is due), then exit.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between rounds when nothing is due.")
@pass_context
def webhooks_deliver(ctx: Context, once: bool, poll: float) -> None:
    """Deliver webhook events until stopped (SIGTERM finishes the event in flight)."""
    rt = ctx.runtime()
    if not webhook_delivery.names(rt):
        raise DigestError("no webhook endpoint: [[webhooks]] in the config, or POST /api/v1/webhooks")
    with stop_on_signals() as stop, webhook_delivery.fetcher_for(rt.settings) as fetcher:
        while not stop.is_set():
            done = webhook_delivery.run_round(rt, fetcher)
            if once:
                click.echo(f"{done.made} new events; {done.delivered} delivered, {done.failed} not delivered")
                return
            if not (done.delivered or done.failed):
                stop.wait(poll)


@webhooks.command("status")
@pass_context
def webhooks_status(ctx: Context) -> None:
    """Per endpoint: queued, delivered, failed, failures in a row, disabled, last error."""
    for e in webhook_delivery.overview(ctx.runtime()):
        click.echo(f"{e['name']} {e['url']}: queued {e['queued']}, delivered {e['delivered']}, failed {e['failed']}"
                   + (f"; {e['failures_in_a_row']} failures in a row ({e['last_error']})" if e["failures_in_a_row"]
                      else "")
                   + (f"; DISABLED since {e['disabled_at']:%Y-%m-%d %H:%M} UTC" if e["disabled_at"] else ""))


@webhooks.command("enable")
@click.argument("name")
@pass_context
def webhooks_enable(ctx: Context, name: str) -> None:
    """Turn a disabled endpoint back on (its queued events go out again)."""
    rt = ctx.runtime()
    if name not in webhook_delivery.names(rt):
        raise DigestError(f"no webhook endpoint named {name!r}")
    click.echo(f"{name} enabled" if webhook_delivery.enable(rt, name) else f"{name} was not disabled")

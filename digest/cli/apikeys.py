"""`digest apikeys`: keys for the REST API (/api/v1), each with its scopes; shown once, stored hashed."""

from __future__ import annotations

import click

from digest.cli.context import Context, pass_context
from digest.errors import DigestError
from digest.web.admin import accounts
from digest.web.api import keys


@click.group()
def apikeys() -> None:
    """Keys for the REST API: add, list, revoke."""


@apikeys.command("add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(keys.SCOPES),
              help="What the key may do; repeat for several.")
@pass_context
def apikeys_add(ctx: Context, name: str, scopes: tuple[str, ...]) -> None:
    """Make a key named NAME; it is printed once (keep it: only its hash is stored)."""
    rt = ctx.runtime()
    try:
        with rt.sessions() as session, session.begin():
            key = keys.add_key(session, name, list(scopes), rt.now())
            accounts.record(session, "cli", "apikey.add", rt.now(), target=name, detail=" ".join(sorted(scopes)))
    except keys.ApiKeyError as exc:
        raise DigestError(str(exc)) from None
    click.echo(key)
    click.echo(f"key {name} made with {', '.join(sorted(scopes))}: keep it now, it is not shown again", err=True)


@apikeys.command("list")
@pass_context
def apikeys_list(ctx: Context) -> None:
    """Name, scopes, made, last used, revoked (never the key)."""
    with ctx.runtime().sessions() as session:
        for k in keys.list_keys(session):
            click.echo("\t".join([k.name, f"dgk_{k.prefix}_...", k.scopes, f"{k.created_at:%Y-%m-%d %H:%M}",
                                  f"used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used",
                                  f"REVOKED {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"]))


@apikeys.command("revoke")
@click.argument("name")
@pass_context
def apikeys_revoke(ctx: Context, name: str) -> None:
    """Revoke the key NAME at once (every process checks the key on each request)."""
    rt = ctx.runtime()
    try:
        with rt.sessions() as session, session.begin():
            changed = keys.revoke_key(session, name, rt.now())
            accounts.record(session, "cli", "apikey.revoke", rt.now(), target=name)
    except keys.ApiKeyError as exc:
        raise DigestError(str(exc)) from None
    click.echo(f"key {name} revoked" if changed else f"key {name} was revoked already")

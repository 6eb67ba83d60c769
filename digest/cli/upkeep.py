"""`digest backup`, `digest restore` and `digest maintain`: what keeps a database whole and bounded for a year.

Backup and restore open the database without migrating it: a backup is of
the database as it is, and a restore decides the schema itself (the backup's,
then this version's).
"""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli.context import Context, pass_context
from digest.cli.delivery import stop_on_signals
from digest.db import make_engine
from digest.flows import backup as backups
from digest.flows import restore as restoring
from digest.flows import retention
from subscribers.db import utcnow


def _engine(ctx: Context):
    return make_engine(ctx.settings().storage.url)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--logical", is_flag=True, help="Export every table as rows (JSON Lines) instead of SQLite pages or "
              "pg_dump: slower, but restores into SQLite or PostgreSQL alike.")
@click.option("--readers", is_flag=True, help="The readers alone: subscribers, subscriptions, pending confirmations, "
              "consent history, suppressions and bounce scores, as JSON Lines (readable by other tools).")
@pass_context
def backup_command(ctx: Context, file: str, logical: bool, readers: bool) -> None:
    """Write a consistent snapshot of the database to FILE (safe while the daemon runs).

    FILE is a gzip'd tar: manifest.json (schema version, rows per table, SHA-256 of the payload) and the
    payload. It replaces FILE only once complete."""
    engine = _engine(ctx)
    try:
        manifest = backups.take(engine, Path(file), utcnow(), logical=logical, readers=readers)
    finally:
        engine.dispose()
    rows = sum(n for name, n in manifest.counts.items() if name != "alembic_version")
    click.echo(f"{file}: {manifest.kind} backup, schema {manifest.schema}, {rows} rows in "
               f"{len(manifest.counts) - ('alembic_version' in manifest.counts)} tables "
               f"({manifest.counts.get('subscribers', 0)} readers, "
               f"{manifest.counts.get('consent_events', 0)} consent events, "
               f"{manifest.counts.get('suppressions', 0)} suppressions); sha256 {manifest.sha256[:16]}...")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace everything in a database that is not empty.")
@pass_context
def restore_command(ctx: Context, file: str, force: bool) -> None:
    """Restore the backup FILE into the configured database (stop the daemon first).

    Refuses a database holding any row unless --force; checks the backup's checksum and its row counts; then
    migrates a backup of an older schema to this version's."""
    engine = _engine(ctx)
    try:
        done = restoring.restore(engine, Path(file), force=force)
    finally:
        engine.dispose()
    counts = done.manifest.counts
    click.echo(f"restored {file} ({done.manifest.kind}, taken {done.manifest.created_at}) by {done.way}: "
               f"{counts.get('subscribers', 0)} readers, {counts.get('consent_events', 0)} consent events, "
               f"{counts.get('suppressions', 0)} suppressions; rows checked against the manifest")
    if done.migrated_from:
        click.echo(f"migrated from schema {done.migrated_from} to {done.schema}")


@pass_context
def _maintain(ctx: Context, dry_run: bool) -> None:
    """Remove what [retention] no longer keeps (the daemon's leader does this once a day; this is for cron).

    Small batches, each its own short transaction: safe while issues are being sent, and safe to kill (what
    was removed stays removed; run it again to go on)."""
    rt = ctx.runtime()
    with stop_on_signals() as stop:
        pruner = retention.prune(rt.sessions, rt.settings.retention, rt.now(), dry_run=dry_run, stop=stop)
    kept = {name: days for name, days in vars(rt.settings.retention).items() if not days}
    for name, count in pruner.counts.items():
        click.echo(f"{name}: {count} {'would go' if dry_run else 'removed'}")
    if kept:
        click.echo("kept forever (0 days): " + ", ".join(kept))
    if not dry_run:
        click.echo(f"done in {pruner.seconds:.1f} s")


def _command(name: str, **kwargs) -> click.Command:
    return click.command(name, **kwargs)(
        click.option("--dry-run", is_flag=True, help="Count what would go; remove nothing.")(_maintain))


maintain_command = _command("maintain")
prune_command = _command("prune", hidden=True, help="The former name of `digest maintain`.")

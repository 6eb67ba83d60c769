"""`digest operators ...`: the console's accounts, managed from the server's shell only.

A password never travels as an argument (it would sit in the shell history
and in `ps` for everyone on the machine): it is asked at a prompt, or read
from standard input (`--password-stdin`) or an environment variable
(`--password-env NAME`) for scripts. Every change is written to the audit log
as done by "cli".
"""

from __future__ import annotations

import os
import sys

import click

from digest.cli.context import Context, pass_context
from digest.settings import OPERATOR_ROLES
from digest.web.admin import accounts

ROLES = click.Choice(OPERATOR_ROLES)


def _password(from_stdin: bool, env_name: str | None) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            raise accounts.OperatorError(f"the environment variable {env_name} is not set")
        return value
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


password_options = [
    click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the password from standard input."),
    click.option("--password-env", "env_name", metavar="NAME", help="Read the password from this environment variable."),
]


def with_password(command):
    for option in reversed(password_options):
        command = option(command)
    return command


@click.group()
def operators() -> None:
    """Accounts of the operator's console (/admin): admins do everything, editors review drafts."""


@operators.command("add")
@click.argument("name")
@click.option("--role", type=ROLES, required=True, help="admin: everything; editor: the review of drafts.")
@click.option("--email", default="", help="Where review requests are mailed (editors).")
@with_password
@pass_context
def operators_add(ctx: Context, name: str, role: str, email: str, from_stdin: bool, env_name: str | None) -> None:
    """Create the operator NAME; the password is asked for (or read with --password-stdin / --password-env)."""
    rt = ctx.runtime()
    password = accounts.check_password(_password(from_stdin, env_name))
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, name, role, password, rt.now(), email=email)
        accounts.record(session, "cli", "operator.add", rt.now(), target=name, detail=f"role={role}")
    click.echo(f"operator {name} added ({role}); log in at {rt.settings.site.base_url.rstrip('/')}/admin/login")


@operators.command("list")
@pass_context
def operators_list(ctx: Context) -> None:
    """Name, role, email and when each operator was created."""
    with ctx.runtime().sessions() as session:
        for operator in accounts.list_operators(session):
            click.echo(f"{operator.name}\t{operator.role}\t{operator.email or '-'}\t{operator.created_at:%Y-%m-%d %H:%M}")


@operators.command("remove")
@click.argument("name")
@pass_context
def operators_remove(ctx: Context, name: str) -> None:
    """Delete the operator NAME; their open sessions end at once."""
    rt = ctx.runtime()
    with rt.sessions() as session, session.begin():
        accounts.remove_operator(session, name)
        accounts.record(session, "cli", "operator.remove", rt.now(), target=name)
    click.echo(f"operator {name} removed and logged out")


@operators.command("password")
@click.argument("name")
@click.option("--role", type=ROLES, help="Also change the role.")
@with_password
@pass_context
def operators_password(ctx: Context, name: str, role: str | None, from_stdin: bool, env_name: str | None) -> None:
    """Set a new password for NAME (and --role); every session of NAME ends."""
    rt = ctx.runtime()
    password = accounts.check_password(_password(from_stdin, env_name))
    with rt.sessions() as session, session.begin():
        accounts.set_password(session, name, password, rt.now(), role=role)
        accounts.record(session, "cli", "operator.password", rt.now(), target=name,
                        detail=f"role={role}" if role else "")
    click.echo(f"password of {name} changed; their sessions have ended")

"""Operators managed in the console: admins add, remove and reset accounts; everyone changes their own password.

The same rules as `digest operators` (accounts.py: names, roles, 10+ character
passwords, Argon2 hashes): a new or reset password ends every session of that
account. The console never shows a password back. An admin cannot remove
themselves or the last admin, so the console can never be left with no one
able to manage it. Every change is in the audit log.
"""

from __future__ import annotations

from starlette.responses import Response

from digest.settings import OPERATOR_ROLES
from digest.web.admin import accounts
from digest.web.admin.gate import Ctx, Gate, back


def register(gate: Gate) -> None:
    def listing(ctx: Ctx, status: int = 200, error: str = "") -> Response:
        with gate.sessions() as session:
            people = accounts.list_operators(session)
        return gate.page(ctx, "operators.html", status, title="Operators", people=people, error=error,
                         roles=OPERATOR_ROLES)

    def change(ctx: Ctx) -> Response:
        action, name = str(ctx.form.get("action", "")), str(ctx.form.get("name", "")).strip()[:64]
        password, email = str(ctx.form.get("password", ""))[:1000], str(ctx.form.get("email", "")).strip()[:320]
        role = str(ctx.form.get("role", ""))
        try:
            if action == "add":
                gate.act(ctx, "operator.add", name, lambda session: accounts.add_operator(
                    session, name, role, password, gate.now(), email=email), detail=f"role={role}")
                return back("/admin/operators", "operator-added")
            if action == "reset":
                gate.act(ctx, "operator.reset", name, lambda session: accounts.set_password(
                    session, name, password, gate.now()))
                return back("/admin/operators", "operator-reset")
            if action == "remove":
                if name == ctx.who.name:
                    raise accounts.OperatorError("You cannot remove your own account: ask another admin.")
                gate.act(ctx, "operator.remove", name, lambda session: accounts.remove_operator(session, name))
                return back("/admin/operators", "operator-removed")
        except accounts.OperatorError as exc:
            return listing(ctx, 400, str(exc))
        return listing(ctx, 400, "That is not an action on this page.")

    def own(ctx: Ctx, status: int = 200, error: str = "") -> Response:
        return gate.page(ctx, "account.html", status, title="Your account", error=error)

    def own_password(ctx: Ctx) -> Response:
        current, new = str(ctx.form.get("current", ""))[:1000], str(ctx.form.get("password", ""))[:1000]
        if new != str(ctx.form.get("again", ""))[:1000]:
            return own(ctx, 400, "The two new passwords differ.")
        with gate.sessions() as session:
            known = accounts.authenticate(session, ctx.who.name, current)
        if known is None:
            return own(ctx, 400, "Your current password is not right.")
        try:
            gate.act(ctx, "operator.password", ctx.who.name, lambda session: accounts.set_password(
                session, ctx.who.name, new, gate.now()))
        except accounts.OperatorError as exc:
            return own(ctx, 400, str(exc))
        return back("/admin/login", "password-changed")  # every session ended, this one too: log in again

    gate.route("/admin/operators", listing, admin=True)
    gate.route("/admin/operators", change, methods=("POST",), admin=True)
    gate.route("/admin/account", own)
    gate.route("/admin/account", own_password, methods=("POST",))

"""API keys in the console (admins): the same keys as `digest apikeys`, made here and shown once, revoked here;
and the webhook endpoints (configured or registered through the API) with their deliveries, events given up
on, and a button that turns an endpoint disabled for failing back on (as `digest webhooks enable`)."""

from __future__ import annotations

from starlette.responses import Response

from digest.flows import webhook_delivery
from digest.web.admin.gate import Ctx, Gate, back
from digest.web.api import keys


def register(gate: Gate) -> None:
    def listing(ctx: Ctx, status: int = 200, error: str = "", made: str = "") -> Response:
        with gate.sessions() as session:
            found = keys.list_keys(session)
            hooks = webhook_delivery.describe(session, gate.settings)
        response = gate.page(ctx, "apikeys.html", status, title="API keys", keys=found, scopes=keys.SCOPES,
                             error=error, made=made, hooks=hooks)
        return response

    def change(ctx: Ctx) -> Response:
        action, name = str(ctx.form.get("action", "")), str(ctx.form.get("name", "")).strip()[:64]
        try:
            if action == "add":
                chosen = [s for s in keys.SCOPES if f"scope-{s}" in ctx.form]
                key = gate.act(ctx, "apikey.add", name, lambda session: keys.add_key(session, name, chosen, gate.now()),
                               detail=" ".join(chosen))
                return listing(ctx, made=key)  # shown this once, never stored
            if action == "enable-webhook":
                gate.act(ctx, "webhook.enable", name, lambda session: webhook_delivery.enable_in(session, name))
                return back("/admin/apikeys", "webhook-enabled")
            if action == "revoke":
                gate.act(ctx, "apikey.revoke", name, lambda session: keys.revoke_key(session, name, gate.now()))
                return back("/admin/apikeys", "apikey-revoked")
        except keys.ApiKeyError as exc:
            return listing(ctx, 400, str(exc))
        return listing(ctx, 400, "That is not an action on this page.")

    gate.route("/admin/apikeys", listing, admin=True)
    gate.route("/admin/apikeys", change, methods=("POST",), admin=True)

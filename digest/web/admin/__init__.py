"""The operator's console at /admin: takes an operator's requests (after login), gives server-rendered pages
and acts through the flows and the subscribers package; every action is in the audit log.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from digest.web.admin import apikeys, dashboard, issues, login, nextissue, operators, readers, review, stories
from digest.web.admin.gate import Ctx, Gate


def console_routes(settings, sessions, env, now, client_ip, runtime) -> list[Route]:
    """Every /admin route; `runtime` (a flows.runtime.Runtime) previews, test-sends and sends."""
    gate = Gate(settings, sessions, env, now, client_ip)
    login.register_logout(gate)
    dashboard.register(gate)
    sender = issues.Sender(runtime)
    issues.register(gate, sender)
    nextissue.register(gate, runtime, sender)
    readers.register(gate)
    review.register(gate, runtime, sender)
    stories.register(gate, runtime)
    operators.register(gate)
    apikeys.register(gate)

    def unknown(ctx: Ctx) -> Response:  # still behind the gate: no session, no hint of what exists
        return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such page.")

    gate.route("/admin/{rest:path}", unknown, methods=("GET", "POST"))
    return login.login_routes(gate) + gate.routes

"""The second step before a mass send: a page that names the newsletter and the number of readers.

The console runs no script, so no browser dialog: the first POST shows this
page, and only a POST carrying the count the operator saw sends. If the
audience changed in between, the page comes again with the new count.
"""

from __future__ import annotations

from starlette.responses import Response

from digest.web.admin.gate import Ctx, Gate


def unless_confirmed(gate: Gate, ctx: Ctx, readers: int, *, what: str, action: str, back_url: str
                     ) -> Response | None:
    """None when this POST confirmed `readers`; else the page asking for it."""
    if str(ctx.form.get("confirm", "")) == str(readers):
        return None
    plural = "" if readers == 1 else "s"
    return gate.page(ctx, "confirm_send.html", title="Send now?", readers=readers, changed=bool(ctx.form.get("confirm")),
                     action=action, back_url=back_url,
                     what=f"{what} goes to {readers} confirmed reader{plural} now, and cannot be called back.")

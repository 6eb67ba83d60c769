"""/api/v1/webhooks: the newsroom registers, changes and removes its own endpoints (scope webhooks:manage), and
sees every endpoint, those of config.toml included (which only config.toml changes). A registered endpoint is
delivered by the same code as a configured one (flows.webhook_delivery); its URL passes the webhooks' fetch
policy when it is registered; its secret is shown once, in the answer that made it."""

from __future__ import annotations

from digest.flows import webhook_delivery, webhook_endpoints
from digest.flows.webhook_endpoints import EndpointError
from digest.settings import WEBHOOK_EVENTS
from digest.web.api.spec import Endpoint, Param

SCOPE = "webhooks:manage"
STATUS = {"bad": 400, "conflict": 409, "missing": 404}
EVENTS = {"type": "array", "items": {"enum": list(WEBHOOK_EVENTS)}, "minItems": 1, "maxItems": len(WEBHOOK_EVENTS)}
HOOK = {"type": "object", "required": ["name", "url", "events", "source", "queued", "delivered", "failed"],
        "properties": {
            "name": {"type": "string"}, "url": {"type": "string"}, "events": {"type": "array"},
            "source": {"enum": ["config", "api"]}, "created_by": {"type": ["string", "null"]},
            "queued": {"type": "integer"}, "delivered": {"type": "integer"}, "failed": {"type": "integer"},
            "failures_in_a_row": {"type": "integer"}, "disabled_at": {"type": ["string", "null"]},
            "last_error": {"type": "string"}, "secret": {"type": "string"}}}


def webhook_endpoints_api(settings, now, problem_type, iso) -> list[Endpoint]:
    def shown(session, name: str) -> dict:
        found = webhook_delivery.describe(session, settings, only=name)
        if not found:
            raise problem_type(404, "Not found", f"no endpoint named {name!r}")
        return {**found[0], "disabled_at": iso(found[0]["disabled_at"])}

    def name_of(request) -> str:
        return request.path_params["name"][:64]

    def doing(action):
        try:
            return action()
        except EndpointError as exc:
            raise problem_type(STATUS[exc.kind], "Not done", str(exc)) from None

    def list_hooks(caller, request, session, body):
        return {"data": [{**e, "disabled_at": iso(e["disabled_at"])}
                         for e in webhook_delivery.describe(session, settings)]}

    def create(caller, request, session, body):
        events, secret = body.get("events"), body.get("secret")
        if events is not None and not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
            raise problem_type(400, "Bad events", f"a list of some of {', '.join(WEBHOOK_EVENTS)}")
        if secret is not None and not isinstance(secret, str):
            raise problem_type(400, "Bad secret", "whsec_ and base64, or leave it out to have one made")
        row, secret = doing(lambda: webhook_endpoints.create(
            session, settings, str(body.get("name", "")), str(body.get("url", "")), events, secret, caller.who,
            now()))
        return {**shown(session, row.name), "secret": secret}

    def get(caller, request, session, body):
        return shown(session, name_of(request))

    def change(caller, request, session, body):
        events = body.get("events")
        if not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
            raise problem_type(400, "Bad events", f"a list of some of {', '.join(WEBHOOK_EVENTS)}")
        row = doing(lambda: webhook_endpoints.set_events(session, settings, name_of(request), events))
        return shown(session, row.name)

    def remove(caller, request, session, body):
        name = name_of(request)
        doing(lambda: webhook_endpoints.remove(session, settings, name))
        return {"name": name, "removed": True}

    def enable(caller, request, session, body):
        name = name_of(request)
        described = shown(session, name)
        return {**described, "enabled": webhook_delivery.enable_in(session, name), "disabled_at": None,
                "failures_in_a_row": 0}

    name = (Param("name", "path", {"type": "string", "maxLength": 64}),)
    errors = (400, 401, 403, 404, 409, 429)
    return [
        Endpoint("GET", "/api/v1/webhooks", SCOPE, "Every webhook endpoint, configured or registered, with its "
                 "deliveries", list_hooks, response={"type": "object", "required": ["data"], "properties": {
                     "data": {"type": "array", "items": HOOK}}}),
        Endpoint("POST", "/api/v1/webhooks", SCOPE,
                 "Register an endpoint: its URL must pass the webhooks' fetch policy; the signing secret is made "
                 "and shown once in the answer unless given", create,
                 body={"type": "object", "required": ["name", "url"], "properties": {
                     "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"},
                     "url": {"type": "string", "maxLength": webhook_endpoints.MAX_URL},
                     "events": EVENTS, "secret": {"type": "string", "maxLength": 200}}},
                 response=HOOK, status=201, errors=errors),
        Endpoint("GET", "/api/v1/webhooks/{name}", SCOPE, "One endpoint and its deliveries", get, name,
                 response=HOOK),
        Endpoint("PATCH", "/api/v1/webhooks/{name}", SCOPE, "Change the events a registered endpoint receives",
                 change, name, body={"type": "object", "required": ["events"], "properties": {"events": EVENTS}},
                 response=HOOK, errors=errors),
        Endpoint("DELETE", "/api/v1/webhooks/{name}", SCOPE,
                 "Remove a registered endpoint (what it was still owed is dropped)", remove, name,
                 response={"type": "object", "required": ["name", "removed"], "properties": {
                     "name": {"type": "string"}, "removed": {"type": "boolean"}}}, errors=errors),
        Endpoint("POST", "/api/v1/webhooks/{name}/enable", SCOPE,
                 "Turn an endpoint disabled for failing back on (its queued events go out again)", enable, name,
                 response=HOOK, errors=errors),
    ]

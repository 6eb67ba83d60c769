"""The API described once: each endpoint's path, method, scope, parameters and schemas, from which both the
routes and the OpenAPI 3.1 document are made (the document cannot drift from the code), and RFC 9457 errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import JSONResponse

PROBLEM = {"type": "object", "required": ["type", "title", "status"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}}}


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path or query
    schema: dict
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scope: str | None  # None: no key needed (the document itself)
    summary: str
    handler: Callable
    params: tuple[Param, ...] = ()
    body: dict | None = None  # JSON schema of the request body
    response: dict = field(default_factory=lambda: {"type": "object"})
    status: int = 200
    errors: tuple[int, ...] = (400, 401, 403, 404, 429)
    # The handler opens its own transactions (a draft, a send): called after the key's check has committed,
    # with no session, since SQLite would make an inner writer wait on the outer one.
    separate: bool = False


def problem(status: int, title: str, detail: str = "", headers: dict | None = None) -> JSONResponse:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, **({"detail": detail} if detail else {})}
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def page_of(item: dict) -> dict:
    """A page of a list: the items and the cursor of the next page (null on the last)."""
    return {"type": "object", "required": ["data", "next_cursor"], "properties": {
        "data": {"type": "array", "items": item}, "next_cursor": {"type": ["string", "null"]}}}


CURSOR = (Param("cursor", "query", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
                "next_cursor of the previous page"),
          Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 200, "default": 100}))


EVENT = {"type": "object", "required": ["type", "timestamp", "data"], "properties": {
    "type": {"type": "string"}, "timestamp": {"type": "string", "format": "date-time"}, "data": {"type": "object"}}}
SIGNED = [{"name": n, "in": "header", "required": True, "schema": {"type": "string"}} for n in (
    "webhook-id", "webhook-timestamp", "webhook-signature")]


def openapi(endpoints: list[Endpoint], title: str, base_url: str, events: tuple[str, ...] = ()) -> dict:
    """The document; `events` are described under OpenAPI 3.1's `webhooks`: what we POST to an endpoint."""
    paths: dict[str, dict] = {}
    for e in endpoints:
        operation: dict = {"summary": e.summary, "operationId": f"{e.method.lower()}{_camel(e.path)}",
                           "parameters": [{"name": p.name, "in": p.where, "required": p.required or p.where == "path",
                                           "schema": p.schema, **({"description": p.description} if p.description
                                                                  else {})} for p in e.params],
                           "responses": {str(e.status): {"description": "OK", "content": {
                               "application/json": {"schema": e.response}}}}}
        for status in e.errors if e.scope else ():
            operation["responses"][str(status)] = {"description": "Problem", "content": {
                "application/problem+json": {"schema": PROBLEM}}}
        if e.scope:
            operation["security"] = [{"key": []}]
            operation["description"] = f"Needs a key with the scope `{e.scope}`."
        if e.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": e.body}}}
        paths.setdefault(e.path, {})[e.method.lower()] = operation
    webhooks = {kind: {"post": {
        "summary": f"{kind}, signed as Standard Webhooks says (verify with its library; dedupe by webhook-id)",
        "operationId": f"event{_camel('/a/b/' + kind.replace('.', '/').replace('_', '/'))}", "parameters": SIGNED,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            **EVENT, "properties": {**EVENT["properties"], "type": {"const": kind}}}}}},
        "responses": {"2XX": {"description": "Received; anything else is retried with backoff"}}}}
        for kind in events}
    return {"openapi": "3.1.0", "info": {"title": f"{title} API", "version": "1"},
            "servers": [{"url": base_url.rstrip("/")}], "paths": paths, **({"webhooks": webhooks} if webhooks else {}),
            "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer",
                                                       "description": "A key from `digest apikeys add`"}}}}


def _camel(path: str) -> str:
    parts = [p.strip("{}") for p in path.split("/")[3:] if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def docs_page(document: dict) -> str:
    """/api/v1/docs: every endpoint of the document, for a person (the document itself is for machines)."""
    from html import escape

    title = escape(document["info"]["title"])
    kinds = "".join(f"<li><code>{escape(kind)}</code></li>" for kind in document.get("webhooks", {}))
    events = (f"<h2>Webhook events</h2><p>POSTed to each endpoint that wants them (<code>[[webhooks]]</code> in the "
              "config, or <code>POST /api/v1/webhooks</code>), signed as Standard Webhooks says: verify each with "
              f"its library and dedupe by <code>webhook-id</code>.</p><ul>{kinds}</ul>") if kinds else ""
    rows = "".join(f"<tr><td>{escape(method.upper())}</td><td><code>{escape(path)}</code></td>"
                   f"<td>{escape(op['summary'])}</td><td>{escape(op.get('description', ''))}</td></tr>"
                   for path, ops in document["paths"].items() for method, op in ops.items())
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>"
            f"<main><h1>{title}</h1><p>Send <code>Authorization: Bearer &lt;key&gt;</code> (keys: "
            "<code>digest apikeys add</code>). Errors are RFC 9457 problem documents; lists are paged with "
            "<code>next_cursor</code>. The machine-readable description: "
            "<a href=\"/api/v1/openapi.json\">openapi.json</a>.</p><table><thead><tr><th scope=\"col\">Method</th>"
            "<th scope=\"col\">Path</th><th scope=\"col\">What</th><th scope=\"col\">Key</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{events}</main></body></html>")

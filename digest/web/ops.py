"""Operator endpoints: /healthz (liveness), /status (scheduler and issues, JSON), /metrics (Prometheus).

Served by the web app, and by `digest run` on its own port when it runs
without --web. `status` is a callable so the daemon can report its role and
next fire times; a web process without a scheduler reports from the database.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


def ops_routes(status: Callable[[], dict], allowed_ips: tuple[str, ...],
               client_ip: Callable[[Request], str]) -> list[Route]:
    """/status and /metrics tell a lot about the list: only `allowed_ips` may read them (guards.ClientAddress)."""

    def allowed(request: Request) -> bool:
        return client_ip(request) in allowed_ips

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def status_route(request: Request) -> Response:
        if not allowed(request):
            return PlainTextResponse("Forbidden", status_code=403)
        return JSONResponse(await run_in_threadpool(status))

    async def metrics(request: Request) -> Response:
        if not allowed(request):
            return PlainTextResponse("Forbidden", status_code=403)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/healthz", healthz), Route("/status", status_route), Route("/metrics", metrics)]

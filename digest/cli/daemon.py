"""`digest run`: the scheduler daemon (and, with --web, the web app in the same process).

SIGTERM/SIGINT: stop taking new work, let the send in flight finish its
messages, exit 0. SIGHUP: reload config.toml (a broken edit is logged and the
old settings stay).
"""

from __future__ import annotations

import logging
import signal
import threading

import click

from digest.flows.runtime import Runtime, secret_key
from digest.render.dkim import signer_for
from digest.cli.context import Context, pass_context
from digest.cli.inbound import make_server
from digest.config import load_settings
from digest.errors import DigestError

log = logging.getLogger("digest.daemon")


@click.command()
@click.option("--web", is_flag=True, help="Also serve the web app (signup, confirm, unsubscribe, issues) on web.port.")
@pass_context
def run(ctx: Context, web: bool) -> None:
    """Run the scheduler: each newsletter on its own cron, gathering in between; one leader per database."""
    import uvicorn

    from digest.daemon.schedule import Daemon
    from digest.web.app import create_app
    from digest.web.guards import RedactTokens

    def load_runtime() -> Runtime:
        return Runtime.create(load_settings(ctx.config_path))

    stop = threading.Event()
    daemon = Daemon(load_runtime, stop)
    secret_key(daemon.rt)  # fail now, not at the first slot
    signer_for(daemon.rt.settings.dkim)  # a bad DKIM key too
    rt = daemon.rt

    def on_stop(signum, _frame) -> None:
        log.info("%s received: finishing the work in flight, then exiting", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, lambda *_: daemon.reload_requested.set())

    settings = rt.settings

    def build(runtime: Runtime):
        return create_app(runtime.settings, runtime.sessions, runtime.transport_factory, now=runtime.now,
                          status=daemon.status, reader_pages=web)

    app = Swappable(build(rt))
    # SIGHUP reloads the pages too (a new newsletter's signup box); host and port need a restart.
    daemon.on_reload = lambda runtime: app.swap(build(runtime))
    port = settings.web.port if web else settings.schedule.status_port
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    server = uvicorn.Server(uvicorn.Config(app, host=settings.web.host, port=port, log_level="warning",
                                           proxy_headers=False))  # web.trusted_proxies decides, not uvicorn
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    log.info("daemon started; %s on http://%s:%d", "web app" if web else "/healthz /status /metrics",
             settings.web.host, port)
    inbound = None
    if settings.bounces.in_daemon:  # bounces.in_daemon: one process also takes the mail coming back
        inbound = make_server(rt)
        try:
            inbound.start()
        except (OSError, RuntimeError) as exc:
            server.should_exit = True
            raise DigestError(f"cannot listen for bounces on {inbound.hostname}:{inbound.port}: {exc}") from exc
        log.info("taking bounces and complaints on smtp://%s:%d", inbound.hostname, inbound.port)
    try:
        daemon.run()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if inbound is not None:
            inbound.stop()
    log.info("daemon stopped")


class Swappable:
    """The ASGI app uvicorn serves, replaceable while it runs: each request goes to the current one."""

    def __init__(self, app) -> None:
        self.app = app

    def swap(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)

"""`digest demo`: the whole job on bundled sample data, with no network and no setup.

It uses the bundled config and feeds (short articles we wrote ourselves), a
fresh SQLite file, one demo reader who consented, and a real SMTP server
(aiosmtpd) on 127.0.0.1 that writes what it receives to .eml files. The
messages go through the same pipeline and SMTP transport as production.

With --analytics the links are counted (analytics.clicks) and the real web
app (`digest serve`, in its own process on 127.0.0.1) is sent what follows
a real send: a scanner-like burst seconds after delivery (HEAD, then every
link of the message within a second, the hidden one too) and, half a minute
later, a reader opening two stories. The half minute is not waited for: the
demo stops the web app (which writes the scanner's clicks), dates the
delivery and those clicks LATER seconds earlier, and starts it again for the
reader, who so comes LATER seconds after delivery by the same clock the
rules read. The demo then prints, per story, people (estimated) beside all
requests, as `digest stats` and the console do.
"""

from __future__ import annotations

import email
import email.policy
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from digest.analytics.figures import HOW, issue_figures
from digest.flows import sending
from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.models import Delivery
from digest.models_clicks import Click, ClickLink
from subscribers import Origin, add_subscriber

DEMO_DATA = Path(__file__).parent / "demo_data"
DEMO_READER = "reader@example.com"


class SaveToFolder:
    """aiosmtpd handler: every accepted message becomes one .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.saved: list[Path] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        path = self.folder / f"received-{len(self.saved) + 1}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        self.saved.append(path)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_demo(folder: Path, analytics: bool = False) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("received-*.eml"), *folder.glob("demo.db*"), *folder.glob("*.html")]:
        stale.unlink()
    handler = SaveToFolder(folder)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = load_settings(DEMO_DATA / "config.toml", environ=os.environ)
        settings = replace(
            settings,
            storage=replace(settings.storage, url=f"sqlite:///{(folder / 'demo.db').resolve()}"),
            site=replace(settings.site, secret_key=settings.site.secret_key or secrets.token_urlsafe(32)),
            delivery=replace(settings.delivery, transport="smtp",
                             smtp=replace(settings.delivery.smtp, host="127.0.0.1", port=controller.port)),
            analytics=replace(settings.analytics, clicks=analytics),
        )
        rt = Runtime.create(settings)
        with rt.sessions() as session, session.begin():
            for newsletter in settings.newsletters:
                add_subscriber(session, DEMO_READER, newsletter.slug, confirmed=True, origin=Origin("demo"))
        lines = [f"SMTP server listening on 127.0.0.1:{controller.port}; demo reader {DEMO_READER}"]
        for newsletter in settings.newsletters:
            outcome = sending.send_newsletter(rt, newsletter.slug)
            for report in outcome.reports:
                lines.append(f"{newsletter.slug}: issue {report.issue_id}, {report.sent} sent, "
                             f"{report.failed} failed")
    finally:
        controller.stop()
    for path in handler.saved:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html_path = path.with_suffix(".html")
        html_path.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
        lines.append(f"received {message['Subject']!r}")
        lines.append(f"  message: {path.resolve()}")
        lines.append(f"  HTML preview: {html_path.resolve()}")
    if not handler.saved:
        lines.append("no message was received")
    elif analytics:
        lines += clicks_demo(folder, settings, rt, handler.saved[0])
    return lines


SCANNER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
READER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
LATER = 31.0  # the early rule (analytics.classify.EARLY_SECONDS) counts the first 30 s after delivery as machines


def clicks_demo(folder: Path, settings, rt: Runtime, received: Path) -> list[str]:
    """The received message's counted links followed through `digest serve` as a scanner and then a person
    would, and the figures an editor sees."""
    started = time.time()
    body = email.message_from_bytes(received.read_bytes(), policy=email.policy.default).get_body(("html",))
    base = settings.site.base_url.rstrip("/")
    paths = list(dict.fromkeys(re.findall(re.escape(base) + r"(/r/[A-Za-z0-9_.-]+)", body.get_content())))
    config = folder / "demo-config.toml"  # what `digest serve` and `digest stats` read: the demo's own settings
    config.write_text((DEMO_DATA / "config.toml").read_text().replace(
        'url = "sqlite:///demo.db"', f'url = "sqlite:///{(folder / "demo.db").resolve()}"')
        + "\n[analytics]\nclicks = true\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, settings.site.secret_key_env: settings.site.secret_key}
    with rt.sessions() as session:
        latest = session.scalar(select(func.max(ClickLink.issue_id)))
    lines = [f"web app (digest serve) on 127.0.0.1:{port}; {len(paths)} counted links in the message"]
    with _serving(config, port, env, folder / "serve.log"):
        scanner = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for method in ("HEAD", "GET"):  # a mail scanner: every link of the message within a second
            for path in paths:
                scanner.request(method, path, headers={"User-Agent": SCANNER})
                scanner.getresponse().read()
        lines.append(f"a scanner followed every link ({2 * len(paths)} requests) "
                     f"{time.time() - started:.1f} s after delivery")
    # The web app has stopped and written the scanner's clicks. Instead of waiting half a minute, move the
    # past back: the delivery and those clicks are dated LATER seconds earlier, as if sent that long ago.
    earlier = timedelta(seconds=LATER)
    with rt.sessions() as session, session.begin():
        for delivery in session.scalars(select(Delivery).where(Delivery.issue_id == latest,
                                                               Delivery.sent_at.is_not(None))):
            delivery.sent_at -= earlier
        for click in session.scalars(select(Click).where(Click.issue_id == latest)):
            click.at -= earlier
    lines.append(f"{LATER:.0f} s after delivery (the demo dates the delivery and the scanner's clicks "
                 f"{LATER:.0f} s earlier instead of waiting), a reader opens the message...")
    with _serving(config, free_port(), env, folder / "serve.log", append=True) as port:
        reader = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in paths[1:3]:  # two stories
            reader.request("GET", path, headers={"User-Agent": READER})
            answer = reader.getresponse()
            answer.read()
            lines.append(f"a reader opened {answer.getheader('Location')} ({answer.status})")
    with rt.sessions() as session:
        figures = issue_figures(session, [latest])[latest]
    lines.append(f"which stories were clicked: people (estimated) / all requests; total {figures.people} / "
                 f"{figures.requests}")
    for link in figures.links:
        lines.append(f"  {link.people:>3} / {link.requests:<3} {link.title}")
    lines.append(f"machines by rule: {dict(figures.machines)}")
    lines.append(HOW)
    lines.append(f"the same from the command line: digest --config {config} stats")
    return lines


@contextmanager
def _serving(config: Path, port: int, env: dict[str, str], log: Path, append: bool = False):
    """`digest serve` on 127.0.0.1:port for the block; stopped with SIGTERM, on which it writes every queued
    click before it exits."""
    with open(log, "a" if append else "w") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "digest", "--config", str(config), "serve", "--host",
                                   "127.0.0.1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=stderr)
        try:
            _wait_for(port, server)
            yield port
        finally:
            server.send_signal(signal.SIGTERM)  # the web app writes every queued click as it stops
            server.wait(60)


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"digest serve did not start on 127.0.0.1:{port} (see serve.log)")

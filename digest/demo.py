"""`digest demo`: the whole job on bundled sample data, with no network and no setup.

It uses the bundled config and feeds (short articles we wrote ourselves), a
fresh SQLite file, one demo reader who consented, and a real SMTP server
(aiosmtpd) on 127.0.0.1 that writes what it receives to .eml files. The
messages go through the same pipeline and SMTP transport as production.
"""

from __future__ import annotations

import email
import email.policy
import os
import secrets
import socket
from dataclasses import replace
from pathlib import Path

from aiosmtpd.controller import Controller

from digest.flows import sending
from digest.flows.runtime import Runtime
from digest.config import load_settings
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


def run_demo(folder: Path) -> list[str]:
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
    return lines

"""Real servers on 127.0.0.1 and real files: an aiosmtpd SMTP server, an HTTP feed server, SQLite."""

from __future__ import annotations

import email
import email.policy
import os
import secrets
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
SECRET = "test-secret-key-not-for-production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TcpServer:
    """A raw TCP server on 127.0.0.1 for misbehaving peers aiosmtpd cannot play (a relay that stalls mid-reply,
    a front that refuses connections): `handle` gets each accepted connection on the accepting thread."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            try:
                conn.close()
            except OSError:
                pass


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class RecordingHandler:
    """Records every accepted message, with fault injection.

    `replies` maps a recipient to a forced RCPT reply: a string (always) or a
    list (one per attempt, then accepted). `mail_reply` refuses every MAIL FROM
    with that reply. `drop_every` closes the connection instead of accepting
    every Nth message (the client sees it dropped).
    """

    messages: list[Received] = field(default_factory=list)
    replies: dict[str, str | list[str]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    drop_every: int = 0
    dropped: int = 0
    save_to: Path | None = None
    peers: set = field(default_factory=set)  # the client connections that delivered a message
    mail_reply: str = ""
    # Hold every message at DATA until this many client connections have one there (several senders up: a
    # sender that started first cannot send everything before the others have started, however loaded the machine).
    hold_until_peers: int = 0
    holding: set = field(default_factory=set)
    gate: object = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.attempts[address] = self.attempts.get(address, 0) + 1
        reply = self.replies.get(address)
        if isinstance(reply, list) and reply:
            return reply.pop(0)
        if isinstance(reply, str):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        if self.hold_until_peers:
            self.holding.add(session.peer)
            self.gate = self.gate or asyncio.Event()
            if len(self.holding) >= self.hold_until_peers:
                self.gate.set()
            try:
                await asyncio.wait_for(self.gate.wait(), 60)
            except asyncio.TimeoutError:
                pass  # the test's assertions tell what did not come
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.drop_every and (len(self.messages) + self.dropped + 1) % self.drop_every == 0:
            self.dropped += 1
            server.transport.close()
            return "421 4.4.2 connection dropped by the test server"
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        self.peers.add(session.peer)
        self.messages.append(received)
        if self.save_to is not None:
            (self.save_to / f"{len(self.messages):04d}.eml").write_bytes(received.data)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


class FeedServer:
    """Serves `routes` (path -> (status, headers, body)) on 127.0.0.1 and logs requests."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests.append((self.path, dict(self.headers)))
                if server.delay:
                    time.sleep(server.delay)
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                if status == 200 and headers.get("ETag") and self.headers.get("If-None-Match") == headers["ETag"]:
                    status, body = 304, b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def feed_server():
    server = FeedServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def write_config(folder: Path, *, sources: str, smtp_port: int = 25, transport: str = "smtp",
                 extra_newsletter: str = "", gather: str = "", delivery: str = "") -> Path:
    """A config.toml for tests; `sources` is TOML for the [[newsletters.sources]] tables.

    Article pages are not fetched unless a test asks (`max_pages_per_source`):
    feed links point at example.org, and tests talk only to 127.0.0.1.
    """
    pages = "" if "max_pages_per_source" in gather else "max_pages_per_source = 0"
    # One sender process unless a test asks for more (tests/test_processes.py does): a fork server and its
    # senders cost each `digest send` about a second, and the suite sends hundreds of times.
    processes = "" if "processes" in delivery else "processes = 1"
    text = textwrap.dedent(f"""\
        [site]
        name = "Test Gazette"
        base_url = "https://gazette.example.org"
        postal_address = "1 Test Road, Testville"
        unsubscribe_mailbox = "unsubscribe@gazette.example.org"

        [storage]
        url = "sqlite:///digest.db"

        [delivery]
        transport = "{transport}"
        outbox_dir = "outbox"
        retry_base_seconds = 0.05
        {processes}
        {delivery}

        [delivery.smtp]
        host = "127.0.0.1"
        port = {smtp_port}
        timeout = 5.0

        [gather]
        timeout = 2.0
        first_run_max_items = 50
        first_run_max_age_days = 0
        {pages}
        {gather}

        [[newsletters]]
        slug = "daily"
        title = "Gazette Daily"
        description = "Test digest."
        from_address = "Gazette Daily <daily@gazette.example.org>"
        summary_sentences = 2
        {extra_newsletter}
        """) + textwrap.dedent(sources)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _cli(args, config: Path | None, env: dict[str, str] | None):
    command = [sys.executable, "-m", "digest", *(["--config", str(config)] if config is not None else []), *args]
    return command, {**os.environ, "DIGEST_SECRET_KEY": SECRET, **(env or {})}


def run_cli(*args: str, config: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the real `digest` command in a subprocess, as a user would."""
    command, full_env = _cli(args, config, env)
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=timeout,
                          cwd=config.parent if config else None)


def import_readers(config: Path, csv_name: str = "readers.csv", newsletter: str = "daily"):
    """Setup for tests about something else: what `digest subscribers import CSV -n NEWSLETTER --consent-obtained`
    does (the same Runtime.create and import_csv), in this process: a `digest` process costs about a second of
    CPU, and dozens of tests start with it. The command itself is tested in tests/test_subscribers.py."""
    from datetime import timedelta

    from digest.config import load_settings
    from digest.flows.runtime import Runtime
    from subscribers.io import import_csv

    rt = Runtime.create(load_settings(config, environ={**os.environ, "DIGEST_SECRET_KEY": SECRET}))
    try:
        rt.settings.newsletter(newsletter)
        text = (config.parent / csv_name).read_text(encoding="utf-8-sig")
        with rt.sessions() as session, session.begin():
            report = import_csv(session, text, newsletter, source=csv_name, consent_obtained=True, now=rt.now(),
                                ttl=timedelta(hours=rt.settings.web.token_ttl_hours))
    finally:
        rt.sessions.kw["bind"].dispose()
    assert not report.errors and not report.confirmations, report
    return report


def start_cli(*args: str, config: Path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) -> subprocess.Popen:
    """The real `digest` command in the background (a send to interrupt, a daemon, a worker)."""
    command, full_env = _cli(args, config, None)
    return subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, env=full_env)


@contextmanager
def serving(app, port: int):
    """A Starlette app under a real uvicorn on 127.0.0.1:port, for the browser tests."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Clock:
    """A settable `now` for a Runtime or the web app: a test moves time instead of waiting for it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def wait_until(predicate, seconds: float = 20.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def copy_feed(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copy(DATA / name, target)
    return target


ADMIN_URL = os.environ.get("DIGEST_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test (the server is shared by everything on the machine)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    try:
        admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = f"digest_test_{secrets.token_hex(5)}"
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):  # .ci/run makes PostgreSQL present: in CI its absence is a failure
            pytest.fail(f"no PostgreSQL at {ADMIN_URL} in CI: {exc.orig}")
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}: {exc.orig}")
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postfix_relay():
    """A real Postfix on 127.0.0.1 relaying remote.example.net to an aiosmtpd "remote" server (`.remote`, a
    RecordingHandler whose `replies` a test sets) and bounce.example.net to `digest inbound` on `.inbound_port`."""
    import tempfile

    import postfix_relay as relay_module

    reason = relay_module.why_unavailable()
    if reason:
        pytest.skip(reason)
    remote = RecordingHandler()
    controller = Controller(remote, hostname="127.0.0.1", port=free_port())
    controller.start()
    directory = Path(tempfile.mkdtemp(prefix="digest-postfix-", dir="/tmp"))
    relay = relay_module.start(directory, free_port(), controller.port, free_port())
    relay.remote = remote
    try:
        yield relay
    finally:
        relay_module.stop(relay)
        controller.stop()
        shutil.rmtree(directory, ignore_errors=True)

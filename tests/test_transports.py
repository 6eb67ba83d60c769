"""The transport contract against a real SMTP server and a real folder."""

from __future__ import annotations

import io
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from conftest import RecordingHandler, TcpServer, free_port

from digest.settings import SmtpSettings
from digest.errors import (
    PermanentDeliveryError,
    TemporaryDeliveryError,
    TransportUnavailable,
)
from digest.deliver.transports import ConsoleTransport, FileTransport, SmtpTransport

MESSAGE = b"From: a@example.org\r\nTo: b@example.com\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n"


def test_smtp_sends_over_one_connection_and_translates_replies(smtp_server):
    smtp_server.replies = {"soft@example.com": "451 4.7.1 greylisted", "hard@example.com": "550 5.1.1 unknown"}
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=smtp_server.port, timeout=5))
    transport.open()
    try:
        transport.send("a@example.org", "b@example.com", MESSAGE)
        with pytest.raises(TemporaryDeliveryError, match="451 4.7.1 greylisted"):
            transport.send("a@example.org", "soft@example.com", MESSAGE)
        with pytest.raises(PermanentDeliveryError, match="550 5.1.1 unknown"):
            transport.send("a@example.org", "hard@example.com", MESSAGE)
        transport.send("a@example.org", "c@example.com", MESSAGE)
    finally:
        transport.close()
    assert [m.rcpt_tos for m in smtp_server.messages] == [["b@example.com"], ["c@example.com"]]
    assert smtp_server.messages[0].data == MESSAGE  # dot-stuffing undone by the server: bytes intact


def test_smtp_reconnects_after_the_server_drops_the_connection(smtp_server):
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=smtp_server.port, timeout=5))
    transport.open()
    transport.send("a@example.org", "b@example.com", MESSAGE)
    transport.connection.sock.close()  # the server's side sees the connection go away
    transport.send("a@example.org", "c@example.com", MESSAGE)
    transport.close()
    assert len(smtp_server.messages) == 2


class ScriptedRelay(TcpServer):
    """A "relay" that greets, answers EHLO with PIPELINING, then does what `script` does with the connection
    (aiosmtpd cannot be told to stall in the middle of a reply)."""

    def __init__(self, script) -> None:
        self.script = script
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        conn.sendall(b"220 relay.example ESMTP\r\n")
        if read_until(conn, b"\r\n"):
            conn.sendall(b"250-relay.example\r\n250 PIPELINING\r\n")
            self.script(conn)


def read_until(conn: socket.socket, marker: bytes) -> bool:
    buffer = b""
    while marker not in buffer.lower():
        chunk = conn.recv(65536)
        if not chunk:
            return False
        buffer += chunk
    return True


def test_smtp_server_that_stops_answering_times_out_and_the_message_stays_queued():
    """Plain TCP connections wait in the kernel (SO_RCVTIMEO), not in Python's poll: the timeout must still hold,
    both for the first attempt and for the one reconnection `send` makes."""
    relay = ScriptedRelay(lambda conn: None)  # reads nothing more, answers nothing more
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=relay.port, timeout=0.5))
    try:
        transport.open()
        started = time.monotonic()
        with pytest.raises(TemporaryDeliveryError, match="b@example.com"):
            transport.send("a@example.org", "b@example.com", MESSAGE)
        took = time.monotonic() - started
    finally:
        transport.close()
        relay.close()
    assert 0.9 <= took < 10, took  # two attempts of 0.5 s each, not a hang
    assert len(relay.held) == 2  # the reconnection was made


def test_a_reply_cut_by_a_stall_is_a_lost_connection_never_a_reply_code():
    """The server takes the message, sends "25" of "250 ok" and stalls past the timeout. The kernel timeout
    hands the reader the two characters it has: they must not be read as reply code 25 (a permanent
    failure), and the rest of the line, when it comes, must not become the next command's reply."""

    def cut_reply(conn):
        if read_until(conn, b"data\r\n"):
            conn.sendall(b"250 ok\r\n250 ok\r\n354 go\r\n")
            if read_until(conn, b"\r\n.\r\n"):
                conn.sendall(b"25")  # and nothing more until the client gives up

    relay = ScriptedRelay(cut_reply)
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=relay.port, timeout=0.5))
    try:
        transport.open()
        with pytest.raises(TemporaryDeliveryError, match="b@example.com"):
            transport.send("a@example.org", "b@example.com", MESSAGE)
    finally:
        transport.close()
        relay.close()


def test_a_reply_that_never_ends_is_a_lost_connection():
    """A relay answering DATA's end with continuation lines forever: the reader stops at MAX_REPLY_LINES."""
    from digest.deliver.transports.smtp import MAX_REPLY_LINES

    def endless(conn):
        if read_until(conn, b"data\r\n"):
            conn.sendall(b"250 ok\r\n250 ok\r\n354 go\r\n")
            if read_until(conn, b"\r\n.\r\n"):
                try:
                    conn.sendall(b"250-more\r\n" * (MAX_REPLY_LINES * 10))
                except OSError:  # the client hung up, as it should
                    pass

    relay = ScriptedRelay(endless)
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=relay.port, timeout=5))
    try:
        transport.open()
        with pytest.raises(TemporaryDeliveryError, match=f"more than {MAX_REPLY_LINES} lines"):
            transport.send("a@example.org", "b@example.com", MESSAGE)
    finally:
        transport.close()
        relay.close()


def test_smtp_unreachable_server_and_missing_password():
    dead = SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))
    with pytest.raises(TransportUnavailable, match="cannot connect to SMTP server 127.0.0.1"):
        dead.open()
    no_password = SmtpTransport(SmtpSettings(host="127.0.0.1", port=25, user="me", password=None))
    with pytest.raises(TransportUnavailable, match="DIGEST_SMTP_PASSWORD"):
        no_password.open()


def test_file_transport_writes_one_eml_per_message(tmp_path):
    transport = FileTransport(tmp_path / "outbox")
    transport.open()
    transport.send("a@example.org", "b@example.com", MESSAGE)
    transport.send("a@example.org", "c/../@example.com", MESSAGE)
    transport.close()
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" and f.read_bytes() == MESSAGE for f in files)
    assert all(f.parent == tmp_path / "outbox" for f in files)


def test_console_transport_prints_the_message():
    stream = io.StringIO()
    transport = ConsoleTransport(stream)
    transport.send("a@example.org", "b@example.com", MESSAGE)
    assert "to b@example.com" in stream.getvalue() and "Subject: hi" in stream.getvalue()


class PipeliningServer(RecordingHandler):
    """aiosmtpd reads commands in order from its stream; this one also says so in its EHLO reply."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


@pytest.mark.parametrize("pipelining", [True, False])
def test_smtp_pipelines_mail_rcpt_data_where_offered(pipelining):
    handler = PipeliningServer() if pipelining else RecordingHandler()
    handler.replies = {"soft@example.com": "451 4.7.1 greylisted", "hard@example.com": "550 5.1.1 unknown",
                       "closing@example.com": "421 4.3.2 shutting down"}
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=controller.port, timeout=5))
    writes = []
    try:
        transport.open()
        transport.connection.ehlo()
        assert transport.connection.has_extn("pipelining") is pipelining
        real_send = transport.connection.send
        transport.connection.send = lambda data: (writes.append(data), real_send(data))[1]
        transport.send("a@example.org", "b@example.com", MESSAGE)
        assert len(writes) == (2 if pipelining else 4)  # commands in one write, then the message
        with pytest.raises(TemporaryDeliveryError, match="451 4.7.1 greylisted"):
            transport.send("a@example.org", "soft@example.com", MESSAGE)
        with pytest.raises(PermanentDeliveryError, match="550 5.1.1 unknown"):
            transport.send("a@example.org", "hard@example.com", MESSAGE)
        transport.send("a@example.org", "c@example.com", MESSAGE)  # the refusals left a clean transaction
        with pytest.raises(TemporaryDeliveryError, match="421 4.3.2"):
            transport.send("a@example.org", "closing@example.com", MESSAGE)
        assert transport.connection is None  # 421: the server is closing; the next send reconnects
        transport.send("a@example.org", "d@example.com", MESSAGE)
    finally:
        transport.close()
        controller.stop()
    assert [m.rcpt_tos for m in handler.messages] == [["b@example.com"], ["c@example.com"], ["d@example.com"]]
    assert all(m.data == MESSAGE for m in handler.messages)

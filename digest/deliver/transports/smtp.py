"""SMTP transport: one persistent connection per send run, TLS and auth as configured.

smtplib's exceptions are translated here, once: 4xx and a dropped connection
become TemporaryDeliveryError (the message stays queued), 5xx becomes
PermanentDeliveryError with the server's reply, and failing to connect or log
in becomes TransportUnavailable (stop the run; nothing is lost).
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import struct

from digest.settings import SmtpSettings
from digest.content import DotlessMessage
from digest.errors import PermanentDeliveryError, TemporaryDeliveryError, TransportUnavailable


_EXPECTED = ((250,), (250, 251), (354,))  # MAIL, RCPT, DATA
MAX_REPLY_LINES = 100  # a reply of more lines than this is a hostile or broken server, not an answer
_PLAIN = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}")


class SmtpTransport:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None
        self.pipelining = False  # the server offers PIPELINING (RFC 2920): read from its EHLO reply in open()

    def open(self) -> None:
        s = self.settings
        if s.user and not s.password:
            raise TransportUnavailable(
                f"SMTP user {s.user!r} is set but the password is not",
                hint=f"set the environment variable {s.password_env}",
            )
        try:
            if s.tls == "implicit":
                connection = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.tls == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            if s.user:
                connection.login(s.user, s.password or "")
            # EHLO here, once, while Python's timeout still guards smtplib's own reply reading: after
            # _kernel_timeouts only _read_reply reads, which knows a reply cut by a stall.
            connection.ehlo_or_helo_if_needed()
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportUnavailable(f"SMTP login as {s.user!r} refused: {_reply(exc)}") from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:  # 421 at the greeting: busy, or too many connections from us
                raise TransportUnavailable(
                    f"SMTP server {s.host}:{s.port} refused the connection for now: {_reply(exc)}",
                    hint="it may allow fewer connections per client: lower delivery.connections",
                ) from exc
            raise TransportUnavailable(f"cannot connect to SMTP server {s.host}:{s.port}: {_reply(exc)}",
                                       hint="check delivery.smtp host, port and tls in config.toml") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportUnavailable(
                f"cannot connect to SMTP server {s.host}:{s.port}: {exc}",
                hint="check delivery.smtp host, port and tls in config.toml",
            ) from exc
        _kernel_timeouts(connection.sock, s.timeout)
        self.connection = connection
        self.pipelining = connection.does_esmtp and connection.has_extn("pipelining")

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        if self.connection is None:
            self.open()
        try:
            self._send_once(sender, recipient, message)
        except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError):
            # The server closed an idle or overloaded connection: reconnect once, then give up for now.
            self._drop()
            self.open()
            try:
                self._send_once(sender, recipient, message)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                raise TemporaryDeliveryError(f"connection lost sending to {recipient}: {exc}") from exc

    def _send_once(self, sender: str, recipient: str, message: bytes) -> None:
        """MAIL, RCPT, DATA by hand: smtplib.sendmail dot-stuffs with a regex over every 30 KB message,
        which cost a tenth of the sender's CPU; bytes.replace does the same in C. Where the server offers
        PIPELINING (RFC 2920) the three commands go in one write and their replies come back together:
        two round trips a message instead of four."""
        connection = self.connection
        assert connection is not None
        commands = (f"mail FROM:{_quote(sender)}", f"rcpt TO:{_quote(recipient)}", "data")
        if self.pipelining:
            connection.send("".join(command + "\r\n" for command in commands).encode("ascii"))
            replies = [_read_reply(connection) for _ in commands]
        else:  # one at a time: a refused MAIL or RCPT ends the transaction there
            replies = []
            for command in commands:
                connection.send(command.encode("ascii") + b"\r\n")
                replies.append(_read_reply(connection))
                if replies[-1][0] not in _EXPECTED[len(replies) - 1]:
                    break
        for (code, reply), expected, stage in zip(replies, _EXPECTED, ("MAIL FROM", "", "DATA")):
            if code not in expected:
                if replies[-1][0] == 354:  # DATA accepted after a refused MAIL or RCPT: end it, empty
                    connection.send(b".\r\n")
                    _read_reply(connection)
                self._reset(code)
                _raise_for(code, reply, recipient, stage)
        # A reader's copy of an issue has no line starting with "." (render.message): nothing to stuff or scan.
        stuffed = message if isinstance(message, DotlessMessage) else message.replace(b"\r\n.", b"\r\n..")
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        connection.send(stuffed + b".\r\n")
        code, reply = _read_reply(connection)
        if code != 250:
            self._reset(code)
            _raise_for(code, reply, recipient, "DATA")

    def _reset(self, code: int) -> None:
        """After a refusal: RSET for the next message, or drop the connection the server is closing (421)."""
        if code == 421:
            self._drop()
            return
        try:
            self.connection.send(b"rset\r\n")
            if _read_reply(self.connection)[0] != 250:
                self._drop()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


def _read_reply(connection: smtplib.SMTP) -> tuple[int, bytes]:
    """One SMTP reply (all its lines) as (code, text), like smtplib's getreply, but a line that does not end
    in a line feed is a lost connection, never a reply.

    With the kernel's timeout a stalled read returns what had arrived (EAGAIN is "no data" to the socket's
    file): smtplib would parse "25" of a "250 ok" cut by the stall as reply code 25, a permanent failure,
    and read the rest of the line as the next command's reply.
    """
    if connection.file is None:
        connection.file = connection.sock.makefile("rb")
    lines = []
    while True:
        try:
            line = connection.file.readline(smtplib._MAXLINE + 1)
        except OSError as exc:
            connection.close()
            raise smtplib.SMTPServerDisconnected(f"connection lost reading a reply: {exc}") from exc
        if not line.endswith(b"\n") or len(line) > smtplib._MAXLINE:
            connection.close()
            raise smtplib.SMTPServerDisconnected("the server closed the connection, stopped answering in the "
                                                 "middle of a reply, or sent a line too long")
        lines.append(line[4:].strip(b" \t\r\n"))
        if line[3:4] != b"-":
            break
        if len(lines) >= MAX_REPLY_LINES:
            connection.close()
            raise smtplib.SMTPServerDisconnected(f"a reply of more than {MAX_REPLY_LINES} lines")
    try:
        code = int(line[:3])
    except ValueError:
        code = -1
    return code, b"\n".join(lines)


def _kernel_timeouts(sock, seconds: float) -> None:
    """A plain TCP connection waits in the kernel (SO_RCVTIMEO/SO_SNDTIMEO) instead of Python's timeout.

    With a Python timeout every send and receive is preceded by a poll(): four of a message's eight
    system calls. A kernel timeout ends the wait the same way: a stalled read comes back short, which
    `_read_reply` reports as a lost connection (`send` reconnects once, then leaves the message queued),
    and a stalled write raises. TLS sockets keep Python's timeout: their reads may need writes.
    """
    if sock is None or isinstance(sock, ssl.SSLSocket) or not seconds:
        return
    whole = int(seconds)
    timeval = struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
    sock.settimeout(None)


def _quote(address: str) -> str:
    """<address> for MAIL/RCPT. Ours are validated plain addresses, so smtplib.quoteaddr's full RFC 5322
    parse (a twelfth of the sender's time) is kept for anything else."""
    if address and _PLAIN.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _raise_for(code: int, reply: bytes | str, recipient: str, stage: str = "") -> None:
    """The stage is named unless it is RCPT: a refused MAIL FROM is about us, not the reader (never a bounce)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{recipient}: {f'at {stage}: ' if stage else ''}{code} {text}"
    if 400 <= code < 500:
        raise TemporaryDeliveryError(message)
    raise PermanentDeliveryError(message)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return f"{exc.smtp_code} {error.decode('utf-8', 'replace') if isinstance(error, bytes) else error}"

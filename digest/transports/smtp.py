"""SMTP transport: one persistent connection per send run, TLS and auth as configured.

smtplib's exceptions are translated here, once: 4xx and a dropped connection
become TemporaryDeliveryError (the message stays queued), 5xx becomes
PermanentDeliveryError with the server's reply, and failing to connect or log
in becomes TransportUnavailable (stop the run; nothing is lost).
"""

from __future__ import annotations

import smtplib
import ssl

from digest.config import SmtpSettings
from digest.errors import PermanentDeliveryError, TemporaryDeliveryError, TransportUnavailable


class SmtpTransport:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

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
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportUnavailable(f"SMTP login as {s.user!r} refused: {_reply(exc)}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportUnavailable(
                f"cannot connect to SMTP server {s.host}:{s.port}: {exc}",
                hint="check delivery.smtp host, port and tls in config.toml",
            ) from exc
        self.connection = connection

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
        assert self.connection is not None
        try:
            refused = self.connection.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients[recipient]
            _raise_for(code, reply, recipient)
        except smtplib.SMTPResponseException as exc:
            _raise_for(exc.smtp_code, exc.smtp_error, recipient)
        else:
            if recipient in refused:
                code, reply = refused[recipient]
                _raise_for(code, reply, recipient)

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


def _raise_for(code: int, reply: bytes | str, recipient: str) -> None:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{recipient}: {code} {text}"
    if 400 <= code < 500:
        raise TemporaryDeliveryError(message)
    raise PermanentDeliveryError(message)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return f"{exc.smtp_code} {error.decode('utf-8', 'replace') if isinstance(error, bytes) else error}"

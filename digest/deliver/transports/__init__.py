"""Where finished messages go: smtp | file | console | memory, one small contract.

A transport takes the envelope and the finished bytes. It raises
TemporaryDeliveryError (try again later), PermanentDeliveryError (never retry
this recipient) or TransportUnavailable (nothing can be sent now); anything it
returns normally counts as accepted. Open/close bracket a send run so SMTP can
keep one connection for the whole run.
"""

from __future__ import annotations

from typing import Protocol

from digest.settings import DeliverySettings
from digest.errors import ConfigError
from digest.deliver.transports.console import ConsoleTransport
from digest.deliver.transports.file import FileTransport
from digest.deliver.transports.memory import MemoryTransport
from digest.deliver.transports.smtp import SmtpTransport

__all__ = ["ConsoleTransport", "FileTransport", "MemoryTransport", "SmtpTransport", "Transport", "make_transport"]


class Transport(Protocol):
    def open(self) -> None: ...

    def send(self, sender: str, recipient: str, message: bytes) -> None: ...

    def close(self) -> None: ...


def make_transport(delivery: DeliverySettings) -> Transport:
    """A fresh transport as configured; each sender thread gets its own (one connection each)."""
    if delivery.transport == "smtp":
        return SmtpTransport(delivery.smtp)
    if delivery.transport == "file":
        return FileTransport(delivery.outbox_dir)
    if delivery.transport == "console":
        return ConsoleTransport()
    raise ConfigError(f"unknown transport {delivery.transport!r}", hint="use file, smtp or console")

"""Prints each message to a stream: for looking at what would be sent."""

from __future__ import annotations

import sys
from typing import TextIO


class ConsoleTransport:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def open(self) -> None:
        pass

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"---------- message from {sender} to {recipient} ----------\n")
        stream.write(message.decode("utf-8", "replace").replace("\r\n", "\n"))
        stream.write("\n")
        stream.flush()

    def close(self) -> None:
        pass

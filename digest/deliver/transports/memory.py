"""Keeps messages in a list: for a dry run and for code that wants to inspect output."""

from __future__ import annotations


class MemoryTransport:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str, bytes]] = []

    def open(self) -> None:
        pass

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.messages.append((sender, recipient, message))

    def close(self) -> None:
        pass

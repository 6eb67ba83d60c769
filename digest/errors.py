"""One exception tree for everything digest raises on purpose.

    DigestError
    ├── ConfigError            bad or missing settings (names the key and the file)
    ├── FeedError              one source could not be fetched or parsed
    ├── RenderError            a template failed
    └── DeliveryError
        ├── TemporaryDeliveryError   4xx or a dropped connection: try again later
        ├── PermanentDeliveryError   5xx: never retry this recipient
        └── TransportUnavailable     nothing can be sent (connect/auth failed)

Each entry point catches DigestError once and prints `str(error)` (plus the
hint); foreign exceptions are wrapped where they are first met, with `from`.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base class; `hint` is one actionable line for the operator."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class ConfigError(DigestError):
    pass


class FeedError(DigestError):
    pass


class RenderError(DigestError):
    pass


class DeliveryError(DigestError):
    pass


class TemporaryDeliveryError(DeliveryError):
    pass


class PermanentDeliveryError(DeliveryError):
    pass


class TransportUnavailable(DeliveryError):
    pass

"""Errors of the audience layer; each carries a message fit to show the reader."""

from __future__ import annotations


class SubscriberError(Exception):
    pass


class InvalidAddress(SubscriberError):
    pass


class InvalidToken(SubscriberError):
    pass


class TokenExpired(SubscriberError):
    """The link was real but is too old; `token` may be traded for a new email."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


class RateLimited(SubscriberError):
    pass


class Suppressed(SubscriberError):
    """The address bounced or complained: an operator must lift the suppression before it is added again."""

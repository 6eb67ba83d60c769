"""The audience: who may receive which newsletter, and the proof of consent.

This package never imports `digest`; the app layer wires it to email and web.
"""

from subscribers.models import ConsentEvent, Subscriber, Subscription, SubscriptionStatus
from subscribers.optin import (
    InvalidAddress,
    SubscriberError,
    add_subscriber,
    confirmed_recipients,
    list_subscriptions,
    make_unsubscribe_token,
    normalize_address,
    read_unsubscribe_token,
    remove_subscriber,
)

__all__ = [
    "ConsentEvent",
    "InvalidAddress",
    "Subscriber",
    "SubscriberError",
    "Subscription",
    "SubscriptionStatus",
    "add_subscriber",
    "confirmed_recipients",
    "list_subscriptions",
    "make_unsubscribe_token",
    "normalize_address",
    "read_unsubscribe_token",
    "remove_subscriber",
]

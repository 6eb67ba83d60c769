"""The audience: who may receive which newsletter, and the proof of consent.

This package never imports `digest`; the app layer wires it to email and web.
"""

from subscribers.errors import InvalidAddress, InvalidToken, RateLimited, SubscriberError, Suppressed, TokenExpired
from subscribers.io import ImportReport, export_csv, export_suppressions_csv, import_csv
from subscribers.consent import ALL, Origin, normalize_address
from subscribers.models import (BounceScore, ConsentEvent, OptInToken, Subscriber, Subscription, SubscriptionStatus,
                                Suppression)
from subscribers.optin import (
    DEFAULT_TTL,
    SignupResult,
    add_subscriber,
    confirm_signup,
    peek_confirmation,
    record_complaint,
    remove_subscriber,
    renew_expired,
    request_signup,
    subscription_from_link,
    undo_unsubscribe,
    unsubscribe_by_link,
)
from subscribers.records import (
    confirmed_count,
    confirmed_recipients,
    export_person,
    forget_person,
    list_subscriptions,
    purge_unconfirmed,
    subscriptions_for_export,
)
from subscribers.suppression import (BouncePolicy, active_suppression, lift, list_suppressions, not_suppressed,
                                     record_bounce, suppress, suppressed_among)
from subscribers.tokens import make_unsubscribe_token, read_unsubscribe_token

__all__ = [
    "ALL", "BouncePolicy", "export_suppressions_csv", "BounceScore", "Suppressed", "Suppression", "active_suppression", "lift",
    "list_suppressions", "not_suppressed", "record_bounce", "record_complaint", "suppress", "suppressed_among",
    "DEFAULT_TTL", "ConsentEvent", "ImportReport", "InvalidAddress", "InvalidToken", "OptInToken", "Origin",
    "RateLimited", "SignupResult", "Subscriber", "SubscriberError", "Subscription", "SubscriptionStatus",
    "TokenExpired", "add_subscriber", "confirm_signup", "confirmed_count", "confirmed_recipients", "export_csv", "export_person",
    "forget_person", "import_csv", "list_subscriptions", "make_unsubscribe_token", "normalize_address",
    "peek_confirmation", "purge_unconfirmed", "read_unsubscribe_token", "remove_subscriber", "renew_expired", "request_signup",
    "subscription_from_link", "subscriptions_for_export", "undo_unsubscribe", "unsubscribe_by_link",
]

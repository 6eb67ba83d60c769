"""Tokens in links: random, hashed, single-use confirmation tokens and signed unsubscribe tokens.

Confirmation tokens guard a state change nobody has consented to yet, so they
are random (256 bits), stored only as a hash, expire and work once.
Unsubscribe tokens sit in every digest and must keep working for as long as
the mail exists, so they are stateless: the subscriber id and newsletter
sealed with AES-GCM under a key derived from the site secret, so a link shows
nobody who the reader is or which list it is (a reader forwarding a digest
gives away nothing readable). Tokens of the earlier, signed-but-readable
format (itsdangerous, "[id, newsletter]") in mail already sent keep working.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
import zlib
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from subscribers.errors import InvalidToken, SubscriberError
from subscribers.models import OptInToken, Subscription


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, subscription: Subscription, now: datetime, ttl: timedelta) -> str:
    """A fresh confirmation token; earlier unused ones for this subscription stop working."""
    session.execute(update(OptInToken).where(OptInToken.subscription_id == subscription.id,
                                             OptInToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(OptInToken(subscription_id=subscription.id, token_hash=hash_token(token), created_at=now,
                           expires_at=now + ttl))
    session.flush()
    return token


def find_token(session: Session, token: str) -> OptInToken:
    row = session.scalar(select(OptInToken).where(OptInToken.token_hash == hash_token(token or "")))
    if row is None:
        raise InvalidToken("This confirmation link is not valid. Check that you copied the whole link.")
    return row


SEALED = "u1."  # the sealed format's prefix; a legacy token starts with base64 or "."


@functools.lru_cache(maxsize=8)
def _sealer(secret: str) -> AESGCM:
    key = hashlib.sha256(b"digest unsubscribe token v1\0" + secret.encode("utf-8")).digest()
    return AESGCM(key)


def make_unsubscribe_token(secret: str, subscriber_id: int, newsletter: str) -> str:
    """A sealed, stateless token: the link in every digest works without a lookup table and reads as noise."""
    nonce = secrets.token_bytes(12)
    payload = b"%d\0%s" % (subscriber_id, newsletter.encode("utf-8"))
    sealed = _sealer(secret).encrypt(nonce, payload, b"unsubscribe")
    return SEALED + base64_encode(nonce + sealed).decode("ascii")


@functools.lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    """One per secret: it is built for every recipient of every issue otherwise."""
    return URLSafeSerializer(secret, salt="unsubscribe")


def make_legacy_unsubscribe_token(secret: str, subscriber_id: int, newsletter: str) -> str:
    """The earlier format, signed but readable, that mail sent before sealed tokens carries (kept to test
    that those links still work).

    Byte for byte what `_serializer(secret).dumps([subscriber_id, newsletter])` makes (a test holds us to
    it, and itsdangerous reads it), without building a Signer and deriving its key for every reader of
    every issue: that was an eighth of the sender's time.
    """
    payload = b"[%d,%s]" % (subscriber_id, _json_string(newsletter))  # json.dumps without its per-call cost
    compressed = zlib.compress(payload)  # URLSafeSerializer's rule: compressed only when it is shorter
    value = b"." + base64_encode(compressed) if len(compressed) < len(payload) - 1 else base64_encode(payload)
    return (value + b"." + base64_encode(hmac.digest(_unsubscribe_key(secret), value, "sha1"))).decode("ascii")


@functools.lru_cache(maxsize=64)
def _json_string(text: str) -> bytes:
    """The newsletter as json.dumps writes it (ensure_ascii=False): the same for every reader of an issue."""
    return json.dumps(text, ensure_ascii=False).encode()


@functools.lru_cache(maxsize=8)
def _unsubscribe_key(secret: str) -> bytes:
    """The key itsdangerous's own Signer derives for these tokens, derived by it once (its MAC is HMAC-SHA1)."""
    serializer = _serializer(secret)
    return serializer.make_signer(serializer.salt).derive_key()


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str]:
    try:
        if token.startswith(SEALED):
            raw = base64_decode(token[len(SEALED):len(SEALED) + 1000])
            subscriber_id, _, newsletter = _sealer(secret).decrypt(raw[:12], raw[12:], b"unsubscribe").partition(b"\0")
            return int(subscriber_id), newsletter.decode("utf-8")
        subscriber_id, newsletter = _serializer(secret).loads(token)
    except (BadSignature, InvalidTag, ValueError, TypeError):
        raise SubscriberError("This unsubscribe link is not valid. Check that you copied the whole link.") from None
    return int(subscriber_id), str(newsletter)


def make_undo_token(secret: str, subscriber_id: int, newsletter: str, event_id: int) -> str:
    """The "undo" button's token: names the one unsubscribe event it may reverse, and its time."""
    return URLSafeTimedSerializer(secret, salt="undo").dumps([subscriber_id, newsletter, event_id])


def read_undo_token(secret: str, token: str, max_age: timedelta) -> tuple[int, str, int]:
    try:
        subscriber_id, newsletter, event_id = URLSafeTimedSerializer(secret, salt="undo").loads(
            token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise InvalidToken("This undo link has expired. You can sign up again on the signup page.") from None
    except (BadSignature, ValueError, TypeError):
        raise InvalidToken("This undo link is not valid.") from None
    return int(subscriber_id), str(newsletter), int(event_id)

"""DKIM signing of finished digest messages (RFC 6376 relaxed/simple; rsa-sha256, optionally ed25519-sha256).

The personal List-Unsubscribe header and the body's unsubscribe link differ
per reader, so each message needs its own signature. What does not differ is
done once per issue (`prepare`): the static header fields are picked and
canonicalized, and the body is hashed up to the first personal bytes, a
hashlib state that each recipient `.copy()`s. Per recipient that leaves the
three personal header lines, the body from the first unsubscribe link on, and
one private-key operation per key, all in OpenSSL (hashlib, `cryptography`):
RSA-2048 about 0.26 ms, Ed25519 about 0.03 ms. dkimpy stays in the tests, as
the independent verifier.

Keys are parsed and checked when the sender starts (`make_signer`): a missing
or unusable key is one ConfigError line, never a traceback mid-send.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from digest.settings import DkimSettings
from digest.errors import ConfigError

# Signed even when absent (a header added later then breaks the signature);
# RFC 8058 section 4 asks for both List-Unsubscribe headers to be covered.
SIGNED_HEADERS = (
    "From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
    "List-Id", "List-Archive", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID", "Precedence",
)
_H_TAG = b"h=" + ":".join(SIGNED_HEADERS).encode()  # the same for every message: built once
_WSP_RUN = re.compile(rb"[ \t]+")
_FOLD = re.compile(rb"\r\n(?=[ \t])")


@dataclass(frozen=True)
class DkimKey:
    algorithm: bytes  # b"rsa-sha256" or b"ed25519-sha256"
    selector: bytes
    domain: bytes
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = field(repr=False)

    def sign_digest(self, digest: bytes) -> bytes:
        """RFC 8463: Ed25519 signs the SHA-256 of the header data, as RSA does (PKCS#1 v1.5)."""
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        return self.key.sign(digest)


@dataclass(frozen=True)
class DkimSigner:
    keys: tuple[DkimKey, ...]

    def prepare(self, static_head: bytes, personal: tuple[bytes, ...] = (),
                body: tuple[bytes, ...] = (b"",)) -> Prepared:
        """The issue's share of the work. `static_head`: the header fields every message has, CRLF-ended,
        below the `personal` ones (names, in message order); `body`: the static pieces of the body,
        with the same personal bytes between each two (`Prepared.sign`'s `body_slot`)."""
        return Prepared(self.keys, _HeaderPlan(static_head, personal), _BodyPlan(body))

    def sign(self, message: bytes, *, now: int | None = None) -> bytes:
        """The DKIM-Signature header line(s) for a message built in one piece (a test send, a notice)."""
        head, _, body = message.partition(b"\r\n\r\n")
        return self.prepare(head + b"\r\n", (), (body,)).sign((), b"", now=now)


class _HeaderPlan:
    """The h= fields in order: canonicalized static bytes, and the indexes of the personal values."""

    def __init__(self, static_head: bytes, personal: tuple[bytes, ...]) -> None:
        fields: list[tuple[bytes, bytes | int]] = [(name, i) for i, name in enumerate(personal)]
        fields += _header_fields(static_head.removesuffix(b"\r\n")) if static_head else []
        parts: list[bytes | tuple[bytes, int]] = []
        for name, value in _pick(fields, SIGNED_HEADERS):
            if isinstance(value, int):
                parts.append((name, value))
            elif parts and isinstance(parts[-1], bytes):
                parts[-1] += _relaxed(name, value) + b"\r\n"
            else:
                parts.append(_relaxed(name, value) + b"\r\n")
        self.parts = tuple(parts)

    def data(self, values: tuple[bytes, ...]) -> bytes:
        return b"".join(part if isinstance(part, bytes) else _relaxed(part[0], values[part[1]]) + b"\r\n"
                        for part in self.parts)


class _BodyPlan:
    """Simple body canonicalization only touches the end, which is static: the hash runs ahead to the slot."""

    def __init__(self, pieces: tuple[bytes, ...]) -> None:
        *middle, last = pieces
        if middle and not last.rstrip(b"\r\n"):  # the end's empty lines could reach into personal bytes
            self.pieces, self.state = pieces, None
            return
        self.pieces = (*middle[1:], _simple_body(last)) if middle else ()
        self.state = hashlib.sha256(middle[0] if middle else _simple_body(last))

    def digest(self, slot: bytes | tuple[bytes, ...]) -> bytes:
        """slot: the same personal bytes in every gap, or one for each gap (analytics.per_reader's links)."""
        if self.state is None:
            slots = slot if isinstance(slot, tuple) else (slot,) * (len(self.pieces) - 1)
            joined = b"".join(part for pair in zip(self.pieces, (*slots, b""), strict=True) for part in pair)
            return hashlib.sha256(_simple_body(joined)).digest()
        hasher = self.state.copy()
        slots = slot if isinstance(slot, tuple) else (slot,) * len(self.pieces)
        for own, piece in zip(slots, self.pieces, strict=True):
            hasher.update(own)
            hasher.update(piece)
        return hasher.digest()


@dataclass(frozen=True)
class Prepared:
    keys: tuple[DkimKey, ...]
    head: _HeaderPlan
    body: _BodyPlan

    def sign(self, personal: tuple[bytes, ...], body_slot: bytes, *, now: int | None = None) -> bytes:
        """The DKIM-Signature header lines (CRLF-ended) to put in front of one reader's message.

        `personal`: the raw values (after the colon) of the personal header fields, in prepare's order.
        """
        body_hash = base64.b64encode(self.body.digest(body_slot))
        stamp = str(now if now is not None else int(time.time())).encode()
        data = self.head.data(personal)
        out = []
        for key in self.keys:
            # One tag a line: the header is signed exactly as it is written (relaxed), b= last and empty.
            tags = b";\r\n\t".join((b"v=1", b"a=" + key.algorithm, b"c=relaxed/simple", b"d=" + key.domain,
                                      b"s=" + key.selector, b"t=" + stamp, _H_TAG, b"bh=" + body_hash, b"b="))
            digest = hashlib.sha256(data + _relaxed(b"DKIM-Signature", b" " + tags)).digest()
            signature = base64.b64encode(key.sign_digest(digest))
            out.append(b"DKIM-Signature: " + tags + b"\r\n\t".join(
                signature[i:i + 72] for i in range(0, len(signature), 72)) + b"\r\n")
        return b"".join(out)


def _simple_body(body: bytes) -> bytes:
    """RFC 6376 3.4.3: trailing empty lines removed, one CRLF at the end (an empty body is one CRLF)."""
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    return body[:end] + b"\r\n"


def _header_fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """(name, raw value) of each header field, folded lines kept, in message order."""
    fields: list[tuple[bytes, bytes]] = []
    for line in _FOLD.sub(b"\x00", head).split(b"\r\n"):
        name, _, value = line.partition(b":")
        fields.append((name, value.replace(b"\x00", b"\r\n")))
    return fields


def _pick(fields: list[tuple[bytes, object]], names: tuple[str, ...]) -> list[tuple[bytes, object]]:
    """For each name in h=, the next instance from the bottom (RFC 6376 5.4.2); absent ones sign nothing."""
    used: set[int] = set()
    chosen = []
    for name in names:
        wanted = name.lower().encode()
        for index in range(len(fields) - 1, -1, -1):
            if index not in used and fields[index][0].strip().lower() == wanted:
                used.add(index)
                chosen.append(fields[index])
                break
    return chosen


def _relaxed(name: bytes, value: bytes) -> bytes:
    """RFC 6376 3.4.2: lowercase name, unfolded value, runs of WSP as one space, none at either end."""
    value = _WSP_RUN.sub(b" ", value.replace(b"\r\n", b"")).strip(b" ")
    return name.strip().lower() + b":" + value


def make_signer(selector: str, domain: str, private_key: str | None, *,
                ed25519_selector: str = "", ed25519_private_key: str | None = None,
                key_env: str = "dkim.private_key_env (DIGEST_DKIM_PRIVATE_KEY)",
                ed25519_key_env: str = "dkim.ed25519_private_key_env (DIGEST_DKIM_ED25519_PRIVATE_KEY)",
                ) -> DkimSigner | None:
    """A signer when selector and domain are set; None when DKIM is off. A missing or bad key is a ConfigError.

    rsa-sha256 always (every verifier knows it); ed25519-sha256 (RFC 8463) as a second signature when
    its selector is set: a verifier that does not know it ignores it.
    """
    if not (selector and domain):
        if ed25519_selector:
            raise ConfigError("dkim.ed25519_selector is set without dkim.selector and dkim.domain",
                              hint="ed25519 is a second signature beside the RSA one: set both")
        return None
    keys = [_load(b"rsa-sha256", selector, domain, private_key, key_env)]
    if ed25519_selector:
        keys.append(_load(b"ed25519-sha256", ed25519_selector, domain, ed25519_private_key, ed25519_key_env))
    signer = DkimSigner(tuple(keys))
    signer.sign(b"From: a@" + keys[0].domain + b"\r\nSubject: key check\r\n\r\nbody\r\n")
    return signer


def signer_for(settings: DkimSettings) -> DkimSigner | None:
    """The configured keys, parsed and checked: senders call it when they start, so a bad key stops them at once."""
    return make_signer(settings.selector, settings.domain, settings.private_key,
                       ed25519_selector=settings.ed25519_selector, ed25519_private_key=settings.ed25519_private_key)


def _load(algorithm: bytes, selector: str, domain: str, text: str | None, env: str) -> DkimKey:
    kind = "RSA" if algorithm == b"rsa-sha256" else "Ed25519"
    if not text:
        setting = "dkim.selector" if kind == "RSA" else "dkim.ed25519_selector"
        raise ConfigError(f"{setting} is set but {env} is empty",
                          hint=f"put the {kind} private key (PEM) in that environment variable, or clear the selector")
    try:
        pem = text.replace("\\n", "\n").replace("\r\n", "\n").strip()
        if kind == "Ed25519" and "-----BEGIN" not in pem:  # dkimpy's dknewkey writes the raw 32 bytes in base64
            key = ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(pem, validate=True))
        else:
            key = serialization.load_pem_private_key((pem + "\n").encode("ascii"), password=None)
        if kind == "RSA" and not (isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 1024):
            raise ValueError(f"not an RSA private key of at least 1024 bits ({_describe(key)})")
        if kind == "Ed25519" and not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"not an Ed25519 private key ({_describe(key)})")
        dkim_key = DkimKey(algorithm, selector.encode("ascii"), domain.encode("ascii"), key)
        dkim_key.sign_digest(hashlib.sha256(b"key check").digest())
    except Exception as exc:  # a bad PEM, a wrong key type, a non-ASCII selector: one line, no traceback
        raise ConfigError(f"the DKIM private key in {env} does not work: {exc.__class__.__name__}: {exc}",
                          hint=f"a PEM {kind} private key; selector and domain in ASCII") from None
    return dkim_key


def _describe(key: object) -> str:
    size = getattr(key, "key_size", None)
    return f"{type(key).__name__.lstrip('_')}" + (f", {size} bits" if size else "")

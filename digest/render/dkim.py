"""DKIM signing of finished digest messages (RFC 6376, rsa-sha256, relaxed/simple), optional.

The personal List-Unsubscribe header and the body's unsubscribe link differ
per reader, so each message needs its own signature: a SHA-256 body hash and
one RSA operation per message. Both run in OpenSSL (hashlib, `cryptography`):
about 0.3 ms a message, where dkimpy's pure-Python RSA took 7.6 ms
(bench/personalize.py). dkimpy stays in the tests, as the independent verifier.
The key is parsed and checked once, when the issue's message template is built.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
class DkimSigner:
    selector: bytes
    domain: bytes
    key: rsa.RSAPrivateKey = field(repr=False)

    def sign(self, message: bytes, *, now: int | None = None) -> bytes:
        """The DKIM-Signature header line (CRLF-terminated) to put in front of `message`."""
        head, _, body = message.partition(b"\r\n\r\n")
        body_hash = base64.b64encode(hashlib.sha256(_simple_body(body)).digest())
        stamp = str(now if now is not None else int(time.time())).encode()
        # One tag a line: the header is signed exactly as it is written (relaxed), b= last and empty.
        tags = b";\r\n\t".join((b"v=1", b"a=rsa-sha256", b"c=relaxed/simple", b"d=" + self.domain,
                                  b"s=" + self.selector, b"t=" + stamp,
                                  _H_TAG, b"bh=" + body_hash, b"b="))
        data = b"".join(_relaxed(name, value) + b"\r\n" for name, value in _pick(_header_fields(head), SIGNED_HEADERS))
        data += _relaxed(b"DKIM-Signature", b" " + tags)
        signature = base64.b64encode(self.key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        return b"DKIM-Signature: " + tags + b"\r\n\t".join(
            signature[i:i + 72] for i in range(0, len(signature), 72)) + b"\r\n"


def _simple_body(body: bytes) -> bytes:
    """RFC 6376 3.4.3: trailing empty lines removed, one CRLF at the end (an empty body is one CRLF)."""
    body = body.rstrip(b"\r\n") if body.endswith(b"\r\n") else body
    return body + b"\r\n"


def _header_fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """(name, raw value) of each header field, folded lines kept, in message order."""
    fields: list[tuple[bytes, bytes]] = []
    for line in _FOLD.sub(b"\x00", head).split(b"\r\n"):
        name, _, value = line.partition(b":")
        fields.append((name, value.replace(b"\x00", b"\r\n")))
    return fields


def _pick(fields: list[tuple[bytes, bytes]], names: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
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


def make_signer(selector: str, domain: str, private_key: str | None, *, key_env: str = "dkim.private_key_env (DIGEST_DKIM_PRIVATE_KEY)"
                ) -> DkimSigner | None:
    """A signer when selector and domain are set; None when DKIM is off. A missing or bad key is a ConfigError."""
    if not (selector and domain):
        return None
    if not private_key:
        raise ConfigError(f"dkim.selector is set but {key_env} is empty",
                          hint="put the PEM private key in that environment variable, or clear dkim.selector")
    pem = private_key.replace("\\n", "\n").replace("\r\n", "\n").strip() + "\n"
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 1024:
            raise ValueError("not an RSA private key of at least 1024 bits")
        signer = DkimSigner(selector.encode("ascii"), domain.encode("ascii"), key)
        signer.sign(b"From: a@" + signer.domain + b"\r\nSubject: key check\r\n\r\nbody\r\n")
    except Exception as exc:  # a bad PEM, a wrong key type, a non-ASCII selector: one line, no traceback
        raise ConfigError(f"the DKIM private key in {key_env} does not work: {exc.__class__.__name__}: {exc}",
                          hint="a PEM RSA private key; selector and domain in ASCII") from None
    return signer

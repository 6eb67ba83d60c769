"""DKIM signing of finished digest messages (dkimpy), optional.

The personal List-Unsubscribe header and the body's unsubscribe link differ
per reader, so each message needs its own signature: a body hash and one RSA
operation per message (bench/personalize.py measures it). The key is parsed
and checked once, when the issue's message template is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import dkim as dkimpy

from digest.errors import ConfigError

# Signed even when absent (a header added later then breaks the signature);
# RFC 8058 section 4 asks for both List-Unsubscribe headers to be covered.
SIGNED_HEADERS = (
    "From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
    "List-Id", "List-Archive", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID", "Precedence",
)


@dataclass(frozen=True)
class DkimSigner:
    selector: bytes
    domain: bytes
    private_key: bytes

    def sign(self, message: bytes) -> bytes:
        """The DKIM-Signature header line (CRLF-terminated) to put in front of `message`."""
        return dkimpy.sign(message, self.selector, self.domain, self.private_key,
                           canonicalize=(b"relaxed", b"simple"), include_headers=list(SIGNED_HEADERS),
                           linesep=b"\r\n")


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
        signer = DkimSigner(selector.encode("ascii"), domain.encode("ascii"), pem.encode("ascii"))
        signer.sign(b"From: a@" + signer.domain + b"\r\nSubject: key check\r\n\r\nbody\r\n")
    except Exception as exc:  # dkimpy raises DKIMException, but also ValueError, KeyError, ... on bad PEM
        raise ConfigError(f"the DKIM private key in {key_env} does not work: {exc.__class__.__name__}: {exc}",
                          hint="a PEM RSA private key; selector and domain in ASCII") from None
    return signer

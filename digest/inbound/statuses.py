"""RFC 3463 enhanced status codes as reasons, and which side of a delivery each reason blames.

The code table follows RFC 3463 and its updates (RFC 5248, RFC 7372, RFC 7505)
as the Sisimai project reads them; codes that name no particular cause (x.0.0,
4.4.0, 5.5.0, ...) map to nothing, so the wording decides.
"""

from __future__ import annotations

import re

# x.y.z, not inside a version number or an address (v1.2.3, 10.4.4.1).
STATUS_RE = re.compile(r"(?<![\d.vV])([245])\.(\d{1,3})\.(\d{1,3})(?![\d])")

# The reader's address itself is gone: the only reasons that suppress at once (notaccept only when permanent).
READER_PERMANENT = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})
# The reader's mailbox or server, for now: scored, suppressed only after repeated soft bounces.
READER_TEMPORARY = frozenset({"mailboxfull", "emailtoolarge", "suspend", "filtered", "expired", "networkerror",
                              "systemerror", "systemfull", "mailererror"})
# About us (our IP, our domain, our content, our rate, our address): never the reader's doing.
SENDER = frozenset({"blocked", "badreputation", "requireptr", "authfailure", "spamdetected", "virusdetected",
                    "policyviolation", "contenterror", "notcompliantrfc", "securityerror", "norelaying", "rejected",
                    "ratelimited", "failedstarttls", "syntaxerror"})

_TABLE = {
    "4.1.6": "hasmoved", "4.1.7": "rejected", "4.1.8": "rejected", "4.1.9": "systemerror",
    "4.2.1": "blocked", "4.2.2": "mailboxfull", "4.2.3": "emailtoolarge", "4.2.4": "filtered",
    "4.3.1": "systemfull", "4.3.2": "notaccept", "4.3.3": "systemerror", "4.3.5": "systemerror",
    "4.4.1": "expired", "4.4.2": "networkerror", "4.4.3": "systemerror", "4.4.4": "networkerror",
    "4.4.5": "systemfull", "4.4.6": "networkerror", "4.4.7": "expired", "4.4.8": "networkerror",
    "4.5.3": "systemerror", "4.5.5": "systemerror",
    "4.6.0": "contenterror", "4.6.2": "contenterror", "4.6.5": "contenterror",
    "4.7.1": "blocked", "4.7.2": "blocked", "4.7.5": "securityerror", "4.7.6": "securityerror",
    "4.7.7": "securityerror", "4.7.12": "securityerror", "4.7.15": "securityerror", "4.7.16": "emailtoolarge",
    "4.7.24": "authfailure", "4.7.25": "requireptr", "4.7.26": "authfailure",
    "5.1.0": "userunknown", "5.1.1": "userunknown", "5.1.2": "hostunknown", "5.1.3": "userunknown",
    "5.1.4": "filtered", "5.1.6": "hasmoved", "5.1.7": "rejected", "5.1.8": "rejected", "5.1.9": "systemerror",
    "5.1.10": "notaccept",
    "5.2.0": "filtered", "5.2.1": "filtered", "5.2.2": "mailboxfull", "5.2.3": "emailtoolarge", "5.2.4": "filtered",
    "5.3.0": "systemerror", "5.3.1": "systemfull", "5.3.2": "notaccept", "5.3.3": "systemerror",
    "5.3.4": "emailtoolarge", "5.3.5": "systemerror",
    "5.4.0": "networkerror", "5.4.3": "systemerror", "5.4.4": "hostunknown",
    "5.5.2": "syntaxerror", "5.5.3": "ratelimited", "5.5.4": "systemerror", "5.5.5": "systemerror",
    "5.5.6": "syntaxerror",
    "5.7.13": "suspend", "5.7.16": "emailtoolarge", "5.7.17": "hasmoved", "5.7.18": "hasmoved",
    "5.7.20": "authfailure", "5.7.21": "authfailure", "5.7.22": "authfailure", "5.7.23": "authfailure",
    "5.7.24": "authfailure", "5.7.25": "requireptr", "5.7.26": "authfailure", "5.7.27": "notaccept",
    "5.7.28": "spamdetected", "5.7.29": "authfailure", "5.7.30": "failedstarttls",
}
_TABLE.update({f"5.6.{n}": "contenterror" for n in (0, 1, 2, 3, 5, 6, 7, 8, 9)})
# Microsoft's own extended codes (Exchange Online and Outlook.com document them; Sisimai's Office 365 and
# Microsoft tables): numbers RFC 3463's registry never assigned, so they mean the same from any server.
_TABLE.update({"4.4.316": "expired", "5.4.316": "expired", "4.4.312": "networkerror", "5.4.312": "networkerror",
               "5.4.6": "networkerror", "5.6.11": "contenterror", "5.7.124": "rejected", "5.7.509": "securityerror",
               "5.7.508": "ratelimited", "5.7.511": "rejected", "5.7.512": "securityerror"})
_TABLE.update({f"5.7.{n}": "spamdetected" for n in (501, 502, 503)})
_TABLE.update({f"5.7.{n}": "filtered" for n in (504, 505)})
_TABLE.update({f"5.7.{n}": "blocked" for n in (506, 507, *range(606, 650))})
_TABLE.update({f"5.7.{n}": "rejected" for n in range(133, 137)})
_TABLE.update({f"5.7.{n}": "ratelimited" for n in range(700, 750)})
_TABLE.update({f"4.7.{n}": "blocked" for n in (*range(500, 700), *range(850, 900))})
_TABLE.update({f"5.7.{n}": "securityerror" for n in (*range(0, 12), 14, 15, 19)})


def reason_of_status(status: str) -> str:
    """The reason an x.y.z code names, or "" when it names none in particular."""
    return _TABLE.get(status, "")

"""Why one message failed, and whose fault that is: a reason for every bounce, then a side.

Only the reader's side may ever cost a reader their subscription, and only a
permanent fault of their address suppresses at once (user or domain unknown,
mailbox moved, a domain that takes no mail). A full mailbox, a message too
big, a disabled account, a delivery that expired are the reader's side too,
but temporary: they score. A receiving server that refuses *us* (a blocklist,
spam filtering, authentication, a rate limit, our sender address) is the
sender's side and never touches the reader. What no rule explains is
"unclassified" and never acts.

The decision reads the message the way the Sisimai project documents it
(its reason families and their order, RFC 3463's status codes): the status
code decides when it names a specific reason and the wording does not
contradict it; otherwise the wording decides, the server's own diagnostic
first, then the human-readable text. Pure: strings in, a Verdict out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from digest.inbound import wording
from digest.inbound.matcher import Matcher
from digest.inbound.statuses import READER_PERMANENT, READER_TEMPORARY, SENDER, STATUS_RE, reason_of_status

REPLY_RE = re.compile(r"(?<![\d.\-])([245]\d\d)(?=[\s\-]|$)")
_SPACE = re.compile(r"\s+")
# The SMTP command a reply answered, as MTAs say it: "after RCPT TO:", "in reply to end of DATA command", ">>> MAIL From:".
# Also the words of MTAs that name the command in prose (qmail's "does not like recipient", DragonFly's
# "did not like our RCPT TO", X3's "SMTP:RCPT"; Sisimai's notes on those servers).
_COMMANDS = (("DATA", re.compile(r"end of data|after data|in reply to data|>>> data|after the data command|"
                                 r"failed on data command|failed after i sent the message")),
             ("MAIL", re.compile(r"mail from:?\s*<|in reply to mail from|after mail from|>>> mail from|"
                                 r"but sender was rejected|did not like our mail from")),
             ("RCPT", re.compile(r"rcpt to:?\s*<|in reply to rcpt to|after rcpt to|>>> rcpt to|rcpt to command|"
                                 r"\[rcpt_to\]|does not like recipient|did not like our rcpt to|smtp:rcpt|"
                                 r"rcpt to: ?[^\s<@]+@")),
             ("HELO", re.compile(r"in reply to (?:ehlo|helo)|after (?:ehlo|helo)|>>> (?:ehlo|helo)|"
                                 r"but my name was rejected|but greeting failed")),
             ("CONN", re.compile(r"after initial connection|in reply to initial|on connect")))
BEFORE_DATA = {"CONN", "HELO", "MAIL", "RCPT"}
# A hard reason yields to wording of these families (a 5.1.1 that says "mailbox full" is a full mailbox).
HARD_YIELDS_TO = ("norelaying", "blocked", "mailboxfull", "hasmoved", "rejected", "notaccept", "ratelimited")
# Wording that tells a refusal of *our* address apart from one of the reader's.
NOT_SENDER = re.compile(r"recipient address rejected|5\.1\.0 address rejected|ip address rejected")
# A bounce in no standard format that only warns: the relay still tries, nothing has failed for good yet.
DELAY_NOTICE = re.compile(r"warning message only|(?:do|need) not (?:need to )?re-?send|no need to re-?send|"
                          r"only a temporary failure report|will be retried for|still (?:be )?trying to deliver|"
                          r"has not yet been delivered|delivery (?:has been|is) delayed|this is a delay notice")
TEMPORARY_TEXT = re.compile(r" temporar| persistent|try again later|will be retried")
# A reply that names the refused address, then says it is unknown: the answer to that address's RCPT TO
# (rule "rcpt_echo" in wording.txt). A reply about the whole message after DATA has no one address to name.
RCPT_ECHO = re.compile(r"(?<![\d.])[45]\d\d(?:[ :]+[45]\.\d{1,3}\.\d{1,3})?[ :]+<[^<>\s@]+@[^<>\s]+>"
                       r"(?::|\.\.\.) ?(?:user unknown|unknown user)")
# "User unknown" with the address slot left empty: a receiving filter's answer, not a missing user ("empty_slot").
EMPTY_SLOT = re.compile(r"(?<![\d.])[45]\d\d:? (?:<> ?)?: ?user unknown")

# A relay that files each failure it saw under a category of its own, in the DSN beside the recipient's
# fields (PowerMTA's X-PowerMTA-BounceCategory; its categories and their reasons as Sisimai documents them):
# it held the SMTP session, so its category names the reason.
RELAY_CATEGORIES = {"bad-domain": "hostunknown", "bad-mailbox": "userunknown", "inactive-mailbox": "suspend",
                    "message-expired": "expired", "no-answer-from-host": "networkerror",
                    "policy-related": "policyviolation", "quota-issues": "mailboxfull", "routing-errors": "systemerror",
                    "spam-related": "spamdetected",
                    # Amazon SES's bounce subtypes that name a cause; au's mark of the reader's own filter;
                    "ses:mailboxfull": "mailboxfull", "ses:messagetoolarge": "emailtoolarge", "spasign:ng": "filtered",
                    "googlegroups:refused": "rejected"}  # a Google group refusing our post (reports.py)


@dataclass(frozen=True)
class Verdict:
    """reason: one of the wording families, "delivered", "delayed" or "unclassified"; kind: "hard" (suppress
    at once), "soft" (never at once), or None when nothing failed (delivered, relayed, a delay notice);
    side: "reader" (their mailbox: hard suppresses, soft scores), "sender" (a refusal of us: counted toward
    the receiving domain's reputation, the reader untouched) or "" (unclassified: kept for the operator)."""

    reason: str
    side: str
    kind: str | None
    status: str = ""

    @property
    def acts_on_reader(self) -> bool:
        return self.side == "reader" and self.kind is not None


@dataclass(frozen=True)
class Evidence:
    action: str  # the DSN's Action ("" when the report gave none)
    status: str  # the status code chosen from the Status field and the diagnostic
    reply: str  # the SMTP reply code (550), or ""
    command: str  # RCPT, MAIL, DATA, HELO, CONN or ""
    diagnostic: str  # the server's own words, lower-cased, one line
    text: str  # the human-readable part, lower-cased, one line


def classify(action: str, status: str, diagnostic: str, text: str = "", command: str = "",
             matcher: Matcher | None = None, category: str = "") -> Verdict:
    """The verdict on one recipient of one report. `matcher` replaces the wording table (bench/bounces.py
    leaves a family's own phrases out when it scores that family); `category` is the sending relay's own
    filing of the failure, where its DSN gives one."""
    matcher = matcher or _default()
    evidence = gather(action, status, diagnostic, text, command)
    if evidence.action in ("delivered", "relayed", "expanded") or evidence.status.startswith("2."):
        return Verdict("delivered", "", None, evidence.status)
    if category in RELAY_CATEGORIES and evidence.action in ("failed", ""):
        return verdict(RELAY_CATEGORIES[category], evidence)
    if evidence.action == "expired":  # SendGrid's own Action word for a message it gave up retrying
        return verdict("expired", evidence)
    if evidence.action == "delayed" or (not evidence.action.strip() or evidence.action == "failed") and \
            not evidence.diagnostic and DELAY_NOTICE.search(evidence.text):
        return Verdict("delayed", "", None, evidence.status)
    reason = _reason(evidence, matcher)
    return verdict(reason, evidence)


def verdict_of(report, recipient: str = "", matcher: Matcher | None = None) -> Verdict:
    """The verdict on a read report (inbound.reports.Report) for one recipient: its own status line, else the
    first failed one. What bench/bounces.py and the tests score; the flow picks the line by signed path."""
    lines = [s for s in report.recipients if s.address == recipient.lower()] or \
        [s for s in report.recipients if s.action in ("failed", "")] or list(report.recipients)
    return judge(lines[0], report.text, matcher)


def judge(status, text: str, matcher: Matcher | None = None) -> Verdict:
    """The verdict on one recipient's status line of a read report (inbound.reports.RecipientStatus)."""
    return classify(status.action, status.status, status.diagnostic, text, matcher=matcher,
                    category=status.category)


def verdict(reason: str, evidence: Evidence) -> Verdict:
    if reason in READER_PERMANENT and not (reason == "notaccept" and _temporary(evidence)):
        return Verdict(reason, "reader", "hard", evidence.status)
    if reason in READER_PERMANENT or reason in READER_TEMPORARY:
        return Verdict(reason, "reader", "soft", evidence.status)
    if reason in SENDER:
        return Verdict(reason, "sender", "soft", evidence.status)
    return Verdict("unclassified", "", "soft", evidence.status)


def gather(action: str, status: str, diagnostic: str, text: str, command: str) -> Evidence:
    diagnostic, text = _flat(diagnostic), _flat(text)
    found = [_code(m) for words in (diagnostic, text) for m in STATUS_RE.finditer(words[:4000])][:20]
    chosen = _prefer(_code(STATUS_RE.search(status or "")), found)
    reply = REPLY_RE.search(diagnostic) or REPLY_RE.search(text)
    reply_code = reply.group(1) if reply else ""
    if chosen and reply_code and chosen[0] != reply_code[0]:
        reply_code = ""
    return Evidence((action or "").strip().lower(), chosen, reply_code,
                    command or smtp_command(diagnostic) or smtp_command(text), diagnostic, text)


def smtp_command(text: str) -> str:
    """The command the failing reply answered, when the report says; the first one it names."""
    found = [(m.start(), name) for name, pattern in _COMMANDS if (m := pattern.search(text))]
    return min(found)[1] if found else ""


def _reason(e: Evidence, m: Matcher) -> str:
    by_status = reason_of_status(e.status)
    for words in (e.diagnostic, e.text):
        found = _probe(e, m, by_status, words)
        if found:
            return found
    if by_status and by_status not in wording.WEAK:
        return by_status
    for words in (e.diagnostic, e.text):
        for family in ANOTHER:
            if m.says(family, words):
                return family
    if by_status:
        return by_status
    klass = e.status[2:4] if e.status else ""
    if klass == "6.":
        return "contenterror"
    if klass == "7.":
        return "securityerror"
    if e.diagnostic.startswith(("x-unix;", "x-postfix;")):
        return "mailererror"  # the receiving host's local delivery program failed (Sisimai's rule): soft
    if e.reply[:2] in ("50", "40"):
        return "syntaxerror"
    if e.command == "HELO":
        return "blocked"
    return ""


def _probe(e: Evidence, m: Matcher, by_status: str, words: str) -> str:
    """The first family, in wording.FIRST's order, that the status code or these words point to."""
    if m.says("lda_userunknown", words):
        return "userunknown"
    for family in wording.FIRST:
        said = m.says(family, words)
        if family == "userunknown":
            if e.command in ("MAIL", "CONN", "HELO") or m.says("rejected", words) and not NOT_SENDER.search(words):
                continue
            if not (said or by_status == "userunknown") or any(m.says(f, e.diagnostic) or m.says(f, e.text)
                                                               for f in HARD_YIELDS_TO):
                continue  # a 5.1.1 that says "mailbox full" or "blocked using" is that, not an unknown user
            if m.allows("empty_slot") and EMPTY_SLOT.search(words):
                return "filtered"  # whatever code a relay wrapped it in, the receiver's own words say filter
            if by_status == "userunknown":
                return family
            # Wording alone says "unknown user" of the reply to RCPT TO, or where the status code is about the
            # address (5.1.x); after DATA, or when the report names neither, it is the receiving side's
            # filter speaking (Sisimai's rule): soft, unless the words say the whole domain is unknown.
            if e.command == "RCPT" or by_status in READER_PERMANENT or e.status.startswith("5.1.") or (
                    not e.command and not by_status and m.allows("rcpt_echo") and RCPT_ECHO.search(words)):
                return family
            if e.command != "DATA" and m.says("hostunknown", words):
                return "hostunknown"
            return "filtered"
        if family == "hostunknown":
            if e.command in ("MAIL", "CONN", "HELO") or m.says("rejected", words) and not NOT_SENDER.search(words):
                continue
            if (by_status == "hostunknown" and not m.says("networkerror", words)) or said:
                return family
            continue
        if family == "filtered":
            if by_status == "filtered" and (said or m.says("userunknown", words)):
                return family
            if said and e.command not in BEFORE_DATA:
                return family
            continue
        if family == "rejected":
            if by_status == "rejected":
                return family
            if said and not NOT_SENDER.search(words) and (
                    e.command == "MAIL" or (e.command == "DATA" and by_status != "userunknown")
                    or (not e.command and by_status in ("", "securityerror", "systemerror"))):
                return family
            continue
        if family in ("spamdetected", "virusdetected") and e.command in BEFORE_DATA and by_status != family:
            continue
        if family == "contenterror" and m.says("spamdetected", words):
            continue
        if family == "notaccept" and e.reply in ("521", "556"):
            return family
        if family == "suspend" and e.reply == "525":
            return family
        if family == "failedstarttls" and e.reply in ("523", "524", "538"):
            return family
        if said or (by_status == family and family not in ("filtered",)):
            return family
    return ""


# Tried when neither the status code nor the first pass decided (Sisimai's "another one" order).
ANOTHER = ("mailboxfull", "authfailure", "badreputation", "ratelimited", "spamdetected", "virusdetected",
           "policyviolation", "norelaying", "systemerror", "networkerror", "suspend", "contenterror", "systemfull",
           "notaccept", "expired", "failedstarttls", "securityerror", "mailererror")


def _temporary(e: Evidence) -> bool:
    if e.status:
        return e.status[0] == "4"
    if e.reply:
        return e.reply[0] == "4"
    return bool(TEMPORARY_TEXT.search(e.diagnostic or e.text))


def _code(match) -> str:
    return ".".join(match.groups()) if match else ""


def _prefer(field: str, in_text: list[str]) -> str:
    """The Status field unless it is vague (x.0.0, 4.4.7, 4.7.0, 5.3.x, x.5.x, x.y.0) and the words carry a
    more specific code of the same class (a transcript's "550 5.1.1 ... User unknown" after a 5.5.0)."""
    specific = [code for code in in_text if not _vague(code) and (not field or code[0] == field[0])]
    if not field:
        return specific[0] if specific else (in_text[0] if in_text else "")
    return specific[0] if _vague(field) and specific else field


def _vague(code: str) -> bool:
    return code.endswith(".0") or code in ("4.4.7", "4.7.0") or code.startswith("5.3.") or code[1:3] == ".5"


def _flat(text: str) -> str:
    text = _SPACE.sub(" ", (text or "")[:8000]).strip().lower()
    return text.removeprefix("smtp; ").removeprefix("smtp;")

@lru_cache(maxsize=1)
def _default() -> Matcher:
    return Matcher(wording.PHRASES)


def smtp_refusal(error: str) -> Verdict | None:
    """A synchronous refusal our own sender recorded ("addr: 550 5.1.1 ..."), through the same rules.

    A refusal of our envelope sender (" at MAIL FROM: ") or of the message at
    DATA carries the command, so wording about the sender is read as such.
    """
    command = "MAIL" if " at MAIL FROM: " in error else "DATA" if " at DATA: " in error else "RCPT"
    reply = error.split(": ", 1)[1] if ": " in error else error
    reply = reply.removeprefix("at MAIL FROM: ").removeprefix("at DATA: ")
    found = STATUS_RE.search(reply)
    result = classify("failed", found.group(0) if found else "", reply, "", command)
    if command == "MAIL" and result.side == "reader":  # the server refused our address, whatever it says
        return Verdict("rejected", "sender", "soft", result.status)
    return result

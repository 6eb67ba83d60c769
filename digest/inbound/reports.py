"""Reading one returned message: what kind it is and what it says, as plain data.

Standard reports are read with the standard library, field by field:
RFC 3464 delivery status notifications (multipart/report; report-type=
delivery-status: per recipient its Action, Status and Diagnostic-Code) and
RFC 5965 feedback reports (report-type=feedback-report; only abuse, fraud and
opt-out are a reader's complaint, the other types are reports about us). For
the bounces that follow no standard (qmail, Exim, Exchange, Notes texts),
Mailman's flufl.bounce may say which addresses failed, layouts.py reads the
failed addresses and the server's words on each where those servers write
them (what classify.py reads first, as a DSN's Diagnostic-Code), and a message that
plainly is a bounce (from a mailer daemon, a bounce subject, an
X-Failed-Recipients header) counts as one about the delivery its signed
return path names even when no detector finds an address. Neither decides
hard or soft: classify.py does that from the words. Every report carries its
human-readable text, cut where the returned copy of our own message starts
(its words are the newsroom's, not the server's). Auto-replies (RFC 3834)
are told apart from bounces: they never count as one.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses

from flufl.bounce import all_failures

from digest.inbound.classify import DELAY_NOTICE
from digest.inbound.layouts import failed_in_text
from digest.inbound.ses import Notification, read_notification
from digest.inbound.statuses import STATUS_RE
from digest.inbound.text import human_text

AUTO_SUBJECT = re.compile(r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|"
                          r"r[eé]ponse automatique|vacation|away from (my|the) (office|desk)|auto:)", re.IGNORECASE)
TOKEN_RE = re.compile(r"[?&]token=([\w.\-]{10,300})")
# ARF feedback types that are a reader saying "not this mail" (RFC 5965, RFC 6650); the rest are reports.
COMPLAINT_TYPES = {"abuse", "fraud", "opt-out", "opt-out-list"}
BOUNCE_SENDER = re.compile(r"mailer-daemon|mailer_daemon|postmaster|mail delivery|mail administrator|"
                           r"delivery ?subsystem|mailerdaemon|^bounce", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(r"undeliver|undelivered|non-?deliver|delivery (status|failure|has failed|notification|"
                            r"problem|report)|failure notice|returned mail|mail delivery failed|could not be delivered|"
                            r"delivery failed|not delivered|mail failure|message (was )?rejected|bounced|"
                            r"permanent (fatal )?error|delivery error|rejected:|system administrator", re.IGNORECASE)


@dataclass(frozen=True)
class RecipientStatus:
    address: str
    action: str  # failed, delayed, delivered, relayed, expanded ("failed" for non-standard bounces)
    status: str  # x.y.z ("" when the report gives none)
    diagnostic: str = ""
    remote_mta: str = ""
    category: str = ""  # the relay's own category of the failure (PowerMTA's X-PowerMTA-BounceCategory)


@dataclass(frozen=True)
class Report:
    kind: str  # dsn, bounce (non-standard), complaint, report (ARF, not a complaint), auto_reply, unknown
    recipients: tuple[RecipientStatus, ...] = ()
    reporting_mta: str = ""
    feedback_type: str = ""
    original_recipient: str = ""  # ARF Original-Rcpt-To: a hint only, anyone can write it
    unsubscribe_tokens: tuple[str, ...] = ()  # from the returned copy's List-Unsubscribe (signed by us)
    subject: str = ""
    notes: tuple[str, ...] = field(default=())
    text: str = ""  # what the server says to people, without the returned copy of our message


def parse_message(raw: bytes) -> EmailMessage:
    """compat32: headers as plain strings. The default policy's header objects cost 4 ms a report here
    (a flood of 10,000 bounces is what this must take), and nothing below needs them."""
    return email.message_from_bytes(raw, policy=email.policy.compat32)  # type: ignore[return-value]


def read_report(raw: bytes) -> Report:
    """Classify one message. Never raises on odd input: a message we cannot read is `unknown`."""
    try:
        message = parse_message(raw)
        subject = _header(message, "Subject")
        report_type = (message.get_param("report-type", "", header="content-type") or "").lower() \
            if message.get_content_type() == "multipart/report" else ""
        if report_type == "feedback-report" or _part(message, "message/feedback-report") is not None:
            return _feedback(message, subject)
        own = _providers_complaint(message, subject)
        if own is not None:
            return own
        text = human_text(message)
        ses = read_notification(text) if text.lstrip().startswith("{") else None
        if ses is not None:
            return _from_ses(ses, message, subject)
        if "feedback-type" in _inline_fields(text):  # a feedback report whose MIME structure was lost on the way
            return _feedback_report(message, subject, _inline_fields(text))
        if report_type == "delivery-status" or _part(message, "message/delivery-status") is not None:
            dsn = _dsn(message, subject, text)
            if dsn.recipients:
                return dsn
        return _nonstandard(message, subject, text)
    except Exception as exc:  # noqa: BLE001  (hostile mail must not stop the listener; the caller keeps it)
        return Report("unknown", notes=(f"unreadable: {exc.__class__.__name__}: {str(exc)[:200]}",))


def _dsn(message: EmailMessage, subject: str, text: str) -> Report:
    part = _part(message, "message/delivery-status")
    blocks = _status_blocks(part) if part is not None else []
    reporting = _field_value(blocks[0].get("Reporting-MTA", "")) if blocks else ""
    recipients = []
    own_filter = _own_filter(message)
    for block in blocks[1:]:
        address = _field_value(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
        if not address:
            continue
        status = STATUS_RE.search(str(block.get("Status", "")))
        recipients.append(RecipientStatus(
            address=address.lower()[:320], action=str(block.get("Action", "")).strip().lower()[:20],
            status=status.group(0) if status else "", diagnostic=_diagnostic(block.get("Diagnostic-Code", "")),
            remote_mta=_field_value(block.get("Remote-MTA", ""))[:200],
            category=str(block.get("X-PowerMTA-BounceCategory", "")).strip().lower()[:40] or own_filter))
    return Report("dsn", tuple(recipients), reporting_mta=reporting[:200], subject=subject,
                  unsubscribe_tokens=_returned_tokens(message), text=text)


def _status_blocks(part) -> list:
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses message/delivery-status into header blocks
        return payload
    # Some MTAs base64- or quoted-printable-encode it: read the blocks from the decoded text.
    text = part.get_payload(decode=True) or b""
    return [email.message_from_bytes(chunk.strip() + b"\n", policy=email.policy.compat32)
            for chunk in re.split(rb"\r?\n\r?\n", text) if chunk.strip()]


def _feedback(message: EmailMessage, subject: str) -> Report:
    part = _part(message, "message/feedback-report")
    fields = {}
    if part is not None:
        payload = part.get_payload()
        block = payload[0] if isinstance(payload, list) and payload else None
        if block is None:
            block = email.message_from_bytes(part.get_payload(decode=True) or b"", policy=email.policy.compat32)
        fields = {key.lower(): str(value).strip() for key, value in block.items()}
    return _feedback_report(message, subject, fields)


def _feedback_report(message: EmailMessage, subject: str, fields: dict[str, str]) -> Report:
    feedback_type = fields.get("feedback-type", "abuse").lower()[:20]
    return Report("complaint" if feedback_type in COMPLAINT_TYPES else "report", feedback_type=feedback_type,
                  reporting_mta=fields.get("reporting-mta", fields.get("user-agent", ""))[:200],
                  original_recipient=_field_value(fields.get("original-rcpt-to", "")).lower()[:320],
                  unsubscribe_tokens=_returned_tokens(message), subject=subject)


def _providers_complaint(message: EmailMessage, subject: str) -> Report | None:
    """Complaints in a provider's own format rather than ARF: Microsoft's JMRP and Amazon SES forward
    the complained-of message with a "complaint about message from" subject; Apple Mail's unsubscribe
    button mails us with X-Apple-Unsubscribe."""
    if _header(message, "X-Apple-Unsubscribe").strip().lower() == "true":
        return Report("complaint", feedback_type="opt-out", reporting_mta="Apple Mail", subject=subject,
                      unsubscribe_tokens=_returned_tokens(message))
    sender = _header(message, "From").lower()
    if "complaint about message from" in subject.lower() and (
            "staff@hotmail.com" in sender or "complaints@email-abuse.amazonses.com" in sender):
        return Report("complaint", feedback_type="abuse", reporting_mta=sender[:200], subject=subject,
                      unsubscribe_tokens=_returned_tokens(message))
    return None


def _nonstandard(message: EmailMessage, subject: str, text: str) -> Report:
    """A bounce in no standard format, or an auto-reply (vacation mail also goes to the envelope sender).

    An out-of-office subject wins over flufl.bounce's looser detectors; the
    Auto-Submitted header alone does not, since MTAs put it on bounces too.
    """
    bouncy = _looks_like_bounce(message, subject)
    if not bouncy and _is_auto_reply(message, subject):
        return Report("auto_reply", subject=subject)
    tokens = _returned_tokens(message)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # noqa: BLE001  (a detector tripping on odd input: the words below still count)
        temporary, permanent = set(), set()
    # flufl.bounce only says which addresses failed; the words decide hard or soft (classify.py).
    addresses = [_text(a).lower()[:320] for a in (*permanent, *(temporary - permanent))]
    failed = _header(message, "X-Failed-Recipients")
    addresses += [a.strip().lower()[:320] for a in failed.split(",") if "@" in a and a.strip().lower() not in addresses]
    # Where the text names the failed addresses (qmail, Exim, DragonFly, Notes, OpenSMTPD, Sendmail...): those
    # addresses when no detector found one, and what the server said of each as its diagnostic.
    listed = failed_in_text(text, _own_addresses(message))
    addresses = addresses or list(listed)[:20]
    if DELAY_NOTICE.search(" ".join(text[:8000].lower().split())):
        listed = {}  # a warning that the relay still tries: no diagnostic, so classify reads it as the delay it is
    # DSN fields written into the text (a report whose MIME structure was lost, or a provider's "technical
    # report" section) are read as the DSN would be.
    inline = _inline_fields(text)
    status = STATUS_RE.search(inline.get("status", ""))
    action = inline.get("action", "failed").lower()[:20]
    found = (action, status.group(0) if status else "", _field_value(inline.get("diagnostic-code", ""))[:500])
    if addresses:
        category = _own_filter(message)
        group = "googlegroups:refused" if _from_google(message) else ""
        return Report("bounce", tuple(RecipientStatus(a, *found[:2], found[2] or listed.get(a, ""), category=(
            group if group and a.endswith("@googlegroups.com") else category)) for a in addresses),
                      subject=subject, unsubscribe_tokens=tokens, text=text)
    if bouncy:
        # No address found, but a bounce all the same: it is about the delivery its return path names.
        return Report("bounce", (RecipientStatus("", *found),), subject=subject, unsubscribe_tokens=tokens,
                      text=text)
    return Report("unknown", subject=subject, notes=("no bounce, complaint or auto-reply recognised",), text=text)


_INLINE_FIELD = re.compile(r"^[ \t]*(action|status|diagnostic-code|final-recipient|feedback-type|user-agent|"
                           r"reporting-mta|original-rcpt-to)[ \t]*:[ \t]*(.{1,500})$", re.IGNORECASE | re.MULTILINE)


def _inline_fields(text: str) -> dict[str, str]:
    """DSN or ARF fields written as lines of text: the first value of each."""
    fields: dict[str, str] = {}
    for name, value in _INLINE_FIELD.findall(text[:20000]):
        fields.setdefault(name.lower(), value.strip())
    return fields


def _from_ses(note: Notification, message: EmailMessage, subject: str) -> Report:
    """Amazon SES's JSON notification as the report it stands for (its JSON is no words of a server's)."""
    if note.kind == "complaint":
        feedback_type = note.feedback_type or "abuse"  # SES forwards a feedback loop's complaint without a type
        return Report("complaint" if feedback_type in COMPLAINT_TYPES else "report", feedback_type=feedback_type,
                      reporting_mta="Amazon SES", original_recipient=note.recipients[0][0], subject=subject,
                      unsubscribe_tokens=_returned_tokens(message))
    return Report("dsn", tuple(RecipientStatus(address, action, status, diagnostic, category=category)
                               for address, action, status, diagnostic, category in note.recipients),
                  reporting_mta=note.reporting_mta, subject=subject)


def _own_filter(message: EmailMessage) -> str:
    """au (KDDI, EZweb) marks a refusal by the reader's own filter with "X-SPASIGN: NG" (Sisimai's notes)."""
    return "spasign:ng" if _header(message, "X-SPASIGN").strip().upper() == "NG" else ""


def _from_google(message: EmailMessage) -> bool:
    """Google Groups refusing a post (the group is gone, or only members may post) comes from Google's mailer
    daemon with the group in X-Failed-Recipients, worded in the poster's language (Sisimai's notes on Google
    Groups): its recipients get the category "googlegroups:refused", a refusal of us, never a reader's mailbox."""
    return _header(message, "From").lower().rstrip("> ").endswith(("mailer-daemon@googlemail.com",
                                                                    "mailer-daemon@google.com"))


def _own_addresses(message: EmailMessage) -> set[str]:
    """The bounce's own sender and recipients (our return path among them): never the address that failed."""
    values = [_header(message, name) for name in ("From", "To", "Cc", "Reply-To", "Return-Path", "Sender",
                                                  "Delivered-To", "X-Original-To")]
    return {address.lower() for _name, address in getaddresses(values) if "@" in address}


def _looks_like_bounce(message: EmailMessage, subject: str) -> bool:
    """From a mailer daemon or postmaster, with a bounce subject or a failed-recipients header; an
    out-of-office subject from a person is not one."""
    sender = _header(message, "From")
    if _header(message, "X-Failed-Recipients"):
        return True
    if BOUNCE_SENDER.search(sender.split("<")[-1]) or BOUNCE_SENDER.search(sender):
        return not AUTO_SUBJECT.search(subject) or bool(BOUNCE_SUBJECT.search(subject))
    return bool(BOUNCE_SUBJECT.search(subject)) and not AUTO_SUBJECT.search(subject)


def _is_auto_reply(message: EmailMessage, subject: str) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True  # RFC 3834: auto-replied, auto-generated (a DSN was handled above)
    if any(message.get(name) for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")) \
            and AUTO_SUBJECT.search(subject):
        return True
    if _header(message, "Precedence").lower() == "auto_reply" or _header(message, "X-Autoreply").lower() == "yes":
        return True
    return bool(AUTO_SUBJECT.search(subject))


def _returned_tokens(message: EmailMessage) -> tuple[str, ...]:
    """Unsubscribe tokens in the List-Unsubscribe of the returned copy of our message (headers or whole)."""
    values = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            headers = email.message_from_bytes(part.get_payload(decode=True) or b"", policy=email.policy.compat32)
            values.append(str(headers.get("List-Unsubscribe", "")))
        elif kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if hasattr(inner, "get"):
                values.append(str(inner.get("List-Unsubscribe", "")))
    tokens = []
    for value in values:
        for token in TOKEN_RE.findall(value):
            if token not in tokens:
                tokens.append(token)
    return tuple(tokens[:3])


def _part(message: EmailMessage, content_type: str):
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _header(message, name: str) -> str:
    try:
        return str(message.get(name, "") or "")[:500]
    except Exception:  # noqa: BLE001  (a malformed header is as good as none)
        return ""


def _diagnostic(value) -> str:
    """The server's words; a local delivery program's (X-Unix, X-Postfix) keep their type, which says whose."""
    kind = str(value or "").split(";", 1)[0].strip().lower()
    words = _field_value(value)
    return (f"{kind}; {words}" if kind in ("x-unix", "x-postfix") else words)[:500]


def _field_value(value) -> str:
    """"rfc822; a@b" -> "a@b"; "dns; mx.example" -> "mx.example"."""
    text = str(value or "").strip()
    return text.split(";", 1)[1].strip() if ";" in text else text


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

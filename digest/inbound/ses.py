"""Amazon SES's own notifications mailed as JSON (through an SNS topic's email subscription, or as the bare
notification): bounces, complaints and deliveries, per recipient.

A newsroom sending through SES gets its bounces this way rather than as DSNs. The fields are Amazon's
documented ones (notificationType Bounce / Complaint / Delivery; bounce.bouncedRecipients with action,
status and diagnosticCode; bounce.bounceType and bounceSubType; complaint.complainedRecipients and
complaintFeedbackType; delivery.recipients and smtpResponse), as the Sisimai project reads them too. Only
the subtypes that name a cause of their own (a full mailbox, a message too big) become a category; the
rest is read from the status code and the diagnostic like any DSN. Pure: text in, plain data out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_BYTES = 200_000
# bounceType/bounceSubType pairs that name the cause themselves (Amazon's documented subtypes).
SUBTYPES = {("transient", "mailboxfull"): "ses:mailboxfull", ("transient", "messagetoolarge"): "ses:messagetoolarge"}


@dataclass(frozen=True)
class Notification:
    kind: str  # bounce, complaint, delivery
    recipients: tuple[tuple[str, str, str, str, str], ...]  # (address, action, status, diagnostic, category)
    reporting_mta: str = ""
    feedback_type: str = ""  # complaints: complaintFeedbackType, "" when SES gave none


def read_notification(body: str) -> Notification | None:
    """The notification in a mail body, or None when the body is not one (any other mail, broken JSON)."""
    payload = _json(body)
    if isinstance(payload, dict) and isinstance(payload.get("Message"), str):  # the SNS envelope around it
        payload = _json(payload["Message"])
    if not isinstance(payload, dict):
        return None
    kind = str(payload.get("notificationType") or payload.get("eventType") or "").lower()
    if kind == "bounce":
        return _bounce(_object(payload, "bounce"))
    if kind == "complaint":
        part = _object(payload, "complaint")
        found = tuple((address, "", "", "", "") for address in _addresses(part.get("complainedRecipients")))
        return Notification("complaint", found, feedback_type=_text(part.get("complaintFeedbackType"), 40).lower()) \
            if found else None
    if kind == "delivery":
        part = _object(payload, "delivery")
        response = _text(part.get("smtpResponse"), 500)
        found = tuple((address, "delivered", "", response, "") for address in _addresses(part.get("recipients")))
        return Notification("delivery", found, _text(part.get("reportingMTA"), 200)) if found else None
    return None


def _bounce(part: dict) -> Notification | None:
    category = SUBTYPES.get((_text(part.get("bounceType"), 40).lower(), _text(part.get("bounceSubType"), 40).lower()),
                            "")
    found = []
    entries = part.get("bouncedRecipients")
    for entry in entries[:50] if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or "@" not in _text(entry.get("emailAddress"), 320):
            continue
        found.append((_text(entry.get("emailAddress"), 320).lower(), _text(entry.get("action"), 20).lower() or "failed",
                      _text(entry.get("status"), 20), _text(entry.get("diagnosticCode"), 500), category))
    reporting = _text(part.get("reportingMTA"), 200).removeprefix("dsn;").strip()
    return Notification("bounce", tuple(found), reporting) if found else None


def _json(text: str):
    text = text.strip()[:MAX_BYTES]
    if not text.startswith("{"):
        return None
    # The JSON comes first; SNS's footer ("--", the unsubscribe link) follows it. Some transports fold long
    # lines with a "!" at the end.
    for attempt in (text, text.replace("!\r\n", "").replace("!\n", "")):
        try:
            return json.JSONDecoder().raw_decode(attempt)[0]
        except (ValueError, RecursionError):
            continue
    return None


def _object(payload: dict, name: str) -> dict:
    part = payload.get(name)
    return part if isinstance(part, dict) else {}


def _addresses(values) -> list[str]:
    out = []
    for value in values[:50] if isinstance(values, list) else []:
        address = value.get("emailAddress") if isinstance(value, dict) else value
        address = _text(address, 320).lower()
        if "@" in address:
            out.append(address)
    return out


def _text(value, limit: int) -> str:
    return str(value).strip()[:limit] if isinstance(value, (str, int, float)) else ""

"""Amazon SES's own notifications (issue 24), mailed as JSON through an SNS topic's email subscription or bare,
in messages written by the team from Amazon's documented fields: a permanent bounce with 5.1.1 suppresses, a
transient full mailbox scores, a delivery notice (250 2.6.0) and a not-spam report act on nobody, an abuse
complaint unsubscribes. Also SendGrid's "Action: expired" and au's "X-SPASIGN: NG" (the reader's own filter).
"""

from __future__ import annotations

import json

import pytest
from bounce_samples import dsn
from test_bounce_reasons import inbound_listener
from test_bounces import query, return_paths, scores, setup, suppressed

from conftest import free_port, run_cli
from digest.inbound.classify import verdict_of
from digest.inbound.reports import read_report

READER = "ann@reader.example.net"
MAIL = {"timestamp": "2026-12-06T10:00:00.000Z", "source": "news@example.org", "messageId": "0101-abc",
        "destination": [READER]}


def bounce(kind: str, subtype: str, status: str, diagnostic: str, address: str = READER) -> dict:
    return {"notificationType": "Bounce", "mail": MAIL, "bounce": {
        "bounceType": kind, "bounceSubType": subtype, "timestamp": "2026-12-06T10:00:01.000Z",
        "reportingMTA": "dsn; a8-1.smtp-out.eu-west-1.amazonses.com",
        "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": status,
                               "diagnosticCode": diagnostic}]}}


def complaint(feedback_type: str | None, address: str = READER) -> dict:
    body = {"complainedRecipients": [{"emailAddress": address}], "timestamp": "2026-12-06T10:00:01.000Z"}
    if feedback_type:
        body["complaintFeedbackType"] = feedback_type
    return {"notificationType": "Complaint", "mail": MAIL, "complaint": body}


def delivery(address: str = READER) -> dict:
    return {"notificationType": "Delivery", "mail": MAIL, "delivery": {
        "timestamp": "2026-12-06T10:00:01.000Z", "recipients": [address],
        "smtpResponse": "250 2.6.0 Message received", "reportingMTA": "a8-1.smtp-out.eu-west-1.amazonses.com"}}


def notification_mail(payload: dict, to: str = "bounces@bounce.example.net", sns: bool = True) -> bytes:
    body = json.dumps({"Type": "Notification", "MessageId": "5d1e-1", "TopicArn": "arn:aws:sns:eu-west-1:1:ses",
                       "Message": json.dumps(payload)}) if sns else json.dumps(payload)
    return (f"From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: {to}\nSubject: AWS Notification Message\n"
            "X-Amz-Sns-Message-Id: 5d1e-1\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
            f"{body}\n\n--\nIf you wish to stop receiving notifications from this topic, please click below.\n").encode()


@pytest.mark.parametrize(("payload", "expected"), [
    (bounce("Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown"), ("reader", "hard", "userunknown")),
    (bounce("Permanent", "NoEmail", "5.1.1", "smtp; 550 5.1.1 <{r}>: Recipient address rejected"),
     ("reader", "hard", "userunknown")),
    (bounce("Transient", "MailboxFull", "5.2.2", "smtp; 552 5.2.2 Quota exceeded"), ("reader", "soft", "mailboxfull")),
    # The subtype names the cause though the status says nothing particular.
    (bounce("Transient", "MailboxFull", "5.0.0", "smtp; 550 Requested action not taken"),
     ("reader", "soft", "mailboxfull")),
    (bounce("Transient", "MessageTooLarge", "5.3.4", "smtp; 552 message too big"), ("reader", "soft", "emailtoolarge")),
    (bounce("Transient", "ContentRejected", "5.7.1", "smtp; 554 5.7.1 Message rejected as spam"),
     ("sender", "soft", "spamdetected")),
    (delivery(), ("", None, "delivered")),
])
@pytest.mark.parametrize("sns", [True, False], ids=["sns", "bare"])
def test_ses_notifications_per_recipient(payload, expected, sns):
    payload = json.loads(json.dumps(payload).replace("{r}", READER))
    report = read_report(notification_mail(payload, sns=sns))
    assert report.kind == "dsn" and [s.address for s in report.recipients] == [READER]
    verdict = verdict_of(report, READER)
    assert (verdict.side, verdict.kind, verdict.reason) == expected


@pytest.mark.parametrize(("feedback_type", "kind"), [("abuse", "complaint"), (None, "complaint"),
                                                     ("not-spam", "report"), ("virus", "report")])
def test_ses_complaints_act_only_for_a_readers_complaint(feedback_type, kind):
    report = read_report(notification_mail(complaint(feedback_type)))
    assert report.kind == kind and report.original_recipient == READER


@pytest.mark.parametrize("body", ["{not json", '{"notificationType": "Bounce", "bounce": {"bouncedRecipients": 7}}',
                                  '{"notificationType": "Open"}', "{" + "[" * 100_000 + "}", '"{}"'])
def test_broken_or_foreign_json_is_no_notification_and_no_crash(body):
    raw = (f"From: someone@example.org\nTo: bounces@bounce.example.net\nSubject: hello\n\n{body}\n").encode()
    assert read_report(raw).kind in ("unknown", "bounce")


def test_sendgrid_expired_action_and_au_own_filter():
    expired = read_report(dsn("bounces@bounce.example.net", READER, action="expired", status="4.4.7",
                              diagnostic="smtp; 421 could not connect"))
    assert verdict_of(expired, READER).reason == "expired" and verdict_of(expired, READER).kind == "soft"
    raw = dsn("bounces@bounce.example.net", READER, status="5.0.0", diagnostic="smtp; 550 <{r}>: User unknown")
    filtered = read_report(raw.replace(b"MIME-Version:", b"X-SPASIGN: NG\nMIME-Version:", 1))
    assert (verdict_of(filtered, READER).reason, verdict_of(filtered, READER).kind) == ("filtered", "soft")


def test_ses_notifications_through_digest_inbound(tmp_path, smtp_server):
    """End to end, each to its delivery's signed return path: the permanent bounce suppresses its reader, the
    full mailbox scores, the delivery notice and the not-spam report change nothing, the abuse complaint
    unsubscribes."""
    readers = {"hard": "gone@remote.example.net", "full": "full@remote.example.net",
               "delivered": "fine@remote.example.net", "notspam": "happy@remote.example.net",
               "abuse": "angry@remote.example.net"}
    port = free_port()
    config = setup(tmp_path, smtp_server.port, inbound_port=port, readers=tuple(readers.values()))
    assert run_cli("send", "daily", config=config).returncode == 0
    paths = return_paths(smtp_server)
    payloads = {"hard": bounce("Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown", readers["hard"]),
                "full": bounce("Transient", "MailboxFull", "5.2.2", "smtp; 552 5.2.2 full", readers["full"]),
                "delivered": delivery(readers["delivered"]), "notspam": complaint("not-spam", readers["notspam"]),
                "abuse": complaint("abuse", readers["abuse"])}
    with inbound_listener(config, port) as hand_over:
        for name, payload in payloads.items():
            hand_over(paths[readers[name]], notification_mail(payload, to=paths[readers[name]]))
    assert suppressed(config) == {readers["hard"]: "hard_bounce", readers["abuse"]: "complaint"}
    assert set(scores(config)) == {readers["full"]}
    kinds = dict(query(config, "SELECT email, kind FROM feedback"))
    assert kinds[readers["delivered"]] == "delivered" and kinds[readers["notspam"]] == "report"


def test_a_local_delivery_programs_failure_is_the_readers_temporary_trouble():
    """Diagnostic-Code: X-Unix (a pipe or a mailbox program at the receiver) that no wording explains: the
    reader's side, soft (Sisimai's mailererror), never unclassified and never hard."""
    report = read_report(dsn("bounces@bounce.example.net", READER, status="5.0.0",
                             diagnostic="X-Unix; 75 (program exited with status 75)"))
    verdict = verdict_of(report, READER)
    assert (verdict.side, verdict.kind, verdict.reason) == ("reader", "soft", "mailererror")

"""What particular mail servers say about a failure in their own way, as the Sisimai project documents them
(issue 24), in messages written by the team: Google Groups refusing a post (in the poster's language, the group
in X-Failed-Recipients), PowerMTA's own category of each failure in its DSN, and phrases from the per-server
message tables (Gmail, GMX, IMail, Domino, Tencent). A refusal of a post to a group is about us, never a reader's
mailbox; the relay's category decides where it gives one; the rest is read as those servers word it.
"""

from __future__ import annotations

import pytest
from bounce_samples import dsn
from test_bounce_reasons import inbound_listener
from test_bounces import query, return_paths, scores, setup, suppressed

from conftest import free_port, run_cli
from digest.inbound.classify import classify, verdict_of
from digest.inbound.reports import read_report

READER = "ann@reader.example.net"
GROUP = "newsroom-tips@googlegroups.com"

GROUP_NOTICE = {
    "en": "We're writing to let you know that the group you tried to contact ({g}) may not exist, or you may not\n"
          "have permission to post messages to the group. A few more details on why you weren't able to post:\n\n"
          " * You might have spelled or formatted the group name incorrectly.\n"
          " * The owner of the group may have removed this group.\n"
          " * You may need to join the group before receiving permission to post.\n"
          " * This group may not be open to posting.\n",
    "de": "Die Gruppe, die Sie kontaktieren wollten ({g}), existiert möglicherweise nicht, oder Sie sind nicht\n"
          "berechtigt, Nachrichten in dieser Gruppe zu posten.\n\n"
          " * Der Gruppenname ist eventuell falsch geschrieben.\n"
          " * Der Inhaber hat die Gruppe gelöscht.\n"
          " * Sie müssen der Gruppe beitreten, um posten zu können.\n"
          " * In dieser Gruppe kann nicht gepostet werden.\n",
}


def google_notice(failed: str, words: str, sender: str = "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                  to: str = "bounces@bounce.example.net") -> bytes:
    return (f"From: {sender}\nTo: {to}\nSubject: Delivery Status Notification (Failure)\nX-Failed-Recipients: {failed}\n"
            "Date: Sun, 6 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n"
            f"Hello bounces@bounce.example.net,\n\n{words}\nGoogle Groups\n\n----- Original message -----\n"
            "Subject: Today's digest\n\nThe news.\n").encode()


@pytest.mark.parametrize("language", sorted(GROUP_NOTICE))
def test_a_group_refusing_our_post_is_the_senders_side_in_any_language(language):
    report = read_report(google_notice(GROUP, GROUP_NOTICE[language].format(g=GROUP)))
    assert [s.address for s in report.recipients] == [GROUP]
    verdict = verdict_of(report, GROUP)
    assert (verdict.side, verdict.kind, verdict.reason) == ("sender", "soft", "rejected")


def test_gmails_own_notice_about_a_mailbox_is_not_read_as_a_group_refusal():
    words = ("Delivery to the following recipient failed permanently:\n\n     ann@gmail.com\n\n"
             "Technical details of permanent failure:\nThe error that the other server returned was:\n"
             "550-5.1.1 The email account that you tried to reach does not exist.")
    verdict = verdict_of(read_report(google_notice("ann@gmail.com", words)), "ann@gmail.com")
    assert (verdict.side, verdict.kind, verdict.reason) == ("reader", "hard", "userunknown")
    # The same words about a group, from anyone but Google's mailer daemon, prove nothing about the group.
    forged = google_notice(GROUP, GROUP_NOTICE["de"].format(g=GROUP), sender="Postmaster <postmaster@example.org>")
    assert verdict_of(read_report(forged), GROUP).reason != "rejected"


def powermta(category: str, status: str, diagnostic: str, action: str = "failed") -> bytes:
    raw = dsn("bounces@bounce.example.net", READER, status=status, diagnostic=diagnostic, action=action).decode()
    head, _, tail = raw.partition(f"Status: {status}")
    return f"{head}Status: {status}\nX-PowerMTA-BounceCategory: {category}{tail}".encode()


@pytest.mark.parametrize(("category", "status", "diagnostic", "expected"), [
    # PowerMTA filed it as a bad mailbox: hard, though 5.2.1 alone would be a disabled mailbox (soft).
    ("bad-mailbox", "5.2.1", "smtp; 550 5.2.1 <{r}>... User Unknown", ("reader", "hard", "userunknown")),
    ("bad-domain", "5.0.0", "smtp; 550 unrouteable", ("reader", "hard", "hostunknown")),
    ("quota-issues", "5.2.2", "smtp; 552 5.2.2 over quota", ("reader", "soft", "mailboxfull")),
    ("inactive-mailbox", "5.2.1", "smtp; 550 5.2.1 account inactive", ("reader", "soft", "suspend")),
    ("spam-related", "5.7.1", "smtp; 550 5.7.1 User unknown", ("sender", "soft", "spamdetected")),
    ("policy-related", "5.7.1", "smtp; 550 5.7.1 message refused", ("sender", "soft", "policyviolation")),
    ("message-expired", "4.4.7", "smtp; 421 timed out", ("reader", "soft", "expired")),
    # A category PowerMTA's documentation does not list: the words decide as for any DSN.
    ("other", "5.2.2", "smtp; 552 5.2.2 Mailbox full", ("reader", "soft", "mailboxfull")),
])
def test_the_relays_own_category_of_a_failure_decides(category, status, diagnostic, expected):
    report = read_report(powermta(category, status, diagnostic.format(r=READER)))
    assert report.recipients[0].category == category
    verdict = verdict_of(report, READER)
    assert (verdict.side, verdict.kind, verdict.reason) == expected


def test_a_relays_category_on_a_delay_or_a_delivery_acts_on_nobody():
    delayed = verdict_of(read_report(powermta("bad-mailbox", "4.2.0", "smtp; 450 try later", action="delayed")),
                         READER)
    delivered = verdict_of(read_report(powermta("bad-mailbox", "2.0.0", "smtp; 250 ok", action="delivered")),
                           READER)
    assert (delayed.reason, delayed.kind) == ("delayed", None)
    assert (delivered.reason, delivered.kind) == ("delivered", None)


@pytest.mark.parametrize(("words", "expected"), [
    ("Technical details of permanent failure:\nThe recipient server did not accept our requests to connect. "
     "[mx.reader.example.net. 192.0.2.20: socket error]", ("reader", "soft", "expired")),
    # Gmail's longer phrase (expired) takes the words of the general "could not contact dns servers".
    ("DNS Error: Could not contact DNS servers", ("reader", "soft", "expired")),
    ("Reason:\ndelivery retry timeout exceeded", ("reader", "soft", "expired")),
    ("Delivery failed 20 attempts: ann@reader.example.net", ("reader", "soft", "expired")),
    ("Cannot route mail to user (ann@reader.example.net).", ("reader", "soft", "filtered")),
    ("User Ann Reader (ann@reader.example.net) not listed in Domino Directory", ("reader", "hard", "userunknown")),
    ("550 Mail was rejected for ip frequency limited", ("sender", "soft", "ratelimited")),
])
def test_wording_from_the_servers_documented_tables(words, expected):
    verdict = classify("failed", "", "", words)
    assert (verdict.side, verdict.kind, verdict.reason) == expected, verdict


def test_a_group_refusal_and_a_powermta_bad_mailbox_through_digest_inbound(tmp_path, smtp_server):
    """End to end: the group's refusal leaves the group's address subscribed and counts on the sender's side;
    PowerMTA's bad mailbox suppresses its reader."""
    readers = {"group": GROUP, "pmta": "gone@remote.example.net"}
    port = free_port()
    config = setup(tmp_path, smtp_server.port, inbound_port=port, readers=tuple(readers.values()))
    assert run_cli("send", "daily", config=config).returncode == 0
    paths = return_paths(smtp_server)
    with inbound_listener(config, port) as hand_over:
        hand_over(paths[GROUP], google_notice(GROUP, GROUP_NOTICE["en"].format(g=GROUP), to=paths[GROUP]))
        raw = dsn(paths[readers["pmta"]], readers["pmta"], status="5.2.1",
                  diagnostic="smtp; 550 5.2.1 <{r}>... User Unknown").decode()
        head, _, tail = raw.partition("Status: 5.2.1")
        hand_over(paths[readers["pmta"]], f"{head}Status: 5.2.1\nX-PowerMTA-BounceCategory: bad-mailbox{tail}".encode())
    assert suppressed(config) == {readers["pmta"]: "hard_bounce"}
    assert GROUP not in scores(config)
    rows = dict(query(config, "SELECT email, reason FROM feedback"))
    assert rows[GROUP] == "rejected" and rows[readers["pmta"]] == "userunknown"


@pytest.mark.parametrize(("words", "not_reason"), [
    ("550 Mailbox unavailable or access denied", "userunknown"),  # Tencent's rate limit (Sisimai: toomanyconn)
    ("550 Requested action not taken: mailbox unavailable (not enough free space)", "userunknown"),  # a full disk
])
def test_a_longer_phrase_of_another_family_takes_the_shorter_ones_words(words, not_reason):
    """"Mailbox unavailable" answered to RCPT TO is an unknown user; inside a longer phrase that some server
    documents for another reason it is that reason, and neither of these may suppress the reader."""
    verdict = classify("failed", "", words, "", "RCPT")
    assert verdict.reason != not_reason and verdict.kind == "soft", verdict
    assert classify("failed", "", "550 Requested action not taken: mailbox unavailable", "", "RCPT").kind == "hard"


def test_a_bracketed_reason_after_the_address_and_a_content_type_missing_its_semicolon():
    """A server that writes "a@b [User unknown]" under its heading (Sisimai's X1), in a text part whose
    Content-Type lost the ";" before its charset: the part is still read, the address and its words found."""
    boundary = "-----=_part_0"
    raw = (f'From: "Mail Deliver System" <MAILER-DAEMON@relay.example.jp>\nTo: bounces@bounce.example.net\n'
           f'Subject: Returned Mail: User unknown\nMIME-Version: 1.0\n'
           f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n--{boundary}\n'
           'Content-Type: text/plain\n   charset="iso-2022-jp"\n\n'
           "The original message was received at Sun, 6 Dec 2026 10:00:00 +0900 (JST)\n"
           "from news@example.org\n\n---The following addresses had delivery errors---\n\n"
           f"{READER} [User unknown]\n\n--{boundary}\nContent-Type: text/plain\n\nToday's news\n--{boundary}--\n")
    report = read_report(raw.encode())
    assert [(s.address, s.diagnostic) for s in report.recipients] == [(READER, "User unknown")]
    # "User unknown" with no SMTP command named: the receiving side's filter (soft), as Sisimai reads it.
    verdict = verdict_of(report, READER)
    assert (verdict.side, verdict.kind, verdict.reason) == ("reader", "soft", "filtered")


@pytest.mark.parametrize(("status", "words", "expected"), [
    ("5.7.606", "550 5.7.606 Access denied, banned sending IP [192.0.2.1]", ("sender", "blocked")),
    ("5.7.508", "550 5.7.508 Access denied, example.org has exceeded permitted limits", ("sender", "ratelimited")),
    ("5.7.501", "550 5.7.501 Access denied, spam abatement initiated", ("sender", "spamdetected")),
    ("5.4.316", "550 5.4.316 Message expired, connection refused", ("reader", "expired")),
    ("5.7.504", "550 5.7.504 Recipient address rejected: Access denied", ("reader", "filtered")),
])
def test_microsofts_extended_status_codes(status, words, expected):
    """Codes RFC 3463 never assigned that Exchange Online documents: they name the reason wherever they come
    from; none of them suppresses a reader at once."""
    verdict = classify("failed", status, words)
    assert (verdict.side, verdict.reason) == expected and verdict.kind == "soft", verdict

"""Bounces from mail server families we have no dev mail from (issue 24): each layout the Sisimai project
documents (DragonFly, Lotus Notes, OpenSMTPD, Sendmail 5 and 8, qmail, Exim, Postfix's text, Exchange 2003,
Google, BIGLOBE, KDDI, EZweb, MailFoundry, Active!hunter, InterScan, MailMarshal, Deutsche Telekom, SurfControl,
MXLogic, X3, X6) written by the team (tests/bounce_layouts.py), and providers' documented wording in standard
DSNs. The reader must find the failed address and what the server said of it; the classifier must give the side
and kind the policy acts on: hard only for the reader's permanent faults, full mailboxes and expiries soft,
refusals of us on the sender's side, warnings acting on nobody.
"""

from __future__ import annotations

import pytest
from bounce_layouts import layout
from bounce_samples import dsn, vacation
from test_bounce_reasons import inbound_listener
from test_bounces import query, return_paths, scores, setup, suppressed

from conftest import free_port, run_cli
from digest.inbound.classify import classify, verdict_of
from digest.inbound.layouts import failed_in_text
from digest.inbound.reports import read_report

READER = "ann@reader.example.net"
HARD, SOFT, SENDER, NONE = ("reader", "hard"), ("reader", "soft"), ("sender", "soft"), ("", None)
EXIM_RCPT = "SMTP error from remote mail server after RCPT TO:<{r}>:\n    host mx.reader.example.net [192.0.2.20]: "

CASES = [  # layout, the server's words, (side, kind), reason, words the diagnostic must carry
    ("dragonfly", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table", HARD,
     "userunknown", "user unknown"),
    ("dragonfly", "552 5.2.2 <{r}>: Recipient address rejected: Mailbox full", SOFT, "mailboxfull", "mailbox full"),
    ("notes", "User not listed in public Name & Address Book", HARD, "userunknown", "not listed"),
    ("opensmtpd", "550 5.1.1 <{r}>... User Unknown", HARD, "userunknown", "user unknown"),
    ("opensmtpd", "Domain does not exist", HARD, "hostunknown", "domain does not exist"),
    ("opensmtpd", "Invalid domain name", HARD, "hostunknown", "invalid domain name"),
    ("opensmtpd", "Envelope expired", SOFT, "expired", "envelope expired"),
    ("opensmtpd-delay", "421 4.2.2 <{r}>... Mailbox full, try again later", NONE, "delayed", ""),
    ("v5sendmail", "550 <{r}>, User Unknown", HARD, "userunknown", "user unknown"),
    ("qmail", "Sorry, no mailbox here by that name. (#5.1.1)", HARD, "userunknown", "no mailbox here"),
    ("qmail", "192.0.2.20 does not like recipient.\nRemote host said: 552 5.2.2 <{r}>... Mailbox full\n"
              "Giving up on 192.0.2.20.", SOFT, "mailboxfull", "mailbox full"),
    ("qmail", "Connected to 192.0.2.20 but sender was rejected.\nRemote host said: 553 5.7.1 sender refused\n"
              "Giving up on 192.0.2.20.", SENDER, "rejected", "sender was rejected"),
    ("qmail", "Mailaddress is administrativley disabled. (#5.2.1)", SOFT, "suspend", "disabled"),
    ("qmail", "Sorry, I couldn't find any host named reader.example.net. (#5.1.2)", HARD, "hostunknown",
     "couldn't find any host"),
    ("qmail", "The message exeeded the maximum size the user accepts (#5.2.3)", SOFT, "emailtoolarge", "maximum size"),
    ("exim", EXIM_RCPT + "550 5.1.1 <{r}>... User unknown", HARD, "userunknown", "user unknown"),
    ("exim", "mailbox is full (quota exceeded while writing to file /var/mail/ann)", SOFT, "mailboxfull",
     "mailbox is full"),
    ("exim", EXIM_RCPT + "550 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org",
     SENDER, "blocked", "blocked using"),
    ("exim", "Unrouteable address", HARD, "hostunknown", "unrouteable address"),
    ("exim", "all relevant MX records point to non-existent hosts", HARD, "hostunknown", "non-existent hosts"),
    ("exim", "retry timeout exceeded", SOFT, "expired", "retry timeout"),
    ("postfix-text", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox\n    table (in "
                     "reply to RCPT TO command)", HARD, "userunknown", "user unknown"),
    ("postfix-text", "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using\n    bl.spamcop.net "
                     "(in reply to RCPT TO command)", SENDER, "blocked", "blocked using"),
    ("sendmail-text", "550 5.1.1 <{r}>... User unknown", HARD, "userunknown", "user unknown"),
    ("sendmail-text", "554 5.7.1 Message rejected as spam", SENDER, "spamdetected", "spam"),
    ("exchange2003", "MSEXCH:IMS:READER:EXAMPLE:EXCHANGE 0 (000C05A6) Unknown Recipient", HARD, "userunknown",
     "unknown recipient"),
    ("google", "Google tried to deliver your message, but it was rejected by the server for the recipient domain\n"
               "reader.example.net by mx.reader.example.net. [192.0.2.20].\n\nThe error that the other server "
               "returned was:\n550 5.1.1 <{r}>... User Unknown", HARD, "userunknown", ""),
    ("google", "DNS Error: Domain name not found", HARD, "hostunknown", ""),
    ("biglobe", "The number of messages in recipient's mailbox exceeded the local limit.", SOFT, "mailboxfull",
     "exceeded the local limit"),
    ("kddi", "As their mailbox is full.", SOFT, "mailboxfull", "mailbox is full"),
    ("kddi", "As the remote domain doesnt exist.", HARD, "hostunknown", "remote domain doesnt exist"),
    ("mailfoundry", "550 5.1.1 <{r}>... No such user here", HARD, "userunknown", "no such user"),
    ("activehunter", "550 sorry, no mailbox here by that name (#5.1.1 - chkusr)", HARD, "userunknown",
     "no mailbox here"),
    ("interscan", "550 5.1.1 <{r}>... user unknown", HARD, "userunknown", "user unknown"),
    ("x6", "550 5.1.1 User unknown", HARD, "userunknown", "user unknown"),
    ("mailmarshal", "550 5.1.1 User unknown", HARD, "userunknown", ""),
    ("telekom", "552 5.2.2 <{r}> Quota exceeded (mailbox for user is full)", SOFT, "mailboxfull", "quota exceeded"),
    ("surfcontrol", "550 5.7.1 Service unavailable; client [192.0.2.9] blocked using bl.spamcop.net", SENDER,
     "blocked", "blocked using"),
    ("x3", "553 5.1.1 <{r}>... No such user here", HARD, "userunknown", "no such user"),
    ("ezweb", "550 <{r}>: User unknown", HARD, "userunknown", "user unknown"),
    ("mxlogic", "550 5.1.1 <{r}>... User Unknown", HARD, "userunknown", "user unknown"),
    ("mxlogic", "452 4.2.2 <{r}>... Mailbox full, quota exceeded", SOFT, "mailboxfull", "mailbox full"),
]


@pytest.mark.parametrize(("name", "reply", "side_kind", "reason", "said"), CASES,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_each_documented_layout_names_the_reader_and_gets_side_and_kind(name, reply, side_kind, reason, said):
    report = read_report(layout(name, READER, reply))
    assert report.kind == "bounce"
    assert [s.address for s in report.recipients] == [READER]
    if said:
        assert said in report.recipients[0].diagnostic.lower(), report.recipients[0]
    verdict = verdict_of(report, READER)
    assert (verdict.side, verdict.kind, verdict.reason) == (*side_kind, reason)


PROVIDERS = [  # Diagnostic-Code of a standard DSN, its status, (side, kind), reason
    ("smtp; 550 5.1.1 RCP-P1 The attempted recipient address does not exist.", "5.1.1", HARD, "userunknown"),
    ("smtp; 554 5.7.1 POL-P2 Facebook will no longer accept mail from your mail server's IP Address.", "5.7.1",
     SENDER, "securityerror"),
    ("smtp; 553-mail rejected because your IP is in the PBL. See http://www.spamhaus.org/pbl", "5.0.0", SENDER,
     "blocked"),
    ("smtp; 554 AUP#CXBL The sending IP address has been blocked by Cox", "5.0.0", SENDER, "blocked"),
    ("smtp; 554 5.7.1 AUP#I-1110 The IP address you are connecting from has an issue with DNS", "5.7.1", SENDER,
     "requireptr"),
    ("smtp; 550 5.7.1 AUP#I-1350 Too many messages in a short period", "5.7.1", SENDER, "ratelimited"),
    ("smtp; 550 5.7.26 This message fails to pass SPF checks for an SPF record with a hard fail policy (-all).",
     "5.7.26", SENDER, "authfailure"),
    ("smtp; 452 4.2.2 The email account that you tried to reach is over quota.", "4.2.2", SOFT, "mailboxfull"),
    ("smtp; 550 5.2.1 The email account that you tried to reach is inactive.", "5.2.1", SOFT, "suspend"),
    ("smtp; 554 5.7.1 192.0.2.9 found on one or more DNSBLs (abusixip)", "5.7.1", SENDER, "blocked"),
    ("smtp; 553 5.1.8 sender envelope domain not allowed for sender IP address", "5.1.8", SENDER, "rejected"),
    ("smtp; 550 5.7.1 Our system has detected that this message is likely unsolicited mail.", "5.7.1", SENDER,
     "spamdetected"),
]


@pytest.mark.parametrize(("diagnostic", "status", "side_kind", "reason"), PROVIDERS)
def test_providers_documented_wording_in_a_dsn(diagnostic, status, side_kind, reason):
    report = read_report(dsn("bounces@bounce.example.net", READER, status=status, diagnostic=diagnostic))
    verdict = verdict_of(report, READER)
    assert (verdict.side, verdict.kind, verdict.reason) == (*side_kind, reason)


# MTAs that name the SMTP command in prose, with no x.y.z code: "no such user" answered to RCPT TO is the
# reader's permanent fault; the same words with no command named stay the receiving filter's (soft).
PROSE_COMMANDS = [
    ("192.0.2.20 does not like recipient.\nRemote host said: 550 No such user", HARD),
    ("mx.reader.example.net [192.0.2.20] did not like our RCPT TO:\n550 No such user here", HARD),
    ("RCPT TO: ann@reader.example.net\n550 - Requested action not taken: no such user here", HARD),
    ("SMTP:RCPT host mx.reader.example.net: 550 user unknown", HARD),
    ("192.0.2.20 does not like recipient.\nRemote host said: 550 5.7.1 blocked using zen.spamhaus.org", SENDER),
    ("Connected to 192.0.2.20 but sender was rejected.\nRemote host said: 550 user unknown", SENDER),
    ("Remote host said: 550 No such user", SOFT),
]


# A refusal that sends us to a public blocklist's lookup page is about our IP address, even when the relay's
# transcript goes on to an "unknown user" from its own retry.
DNSBL = [
    "554 Service unavailable; see http://www.sorbs.net/lookup.shtml?192.0.2.1\n>>> RCPT TO:<ann@reader.example.net>"
    "\n<<< 550 5.1.1 <ann@reader.example.net>... User unknown",
    "550 Your IP 192.0.2.1 is listed at uceprotect.net",
    "554 Refused. See https://mailspike.net/anubis/lookup.html?ip=192.0.2.1",
    "550 5.7.1 Client host rejected: see https://www.abuseat.org/lookup.cgi?ip=192.0.2.1",
]


@pytest.mark.parametrize("words", DNSBL)
def test_a_blocklist_named_by_its_domain_is_the_senders_side(words):
    verdict = classify("failed", "", "", words, "RCPT")
    assert (verdict.side, verdict.kind, verdict.reason) == ("sender", "soft", "blocked"), verdict


@pytest.mark.parametrize(("words", "side_kind"), PROSE_COMMANDS)
def test_the_command_named_in_prose_decides_an_unknown_user(words, side_kind):
    verdict = classify("failed", "", "", words)
    assert (verdict.side, verdict.kind) == side_kind, verdict


def test_the_bounce_own_addresses_and_the_postmaster_are_never_the_failed_one():
    text = ("Please contact <postmaster@reader.example.net> for help.\n\n"
            "bounces@bounce.example.net: this is our return path\n<ann@reader.example.net>:\nUser unknown\n")
    assert failed_in_text(text, {"bounces@bounce.example.net"}) == {"ann@reader.example.net": "User unknown"}
    assert failed_in_text("no address here\n" * 1000) == {}


def test_an_auto_reply_naming_an_address_on_a_line_of_its_own_is_no_bounce():
    raw = vacation("bounces@bounce.example.net", READER).replace(
        b"when I return.", b"when I return.\r\n\r\n<colleague@reader.example.net>:\r\nfor urgent matters")
    assert read_report(raw).kind == "auto_reply"


def test_hard_bounces_of_the_families_kept_unread_before_suppress_through_digest_inbound(tmp_path, smtp_server):
    """The outside run kept DragonFly, Notes, OpenSMTPD and Sendmail 5 hard bounces unread: through one real
    `digest inbound` each suppresses its reader now; a delay warning and a full mailbox suppress nobody."""
    readers = {"dragonfly": "df@remote.example.net", "notes": "notes@remote.example.net",
               "opensmtpd": "smtpd@remote.example.net", "v5sendmail": "v5@remote.example.net",
               "opensmtpd-delay": "later@remote.example.net", "qmail": "full@remote.example.net"}
    replies = {"notes": "User not listed in public Name & Address Book", "opensmtpd-delay": "421 4.3.0 try later",
               "qmail": "192.0.2.20 does not like recipient.\nRemote host said: 552 5.2.2 Mailbox full"}
    port = free_port()
    config = setup(tmp_path, smtp_server.port, inbound_port=port, readers=tuple(readers.values()))
    assert run_cli("send", "daily", config=config).returncode == 0
    paths = return_paths(smtp_server)
    with inbound_listener(config, port) as hand_over:
        for name, reader in readers.items():
            reply = replies.get(name, "550 5.1.1 <{r}>... User unknown")
            hand_over(paths[reader], layout(name, reader, reply, to=paths[reader]))
    hard = {readers[name]: "hard_bounce" for name in ("dragonfly", "notes", "opensmtpd", "v5sendmail")}
    assert suppressed(config) == hard
    assert set(scores(config)) == {"full@remote.example.net"}
    kinds = dict(query(config, "SELECT email, kind FROM feedback"))
    assert kinds["later@remote.example.net"] == "delayed" and kinds["full@remote.example.net"] == "soft"

"""Which words and reply shapes make "user unknown" the reader's missing mailbox, and which make it their own
filter (issue 24): a false hard loses a reader for good, a false soft only mails a dead address a few more
times, so each rule is pinned here on messages written by the team, never on third-party mail.
"""

from __future__ import annotations

from bounce_samples import dsn
from conftest import free_port, run_cli
from test_bounce_reasons import inbound_listener
from test_bounces import return_paths, scores, setup, suppressed

from digest.inbound import wording
from digest.inbound.classify import Matcher, classify
from digest.inbound.reports import read_report

ANN = "ann@remote.example.net"


def verdict(diagnostic: str, text: str = "", status: str = "5.0.0"):
    v = classify("failed", status, diagnostic, text)
    return v.reason, v.kind


def test_a_reply_naming_the_refused_address_answers_rcpt_to():
    # Sendmail's and KDDI's shape: the address, then "user unknown": the answer to that RCPT TO.
    assert verdict(f"smtp; 550 <{ANN}>: User unknown") == ("userunknown", "hard")
    assert verdict(f"smtp; 550 <{ANN}>... User unknown") == ("userunknown", "hard")
    assert verdict("", f"Sorry, I could not deliver it.\n<{ANN}>:\n550: <{ANN}>: User unknown", "") == \
        ("userunknown", "hard")
    # Without the address, or after DATA, or where the status code says the mailbox exists but refuses
    # (5.2.1, disabled), it is still the receiver's filter: soft.
    assert verdict(f"smtp; 550 Unknown user {ANN}") == ("filtered", "soft")
    assert verdict(f"smtp; 550 <{ANN}>: User unknown (in reply to end of DATA command)") == ("filtered", "soft")
    assert verdict(f"smtp; 550 5.2.1 <{ANN}>... User unknown", status="5.2.1") == ("filtered", "soft")
    # The bounce's own list of addresses is not the receiver's reply: no reply code before the address.
    assert verdict("", f"The following address failed:\n<{ANN}>: user unknown", "") == ("filtered", "soft")


def test_user_unknown_with_the_address_left_empty_is_the_readers_own_filter():
    assert verdict("smtp; 550 : User unknown") == ("filtered", "soft")
    assert verdict("", f"<{ANN}>:\n550: : User unknown", "") == ("filtered", "soft")
    # Even when a relay wrapped the receiver's answer in its own 5.1.x code.
    relayed = "smtp; 550 5.1.1 Remote server said unknown recipient -> 550 : User unknown"
    assert verdict(relayed, status="5.1.1") == ("filtered", "soft")
    assert verdict("smtp; 550 5.1.1 <ann@remote.example.net>: User unknown", status="5.1.1") == \
        ("userunknown", "hard")


def test_providers_that_refuse_an_unknown_user_only_after_data():
    after_data = " (in reply to end of DATA command)"
    yahoo = "smtp; 554 delivery error: dd This user doesn't have a yahoo.com account (ann@yahoo.com) [0] - mta1"
    assert verdict(yahoo + after_data) == ("userunknown", "hard")
    assert verdict("smtp; 552 1 Requested mail action aborted, mailbox not found" + after_data) == \
        ("userunknown", "hard")
    # The same provider's "no longer valid" is a suspended account: scored, never suppressed at once.
    assert verdict("smtp; 554 delivery error: dd ann@yahoo.com is no longer valid. [-20]") == ("suspend", "soft")


def _notes_bounce(because: str) -> bytes:
    return (f"From: Postmaster@notes.remote.example.net\r\nTo: bounces@gazette.example.org\r\n"
            f"Subject: DELIVERY FAILURE: {ANN}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Your message\r\n\r\n  Subject: a digest\r\n\r\nwas not delivered to:\r\n\r\n  {ANN}\r\n\r\n"
            f"because:\r\n\r\n  {because}\r\n").encode()


def test_a_directory_that_has_no_such_person_in_other_languages():
    for because in (f"ユーザー Ann ({ANN}) は Domino ディレクトリには見つかりません。",
                    f"Utilisateur Ann ({ANN}) non répertorié dans l'annuaire Domino"):
        report = read_report(_notes_bounce(because))
        v = classify("failed", "", "", report.text)
        assert (report.kind, v.reason, v.kind) == ("bounce", "userunknown", "hard"), because


def test_a_rule_learnt_from_dev_mail_is_switched_off_like_its_phrases():
    """bench/bounces.py scores a family without what was learnt from it: rules by name, phrases by text."""
    echo = [p for p in wording.PHRASES if p.reason == "rule" and p.text == "rcpt_echo"]
    assert echo and echo[0].families and all(f.startswith(("lhost-", "rhost-")) for f in echo[0].families)
    assert wording.Phrase("rule", "x", "dev:lhost-a, lhost-b").families == ("lhost-a", "lhost-b")
    assert wording.Phrase("userunknown", "x").families == ()
    family = echo[0].families[0]
    without = Matcher([p for p in wording.PHRASES if family not in p.families])
    reply = f"smtp; 550 <{ANN}>: User unknown"
    assert classify("failed", "5.0.0", reply).kind == "hard"
    assert classify("failed", "5.0.0", reply, matcher=without).reason == "filtered"


def test_through_digest_inbound_a_missing_user_is_suppressed_and_a_filter_only_scores(tmp_path, smtp_server):
    port = free_port()
    readers = (ANN, "bob@remote.example.net", "cat@remote.example.net")
    config = setup(tmp_path, smtp_server.port, inbound_port=port, readers=readers)
    assert run_cli("send", "daily", config=config).returncode == 0
    paths = return_paths(smtp_server)
    yahoo = "smtp; 552 1 Requested mail action aborted, mailbox not found (in reply to end of DATA command)"
    with inbound_listener(config, port) as hand_over:
        hand_over(paths[ANN], dsn(paths[ANN], ANN, status="5.0.0", diagnostic=yahoo))
        bob, cat = "bob@remote.example.net", "cat@remote.example.net"
        hand_over(paths[bob], dsn(paths[bob], bob, status="5.0.0", diagnostic="smtp; 550 <{r}>: User unknown"))
        hand_over(paths[cat], dsn(paths[cat], cat, status="5.0.0", diagnostic="smtp; 550 : User unknown"))
    assert suppressed(config) == {ANN: "hard_bounce", "bob@remote.example.net": "hard_bounce"}
    assert set(scores(config)) == {"cat@remote.example.net"}

"""Bounces and complaints close the loop by themselves (issue 15).

Returned mail is fed to the real `digest inbound`, on standard input (--pipe)
and over SMTP; the end-to-end case goes through a real Postfix relay that
writes the DSNs itself.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess

import pytest
import sqlalchemy as sa
from bounce_samples import arf, dsn, qmail_bounce, vacation
from conftest import SECRET, _cli, copy_feed, free_port, import_readers, run_cli, start_cli, wait_until, write_config

from digest import returnpath

READERS = ("ann@remote.example.net", "dead@remote.example.net", "full@remote.example.net", "bob@remote.example.net")
SECOND = """
[[newsletters]]
slug = "weekly"
title = "Gazette Weekly"
from_address = "Gazette Weekly <weekly@gazette.example.org>"
[[newsletters.sources]]
name = "Wire"
url = "wire.xml"
"""


def setup(tmp_path, smtp_port: int, inbound_port: int = 2525, readers=READERS, weekly: bool = False):
    copy_feed("wire.xml", tmp_path)
    config = write_config(tmp_path, smtp_port=smtp_port, sources="""
        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"
        """)
    config.write_text(config.read_text() + f"""
[bounces]
domain = "bounce.example.net"
listen_port = {inbound_port}
max_message_bytes = 200000
max_messages_per_connection = 3
""" + (SECOND if weekly else ""))
    (tmp_path / "readers.csv").write_text("email\n" + "\n".join(readers) + "\n")
    for slug in ("daily", "weekly") if weekly else ("daily",):
        import_readers(config, newsletter=slug)
    return config


def db(config):
    return sa.create_engine(f"sqlite:///{config.parent / 'digest.db'}")


def query(config, sql: str, **params):
    with db(config).connect() as connection:
        return connection.execute(sa.text(sql), params).all()


def suppressed(config) -> dict[str, str]:
    return dict(query(config, "SELECT email, reason FROM suppressions WHERE active"))


def scores(config) -> dict[str, float]:
    return dict(query(config, "SELECT email, score FROM bounce_scores"))


def pipe(config, recipient: str, raw: bytes) -> subprocess.CompletedProcess:
    command, env = _cli(("inbound", "--pipe", "--recipient", recipient), config, None)
    return subprocess.run(command, input=raw, capture_output=True, env=env, cwd=config.parent, timeout=60)


def return_paths(smtp_server) -> dict[str, str]:
    """Each reader's envelope sender, as the relay saw it."""
    return {m.rcpt_tos[0]: m.mail_from for m in smtp_server.messages}


def test_return_path_is_signed_and_forgeries_name_nobody():
    address = returnpath.for_delivery(SECRET, "bounces", "bounce.example.net", 1234)
    assert address.startswith("bounces+d1234.") and address.endswith("@bounce.example.net")
    assert returnpath.read(SECRET, "bounces", "bounce.example.net", address).delivery_id == 1234
    assert returnpath.read(SECRET, "bounces", "bounce.example.net", address.upper()).delivery_id == 1234  # case folded
    assert returnpath.read(SECRET, "bounces", "bounce.example.net", address.replace("d1234", "d1235")) is None
    assert returnpath.read("another-site-key", "bounces", "bounce.example.net", address) is None
    assert returnpath.read(SECRET, "bounces", "bounce.example.net", "bounces@bounce.example.net") is None
    one_off = returnpath.for_address(SECRET, "bounces", "bounce.example.net", "Ann@Remote.Example.net")
    path = returnpath.read(SECRET, "bounces", "bounce.example.net", one_off)
    assert path.matches_address(SECRET, "ann@remote.example.net") and not path.matches_address(SECRET, "bob@remote.example.net")


def test_reports_act_on_the_signed_delivery_only(tmp_path, smtp_server):
    config = setup(tmp_path, smtp_server.port, weekly=True)
    assert run_cli("send", "daily", config=config).returncode == 0
    paths = return_paths(smtp_server)
    assert len(set(paths.values())) == 4 and all(p.startswith("bounces+d") for p in paths.values())

    # A hard bounce (RFC 3464): suppressed at once, recorded with the status and the reporting MTA.
    hard = pipe(config, paths["dead@remote.example.net"], dsn(paths["dead@remote.example.net"], "dead@remote.example.net"))
    assert hard.returncode == 0 and b"suppressed (hard bounce)" in hard.stdout, hard.stderr
    assert suppressed(config) == {"dead@remote.example.net": "hard_bounce"}
    # The same DSN again (an MTA retrying after our crash) counts once.
    again = pipe(config, paths["dead@remote.example.net"], dsn(paths["dead@remote.example.net"], "dead@remote.example.net"))
    assert b"already recorded" in again.stdout
    # Mailbox full: a soft bounce adds to a score, suppresses nobody yet.
    soft = pipe(config, paths["full@remote.example.net"], dsn(paths["full@remote.example.net"], "full@remote.example.net",
                                                      status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"))
    assert b"soft bounce score 1/5" in soft.stdout, soft.stdout
    assert scores(config) == {"full@remote.example.net": 1.0} and "full@remote.example.net" not in suppressed(config)
    # "delayed" is no failure; a vacation note is no bounce.
    delayed = pipe(config, paths["ann@remote.example.net"], dsn(paths["ann@remote.example.net"], "ann@remote.example.net",
                                                         action="delayed", status="4.4.7"))
    assert b"delayed" in delayed.stdout and b"nothing to do" in delayed.stdout
    away = pipe(config, paths["ann@remote.example.net"], vacation(paths["ann@remote.example.net"], "ann@remote.example.net"))
    assert b"auto-reply; nothing to do" in away.stdout
    assert set(suppressed(config)) == {"dead@remote.example.net"} and set(scores(config)) == {"full@remote.example.net"}

    # Forged: a made-up signature, a signature for a delivery that does not exist, an unsigned address.
    forged = paths["ann@remote.example.net"].split(".")[0] + ".aaaaaaaaaa@bounce.example.net"
    made_up = returnpath.for_delivery("not-our-key", "bounces", "bounce.example.net", 1)
    unknown = returnpath.for_delivery(SECRET, "bounces", "bounce.example.net", 999999)
    for address in (forged, made_up, unknown, "bounces@bounce.example.net"):
        result = pipe(config, address, dsn(address, "ann@remote.example.net"))
        assert result.returncode == 0 and b"kept" in result.stdout, (address, result.stdout)
    assert set(suppressed(config)) == {"dead@remote.example.net"}
    assert query(config, "SELECT count(*) FROM kept_mail")[0][0] == 4

    # A complaint (RFC 5965) through the signed return path: out of every newsletter, suppressed.
    complaint = pipe(config, paths["bob@remote.example.net"], arf(paths["bob@remote.example.net"],
                                                           original_rcpt="bob@remote.example.net"))
    assert b"spam complaint" in complaint.stdout and b"daily, weekly" in complaint.stdout, complaint.stdout
    states = dict(query(config, "SELECT s.newsletter, s.status FROM subscriptions s JOIN subscribers p "
                                "ON p.id = s.subscriber_id WHERE p.email = 'bob@remote.example.net'"))
    assert states == {"daily": "unsubscribed", "weekly": "unsubscribed"}
    assert suppressed(config)["bob@remote.example.net"] == "complaint"

    # Everything is in the person's record.
    export = run_cli("subscribers", "export", "dead@remote.example.net", config=config)
    assert '"bounce_hard"' in export.stdout and '"suppressed"' in export.stdout and "5.1.1" in export.stdout

    # The next issue skips the suppressed (no outbox row at all), mails the soft-bounced one.
    smtp_server.messages.clear()
    assert run_cli("send", "daily", "--force", "--no-fetch", config=config).returncode == 0
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == ["ann@remote.example.net", "full@remote.example.net"]
    rows = query(config, "SELECT email FROM deliveries WHERE issue_id = 2")
    assert sorted(r[0] for r in rows) == ["ann@remote.example.net", "full@remote.example.net"]

    status = run_cli("status", "daily", config=config)
    assert "bounced hard 1  soft 1  sender-side 0  unclassified 0  complaints 1" in status.stdout, status.stdout
    assert "reasons: mailboxfull 1 (soft, reader), userunknown 1 (hard, reader)" in status.stdout
    assert "complaint rate" in status.stdout and "ALARM" in status.stdout  # 1 of 6 sent: far past 0.3%


def test_complaints_without_a_return_path_need_our_own_signed_token(tmp_path, smtp_server):
    """Feedback loops often send to a fixed address: the returned copy's unsubscribe link names the
    reader; a report that only claims an address (Original-Rcpt-To) acts on nobody."""
    config = setup(tmp_path, smtp_server.port)
    assert run_cli("send", "daily", config=config).returncode == 0
    copy = next(m for m in smtp_server.messages if m.rcpt_tos[0] == "ann@remote.example.net").message
    headers = f"List-Unsubscribe: {copy['List-Unsubscribe']}"
    fbl = "bounces@bounce.example.net"
    claimed = pipe(config, fbl, arf(fbl, original_rcpt="bob@remote.example.net"))
    assert b"no reader we can verify; kept" in claimed.stdout
    signed = pipe(config, fbl, arf(fbl, original_rcpt="someone@else.example.net", returned_headers=headers))
    assert b"ann@remote.example.net: spam complaint" in signed.stdout, signed.stdout
    assert suppressed(config) == {"ann@remote.example.net": "complaint"}
    not_spam = pipe(config, fbl, arf(fbl, feedback_type="not-spam", returned_headers=headers))
    assert b"not-spam" in not_spam.stdout


def test_nonstandard_bounce_formats_and_unreadable_mail(tmp_path, smtp_server):
    config = setup(tmp_path, smtp_server.port)
    assert run_cli("send", "daily", config=config).returncode == 0
    paths = return_paths(smtp_server)
    result = pipe(config, paths["dead@remote.example.net"], qmail_bounce(paths["dead@remote.example.net"], "dead@remote.example.net"))
    assert b"hard bounce" in result.stdout, result.stdout
    assert suppressed(config) == {"dead@remote.example.net": "hard_bounce"}
    for junk in (b"\x00\xff garbage with no headers", b"Content-Type: multipart/report; boundary=\r\n\r\n--",
                 b"From: x\r\nSubject: hello\r\n\r\njust a note"):
        kept = pipe(config, paths["ann@remote.example.net"], junk)
        assert kept.returncode == 0 and b"kept" in kept.stdout, kept
    big = pipe(config, paths["ann@remote.example.net"], b"Subject: x\r\n\r\n" + (b"a" * 900 + b"\r\n") * 350)
    assert big.returncode == 65 and b"larger than" in big.stderr
    assert set(suppressed(config)) == {"dead@remote.example.net"}


def test_refusals_at_our_relay_count_but_a_refused_sender_never_does(tmp_path, smtp_server):
    config = setup(tmp_path, smtp_server.port)
    smtp_server.replies = {"dead@remote.example.net": "550 5.1.1 <dead@remote.example.net>: Recipient address rejected",
                           "full@remote.example.net": "552 5.2.2 Mailbox full",
                           "bob@remote.example.net": "554 5.7.1 Message rejected as spam by policy"}
    assert run_cli("send", "daily", config=config).returncode == 0
    assert suppressed(config) == {"dead@remote.example.net": "hard_bounce"}  # a policy block and a full box are soft
    # A full mailbox is the reader's trouble: it scores. A spam refusal is the receiving server's view of us:
    # it never touches the reader, and counts toward remote.example.net's sender reputation.
    assert scores(config) == {"full@remote.example.net": 1.0}
    assert dict((e, (s, r)) for e, s, r in query(config, "SELECT email, side, reason FROM feedback")) == {
        "dead@remote.example.net": ("reader", "userunknown"), "full@remote.example.net": ("reader", "mailboxfull"),
        "bob@remote.example.net": ("sender", "spamdetected")}
    assert "remote.example.net: 1 of 4 came back sender-side (25%): warning" in run_cli(
        "status", config=config).stdout


def test_adding_back_and_signing_up_again(tmp_path, smtp_server):
    config = setup(tmp_path, smtp_server.port)
    with db(config).begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO suppressions (email, active, reason, detail, created_at, lifted_reason) VALUES "
            "('dead@remote.example.net', 1, 'hard_bounce', '5.1.1', '2026-11-01 00:00:00', ''), "
            "('bob@remote.example.net', 1, 'complaint', 'abuse', '2026-11-01 00:00:00', '')"))
    added = run_cli("subscribers", "add", "dead@remote.example.net", "-n", "daily", "--confirmed", config=config)
    assert added.returncode == 1 and "suppressed (hard bounce" in added.stderr
    (tmp_path / "again.csv").write_text("email\ndead@remote.example.net\nbob@remote.example.net\nnew@remote.example.net\n")
    imported = run_cli("subscribers", "import", "again.csv", "-n", "daily", "--consent-obtained", config=config)
    assert "1 added" in imported.stdout and "2 suppressed" in imported.stdout, imported.stdout
    listed = run_cli("subscribers", "suppressions", "list", "--csv", config=config)
    assert "dead@remote.example.net,yes,hard_bounce" in listed.stdout
    no_reason = run_cli("subscribers", "suppressions", "lift", "bob@remote.example.net", config=config)
    assert no_reason.returncode != 0
    lifted = run_cli("subscribers", "suppressions", "lift", "bob@remote.example.net", "--reason", "asked by phone",
                     config=config)
    assert lifted.returncode == 0 and "lifted" in lifted.stdout
    assert set(suppressed(config)) == {"dead@remote.example.net"}
    history = run_cli("subscribers", "export", "bob@remote.example.net", config=config).stdout
    assert "suppression_lifted" in history and "asked by phone" in history


def test_signup_lifts_a_bounce_suppression_but_not_a_complaint():
    from datetime import datetime, timezone

    from sqlalchemy.orm import Session

    from subscribers import Origin, confirm_signup, request_signup, suppress
    from subscribers.db import Base

    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    now = datetime(2026, 11, 30, tzinfo=timezone.utc)
    with Session(engine) as session, session.begin():
        suppress(session, "dead@remote.example.net", "hard_bounce", "5.1.1", Origin("test"), now)
        suppress(session, "bob@remote.example.net", "complaint", "abuse", Origin("test"), now)
        bounced = request_signup(session, "dead@remote.example.net", "daily", Origin("web"), now=now)
        complained = request_signup(session, "bob@remote.example.net", "daily", Origin("web"), now=now)
        assert bounced.token and complained.token is None  # no confirmation mail to a complainer
        confirm_signup(session, bounced.token, Origin("web"), now=now)
        rows = dict(session.execute(sa.text("SELECT email, active FROM suppressions")).all())
    assert rows == {"dead@remote.example.net": 0, "bob@remote.example.net": 1}


def _open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


@pytest.fixture
def listener(tmp_path, smtp_server):
    port = free_port()
    config = setup(tmp_path, smtp_server.port, inbound_port=port)
    process = start_cli("inbound", config=config)
    assert wait_until(lambda: _open(port)), process.stderr.read() if process.poll() is not None else "no listener"
    yield config, port
    process.terminate()
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


def test_listener_takes_only_our_addresses_and_survives_abuse(listener, smtp_server):
    config, port = listener
    assert run_cli("send", "daily", config=config).returncode == 0
    paths = return_paths(smtp_server)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:  # no relay
            client.sendmail("x@attacker.example.net", ["victim@elsewhere.example.net"], b"Subject: relay me\r\n\r\nhi")
        assert refused.value.recipients["victim@elsewhere.example.net"][0] == 550
        with pytest.raises(smtplib.SMTPResponseException) as big:  # at MAIL (SIZE=) or while it streams
            client.sendmail("", [paths["ann@remote.example.net"]], b"Subject: x\r\n\r\n" + (b"a" * 900 + b"\r\n") * 350)
        assert big.value.smtp_code == 552
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # streamed without SIZE: refused all the same
        client.ehlo()
        client.esmtp_features.pop("size", None)
        with pytest.raises(smtplib.SMTPResponseException) as streamed:
            client.sendmail("", [paths["ann@remote.example.net"]], b"Subject: x\r\n\r\n" + (b"a" * 900 + b"\r\n") * 350)
        assert streamed.value.smtp_code == 552
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("", [paths["ann@remote.example.net"]], b"\x00\xffnot mail at all")  # kept, not a crash
        client.sendmail("", [paths["dead@remote.example.net"]], dsn(paths["dead@remote.example.net"], "dead@remote.example.net"))
        client.sendmail("", ["unsubscribe@gazette.example.org"],
                        b"From: Full <full@remote.example.net>\r\nSubject: unsubscribe\r\n\r\nplease")
        with pytest.raises(smtplib.SMTPResponseException) as limited:  # 3 messages per connection here
            client.sendmail("", [paths["ann@remote.example.net"]], b"Subject: four\r\n\r\n")
        assert limited.value.smtp_code == 421
    assert suppressed(config) == {"dead@remote.example.net": "hard_bounce"}
    states = dict(query(config, "SELECT p.email, s.status FROM subscriptions s JOIN subscribers p "
                                "ON p.id = s.subscriber_id"))
    assert states["full@remote.example.net"] == "unsubscribed" and states["ann@remote.example.net"] == "confirmed"
    assert query(config, "SELECT count(*) FROM kept_mail")[0][0] == 1


def test_bounces_through_a_real_postfix(tmp_path, postfix_relay):
    """digest send -> Postfix -> a remote that says 550 / 452 -> Postfix's own DSNs -> digest inbound."""
    relay = postfix_relay
    relay.remote.messages.clear()
    relay.remote.replies = {"dead@remote.example.net": "550 5.1.1 <dead@remote.example.net>: user unknown",
                            "full@remote.example.net": "452 4.2.2 <full@remote.example.net>: mailbox full",
                            "bob@remote.example.net": "554 5.7.1 Service unavailable; Client host [127.0.0.1] "
                                                      "blocked using zen.spamhaus.org"}
    config = setup(tmp_path, relay.port, inbound_port=relay.inbound_port)
    process = start_cli("inbound", config=config)
    try:
        assert wait_until(lambda: _open(relay.inbound_port))
        sent = run_cli("send", "daily", config=config)
        assert sent.returncode == 0 and "4 sent" in sent.stdout, sent.stdout + sent.stderr
        # Postfix accepted all four; its DSNs for the three it could not deliver come back within seconds.
        assert wait_until(lambda: len(query(config, "SELECT id FROM feedback")) == 3, seconds=30), relay.log()[-3000:]
        assert suppressed(config) == {"dead@remote.example.net": "hard_bounce"}
        assert scores(config) == {"full@remote.example.net": 1.0}  # the block on us touches nobody
        assert sorted(m.rcpt_tos[0] for m in relay.remote.messages) == ["ann@remote.example.net"]
        feedback = query(config, "SELECT email, kind, side, reason, status, reporting_mta FROM feedback ORDER BY email")
        assert [tuple(r) for r in feedback] == [
            ("bob@remote.example.net", "soft", "sender", "blocked", "5.7.1", "relay.test"),
            ("dead@remote.example.net", "hard", "reader", "userunknown", "5.1.1", "relay.test"),
            ("full@remote.example.net", "soft", "reader", "mailboxfull", "4.2.2", "relay.test")]

        relay.remote.messages.clear()
        relay.remote.replies = {}
        again = run_cli("send", "daily", "--force", "--no-fetch", config=config)
        assert again.returncode == 0 and "3 sent" in again.stdout, again.stdout
        assert wait_until(lambda: len(relay.remote.messages) == 3, seconds=30)
        assert sorted(m.rcpt_tos[0] for m in relay.remote.messages) == [
            "ann@remote.example.net", "bob@remote.example.net", "full@remote.example.net"]
        status = run_cli("status", "daily", config=config).stdout
        assert "bounced hard 1  soft 1  sender-side 1  unclassified 0  complaints 0" in status, status
        assert "remote.example.net: 1 of 7 came back sender-side (14%): warning" in status, status
        assert "reasons: blocked 1 (soft, sender), mailboxfull 1 (soft, reader), userunknown 1 (hard, reader)" \
            in status, status
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_the_daemon_takes_bounces_itself_when_asked(tmp_path, smtp_server):
    """bounces.in_daemon: one `digest run` sends on schedule and acts on what comes back."""
    import httpx
    from test_daemon import Daemon

    inbound_port, status_port = free_port(), free_port()
    config = setup(tmp_path, smtp_server.port, inbound_port=inbound_port)
    text = config.read_text().replace("max_messages_per_connection = 3", "max_messages_per_connection = 3\n"
                                      "in_daemon = true")
    text = text.replace('summary_sentences = 2', 'summary_sentences = 2\nschedule = "*/2 * * * * *"')
    config.write_text(text + f"\n[schedule]\ngrace_minutes = 1.0\ngather_interval_minutes = 0.0\n"
                             f"status_port = {status_port}\n")
    daemon = Daemon(config)
    try:
        assert wait_until(lambda: len(smtp_server.messages) == 4 and _open(inbound_port)), daemon.text()
        paths = return_paths(smtp_server)
        with smtplib.SMTP("127.0.0.1", inbound_port, timeout=10) as client:
            client.sendmail("", [paths["dead@remote.example.net"]],
                            dsn(paths["dead@remote.example.net"], "dead@remote.example.net"))
        assert suppressed(config) == {"dead@remote.example.net": "hard_bounce"}
        metrics = httpx.get(f"http://127.0.0.1:{status_port}/metrics").text
        assert 'digest_feedback_total{kind="hard"} 1.0' in metrics
        assert 'digest_suppressions_total{reason="hard_bounce"} 1.0' in metrics
    finally:
        assert daemon.stop() == 0
    assert "Traceback" not in daemon.text()


def test_a_bounced_confirmation_email_counts_too(tmp_path, smtp_server):
    config = setup(tmp_path, smtp_server.port, readers=("ann@remote.example.net",))
    added = run_cli("subscribers", "add", "typo@remote.example.net", "-n", "daily", config=config)
    assert added.returncode == 0, added.stderr
    (confirmation,) = [m for m in smtp_server.messages if m.rcpt_tos == ["typo@remote.example.net"]]
    path = confirmation.mail_from
    assert path.startswith("bounces+t") and path.endswith("@bounce.example.net")  # signed for its recipient
    # A DSN naming another address at that return path acts on nobody; the right one suppresses.
    wrong = pipe(config, path, dsn(path, "ann@remote.example.net"))
    assert b"kept" in wrong.stdout and not suppressed(config)
    right = pipe(config, path, dsn(path, "typo@remote.example.net"))
    assert b"suppressed (hard bounce)" in right.stdout, right.stdout
    assert suppressed(config) == {"typo@remote.example.net": "hard_bounce"}


def test_listener_refuses_connections_past_its_limit():
    """bounces.max_connections: a flood of open connections is told 421 before the greeting."""
    from digest.inbound.listener import InboundHandler, InboundServer, ListenerLimits

    limits = ListenerLimits(max_connections=2)
    taken = []
    server = InboundServer(InboundHandler(lambda address: True, lambda batch: [taken.append(m) for m in batch],
                                          limits),
                           "127.0.0.1", free_port(), limits)
    server.start()
    try:
        first, second = (smtplib.SMTP("127.0.0.1", server.port, timeout=10) for _ in range(2))
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", server.port, timeout=10)
        assert refused.value.smtp_code == 421
        first.quit()  # a slot frees up: the next connection is served
        assert wait_until(lambda: server.counter.active < 2)
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as third:
            third.sendmail("", ["x@bounce.example.net"], b"Subject: hi\r\n\r\nbody")
        second.quit()
    finally:
        server.stop()
    assert [recipients for _sender, recipients, _data in taken] == [["x@bounce.example.net"]]

"""DKIM as a receiver checks it: rsa-sha256 and ed25519-sha256 signatures of personalized messages,
verified by dkimpy (not our code) with the public keys from a DNS stub; bad keys as one-line errors."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import dkim
import pytest
from conftest import DATA, copy_feed, import_readers, run_cli, wait_until, write_config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from digest.content import RenderedIssue
from digest.errors import ConfigError
from digest.render.dkim import make_signer
from digest.render.message import build_template, personalize
from subscribers import make_unsubscribe_token

NOW = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
DOMAIN = "ledger.example.org"


def pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def keys():
    """An RSA-2048 and an Ed25519 key, and the DNS a receiver would query for their selectors."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    rsa_public = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    ed_public = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    dns = {f"news._domainkey.{DOMAIN}.".encode(): b"v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_public),
           f"ed._domainkey.{DOMAIN}.".encode(): b"v=DKIM1; k=ed25519; p=" + base64.b64encode(ed_public)}
    return rsa_key, ed_key, lambda name, timeout=5: dns.get(name)


def verify_all(raw: bytes, dnsfunc) -> list[bool]:
    """dkimpy's verdict on each DKIM-Signature of the message, top to bottom."""
    count = sum(1 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n") if line.startswith(b"DKIM-Signature:"))
    verdicts = []
    for i in range(count):
        try:
            verdicts.append(dkim.DKIM(raw).verify(idx=i, dnsfunc=dnsfunc))
        except dkim.DKIMException:  # what dkim.verify() turns into False for the first signature
            verdicts.append(False)
    return verdicts


def hostile_template(signer_keys, **overrides):
    rsa_key, ed_key = signer_keys
    mark = "@@unsubscribe-test-mark@@"
    text = ("Ünïcödé headline — “quoted” and ☃\n.a line that starts with a dot\n..two dots\n\n"
            + "word " * 400 + "\n" + "x" * 1500 + f"\nUnsubscribe: {mark}\nor again {mark}\n\n\n")
    html = f"<p>{'long ' * 500}</p>\n.<p>dot-led</p>\n<a href=\"{mark}\">Unsubscribe ✓</a>\n\n"
    rendered = RenderedIssue("Ünïcödé subject — with a long tail " * 3, html, text, mark)
    signer = make_signer("news", DOMAIN, pem(rsa_key), ed25519_selector="ed" if ed_key else "",
                         ed25519_private_key=pem(ed_key) if ed_key else None)
    return build_template(rendered, from_address="Ledger <news@ledger.example.org>", list_id="morning",
                          list_name="Ledger", base_url="https://gazette.example.org",
                          unsubscribe_mailbox="unsubscribe@gazette.example.org", message_id_prefix="digest.9.x",
                          date=NOW, reply_to="letters@ledger.example.org", feedback_id="ledger", campaign_id="9",
                          signer=signer, **overrides)


def test_rsa_and_ed25519_signatures_of_many_personalized_messages_verify(keys):
    rsa_key, ed_key, dnsfunc = keys
    template = hostile_template((rsa_key, ed_key))
    seen = set()
    for n in range(60):
        token = make_unsubscribe_token("a-real-secret", 1000 + n, "morning")
        raw = personalize(template, to=f"r{n}@example.com", token=token, personal_id=str(1000 + n))
        assert raw.count(token.encode()) >= 2 and raw not in seen  # personal link in body and header
        seen.add(raw)
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert b"a=ed25519-sha256" in head and b"a=rsa-sha256" in head
        assert verify_all(raw, dnsfunc) == [True, True], n
        for tampered in (raw.replace(b"r%d@example.com" % n, b"x@example.com", 1),  # a header
                         raw.replace(b"two dots", b"two dotz", 1),  # the body before the link
                         raw[:-60] + raw[-60:].replace(b"--", b"-+", 1)):  # the body's static end
            assert tampered != raw and verify_all(tampered, dnsfunc) == [False, False], n


def test_the_precomputed_signature_equals_signing_the_whole_message(keys):
    """prepare() + sign(personal) against sign(message) on the same bytes, also when the body's trailing
    empty lines would reach back into the personal bytes (the plan then hashes the whole body)."""
    rsa_key, ed_key, dnsfunc = keys
    signer = make_signer("news", DOMAIN, pem(rsa_key), ed25519_selector="ed", ed25519_private_key=pem(ed_key))
    head = b"From: a@ledger.example.org\r\nSubject:  two   spaces\r\n\tfolded\r\n"
    for pieces in ((b"start\r\n", b"\r\nend\r\n\r\n\r\n"), (b"start ", b"\r\n\r\n"), (b"only\r\n\r\n",),
                   (b"", b""), (b"a\r\n", b"b\r\n", b"\r\n")):
        for slot in (b"", b"LINK\r\n", b"\r\n\r\n"):
            personal = (b" r@example.com",)
            message = b"To:" + personal[0] + b"\r\n" + head + b"\r\n" + slot.join(pieces)
            prepared = signer.prepare(head, (b"To",), pieces).sign(personal, slot, now=1_700_000_000)
            assert prepared == signer.sign(message, now=1_700_000_000), (pieces, slot)
            assert verify_all(prepared + message, dnsfunc) == [True, True], (pieces, slot)


def test_bad_keys_are_one_line_config_errors(keys):
    rsa_key, ed_key, _dns = keys
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    raw_ed = base64.b64encode(ed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                   serialization.NoEncryption())).decode()
    assert make_signer("news", DOMAIN, pem(small)) is not None  # 1024 bits still verify at most receivers
    # dkimpy's dknewkey writes the raw Ed25519 key in base64: accepted as it is.
    assert len(make_signer("news", DOMAIN, pem(rsa_key), ed25519_selector="ed", ed25519_private_key=raw_ed).keys) == 2
    cases = [
        (dict(private_key=None), "is empty"),
        (dict(private_key="not a key"), "does not work"),
        (dict(private_key=pem(ed_key)), "not an RSA private key"),
        (dict(ed25519_private_key=pem(rsa_key)), "not an Ed25519 private key"),
        (dict(ed25519_private_key=None), r"ed25519_selector is set but .*DIGEST_DKIM_ED25519_PRIVATE_KEY\) is empty"),
        (dict(ed25519_private_key="AAAA"), "does not work"),
        (dict(ed25519_private_key=raw_ed[:-4] + "!!!!"), "does not work"),
        (dict(selector="nëws"), "does not work"),
    ]
    for change, expected in cases:
        args = dict(selector="news", private_key=pem(rsa_key), ed25519_selector="ed",
                    ed25519_private_key=pem(ed_key)) | change
        with pytest.raises(ConfigError, match=expected) as caught:
            make_signer(args["selector"], DOMAIN, args["private_key"], ed25519_selector=args["ed25519_selector"],
                        ed25519_private_key=args["ed25519_private_key"])
        assert "\n" not in str(caught.value) and "-----" not in str(caught.value), change
    with pytest.raises(ConfigError, match="without dkim.selector"):
        make_signer("", "", None, ed25519_selector="ed", ed25519_private_key=pem(ed_key))


def test_a_bad_key_stops_send_and_worker_before_anything_is_queued(tmp_path, smtp_server, keys):
    rsa_key, _ed, _dns = keys
    (tmp_path / "wire.xml").write_bytes((DATA / "wire.xml").read_bytes())
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources="""
        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"
        """)
    config.write_text(config.read_text() + '\n[dkim]\nselector = "news"\ndomain = "ledger.example.org"\n'
                      'ed25519_selector = "ed"\n')
    assert run_cli("subscribers", "add", "ann@example.com", "-n", "daily", "--confirmed", config=config).returncode == 0
    env = {"DIGEST_DKIM_PRIVATE_KEY": pem(rsa_key), "DIGEST_DKIM_ED25519_PRIVATE_KEY": pem(rsa_key)}
    for command in (("send", "daily"), ("worker", "--once")):
        result = run_cli(*command, config=config, env=env)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        lines = [line for line in result.stderr.splitlines() if "error" in line]
        assert len(lines) == 1 and "DIGEST_DKIM_ED25519_PRIVATE_KEY) does not work" in lines[0], result.stderr
    status = run_cli("status", "daily", config=config)
    assert "no issues yet" in status.stdout and smtp_server.messages == []
    assert "never fetched" in status.stdout  # stopped before gathering, too


def test_signatures_survive_a_real_relay(tmp_path, keys, postfix_relay):
    """Through Postfix to the remote server: the bytes delivered are the bytes signed, for every reader."""
    rsa_key, ed_key, dnsfunc = keys
    relay = postfix_relay
    relay.remote.messages.clear()
    relay.remote.replies = {}
    copy_feed("wire.xml", tmp_path)
    config = write_config(tmp_path, smtp_port=relay.port, sources="""
        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"
        """)
    config.write_text(config.read_text().replace(
        'from_address = "Gazette Daily <daily@gazette.example.org>"',
        f'from_address = "Ledger <news@{DOMAIN}>"') + f"""
[dkim]
selector = "news"
domain = "{DOMAIN}"
ed25519_selector = "ed"
""")
    readers = [f"reader{i}+tag@remote.example.net" for i in range(6)] + ["dot.name@remote.example.net"]
    (tmp_path / "readers.csv").write_text("email\n" + "\n".join(readers) + "\n")
    env = {"DIGEST_DKIM_PRIVATE_KEY": pem(rsa_key), "DIGEST_DKIM_ED25519_PRIVATE_KEY": pem(ed_key)}
    import_readers(config)
    sent = run_cli("send", "daily", config=config, env=env)
    assert sent.returncode == 0 and f"{len(readers)} sent" in sent.stdout, sent.stdout + sent.stderr
    assert wait_until(lambda: len(relay.remote.messages) == len(readers), seconds=30), relay.log()[-2000:]
    for received in relay.remote.messages:
        assert b"Received: " in received.data.split(b"\r\n\r\n", 1)[0]  # it did pass through Postfix
        assert verify_all(received.data, dnsfunc) == [True, True], received.rcpt_tos
    assert len({m.message["List-Unsubscribe"] for m in relay.remote.messages}) == len(readers)


def test_a_plain_text_only_message_is_signed_and_verifies(keys):
    """A reader who chose plain text (issue 25) gets the text part alone, signed like the rest."""
    rsa_key, ed_key, dnsfunc = keys
    template = hostile_template((rsa_key, ed_key), text_only=True)
    for n in range(5):
        token = make_unsubscribe_token("a-real-secret", 2000 + n, "morning")
        raw = personalize(template, to=f"t{n}@example.com", token=token, personal_id=str(2000 + n))
        assert b"text/html" not in raw and b"multipart" not in raw and raw.count(token.encode()) >= 2
        assert verify_all(raw, dnsfunc) == [True, True], n
        assert verify_all(raw.replace(b"two dots", b"two dotz", 1), dnsfunc) == [False, False]

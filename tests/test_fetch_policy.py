"""Server-side request forgery: URLs a feed names reach only public addresses; the operator's sources are trusted.

The attacks run through the real `digest` command against real servers on
127.0.0.1: the source (trusted, as configured) and an "internal" service on
another port that stands for an intranet page or cloud metadata. Each test
asserts what the attacker wanted: a request reaching the internal service, or
its text in a mailed issue.
"""

from __future__ import annotations

import ipaddress

import pytest
from conftest import FeedServer, import_readers, run_cli, write_config
from test_sources import PARAGRAPH, article_page, rss

from digest.errors import FeedError
from digest.net.policy import FetchPolicy, Refused, origin, why_not_public


@pytest.fixture
def internal():
    server = FeedServer()
    server.thread.start()
    page = article_page("SECRET INTERNAL PAGE", "SECRET internal text that must never leave the building. " * 3)
    for path in ("/secret", "/latest/meta-data/", "/feed.xml"):
        server.routes[path] = (200, {"Content-Type": "text/html"}, page)
    server.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                  rss(("SECRET FEED ITEM", "https://x.example.org/s", PARAGRAPH)))
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("172.16.0.9", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"), ("100.64.0.1", "not a public address"), ("0.0.0.0", "private"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "private"), ("::1", "loopback"), ("fd00::1", "private"),
    ("fe80::1", "link-local"), ("ff02::1", "multicast"), ("::ffff:127.0.0.1", "carries 127.0.0.1, loopback"),
    ("::ffff:169.254.169.254", "carries 169.254.169.254, link-local"), ("64:ff9b::a00:1", "carries 10.0.0.1"),
    ("2002:7f00:1::", "carries 127.0.0.1, loopback"), ("::", "private"), ("::127.0.0.1", "carries"),
])
def test_addresses_that_are_not_public_are_named_with_their_reason(address, reason):
    assert why_not_public(ipaddress.ip_address(address)).startswith(reason)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert why_not_public(ipaddress.ip_address(address)) == ""


def test_policy_trusts_configured_origins_and_opens_only_what_the_operator_lists():
    policy = FetchPolicy.create(["http://127.0.0.1:8080/feed.xml", "file:///srv/feeds/a.xml"],
                                allow_networks=["10.20.0.0/16"])
    assert policy.check_url("http://127.0.0.1:8080/other/page") is True  # same origin: as the operator wrote it
    assert policy.check_url("https://news.example.org/story") is False  # must resolve to public addresses
    with pytest.raises(Refused, match="port 8081"):
        policy.check_url("http://127.0.0.1:8081/")
    with pytest.raises(Refused, match="local files"):
        policy.check_url("file:///etc/passwd")
    assert policy.check_url("file:///srv/feeds/a.xml") is True
    with pytest.raises(Refused, match="only http"):
        policy.check_url("gopher://127.0.0.1:70/")
    policy.check_address("cms", ipaddress.ip_address("10.20.3.4"))  # opened by allow_networks
    with pytest.raises(Refused, match="10.21.0.1 .private"):
        policy.check_address("cms", ipaddress.ip_address("10.21.0.1"))
    assert isinstance(Refused("x"), FeedError)
    assert origin("HTTP://Example.ORG./a") == ("http", "example.org", 80) and origin("mailto:x@y") is None


def send_with_links(tmp_path, smtp_server, feed_server, links: list[str], gather: str = ""):
    """A trusted source whose teaser items link to `links`; returns the `digest send` result."""
    items = [(f"Story {n}", link, "Teaser.") for n, link in enumerate(links)]
    items.append(("Harbour board meets", feed_server.url("/ok"), "Teaser."))
    feed_server.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(*items))
    feed_server.routes["/ok"] = (200, {"Content-Type": "text/html"}, article_page("Harbour board meets"))
    config = write_config(tmp_path, smtp_port=smtp_server.port, gather="max_pages_per_source = 20\n" + gather,
                          sources=f"""
        [[newsletters.sources]]
        name = "Desk"
        url = "{feed_server.url('/feed.xml')}"
        full_text = true
        """)
    (tmp_path / "readers.csv").write_text("email\nann@example.com\n")
    import_readers(config)
    return run_cli("send", "daily", config=config)


def hostile_links(feed_server, internal) -> list[str]:
    port = internal.port
    feed_server.routes["/bounce"] = (302, {"Location": internal.url("/secret")}, b"")
    return [internal.url("/secret"), f"http://localhost:{port}/secret", f"http://[::ffff:127.0.0.1]:{port}/secret",
            f"http://2130706433:{port}/secret", f"http://127.1:{port}/secret", "http://169.254.169.254/latest/meta-data/",
            f"http://[::1]:{port}/secret", feed_server.url("/bounce")]


@pytest.mark.parametrize("open_port", [False, True], ids=["default-ports", "port-opened"])
def test_item_links_into_the_internal_network_are_refused(tmp_path, smtp_server, feed_server, internal, open_port):
    # With the internal port opened, every spelling of a loopback address must still be refused by address.
    gather = f"allow_ports = [80, 443, {internal.port}]" if open_port else ""
    result = send_with_links(tmp_path, smtp_server, feed_server, hostile_links(feed_server, internal), gather)

    assert result.returncode == 0, result.stderr
    assert internal.requests == []  # nothing reached the internal service, through any spelling or redirect
    (message,) = [m.message for m in smtp_server.messages]
    text = " ".join(message.get_body(("plain",)).get_content().split())  # the plain part is wrapped
    assert "SECRET" not in text and "adds detail about the harbour board meets" in text
    refusals = [line for line in result.stderr.splitlines() if "refused" in line]
    assert len(refusals) == len(hostile_links(feed_server, internal)), result.stderr
    assert "link-local" in result.stderr
    if open_port:
        assert sum("loopback" in line for line in refusals) == len(refusals) - 1, refusals
    else:
        assert sum(f"port {internal.port} is not allowed" in line for line in refusals) == len(refusals) - 1
    assert "/bounce" in [path for path, _ in feed_server.requests]  # the trusted hop was taken, the next refused


def test_the_operator_can_open_a_network_and_a_port(tmp_path, smtp_server, feed_server, internal):
    # The control for the test above: with the internal network opened, the same links are fetched.
    result = send_with_links(tmp_path, smtp_server, feed_server, [internal.url("/secret")],
                             gather=f'allow_networks = ["127.0.0.0/8"]\nallow_ports = [80, 443, {internal.port}]')
    assert result.returncode == 0, result.stderr
    assert [path for path, _ in internal.requests] == ["/secret"]


def test_redirects_and_discovered_feeds_cannot_lead_inside(tmp_path, smtp_server, feed_server, internal):
    feed_server.routes["/moved.xml"] = (301, {"Location": internal.url("/feed.xml")}, b"")
    feed_server.routes["/page.html"] = (200, {"Content-Type": "text/html"}, (
        f'<html><head><link rel="alternate" type="application/rss+xml" href="{internal.url("/feed.xml")}">'
        f'</head><body>Home</body></html>').encode())
    feed_server.routes["/list.html"] = (200, {"Content-Type": "text/html"}, (
        f'<html><body><a href="{internal.url("/secret")}">Secret story</a></body></html>').encode())
    config = write_config(tmp_path, smtp_port=smtp_server.port, gather="max_pages_per_source = 5", sources=f"""
        [[newsletters.sources]]
        name = "Moved"
        url = "{feed_server.url('/moved.xml')}"

        [[newsletters.sources]]
        name = "Page"
        url = "{feed_server.url('/page.html')}"

        [[newsletters.sources]]
        name = "Listing"
        url = "{feed_server.url('/list.html')}"
        kind = "html"
        link_pattern = "secret"
        """)

    result = run_cli("gather", config=config)

    assert internal.requests == []
    assert "Moved: ERROR" in result.stdout and "refused" in result.stdout
    assert "Page: ERROR" in result.stdout
    assert "refused" in result.stderr

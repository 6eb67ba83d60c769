"""What an operator reads (issue 13): progress with a total, honest counts and messages, test copies marked."""

from __future__ import annotations

import io
import socket
import threading

from conftest import DATA, TcpServer, import_readers, run_cli, write_config

from digest.cli.delivery import Progress
from digest.deliver.engine import DeliveryReport


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_total_percentage_and_eta():
    screen = Terminal()
    with Progress(screen) as progress:
        progress.update(DeliveryReport(issue_id=7, sent=1, total=10, done_before=2))
        progress.update(DeliveryReport(issue_id=7, sent=3, failed=1, total=10, done_before=2))
    shown = screen.getvalue()
    assert "6/10" in shown and "60%" in shown and "<" in shown  # done of total, percentage, ETA


def newsletter(tmp_path, smtp_server):
    (tmp_path / "wire.xml").write_bytes((DATA / "wire.xml").read_bytes())
    return write_config(tmp_path, smtp_port=smtp_server.port,
                        sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')


def test_dry_run_counts_read_as_english_and_a_test_copy_is_marked(tmp_path, smtp_server):
    config = newsletter(tmp_path, smtp_server)
    run_cli("subscribers", "add", "one@example.com", "-n", "daily", "--confirmed", config=config)
    dry = run_cli("send", "daily", "--dry-run", config=config)
    assert dry.returncode == 0 and "would go to 1 confirmed subscriber (dry run)" in dry.stdout, dry.stdout
    test = run_cli("send", "daily", "--to", "editor@example.com", config=config)
    assert test.returncode == 0, test.stderr
    (copy,) = smtp_server.messages
    assert copy.message["Subject"].startswith("[Test] Gazette Daily")
    real = run_cli("send", "daily", config=config)
    assert real.returncode == 0 and not smtp_server.messages[-1].message["Subject"].startswith("[Test]")


def test_listing_an_unknown_newsletter_is_an_error_naming_the_known_ones(tmp_path, smtp_server):
    config = newsletter(tmp_path, smtp_server)
    result = run_cli("subscribers", "list", "-n", "weekly", config=config)
    assert result.returncode == 1 and "unknown newsletter 'weekly'" in result.stderr and "daily" in result.stderr


class Gatekeeper(TcpServer):
    """A TCP front for the test SMTP server that lets `limit` connections through and greets the rest with 421."""

    def __init__(self, upstream_port: int, limit: int) -> None:
        self.upstream_port, self.limit, self.active, self.refused = upstream_port, limit, 0, 0
        self.lock = threading.Lock()
        super().__init__()

    def handle(self, client: socket.socket) -> None:
        with self.lock:
            allowed = self.active < self.limit
            self.active += allowed
            self.refused += not allowed
        if not allowed:
            client.sendall(b"421 4.7.0 Too many connections from your host\r\n")
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        for a, b, counted in ((client, upstream, True), (upstream, client, False)):
            threading.Thread(target=self._pipe, args=(a, b, counted), daemon=True).start()

    def _pipe(self, source, target, counted: bool) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.close()
                except OSError:
                    pass
            if counted:  # the client's side ends once per connection
                with self.lock:
                    self.active -= 1


def test_a_server_allowing_fewer_connections_still_gets_the_whole_issue(tmp_path, smtp_server):
    gate = Gatekeeper(smtp_server.port, limit=2)
    try:
        config = newsletter(tmp_path, smtp_server)
        config.write_text(config.read_text().replace(f"port = {smtp_server.port}", f"port = {gate.port}")
                          .replace("[delivery]\n", "[delivery]\nconnections = 4\n", 1))
        readers = [f"r{n}@example.com" for n in range(12)]
        (tmp_path / "readers.csv").write_text("email\n" + "\n".join(readers) + "\n")
        import_readers(config)
        result = run_cli("send", "daily", config=config)
    finally:
        gate.close()
    assert result.returncode == 0, result.stderr
    assert gate.refused >= 1 and "refused a connection" in result.stderr and "421" in result.stderr
    assert "12 sent, 0 failed" in result.stdout
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(readers)  # each once

"""A private Postfix on 127.0.0.1 for tests: the real MTA between `digest send` and the readers' servers.

Recipe from ../shared/PITFALLS.md: its own config, queue and data
directories; /etc/postfix/main.cf names the config dir. Mail for
remote.example.net goes to an aiosmtpd "remote" server the test controls, mail for
bounce.example.net to `digest inbound` on `inbound_port`. Delivery is tried once
(maximal_queue_lifetime = 0), so a 4xx from the remote turns into a DSN at
once instead of days later.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
myhostname = relay.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = remote.example.net, bounce.example.net
transport_maps = inline:{{ remote.example.net=smtp:[127.0.0.1]:{remote}, bounce.example.net=smtp:[127.0.0.1]:{inbound} }}
maillog_file = {d}/maillog
maillog_file_prefixes = /var, /dev/stdout, /tmp, {d}
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_dns_support_level = disabled
maximal_queue_lifetime = 0
bounce_queue_lifetime = 0
alias_maps =
alias_database =
local_recipient_maps =
notify_classes =
smtputf8_enable = no
biff = no
"""


def why_unavailable() -> str:
    if shutil.which("postfix") is None and not Path("/usr/sbin/postfix").exists():
        return "Postfix is not installed (apt-get install postfix; .ci/run does)"
    if os.geteuid() != 0:
        return "a private Postfix needs root to start"
    return ""


@dataclass
class Relay:
    directory: Path
    port: int
    remote_port: int
    inbound_port: int

    def log(self) -> str:
        path = self.directory / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""


def start(directory: Path, port: int, remote_port: int, inbound_port: int) -> Relay:
    postfix = shutil.which("postfix") or "/usr/sbin/postfix"
    etc = directory / "etc"
    for sub in ("etc", "spool", "data"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    master = Path("/etc/postfix/master.cf").read_text()
    lines = []
    for line in master.splitlines():
        if line.startswith("smtp ") and " inet " in line:
            line = f"{port} inet n - n - - smtpd"
        lines.append(line)
    (etc / "master.cf").write_text("\n".join(lines) + "\n")
    (etc / "main.cf").write_text(MAIN_CF.format(d=directory, remote=remote_port, inbound=inbound_port))
    allow_config_directory(etc)
    shutil.chown(directory / "data", user="postfix")
    directory.chmod(0o755)  # postfix's daemons must reach their config and queue (made under /tmp)
    result = subprocess.run([postfix, "-c", str(etc), "start"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"postfix start failed: {result.stdout}{result.stderr}")
    return Relay(directory, port, remote_port, inbound_port)


def allow_config_directory(etc: Path) -> None:
    """Name `etc` in /etc/postfix/main.cf's alternate_config_directories beside the ones of Postfixes still
    there (pytest-xdist's workers each start their own), dropping those whose directories are gone."""
    global_cf = Path("/etc/postfix/main.cf")
    with open("/tmp/digest-postfix-main-cf.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two workers starting at once must not each write out the other
        lines = global_cf.read_text().splitlines() if global_cf.exists() else []
        named = [d for line in lines if line.startswith("alternate_config_directories")
                 for d in line.partition("=")[2].replace(",", " ").split()]
        kept = [d for d in dict.fromkeys(named) if Path(d).is_dir() and d != str(etc)]
        lines = [line for line in lines if not line.startswith("alternate_config_directories")]
        global_cf.write_text("\n".join([*lines, f"alternate_config_directories = {' '.join([*kept, str(etc)])}"])
                             + "\n")


def stop(relay: Relay) -> None:
    postfix = shutil.which("postfix") or "/usr/sbin/postfix"
    subprocess.run([postfix, "-c", str(relay.directory / "etc"), "stop"], capture_output=True, timeout=60)

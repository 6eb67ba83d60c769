"""Can the signup endpoint's response time tell a confirmed subscriber from a stranger?

What it measures: the wall time of `POST /api/subscribe` on a real
`digest serve`, for addresses that are already confirmed subscribers and for
brand-new ones, and how well the best single time threshold separates the
two (a one-feature classifier, trained on a random half, scored on the other).

Why: the answer's text and status are the same whatever the address
(README, "Readers"), so that nobody can learn who reads the newsletter. If the
time still differs (the new address's row, token and confirmation email done
in the request, or contention they cause), anyone can enumerate the readers
by timing the public form. Chance is 0.50; the product's target is an
accuracy of at most 0.55.

How: a throwaway folder with a config.toml (SQLite, SMTP to an in-process
aiosmtpd sink, generous rate limits so nothing is refused), N confirmed
readers imported with `digest subscribers import --consent-obtained`, then
`digest serve` in its own process. After a warm-up, 2N signups (N confirmed
addresses, N new ones, each used once, in a seeded random order) go one at a
time over one keep-alive httpx.Client, each timed with time.perf_counter.
Only 127.0.0.1 is contacted (proxy variables are ignored and removed).

Printed: status codes, per-label median and 10th/90th percentiles, the
difference of medians, the threshold classifier's test accuracy over K random
splits, and how many confirmation emails reached the sink (expected: one per
new address, warm-up included; confirmed addresses get none).

Run: .venv/bin/python bench/signup_timing.py [--readers 200] [--seed 1] [--splits 20] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-not-for-production"
TARGET = 0.55
WARMUP = 20  # half confirmed, half fresh addresses, so both paths are warm before measuring
CONFIRMED, NEW = "confirmed", "new"


@dataclass
class Sample:
    label: str
    seconds: float
    status: int


class CountingHandler:
    """Accepts every message and counts them: we only need to know the background work mailed."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._lock:
            self.count += 1
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nobody listens on now, so runs never collide with a real service."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def digest_command() -> str:
    """The installed `digest` entry point beside this interpreter, as a user would run it."""
    candidate = Path(sys.executable).parent / "digest"
    return str(candidate if candidate.exists() else REPO / ".venv" / "bin" / "digest")


def child_env() -> dict[str, str]:
    """The environment for digest subprocesses: the signing key set, no proxies (loopback only)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    env["DIGEST_SECRET_KEY"] = SECRET
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def write_config(folder: Path, smtp_port: int, web_port: int) -> Path:
    """A config whose limits never refuse a bench signup, so only timing can differ between labels."""
    text = textwrap.dedent(f"""\
        [site]
        name = "Test Gazette"
        base_url = "https://gazette.example.org"
        postal_address = "1 Test Road, Testville"
        unsubscribe_mailbox = "unsubscribe@gazette.example.org"

        [storage]
        url = "sqlite:///digest.db"

        [delivery]
        transport = "smtp"

        [delivery.smtp]
        host = "127.0.0.1"
        port = {smtp_port}
        timeout = 5.0

        [web]
        host = "127.0.0.1"
        port = {web_port}
        signups_per_ip_per_hour = 1000000
        confirmations_per_address_per_hour = 1000
        confirmations_per_hour = 1000000

        [[newsletters]]
        slug = "daily"
        title = "Gazette Daily"
        description = "Bench digest."
        from_address = "Gazette Daily <daily@gazette.example.org>"

        [[newsletters.sources]]
        name = "A"
        url = "a.xml"
        """)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_digest(config: Path, *args: str) -> subprocess.CompletedProcess:
    """Run one digest command to completion; stop the bench with its stderr if it fails."""
    result = subprocess.run([digest_command(), "--config", str(config), *args], capture_output=True, text=True,
                            env=child_env(), cwd=config.parent, timeout=300)
    if result.returncode != 0:
        sys.exit(f"digest {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def import_confirmed(config: Path, addresses: list[str]) -> None:
    """Confirmed readers via the operator's import, the same rows a real confirmed reader has."""
    csv_file = config.parent / "readers.csv"
    csv_file.write_text("email\n" + "".join(f"{a}\n" for a in addresses), encoding="utf-8")
    result = run_digest(config, "subscribers", "import", str(csv_file), "-n", "daily", "--consent-obtained")
    last = (result.stdout.strip() or result.stderr.strip()).splitlines()
    print(f"import: {last[-1] if last else '(no output)'}")


def start_server(config: Path, port: int, log_path: Path) -> subprocess.Popen:
    """`digest serve` in its own process, timed from outside like any client would see it."""
    log = log_path.open("w")
    return subprocess.Popen([digest_command(), "--config", str(config), "serve"], stdout=log,
                            stderr=subprocess.STDOUT, env=child_env(), cwd=config.parent)


def wait_for_port(port: int, server: subprocess.Popen, log_path: Path, seconds: float = 30.0) -> None:
    """Poll until the server accepts connections, so start-up never counts as a sample."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"digest serve exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"digest serve did not listen on {port} within {seconds:.0f} s:\n{log_path.read_text()}")


def stop_server(server: subprocess.Popen) -> int | None:
    """SIGTERM then wait, as systemd would stop it; kill only if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return server.returncode


def signup(client: httpx.Client, address: str) -> tuple[float, int]:
    """One timed signup: the client-side wall time is exactly what an enumerator can observe."""
    started = time.perf_counter()
    response = client.post("/api/subscribe", json={"email": address, "newsletter": "daily"})
    response.read()
    return time.perf_counter() - started, response.status_code


def measure(port: int, confirmed: list[str], fresh: list[str], warm: list[str], rng: random.Random) -> list[Sample]:
    """Warm up, then time every address once in a shuffled order so drift hits both labels alike."""
    order = [(CONFIRMED, a) for a in confirmed] + [(NEW, a) for a in fresh]
    rng.shuffle(order)
    samples = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=30.0) as client:
        for address in warm:
            signup(client, address)
        for label, address in order:
            seconds, status = signup(client, address)
            samples.append(Sample(label, seconds, status))
    return samples


def best_threshold(train: list[Sample]) -> tuple[float, bool]:
    """The cut and direction (True: slower means new) with the best train accuracy.

    One sweep over the sorted times with running counts: every cut between two
    neighbouring times is tried, in both directions.
    """
    ordered = sorted(train, key=lambda s: s.seconds)
    total_new = sum(s.label == NEW for s in ordered)
    total_confirmed = len(ordered) - total_new
    best = (-1.0, float("-inf"), True)
    new_below = confirmed_below = 0
    cuts = [float("-inf")] + [(a.seconds + b.seconds) / 2 for a, b in zip(ordered, ordered[1:])] + [float("inf")]
    for i, cut in enumerate(cuts):
        if i > 0:  # samples ordered[:i] are below this cut
            new_below += ordered[i - 1].label == NEW
            confirmed_below += ordered[i - 1].label == CONFIRMED
        slower_new = confirmed_below + (total_new - new_below)
        slower_confirmed = new_below + (total_confirmed - confirmed_below)
        for correct, direction in ((slower_new, True), (slower_confirmed, False)):
            if correct > best[0]:
                best = (correct, cut, direction)
    return best[1], best[2]


def accuracy(samples: list[Sample], cut: float, slower_means_new: bool) -> float:
    """Share of samples whose label the threshold rule gets right."""
    def guess(s: Sample) -> str:
        return NEW if (s.seconds > cut) == slower_means_new else CONFIRMED
    return sum(guess(s) == s.label for s in samples) / len(samples)


def split_accuracies(samples: list[Sample], splits: int, rng: random.Random) -> list[tuple[float, float, bool]]:
    """(test accuracy, cut, direction) per random half/half split: one split alone could be lucky."""
    results = []
    for _ in range(splits):
        shuffled = samples[:]
        rng.shuffle(shuffled)
        half = len(shuffled) // 2
        cut, direction = best_threshold(shuffled[:half])
        results.append((accuracy(shuffled[half:], cut, direction), cut, direction))
    return results


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), without numpy."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def report_distributions(samples: list[Sample]) -> None:
    """Per-label median and spread: shows the size of any gap, not only whether a cut finds it."""
    medians = {}
    for label in (CONFIRMED, NEW):
        times = [s.seconds * 1e6 for s in samples if s.label == label]
        medians[label] = statistics.median(times)
        print(f"  {label:>9}: n={len(times)}  p10 {percentile(times, 10):8.0f} us  median {medians[label]:8.0f} us"
              f"  p90 {percentile(times, 90):8.0f} us")
    print(f"  median(new) - median(confirmed): {medians[NEW] - medians[CONFIRMED]:+.0f} us")


def wait_for_mail(handler: CountingHandler, quiet: float = 2.0, limit: float = 30.0) -> int:
    """The confirmation emails go out in the background after the answer: wait until the count settles."""
    deadline = time.monotonic() + limit
    last, last_change = handler.count, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last_change < quiet:
        time.sleep(0.1)
        if handler.count != last:
            last, last_change = handler.count, time.monotonic()
    return handler.count


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=200, help="confirmed readers N (2N timed signups)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the order and the splits")
    parser.add_argument("--splits", type=int, default=20, help="random train/test splits K")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (config, db, server log)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="digest-signup-timing-"))
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    server = None
    try:
        web_port = free_port()
        config = write_config(folder, controller.port, web_port)
        confirmed = [f"reader{i:05d}@example.com" for i in range(args.readers)]
        fresh = [f"stranger{i:05d}@example.com" for i in range(args.readers)]
        half = WARMUP // 2
        warm = confirmed[:half] + [f"warmup{i:03d}@example.com" for i in range(WARMUP - half)]
        import_confirmed(config, confirmed)

        log_path = folder / "serve.log"
        server = start_server(config, web_port, log_path)
        wait_for_port(web_port, server, log_path)
        t0 = time.monotonic()
        samples = measure(web_port, confirmed, fresh, warm, rng)
        print(f"timed {len(samples)} signups in {time.monotonic() - t0:.1f} s "
              f"(warm-up {len(warm)}: {half} confirmed, {WARMUP - half} new)")

        statuses: dict[int, int] = {}
        for s in samples:
            statuses[s.status] = statuses.get(s.status, 0) + 1
        flag = "" if set(statuses) == {200} else "  <-- NOT ALL 200"
        print(f"status codes: {dict(sorted(statuses.items()))}{flag}")

        print("response time per label:")
        report_distributions(samples)

        results = split_accuracies(samples, args.splits, rng)
        accs = [r[0] for r in results]
        best = max(results, key=lambda r: r[0])
        print(f"best split: cut {best[1] * 1e6:.0f} us, slower means {NEW if best[2] else CONFIRMED}, "
              f"test accuracy {best[0]:.3f}")

        mails = wait_for_mail(handler)
        code = stop_server(server)
        server = None
        print(f"digest serve stopped (exit {code})")
        print(f"confirmation emails received: {mails} (expected about {len(fresh) + WARMUP - half}: "
              f"{len(fresh)} new + {WARMUP - half} warm-up new; confirmed get none)")
        print(f"total run time {time.monotonic() - started:.1f} s")
        # The verdict uses the mean: with 2N/2 test samples one split's accuracy wanders by about
        # 1/sqrt(2N) around the truth even with no signal at all, so the max over K splits overstates it.
        verdict = "OK" if statistics.mean(accs) <= TARGET else "ABOVE TARGET"
        print(f"timing oracle accuracy: mean {statistics.mean(accs):.2f}, max {max(accs):.2f} "
              f"over {args.splits} splits (target <= {TARGET:.2f}) {verdict}")
    finally:
        if server is not None:
            stop_server(server)
        controller.stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

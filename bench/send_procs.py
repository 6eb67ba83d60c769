"""Process bookkeeping of bench/send.py: the children it starts, their rusage, RSS and CPU from /proc, and
the BENCH lines the measured `digest` processes print."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path


class Children:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def forget(self, proc) -> None:
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self) -> None:
        for proc in list(self.procs):
            if proc.returncode is None and proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=15)
                except ProcessLookupError:
                    pass
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
            self.forget(proc)


def wait4(proc: subprocess.Popen, timeout: float, poll=None):
    """Reap `proc` (rusage of that process alone); `poll()` runs every 0.25 s; SIGKILL after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if time.monotonic() > deadline:
            os.kill(proc.pid, signal.SIGKILL)
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if poll is not None:
            poll()
        time.sleep(0.25)


def vm_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def sender_hwm_mb(parent: int) -> dict[int, float]:
    """VmHWM of each sender process of `parent` (delivery.processes): children of its fork server."""
    ppid, hwm = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
            pid = int(entry.name)
            ppid[pid] = int(stat[stat.rindex(")") + 2:].split()[1])
            with open(f"/proc/{entry.name}/status") as f:
                hwm[pid] = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
        except (OSError, ValueError):
            continue
    servers = {pid for pid, up in ppid.items() if up == parent}
    return {pid: hwm[pid] / 1024 for pid, up in ppid.items() if up in servers and hwm.get(pid)}


def cpu_snapshot() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, CPU clock ticks) of every process on the host.

    The ticks include reaped children (cutime + cstime), so a PostgreSQL backend that exits before
    the second snapshot still shows up, in its postmaster's count.
    """
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    data = f.read()
            except OSError:
                continue
            comm = data[data.index("(") + 1:data.rindex(")")]
            rest = data[data.rindex(")") + 2:].split()
            out[int(entry.name)] = (comm, int(rest[1]), sum(int(x) for x in rest[11:15]))
    return out


def top_cpu(before: dict, after: dict, seconds: float, exclude: set[int], n: int = 4) -> str:
    """The biggest CPU users between two snapshots, by command name, in % of one core."""
    by_comm: dict[str, int] = {}
    for pid, (comm, _ppid, ticks) in after.items():
        if pid in exclude or pid == os.getpid():
            continue
        by_comm[comm] = by_comm.get(comm, 0) + ticks - (before[pid][2] if pid in before else 0)
    for pid, (comm, ppid, ticks) in before.items():
        if pid not in after and ppid in after and ppid not in exclude:  # reaped: counted in its parent's total
            parent = after[ppid][0]
            by_comm[parent] = by_comm.get(parent, 0) - ticks
    hz, seconds = os.sysconf("SC_CLK_TCK"), max(seconds, 1e-9)
    top = sorted(by_comm.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{comm} {100 * ticks / hz / seconds:.0f}%" for comm, ticks in top
                     if 100 * ticks / hz / seconds >= 1) or "-"


def bench_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("BENCH "):
            out.append(json.loads(line[6:]))
    return out


def tail(path: Path, n: int = 800) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""

"""The memory of a process tree, sampled from /proc (Linux): the one sampler the
benchmarks use (bench/harness.py, bench/soak.py).

`PeakMemory(pid)` is a thread that reads the RSS and PSS of a process and all its
descendants (hkai's worker pool, Prefect's server, the multiprocessing resource tracker)
every `interval_s` until stopped, and keeps the largest RSS sum it saw, the PSS sum at
that moment and which processes made it up.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def process_tree(root: int) -> list[int]:
    """A process and all its descendants, `root` first."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                # The command name may hold spaces and parentheses: fields start after the last ')'.
                parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        children.setdefault(parent, []).append(int(entry.name))
    tree, frontier = [root], [root]
    while frontier:
        found = children.get(frontier.pop(), [])
        tree += found
        frontier += found
    return tree


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes; PSS shares pages that several processes map among them.
    (0, 0) for a process that ended, a zombie, or one not ours to read."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def role(pid: int, root: int) -> str:
    """A short name for a process in the tree: hkai (the root), worker, resource tracker,
    prefect server, or its program's name."""
    if pid == root:
        return "hkai"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return "?"
    line = " ".join(argv)
    if "resource_tracker" in line:
        return "resource tracker"
    if "multiprocessing" in line or "spawn_main" in line:
        return "worker"
    if "uvicorn" in line or ("prefect" in line and "server" in line):
        return "prefect server"
    return Path(argv[0]).name or "?"


class PeakMemory(threading.Thread):
    """Samples a process tree's memory every `interval_s` until `stop()`.

    `rss` is the largest RSS sum seen, `pss` the PSS sum of that sample, `breakdown` its
    (role, RSS) per process, and `processes` the most processes alive in one sample."""

    def __init__(self, pid: int, interval_s: float = 0.1):
        super().__init__(name="peak-memory", daemon=True)
        self.pid = pid
        self.interval_s = interval_s
        self.rss = self.pss = 0
        self.breakdown: list[tuple[str, int]] = []
        self.processes = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        found = [(pid, *memory(pid)) for pid in process_tree(self.pid)]
        self.processes = max(self.processes, sum(1 for _, rss, _ in found if rss))
        rss = sum(r for _, r, _ in found)
        if rss > self.rss:
            self.rss, self.pss = rss, sum(p for _, _, p in found)
            self.breakdown = [(role(pid, self.pid), r) for pid, r, _ in found if r]

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval_s)

    def stop(self) -> "PeakMemory":
        self._stop_event.set()
        self.join()
        return self

    def by_role(self) -> list[tuple[str, int]]:
        """The peak's RSS summed per role, largest first; "worker x2" when two made it up."""
        totals: dict[str, int] = {}
        members: dict[str, int] = {}
        for name, rss in self.breakdown:
            totals[name] = totals.get(name, 0) + rss
            members[name] = members.get(name, 0) + 1
        return sorted(((f"{name} x{members[name]}" if members[name] > 1 else name, rss)
                       for name, rss in totals.items()), key=lambda item: -item[1])

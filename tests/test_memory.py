"""The benchmarks' memory sampler (testbed/memory.py) on a process tree of known size."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from testbed.memory import PeakMemory, memory, process_tree, role

# A parent that holds 80 MB and a child that holds 40 MB, each saying so once it does.
HOLD = """
import subprocess, sys
ballast = bytearray({size}) ; ballast[::4096] = b"x" * len(ballast[::4096])
{spawn}
print("ready", flush=True)
sys.stdin.read()
"""
CHILD = HOLD.format(size=40 << 20, spawn="")
PARENT = HOLD.format(size=80 << 20, spawn=f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}], "
                                          "stdout=subprocess.PIPE, stdin=subprocess.PIPE); child.stdout.readline()")


def test_the_peak_of_a_process_tree_sums_its_processes():
    proc = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"  # both hold their memory now
        tree = process_tree(proc.pid)
        assert tree[0] == proc.pid and len(tree) == 2
        sampler = PeakMemory(proc.pid)
        sampler.sample()
        assert sampler.rss >= 120 << 20 and 0 < sampler.pss <= sampler.rss and sampler.processes == 2
        assert [name for name, _ in sampler.breakdown] == ["hkai", Path(sys.executable).name]
        assert role(tree[1], proc.pid) == Path(sys.executable).name
        assert dict(sampler.breakdown)["hkai"] >= 80 << 20
        assert [name for name, _ in sampler.by_role()][0] == "hkai"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert memory(proc.pid) == (0, 0)  # gone: nothing to read


def test_the_sampler_thread_keeps_the_largest_sample_until_stopped():
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    sampler = PeakMemory(proc.pid, interval_s=0.01)
    sampler.start()
    try:
        assert proc.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 10  # the thread's next samples see what the child holds now
        while sampler.rss < 40 << 20 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    sampler.stop()
    assert sampler.rss >= 40 << 20 and not sampler.is_alive()

"""py-spy's raw (collapsed) stacks of a process tree, read back by process role and by the
deepest frame in hkai's own code (bench/profile.py prints it; bench/README.md quotes it)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

# A frame in hkai's own code: flows/, tasks/, warehouse/, schemas/.
_OURS = re.compile(r"\((?:.*/)?(?:flows|tasks|warehouse|schemas)/[^/]+\.py:\d+\)$")
_PROCESS = re.compile(r'^process \d+:"')


def _split_processes(frames: list[str]) -> tuple[list[str], list[str]]:
    """The process labels py-spy puts first (`process PID:"command line"`, split apart
    where the command line has a ';', as a spawned worker's does) and the code frames."""
    commands = []
    while frames and _PROCESS.match(frames[0]):
        label = frames.pop(0)
        while not label.endswith('"') and frames:
            label += ";" + frames.pop(0)
        commands.append(label)
    return commands, frames


def _role(commands: list[str], frames: list[str]) -> str:
    """Which process a stack is from. py-spy sometimes cannot read a command line (it
    prints ""), so the frames decide when it is missing."""
    if len(commands) <= 1:
        return "main thread" if frames[0].startswith("<module>") else "main, other threads"
    text = commands[-1] + ";".join(frames)
    if "uvicorn" in text or "prefect/server/" in text:
        return "prefect server"
    if "spawn_main" in text or "_process_worker" in text:
        return "workers"
    return "other processes"


def summarise(raw: Path, top: int = 12) -> str:
    """py-spy's raw (collapsed) stacks -> samples per process role and thread, and the
    busiest places: the deepest hkai frame of each stack, or the library frame at the
    bottom when no hkai frame is on it."""
    by_role: Counter = Counter()
    places: dict[str, Counter] = defaultdict(Counter)
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        commands, frames = _split_processes(stack.split(";"))
        if not frames:
            continue
        role = _role(commands, frames)
        ours = [f for f in frames if _OURS.search(f)]
        place = ours[-1] if ours else "(library) " + frames[-1]
        by_role[role] += int(count)
        places[role][place] += int(count)
    total = sum(by_role.values()) or 1
    lines = [f"{'samples':>8}  {'share':>6}  where"]
    for role, samples in by_role.most_common():
        lines.append(f"{samples:>8}  {samples / total:>6.1%}  {role}")
        for place, n in places[role].most_common(top):
            lines.append(f"{n:>8}  {n / total:>6.1%}      {place}")
    return "\n".join(lines)

"""Where one hkai run spends its time: py-spy over the whole process tree of a real
`hkai ingest` of the aeb pages (the harness's loopback site and config), summarised by
process and by the deepest frame in hkai's own code.

    python -m bench.profile                    # 1,810 pages (the corpus ten times)
    python -m bench.profile --pages 181 --raw /tmp/spy.txt   # keep py-spy's raw stacks

py-spy comes from bench/.venv-peers (`make bench` builds it). It samples every process
(main, pool workers, Prefect's temporary server) without slowing them much; only
samples where a thread was running are counted. bench/README.md records what the
profiles found.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from bench.f1 import load_corpus
from bench.harness import CORPUS, HKAI, HTTP_CONCURRENCY, PROJECT, CorpusSite, run_ingest

PY_SPY = PROJECT / "bench" / ".venv-peers" / "bin" / "py-spy"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1810)
    parser.add_argument("--rate", type=int, default=100, help="samples per second per thread")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's raw stacks here")
    parser.add_argument("--top", type=int, default=12, help="places listed per process")
    args = parser.parse_args(argv)
    if not PY_SPY.exists():
        print(f"profile: {PY_SPY} not found: run `make bench` once to build bench/.venv-peers", file=sys.stderr)
        return 2
    pages = load_corpus(CORPUS)
    with tempfile.TemporaryDirectory(prefix="hkai-profile-") as tmp, \
            CorpusSite(pages, total_pages=args.pages) as site:
        work = Path(tmp)
        raw = args.raw or work / "stacks.txt"
        run_ingest(work, "warm-up", work / "warm-up.duckdb", [site.empty_feed_url], HTTP_CONCURRENCY)
        profiler = (str(PY_SPY), "record", "--subprocesses", "--nonblocking", "--rate", str(args.rate),
                    "--format", "raw", "--output", str(raw), "--")
        run = run_ingest(work, "profiled", work / "profiled.duckdb", site.feed_urls, HTTP_CONCURRENCY,
                         HKAI, prefix=profiler)
        print(f"hkai ingest of {args.pages} pages under py-spy: {run.seconds:.1f} s wall, "
              f"{run.cpu_seconds:.1f} CPU s")
        print(summarise(raw, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import sys
import tempfile
from pathlib import Path

from bench.harness import CORPUS, HKAI, HTTP_CONCURRENCY, PROJECT, CorpusSite, run_ingest
from testbed.f1 import load_corpus
from testbed.pyspy import summarise

PY_SPY = PROJECT / "bench" / ".venv-peers" / "bin" / "py-spy"


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

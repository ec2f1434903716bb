"""Past one machine, measured on this one: the backfill rate on a Dask cluster of 1 and of
2 workers, two `hkai ingest` processes writing one DuckLake (PostgreSQL catalog) against
one, and what running the per-page work on Dask costs per article against the local pool.

    python -m bench.scale                   # the aeb pages twice over (362 pages)
    python -m bench.scale --copies 5        # more pages: steadier rates
    python -m bench.scale --parts lake      # one table: backfill, lake or overhead

It needs ../shared/corpus/aeb and Debian's PostgreSQL server binaries (as the tests do).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

from bench.harness import CorpusSite
from testbed.f1 import load_corpus

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT.parent / "shared" / "corpus" / "aeb"
HKAI = [sys.executable, "-m", "flows.cli"]
FILES = 4  # WARC files the backfill reads

TARGET_SPEEDUP = 1.7  # 2 Dask workers against 1
TARGET_OVERHEAD = 0.10  # Dask per article against the local pool
TARGET_BLOCKED_S = 1.0  # the longest a write of a concurrent ingest may wait


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return env


def _hkai(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*HKAI, *args], cwd=PROJECT, env=_env(), capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"hkai {args[0]} failed: {result.stderr.strip()[-500:]}")
    return result


def _config(path: Path, warehouse, **extra) -> Path:
    data = {"warehouse": warehouse, "archive_dir": str(path.parent / "archive"),
            "http": {"per_host_delay_s": 0, "per_host_concurrency": 32, "concurrency": 32}, **extra}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _sql(warehouse: str, statement: str) -> list[list]:
    import json

    result = _hkai("sql", statement, "--warehouse", warehouse, "--format", "json")
    return [list(row.values()) for row in json.loads(result.stdout)]


def _run_seconds(warehouse: str) -> list[float]:
    """The flow body of each run (finished_at - started_at): no interpreter or Prefect start-up."""
    rows = _sql(warehouse, "SELECT epoch(finished_at) - epoch(started_at) FROM runs ORDER BY started_at")
    return [float(r[0]) for r in rows]


# -- 1. backfill on 1 and 2 Dask workers -------------------------------------------------

def write_warcs(directory: Path, copies: int) -> tuple[list[Path], int]:
    """The aeb pages `copies` times under distinct URLs, dealt round-robin into FILES files."""
    from testbed.warc import write_warc

    pages = [(p.url, p.html) for p in load_corpus(CORPUS)]
    listed = [(f"{url}/copy-{k}" if k else url, html) for k in range(copies) for url, html in pages]
    files = [write_warc(directory / f"crawl-{n}.warc.gz", listed[n::FILES]) for n in range(FILES)]
    return files, len(listed)


def backfill_rate(workdir: Path, files: list[Path], pages: int, workers: int) -> tuple[float, float]:
    """(pages per second of the flow body, the flow body's seconds) on a local Dask cluster."""
    run_dir = workdir / f"dask-{workers}"
    run_dir.mkdir()
    warehouse = str(run_dir / "hkai.duckdb")
    config = _config(run_dir / "hkai.yaml", warehouse, runner={"kind": "dask", "workers": workers})
    _hkai("backfill", *map(str, files), "--config", str(config), "--pages-per-chunk", "50")
    (seconds,) = _run_seconds(warehouse)
    return pages / seconds, seconds


# -- 2. two ingests into one DuckLake ----------------------------------------------------

def concurrent_ingests(workdir: Path) -> dict:
    from testbed.postgres import PostgresServer

    corpus = load_corpus(CORPUS)
    with PostgresServer() as postgres, CorpusSite(corpus, poll_feeds=2) as site:
        results = {}
        for label, writers in (("one ingest", 1), ("two ingests", 2)):
            run_dir = workdir / label.replace(" ", "-")
            run_dir.mkdir()
            lake = {"ducklake": postgres.new_catalog(), "data_path": str(run_dir / "lake-data")}
            warehouse = "ducklake:" + lake["ducklake"]
            if writers == 1:
                feeds = [site.poll_feed_urls]
            else:
                feeds = [[url] for url in site.poll_feed_urls]
            configs = [_config(run_dir / f"w{n}.yaml", lake,
                               sources=[{"name": f"desk-{n}-{k}", "kind": "feed", "url": url}
                                        for k, url in enumerate(urls)])
                       for n, urls in enumerate(feeds)]
            _migrate(lake)  # the catalog's schema is made before the clock starts, as in a deployment
            started = time.monotonic()
            procs = [subprocess.Popen([*HKAI, "ingest", "--config", str(c)], cwd=PROJECT, env=_env(),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in configs]
            errors = [p.communicate()[1] for p in procs]
            wall = time.monotonic() - started
            if any(p.returncode for p in procs):
                raise RuntimeError(f"{label}: an ingest failed: {errors}")
            (articles, distinct), = _sql(warehouse, "SELECT count(*), count(DISTINCT canonical_url) FROM articles")
            runs = _sql(warehouse, "SELECT status, write_conflicts, longest_write_wait_s,"
                                   " epoch(finished_at) - epoch(started_at) FROM runs")
            results[label] = {
                "wall": wall, "articles": articles, "distinct": distinct,
                "completed": sum(r[0] == "completed" for r in runs),
                "conflicts": sum(r[1] or 0 for r in runs), "blocked": max((r[2] or 0.0) for r in runs),
                "body": max(float(r[3]) for r in runs),
            }
    return results


def _migrate(lake: dict) -> None:
    from schemas.config import DuckLakeWarehouse
    from warehouse.db import Warehouse

    Warehouse(DuckLakeWarehouse(**lake)).close()


# -- 3. the per-article cost of Dask against the local pool ------------------------------

ROUNDS = 3  # alternating local and Dask rounds: the machine's load drifts between them


def runner_overhead(copies: int) -> dict:
    """Seconds to analyse the pages on the local pool and on Dask, each the best of ROUNDS
    rounds taken in turn with both executors running (the best: load from other processes
    only ever adds time). Also every round's figures."""
    from schemas.config import DaskRunner, LocalRunner
    from schemas.records import Page
    from tasks.runner import open_executor

    when = datetime(2026, 1, 5, tzinfo=timezone.utc)
    corpus = load_corpus(CORPUS)
    pages = [Page(url=f"{p.url}/copy-{k}", final_url=p.url, source="aeb", html=p.html.decode("utf-8", "replace"),
                  fetched_at=when) for k in range(copies) for p in corpus]
    rounds: dict[str, list[float]] = {"local pool": [], "dask": []}
    with open_executor(LocalRunner(workers=2)) as local, open_executor(DaskRunner(kind="dask", workers=2)) as dask:
        executors = {"local pool": local, "dask": dask}
        for executor in executors.values():
            _analyse_as_an_ingest(executor, pages[:32])  # warm: imports, caches
        for _ in range(ROUNDS):
            for name, executor in executors.items():
                rounds[name].append(_analyse_as_an_ingest(executor, pages))
    return {"pages": len(pages), "rounds": rounds, **{name: min(times) for name, times in rounds.items()}}


def _analyse_as_an_ingest(executor, pages: list) -> float:
    """Seconds for the pages in batches of 64, as an ingest submits them (chunks of
    ANALYSE_CHUNK pages), two batches in flight as the flow keeps them."""
    from tasks.pool import submit_pages

    started = time.monotonic()
    in_flight = []
    for i in range(0, len(pages), 64):
        in_flight.append(submit_pages(executor, pages[i:i + 64], 0.5))
        if len(in_flight) > 2:
            [f.result() for f in in_flight.pop(0)]
    for batch in in_flight:
        [f.result() for f in batch]
    return time.monotonic() - started


# -- the table -----------------------------------------------------------------------------

def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def _load() -> str:
    """The machine's load average (1, 5, 15 min), printed beside every table: on a shared
    2-core machine the parallel figures mean little without it."""
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


PARTS = ("backfill", "lake", "overhead")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="times the 181 aeb pages are repeated")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="which tables (default: all)")
    args = parser.parse_args(argv)
    if not CORPUS.exists():
        print(f"bench.scale: {CORPUS} is missing", file=sys.stderr)
        return 2
    from flows.server import local_server

    with tempfile.TemporaryDirectory(prefix="hkai-scale-") as tmp, \
            local_server({"PREFECT_HOME": str(Path(tmp) / "prefect")}) as api_url:
        # One Prefect server for every run, as in a deployment: no per-run temporary server.
        os.environ["PREFECT_API_URL"] = api_url
        workdir = Path(tmp)
        if "backfill" in args.parts:
            print_backfill(workdir, args.copies)
        if "lake" in args.parts:
            print_lake(workdir)
        if "overhead" in args.parts:
            print_overhead(args.copies)
    return 0


def print_backfill(workdir: Path, copies: int) -> None:
    files, pages = write_warcs(workdir, copies)
    one_rate, one_s = backfill_rate(workdir, files, pages, 1)
    two_rate, two_s = backfill_rate(workdir, files, pages, 2)
    speedup = two_rate / one_rate
    print(f"\nBackfill of {pages} pages in {FILES} WARC files on a local Dask cluster (flow body; {_load()})\n")
    print("| workers | pages/s | seconds | ratio to 1 worker | target |")
    print("|---:|---:|---:|---:|---|")
    print(f"| 1 | {one_rate:.1f} | {one_s:.1f} | 1.00 | |")
    print(f"| 2 | {two_rate:.1f} | {two_s:.1f} | {speedup:.2f} | >= {TARGET_SPEEDUP} {_verdict(speedup >= TARGET_SPEEDUP)} |",
          flush=True)


def print_lake(workdir: Path) -> None:
    lake = concurrent_ingests(workdir)
    print(f"\nIngests into one DuckLake (PostgreSQL catalog), the aeb pages split over two feeds ({_load()})\n")
    print("| writers | wall s | articles | distinct | runs completed | conflicts retried | longest write wait s | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for label, r in lake.items():
        ok = r["articles"] == r["distinct"] and r["blocked"] <= TARGET_BLOCKED_S
        print(f"| {label} | {r['wall']:.1f} | {r['articles']} | {r['distinct']} | {r['completed']} | "
              f"{r['conflicts']} | {r['blocked']:.3f} | no duplicates, wait <= {TARGET_BLOCKED_S:g} s "
              f"{_verdict(ok)} |")
    same = lake["one ingest"]["distinct"] == lake["two ingests"]["distinct"]
    print(f"\nSame articles stored by one writer and by two: {_verdict(same)} "
          f"({lake['one ingest']['distinct']} and {lake['two ingests']['distinct']})", flush=True)


def print_overhead(copies: int) -> None:
    overhead = runner_overhead(copies)
    cost = overhead["dask"] / overhead["local pool"] - 1
    per_local = 1000 * overhead["local pool"] / overhead["pages"]
    per_dask = 1000 * overhead["dask"] / overhead["pages"]
    print(f"\nPer-page analysis of {overhead['pages']} pages, 2 workers each ({_load()})\n")
    print(f"| runner | best of {ROUNDS} s | every round s | ms per article | overhead | target |")
    print("|---|---:|---|---:|---:|---|")
    rounds = {name: ", ".join(f"{t:.1f}" for t in times) for name, times in overhead["rounds"].items()}
    print(f"| local pool | {overhead['local pool']:.1f} | {rounds['local pool']} | {per_local:.1f} | | |")
    print(f"| dask | {overhead['dask']:.1f} | {rounds['dask']} | {per_dask:.1f} | {100 * cost:+.1f} % | "
          f"<= {100 * TARGET_OVERHEAD:.0f} % {_verdict(cost <= TARGET_OVERHEAD)} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())

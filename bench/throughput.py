"""Every core busy: hkai's throughput and memory on original pages, on this machine.

    python -m bench.throughput                         # all three parts, 100,000 pages in the long one
    python -m bench.throughput --parts scaling ingest  # the two short comparisons only
    python -m bench.throughput --parts long --pages 20000

The pages are ../shared/corpus/aeb's real markup with new text in every copy (a share of
each text's words replaced by other words of the corpus, different in each copy), so no
copy is a duplicate of another and every page goes through every stage, as a crawl of
new articles does. They are generated into a temporary directory, never kept.

1. scaling: `hkai backfill` of the same original pages (4 WARC files) with 1 and with 2
   local workers, alternating, ROUNDS rounds; the rate is pages / the flow body
   (`runs.finished_at - started_at`). Target: 2 workers >= 1.7x 1 worker.
2. ingest: `hkai ingest` of the same pages from the loopback site (testbed/site.py, the
   harness's CorpusSite) against trafilatura's extraction with the metadata hkai stores,
   one process, back to back. Target: hkai >= 1.2x.
3. long: one `hkai backfill` of `--pages` original pages (10 WARC files), printing every
   10,000 pages the rate, the peak RSS of the whole process tree (testbed/memory.py), the
   flow process's CPU against the workers', and the per-article cost of the dedup
   lookups (`backfill_chunks.dedup_s`); then what 1,000,000 pages would take on this
   machine and on a Dask cluster of four workers. Targets: peak RSS < 1 GiB; dedup cost
   at the end within 1.5x of its cost at 10,000.

Each table prints the load average: other engineers share this machine.
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from testbed.f1 import CorpusPage, load_corpus
from testbed.memory import PeakMemory, memory, process_tree, role

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT.parent / "shared" / "corpus" / "aeb"
HKAI = [sys.executable, "-m", "flows.cli"]

TARGET_SPEEDUP = 1.7
TARGET_INGEST = 1.2
TARGET_RSS_MIB = 1024
TARGET_DEDUP_GROWTH = 1.5
FLOW_CORE_SHARE = 0.25  # the flow process's CPU per worker's throughput, at most
ROUNDS = 2
REPORT_EVERY = 10_000
POLL_S = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

# -- original pages --------------------------------------------------------------------------

# Markup, scripts, styles and comments are kept as they are; only the text between tags changes.
_MARKUP = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I)
_WORD = re.compile(r"[^\W\d_]{2,}")
_CANONICAL = re.compile(r"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.I)
# A word in three is replaced: every 5-word shingle of a copy then almost surely holds one,
# so copies of a page share few shingles (Jaccard ~0.02, far under the 0.4 of a near
# duplicate), while most of each text, its names and topic words included, stays real.
REPLACE_SHARE = 1 / 3


def corpus_vocabulary(pages: list[CorpusPage]) -> list[str]:
    return sorted({w for p in pages for w in _WORD.findall(p.body)})


def original_copy(page: CorpusPage, copy: int, vocabulary: list[str]) -> bytes:
    """The page with new text: the same markup, a third of its words replaced by others,
    and no rel=canonical (which would make every copy the one article at that address)."""
    rng = random.Random(f"{page.page_id}/{copy}")
    parts = _MARKUP.split(_CANONICAL.sub("", page.html.decode("utf-8", "replace")))

    def swap(match: re.Match) -> str:
        return rng.choice(vocabulary) if rng.random() < REPLACE_SHARE else match.group(0)

    for i in range(0, len(parts), 2):  # even parts are text, odd ones markup
        if parts[i].strip():
            parts[i] = html_lib.escape(_WORD.sub(swap, html_lib.unescape(parts[i])), quote=False)
    return "".join(parts).encode("utf-8")


def original_pages(pages: list[CorpusPage], numbers: range):
    """Pages of the sequence by number: page n is aeb page n % 181 in its copy n // 181."""
    vocabulary = corpus_vocabulary(pages)
    for n in numbers:
        page, copy = pages[n % len(pages)], n // len(pages)
        yield f"{page.url.rstrip('/')}/original-{copy}", original_copy(page, copy, vocabulary)


def _write_file(args: tuple[Path, int, int, int]) -> int:
    from testbed.warc import write_warc

    path, total, files, number = args
    write_warc(path, original_pages(load_corpus(CORPUS), range(number, total, files)))
    return path.stat().st_size


def write_warcs(directory: Path, total: int, files: int) -> list[Path]:
    """`total` original pages dealt round-robin into `files` WARC files, written by two processes."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"crawl-{n:02d}.warc.gz" for n in range(files)]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_write_file, [(path, total, files, n) for n, path in enumerate(paths)]))
    return paths


# -- running hkai ----------------------------------------------------------------------------

def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return env


def _config(path: Path, warehouse: Path, **extra) -> Path:
    data = {"warehouse": str(warehouse), "archive_dir": str(path.parent / "archive"),
            "http": {"per_host_delay_s": 0, "per_host_concurrency": 32, "concurrency": 32, "timeout_s": 30}, **extra}
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def _query(warehouse: Path, sql: str) -> list[tuple]:
    from warehouse.db import read_only_query

    return read_only_query(warehouse, sql, wait_s=30)[1]


def flow_seconds(warehouse: Path) -> float:
    """The last run's flow body (finished_at - started_at): no interpreter or Prefect start-up."""
    (seconds,), = _query(warehouse, "SELECT epoch(finished_at) - epoch(started_at) FROM runs"
                                    " ORDER BY started_at DESC LIMIT 1")
    return float(seconds)


def backfill(run_dir: Path, files: list[Path], workers: int) -> tuple[float, Path]:
    """One `hkai backfill` of the files on a fresh warehouse; (flow body seconds, warehouse)."""
    run_dir.mkdir(parents=True)
    warehouse = run_dir / "hkai.duckdb"
    config = _config(run_dir / "hkai.yaml", warehouse, runner={"kind": "local", "workers": workers})
    result = subprocess.run([*HKAI, "backfill", *map(str, files), "--config", str(config)], cwd=PROJECT, env=_env(),
                            capture_output=True, text=True, timeout=7200)
    if result.returncode != 0:
        raise RuntimeError(f"hkai backfill failed: {result.stderr.strip()[-1500:]}")
    return flow_seconds(warehouse), warehouse


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


# -- 1. one worker against two --------------------------------------------------------------

def scaling(workdir: Path, pages: int) -> dict:
    files = write_warcs(workdir / "scaling-warcs", pages, 4)
    rates: dict[int, list[float]] = {1: [], 2: []}
    loads = []
    for n in range(ROUNDS):
        for workers in (1, 2):  # back to back, alternating: the machine's load drifts
            seconds, _ = backfill(workdir / f"scaling-{n}-{workers}", files, workers)
            rates[workers].append(pages / seconds)
        loads.append(_load())
    ratios = [two / one for one, two in zip(rates[1], rates[2])]
    print(f"\nBackfill of {pages} original pages (4 WARC files), local pool; load averages {'; '.join(loads)}\n")
    print("| workers | pages/s, each round | best | ratio to 1 worker (best) | ratio in each round | target |")
    print("|---:|---|---:|---:|---|---|")
    best = {w: max(r) for w, r in rates.items()}
    for workers in (1, 2):
        ratio = best[workers] / best[1]
        verdict = "" if workers == 1 else f">= {TARGET_SPEEDUP} {'met' if ratio >= TARGET_SPEEDUP else 'not met'}"
        each = ", ".join(f"{r:.1f}" for r in rates[workers])
        every = "" if workers == 1 else ", ".join(f"{r:.2f}" for r in ratios)
        print(f"| {workers} | {each} | {best[workers]:.1f} | {ratio:.2f} | {every} | {verdict} |")
    return {"rates": rates, "ratios": ratios}


# -- 2. hkai ingest against trafilatura -------------------------------------------------------

def trafilatura_rate(pages: list[tuple[str, bytes]]) -> float:
    """Pages per second of trafilatura's extraction with the metadata hkai stores, here, one process."""
    import trafilatura

    from tasks.understand.extract import DATE_PARAMS, EXTRACT_PARAMS

    decoded = [(url, html.decode("utf-8", "replace")) for url, html in pages]
    for url, html in decoded[:3]:
        trafilatura.bare_extraction(html, url=url, date_extraction_params=DATE_PARAMS, **EXTRACT_PARAMS)
    started = time.perf_counter()
    for url, html in decoded:
        trafilatura.bare_extraction(html, url=url, date_extraction_params=DATE_PARAMS, **EXTRACT_PARAMS)
    return len(decoded) / (time.perf_counter() - started)


def ingest(workdir: Path, total: int) -> dict:
    from bench.harness import CorpusSite, run_ingest

    corpus = load_corpus(CORPUS)
    generated = list(original_pages(corpus, range(total)))
    served = [CorpusPage(f"p{n:06d}", url, "", html) for n, (url, html) in enumerate(generated)]
    rounds = []
    with CorpusSite(served) as site:
        for n in range(ROUNDS):
            run_dir = workdir / f"ingest-{n}"
            run_dir.mkdir()
            run = run_ingest(run_dir, "ingest", run_dir / "hkai.duckdb", site.feed_urls, 32, hkai=PROJECT / ".venv" / "bin" / "hkai")
            (articles,), = _query(run_dir / "hkai.duckdb", "SELECT count(*) FROM articles")
            body = flow_seconds(run_dir / "hkai.duckdb")
            peer = trafilatura_rate(generated)
            rounds.append({"articles": articles, "body": body, "wall": run.seconds, "rate": articles / body,
                           "whole": articles / run.seconds, "peer": peer, "load": _load()})
    print(f"\n`hkai ingest` of {total} original pages from the loopback site against trafilatura with metadata"
          " (one process), back to back\n")
    print("| round | hkai articles | flow body s | hkai articles/s | whole CLI run s (articles/s) | trafilatura pages/s"
          " | hkai / trafilatura | load average | target |")
    print("|---:|---:|---:|---:|---|---:|---:|---|---|")
    for n, r in enumerate(rounds, 1):
        ratio = r["rate"] / r["peer"]
        print(f"| {n} | {r['articles']} | {r['body']:.1f} | {r['rate']:.1f} | {r['wall']:.1f} ({r['whole']:.1f}) |"
              f" {r['peer']:.1f} | {ratio:.2f} | {r['load']} | >= {TARGET_INGEST} "
              f"{'met' if ratio >= TARGET_INGEST else 'not met'} |")
    return {"rounds": rounds}


# -- 3. the long backfill -----------------------------------------------------------------------

def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(the process's own CPU seconds, its reaped children's), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    reaped = (int(fields[13]) + int(fields[14])) / CLK_TCK
    return own, reaped


@dataclass
class TreeCpu:
    """CPU seconds of the backfill's process tree by role, living and reaped workers counted."""

    root: int
    flow: float = 0.0
    workers: float = 0.0
    other: float = 0.0
    _seen: dict = field(default_factory=dict)

    def sample(self) -> None:
        own, reaped = _cpu_seconds(self.root)
        for pid in process_tree(self.root)[1:]:
            self._seen[pid] = (role(pid, self.root), sum(_cpu_seconds(pid)))
        self.flow = own
        living = {"worker": 0.0, "other": 0.0}
        for name, seconds in self._seen.values():
            living["worker" if name == "worker" else "other"] += seconds
        # A replaced worker's CPU moves into the root's reaped total: count the larger.
        self.workers = max(living["worker"], reaped - living["other"])
        self.other = living["other"]


def long_backfill(workdir: Path, total: int, files: int, warcs: Path | None = None) -> dict:
    started_writing = time.monotonic()
    kept = sorted(warcs.glob("crawl-*.warc.gz")) if warcs else []
    # The same pages again (`--warcs`): writing 100,000 of them takes ~9 minutes here.
    paths = kept if len(kept) == files else write_warcs(warcs or workdir / "long-warcs", total, files)
    size = sum(p.stat().st_size for p in paths)
    print(f"\nLong backfill: {total} original pages in {files} WARC files ({size / 2**30:.1f} GiB gzipped, written in"
          f" {time.monotonic() - started_writing:.0f} s), local pool of 2 workers, a fresh warehouse", flush=True)
    run_dir = workdir / "long"
    run_dir.mkdir()
    warehouse = run_dir / "hkai.duckdb"
    config = _config(run_dir / "hkai.yaml", warehouse, runner={"kind": "local", "workers": 2})
    log = open(run_dir / "backfill.log", "wb")
    began = time.monotonic()
    process = subprocess.Popen([*HKAI, "backfill", *map(str, paths), "--config", str(config)], cwd=PROJECT, env=_env(),
                               stdout=log, stderr=subprocess.STDOUT)
    peak = PeakMemory(process.pid, 0.5)
    peak.start()
    cpu = TreeCpu(process.pid)
    print("\n| pages | s | pages/s (last 10k) | pages/s (all) | peak RSS of the tree MiB (by process) | RSS now MiB"
          " | flow CPU per worker's throughput | dedup ms/article (last 10k) | load average |")
    print("|---:|---:|---:|---:|---|---:|---:|---:|---|", flush=True)
    rows: list[dict] = []
    reported, previous = 0, {"pages": 0, "at": 0.0, "dedup": 0.0, "articles": 0, "flow": 0.0, "workers": 0.0}
    while True:
        finished = process.poll() is not None
        if not finished:
            cpu.sample()
        done = _progress(warehouse) if warehouse.exists() else []
        for n, (pages, at, dedup, articles) in enumerate(done):
            last_of_run = finished and n == len(done) - 1 and pages > reported
            if pages < reported + REPORT_EVERY and not last_of_run:
                continue
            row = _row(pages, at - began, dedup, articles, previous, peak, cpu, process.pid)
            rows.append(row)
            print(row["line"], flush=True)
            reported = pages
            previous = {"pages": pages, "at": at - began, "dedup": dedup, "articles": articles,
                        "flow": cpu.flow, "workers": cpu.workers}
        if finished:
            break
        time.sleep(POLL_S)
    peak.stop()
    log.close()
    if process.returncode != 0:
        raise RuntimeError(f"hkai backfill exited {process.returncode}: see {run_dir / 'backfill.log'}")
    return _long_summary(rows, peak, warehouse, total)


def _progress(warehouse: Path) -> list[tuple[int, float, float, int]]:
    """(pages, loaded at (monotonic-comparable epoch), dedup seconds, articles) cumulated per chunk."""
    rows = _query(warehouse, "SELECT sum(pages) OVER w, epoch(loaded_at), sum(coalesce(dedup_s, 0)) OVER w,"
                             " sum(new_articles) OVER w FROM backfill_chunks"
                             " WINDOW w AS (ORDER BY loaded_at ROWS UNBOUNDED PRECEDING) ORDER BY loaded_at")
    offset = time.time() - time.monotonic()
    return [(int(p), float(t) - offset, float(d), int(a)) for p, t, d, a in rows]


def _row(pages, at, dedup, articles, previous, peak: PeakMemory, cpu: TreeCpu, root: int) -> dict:
    window_pages = pages - previous["pages"]
    window_s = max(at - previous["at"], 1e-9)
    window_articles = max(articles - previous["articles"], 1)
    dedup_ms = 1000 * (dedup - previous["dedup"]) / window_articles
    now_rss = sum(memory(pid)[0] for pid in process_tree(root))
    worker_s = cpu.workers - previous["workers"]
    # The flow's CPU seconds for the pages one worker analyses in a CPU second: the share of a
    # core the flow needs to keep up with each worker.
    flow_share = (cpu.flow - previous["flow"]) / worker_s if worker_s > 0 else float("nan")
    by_role = ", ".join(f"{name} {rss / 2**20:.0f}" for name, rss in peak.by_role())
    line = (f"| {pages:,} | {at:.0f} | {window_pages / window_s:.1f} | {pages / at:.1f} | {peak.rss / 2**20:.0f}"
            f" ({by_role}) | {now_rss / 2**20:.0f} | {flow_share:.3f} | {dedup_ms:.3f} | {_load()} |")
    return {"pages": pages, "at": at, "rate": window_pages / window_s, "dedup_ms": dedup_ms, "peak": peak.rss,
            "flow_share": flow_share, "line": line, "flow_cpu": cpu.flow, "worker_cpu": cpu.workers}


def _long_summary(rows: list[dict], peak: PeakMemory, warehouse: Path, total: int) -> dict:
    (articles, duplicates, relevant), = _query(warehouse, "SELECT count(*), count(duplicate_of), count_if(is_relevant)"
                                                          " FROM articles")
    last = rows[-1]
    first_dedup = rows[0]["dedup_ms"]
    growth = last["dedup_ms"] / first_dedup if first_dedup else float("nan")
    print(f"\n{articles:,} articles stored ({duplicates} duplicates, {relevant:,} relevant) from {total:,} pages"
          f" in {last['at']:.0f} s: {total / last['at']:.1f} pages/s.")
    print(f"Peak RSS of the whole tree: {peak.rss / 2**20:.0f} MiB (PSS {peak.pss / 2**20:.0f} MiB), target"
          f" < {TARGET_RSS_MIB}: {'met' if peak.rss < TARGET_RSS_MIB * 2**20 else 'not met'}.")
    print(f"Dedup cost per article: {first_dedup:.3f} ms at {rows[0]['pages']:,} pages, {last['dedup_ms']:.3f} ms at"
          f" {last['pages']:,}: {growth:.2f}x, target <= {TARGET_DEDUP_GROWTH}x:"
          f" {'met' if growth <= TARGET_DEDUP_GROWTH else 'not met'}.")
    flow_share = last["flow_cpu"] / last["worker_cpu"] if last["worker_cpu"] else float("nan")
    print(f"Flow process CPU per worker's throughput over the run: {flow_share:.3f} of a core"
          f" (target < {FLOW_CORE_SHARE}).")
    _projection(rows, peak, total)
    return {"rows": rows, "peak": peak.rss, "growth": growth, "flow_share": flow_share}


def _projection(rows: list[dict], peak: PeakMemory, total: int) -> None:
    """1,000,000 pages: time from the measured CPU per page (workers and flow), memory from
    the flow process's growth per page (mostly the dedup index) and the workers' peak."""
    last = rows[-1]
    worker_cpu_per_page = last["worker_cpu"] / last["pages"]
    flow_cpu_per_page = last["flow_cpu"] / last["pages"]
    roles = dict(peak.by_role())
    flow_rss = roles.get("hkai", 0)
    workers_rss = sum(rss for name, rss in roles.items() if name.startswith("worker"))
    others = peak.rss - flow_rss - workers_rss
    # The flow process grows with the dedup index (~0.6 KB a document in its arrays, plus
    # its id): measured here as its RSS at the peak against the first report's.
    first_peak = rows[0]["peak"]
    per_page = max(0.0, (peak.rss - first_peak) / max(last["pages"] - rows[0]["pages"], 1))
    million = 1_000_000
    print(f"\nProjected for {million:,} pages (from {total:,}: workers {1000 * worker_cpu_per_page:.1f} CPU ms a page,"
          f" the flow {1000 * flow_cpu_per_page:.1f}; the tree grew {per_page:.0f} bytes a page after the first report)\n")
    print("| where | hours | limit | memory |")
    print("|---|---:|---|---|")
    here_rate = last["pages"] / last["at"]
    grown = peak.rss + per_page * (million - last["pages"])
    print(f"| this machine, 2 workers | {million / here_rate / 3600:.1f} | the 2 cores | {grown / 2**30:.2f} GiB"
          f" (flow {(flow_rss + per_page * (million - last['pages'])) / 2**20:.0f} MiB, workers {workers_rss / 2**20:.0f},"
          f" other {others / 2**20:.0f}) |")
    cluster = 4 / worker_cpu_per_page  # four single-threaded Dask workers, one core each
    ceiling = 1 / flow_cpu_per_page  # one flow process on a core of its own
    rate = min(cluster, ceiling)
    limit = "the four workers" if cluster <= ceiling else "the flow process"
    print(f"| Dask cluster of 4 workers, flow on its own machine | {million / rate / 3600:.1f} | {limit} |"
          f" flow machine {(flow_rss + per_page * (million - last['pages'])) / 2**20:.0f} MiB;"
          f" each worker {workers_rss / 2 / 2**20:.0f} MiB |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=["scaling", "ingest", "long"], default=["scaling", "ingest", "long"])
    parser.add_argument("--pages", type=int, default=100_000, help="pages of the long backfill")
    parser.add_argument("--short-pages", type=int, default=1810, help="pages of the two comparisons")
    parser.add_argument("--files", type=int, default=10, help="WARC files of the long backfill")
    parser.add_argument("--warcs", type=Path, help="keep the long backfill's WARC files here, and reuse them if there")
    args = parser.parse_args(argv)
    if not CORPUS.exists():
        print(f"needs {CORPUS}", file=sys.stderr)
        return 2
    print(f"bench.throughput: {os.cpu_count()} cores, load average {_load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="hkai-throughput-") as tmp:
        workdir = Path(tmp)
        if "scaling" in args.parts:
            scaling(workdir, args.short_pages)
        if "ingest" in args.parts:
            ingest(workdir, args.short_pages)
        if "long" in args.parts:
            long_backfill(workdir, args.pages, args.files, args.warcs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

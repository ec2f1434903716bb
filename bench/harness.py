"""hkai end to end against the tools users would pick instead, on the same aeb pages.

Serves ../shared/corpus/aeb from the loopback site (testbed/site.py) through a feed, runs the
real CLI (`.venv/bin/hkai ingest`) on a fresh warehouse, and prints one table: articles/s,
per core, hkai's ratio to each peer and extraction F1 (testbed/f1.py), then hkai's details:
start-up overhead, peak RSS of the process tree, and a poll of 50 sources answering 304.
Peers run in bench/.venv-peers (bench/peers.py). See bench/README.md.

    python -m bench.harness                 # 181 pages
    python -m bench.harness --pages 1810    # the pages ten times, under distinct URLs
    python -m bench.harness --backfill 100000   # peak RSS of a large backfill only (slow)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from testbed.f1 import CorpusPage, Score, load_corpus, score
from testbed.memory import PeakMemory
from testbed.site import Route, Site

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT.parent / "shared" / "corpus" / "aeb"
HKAI = PROJECT / ".venv" / "bin" / "hkai"
PEERS_PYTHON = PROJECT / "bench" / ".venv-peers" / "bin" / "python"
POLL_SOURCES = 50
HTTP_CONCURRENCY = 32  # loopback: the site, not politeness, is the limit
RSS_SAMPLE_S = 0.1

# The project's throughput targets, on a 2-core machine.
TARGET_PER_CORE = 60.0
TARGET_VS_NEWSPAPER = 3.5
TARGET_VS_TRAFILATURA = 0.70
TARGET_F1 = 0.96
TARGET_POLL_S = 1.0
TARGET_BACKFILL_RSS = 1 << 30


# -- the site ---------------------------------------------------------------------------

FEED_ITEMS = 2_000  # items per feed, under the fetcher's per-source cap
SITE_LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"  # the feeds' item dates: the site never changes


class CorpusSite:
    """The aeb pages on the loopback site (testbed/site.py), from memory:

      /a/<id>.html    each page, gunzipped (copies: /a/<id>-<k>.html, k >= 1, sharing one body)
      /feed.xml       RSS 2.0 listing every page (more pages: /feed-<k>.xml, FEED_ITEMS each)
      /poll-<k>.xml   `poll_feeds` small feeds for the "unchanged sources" measure
      /empty.xml      a feed with no items (the start-up overhead run)
      /robots.txt     allows everything

    Every response carries ETag and Last-Modified and answers a matching conditional GET
    with 304, as a well-behaved news site does. Use as a context manager."""

    def __init__(self, pages: list[CorpusPage], total_pages: int | None = None, poll_feeds: int = 0):
        self.site = Site(keep_requests=False)  # 100k requests' headers are nobody's business
        self.base = self.site.base
        self._page_of_path: dict[str, str] = {}
        route_of = {p.page_id: Route(p.html, conditional=True) for p in pages}
        listed: list[tuple[str, str]] = []
        for n in range(total_pages or len(pages)):
            page = pages[n % len(pages)]
            copy = n // len(pages)
            path = f"/a/{page.page_id}.html" if copy == 0 else f"/a/{page.page_id}-{copy}.html"
            self.site.routes[path] = route_of[page.page_id]  # copies share the route: one body, one ETag
            self._page_of_path[path] = page.page_id
            listed.append((f"aeb page {n}", path))

        self.feed_urls = [self._feed("/feed.xml" if k == 0 else f"/feed-{k // FEED_ITEMS}.xml",
                                     f"aeb {k // FEED_ITEMS}", listed[k:k + FEED_ITEMS])
                          for k in range(0, len(listed), FEED_ITEMS)]
        # Poll feeds share out the first copy of the pages, so polling them after the main
        # feed's run discovers only stored articles and then only 304s.
        first_copy = listed[:len(pages)]
        self.poll_feed_urls = [self._feed(f"/poll-{k}.xml", f"poll {k}", first_copy[k::poll_feeds])
                               for k in range(poll_feeds)]
        self.empty_feed_url = self._feed("/empty.xml", "empty", [])
        self.site.add("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain", conditional=True)

    def _feed(self, path: str, title: str, items: list[tuple[str, str]]) -> str:
        return self.site.add_feed(path, items, title=title, guid=True, published=SITE_LAST_MODIFIED,
                                  description="aeb pages")

    def page_url(self, page_id: str) -> str:
        """The URL of a page's first copy."""
        return f"{self.base}/a/{page_id}.html"

    def page_id(self, url: str) -> str | None:
        """The aeb id of a page URL this site serves (any copy), else None."""
        if not url.startswith(self.base):
            return None
        return self._page_of_path.get(url[len(self.base):].split("?", 1)[0])

    @property
    def responses(self):
        """Responses sent since the last `reset_counts()`, by status code."""
        return self.site.stats().responses

    def reset_counts(self) -> None:
        self.site.reset_hits()

    def __enter__(self) -> "CorpusSite":
        self.site.start()
        return self

    def __exit__(self, *exc) -> None:
        self.site.stop()


# -- running the CLI -------------------------------------------------------------------

@dataclass
class IngestRun:
    seconds: float  # wall clock of the whole CLI process
    cpu_seconds: float  # user + system of the process and its reaped workers
    peak: PeakMemory  # process tree, sampled
    largest_process_rss: int  # bytes, from wait4 (the kernel's own peak of one process)
    output: str
    warehouse: Path


def run_ingest(workdir: Path, name: str, warehouse: Path, feed_urls: list[str], concurrency: int,
               hkai: Path = HKAI, prefix: tuple[str, ...] = (), settings: dict | None = None) -> IngestRun:
    """Write a config for these feeds and time `hkai ingest` on it; raise if it fails.
    Sources are named after their feed's path, so reruns find their stored validators.
    `prefix` runs the command under another (a profiler); `settings` adds configuration
    keys (alert channels)."""
    config = {
        "warehouse": str(warehouse),
        # No politeness delay and wide per-host concurrency: the only host is our loopback site.
        "http": {"per_host_delay_s": 0, "per_host_concurrency": min(concurrency, 64),
                 "concurrency": concurrency, "timeout_s": 30},
        "sources": [{"name": url.rsplit("/", 1)[-1].removesuffix(".xml"), "kind": "feed", "url": url}
                    for url in feed_urls],
        **(settings or {}),
    }
    config_path = workdir / f"{name}.yaml"
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")  # JSON is YAML
    log_path = workdir / f"{name}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}
    with open(log_path, "w+b") as log:
        began = time.perf_counter()
        process = subprocess.Popen([*prefix, str(hkai), "ingest", "--config", str(config_path), "--warehouse", str(warehouse)],
                                   stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=environment)
        sampler = PeakMemory(process.pid, RSS_SAMPLE_S)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        peak = sampler.stop()
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"hkai ingest ({name}) exited {process.returncode}:\n{output[-3000:]}")
    return IngestRun(seconds, usage.ru_utime + usage.ru_stime, peak, usage.ru_maxrss * 1024, output, warehouse)


def _query(warehouse: Path, sql: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def stored_texts(warehouse: Path) -> dict[str, str]:
    """articles.url -> articles.text, as loaded."""
    return dict(_query(warehouse, "SELECT url, text FROM articles"))


def last_run_seconds(warehouse: Path) -> float | None:
    """The newest run's flow time from the runs table (excludes interpreter and Prefect start)."""
    rows = _query(warehouse, "SELECT epoch(finished_at) - epoch(started_at) FROM runs "
                             "WHERE status = 'completed' ORDER BY started_at DESC LIMIT 1")
    return float(rows[0][0]) if rows and rows[0][0] is not None else None


def relevant_count(warehouse: Path) -> int:
    return _query(warehouse, "SELECT count(*) FROM articles WHERE is_relevant")[0][0]


# -- the peers ---------------------------------------------------------------------------

def run_peers(corpus: Path, workdir: Path, repeat: int) -> tuple[dict, str]:
    """Peer results from their own venv; without it, what the project venv can run
    (trafilatura, lxml), and newspaper4k / news-please reported missing."""
    python = PEERS_PYTHON if PEERS_PYTHON.exists() else Path(sys.executable)
    out = workdir / "peers.json"
    command = [str(python), "-m", "bench.peers", "--corpus", str(corpus), "--out", str(out), "--repeat", str(repeat)]
    subprocess.run(command, cwd=PROJECT, check=True)
    return json.loads(out.read_text(encoding="utf-8"))["results"], str(python)


# -- the report --------------------------------------------------------------------------

@dataclass
class Row:
    system: str
    rate: float | None  # articles/s, wall clock
    cores: int
    f1: Score | None
    note: str = ""

    @property
    def per_core(self) -> float | None:
        return self.rate / self.cores if self.rate else None


def _fmt(value: float | None, spec: str = ".1f", missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def _peak_line(run: IngestRun) -> str:
    parts = ", ".join(f"{role} {_mib(rss)}" for role, rss in sorted(run.peak.breakdown, key=lambda p: -p[1]))
    return (f"RSS {_mib(run.peak.rss)} summed over the process tree ({parts}); PSS {_mib(run.peak.pss)}; "
            f"largest single process {_mib(run.largest_process_rss)} (sampled every {RSS_SAMPLE_S} s)")


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def print_table(rows: list[Row]) -> None:
    hkai = rows[0]
    print(f"{'system':<26}{'articles/s':>11}{'cores':>7}{'per core':>10}{'hkai/x per core':>17}{'F1':>8}  note")
    for row in rows:
        ratio = hkai.per_core / row.per_core if hkai.per_core and row.per_core else None
        f1 = _fmt(row.f1.f1, ".3f") if row.f1 else "-"
        print(f"{row.system:<26}{_fmt(row.rate):>11}{row.cores:>7}{_fmt(row.per_core):>10}"
              f"{_fmt(ratio, '.2f'):>17}{f1:>8}  {row.note}")


def _median(runs: list[IngestRun]) -> IngestRun:
    """The run of median wall time: the machine is shared, and one run can be unlucky."""
    return sorted(runs, key=lambda r: r.seconds)[(len(runs) - 1) // 2]


def benchmark(args) -> int:
    pages = load_corpus(args.corpus)
    truth = {p.page_id: p.body for p in pages}
    cores = os.cpu_count() or 1
    total = args.pages or len(pages)

    print(f"hkai benchmark {date.today()}: aeb corpus, {total} pages ({len(pages)} distinct) "
          f"from a loopback site, {cores} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="hkai-bench-") as tmp, \
            CorpusSite(pages, total_pages=total, poll_feeds=POLL_SOURCES) as site:
        work = Path(tmp)

        def ingest(name: str, warehouse: Path, feeds: list[str]) -> IngestRun:
            return run_ingest(work, name, warehouse, feeds, HTTP_CONCURRENCY, args.hkai)

        print("  hkai: warm-up and start-up overhead (empty feed) ...", file=sys.stderr, flush=True)
        ingest("warm-up", work / "warm-up.duckdb", [site.empty_feed_url])
        cold = _median([ingest("empty", work / f"empty-{i}.duckdb", [site.empty_feed_url])
                        for i in range(args.repeat)])
        warm = _median([ingest("empty-again", work / f"empty-{i}.duckdb", [site.empty_feed_url])
                        for i in range(args.repeat)])

        print(f"  hkai: end to end, {total} pages, {args.repeat} run(s) ...", file=sys.stderr, flush=True)
        site.reset_counts()
        runs = [ingest("aeb", work / f"hkai-{i}.duckdb", site.feed_urls) for i in range(args.repeat)]
        served = site.responses[200] // args.repeat
        e2e = _median(runs)
        warehouse = e2e.warehouse
        by_url = stored_texts(warehouse)
        stored = sum(1 for url in by_url if site.page_id(url))
        hkai_f1 = score(truth, {pid: by_url.get(site.page_url(pid)) for pid in truth})
        relevant = relevant_count(warehouse)

        print(f"  hkai: poll of {POLL_SOURCES} unchanged sources ...", file=sys.stderr, flush=True)
        ingest("poll-first", warehouse, site.poll_feed_urls)
        site.reset_counts()
        poll = ingest("poll", warehouse, site.poll_feed_urls)
        poll_304s = site.responses[304]
        poll_flow = last_run_seconds(warehouse)

        peers, peers_python = {}, ""
        if not args.skip_peers:
            print("  peers: extraction of the same pages, one core each ...", file=sys.stderr, flush=True)
            peers, peers_python = run_peers(args.corpus, work, args.repeat)

    net_seconds = max(e2e.seconds - cold.seconds, 1e-9)
    hkai_cores = min(cores, _hkai_workers())
    rows = [Row("hkai end to end", stored / net_seconds, hkai_cores, hkai_f1,
                f"net of start-up; whole run {stored / e2e.seconds:.1f}/s")]
    for name, result in peers.items():
        if "error" in result:
            rows.append(Row(name, None, 1, None, result["error"][:60]))
            continue
        texts = result["texts"]
        has_text = any(t for t in texts.values())
        note = f"{result['version']}" + (f", raised on {len(result['failures'])} pages" if result["failures"] else "")
        rows.append(Row(name, result["pages"] / result["seconds"], 1, score(truth, texts) if has_text else None, note))
    print()
    print_table(rows)

    by_name = {r.system: r for r in rows}
    hkai = rows[0]
    print()
    print("hkai details")
    print(f"  whole run: {e2e.seconds:.2f} s for {stored} stored articles ({served} pages served, "
          f"{relevant} relevant, so NER ran on {relevant}); {e2e.cpu_seconds:.1f} CPU s, "
          f"{e2e.cpu_seconds / e2e.seconds:.2f} cores busy")
    print(f"  start-up overhead: {cold.seconds:.2f} s on a fresh warehouse (empty feed; migrations, seeds), "
          f"{warm.seconds:.2f} s on a used one")
    print(f"  peak memory: {_peak_line(e2e)}")
    print(f"  F1 of stored articles.text: {hkai_f1.f1:.3f} (precision {hkai_f1.precision:.3f}, "
          f"recall {hkai_f1.recall:.3f}, {hkai_f1.pages} pages)")
    poll_cost = poll.seconds - warm.seconds
    print(f"  poll of {POLL_SOURCES} unchanged sources ({poll_304s} answers 304): whole run {poll.seconds:.2f} s, "
          f"minus a 1-source warm run {poll_cost:.2f} s, flow body (runs table) {_fmt(poll_flow, '.2f')} s")
    if peers_python:
        print(f"  peers ran in {peers_python}")

    print()
    print("targets")
    print(f"  end to end >= {TARGET_PER_CORE:.0f} articles/s per core: {hkai.per_core:.1f}  "
          f"{_verdict(hkai.per_core >= TARGET_PER_CORE)}")
    for peer, target in (("newspaper4k", TARGET_VS_NEWSPAPER), ("trafilatura (bare)", TARGET_VS_TRAFILATURA)):
        row = by_name.get(peer)
        if row and row.per_core:
            ratio = hkai.per_core / row.per_core
            print(f"  vs {peer} >= {target:g}x per core: {ratio:.2f}x  {_verdict(ratio >= target)}")
    print(f"  F1 >= {TARGET_F1}: {hkai_f1.f1:.3f}  {_verdict(hkai_f1.f1 >= TARGET_F1)}")
    poll_figure = poll_flow if poll_flow is not None else poll_cost
    print(f"  poll of {POLL_SOURCES} unchanged sources < {TARGET_POLL_S:g} s: {poll_figure:.2f} s  "
          f"{_verdict(poll_figure < TARGET_POLL_S)}")
    return 0


def backfill(args) -> int:
    """Peak RSS and rate of one large run; the 100k-page target is < 1 GiB."""
    pages = load_corpus(args.corpus)
    total = args.backfill
    with tempfile.TemporaryDirectory(prefix="hkai-backfill-") as tmp, CorpusSite(pages, total_pages=total) as site:
        work = Path(tmp)
        print(f"hkai backfill {date.today()}: {total} pages over {len(site.feed_urls)} feeds ...", flush=True)
        run = run_ingest(work, "backfill", work / "hkai.duckdb", site.feed_urls, HTTP_CONCURRENCY, args.hkai)
        stored = _query(work / "hkai.duckdb", "SELECT count(*) FROM articles")[0][0]
    print(f"{'pages':>8}{'stored':>8}{'seconds':>10}{'articles/s':>12}{'peak RSS':>12}{'peak PSS':>12}")
    print(f"{total:>8}{stored:>8}{run.seconds:>10.1f}{stored / run.seconds:>12.1f}"
          f"{_mib(run.peak.rss):>12}{_mib(run.peak.pss):>12}")
    print(f"peak memory: {_peak_line(run)}")
    ok = run.peak.rss < TARGET_BACKFILL_RSS
    print(f"target: peak RSS < 1 GiB at 100k pages: {_mib(run.peak.rss)} at {total}  {_verdict(ok)}")
    return 0


def _hkai_workers() -> int:
    """How many worker processes a run uses (the project's own rule)."""
    from tasks.pool import worker_count

    return worker_count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--pages", type=int, help="serve this many pages (the corpus repeated under distinct URLs)")
    parser.add_argument("--backfill", type=int, metavar="N", help="only measure peak RSS of one N-page run")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each hkai measure (median) and peer passes")
    parser.add_argument("--skip-peers", action="store_true", help="hkai only")
    parser.add_argument("--hkai", type=Path, default=HKAI, help="the hkai command to measure (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").exists():
        print(f"bench: no aeb corpus at {args.corpus}", file=sys.stderr)
        return 2
    if not args.hkai.exists():
        print(f"bench: {args.hkai} not found: run `make setup` first", file=sys.stderr)
        return 2
    return backfill(args) if args.backfill else benchmark(args)


if __name__ == "__main__":
    sys.exit(main())

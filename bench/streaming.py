"""Streaming: how long an item takes from its appearance to its row and its alert, and
how many requests the polling costs, for `hkai serve` against the fixed schedules.

Two parts, each saying what is real and what is simulated:

1. A real run, in real time (no compression): `.venv/bin/hkai serve` as a user starts
   it (its own local Prefect server, a fresh warehouse, json:// alerts to a loopback
   receiver) against a loopback site with BUSY feeds where items appear at random times
   (a Poisson process, one every MEAN_GAP_S per feed; each feed lists its latest
   FEED_LENGTH, and already lists the past hour's when serve starts) and IDLE feeds that
   never change.
   Each item is a news article about an AI company filing for a Hong Kong listing, so it
   yields a row and an alert. Measured per item: appearance (when the site starts
   listing it), the first poll that saw it (the site's log), its row
   (`listing_events.first_seen_at`, taken just before the batch commits) and its alert
   (when the receiver got it). Items appear from the first minute, but only those after a
   warm-up (5 minutes: serve meets these feeds for the first time and learns their
   rhythm) are measured. Ends with SIGTERM; the exit is checked for noise.
2. A simulated day (virtual clock, nothing waits): the same kind of site, polled by each
   policy: today's fixed 15-minute cycle, fixed 1-minute polling, and hkai's adaptive
   policy (tasks/acquire/schedule.decide, the function `hkai serve` calls). The site is
   modelled as conditional GETs do it: a poll of an unchanged feed is one request that
   finds nothing. An item's latency there is its wait until the first poll that lists it
   plus a processing time drawn from part 1's measured poll-to-row (poll-to-alert)
   times; without part 1, waits only. Request counts are exact for the model.

    .venv/bin/python -m bench.streaming                    # 5 + 10 real minutes, and a simulated day
    .venv/bin/python -m bench.streaming --real-minutes 0   # the simulation alone
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from schemas.polls import Observation, Poll, PollOutcome
from tasks.acquire.schedule import HISTORY_POLLS, RECENT_S, SourcePolicy, decide
from testbed.site import Handler, Site

PROJECT = Path(__file__).resolve().parents[1]
HKAI = PROJECT / ".venv" / "bin" / "hkai"

MIN_INTERVAL_S = 60.0
MAX_INTERVAL_S = 3600.0
MEAN_GAP_S = 120.0  # a busy feed: a new item every two minutes on average (a wire service)
BUSY_FEEDS = 4
IDLE_FEEDS = 30
SIM_HOURS = 24
TARGET_P95_S = MIN_INTERVAL_S + 30
TARGET_IDLE_SHARE = 0.10  # of fixed 1-minute polling's requests to idle feeds, after their first hour
WARM_UP_MINUTES = 5.0  # items appear from the start; those of the first minutes are not measured
TAIL_S = 120  # after the last item may appear, time for it to land before SIGTERM
FEED_LENGTH = 20  # items a feed lists, newest first, like most news feeds
BACKLOG_S = 3600.0  # busy feeds already list the items of the hour before the start
STARTUP_S = 600.0  # the longest serve may take to poll every feed once


# -- the items: news of AI companies filing for a Hong Kong listing, in varied words --------

FIRST = ["Lumen", "Quanta", "Kestrel", "Argent", "Nimbus", "Cobalt", "Veridian", "Solace", "Tidal",
         "Orchid", "Basalt", "Juniper", "Meridian", "Halcyon", "Sable", "Aurora", "Cinder", "Larch"]
SECOND = ["Compute", "Robotics", "Vision", "Neural", "Silicon", "Dynamics", "Intelligence", "Logic",
          "Cognition", "Perception", "Tensor", "Machines"]
CITIES = ["Shenzhen", "Hangzhou", "Shanghai", "Beijing", "Suzhou", "Guangzhou", "Chengdu", "Wuhan"]
PRODUCTS = ["chips for training large language models", "warehouse robots", "driver-assistance software",
            "speech recognition for call centres", "medical imaging models", "industrial inspection cameras",
            "an AI assistant for lawyers", "recommendation engines for online shops"]
BANKS = ["CICC", "Morgan Stanley", "Goldman Sachs", "CLSA", "HSBC", "Jefferies", "Citi", "UBS", "Huatai"]
LEADS = [
    "Artificial intelligence start-up {name} has filed for an initial public offering in Hong Kong, "
    "according to a document posted on the exchange's website on {day}.",
]
# Every sentence carries several details drawn at random, so that two items share few
# five-word runs: they are different stories, not near-duplicates for the dedup stage.
BODY = [
    "Founded in {city} in {year} by {founders} former {employer} engineers, the company makes {product}.",
    "Revenue reached {revenue} million yuan in {last_year}, up {growth} per cent, while its net loss was {loss} million yuan.",
    "{bank} and {bank2} are sponsoring the {board} listing, which could raise between US${low} million and US${high} million.",
    "About {share} per cent of the proceeds will pay for {use}, and {share2} per cent for {use2}, the {pages}-page filing says.",
    "Its {customers} customers include {client} and {client2}; the largest accounted for {top} per cent of sales in {last_year}.",
    "{investor} led a {round} round in {round_year} that valued {name} at US${valuation} billion, according to the prospectus.",
    "The company had {staff} employees at the end of {month}, {researchers} of them in research and development in {city2}.",
]
AI_LINES = [
    "Its machine learning models are trained on {gpus} graphics processors rented from a data centre in {city2}.",
    "The firm says its generative AI tools cut the time {client} spends on paperwork by {pct} per cent.",
    "{name} trains its own large language model, which it says has {params} billion parameters.",
    "Its computer vision and AI software runs on {devices} cameras and robots in mainland China and Hong Kong.",
]
CLOSERS = [
    "{count} technology companies have applied to list in Hong Kong since {month}, by the exchange's own count.",
    "Shares of AI companies listed in the city this year have risen {perf} per cent on average, brokers in {district} said.",
    "A listing hearing would come next; {bank} expects the shares could start trading within {weeks} weeks of one.",
]
CLIENTS = ["China Mobile", "a state-owned bank", "BYD", "a Guangzhou hospital group", "JD.com", "a provincial power grid",
           "Haier", "a Macau casino operator", "SF Express", "a Hong Kong property developer"]
EMPLOYERS = ["Huawei", "Alibaba", "Baidu", "Tencent", "SenseTime", "ByteDance", "Microsoft Research Asia", "DJI"]
USES = ["computing power", "hiring engineers", "overseas sales", "new data centres", "acquisitions", "chip design"]
INVESTORS = ["Hillhouse", "Sequoia China", "a Shenzhen government fund", "Temasek", "Qiming", "a Middle East wealth fund"]
DISTRICTS = ["Central", "Admiralty", "Wan Chai", "Quarry Bay", "Tsim Sha Tsui"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


@dataclass
class Item:
    feed: str
    path: str
    title: str
    company: str
    appears_at: float  # wall time (epoch seconds) when its feed starts listing it
    paragraphs: list[str] = field(default_factory=list)


def make_item(rng: random.Random, feed: str, k: int, appears_at: float, names: set[str]) -> Item:
    while True:
        name = f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
        if name not in names:
            names.add(name)
            break
    low = rng.randint(60, 400)
    fill = {
        "name": name, "day": rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
        "city": rng.choice(CITIES), "city2": rng.choice(CITIES), "year": rng.randint(2012, 2022),
        "founders": rng.choice(["two", "three", "four", "five"]), "employer": rng.choice(EMPLOYERS),
        "product": rng.choice(PRODUCTS), "revenue": rng.randint(80, 2400), "last_year": rng.choice([2024, 2025]),
        "growth": rng.randint(12, 180), "loss": rng.randint(20, 900), "bank": rng.choice(BANKS),
        "bank2": rng.choice(BANKS), "board": rng.choice(["Main Board", "Chapter 18C", "specialist technology"]),
        "low": low, "high": low + rng.randint(50, 300), "share": rng.randint(25, 55), "share2": rng.randint(10, 30),
        "use": rng.choice(USES), "use2": rng.choice(USES), "pages": rng.randint(300, 700),
        "customers": rng.randint(40, 900), "client": rng.choice(CLIENTS), "client2": rng.choice(CLIENTS),
        "top": rng.randint(8, 35), "investor": rng.choice(INVESTORS), "round": rng.choice(["Series C", "Series D", "pre-IPO"]),
        "round_year": rng.randint(2021, 2025), "valuation": round(rng.uniform(0.8, 9.5), 1),
        "staff": rng.randint(150, 3000), "month": rng.choice(MONTHS), "researchers": rng.randint(60, 900),
        "count": rng.randint(40, 160), "perf": rng.randint(5, 90), "district": rng.choice(DISTRICTS),
        "weeks": rng.randint(2, 8), "gpus": rng.randint(200, 9000), "pct": rng.randint(15, 70),
        "params": rng.randint(7, 400), "devices": rng.randint(2000, 90000),
    }
    paragraphs = [LEADS[0], rng.choice(AI_LINES), *rng.sample(BODY, 3), rng.choice(CLOSERS)]
    return Item(feed=feed, path=f"/news/{feed}/{k}.html", title=f"{name} files for Hong Kong IPO", company=name,
                appears_at=appears_at, paragraphs=[p.format(**fill) for p in paragraphs])


# -- the site: feeds whose items appear over time ----------------------------------------

class LiveFeed:
    """An RSS feed that lists its items once their time has come, with an ETag, answers a
    matching conditional GET with 304, and logs every request."""

    def __init__(self, name: str, base: str):
        self.name = name
        self.base = base
        self.items: list[Item] = []
        self.log: list[tuple[float, int, set[str]]] = []  # (time, status, item paths listed)
        self.lock = threading.Lock()

    def __call__(self, handler: Handler) -> None:
        now = time.time()
        visible = sorted((i for i in self.items if i.appears_at <= now), key=lambda i: -i.appears_at)[:FEED_LENGTH]
        entries = "".join(f"<item><title>{escape(i.title)}</title><link>{self.base}{i.path}</link>"
                          f"<pubDate>{formatdate(i.appears_at, usegmt=True)}</pubDate></item>" for i in visible)
        body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{self.name}</title>'
                f"<link>{self.base}/</link><description>wire</description>{entries}</channel></rss>").encode()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        status = 304 if handler.headers.get("If-None-Match") == etag else 200
        with self.lock:
            self.log.append((now, status, {i.path for i in visible}))
        handler.send_response(status)
        handler.send_header("ETag", etag)
        if status == 304:
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


class AlertReceiver:
    """A json:// endpoint on loopback that notes when each alert arrived."""

    def __init__(self):
        received = self.received = []

        class Hook(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((time.time(), json.loads(body or b"{}")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- part 1: the real run ----------------------------------------------------------------

@dataclass
class RealRun:
    minutes: float
    warm_up_minutes: float
    items: int
    to_row: list[float]  # appearance -> row, seconds
    to_alert: list[float]
    poll_to_row: list[float]  # first poll that listed it -> row
    poll_to_alert: list[float]
    missing_rows: int
    missing_alerts: int
    idle_requests_per_feed_hour: float
    exit_code: int
    noise: list[str]
    load: tuple[float, float]  # the machine's 15-minute load average at the start and the end


def _query(warehouse: Path, sql: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def real_run(minutes: float, warm_up_minutes: float, seed: int) -> RealRun:
    rng = random.Random(seed)
    site, receiver = Site().start(), AlertReceiver()
    feeds = {f"busy-{k}": LiveFeed(f"busy-{k}", site.base) for k in range(BUSY_FEEDS)}
    feeds.update({f"idle-{k}": LiveFeed(f"idle-{k}", site.base) for k in range(IDLE_FEEDS)})
    for name, feed in feeds.items():
        site.add(f"/{name}.xml", handler=feed)
    work = Path(tempfile.mkdtemp(prefix="hkai-streaming-"))
    config = work / "hkai.yaml"
    config.write_text(yaml.safe_dump({
        "warehouse": str(work / "hkai.duckdb"),
        "schedule": {"min_interval_s": MIN_INTERVAL_S, "max_interval_s": MAX_INTERVAL_S},
        "http": {"timeout_s": 10, "per_host_delay_s": 0, "per_host_concurrency": 8, "concurrency": 16},
        "sources": [{"name": name, "kind": "feed", "url": f"{site.base}/{name}.xml"} for name in feeds],
        "alerts": {"urls": [receiver.url]},
    }))
    # Items over the whole run, made up front: the busy feeds already list the past hour's
    # when serve first polls them; the rest appear as time passes (after serve's start-up,
    # allowed up to STARTUP_S, only those of the measured minutes count).
    launch = time.time()
    load_at_start = os.getloadavg()[2]
    horizon = launch + STARTUP_S + (warm_up_minutes + minutes) * 60
    names: set[str] = set()
    for k in range(BUSY_FEEDS):
        feed, at = feeds[f"busy-{k}"], launch - BACKLOG_S
        while (at := at + rng.expovariate(1 / MEAN_GAP_S)) < horizon:
            item = make_item(rng, feed.name, len(feed.items), at, names)
            site.add_article(item.path, item.title, item.paragraphs)
            feed.items.append(item)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL" and not k.startswith("HKAI_")}
    env["PREFECT_HOME"] = str(work / "prefect")
    log = open(work / "serve.log", "w+")  # a file, not a pipe: a full pipe would stall serve
    proc = subprocess.Popen([str(HKAI), "serve", "--config", str(config)], cwd=PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log, text=True, start_new_session=True)
    items: list[Item] = []
    try:
        while not all(f.log for f in feeds.values()):  # every feed's first poll: the baseline
            if proc.poll() is not None or time.time() > launch + STARTUP_S:
                raise RuntimeError(f"hkai serve did not poll every feed; see {log.name}")
            time.sleep(0.5)
        measured_from = time.time() + warm_up_minutes * 60
        end = measured_from + minutes * 60
        items = [i for f in feeds.values() for i in f.items if measured_from <= i.appears_at < end]
        while time.time() < end + TAIL_S:
            if proc.poll() is not None:
                raise RuntimeError("hkai serve exited during the run")
            time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        site.stop()
        receiver.close()
    log.seek(0)
    err = log.read()
    log.close()
    noise = [line for line in err.splitlines() if any(w in line for w in ("Traceback", "Warning", "Error", "never awaited"))]
    rows = dict(_query(work / "hkai.duckdb", "SELECT company, epoch(first_seen_at) FROM listing_events WHERE NOT known"))
    alerts: dict[str, float] = {}
    for at, payload in receiver.received:
        for item in items:
            if item.company in str(payload.get("message", "")) + str(payload.get("title", "")):
                alerts.setdefault(item.company, at)
    run = RealRun(minutes=minutes, warm_up_minutes=warm_up_minutes, items=len(items), to_row=[], to_alert=[], poll_to_row=[], poll_to_alert=[],
                  missing_rows=0, missing_alerts=0, idle_requests_per_feed_hour=0.0, exit_code=proc.returncode,
                  noise=noise, load=(load_at_start, os.getloadavg()[2]))
    for item in items:
        polled = next((t for t, status, listed in feeds[item.feed].log if status == 200 and item.path in listed), None)
        row, alert = rows.get(item.company), alerts.get(item.company)
        if row is None:
            run.missing_rows += 1
        elif polled is not None:
            run.to_row.append(row - item.appears_at)
            run.poll_to_row.append(row - polled)
        if alert is None:
            run.missing_alerts += 1
        elif polled is not None:
            run.to_alert.append(alert - item.appears_at)
            run.poll_to_alert.append(alert - polled)
    idle = [f for name, f in feeds.items() if name.startswith("idle")]
    first_polls = min(f.log[0][0] for f in idle)
    span_h = (max(t for f in idle for t, _, _ in f.log) - first_polls) / 3600
    run.idle_requests_per_feed_hour = sum(len(f.log) for f in idle) / len(idle) / max(span_h, 1e-9)
    return run


# -- part 2: the simulated day -----------------------------------------------------------

@dataclass
class Simulated:
    policy: str
    waits: list[float]  # appearance -> the first poll that lists it
    idle_requests_per_feed_hour: float  # after each idle feed's first hour
    requests: int


T0 = datetime(2026, 11, 23, tzinfo=timezone.utc)


def simulate(policy: str, hours: float, seed: int) -> Simulated:
    """Every feed polled by `policy` ("cycle-900", "fixed-60" or "adaptive") on a virtual clock."""
    rng = random.Random(seed)
    horizon = hours * 3600
    arrivals = {}
    for k in range(BUSY_FEEDS):  # as in the real run: the past hour's items are listed at the start
        times, at = [], -BACKLOG_S
        while (at := at + rng.expovariate(1 / MEAN_GAP_S)) < horizon:
            times.append(at)
        arrivals[f"busy-{k}"] = times
    arrivals.update({f"idle-{k}": [] for k in range(IDLE_FEEDS)})
    adaptive = SourcePolicy(MIN_INTERVAL_S, MAX_INTERVAL_S)
    waits, idle_after_first_hour, requests = [], 0, 0
    for feed, times in arrivals.items():
        history: list[Poll] = []
        now, seen = 0.0, 0
        while now < horizon:
            requests += 1
            if feed.startswith("idle") and now >= 3600:
                idle_after_first_hour += 1
            fresh = 0
            while seen < len(times) and times[seen] <= now:
                if times[seen] >= 0:  # the backlog is the baseline, not news
                    waits.append(now - times[seen])
                seen, fresh = seen + 1, fresh + 1
            if policy == "cycle-900":
                now += 900
            elif policy == "fixed-60":
                now += 60
            else:
                listed = times[max(seen - FEED_LENGTH, 0):seen]
                recent = [t for t in listed if now - t <= RECENT_S]
                when = T0 + timedelta(seconds=now)
                outcome = PollOutcome.NEW if fresh else (PollOutcome.NO_NEW if not history else PollOutcome.UNCHANGED)
                observation = Observation(status_code=304 if outcome == PollOutcome.UNCHANGED else 200,
                                          has_validators=True, items_new=fresh, recent_items=len(recent),
                                          oldest_recent_at=T0 + timedelta(seconds=min(recent)) if recent else None)
                history.append(Poll(source=feed, kind="feed", run_id="sim", started_at=when, finished_at=when,
                                    outcome=outcome, items_new=fresh, observation=observation))
                history = history[-HISTORY_POLLS:]
                now = (decide(adaptive, history).due_at - T0).total_seconds()
    return Simulated(policy=policy, waits=waits, requests=requests,
                     idle_requests_per_feed_hour=idle_after_first_hour / IDLE_FEEDS / (hours - 1))


# -- the table -------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def with_processing(waits: list[float], processing: list[float], seed: int) -> list[float]:
    """Each wait plus a processing time drawn from the real run (none without one)."""
    if not processing:
        return waits
    rng = random.Random(seed)
    return [w + rng.choice(processing) for w in waits]


def p50_p95(values: list[float]) -> str:
    return f"{percentile(values, 0.5):7.1f} / {percentile(values, 0.95):7.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-minutes", type=float, default=10.0,
                        help="measured length of the real run, after its warm-up (0: skip it)")
    parser.add_argument("--warm-up-minutes", type=float, default=WARM_UP_MINUTES,
                        help="first minutes of the real run, while serve learns each feed's rhythm: not measured")
    parser.add_argument("--hours", type=float, default=SIM_HOURS, help="length of the simulated day")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args(argv)

    real = real_run(args.real_minutes, args.warm_up_minutes, args.seed) if args.real_minutes > 0 else None
    print(f"# Streaming: {BUSY_FEEDS} busy feeds (an item every {MEAN_GAP_S:.0f} s on average, Poisson), "
          f"{IDLE_FEEDS} idle feeds; schedule {MIN_INTERVAL_S:.0f}-{MAX_INTERVAL_S:.0f} s\n")
    if real is not None:
        print(f"## Real run: hkai serve, {real.minutes:g} minutes of real time after a {real.warm_up_minutes:g}-minute "
              f"warm-up, {real.items} items; load average {real.load[0]:.1f} -> {real.load[1]:.1f} "
              f"on {os.cpu_count()} cores\n")
        print("| measure | p50 / p95 (s) |\n|---|---:|")
        print(f"| appearance -> row | {p50_p95(real.to_row)} |")
        print(f"| appearance -> alert | {p50_p95(real.to_alert)} |")
        print(f"| first poll that listed it -> row | {p50_p95(real.poll_to_row)} |")
        print(f"| first poll that listed it -> alert | {p50_p95(real.poll_to_alert)} |")
        print(f"\nitems without a row: {real.missing_rows}, without an alert: {real.missing_alerts}; "
              f"requests to each idle feed in its first {real.minutes + real.warm_up_minutes:g} min: "
              f"{real.idle_requests_per_feed_hour:.1f}/h; SIGTERM: exit {real.exit_code}, "
              f"{len(real.noise)} lines of warnings or tracebacks{': ' + real.noise[0] if real.noise else ''}\n")

    processing_row = real.poll_to_row if real else []
    processing_alert = real.poll_to_alert if real else []
    results = {name: simulate(name, args.hours, args.seed) for name in ("cycle-900", "fixed-60", "adaptive")}
    labels = {"cycle-900": "today: every source every 15 min", "fixed-60": "fixed 1-minute polling",
              "adaptive": "hkai serve (adaptive)"}
    basis = "plus processing drawn from the real run" if real else "waits only: no real run"
    print(f"## Simulated {args.hours:g} h per policy ({basis})\n")
    print("| policy | busy: to row p50 / p95 (s) | busy: to alert p50 / p95 (s) | idle feeds: requests per feed-hour "
          "after the first hour | vs fixed 1-min | all requests |")
    print("|---|---:|---:|---:|---:|---:|")
    fixed_idle = results["fixed-60"].idle_requests_per_feed_hour
    for name, result in results.items():
        to_row = with_processing(result.waits, processing_row, args.seed)
        to_alert = with_processing(result.waits, processing_alert, args.seed + 1)
        share = result.idle_requests_per_feed_hour / fixed_idle
        print(f"| {labels[name]} | {p50_p95(to_row)} | {p50_p95(to_alert)} | "
              f"{result.idle_requests_per_feed_hour:.2f} | {share:.3f} | {result.requests} |")
    adaptive = results["adaptive"]
    p95 = percentile(with_processing(adaptive.waits, processing_row, args.seed), 0.95)
    share = adaptive.idle_requests_per_feed_hour / fixed_idle
    print(f"\ntargets: busy p95 to row <= {TARGET_P95_S:.0f} s: {p95:.1f} s "
          f"({'meets' if p95 <= TARGET_P95_S else 'misses'}); idle requests <= {TARGET_IDLE_SHARE:.0%} of fixed "
          f"1-minute polling's: {share:.1%} ({'meets' if share <= TARGET_IDLE_SHARE else 'misses'})")
    if real is not None:
        real_p95 = percentile(real.to_row, 0.95)
        print(f"real run: busy p95 to row {real_p95:.1f} s ({'meets' if real_p95 <= TARGET_P95_S else 'misses'}), "
              f"p95 to alert {percentile(real.to_alert, 0.95):.1f} s, over {len(real.to_row)} items")


if __name__ == "__main__":
    main()

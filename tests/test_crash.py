"""Crash safety end to end: `hkai ingest` killed with SIGKILL (the whole process group, workers
included) at random moments, then run to completion. Nothing committed is lost, nothing is
stored twice, every listing event is recorded once, and its alert reaches the receiver at
least once and, de-duplicated by its idempotency key, exactly once.

The schedule (seeded): a first run is killed while an alert is in flight; more articles
appear; a run is killed right after a batch commits; then runs are killed after random times
or random numbers of pages served. An alert killed in flight is resent by the very next run
that gets to delivery (runs deliver under the writer lock, so a claim they find is a dead
run's), under the same idempotency key.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from schemas.records import listing_event_id
from tasks.alerts.channels import redact_url
from testbed.site import SHUTDOWN_POLL_S
from tests.conftest import HKAI, PROJECT, query
from warehouse.listings import idempotency_key

SEED = 20261120  # the kill schedule and the generated texts are reproducible
ARTICLES = 250
FIRST = 45  # articles on the site at first (two listing events); the rest appear later
RANDOM_KILLS = 3

# Made-up AI companies (no seed knows them), each reaching one stage in one article.
LISTINGS = [
    ("Lumen Compute", "filing"), ("Qubit Harbour", "hearing"), ("Tidewater Robotics", "pricing"),
    ("Nimbus Vision", "debut"), ("Argent Neural", "filing"), ("Corallium Intelligence", "hearing"),
    ("Sable Dynamics", "pricing"), ("Halcyon Silicon", "debut"), ("Veridian Minds", "filing"),
    ("Kestrel Logic", "hearing"),
]
# Sentence forms the detector handles (the labelled passages in tests/data/ have many more).
STAGE_SENTENCES = {
    "filing": "{c} has filed a listing application with the Hong Kong Stock Exchange, according to a document "
              "published on Friday.",
    "hearing": "{c} passed its listing hearing with the Hong Kong stock exchange on Tuesday, a filing showed.",
    "pricing": "{c} priced its Hong Kong IPO at HK${price} per share, raising HK${amount} billion.",
    "debut": "{c} began trading in Hong Kong on Thursday under the stock code {code}.",
}
# Filler vocabulary: no word the listing detector looks for (list, trad, pric, fil, appl, ...).
WORDS = ("harbour ferry typhoon museum garden library tram hiking trail noodle tea bakery festival lantern "
         "orchestra theatre painting poetry novel cinema studio campus student teacher lecture seminar "
         "kitchen recipe market stall vendor fishing village island beach hill temple bridge tunnel road "
         "bus taxi cyclist runner swimmer football tennis rugby weather rainfall sunshine breeze cloud "
         "river forest bird butterfly turtle dolphin coral reef lighthouse pier promenade skyline tower "
         "apartment neighbour family weekend holiday evening morning night season spring summer autumn "
         "winter volunteer charity clinic doctor nurse patient pharmacy hospital research scientist "
         "engineer design sketch model sensor robot camera signal radio podcast magazine journal").split()


def filler(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build_pages(site, rng: random.Random) -> tuple[list[tuple[str, str]], dict[str, tuple[str, str]]]:
    """ARTICLES article pages; returns the feed items and path -> (company, stage) of the
    listing articles (one in every 25)."""
    listing_at = {7 + 25 * n: listing for n, listing in enumerate(LISTINGS)}
    assert max(listing_at) < ARTICLES
    items, listing_paths = [], {}
    for i in range(ARTICLES):
        path = f"/news/{i:03d}.html"
        if i in listing_at:
            company, stage = listing_at[i]
            n = LISTINGS.index((company, stage))
            lead = STAGE_SENTENCES[stage].format(c=company, price=10 + n, amount=1 + n, code=2900 + n)
            paragraphs = [lead,
                          "The artificial intelligence company builds large language models for banks in the "
                          "Greater Bay Area. " + filler(rng, 30),
                          filler(rng, 45), filler(rng, 45)]
            title = f"{company} reaches the {stage} stage of its Hong Kong IPO"
            listing_paths[path] = (company, stage)
        else:
            paragraphs = [filler(rng, 40) for _ in range(4)]
            if i % 2:  # half of them on topic, so NER runs on a good share of each batch
                paragraphs[1] = "Hong Kong researchers at Cyberport said the artificial intelligence project " \
                                "in Hong Kong would use large language models. " + paragraphs[1]
            title = f"Story {i}: " + filler(rng, 5).rstrip(".")
        site.add_article(path, title, paragraphs)
        items.append((title, path))
    return items, listing_paths


class SlowReceiver:
    """A webhook on 127.0.0.1 that records every POST as it arrives, then takes `delay_s` to
    answer: a kill can land between a delivered alert and the sender recording it."""

    def __init__(self, delay_s: float):
        self.received: list[dict] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append({"headers": dict(self.headers), "json": json.loads(body)})
                time.sleep(receiver.delay_s)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender was killed meanwhile

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S},
                                       daemon=True)
        self.thread.start()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.received)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = SlowReceiver(delay_s=0.3)
    yield r
    r.close()


def start_ingest(config: Path, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([*HKAI, "ingest", "--config", str(config)], cwd=PROJECT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the CLI and everything it started (worker pool included), and wait until all are gone."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process group {proc.pid} survived SIGKILL")


def snapshot(warehouse: Path) -> dict:
    if not warehouse.exists():
        return {"urls": set(), "runs": []}
    rows, distinct = query(warehouse, "SELECT count(*), count(DISTINCT canonical_url) FROM articles")[0]
    assert rows == distinct, "an article stored twice"
    events, distinct_events = query(warehouse, "SELECT count(*), count(DISTINCT (company, stage)) "
                                               "FROM listing_events")[0]
    assert events == distinct_events, "a listing event stored twice"
    # An event and its article commit together: no event points at a missing article.
    assert query(warehouse, "SELECT count(*) FROM listing_events e LEFT JOIN articles a USING (article_id) "
                            "WHERE e.article_id IS NOT NULL AND a.article_id IS NULL") == [(0,)]
    return {
        "urls": {u for (u,) in query(warehouse, "SELECT canonical_url FROM articles")},
        "runs": query(warehouse, "SELECT run_id, status FROM runs ORDER BY started_at"),
        "events": query(warehouse, "SELECT company, stage FROM listing_events WHERE NOT known ORDER BY ALL"),
    }


def test_sigkill_at_random_moments_loses_nothing_and_alerts_exactly_once(site, config_file, prefect_api, receiver,
                                                                         tmp_path):
    rng = random.Random(SEED)
    items, listing_paths = build_pages(site, rng)
    site.add_feed("/feed.xml", items[:FIRST])  # with ETag/Last-Modified and 304s, as real feeds
    channel = f"json://127.0.0.1:{receiver.port}/hook"
    label = redact_url(channel)
    # One request at a time, 0.02 s apart: fetching paces the first batch, processing the rest.
    config = config_file([{"name": "harbour", "kind": "feed", "url": site.base + "/feed.xml"}],
                         http={"per_host_concurrency": 1, "concurrency": 1, "per_host_delay_s": 0.02},
                         alerts={"urls": [channel]})
    warehouse = config.parent / "hkai.duckdb"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}, **prefect_api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    log = tmp_path / "ingest.log"
    state = {"before": snapshot(warehouse), "interrupted": [], "timeline": []}

    def article_fetches() -> int:
        with site.lock:
            return sum(n for path, n in site.hits.items() if path.startswith("/news/"))

    polled = {"at": 0.0, "stored": 0}

    def stored_now() -> int:
        """Articles committed so far, read as `hkai sql` would, between the writer's batches
        (at most every 0.25 s, and the last answer while the writer holds the file)."""
        if time.monotonic() - polled["at"] >= 0.25:
            polled["at"] = time.monotonic()
            try:
                con = duckdb.connect(str(warehouse), read_only=True)
                try:
                    polled["stored"] = con.execute("SELECT count(*) FROM articles").fetchone()[0]
                finally:
                    con.close()
            except duckdb.Error:
                pass
        return polled["stored"]

    def killed_run(when: str, until) -> None:
        """Start `hkai ingest`, SIGKILL its process group once until(seconds) says so, check the invariants."""
        site.reset_hits()
        proc = start_ingest(config, env, log)
        started = time.monotonic()
        while proc.poll() is None and not until(time.monotonic() - started):
            time.sleep(0.02)
        finished_by_itself = proc.poll() is not None
        elapsed = time.monotonic() - started
        kill_group(proc)
        before, after = state["before"], snapshot(warehouse)
        # Committed articles and events are never lost: the sets only grow.
        assert before["urls"] <= after["urls"], f"{when}: committed articles disappeared"
        assert set(before.get("events", [])) <= set(after["events"]), when
        new_runs = after["runs"][len(before["runs"]):]
        assert len(new_runs) <= 1
        # A run that starts marks the one a kill left 'running' as interrupted (no other writer
        # can be alive: the writer lock is held); a kill before that point changes nothing.
        assert after["runs"][:len(before["runs"])] == [
            (run_id, "interrupted" if new_runs and status == "running" else status)
            for run_id, status in before["runs"]]
        if new_runs:
            # Killed mid-run it stays 'running' until the next run starts; the kill may also land
            # after the run finished, while the process exits.
            assert new_runs[0][1] in ("running", "completed"), new_runs
            assert not (finished_by_itself and new_runs[0][1] == "running"), new_runs
            if new_runs[0][1] == "running":
                state["interrupted"].append(new_runs[0][0])
        state["timeline"].append((when, round(elapsed, 1), article_fetches(), len(after["urls"]),
                                  len(after["events"]), len(receiver.snapshot()),
                                  new_runs[0][1] if new_runs else "-", "finished" if finished_by_itself else "killed"))
        print(state["timeline"][-1], flush=True)
        state["before"] = after

    # 1. Killed while delivering: the moment the receiver has the n-th alert, before it answers
    #    (so before the run can record the outcome). That alert must come again, same key.
    nth = rng.randint(1, 2)
    killed_run(f"at alert {nth}", lambda _: len(receiver.snapshot()) >= nth)
    assert len(receiver.snapshot()) == nth and state["timeline"][-1][-1] == "killed", state["timeline"]
    in_flight = receiver.snapshot()[-1]["json"]["idempotency_key"]

    # 2. The site publishes the rest (four batches of up to 64 pages: a run commits four
    #    times, a second or more apart). The first run is killed right after its first
    #    commit; then runs are killed at random: after a random time, or once the site has
    #    served a random number of articles (mid-run for sure).
    site.add_feed("/feed.xml", items)
    receiver.delay_s = 0
    first_half = len(state["before"]["urls"])
    killed_run("after a commit", lambda _: stored_now() > first_half)
    assert first_half < len(state["before"]["urls"]) < ARTICLES, state["timeline"]  # killed mid-run
    for _ in range(RANDOM_KILLS):
        if rng.random() < 0.5:
            delay = rng.uniform(3.0, 24.0)
            killed_run(f"after {delay:.1f} s", lambda elapsed: elapsed >= delay)
        else:
            served = rng.randint(1, ARTICLES - FIRST - 1)
            killed_run(f"after {served} articles", lambda _: article_fetches() >= served)
    timeline = state["timeline"]

    # 3. A last run, left to finish.
    proc = start_ingest(config, env, log)
    assert proc.wait(timeout=300) == 0, log.read_text()[-3000:]
    final = snapshot(warehouse)
    assert state["before"]["urls"] <= final["urls"]

    # Every article is stored, once.
    missing = {site.base + f"/news/{i:03d}.html" for i in range(ARTICLES)} - final["urls"]
    assert not missing, f"{len(missing)} of {ARTICLES} articles never stored; kills: {timeline}"
    assert query(warehouse, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(ARTICLES, ARTICLES)]

    # Every listing event exactly once, from its article, and nothing else.
    assert final["events"] == sorted(LISTINGS)
    by_url = dict(query(warehouse, "SELECT article_id, canonical_url FROM articles"))
    for company, stage, article_id in query(warehouse, "SELECT company, stage, article_id FROM listing_events "
                                                       "WHERE NOT known"):
        assert listing_paths[by_url[article_id].removeprefix(site.base)] == (company, stage)

    # Every alert reached the receiver; every repeat carries the same key and content.
    expected = {idempotency_key(listing_event_id(c, s), label): f"HKEX listing: {c} \u2014 {s}" for c, s in LISTINGS}
    received = receiver.snapshot()
    by_key: dict[str, list[dict]] = {}
    for post in received:
        payload = post["json"]
        assert payload["idempotency_key"] == post["headers"]["Idempotency-Key"]
        by_key.setdefault(payload["idempotency_key"], []).append(payload)
    assert set(by_key) == set(expected), (len(by_key), len(received), timeline)
    for key, payloads in by_key.items():
        assert {p["title"] for p in payloads} == {expected[key]}
        assert len({p["message"] for p in payloads}) == 1 and f"Alert ID: {key}" in payloads[0]["message"]
    assert len(by_key[in_flight]) >= 2  # the one killed in flight came again, with its key
    print(f"{len(received)} posts for {len(by_key)} alerts ({len(received) - len(by_key)} repeats, each with its key)")

    # The warehouse agrees: one 'sent' outcome per alert, and the outbox is worked off.
    assert query(warehouse, "SELECT event_id, count(*) FROM alerts WHERE status = 'sent' GROUP BY 1 "
                            "HAVING count(*) <> 1") == []
    assert query(warehouse, "SELECT count(DISTINCT event_id) FROM alerts WHERE status = 'sent'") == [(len(LISTINGS),)]
    assert query(warehouse, "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM alert_outbox") == [
        (len(LISTINGS), len(LISTINGS))]

    # The runs: every killed run that had started is marked interrupted, the last completed.
    runs = query(warehouse, "SELECT run_id, status FROM runs ORDER BY started_at")
    assert runs[-1][1] == "completed"
    assert [r for r, s in runs if s == "interrupted"] == state["interrupted"]
    assert {s for _, s in runs[:-1]} <= {"interrupted", "completed"}
    assert query(warehouse, "SELECT count(*) FROM runs WHERE status = 'running'") == [(0,)]

    # The kills did land mid-run: several runs interrupted.
    assert len(state["interrupted"]) >= 3, timeline

"""Past one machine, as a user runs it: concurrent `hkai ingest` processes into one DuckLake
with a PostgreSQL catalog, `hkai sql` reading while they write, and `hkai backfill` of
WARC files (parallel, resumable, a damaged file recorded and skipped)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from testbed.receiver import Receiver
from testbed.site import article_html
from testbed.warc import aeb_pages, write_warc
from tests.conftest import HKAI, PROJECT, SHARED, query, wait_for
from tests.test_cli import PROPERTY
from tests.test_e2e_understanding import LUMEN_FILING

AEB = SHARED / "corpus" / "aeb"


def _env(prefect_api: dict) -> dict:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}
    return {**inherited, **prefect_api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def _start(prefect_api: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([*HKAI, *args], cwd=PROJECT, env=_env(prefect_api), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _config(path: Path, warehouse, sources: list[dict], **extra) -> Path:
    data = {"warehouse": warehouse, "http": {"timeout_s": 5, "per_host_delay_s": 0, "per_host_concurrency": 8},
            "sources": sources, "archive_dir": str(path.parent / "archive"), **extra}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# -- WARC files ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def warcs(tmp_path_factory) -> dict[str, Path]:
    """Two WARC files of real pages (one gzipped, one not), and a damaged one."""
    if not AEB.exists():
        pytest.fail(f"{AEB} is missing: the backfill tests read the shared corpus")
    directory = tmp_path_factory.mktemp("warcs")
    pages = aeb_pages(AEB, 30)
    hk = [("https://harbour.example/news/lumen-files.html",
           article_html("Lumen Compute files for Hong Kong IPO", LUMEN_FILING).encode()),
          ("https://harbour.example/news/flats.html", article_html("Flat prices fall again", PROPERTY).encode())]
    first = write_warc(directory / "crawl-a.warc.gz", pages[:18] + hk)
    second = write_warc(directory / "crawl-b.warc", pages[18:])
    damaged = directory / "crawl-c.warc.gz"
    intact = write_warc(directory / "intact.warc.gz", pages[:12]).read_bytes()
    damaged.write_bytes(intact[: len(intact) * 2 // 3] + b"\x00garbage, not gzip" * 64)
    return {"a": first, "b": second, "damaged": damaged}


def test_backfill_reads_files_in_parallel_chunks_records_damage_and_resumes(tmp_path, warcs, prefect_api):
    warehouse = tmp_path / "hkai.duckdb"
    config = _config(tmp_path / "hkai.yaml", str(warehouse), [])
    pattern = str(warcs["a"].parent / "crawl-*.warc*")

    # Killed with its workers once its first chunk is loaded: a crash in the middle.
    proc = subprocess.Popen([*HKAI, "backfill", pattern, "--config", str(config), "--pages-per-chunk", "4"],
                            cwd=PROJECT, env=_env(prefect_api), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if warehouse.exists():
            try:
                if query(warehouse, "SELECT count(*) FROM backfill_chunks")[0][0] >= 1:
                    break
            except Exception:  # the writer holds the file for a moment, or has not made the table yet
                pass
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first_chunks = query(warehouse, "SELECT path, chunk, run_id FROM backfill_chunks")
    assert first_chunks, "the first run was killed before loading a chunk"

    result = subprocess.run([*HKAI, "backfill", pattern, "--config", str(config), "--pages-per-chunk", "4"],
                            cwd=PROJECT, env=_env(prefect_api), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "crawl-a.warc.gz" in result.stderr  # a progress bar per file
    by_path = dict(query(warehouse, "SELECT path, status FROM backfill_files"))
    assert by_path == {str(warcs["a"]): "done", str(warcs["b"]): "done", str(warcs["damaged"]): "failed"}
    (error,) = query(warehouse, "SELECT error FROM backfill_files WHERE status = 'failed'")[0]
    assert str(warcs["damaged"]) in error and "unreadable after byte" in error
    assert "FAILED" in result.stdout and "crawl-c.warc.gz" in result.stdout
    # Resumed: the chunks the killed run loaded were not loaded again, every chunk is there once.
    assert set(first_chunks) <= set(query(warehouse, "SELECT path, chunk, run_id FROM backfill_chunks"))
    chunks, distinct = query(warehouse, "SELECT count(*), count(DISTINCT (path, chunk)) FROM backfill_chunks")[0]
    assert chunks == distinct == 5 + 3 + 2  # 20 pages, 12 pages, the 8 readable pages of the damaged file
    # Each chunk records what its dedup lookups cost the flow (what grows with the index).
    assert query(warehouse, "SELECT count(*) FROM backfill_chunks WHERE dedup_s >= 0") == [(chunks,)]
    articles, urls = query(warehouse, "SELECT count(*), count(DISTINCT canonical_url) FROM articles")[0]
    assert articles == urls and articles >= 30
    assert query(warehouse, "SELECT count(*) FROM listing_events WHERE company = 'Lumen Compute'") == [(1,)]

    # A finished file is never read again: overwritten with garbage of the same size, it is
    # skipped, not failed.
    warcs["b"].write_bytes(b"\x00" * warcs["b"].stat().st_size)
    again = subprocess.run([*HKAI, "backfill", str(warcs["a"]), str(warcs["b"]), "--config", str(config)],
                           cwd=PROJECT, env=_env(prefect_api), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "2 files (0 done, 2 already done, 0 failed)" in again.stdout
    assert query(warehouse, "SELECT count(*) FROM articles")[0][0] == articles


# What the flow's process of a backfill may not load: the page analysis and the models live
# in the workers (and the seeds' in a process of their own).
MODELS = ("trafilatura", "spacy", "py3langid", "datasketch", "scipy", "jieba")
_BACKFILL_REPORTING_MODULES = f"""
import sys
from flows.cli import main
code = main(sys.argv[1:])
print("loaded:", sorted(m for m in {MODELS!r} if m in sys.modules))
sys.exit(code)
"""


def test_a_backfills_own_process_loads_no_model(tmp_path, warcs, prefect_api):
    warehouse = tmp_path / "hkai.duckdb"
    config = _config(tmp_path / "hkai.yaml", str(warehouse), [], runner={"kind": "local", "workers": 2})
    result = subprocess.run([sys.executable, "-c", _BACKFILL_REPORTING_MODULES, "backfill", str(warcs["a"]),
                             "--config", str(config), "--pages-per-chunk", "4"],
                            cwd=PROJECT, env=_env(prefect_api), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout
    # ... and yet every page was read whole: the relevant one's event and entities are there.
    assert query(warehouse, "SELECT count(*) FROM listing_events WHERE company = 'Lumen Compute'") == [(1,)]
    assert query(warehouse, "SELECT count(*) > 0 FROM entities")[0][0]
    assert query(warehouse, "SELECT count(*) FROM articles WHERE language IS NULL") == [(0,)]


def test_backfill_arguments_that_name_no_warc_file_exit_2_with_one_line(tmp_path, hkai):
    result = hkai("backfill", str(tmp_path / "nothing-*.warc.gz"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no .warc or .warc.gz file matches" in result.stderr
    result = hkai("backfill", str(tmp_path / "missing.warc.gz"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_concurrent_ingests_share_one_ducklake_and_alert_once(tmp_path, postgres, prefect_api, site):
    receiver = Receiver()
    try:
        lake = {"ducklake": postgres.new_catalog(), "data_path": str(tmp_path / "lake-data")}
        site.add_article("/news/lumen-files.html", "Lumen Compute files for Hong Kong IPO", LUMEN_FILING)
        for name in ("a1", "a2", "b1", "b2"):
            site.add_article(f"/news/{name}.html", f"Flat prices, report {name}", PROPERTY + [f"Report {name}."])
        feed_a = site.add_feed("/a.xml", [("Lumen", "/news/lumen-files.html"), ("A1", "/news/a1.html"),
                                          ("A2", "/news/a2.html")])
        feed_b = site.add_feed("/b.xml", [("Lumen", "/news/lumen-files.html"), ("B1", "/news/b1.html"),
                                          ("B2", "/news/b2.html")])
        alerts = {"urls": [receiver.url()]}
        config_a = _config(tmp_path / "a.yaml", lake, [{"name": "desk-a", "kind": "feed", "url": feed_a}], alerts=alerts)
        config_b = _config(tmp_path / "b.yaml", lake, [{"name": "desk-b", "kind": "feed", "url": feed_b}], alerts=alerts)

        writers = [_start(prefect_api, "ingest", "--config", str(config_a)),
                   _start(prefect_api, "ingest", "--config", str(config_b))]
        reads = []
        while any(w.poll() is None for w in writers):  # read while they write
            reads.append(subprocess.run([*HKAI, "sql", "SELECT count(*) FROM runs", "--config", str(config_a),
                                         "--format", "csv"], cwd=PROJECT, env=_env(prefect_api),
                                        capture_output=True, text=True, timeout=120))
            # A read every 1.5 s: each is a process (~0.8 CPU s to start); back to back, they
            # took a core from the writers.
            wait_for(lambda: all(w.poll() is not None for w in writers), timeout_s=1.5, every_s=0.05)
        outputs = [w.communicate() for w in writers]
        assert [w.returncode for w in writers] == [0, 0], [err[-3000:] for _, err in outputs]
        # Every read answered while they wrote, once the first writer had made the lake.
        answered = [r for r in reads if r.returncode == 0]
        assert answered and all("no warehouse here yet" in r.stderr for r in reads if r.returncode), \
            [r.stderr for r in reads]
        assert reads[-1].returncode == 0

        def sql(statement: str) -> list[list[str]]:
            result = subprocess.run([*HKAI, "sql", statement, "--warehouse", "ducklake:" + lake["ducklake"],
                                     "--format", "json"], cwd=PROJECT, env=_env(prefect_api), capture_output=True,
                                    text=True, timeout=120)
            assert result.returncode == 0, result.stderr
            return [list(row.values()) for row in json.loads(result.stdout)]

        assert sql("SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [[5, 5]]
        assert sql("SELECT company, stage FROM listing_events WHERE NOT known") == [["Lumen Compute", "filing"]]
        # The seeds' known listings, loaded by both writers at start, are there once each.
        assert sql("SELECT count(*) = count(DISTINCT event_id), count(*) > 0 FROM listing_events") == [[True, True]]
        assert sql("SELECT status, count(*) FROM runs GROUP BY ALL") == [["completed", 2]]
        assert len(receiver.received) == 1 and "Lumen Compute" in receiver.titles()[0]
    finally:
        receiver.close()

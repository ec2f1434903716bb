"""Reading py-spy's raw stacks back (testbed/pyspy.py: the numbers bench/README.md quotes)."""

from __future__ import annotations

from testbed.pyspy import summarise

MAIN = 'process 10:"python /venv/bin/hkai ingest"'
# A spawned worker's command line has a ';' in it, which py-spy's raw format also uses
# between frames; and py-spy prints "" when it cannot read a command line.
WORKER = 'process 11:"python -B -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5) --multiprocessing-fork"'
UNREAD = 'process 12:""'
RAW = "\n".join([
    f"{MAIN};<module> (hkai:8);main (flows/cli.py:241);load (flows/stages.py:271);connect (warehouse/db.py:59);<lambda> (duckdb/x.py:1) 30",
    f"{MAIN};Thread._bootstrap (threading.py:1002);Fetcher._get (tasks/fetch.py:239);write (zlib.py:1) 10",
    f"{MAIN};{WORKER};<module> (<string>:1);_process_worker (concurrent/futures/process.py:246);extract_page (tasks/extract.py:96);bare_extraction (trafilatura/core.py:278) 50",
    f"{MAIN};{UNREAD};<module> (<string>:1);_process_worker (concurrent/futures/process.py:246);analyse_page (tasks/workers.py:26) 5",
    f"{MAIN};{UNREAD};_run_module_as_main (<frozen runpy>:198);serve (uvicorn/server.py:1);select (selectors.py:468) 5",
    "garbage line without a count",
])


def test_samples_are_counted_by_process_and_by_the_deepest_hkai_frame(tmp_path):
    raw = tmp_path / "stacks.txt"
    raw.write_text(RAW, encoding="utf-8")
    lines = summarise(raw).splitlines()
    # "samples  share  role", each role followed by its places indented by four more spaces
    roles = {line[18:]: int(line.split()[0]) for line in lines[1:] if not line[18:].startswith(" ")}
    assert roles == {"workers": 55, "main thread": 30, "main, other threads": 10, "prefect server": 5}
    text = "\n".join(lines)
    assert "50   50.0%      extract_page (tasks/extract.py:96)" in text
    assert "30   30.0%      connect (warehouse/db.py:59)" in text
    assert "(library) select (selectors.py:468)" in text

"""What DuckDB's write-ahead log costs a warehouse opened once per transaction, by the
size at which it is folded into the file (`checkpoint_threshold`).

    .venv/bin/python -m bench.wal_checkpoint                 # 16MB (DuckDB's default), 4MB, 2MB
    .venv/bin/python -m bench.wal_checkpoint --batches 300 4MB 1MB

hkai opens a DuckDB file warehouse for each transaction and closes it without a
checkpoint (warehouse/db.py: `hkai sql` can read between two), so every open replays the
log since the last checkpoint. This imitates an ingest's batches: 64 articles of ~10 KB
each, three small reads and one write per batch, each in a connection of its own, on a
table keyed like `articles`. Printed: the whole time, the time spent opening, and the
time spent writing (which holds the checkpoints).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ARTICLES_PER_BATCH = 64


def run(path: Path, threshold: str, batches: int) -> tuple[float, float, float]:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE articles (article_id VARCHAR PRIMARY KEY, url VARCHAR UNIQUE, text VARCHAR)")
    stored, opening, writing = 0, 0.0, 0.0
    started = time.perf_counter()
    for _ in range(batches):
        for step in range(4):
            began = time.perf_counter()
            con = duckdb.connect(str(path))
            opening += time.perf_counter() - began
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
            con.execute(f"SET checkpoint_threshold = '{threshold}'")
            if step < 3:
                con.execute("SELECT count(*) FROM articles WHERE url IN (?, ?)", ["u1", "u5"]).fetchall()
            else:
                began = time.perf_counter()
                con.executemany("INSERT INTO articles VALUES (?, ?, ?)",
                                [(f"a{n}", f"https://news.example/{n}", f"word{n} " * 1500)
                                 for n in range(stored, stored + ARTICLES_PER_BATCH)])
                stored += ARTICLES_PER_BATCH
                writing += time.perf_counter() - began
            con.close()
    return time.perf_counter() - started, opening, writing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("thresholds", nargs="*", default=["16MB", "4MB", "2MB"])
    parser.add_argument("--batches", type=int, default=150)
    args = parser.parse_args(argv)
    print(f"{args.batches} batches of {ARTICLES_PER_BATCH} articles, four connections each\n")
    print("| checkpoint_threshold | whole s | opening s | writing s |")
    print("|---|---:|---:|---:|")
    for threshold in args.thresholds:
        with tempfile.TemporaryDirectory(prefix="hkai-wal-") as tmp:
            whole, opening, writing = run(Path(tmp) / "w.duckdb", threshold, args.batches)
        print(f"| {threshold} | {whole:.1f} | {opening:.1f} | {writing:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

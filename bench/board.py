"""What the board, search and export cost as the warehouse grows: indexing every article
for search at once, the update after a run that stored 50 more (what each run pays), a
search, reading and drawing the board's page (done after every run under `hkai serve`),
and a Parquet export.

Articles are the 181 real texts of ../shared/corpus/aeb repeated under distinct ids, with
listing events, entities and fetches alongside. Search against its peer engine (SQLite's
FTS5), and in Chinese too, is bench/search.py.

    python -m bench.board [--sizes 1000 10000 50000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from tasks.report.page import render_page
from tasks.report.snippets import make_snippet
from warehouse.board import read_board
from warehouse.db import Warehouse
from warehouse.export import export_warehouse
from tasks.search import search, update_index

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "aeb" / "ground-truth.json"
QUERIES = ["artificial intelligence", "listing hearing", "hong kong", "chip designer", "game console", "shares"]
PER_RUN = 50  # articles a run stores, for the incremental update


def corpus_texts() -> list[tuple[str, str]]:
    truth = json.loads(CORPUS.read_text(encoding="utf-8"))
    texts = []
    for page in truth.values():
        body = page.get("articleBody") or ""
        if body.strip():
            texts.append((body.split("\n")[0][:120], body))
    return texts


def build_warehouse(path: Path, size: int, texts: list[tuple[str, str]]) -> Path:
    """A warehouse with `size` articles (one in ten relevant), a listing event per 200
    articles, five entities per relevant article and two fetches per article."""
    Warehouse(path)
    con = duckdb.connect(str(path))
    con.execute("CREATE TEMP TABLE corpus (n INTEGER, title VARCHAR, body VARCHAR)")
    con.executemany("INSERT INTO corpus VALUES (?, ?, ?)", [(i, t, b) for i, (t, b) in enumerate(texts)])
    con.execute(f"""
        INSERT INTO articles BY NAME
        SELECT 'a' || i AS article_id, 'https://news.example/' || i AS url, 'https://news.example/' || i AS canonical_url,
               'source-' || (i % 12) AS source, c.title || ' (' || i || ')' AS title,
               now() - INTERVAL (i % 40) DAY - INTERVAL (i % 24) HOUR AS published_at,
               now() - INTERVAL (i % 40) DAY AS fetched_at, 'en' AS language, c.body AS text,
               len(string_split(c.body, ' ')) AS word_count, md5(c.body || i) AS content_hash,
               CASE WHEN i % 10 = 0 THEN 0.8 ELSE 0.1 END AS relevance, i % 10 = 0 AS is_relevant,
               CASE WHEN i % 50 = 7 THEN 'a' || (i - 1) END AS duplicate_of
        FROM range({size}) t(i) JOIN corpus c ON c.n = i % {len(texts)}
    """)
    con.execute("""
        INSERT INTO entities BY NAME
        SELECT article_id, 'ORG' AS label, 'Org ' || k AS text, 'Org ' || k AS normalized, k * 10 AS start_char,
               k * 10 + 5 AS end_char
        FROM articles, range(5) r(k) WHERE is_relevant
    """)
    con.execute(f"""
        INSERT INTO listing_events BY NAME
        SELECT 'e' || i || s.stage AS event_id, 'Company ' || i AS company, 'HKEX' AS exchange, s.stage,
               now() - INTERVAL (i % 30) DAY + INTERVAL (s.rank * 5) DAY AS event_date, 'a' || (i * 200) AS article_id,
               now() - INTERVAL (i % 30) DAY AS first_seen_at, 'evidence' AS evidence, false AS known
        FROM range({max(1, size // 200)}) t(i) JOIN listing_stages s ON s.rank <= i % 4
    """)
    con.execute("""
        INSERT INTO fetches BY NAME
        SELECT url, source, CASE WHEN k = 1 AND i % 20 = 0 THEN 503 ELSE 200 END AS status_code,
               CASE WHEN k = 1 AND i % 20 = 0 THEN 'http_error' ELSE 'ok' END AS outcome,
               CASE WHEN k = 1 AND i % 20 = 0 THEN 'HTTP 503 Service Unavailable' END AS error,
               fetched_at - INTERVAL (k) HOUR AS fetched_at, 1000 AS bytes
        FROM (SELECT *, row_number() OVER () AS i FROM articles), range(2) r(k)
    """)
    con.execute("CHECKPOINT")
    con.close()
    return path


def measure(size: int, texts: list[tuple[str, str]]) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="hkai-board-bench-"))
    try:
        warehouse = build_warehouse(folder / "hkai.duckdb", size, texts)
        info = update_index(warehouse)
        con = duckdb.connect(str(warehouse))
        con.execute(f"INSERT INTO articles BY NAME SELECT 'run-' || article_id AS article_id, 'run-' || url AS url, "
                    f"'run-' || canonical_url AS canonical_url, source, title, now() AS fetched_at, text, word_count "
                    f"FROM articles LIMIT {PER_RUN}")
        con.close()
        update = update_index(warehouse)
        search(warehouse, "warm up")
        times = []
        for query in QUERIES:
            began = time.perf_counter()
            found = search(warehouse, query, limit=10)
            [make_snippet(text, found.words) for _, text in found.hits]
            times.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        board = read_board(warehouse)
        read_s = time.perf_counter() - began
        began = time.perf_counter()
        render_page(board)
        render_s = time.perf_counter() - began
        began = time.perf_counter()
        export_warehouse(warehouse, folder / "export", "parquet")
        export_s = time.perf_counter() - began
        return {"size": size, "index_s": info.update_seconds, "update_s": update.update_seconds,
                "update_added": update.added, "segments": update.segments, "index_mb": update.bytes / 2**20,
                "warehouse_mb": warehouse.stat().st_size / 2**20, "search_ms": statistics.median(times),
                "read_s": read_s, "render_s": render_s, "export_s": export_s, "companies": len(board.listings)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"needs {CORPUS} (../shared/corpus/aeb)")
    texts = corpus_texts()
    render_page(read_board(Path(tempfile.gettempdir()) / "no-such-warehouse.duckdb"))  # imports, font cache
    rows = [measure(size, texts) for size in args.sizes]
    print(f"{'articles':>9}  {'index all s':>11}  {'+50 s':>6}  {'indexed':>7}  {'segments':>8}  {'search ms':>9}  "
          f"{'index MB':>8}  {'wh MB':>6}  {'board read s':>12}  {'page s':>6}  {'export s':>8}")
    for r in rows:
        print(f"{r['size']:>9}  {r['index_s']:>11.2f}  {r['update_s']:>6.2f}  {r['update_added']:>7}  {r['segments']:>8}  "
              f"{r['search_ms']:>9.1f}  {r['index_mb']:>8.1f}  {r['warehouse_mb']:>6.1f}  {r['read_s']:>12.3f}  "
              f"{r['render_s']:>6.2f}  {r['export_s']:>8.2f}")
    print(f"index all s: update_index on a warehouse with no index; +50 s: the update after {PER_RUN} more articles "
          "(what a run pays); search ms: search() and the hits' snippets, without the CLI start-up, median of the "
          "queries. Search against SQLite's FTS5, and the whole command: bench/search.py.")


if __name__ == "__main__":
    main()

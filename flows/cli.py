"""The `hkai` command: ingest, serve, sql, reprocess, backfill, report, search, export
(see ../shared/contract.md).

Exit codes: 0 the cycle completed; 2 bad configuration or arguments (one line, no
traceback); 1 anything else that stopped the cycle.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import logging
import os
import signal
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PROJECT_DIR = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    pass


class ArgParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit 2, as the contract says
        raise UsageError(f"{self.prog}: {message}")


def _prefect_environment() -> None:
    """Defaults that make Prefect quiet and self-contained; the user's settings win."""
    os.environ.setdefault("PREFECT_HOME", str(PROJECT_DIR / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "")
    # With no PREFECT_API_URL a run starts Prefect's ephemeral API, which first migrates an
    # empty database (~12 CPU s here). Prefect gives it 20 s: the first `make run` after
    # `make test`, on a loaded 2-core machine, timed out. The same bound as `hkai serve`'s
    # own server.
    from flows.server import START_TIMEOUT_S

    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(START_TIMEOUT_S))
    # glibc gives each thread its own heap arena; with Prefect's and the fetcher's threads
    # that multiplies resident memory for nothing. Inherited by the workers and the server.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")


def _paths(args) -> tuple[str | None, str | None]:
    config = args.config or os.environ.get("HKAI_CONFIG")
    warehouse = args.warehouse or os.environ.get("HKAI_WAREHOUSE")
    return config, warehouse


def _config(config_path: str | None):
    """The command's configuration, read once (a bad file is exit 2, before Prefect starts)."""
    from schemas.config import DEFAULT_CONFIG, load_config

    return load_config(config_path or DEFAULT_CONFIG)


def _warehouse_to_read(args):
    """The warehouse a reading command uses (a file or a DuckLake): --warehouse,
    HKAI_WAREHOUSE, else the configuration's (--config, HKAI_CONFIG, else the default). A
    configuration the command names is read even when the warehouse is given, so a broken
    one is exit 2 as for every command; the default one only when it is needed."""
    from warehouse.db import target_of

    config_path, warehouse_path = _paths(args)
    config = _config(config_path) if config_path or not warehouse_path else None
    return target_of(warehouse_path or config.warehouse)


# -- commands --------------------------------------------------------------------------

def cmd_ingest(args) -> int:
    config_path, warehouse_path = _paths(args)
    config = _config(config_path)
    from flows.ingest import ingest
    from schemas.config import config_in_use
    from tasks.report import run_summary
    from warehouse.db import target_of
    from warehouse.locks import AnotherRunActive, writer_lock

    target = target_of(warehouse_path or config.warehouse)
    try:
        # Taken here too (the flow takes it again, re-entrantly) so that a busy warehouse
        # is a one-line message before any flow run exists, not a failed run.
        with writer_lock(target), config_in_use(config_path, config):
            counts = ingest(config_path=config_path, warehouse_path=warehouse_path)
    except AnotherRunActive as exc:
        print(f"hkai: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(run_summary.ingest_text(counts, str(target)))
    return EXIT_OK


def cmd_serve(args) -> int:
    config_path, warehouse_path = _paths(args)
    config = _config(config_path)
    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        # Only flags here: the scheduler notices within a fraction of a second. A second
        # request stops at once; what was not committed is fetched again at the next start.
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    def say(line: str) -> None:
        print(f"{datetime.now():%H:%M:%S} hkai serve: {line}", file=sys.stderr, flush=True)

    from tasks.report.page import default_report_path
    from warehouse.db import target_of

    target = target_of(warehouse_path or config.warehouse)
    report_path = default_report_path(target).resolve()
    with _prefect_api_for_serve(say):
        from flows.serve import serve
        from warehouse.locks import AnotherRunActive

        say(f"Ctrl-C or SIGTERM stops after the polls in flight have committed; the board: {report_path}")
        try:
            polls = serve(config, target, stop, say, report_path=report_path)
        except AnotherRunActive as exc:
            print(f"hkai: {exc}", file=sys.stderr)
            return EXIT_FAILED
    say(f"stopped after {polls} polls; warehouse: {warehouse_path or config.warehouse}")
    return EXIT_OK


@contextlib.contextmanager
def _prefect_api_for_serve(say):
    """The user's Prefect API if they configured one; else a local server with its UI for
    the session, its history under PREFECT_HOME and kept for a week (Prefect's ephemeral
    API would end with each flow run and show nothing)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, \
        temporary_settings

    # Polls run in this process, not as runs of a deployment a server watches for crashes:
    # heartbeats would only add up to a second to the end of every poll.
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        if get_current_settings().api.url:
            yield
            return
        from flows.server import local_server

        say("starting a local Prefect server (set PREFECT_API_URL to use your own)")
        retention = {"PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
                     "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": str(7 * 86_400)}
        with local_server({k: os.environ.get(k, v) for k, v in retention.items()}, ui=True) as url, \
                temporary_settings({PREFECT_API_URL: url}):
            os.environ["PREFECT_API_URL"] = url
            say(f"Prefect UI with every poll as a flow run: {url.removesuffix('/api')}")
            try:
                yield
            finally:
                from prefect.logging.handlers import APILogWorker

                # Log lines still queued go out while the server answers, not at exit to
                # a server that has stopped (which Prefect reports on stderr).
                APILogWorker.drain_all(timeout=5)


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def format_rows(columns: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([{c: _jsonable(v) for c, v in zip(columns, row)} for row in rows],
                          ensure_ascii=False, indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_jsonable(v) for v in row] for row in rows])
        return out.getvalue().rstrip("\n")
    from tasks.report import tables

    cells = [[("NULL" if v is None else str(_jsonable(v))).replace("\n", " ")[:80] for v in row] for row in rows]
    return tables.query_table(columns, cells) + f"\n({len(rows)} row{'s' if len(rows) != 1 else ''})"


def cmd_sql(args) -> int:
    import duckdb

    from warehouse.db import WarehouseError, read_only_query

    target = _warehouse_to_read(args)
    try:
        columns, rows = read_only_query(target, args.query, wait_s=args.wait)
    except WarehouseError as exc:
        print(f"hkai sql: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except duckdb.Error as exc:
        print(f"hkai sql: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_USAGE
    print(format_rows(columns, rows, args.format))
    return EXIT_OK


def cmd_report(args) -> int:
    from schemas.board import BoardState
    from tasks.report.page import REPORT_NAME, default_report_path, write_report

    warehouse = _warehouse_to_read(args)
    out = Path(args.out) if args.out else default_report_path(warehouse)
    if out.is_dir():
        out = out / REPORT_NAME
    board = write_report(warehouse, out)
    if board.state in (BoardState.MISSING, BoardState.BROKEN):
        print(f"hkai report: {board.message} (wrote {out}, which says so)", file=sys.stderr)
        return EXIT_FAILED
    print(f"hkai report: wrote {out}: {len(board.listings)} companies, {len(board.changes_day)} listing changes "
          f"in the last 24 h, {board.articles_total} articles ({board.relevant_total} relevant), "
          f"{len(board.sources)} sources")
    for problem in board.problems:
        print(f"hkai report: could not read {problem}", file=sys.stderr)
    return EXIT_OK


def cmd_search(args) -> int:
    from tasks.report.snippets import make_snippet
    from warehouse.db import WarehouseError
    from tasks.search import Filters, SearchError, query_words, search

    if not args.query.strip():
        raise UsageError("hkai search: the query is empty")
    try:
        query_words(args.query)
    except SearchError as exc:
        raise UsageError(f"hkai search: {exc}") from None
    warehouse = _warehouse_to_read(args)
    filters = Filters(since=args.since, source=args.source, language=args.lang)
    try:
        result = search(warehouse, args.query, limit=args.limit, filters=filters)
    except (SearchError, WarehouseError) as exc:
        print(f"hkai search: {exc}", file=sys.stderr)
        return EXIT_FAILED
    bold = sys.stdout.isatty() and args.format == "text"
    marks = ("\033[1m", "\033[0m") if bold else ("**", "**")
    found = [hit.model_copy(update={"snippet": make_snippet(text, result.words, *marks)}) for hit, text in result.hits]
    if args.format == "json":
        print(json.dumps([hit.model_dump(mode="json") for hit in found], ensure_ascii=False, indent=1))
        return EXIT_OK
    for hit in found:
        when = hit.published_at.date().isoformat() if hit.published_at else "undated"
        flags = "" if hit.is_relevant else " (not about HK AI)"
        flags += f" (copy of {hit.duplicate_of})" if hit.duplicate_of else ""
        print(f"{hit.rank}. {hit.title or hit.url}  [{hit.source}, {when}, score {hit.score:.2f}]{flags}")
        print(f"   {hit.url}")
        print(f"   {hit.snippet}")
        if hit.missing:
            print(f"   without: {', '.join(hit.missing)}")
    print(format_search_summary(result, filters, len(found)))
    return EXIT_OK


def format_search_summary(result, filters, shown: int) -> str:
    """The line under the hits: what was searched, how many articles have every word,
    and which words none has."""
    index = result.index
    scope = f"{index.articles:,} articles searched" if index else "no index yet"
    narrowed = [f"since {filters.since:%Y-%m-%d %H:%M %Z}" if filters.since else "",
                f"source {filters.source}" if filters.source else "", f"language {filters.language}" if filters.language else ""]
    if any(narrowed):
        scope += ", " + ", ".join(n for n in narrowed if n)
    absent = [word for word, count in result.per_word.items() if count == 0]
    lines = [f"no article has: {', '.join(absent)}"] if absent and len(result.words) > 1 else []
    if not shown:
        lines.append(f"no article matches ({scope})")
    elif len(result.words) == 1:
        lines.append(f"({shown} best of {result.every_word:,}; {scope})")
    elif result.every_word:
        partial = "; then the best with some of the words" if shown > result.every_word else ""
        lines.append(f"({shown} best: {result.every_word:,} articles have every word{partial}; {scope})")
    else:
        lines.append(f"(no article has every word: {shown} best with some of them; {scope})")
    return "\n".join(lines)


def cmd_export(args) -> int:
    from warehouse.db import WarehouseError
    from warehouse.export import export_warehouse

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"hkai export: --out {out} is a file, not a directory")
    warehouse = _warehouse_to_read(args)
    try:
        written = export_warehouse(warehouse, out, args.format)
    except WarehouseError as exc:
        print(f"hkai export: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for item in written:
        print(f"{item.path}  {item.rows} rows{'  (view)' if item.kind == 'view' else ''}")
    print(f"hkai export: {len(written)} files ({args.format}) in {out}")
    return EXIT_OK


def _since(text: str) -> datetime:
    """--since: a day (YYYY-MM-DD, from its start in Hong Kong, the board's time zone) or
    an ISO date and time."""
    from zoneinfo import ZoneInfo

    from warehouse.board import BOARD_TIMEZONE

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(BOARD_TIMEZONE))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def cmd_reprocess(args) -> int:
    config_path, warehouse_path = _paths(args)
    config = _config(config_path)
    from flows.reprocess import reprocess
    from schemas.config import config_in_use
    from tasks.report import run_summary

    with config_in_use(config_path, config):
        counts = reprocess(config_path=config_path, warehouse_path=warehouse_path)
    print(run_summary.reprocess_text(counts))
    return EXIT_OK


def cmd_backfill(args) -> int:
    config_path, warehouse_path = _paths(args)
    config = _config(config_path)
    from flows.backfill import PAGES_PER_CHUNK, NoWarcFiles, backfill, expand_paths
    from schemas.config import config_in_use
    from tasks.report import run_summary

    if args.pages_per_chunk is not None and args.pages_per_chunk < 1:
        raise UsageError("hkai backfill: --pages-per-chunk must be at least 1")
    try:
        paths = expand_paths(args.paths)
    except NoWarcFiles as exc:
        raise UsageError(f"hkai backfill: {exc}") from None
    with config_in_use(config_path, config):
        result = backfill(paths=paths, config_path=config_path, warehouse_path=warehouse_path,
                          pages_per_chunk=args.pages_per_chunk or PAGES_PER_CHUNK)
    print(run_summary.backfill_text(result))
    return EXIT_OK


def build_parser() -> ArgParser:
    parser = ArgParser(prog="hkai", description="Hong Kong AI news and listings, ingested as they happen.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgParser)
    # What every command takes: which configuration, and which warehouse.
    common = ArgParser(add_help=False)
    common.add_argument("--config", help="YAML configuration (default: hkai.yaml; env HKAI_CONFIG)")
    common.add_argument("--warehouse", help="DuckDB file or ducklake:<catalog> (default: from the config; env HKAI_WAREHOUSE)")

    p = sub.add_parser("ingest", parents=[common], help="run one ingestion cycle (a Prefect flow run)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("serve", parents=[common], help="poll each source when it is due, until stopped")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("sql", parents=[common], help="ad-hoc read-only SQL on the warehouse")
    p.add_argument("query")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait while a run holds the file")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("reprocess", parents=[common], help="re-extract archived responses (WARC) without the network")
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("report", parents=[common], help="write the listings board as one self-contained HTML page")
    p.add_argument("--out", help="the page's path (default: report.html beside the warehouse)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("search", parents=[common],
                       help="ranked full-text search over article titles and texts, English and Chinese")
    p.add_argument("query", help='words (all of them first, then the most of them), "quoted phrases"')
    p.add_argument("--limit", type=_positive_int, default=10, help="how many articles (default 10)")
    p.add_argument("--since", type=_since, help="only articles from this day on (YYYY-MM-DD, Hong Kong time)")
    p.add_argument("--source", help="only articles from this source (its name in the configuration)")
    p.add_argument("--lang", choices=("en", "zh"), help="only articles in this language")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", parents=[common], help="every table and view as a Parquet or CSV file")
    p.add_argument("--format", choices=("parquet", "csv"), required=True)
    p.add_argument("--out", required=True, help="the directory to write to (created if missing)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("backfill", parents=[common], help="WARC files through the same stages, in parallel, resumable")
    p.add_argument("paths", nargs="+", metavar="PATH_OR_GLOB", help="WARC files (.warc, .warc.gz) or glob patterns")
    p.add_argument("--pages-per-chunk", type=int, default=None, help="pages per unit of parallel work (default 200)")
    p.set_defaults(func=cmd_backfill)
    return parser


def main(argv: list[str] | None = None) -> int:
    _prefect_environment()  # before anything imports prefect, which reads settings once
    from schemas.config import ConfigError

    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, ConfigError) as exc:
        print(f"hkai: {exc}" if not str(exc).startswith("hkai") else str(exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one readable line, exit 1
        logging.getLogger("hkai").debug("run failed", exc_info=True)
        print(f"hkai: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        if os.environ.get("HKAI_DEBUG"):
            raise
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

"""Where the warehouse lives and how it is written: a DuckDB file (the default, embedded,
no server) or a DuckLake that many writers share.

A DuckDB file. DuckDB lets one process hold a file read-write and then no other process
may open it, not even read-only. So the writer never keeps the file open: each batch opens
it, commits in one transaction and closes it, and readers (`hkai sql`) open it read-only
between batches. Both sides retry while the other holds the lock.

A DuckLake (`warehouse: {ducklake: "postgres:..." | "sqlite:...", data_path: ...}`). The
catalog lives in PostgreSQL (several machines) or SQLite (one machine), the rows in
Parquet files under the data path. Any number of writers and readers attach it at once;
each transaction commits a snapshot, and a commit that conflicts with one made since the
transaction began fails and is run again (`Warehouse.write`). DuckLake has no PRIMARY KEY,
UNIQUE or CHECK constraints, no indexes, no ON CONFLICT and no RETURNING, so the schema
and every write follow one pattern that holds on both backends.

How a table works on both backends (follow this for every new table and write):
1. Declare it in a migration (`migrations/NNN_slug.sql`) in ordinary DuckDB SQL, keys
   included: the DuckDB file enforces PRIMARY KEY and UNIQUE. On a DuckLake the same file
   runs through `ducklake_sql`, which drops what DuckLake lacks (PRIMARY KEY, UNIQUE,
   CHECK, REFERENCES, CREATE INDEX) and turns fixed-size arrays (`UINTEGER[40]`) into
   lists. Key on a value derived from the content (a hash of the canonical URL, of company
   and stage) or a uuid: there are no sequences. Give added columns literal defaults.
2. Never let a constraint keep a key unique: write keyed rows with `warehouse/rows.py`:
   `insert_new` (the first row for a key wins; returns what was new), `upsert` (the row
   for a key takes the values of the columns named, and keeps its others), `insert_rows`
   (append-only tables). To change a few columns of one stored row, a plain
   `UPDATE ... WHERE <key> = ?` also does. No ON CONFLICT, no RETURNING, no
   INSERT OR REPLACE: they fail on a DuckLake.
3. Write only inside `wh.write(body)`: `body(con)` runs in one transaction, and again from
   the start when another writer's commit conflicts with it, so it must have no effect
   outside the transaction (compute what it returns from what it reads inside). On a
   DuckLake every write first bumps the one row of `write_guard`: any two writes that
   overlap then conflict, the later one re-reads a snapshot that holds the other's rows,
   and a key looked up by `rows.insert_new` is seen by exactly one writer as new. That
   is what keeps articles, listing events and alerts exactly once across writers.
4. Read what must agree (several statements) inside one transaction (`wh.read(body)`):
   between two autocommitted statements another writer may commit.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import TypeVar, Union

import duckdb

# tenacity imports tornado when it is installed (Dask needs it), to retry tornado's
# coroutines, which hkai has none of: 23 ms of every command's start-up, a tenth of a
# search. Tornado is "not importable" (None in sys.modules) while tenacity is imported;
# a process that imported tornado before keeps it, and Dask imports it afterwards as usual.
_TORNADO_ABSENT = "tornado" not in sys.modules
if _TORNADO_ABSENT:
    sys.modules["tornado"] = None  # type: ignore[assignment]
try:
    from tenacity import RetryError, Retrying, retry_if_exception, stop_after_delay, wait_exponential, wait_fixed, \
        wait_random, wait_random_exponential
finally:
    if _TORNADO_ABSENT:
        del sys.modules["tornado"]

from schemas.config import DuckLakeWarehouse, Warehouse as WarehouseConfig, parse_warehouse, redact_catalog
from warehouse.locks import exclusive

LOCK_WAIT_S = 60.0
WRITER_MEMORY_LIMIT = "128MB"  # DuckDB's own memory in an ingest's sessions (see session)
LAKE_ALIAS = "lake"  # the name a DuckLake is attached under; `USE lake` makes it the default
# A write that keeps conflicting with other writers gives up after this long: each retry
# re-runs one batch, so only a writer that never gets a turn could reach it.
CONFLICT_WAIT_S = 120.0
# Between its attempts: 5 ms, doubling up to 200 ms, each between half and one and a half
# times that at random, so that two writers that conflicted do not retry in lockstep.
CONFLICT_BACKOFF = wait_exponential(multiplier=0.0025, max=0.1) + wait_random_exponential(multiplier=0.005, max=0.2)

T = TypeVar("T")
Target = Union[Path, DuckLakeWarehouse]


def _fail_fast_without_pandas() -> None:
    """Make DuckDB's parameter binding cheap when pandas is not installed (it is not ours).

    The Python client tries `import pandas` twice for every parameter value it converts
    (to recognise pandas' NA and NaT). Without pandas each try is a failed search of
    sys.path: ~40 us a value, 15 ms for a 64-row batch of three columns, and 37 % of the
    main process's time in the harness profile (bench/README.md). A None in sys.modules
    is Python's documented way to say "not importable": the import then fails at once."""
    if "pandas" not in sys.modules and importlib.util.find_spec("pandas") is None:
        sys.modules["pandas"] = None  # type: ignore[assignment]


_fail_fast_without_pandas()


class WarehouseError(Exception):
    """The warehouse cannot be used (wrong file, corrupt, locked for too long, no catalog)."""


class NoWarehouse(WarehouseError):
    """A reader found no warehouse where it was told to look: nothing was ingested there yet."""


class WriteConflict(WarehouseError):
    """Another writer's commit conflicted with this transaction (DuckLake) and retrying
    did not get it through in time."""


def target_of(warehouse: WarehouseConfig | Path) -> Target:
    """The configured or command-line warehouse as a file path or a DuckLake."""
    if isinstance(warehouse, DuckLakeWarehouse):
        return warehouse
    parsed = parse_warehouse(str(warehouse))
    return parsed if isinstance(parsed, DuckLakeWarehouse) else Path(parsed)


def describe(target: Target) -> str:
    """The warehouse as messages name it (a catalog's password left out)."""
    return str(target)


def _is_lock_conflict(exc: BaseException) -> bool:
    """Another process holds the DuckDB file (DuckDB lets one process at a time write it)."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and "lock" in text and ("conflicting" in text or "could not set lock" in text)


def _while_file_is_held(wait_s: float) -> Retrying:
    """Attempts at opening a DuckDB file while another process holds it: again after 10 ms,
    doubling up to 200 ms, for `wait_s`; then the last error is raised."""
    return Retrying(retry=retry_if_exception(_is_lock_conflict), stop=stop_after_delay(wait_s),
                    wait=wait_exponential(multiplier=0.01, max=0.2), reraise=True)


# How a write that lost a race with another writer fails: DuckLake's own conflict check;
# a SQLite catalog held by another writer's commit; PostgreSQL refusing a catalog update
# that raced another (its serialization failure and deadlock errors).
_CONFLICT_MESSAGES = ("Transaction conflict", "database is locked", "could not serialize access",
                      "deadlock detected")


# A PostgreSQL catalog's failure under a concurrent writer can also surface only as the
# transaction being aborted, without its cause: retried too, but a few times only, so a
# statement that is simply wrong still fails promptly.
_ABORTED_MESSAGE = "Current transaction is aborted"
ABORTED_RETRIES = 5


def is_write_conflict(exc: BaseException) -> bool:
    """A commit refused because another writer committed first: worth running again."""
    if not isinstance(exc, duckdb.Error):
        return False
    text = str(exc)
    return any(message in text for message in _CONFLICT_MESSAGES) or _ABORTED_MESSAGE in text


def _connect_file(path: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting (with backoff) while another process holds its lock."""
    if read_only and not path.exists():
        raise NoWarehouse(f"{path}: no warehouse here yet (run `hkai ingest` first)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _while_file_is_held(wait_s)(duckdb.connect, str(path), read_only=read_only)
    except duckdb.Error as exc:
        if _is_lock_conflict(exc):
            raise WarehouseError(f"{path}: locked by another process for over {wait_s:.0f} s") from None
        raise WarehouseError(f"{path}: cannot open warehouse: {str(exc).splitlines()[0]}") from None


# DuckDB extensions a DuckLake needs, from their PyPI packages (pinned with duckdb): loaded
# from the installed file, so nothing is downloaded when a lake is opened.
_LAKE_EXTENSIONS = {"ducklake": "duckdb_extension_ducklake", "postgres": "duckdb_extension_postgres_scanner",
                    "sqlite": "duckdb_extension_sqlite_scanner", "httpfs": "duckdb_extension_httpfs"}


@functools.cache  # the installed file: found once per process, not on every lake session
def extension_file(name: str) -> Path:
    """The extension file a `duckdb-extension-*` package installed, for `LOAD '<file>'`
    (any DuckDB client can `INSTALL` the same file to read a lake)."""
    package = _LAKE_EXTENSIONS[name]
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise WarehouseError(f"DuckDB's {name} extension is not installed (pip install "
                             f"{package.replace('_', '-')}=={duckdb.__version__})") from None
    found = sorted(Path(module.__file__).parent.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise WarehouseError(f"{package} has no extension for DuckDB {duckdb.__version__}")
    return found[0]


# DuckDB checks an extension file's signature on every LOAD by hashing the whole file: the
# lake's two files are 34 MB each, ~0.16 s a connection, and a run opens a dozen sessions.
# A process checks each file on its first load; its later connections load the files it has
# already checked without checking them again (whoever could swap a file in between could
# as well change this code).
_VERIFIED_EXTENSIONS: set[Path] = set()


def _lake_extensions(lake: DuckLakeWarehouse) -> list[Path]:
    needed = ["ducklake", lake.ducklake.split(":", 1)[0]]
    if lake.data_path and "://" in lake.data_path:
        needed.append("httpfs")
    return [extension_file(name) for name in needed]


def _attach_lake(lake: DuckLakeWarehouse, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and in use."""
    checked = _VERIFIED_EXTENSIONS.issuperset(_lake_extensions(lake))
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                 "allow_unsigned_extensions": checked})
    try:
        attach_lake(con, lake, LAKE_ALIAS, read_only)
    except BaseException:
        con.close()
        raise
    con.execute(f"USE {LAKE_ALIAS}")
    return con


def attach_lake(con: duckdb.DuckDBPyConnection, lake: DuckLakeWarehouse, alias: str, read_only: bool) -> None:
    """Attach the lake to an open connection as `alias`, its extensions loaded from their
    packages. Read-only, a lake that does not exist yet, or has no tables yet, is
    NoWarehouse."""
    catalog_kind = lake.ducklake.split(":", 1)[0]
    verifies = not con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0]
    for file in _lake_extensions(lake):
        con.execute(f"LOAD '{file}'")
        if verifies:
            _VERIFIED_EXTENSIONS.add(file)
    options = ["READ_ONLY"] if read_only else []
    data_path = lake.data_path
    if data_path is None and catalog_kind == "sqlite":
        data_path = lake.ducklake.removeprefix("sqlite:") + ".files/"
    if data_path and not read_only:
        options.append(f"DATA_PATH '{_quote(data_path)}'")
    if catalog_kind == "sqlite":
        sqlite_file = Path(lake.ducklake.removeprefix("sqlite:"))
        if read_only and not sqlite_file.exists():
            raise NoWarehouse(f"{describe(lake)}: no warehouse here yet (run `hkai ingest` first)")
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    if data_path and "://" not in data_path and not read_only:
        Path(data_path).mkdir(parents=True, exist_ok=True)
    clause = f" ({', '.join(options)})" if options else ""
    with _catalog_lock(lake):
        _attach_with_retries(con, lake, alias, clause, read_only)
    if read_only and not _first_migration_applied(con, alias):
        # The first writer has made the catalog but not hkai's tables yet (each migration
        # commits on its own): to a reader, nothing is there yet.
        con.execute(f"DETACH {alias}")
        raise NoWarehouse(f"{describe(lake)}: no warehouse here yet (run `hkai ingest` first)")


def _first_migration_applied(con: duckdb.DuckDBPyConnection, alias: str) -> bool:
    try:
        return con.execute(f"SELECT count(*) FROM {alias}.schema_migrations WHERE version = 1").fetchone()[0] > 0
    except duckdb.CatalogException:
        return False


# Any fixed number: the PostgreSQL advisory lock writers take while attaching a catalog.
_ATTACH_LOCK_KEY = 4_417_007_331


@contextlib.contextmanager
def _catalog_lock(lake: DuckLakeWarehouse) -> Iterator[None]:
    """Processes attach a PostgreSQL catalog one at a time: the first creates DuckLake's
    tables, and one attaching while they were half made crashed DuckDB 1.5.5 ("access
    index 0 within vector of size 0"). A transaction-scoped advisory lock, in a DuckDB
    transaction on a connection of its own, held only for the attach (a session lock
    would not hold: outside a transaction the postgres extension runs each query on a
    connection it then lets go, so the lock went with it)."""
    if not lake.ducklake.startswith("postgres:"):
        yield
        return
    holder = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        holder.execute(f"LOAD '{_quote(str(extension_file('postgres')))}'")
        holder.execute(f"ATTACH '{_quote(lake.ducklake.removeprefix('postgres:'))}' AS hkai_attach_lock (TYPE postgres)")
        holder.execute("BEGIN TRANSACTION")
        holder.execute("SELECT * FROM postgres_query('hkai_attach_lock', "
                       f"'SELECT pg_advisory_xact_lock({_ATTACH_LOCK_KEY})::text')").fetchall()
        yield
    finally:
        holder.close()  # ends the transaction on the catalog's side: the lock goes with it


def _attach_with_retries(con: duckdb.DuckDBPyConnection, lake: DuckLakeWarehouse, alias: str, clause: str,
                         read_only: bool) -> None:
    # Two writers attaching a new catalog at once both create DuckLake's own tables; the
    # one that loses finds them made on its next try, 0.1 to 0.3 s later.
    retrying = Retrying(retry=retry_if_exception(_is_catalog_creation_race), stop=stop_after_delay(LOCK_WAIT_S),
                        wait=wait_random(0.1, 0.3), reraise=True)
    try:
        retrying(con.execute, f"ATTACH '{_quote('ducklake:' + lake.ducklake)}' AS {alias}{clause}")
    except duckdb.Error as exc:
        if read_only and "creating a new DuckLake is explicitly disabled" in str(exc):
            raise NoWarehouse(f"{describe(lake)}: no warehouse here yet (run `hkai ingest` first)") from None
        reason = redact_catalog(str(exc).replace("\n", " "))
        raise WarehouseError(f"{describe(lake)}: cannot attach: {reason[:300]}") from None


def _is_catalog_creation_race(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, duckdb.Error) and (
        "duplicate key value violates unique constraint" in text or "already exists" in text or is_write_conflict(exc))


def _quote(text: str) -> str:
    return text.replace("'", "''")


def connect(target: Target | str, *, read_only: bool = False, wait_s: float = LOCK_WAIT_S) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse: the DuckDB file (waiting while another process holds
    its lock), or an in-memory DuckDB with the DuckLake attached and in use."""
    target = target_of(target) if isinstance(target, str) else target
    if isinstance(target, DuckLakeWarehouse):
        return _attach_lake(target, read_only)
    return _connect_file(Path(target), read_only, wait_s)


def attach_read_only(con: duckdb.DuckDBPyConnection, target: Target, alias: str, wait_s: float = LOCK_WAIT_S) -> None:
    """Attach the warehouse read-only to an open connection as `alias` (beside other
    databases): the DuckDB file, waiting while a writer holds
    it, or the lake's latest snapshot. A warehouse that does not exist is NoWarehouse."""
    if isinstance(target, DuckLakeWarehouse):
        attach_lake(con, target, alias, read_only=True)
        return
    path = Path(target)
    if not path.exists():
        raise NoWarehouse(f"{path}: no warehouse here yet (run `hkai ingest` first)")
    try:
        _while_file_is_held(wait_s)(con.execute, f"ATTACH '{_quote(str(path))}' AS {alias} (READ_ONLY)")
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot read it: {str(exc).splitlines()[0]}") from None


def companion_path(target: Target, suffix: str) -> Path:
    """A path on this machine for files that go with the warehouse (`hkai.search` for
    `hkai.duckdb`): beside the DuckDB file or the SQLite catalog; for a PostgreSQL catalog,
    in the working directory, named after its database."""
    if isinstance(target, DuckLakeWarehouse):
        if target.ducklake.startswith("sqlite:"):
            catalog = Path(target.ducklake.removeprefix("sqlite:"))
            return catalog.with_name(catalog.stem + suffix)
        database = re.search(r"\bdbname\s*=\s*([^\s]+)", target.ducklake)
        return Path.cwd() / ((database.group(1) if database else "ducklake") + suffix)
    path = Path(target)
    return path.with_name(path.stem + suffix)


def home_dir(target: Target) -> Path:
    """The folder of `companion_path`: where the board's page and, unless configured,
    the WARC archive go."""
    return companion_path(target, "").parent


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's default database is a DuckLake."""
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row is not None and row[0] == "ducklake"


# -- migrations --------------------------------------------------------------------------

def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every warehouse/migrations/NNN_slug.sql, in order."""
    found = []
    for entry in resources.files("warehouse").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name[:-4], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise WarehouseError(f"two migrations share a number: {versions}")
    return found


_TYPES = r"(?:U?(?:TINY|SMALL|BIG|HUGE)?INT(?:EGER)?|VARCHAR|TEXT|DOUBLE|FLOAT|REAL|BOOLEAN|BLOB|DATE|TIMESTAMPTZ|TIMESTAMP)"


def _drop_parenthesised(sql: str, keyword: str) -> str:
    """Remove `keyword (...)` with balanced parentheses, and a comma before it that would
    be left dangling in a column list."""
    pattern = re.compile(rf",?\s*\b{keyword}\s*\(", re.IGNORECASE)
    while (match := pattern.search(sql)) is not None:
        depth, end = 1, match.end()
        while depth and end < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        sql = sql[:match.start()] + sql[end:]
    return sql


def ducklake_sql(sql: str) -> str:
    """A migration as a DuckLake runs it: the same tables, columns and views, without what
    DuckLake does not have (constraints, indexes, fixed-size arrays, non-literal defaults
    on added columns). The keys stay the application's job (module docstring)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*;", "", sql, flags=re.IGNORECASE)
    for keyword in ("PRIMARY KEY", "UNIQUE", "CHECK", "FOREIGN KEY"):
        sql = _drop_parenthesised(sql, keyword)
    sql = re.sub(r"\s+REFERENCES\s+\w+\s*(?:\([^)]*\))?", "", sql, flags=re.IGNORECASE)
    sql = re.sub(r"\s+(?:PRIMARY\s+KEY|UNIQUE)\b", "", sql, flags=re.IGNORECASE)
    sql = re.sub(rf"\b({_TYPES})\[\d+\]", r"\1[]", sql, flags=re.IGNORECASE)
    # DuckLake takes only literals as an added column's default, and reads TRUE and FALSE
    # as expressions; the quoted forms are literals DuckDB casts to BOOLEAN.
    sql = re.sub(r"\bDEFAULT\s+(TRUE|FALSE)\b", lambda m: f"DEFAULT '{m.group(1).lower()}'", sql,
                 flags=re.IGNORECASE)
    # DuckLake has no default for a list column; hkai writes every list it stores, so such
    # a column is nullable there (rows copied from before it existed hold NULL, read as []).
    sql = re.sub(r"(?:\s+NOT\s+NULL)?\s+DEFAULT\s+\[\s*\]", "", sql, flags=re.IGNORECASE)
    return sql


# The bookkeeping every warehouse has before its first migration: which migrations ran, and
# the row every DuckLake write bumps so that overlapping writes conflict (module docstring).
_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS write_guard (writes BIGINT NOT NULL);
INSERT INTO write_guard SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM write_guard);
"""


def _bump_guard(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE write_guard SET writes = writes + 1")


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the pending migrations and their records in one transaction: all or none (one
    commit: on a new DuckLake each commit costs a catalog round of its own). On a DuckLake
    each runs as `ducklake_sql` rewrites it; migrations another writer applied first make
    this transaction conflict, and running `migrate` again then finds them applied."""
    lake = is_lake(con)
    adapt = ducklake_sql if lake else (lambda sql: sql)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(adapt(_BOOTSTRAP))
        con.execute("COMMIT")
    except Exception:
        _rollback(con)
        raise
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    pending = [(version, name, sql) for version, name, sql in migration_files() if version not in applied]
    if not pending:
        return []
    con.execute("BEGIN TRANSACTION")
    try:
        if lake:
            _bump_guard(con)
            applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
        done = []
        for version, name, sql in pending:
            if version in applied:
                continue
            con.execute(adapt(sql))
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
            done.append(name)
        con.execute("COMMIT")
    except Exception:
        _rollback(con)
        raise
    return done


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed DuckLake commit closes it)."""
    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")


def _stage_order() -> list[tuple[str, int]]:
    from schemas.records import STAGES

    return [(str(stage), rank) for rank, stage in enumerate(STAGES)]


def stage_order_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT stage, rank FROM listing_stages ORDER BY rank").fetchall() == _stage_order()


def write_stage_order(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite `listing_stages` from ListingStage, the one definition of the stage order.
    Runs inside the caller's write transaction."""
    wanted = _stage_order()
    if stage_order_is_current(con):
        return
    con.execute("DELETE FROM listing_stages")
    con.executemany("INSERT INTO listing_stages VALUES (?, ?)", wanted)


# Any fixed number, apart from the attach lock's: the lock writers of one lake take turns by.
_WRITE_TURN_KEY = 4_417_007_332


class WritersTurn:
    """Writers of one DuckLake commit one at a time, each holding the turn for its write
    transaction only (BEGIN to COMMIT), never across a batch's fetching or analysis.

    Optimistic commits alone let two writers run the same batch transaction side by side
    and the loser run all of it again (bench/scale.py measured waits of 5 s); taking turns
    bounds a writer's wait by one other transaction. The `write_guard` conflict and the
    retry in `Warehouse.write` stay as the guarantee (a client that does not take turns).

    PostgreSQL catalog: a transaction-scoped advisory lock on a connection of its own (a
    session lock does not hold there: the postgres extension hands each query its own
    connection outside a transaction). SQLite catalog (one machine): a lock file beside it
    (warehouse/locks.py)."""

    def __init__(self, lake: DuckLakeWarehouse):
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock_path: Path | None = None
        if lake.ducklake.startswith("postgres:"):
            self._con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                               "autoload_known_extensions": False})
            self._con.execute(f"LOAD '{_quote(str(extension_file('postgres')))}'")
            dsn = lake.ducklake.removeprefix("postgres:")
            self._con.execute(f"ATTACH '{_quote(dsn)}' AS hkai_turn (TYPE postgres)")
        else:
            catalog = Path(lake.ducklake.removeprefix("sqlite:"))
            self._lock_path = catalog.with_name(catalog.name + ".writers.lock")

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Wait for the turn and hold it for the block."""
        if self._con is not None:
            self._con.execute("BEGIN TRANSACTION")
            try:
                self._con.execute("SELECT * FROM postgres_query('hkai_turn', "
                                  f"'SELECT pg_advisory_xact_lock({_WRITE_TURN_KEY})::text')").fetchall()
                yield
            finally:
                _rollback(self._con)  # ends the catalog-side transaction: the lock goes with it
        else:
            with exclusive(self._lock_path):
                yield

    def close(self) -> None:
        if self._con is not None:
            self._con.close()


class Warehouse:
    """The run's handle on the warehouse. Created once per run and passed to the stages.
    On a DuckDB file it opens the file only for the span of one transaction; on a DuckLake
    it keeps one attachment and gives each session a connection of its own."""

    def __init__(self, target: Target | str, wait_s: float = LOCK_WAIT_S, take_turns: bool = True):
        """`take_turns=False`: a lake's writes rely on commit conflicts alone, as a DuckDB
        client that does not know hkai's turns would (WritersTurn)."""
        self.target: Target = target_of(target) if isinstance(target, (str, Path)) else target
        self.wait_s = wait_s
        self.conflicts = 0  # commits another writer's commit made this process run again
        # The longest a write was held up by other writers: waiting for its turn, and any
        # attempts a conflict made it run again (not the attempt that committed).
        self.longest_conflict_wait_s = 0.0
        self._writers_turn: WritersTurn | None = None
        self._lake_db: duckdb.DuckDBPyConnection | None = None
        # Threads sharing the handle (`hkai serve` polls sources side by side) take turns:
        # one session at a time keeps a single writer per process (on a lake, two writes
        # of one process would only conflict with each other), and DuckDB aborted the
        # process when one cursor of a lake's attachment closed while another thread's ran.
        self._turn = threading.RLock()
        if self.is_lake:
            self._lake_db = connect(self.target)
            self._lake_db.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            self._writers_turn = WritersTurn(self.target) if take_turns else None
        self._retrying(migrate)
        if not self.read(stage_order_is_current):  # no write (and no turn to wait for) when current
            self.write(write_stage_order)

    @property
    def is_lake(self) -> bool:
        return isinstance(self.target, DuckLakeWarehouse)

    @property
    def path(self) -> Path:
        """The DuckDB file (only for a file warehouse)."""
        if self.is_lake:
            raise WarehouseError(f"{describe(self.target)} is a DuckLake, not a file")
        return Path(self.target)

    def __str__(self) -> str:
        return describe(self.target)

    def _reattach(self) -> None:
        if self._lake_db is None:
            return
        with self._turn:  # no other thread's session is using the attachment
            with contextlib.suppress(duckdb.Error):
                self._lake_db.close()
            self._lake_db = connect(self.target)
            self._lake_db.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")

    def close(self) -> None:
        with self._turn:
            if self._lake_db is not None:
                self._lake_db.close()
                self._lake_db = None
            if self._writers_turn is not None:
                self._writers_turn.close()
                self._writers_turn = None

    @contextlib.contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._turn:
            if self._lake_db is None:
                with self._file_connection() as con:
                    yield con
                return
            con = self._lake_db.cursor()
            con.execute(f"USE {LAKE_ALIAS}")  # a cursor starts on the in-memory database
            try:
                yield con
            finally:
                con.close()

    @contextlib.contextmanager
    def _file_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(self.path, wait_s=self.wait_s)
        try:
            # Closing a file checkpoints it by default, and a checkpoint rewrites every
            # primary-key index whole: 0.45 s per batch at 20k articles, 1.2 s at 60k
            # (bench/README.md). Batches leave their commits in the write-ahead log instead
            # (durable, replayed by whoever opens the file next, readers included); DuckDB
            # checkpoints on its own once the log passes 16 MB, and every run ends with one.
            # Replaying the log costs every open ~25 ms per MB, and a smaller threshold wins
            # on a small warehouse (bench/wal_checkpoint.py), but at 4 MB a 100,000-page
            # backfill's flow process needed 0.30 of a core per worker at 50,000 articles
            # against 0.12 at 16 MB: the more frequent checkpoints rewrite indexes that grow
            # with the warehouse (bench/README.md).
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
            # DuckDB may cache up to 80 % of RAM by default; a checkpoint of a 19k-article
            # warehouse took ~200 MB more, on top of a run's 1 GB budget (bench/README.md,
            # soak). Past this limit it evicts or spills to `<file>.tmp` instead; 48 MB
            # still ran at the same speed there, so this leaves room for larger warehouses.
            con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        """While the block runs, no thread opens the file through this handle: code in this
        process that opens the file itself, read-only (the search index, the board), can."""
        with self._turn:
            yield

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file: the file alone then holds everything.
        On a DuckLake, nothing: its CHECKPOINT (flushing inlined rows, merging and deleting
        files) run by one writer broke the queries other writers and readers had in flight
        (a dropped inlined-data table, measured with two writers and a reader), so a lake
        is compacted with DuckDB's CHECKPOINT in a quiet window (README, Scaling out)."""
        if self.is_lake:
            return
        with self.session() as con:
            con.execute("CHECKPOINT")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic attempt: everything inside commits together or not at all. On a
        DuckLake it runs in this writer's turn (WritersTurn), and the commit can still
        conflict with another writer's (WriteConflict is not raised here: the DuckDB error
        is); `write` runs a body again until it commits."""
        with self.session() as con, self._turn_held():
            con.execute("BEGIN TRANSACTION")
            try:
                if self.is_lake:
                    _bump_guard(con)
                yield con
            except BaseException:
                _rollback(con)
                raise
            con.execute("COMMIT")

    @contextlib.contextmanager
    def _turn_held(self) -> Iterator[None]:
        if self._writers_turn is None:
            yield
            return
        with self._writers_turn.held():
            yield

    def write(self, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`body(con)` in one transaction, run again from the start while another writer's
        commit conflicts with it; its result once it commits."""
        return self._retrying(lambda con: body(con), transaction=True)

    def read(self, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`body(con)` reading one snapshot (one transaction, nothing written)."""
        with self.session() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                return body(con)
            finally:
                _rollback(con)

    def _retrying(self, body: Callable[[duckdb.DuckDBPyConnection], T], transaction: bool = False) -> T:
        started = time.monotonic()
        aborted = 0

        def runs_again(exc: BaseException) -> bool:
            """A commit another writer's refused runs again (and is counted)."""
            nonlocal aborted
            if not is_write_conflict(exc):
                return False
            if not any(message in str(exc) for message in _CONFLICT_MESSAGES):
                aborted += 1
                if aborted > ABORTED_RETRIES:
                    return False
                # The catalog's connection, shared by every session of this
                # attachment, is left in the aborted transaction: attach anew.
                self._reattach()
            self.conflicts += 1
            return True

        def attempt() -> T:
            attempt_started = time.monotonic()
            if transaction:
                with self.transaction() as con:
                    committing_from = time.monotonic()
                    result = body(con)
                # Held up: everything before the attempt that committed, and its wait for the turn.
                held_up = committing_from - started
            else:
                with self.session() as con:
                    result = body(con)
                held_up = attempt_started - started
            self.longest_conflict_wait_s = max(self.longest_conflict_wait_s, held_up)
            return result

        retrying = Retrying(retry=retry_if_exception(runs_again), stop=stop_after_delay(CONFLICT_WAIT_S),
                            wait=CONFLICT_BACKOFF)
        try:
            return retrying(attempt)
        except RetryError:
            raise WriteConflict(f"{describe(self.target)}: a write kept conflicting with other writers "
                                f"for {CONFLICT_WAIT_S:.0f} s") from None

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.session() as con:
            return con.execute(sql, params or []).fetchall()


def read_only_query(target: Target, sql: str, wait_s: float) -> tuple[list[str], list[tuple]]:
    """Run one query read-only (`hkai sql`): the file opened read-only between a writer's
    batches, or the lake's latest snapshot. Returns (columns, rows)."""
    def attempt() -> tuple[list[str], list[tuple]]:
        con = connect(target, read_only=True, wait_s=wait_s)
        try:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            return columns, (cursor.fetchall() if columns else [])
        finally:
            con.close()

    # A SQLite catalog is briefly locked while a writer commits: asked again every 50 ms.
    return Retrying(retry=retry_if_exception(is_write_conflict), stop=stop_after_delay(wait_s), wait=wait_fixed(0.05),
                    reraise=True)(attempt)


def process_identity() -> tuple[str, int]:
    """(host, pid) of this process, recorded with its runs: on a shared lake a run marked
    running is only known to be dead when its own host sees its process gone."""
    return os.uname().nodename, os.getpid()

"""The configuration file: one validated `Config`, read once by each command (or each
deployment's flow run) and passed down."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Literal, Union, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, \
    model_validator

DEFAULT_USER_AGENT = (
    "hkai/0.1 (Hong Kong AI news ingestion; polite crawler; honours robots.txt)"
)


class Strict(BaseModel):
    """Base for config sections: an unknown key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(Strict):
    """When sources are polled. `hkai serve` polls each source on its own, adapting its
    interval between the two bounds to how often it changes (tasks/acquire/schedule.py);
    `interval_minutes` is the cycle of the `hkai-ingest` deployment in prefect.yaml."""

    interval_minutes: float = Field(15, gt=0)
    min_interval_s: float = Field(60, gt=0)
    max_interval_s: float = Field(3600, gt=0)

    @model_validator(mode="after")
    def _bounds_in_order(self) -> "Schedule":
        if self.min_interval_s > self.max_interval_s:
            raise ValueError(f"min_interval_s ({self.min_interval_s:g}) is above max_interval_s "
                             f"({self.max_interval_s:g})")
        return self


class Http(Strict):
    timeout_s: float = Field(20, gt=0)
    max_bytes: int = Field(10_000_000, gt=0)
    concurrency: int = Field(16, ge=1, le=512)
    per_host_concurrency: int = Field(2, ge=1, le=64)
    per_host_delay_s: float = Field(1.0, ge=0)
    user_agent: str = DEFAULT_USER_AGENT
    max_redirects: int = Field(5, ge=0, le=20)
    # Discovered links may not point into private networks unless their host is listed.
    allow_private_hosts: list[str] = []


class PolledSource(Strict):
    """What every source has: a name, and optionally a fixed polling interval that
    replaces the adaptive one (a server's Retry-After still wins)."""

    name: str = Field(min_length=1)
    poll_every_s: float | None = Field(None, gt=0)


class FeedSource(PolledSource):
    kind: Literal["feed"]
    url: str = Field(min_length=1)


class SitemapSource(PolledSource):
    kind: Literal["sitemap"]
    url: str = Field(min_length=1)
    max_depth: int = Field(3, ge=0, le=10)


class WarcSource(PolledSource):
    kind: Literal["warc"]
    path: str = Field(min_length=1)


class HkexnewsSource(Strict):
    """The exchange's application lists: twenty JSON files under `url` (README, "Listings
    grounded in the exchange's record")."""

    name: str = Field(min_length=1)
    kind: Literal["hkexnews"]
    url: str = Field(min_length=1)
    boards: list[Literal["sehk", "gem"]] = Field(default=["sehk", "gem"], min_length=1)

    @field_validator("url")
    @classmethod
    def _directory(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL of the lists' directory, got {url!r}")
        return url if url.endswith("/") else url + "/"

    @field_validator("boards")
    @classmethod
    def _distinct(cls, boards: list[str]) -> list[str]:
        return list(dict.fromkeys(boards))


# Every kind of source, by its configuration model; each is read by its module,
# tasks/acquire/<kind>.py (tasks/acquire/kinds.py).
SOURCE_MODELS = (FeedSource, SitemapSource, WarcSource, HkexnewsSource)
SOURCE_KINDS = tuple(get_args(model.model_fields["kind"].annotation)[0] for model in SOURCE_MODELS)
Source = Annotated[Union[SOURCE_MODELS], Field(discriminator="kind")]


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Alerts(Strict):
    # Apprise URLs. They may hold tokens: never log or store them (see tasks/alerts/channels.py).
    # "${NAME}" inside a URL is replaced by the environment variable NAME at start-up, so
    # tokens can stay out of the file.
    urls: list[str] = []

    @field_validator("urls")
    @classmethod
    def _expand_environment(cls, urls: list[str]) -> list[str]:
        def expand(match: re.Match) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ValueError(f"environment variable {name} is not set")
            return os.environ[name]
        return [_ENV_REF.sub(expand, url) for url in urls]


class Listings(Strict):
    # Whose listing events alert: "ai" (issuers the exchange's record or the news show to be
    # AI or AI-adjacent technology), "all", or a list of company names (any of their names
    # in English or Chinese). Events of other companies are stored, not alerted.
    watch: Literal["ai", "all"] | list[str] = "ai"

    @field_validator("watch", mode="before")
    @classmethod
    def _watch(cls, value: object) -> object:
        if isinstance(value, str) and value in ("ai", "all"):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
            return [v.strip() for v in value]
        raise ValueError(f"expected ai, all or a non-empty list of company names, got {value!r}")


class Relevance(Strict):
    threshold: float = Field(0.5, ge=0, le=1)


class Dedup(Strict):
    # Estimated Jaccard similarity of word 5-shingles above which an article is a near
    # duplicate. bench/dedup_eval.py on variants of the seeds: precision and recall 1.0 from
    # 0.2 to 0.4, recall 0.978 at 0.5; different articles on the same topic score <= 0.02.
    near_duplicate_threshold: float = Field(0.4, gt=0, le=1)


class LocalRunner(Strict):
    """Per-page work in a process pool on this machine (tasks/pool.py)."""

    kind: Literal["local"] = "local"
    workers: int | None = Field(None, ge=1, le=64)  # default: the machine's cores, at most 8


class DaskRunner(Strict):
    """Per-page work, and WARC files in a backfill, on a Dask cluster: the scheduler at
    `address`, or a local cluster of `workers` processes started for the run."""

    kind: Literal["dask"]
    address: str | None = Field(None, min_length=1)  # tcp://scheduler:8786
    workers: int | None = Field(None, ge=1, le=256)

    @model_validator(mode="after")
    def _address_or_workers(self) -> "DaskRunner":
        if self.address and self.workers:
            raise ValueError("give either address (a running scheduler) or workers (a local cluster), not both")
        return self


Runner = Annotated[Union[LocalRunner, DaskRunner], Field(discriminator="kind")]

LAKE_CATALOGS = ("postgres:", "sqlite:")


class DuckLakeWarehouse(Strict):
    """A warehouse many writers share: DuckLake's catalog in PostgreSQL (several machines)
    or SQLite (one machine), its data as Parquet files under `data_path`."""

    ducklake: str = Field(min_length=1)  # "postgres:dbname=hkai host=..." or "sqlite:lake.sqlite"
    # Where the Parquet files go (a directory every writer sees, or an object store URL);
    # needed to create a PostgreSQL-catalogued lake, default `<catalog>.files/` for SQLite.
    data_path: str | None = None

    @field_validator("ducklake")
    @classmethod
    def _known_catalog(cls, value: str) -> str:
        if not value.startswith(LAKE_CATALOGS):
            raise ValueError(f"catalog must start with {' or '.join(LAKE_CATALOGS)} (got {value[:30]!r})")
        if value.startswith("sqlite:"):
            # Like every path in the file, taken from the working directory; made absolute
            # so that workers started elsewhere find the same files.
            value = "sqlite:" + str(Path(value.removeprefix("sqlite:")).expanduser().absolute())
        return value

    @field_validator("data_path")
    @classmethod
    def _absolute_directory(cls, value: str | None) -> str | None:
        if value is None or "://" in value:
            return value
        return str(Path(value).expanduser().absolute()) + "/"

    def __str__(self) -> str:
        return f"ducklake:{redact_catalog(self.ducklake)}"


def redact_catalog(catalog: str) -> str:
    """A catalog connection string fit for messages and logs: no password."""
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", catalog, flags=re.IGNORECASE)


def _warehouse_kind(value: object) -> str:
    return "lake" if isinstance(value, (dict, DuckLakeWarehouse)) else "file"


Warehouse = Annotated[Union[Annotated[str, Tag("file")], Annotated[DuckLakeWarehouse, Tag("lake")]],
                      Discriminator(_warehouse_kind)]


def parse_warehouse(value: str | DuckLakeWarehouse) -> Warehouse:
    """The warehouse a command-line flag or HKAI_WAREHOUSE names: a DuckDB file path, or
    `ducklake:<catalog>` for a DuckLake whose catalog already records its data path."""
    if isinstance(value, str) and value.startswith("ducklake:"):
        return DuckLakeWarehouse(ducklake=value.removeprefix("ducklake:"))
    return value


class Config(Strict):
    # A DuckDB file (the default: embedded, no server), or a DuckLake shared by many writers.
    warehouse: Warehouse = "warehouse/hkai.duckdb"
    runner: Runner = LocalRunner()
    schedule: Schedule = Schedule()
    http: Http = Http()
    sources: list[Source] = []
    alerts: Alerts = Alerts()
    listings: Listings = Listings()
    relevance: Relevance = Relevance()
    dedup: Dedup = Dedup()
    # Where raw responses are archived as WARC; unset, `archive/` beside the warehouse file
    # (a relative path, like every path in the file, is taken from the working directory).
    archive_dir: str | None = None


class ConfigError(Exception):
    """A configuration problem, already phrased as one line: file, key, problem."""


# Union members pydantic names in an error's location: tags and class names, not keys
# the user wrote.
def _one_of(kinds: tuple[str, ...]) -> str:
    return ", ".join(kinds[:-1]) + f" or {kinds[-1]}"


_UNION_MEMBERS = {*SOURCE_KINDS, "local", "dask", "file", "lake"}
_KINDS = {"sources": _one_of(SOURCE_KINDS), "runner": "local or dask"}


def _describe(error: dict, data: object) -> str:
    loc = list(error["loc"])
    # Name sources by their configured name rather than by index where possible.
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            name = item.get("name") if isinstance(item, dict) else None
            parts.append(f"[{part}]" + (f"({name})" if name else ""))
            node = item
        elif isinstance(part, str) and part in _UNION_MEMBERS and parts:
            continue  # pydantic's discriminator tag: not a key the user wrote
        else:
            parts.append(("." if parts else "") + str(part))
            node = node.get(part) if isinstance(node, dict) else None
    key = "".join(parts) or "(top level)"
    kind = error["type"]
    expected = _KINDS.get(str(loc[0]) if loc else "", _one_of(SOURCE_KINDS))
    if kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "missing":
        problem = "required key is missing"
    elif kind == "union_tag_invalid":
        problem = (f"unknown kind {error['input'].get('kind')!r} (expected {expected})"
                   if isinstance(error.get("input"), dict) else "unknown kind")
    elif kind == "union_tag_not_found":
        problem = f"missing 'kind' (expected {expected})"
    else:
        problem = error["msg"].removeprefix("Value error, ")
    return f"{key}: {problem}"


def parse_config(data: object, origin: str = "<config>") -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: (top level): expected a mapping of keys, got {type(data).__name__}")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{origin}: {_describe(first, data)}") from None
    names = [s.name for s in config.sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"{origin}: sources: duplicate source name {duplicated[0]!r}")
    return config


# The configuration `hkai` uses when neither --config nor HKAI_CONFIG names one.
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "hkai.yaml"

# The configuration a command has read, for the flows it starts (see config_in_use).
_IN_USE: ContextVar[tuple[Path, Config] | None] = ContextVar("hkai_config_in_use", default=None)


@contextlib.contextmanager
def config_in_use(path: str | Path | None, config: Config) -> Iterator[Config]:
    """While the block runs, the flows a command starts take `config`, read from `path`
    (None: the default), rather than reading the file again. It is not handed to them as
    a parameter: Prefect keeps a flow run's parameters, and alert URLs hold tokens."""
    token = _IN_USE.set((Path(path or DEFAULT_CONFIG), config))
    try:
        yield config
    finally:
        _IN_USE.reset(token)


def config_for(path: str | Path | None) -> Config:
    """A flow's configuration: the one its command read from `path` (None: the default),
    else the file read now (a deployment's run starts from the path alone)."""
    path = Path(path or DEFAULT_CONFIG)
    in_use = _IN_USE.get()
    if in_use is not None and in_use[0] == path:
        return in_use[1]
    return load_config(path)


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file; raise ConfigError with a one-line message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(parse)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {where}: invalid YAML: {problem}") from None
    return parse_config(data, str(path))

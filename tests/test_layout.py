"""The layout keeps the data flowing one way (README, Layout): schemas -> warehouse ->
tasks -> flows, each stage importing only stages before it, the lifecycle pure, and the
flows asking the source-kind interface rather than testing a source's kind."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import PROJECT

PACKAGES = ("schemas", "warehouse", "tasks", "flows")


def imports(path: Path) -> set[str]:
    """Every module a file imports, by its full dotted name (`from a import b` gives a.b and a)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> dict[str, set[str]]:
    return {str(p.relative_to(PROJECT)): imports(p) for p in sorted((PROJECT / folder).rglob("*.py"))}


def offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path, imported in modules(folder).items():
        bad = sorted(m for m in imported if m.split(".")[0] in forbidden or m.startswith(forbidden))
        if bad:
            found[path] = bad
    return found


def test_each_layer_imports_only_the_layers_below_it():
    assert offenders("schemas", ("warehouse", "tasks", "flows")) == {}
    assert offenders("warehouse", ("tasks", "flows")) == {}
    assert offenders("tasks", ("flows",)) == {}


def test_a_stage_takes_nothing_from_a_later_one():
    # acquire -> understand (extract, relevance, entities, seeds) -> listings -> alerts;
    # the vocabulary relevance and listings share (tasks/names.py) sits below both.
    later = ("tasks.listings", "tasks.alerts", "tasks.report")
    assert offenders("tasks/understand", later) == {}
    assert offenders("tasks/acquire", ("tasks.understand", *later)) == {}


def test_the_lifecycle_decides_and_the_warehouse_writes():
    lifecycle = imports(PROJECT / "tasks/listings/lifecycle.py")
    assert not {m for m in lifecycle if m.split(".")[0] in ("duckdb", "warehouse")}


def test_the_flows_ask_the_source_kind_interface_never_the_kind():
    configs = ("FeedSource", "SitemapSource", "WarcSource", "HkexnewsSource")
    for path in sorted((PROJECT / "flows").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not [c for c in configs if c in text], path
        assert not re.search(r"\bsources?\.kind\b|\bs\.kind\b", text), path


def test_the_command_line_takes_nothing_from_the_stages():
    assert not {m for m in imports(PROJECT / "flows/cli.py") if m.startswith("flows.stages")}


def test_tests_and_benchmarks_share_the_testbed_and_import_nothing_of_each_other():
    assert offenders("tests", ("bench",)) == {}
    assert offenders("bench", ("tests",)) == {}
    assert offenders("testbed", ("tests", "bench")) == {}

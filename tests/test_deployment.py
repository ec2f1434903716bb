"""prefect.yaml: every entrypoint imports, its parameters fit the flow, runs never overlap."""

from __future__ import annotations

import importlib
import inspect

import yaml

from schemas.config import load_config
from tests.conftest import PROJECT


def deployments() -> list[dict]:
    return yaml.safe_load((PROJECT / "prefect.yaml").read_text())["deployments"]


def test_entrypoints_import_and_parameters_match_the_flow():
    for deployment in deployments():
        module_path, name = deployment["entrypoint"].split(":")
        module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, name)
        signature = inspect.signature(flow.fn)
        assert set(deployment.get("parameters", {})) <= set(signature.parameters), deployment["name"]


def test_schedules_follow_the_configuration_and_runs_never_overlap():
    by_name = {d["name"]: d for d in deployments()}
    assert set(by_name) == {"hkai-poll", "hkai-ingest", "hkai-backfill"}
    schedule = load_config(PROJECT / "hkai.yaml").schedule
    # The worker's tick is the shortest interval a source may have: a due source waits no longer.
    assert by_name["hkai-poll"]["schedules"][0]["interval"] == schedule.min_interval_s
    assert by_name["hkai-ingest"]["schedules"][0]["interval"] == schedule.interval_minutes * 60
    for name in ("hkai-poll", "hkai-ingest"):
        assert by_name[name]["concurrency_limit"]["limit"] == 1
    assert not by_name["hkai-backfill"].get("schedules")  # started by hand, with its paths


def test_every_cli_command_is_documented_in_the_readme():
    from flows.cli import build_parser

    readme = (PROJECT / "README.md").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices
    for command in commands:
        assert f"hkai {command}" in readme, command

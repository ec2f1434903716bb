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


def test_schedule_and_concurrency_limit():
    (deployment,) = [d for d in deployments() if d["name"] == "hkai-ingest"]
    assert deployment["concurrency_limit"]["limit"] == 1
    interval_s = deployment["schedules"][0]["interval"]
    assert interval_s == load_config(PROJECT / "hkai.yaml").schedule.interval_minutes * 60


def test_every_cli_command_is_documented_in_the_readme():
    from flows.cli import build_parser

    readme = (PROJECT / "README.md").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices
    for command in commands:
        assert f"hkai {command}" in readme, command

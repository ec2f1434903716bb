"""How tests/conftest.py classifies tests (what `make test-fast` leaves out): by the
fixtures they use and the names their code, their fixtures' and their helpers' refer to."""

from __future__ import annotations

from tests.conftest import CLI_NAMES, PREFECT_NAMES, SERVER_NAMES, _names

# Test code to classify, compiled into a namespace of its own: written here as functions,
# its names would make this module's tests look like CLI tests themselves.
EXAMPLES = '''
import subprocess
from tests.conftest import HKAI

def runs_the_cli(config):
    return subprocess.run([*HKAI, "ingest", "--config", config], capture_output=True)

def calls_a_helper_that_runs_the_cli():
    runs_the_cli("hkai.yaml")

def nests_a_call_to_that_helper():
    def inner():
        calls_a_helper_that_runs_the_cli()
    return inner

def starts_a_prefect_server():
    from flows.server import local_server
    with local_server():
        pass

def starts_a_dask_cluster():
    from schemas.config import DaskRunner
    from tasks.runner import open_executor
    with open_executor(DaskRunner(kind="dask", workers=2)):
        pass

def pure():
    return len([1, 2, 3])
'''


def examples() -> dict:
    namespace = {"__name__": "tests.examples_of_test_code"}
    exec(compile(EXAMPLES, "<examples of test code>", "exec"), namespace)
    return namespace


def test_the_cli_is_seen_in_a_function_a_nested_function_and_a_helper_it_calls():
    code = examples()
    for name in ("runs_the_cli", "calls_a_helper_that_runs_the_cli", "nests_a_call_to_that_helper"):
        assert _names(code[name], set()) & CLI_NAMES, name


def test_a_prefect_server_is_seen_and_a_pure_function_is_left_fast():
    code = examples()
    assert _names(code["starts_a_prefect_server"], set()) & PREFECT_NAMES
    assert not _names(code["pure"], set()) & (CLI_NAMES | PREFECT_NAMES | SERVER_NAMES)


def test_a_dask_cluster_is_seen():
    assert _names(examples()["starts_a_dask_cluster"], set()) & SERVER_NAMES


def test_the_collected_end_to_end_tests_are_marked_slow_and_the_unit_tests_not(request):
    for item in request.session.items:
        names = {mark.name for mark in item.iter_markers()}
        if item.nodeid.startswith(("tests/test_cli.py", "tests/test_crash.py", "tests/test_e2e_understanding.py")):
            assert {"cli", "prefect", "slow"} <= names, item.nodeid
        if item.nodeid.startswith(("tests/test_runner.py::test_pages", "tests/test_ducklake.py::test_overlapping")):
            assert {"servers", "slow"} <= names, item.nodeid
        if item.nodeid.startswith(("tests/test_listing_parsers.py", "tests/test_conftest.py")):
            assert not {"cli", "prefect", "servers", "slow"} & names, item.nodeid

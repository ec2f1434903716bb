"""A local Prefect server for `hkai serve` when the user has none configured.

Prefect's ephemeral API (what `hkai ingest` uses with no PREFECT_API_URL) has no UI and
no scheduler, and a service's polls should be followed as they happen. `local_server()`
starts `prefect server start` on a free loopback port, with its database under
PREFECT_HOME, and stops it on exit: `hkai serve` then works on a fresh clone with nothing
to set up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

START_TIMEOUT_S = 120


# Run first in the server's process, then exec the server: the kernel sends it SIGTERM
# when hkai exits however it exits (Linux PR_SET_PDEATHSIG, kept across exec). Without it
# a `hkai serve` stopped by SIGKILL, or by a SIGTERM it had no handler for, left the
# server running on its own (its own session, so no terminal signal reaches it either).
_DIE_WITH_PARENT = """
import ctypes, os, signal, sys
parent = os.getppid()
try:
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass  # not Linux: the server is stopped by local_server's exit only
if os.getppid() != parent:
    sys.exit(0)  # hkai is already gone
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_server(env: dict[str, str] | None = None, ui: bool = False) -> Iterator[str]:
    """Run a Prefect server on 127.0.0.1 for the duration; yields its API URL. With `ui`
    it also serves Prefect's web UI at the same address without `/api`."""
    port = _free_port()
    server_env = {**os.environ, **(env or {}), "PREFECT_UI_ENABLED": "true" if ui else "false",
                  "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server_env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _DIE_WITH_PARENT,
         "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port), "--ui" if ui else "--no-ui"],
        env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_until_healthy(proc, url)
        yield url
    finally:
        _stop_group(proc)


def _wait_until_healthy(proc: subprocess.Popen, url: str) -> None:
    """Ask the server's health endpoint every 0.3 s until it answers 200, for up to
    START_TIMEOUT_S; a server that exits meanwhile is not waited for."""
    # Imported here: every hkai command imports this module for START_TIMEOUT_S (httpx: 0.1 s).
    import httpx
    from tenacity import RetryError, Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"the local Prefect server exited at start (code {proc.returncode})")
        return httpx.get(url + "/health", timeout=1, trust_env=False).status_code == 200

    retrying = Retrying(retry=retry_if_exception_type(httpx.HTTPError) | retry_if_result(lambda ok: not ok),
                        stop=stop_after_delay(START_TIMEOUT_S), wait=wait_fixed(0.3))
    try:
        retrying(healthy)
    except RetryError:
        raise RuntimeError(f"the local Prefect server did not answer within {START_TIMEOUT_S} s") from None


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop the server and any process it started: it has its own session, so its whole
    process group is signalled, SIGTERM first, SIGKILL for what is left after 20 s."""
    for sig, grace_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader, or it lingers in its group as a zombie
            if not _group_alive(proc.pid):
                break
            time.sleep(0.1)
        if not _group_alive(proc.pid):
            break
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True

"""One real Prefect server for a whole `make test`, shared by pytest-xdist's workers.

A server costs several CPU seconds to start (12 migrating an empty database, 5 from the
template below) and keeps its services running while it is up: one per worker was CPU a
short-of-CPU run could not spare.
The first worker that needs the API starts a holder process, which runs
`flows.server.local_server()` (the server `hkai serve` starts) and keeps it up; the other
workers find its address in a state file. The holder does not belong to any one worker (a
worker that finishes early must not take the server with it): the controller stops it
when the session ends, and it stops by itself if the controller is gone.

Run without xdist, pytest's own process plays the controller: the same holder, stopped
at the end of the session.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parents[1]
# A migrated, empty Prefect database (`make test` makes it in the venv): a server started on
# a copy skips migrating, 7 of its 12 CPU s. Without it a server migrates its own.
PREFECT_TEMPLATE = Path(sys.prefix) / "prefect-template" / "prefect.db"

# Started by the first worker; stops its server when the stop file appears or the process
# that ran pytest is gone (however it ended).
_HOLDER = """
import os, sys, time
from flows.server import local_server
stop_file, controller = sys.argv[1], int(sys.argv[2])
with local_server() as url:
    print(url, flush=True)
    while not os.path.exists(stop_file):
        try:
            os.kill(controller, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
"""


class SharedPrefectServer:
    """The state of the session's shared server, in a directory the controller makes and
    hands to every worker."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.state = directory / "server.json"
        self.stop_file = directory / "stop"
        self.home = directory / "prefect-home"

    def api(self, controller_pid: int) -> dict[str, str]:
        """The shared API's settings for a CLI run ({PREFECT_API_URL, PREFECT_HOME}),
        starting the server if no worker has yet. Workers wait on one lock meanwhile."""
        with open(self.directory / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = json.loads(self.state.read_text()) if self.state.exists() else None
            if state is None or not _answers(state["url"]):
                url, pid = self._start_holder(controller_pid)
                state = {"url": url, "holder": pid}
                self.state.write_text(json.dumps(state))
        return {"PREFECT_API_URL": state["url"], "PREFECT_HOME": str(self.home)}

    def _start_holder(self, controller_pid: int) -> tuple[str, int]:
        prefect_home(self.home)
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        with open(self.directory / "holder.log", "ab") as log:
            holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(self.stop_file), str(controller_pid)],
                                      cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
                                      start_new_session=True)
        url = holder.stdout.readline().strip()  # local_server's own timeout bounds the wait
        if not url.startswith("http://"):
            holder.wait()
            raise RuntimeError(f"the shared Prefect server did not start: {(self.directory / 'holder.log').read_text()[-2000:]}")
        return url, holder.pid

    def stop(self, timeout_s: float = 60) -> None:
        """Tell the holder to stop its server and wait until it has (the controller, at the
        end of the session)."""
        if not self.state.exists():
            return
        pid = json.loads(self.state.read_text())["holder"]
        self.stop_file.touch()
        deadline = time.monotonic() + timeout_s
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def prefect_home(home: Path) -> Path:
    """A PREFECT_HOME for a test's Prefect server, with a copy of the migrated template
    database when there is one."""
    home.mkdir(parents=True, exist_ok=True)
    if PREFECT_TEMPLATE.exists() and not (home / "prefect.db").exists():
        shutil.copyfile(PREFECT_TEMPLATE, home / "prefect.db")
    return home


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=5, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _running(pid: int) -> bool:
    """Whether the process is alive (a zombie, awaiting its parent, has stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False

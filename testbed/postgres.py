"""A real PostgreSQL server for the tests' DuckLake catalogs: Debian's `postgresql`
binaries, a fresh cluster in a temporary directory, on a free loopback port, stopped and
removed at the end. The server refuses to run as root, so as root it runs as `postgres`."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def server_binaries() -> Path:
    """The directory holding initdb, pg_ctl and createdb (the newest installed version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """`with PostgresServer() as pg: pg.new_catalog()` -> a DuckLake catalog string."""

    def __init__(self):
        self.bin = server_binaries()
        self.port = _free_port()
        self.home = Path(tempfile.mkdtemp(prefix="hkai-pg-"))
        self.data = self.home / "data"
        self._as_postgres: list[str] = []
        self._databases = 0
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.home, user.pw_uid, user.pw_gid)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self._as_postgres, *command], cwd=self.home, capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stderr.strip() or result.stdout.strip()}")

    def __enter__(self) -> "PostgresServer":
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        # A test server: durability traded for speed (no fsync), loopback only.
        options = (f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.home / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.home, ignore_errors=True)

    def dsn(self, database: str) -> str:
        return f"dbname={database} host=127.0.0.1 port={self.port} user=postgres"

    def new_database(self) -> str:
        """A fresh, empty database; its name."""
        self._databases += 1
        name = f"hkai_{self._databases}"
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
                       check=True, capture_output=True, timeout=60)
        return name

    def new_catalog(self) -> str:
        """A DuckLake catalog in a fresh database: `postgres:dbname=... host=...`."""
        return "postgres:" + self.dsn(self.new_database())

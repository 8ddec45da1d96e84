"""A real, throw-away PostgreSQL server for tests: initdb in a temporary folder, `postgres` listening on
127.0.0.1 (a free port) and on a Unix socket in that folder, stopped by its pid.

PostgreSQL refuses to run as root; under root (a CI container) the cluster is created and run as the
unprivileged `nobody`, in a folder made for it outside pytest's (root-only) temporary tree.
Where no PostgreSQL is installed the tests are skipped, unless DDR_REQUIRE_POSTGRES=1 (.ci/run sets it,
after installing Debian's `postgresql`), where that is a failure.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REQUIRED = os.environ.get("DDR_REQUIRE_POSTGRES") == "1"
SUPERUSER = "ddr"


def find_initdb() -> str | None:
    """initdb on PATH, else the newest under Debian's /usr/lib/postgresql/<version>/bin (not on PATH there)."""
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                                                       reverse=True)), None)
    return str(Path(found).resolve()) if found else None


def missing() -> str | None:
    """Why a PostgreSQL test cannot run here, or None."""
    if find_initdb() is None:
        return "PostgreSQL is not installed (no initdb; apt-get install postgresql)"
    if importlib.util.find_spec("psycopg2") is None:
        return "the psycopg2 driver is not installed (pip install '.[postgres]')"
    return None


def require_postgres() -> None:
    """Skip the calling test with the reason, or fail it where DDR_REQUIRE_POSTGRES=1."""
    why = missing()
    if why and REQUIRED:
        pytest.fail(f"DDR_REQUIRE_POSTGRES=1 but {why}")
    if why:
        pytest.skip(why)


class Postgres:
    """One cluster; `uri(db)` is MLflow's postgresql:// URI for a database in it (trust auth, loopback only)."""

    def __init__(self, port: int):
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="ddr-pg-"))
        self.data, self.socket_dir = self.root / "data", self.root / "socket"
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.as_user = {"user": "nobody", "group": "nogroup"} if os.geteuid() == 0 else {}

    def uri(self, db: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{db}"

    def _run_as(self) -> dict:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        return {**self.as_user, "env": env, "cwd": self.root}

    def start(self, timeout: float = 60.0) -> Postgres:
        bindir = Path(find_initdb()).parent
        self.socket_dir.mkdir()
        self._log = open(self.root / "postgres.log", "wb")
        if self.as_user:
            for p in (self.root, self.socket_dir):
                shutil.chown(p, self.as_user["user"], self.as_user["group"])
        subprocess.run([str(bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                        "--encoding=UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True, timeout=120,
                       **self._run_as())
        self.proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.socket_dir), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off"],
            stdout=subprocess.DEVNULL, stderr=self._log, **self._run_as())
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}: "
                                   f"{(self.root / 'postgres.log').read_text()[-1000:]}")
            try:
                self.execute("postgres", "SELECT 1")
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.2)

    def execute(self, db: str, sql: str) -> None:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=db, connect_timeout=3)
        try:
            con.autocommit = True  # CREATE DATABASE runs outside a transaction
            with con.cursor() as cur:
                cur.execute(sql)
        finally:
            con.close()

    def create_database(self, db: str) -> str:
        self.execute("postgres", f'CREATE DATABASE "{db}"')
        return self.uri(db)

    def stop(self) -> None:
        """Fast shutdown (SIGINT) by pid, then the folder."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)

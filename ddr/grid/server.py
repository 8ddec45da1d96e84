"""One MLflow tracking server in front of the project's SQLite store, so many workers can log at once.

SQLite takes one writer at a time; N processes writing to it directly fail with "database is locked".
Workers instead log over HTTP to one `mlflow server` (one server process, bound to 127.0.0.1), which
serialises the writes; artifacts go to mlartifacts/ beside the store, as with the direct sqlite path.
It binds 127.0.0.1: one machine. A multi-machine cluster needs a tracking server its nodes can reach
(MLFLOW_TRACKING_URI=http://host:port).

A team's store is a PostgreSQL database (postgresql://...): the server is its one front door, and the
artifacts it proxies (mlflow-artifacts:/) go to one local folder, --artifacts-destination (default
./mlartifacts), so workers on any machine upload them over HTTP instead of into their own folders.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ddr.errors import DDRError
from ddr.tracking import ARTIFACTS_DIR, artifact_root, display_uri, is_postgres, sqlite_db, with_driver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """Nothing listens on (host, port). SO_REUSEADDR as the server sets it: a port left in TIME_WAIT by a
    server that just stopped is free, one with a listener is not."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def port_owned_by_group(port: int, pgid: int) -> bool | None:
    """Whether a process of process group `pgid` holds the listening TCP socket on `port`; None where no
    listener on it can be seen (or sockets cannot be listed here)."""
    import psutil

    try:
        listeners = [c for c in psutil.net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port]
    except psutil.Error:
        return None
    if not listeners:
        return None
    for c in listeners:  # pid None: another user's socket, not ours
        try:
            if c.pid and os.getpgid(c.pid) == pgid:
                return True
        except ProcessLookupError:
            continue
    return False


def check_port(port: int) -> int:
    """A TCP port a server can listen on (1-65535). Raises DDRError."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise DDRError(f"--port must be a TCP port in 1-65535, got {port!r}")
    return port


class MlflowServer:
    """`mlflow server` over `store`: a sqlite:/// URI, its artifacts in mlartifacts/ beside it, or a
    postgresql:// URI, its artifacts in `artifacts` (default ./mlartifacts)."""

    def __init__(self, store: str, port: int | None = None, host: str = "127.0.0.1", log: Path | None = None,
                 artifacts: str | Path | None = None):
        if port is not None:
            check_port(port)
        db = sqlite_db(store)
        if db is not None:
            if artifacts is not None:
                raise DDRError("--artifacts-destination is for a postgresql:// store; a sqlite store keeps its "
                               f"artifacts in {ARTIFACTS_DIR}/ beside it")
            self.db: Path | None = db.resolve()
            self.store = f"sqlite:///{self.db}"
            self.artifacts = self.db.parent / ARTIFACTS_DIR
        elif is_postgres(store):
            self.db, self.store = None, with_driver(store)
            self.artifacts = Path(artifacts or ARTIFACTS_DIR).resolve()
        else:
            raise DDRError(f"an MLflow server is started over a sqlite:/// or postgresql:// store, not "
                           f"{display_uri(store)}")
        self.host, self.port = host, port or free_port()
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "mlflow", "server", "-w", "1", "--host", self.host, "--port", str(self.port),
               "--backend-store-uri", self.store, "--artifacts-destination", str(self.artifacts)]
        if self.db is not None:
            # experiments it creates keep their artifacts where `ddr eval lrs` on the sqlite store puts
            # them (file:, beside the store), so the direct and the served paths read each other's runs
            cmd += ["--default-artifact-root", artifact_root(self.store)]
        return cmd  # over PostgreSQL: MLflow's default, mlflow-artifacts:/ (uploaded through the server)

    def start(self, timeout: float = 90.0) -> MlflowServer:
        from ddr.tracking import check_store

        check_store(self.store)  # a damaged or silent store is refused here, not by a server that then exits
        if not port_is_free(self.host, self.port):  # else whichever server holds it would answer /health
            raise DDRError(f"port {self.port} on {self.host} is in use (another server?); pick another --port")
        (self.db.parent if self.db is not None else self.artifacts).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
        env.pop("MLFLOW_TRACKING_URI", None)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        # its own session: Ctrl-C in the terminal reaches the grid driver, which stops the server last; under
        # the guard, which leads that session: the server goes with us even if we are SIGKILLed
        guarded = [sys.executable, "-m", "ddr.grid.guard", str(os.getpid()), "--", *self.command()]
        self.proc = subprocess.Popen(guarded, env=env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text()[-600:] if self.log and self.log.is_file() else ""
                raise DDRError(f"mlflow server exited with status {self.proc.returncode} "
                               f"(port {self.port} in use?){': ' + tail.strip() if tail else ''}")
            if self.healthy():
                owner = port_owned_by_group(self.port, self.proc.pid)
                if owner is False:  # a server that took the port after the check above answered, not ours
                    self.stop()
                    raise DDRError(f"port {self.port} is held by another process, not the mlflow server ddr "
                                   "started; pick another --port")
                return self
            time.sleep(0.3)
        self.stop()
        raise DDRError(f"mlflow server on {self.uri} not healthy after {timeout:.0f}s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and the processes it started (its own process group, by id)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> MlflowServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

"""A Ray cluster for `ddr eval grid --executor ray`: start and stop its nodes, and check a driver can join.

Loopback: Ray rewrites a node or cluster address of 127.0.0.1 to the host's outward IP (so that other
machines could reach it); a head told `--node-ip-address 127.0.0.1` then advertises an address its own
driver cannot join, and `ray.init` waits forever on "Failed to connect to GCS". Every Ray process ddr
starts (`ddr ray start`, the join probe, the grid driver) keeps a loopback address as given instead
(`keep_loopback`); an outward address (a multi-machine cluster) is passed to Ray unchanged.

Joining: a driver first checks that something listens at HOST:PORT (seconds), then joins in a child
process bounded by JOIN_TIMEOUT_S, so an unreachable or misconfigured cluster is one line and exit 2,
never a driver that hangs (and ignores SIGTERM) inside Ray's connect loop.

`python -m ddr.grid.ray_cluster start ...` is Ray's own `ray start` with loopback kept; `... probe ADDRESS`
joins ADDRESS once and leaves.
"""
from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ddr.errors import DDRError

LOOPBACK_NAMES = ("localhost",)
REACH_TIMEOUT_S = 3.0
JOIN_TIMEOUT_S = 20.0
STATE_DIR = Path(".ddr") / "ray"  # the nodes `ddr ray start` started from this folder: {pid, created, address}


def parse_address(address: str) -> tuple[str, int]:
    """HOST:PORT of a Ray cluster (its GCS port); DDRError on anything else."""
    host, sep, port = str(address).rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise DDRError(f"Ray address must be HOST:PORT with a port in 1-65535 (or 'auto'), got {address!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def keep_loopback() -> None:
    """Make Ray keep 127.0.0.1 as given in this process (see the module's note). Ray offers no switch for
    it (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 does it too, but a second node's `ray start` then refuses), so
    its one resolver is replaced; an outward address passes through it unchanged either way."""
    from ray._private import services

    resolve = services.resolve_ip_for_localhost
    if getattr(resolve, "ddr_keeps_loopback", False):
        return

    def keep(host: str) -> str:
        return host if host and is_loopback(host) else resolve(host)

    keep.ddr_keeps_loopback = True  # type: ignore[attr-defined]
    services.resolve_ip_for_localhost = keep


def check_reachable(address: str, timeout: float = REACH_TIMEOUT_S) -> tuple[str, int]:
    """Something accepts TCP connections at the cluster's HOST:PORT, within `timeout` seconds."""
    host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise DDRError(f"no Ray cluster answers at {host}:{port} ({why}); start one with `ddr ray start --head` "
                       "(docs/grid.md) or check --address") from None
    return host, port


def check_joinable(address: str, timeout: float = JOIN_TIMEOUT_S) -> None:
    """A driver can join the cluster at `address` (HOST:PORT, or 'auto': the one `ray start` last started
    on this machine): reachable, then joined once by a child process that is killed (by its process group)
    if it has not joined within `timeout` seconds."""
    if address != "auto":
        check_reachable(address)
    cmd = [sys.executable, "-m", "ddr.grid.ray_cluster", "probe", address]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise DDRError(f"the Ray cluster at {address} answers but could not be joined within {timeout:.0f}s "
                       "(does its head advertise an address this machine reaches? see docs/grid.md)") from None
    finally:
        if proc.poll() is None:
            _kill_group(proc.pid)
            proc.wait()
    if proc.returncode != 0:
        last = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()][-1:] or ["no output"]
        raise DDRError(f"cannot join the Ray cluster at {address}: {last[0][:300]}")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def join_options(address: str) -> dict:
    """ray.init's options for a driver joining `address` from this machine; on a loopback cluster the
    driver's node is 127.0.0.1 as well (kept so, see keep_loopback)."""
    if address == "auto":
        return {"address": address}
    host, _ = parse_address(address)
    if not is_loopback(host):
        return {"address": address}
    keep_loopback()
    return {"address": address, "_node_ip_address": host}


def _probe(address: str) -> int:
    import ray

    ray.init(log_to_driver=False, configure_logging=False, **join_options(address))
    ray.shutdown()
    return 0


# ---- nodes started by `ddr ray start` (detached; `ddr ray stop` ends them by their process group) ----

def node_command(args: list[str]) -> list[str]:
    """`ray start ARGS --block` with loopback kept, as a command line."""
    return [sys.executable, "-m", "ddr.grid.ray_cluster", "start", *args, "--block"]


def start_node(args: list[str], address: str, role: str, wait_s: float = 120.0) -> tuple[int, Path]:
    """Start one node detached (its own session, output to STATE_DIR/<role>.log), wait until it runs,
    record its process id with the cluster's `address`. Returns (process group id, log)."""
    log = STATE_DIR / f"{role}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": os.environ.get("RAY_USAGE_STATS_ENABLED", "0")}
    seen = log.stat().st_size if log.exists() else 0  # an earlier node's lines in the same log do not count
    with open(log, "ab") as out:
        proc = subprocess.Popen(node_command(args), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        text = log.read_bytes()[seen:].decode(errors="replace")
        if proc.poll() is not None:
            tail = [ln for ln in text.splitlines() if ln.strip()][-3:]
            raise DDRError(f"ray start exited with status {proc.returncode}: {' | '.join(tail)[-400:]} (log: {log})")
        if "Ray runtime started" in text:
            _record(proc.pid, address)
            return proc.pid, log
        time.sleep(0.5)
    _kill_group(proc.pid)
    proc.wait()
    raise DDRError(f"the Ray node did not start within {wait_s:.0f}s (log: {log})")


def _state_file() -> Path:
    return STATE_DIR / "nodes.json"


def recorded_nodes() -> list[dict]:
    """The nodes `ddr ray start` recorded here, each {pid, created, address}; malformed entries are dropped."""
    try:
        nodes = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(nodes, list):
        return []
    return [n for n in nodes if isinstance(n, dict) and isinstance(n.get("pid"), int) and not isinstance(n["pid"], bool)
            and n["pid"] > 1 and isinstance(n.get("created"), (int, float))]


def _record(pid: int, address: str) -> None:
    import psutil

    nodes = recorded_nodes() + [{"pid": pid, "created": psutil.Process(pid).create_time(), "address": address}]
    _state_file().parent.mkdir(parents=True, exist_ok=True)
    tmp = _state_file().with_suffix(".tmp")
    tmp.write_text(json.dumps(nodes, indent=1))
    tmp.replace(_state_file())


def _still_ours(node: dict) -> bool:
    """The recorded process still runs and is the one started (same start time): a pid reused since (a stale
    file, a reboot) is never signalled."""
    import psutil

    try:
        return psutil.Process(node["pid"]).create_time() == node["created"]
    except psutil.Error:
        return False


def stop_nodes(grace_s: float = 15.0) -> int:
    """Stop every node `ddr ray start` recorded here that still runs: SIGTERM to its process group, then
    SIGKILL. Returns how many were recorded."""
    nodes = recorded_nodes()
    live = []
    for n in filter(_still_ours, nodes):
        try:
            os.killpg(n["pid"], signal.SIGTERM)
            live.append(n["pid"])
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace_s
    while live and time.monotonic() < deadline:
        live = [p for p in live if _group_alive(p)]
        time.sleep(0.2)
    for p in live:
        _kill_group(p)
    _state_file().unlink(missing_ok=True)
    return len(nodes)


def _group_alive(pgid: int) -> bool:
    """A process of group `pgid` runs (a zombie, exited but not yet reaped, does not count)."""
    import psutil

    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except OSError:
            continue
    return False


def main(argv: list[str]) -> int:
    if argv[:1] == ["probe"] and len(argv) == 2:
        return _probe(argv[1])
    if argv[:1] == ["start"]:
        keep_loopback()
        from ray.scripts.scripts import main as ray_main

        sys.argv = ["ray", *argv]
        return ray_main()
    print("usage: python -m ddr.grid.ray_cluster start RAY-START-ARGS... | probe HOST:PORT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

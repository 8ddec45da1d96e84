"""`ddr ray start|stop`: a Ray cluster for `ddr eval grid --executor ray`, on loopback by default."""
from __future__ import annotations

from pathlib import Path

import click

from ddr.errors import DDRError


@click.group("ray")
def ray_group() -> None:
    """Start and stop a Ray cluster for `ddr eval grid --executor ray` (pip install .[ray]).

    \b
    One machine (every Ray socket on 127.0.0.1):
      ddr ray start --head --port 6379
      ddr eval grid grid.yaml --executor ray --address 127.0.0.1:6379
      ddr ray stop
    Several machines: see docs/grid.md.
    """


@ray_group.command("start")
@click.option("--head", is_flag=True, help="Start the cluster's head node (else --address: join one).")
@click.option("--address", default=None, help="A worker node: the head's HOST:PORT to join.")
@click.option("--port", default=6379, show_default=True, type=click.IntRange(1, 65535),
              help="Head: the port drivers and nodes join (Ray's GCS).")
@click.option("--node-ip-address", default="127.0.0.1", show_default=True,
              help="The address this node advertises; an address the other machines reach for a multi-machine "
              "cluster.")
@click.option("--num-cpus", default=None, type=click.IntRange(0), help="CPUs this node offers (default: all).")
@click.option("--num-gpus", default=None, type=click.IntRange(0), help="GPUs this node offers (default: all).")
@click.option("--temp-dir", default=None, type=click.Path(file_okay=False),
              help="Head: Ray's session folder (default Ray's /tmp/ray; keep it short, Ray's socket paths "
              "must fit 107 characters).")
@click.option("--block", is_flag=True, help="Run in the foreground until stopped (else detached; `ddr ray stop` "
              "ends it).")
def ray_start(head: bool, address: str | None, port: int, node_ip_address: str, num_cpus: int | None,
              num_gpus: int | None, temp_dir: str | None, block: bool) -> None:
    """Start a Ray node: the head (--head) or a worker joining one (--address HEAD:PORT).

    Prints the cluster's address (HOST:PORT) on stdout, for `ddr eval grid --executor ray --address`.
    A loopback node stays on 127.0.0.1 (Ray would otherwise advertise the host's outward address, which
    its own drivers then cannot join).

    \b
    Example:
      ddr ray start --head --port 6379                 # a one-machine cluster on 127.0.0.1
      ddr ray start --address 127.0.0.1:6379 --num-cpus 2   # a second node on the same machine
      ddr ray start --head --node-ip-address 10.0.0.5  # the head of a multi-machine cluster
      ddr ray start --address 10.0.0.5:6379 --node-ip-address 10.0.0.6   # on another machine
    """
    from ddr.grid import ray_cluster

    try:
        import ray  # noqa: F401
    except ImportError:
        raise DDRError("ddr ray needs Ray; install the ray extra: pip install .[ray]") from None
    if head == bool(address):
        raise DDRError("give exactly one of --head (start a cluster) or --address HEAD:PORT (join one)")
    if not node_ip_address or not all(c.isalnum() or c in ".:-" for c in node_ip_address):
        raise DDRError(f"--node-ip-address must be a host name or IP address, got {node_ip_address!r}")
    args = ["--node-ip-address", node_ip_address, "--disable-usage-stats"]
    args += [f"--num-cpus={num_cpus}"] if num_cpus is not None else []
    args += [f"--num-gpus={num_gpus}"] if num_gpus is not None else []
    if head:
        from ddr.grid.server import port_is_free

        if not port_is_free(node_ip_address if ray_cluster.is_loopback(node_ip_address) else "0.0.0.0", port):
            raise DDRError(f"port {port} is in use (another Ray head?); pick another --port")
        if temp_dir is not None and len(str(Path(temp_dir).resolve())) > 60:
            raise DDRError(f"--temp-dir {temp_dir} is too long for Ray's socket paths (60 characters at most)")
        args = ["--head", "--port", str(port), "--include-dashboard=false", *args]
        args += ["--temp-dir", str(Path(temp_dir).resolve())] if temp_dir else []
        joined = f"{node_ip_address}:{port}"
    else:
        if temp_dir is not None:
            raise DDRError("--temp-dir is the head's (worker nodes use the head's)")
        host, _ = ray_cluster.check_reachable(address)
        if ray_cluster.is_loopback(node_ip_address) != ray_cluster.is_loopback(host):
            raise DDRError(f"a node on {node_ip_address} cannot join a cluster at {address}: give "
                           "--node-ip-address an address the head reaches (or start the head on 127.0.0.1)")
        args = ["--address", address, *args]
        joined = address
    if block:
        import os
        import sys

        click.echo(f"Ray {'head' if head else 'node'} for {joined}; Ctrl-C stops it", err=True)
        click.echo(joined)
        os.execv(sys.executable, ray_cluster.node_command(args))
    pid, log = ray_cluster.start_node(args, joined, f"head-{port}" if head else "node")
    click.echo(f"Ray {'head' if head else 'node'} started (process group {pid}, log {log}); "
               f"ddr eval grid SPEC --executor ray --address {joined}; `ddr ray stop` ends it", err=True)
    click.echo(joined)


@ray_group.command("stop")
def ray_stop() -> None:
    """Stop the Ray nodes `ddr ray start` started from this folder (by their process ids).

    \b
    Example:
      ddr ray stop
    """
    from ddr.grid.ray_cluster import stop_nodes

    n = stop_nodes()
    click.echo(f"stopped {n} Ray node(s)" if n else "no Ray node started from this folder", err=True)

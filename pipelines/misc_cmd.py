"""`ddr protocols ...` and `ddr ui`."""
from __future__ import annotations

import os
import sys

import click
import yaml

from ddr.protocols import list_protocols, load_protocol, protocol_summary, raw_protocol
from ddr.tracking import resolve_tracking_uri
from pipelines.common_options import TRACKING_URI_OPT, complete_protocol
from pipelines.json_output import emit, json_option


@click.group()
def protocols() -> None:
    """Shipped evaluation protocols (versioned YAML)."""


@protocols.command("ls")
@json_option("the protocols (name, version, dataset, model, label, description)")
def protocols_ls(as_json: bool) -> None:
    """List shipped protocols with their version and description.

    \b
    Example:
      ddr protocols ls
    """
    rows = [(name, protocol_summary(name)) for name in list_protocols()]
    wn = max(len(n) for n, _ in rows) + 2
    wd = max(len(p["dataset"]) for _, p in rows) + 2
    wm = max(len(p["model"]) for _, p in rows) + 2
    text = "\n".join(f"{name:<{wn}}v{p['version']:<3} {p['dataset']:<{wd}}{p['model']:<{wm}}{p['label']:<5} "
                     f"{p['description']}" for name, p in rows)
    emit([dict(p, name=name) for name, p in rows], text, as_json)


@protocols.command("show")
@click.argument("name", shell_complete=complete_protocol)
@json_option("the protocol (its YAML, includes merged)")
def protocols_show(name: str, as_json: bool) -> None:
    """Print a protocol as YAML (a shipped name or a path).

    \b
    Example:
      ddr protocols show digits-lrs-hard
    """
    raw = raw_protocol(name)
    emit(raw, yaml.safe_dump(raw, sort_keys=False).rstrip(), as_json)


@protocols.command("validate")
@click.argument("file")
@json_option("the check (file, ok, name, version, sha256)")
def protocols_validate(file: str, as_json: bool) -> None:
    """Check a protocol file (or shipped name) against the protocol schema, as `ddr eval` does before it
    trains: its include chain merged, every field's type and range, the rules between fields, augmentations
    and losses (docs/schemas/protocol.schema.json). Exit 0 with one OK line; exit 2 with one line naming the
    first field at fault.

    \b
    Example:
      ddr protocols validate my-protocol.yaml
    """
    p = load_protocol(file)
    emit({"file": file, "ok": True, "name": p.name, "version": p.version, "sha256": p.sha256},
         f"OK: {file} is protocol {p.ref} (sha256 {p.sha256[:16]})", as_json)


from pipelines.protocols_import_cmd import protocols_import  # noqa: E402  (its own module: heavy imports lazy)
protocols.add_command(protocols_import)


def evaluation_links(uri: str, base: str) -> list[tuple[str, str]]:
    """(experiment, link to its evaluations-only runs table) for every ddr evaluation experiment."""
    from mlflow import MlflowClient

    from ddr.mlflow_notes import EVALUATIONS_FILTER, runs_link

    exps = MlflowClient(uri).search_experiments(filter_string="tags.`mlflow.experimentKind` = 'custom_model_development'")
    return [(e.name, base + runs_link(e.experiment_id, EVALUATIONS_FILTER)) for e in exps if e.name != "releases"]


@click.command()
@click.option("--port", default=5000, show_default=True, type=int)
@TRACKING_URI_OPT
def ui(port: int, tracking_uri: str | None) -> None:
    """Start the MLflow UI on 127.0.0.1 over the project's tracking store.

    \b
    Example:
      ddr ui --port 5000     # then open http://127.0.0.1:5000
    """
    from ddr.grid.server import check_port
    from ddr.tracking import check_store

    check_port(port)
    uri = resolve_tracking_uri(tracking_uri)
    check_store(uri)
    click.echo(f"MLflow UI on http://127.0.0.1:{port} over {uri}", err=True)
    for name, link in evaluation_links(uri, f"http://127.0.0.1:{port}/"):
        click.echo(f"  {name}, evaluations only (their trainings are child runs): {link}", err=True)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    os.execve(sys.executable, [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
                               "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "1"], env)  # one person's browser: one worker (MLflow starts 4)

"""`ddr protocols import FILE.yaml --name NAME`: a DD-Ranking config as a named, versioned ddr protocol."""
from __future__ import annotations

from pathlib import Path

import click

from pipelines.json_output import emit, json_option


@click.command("import")
@click.argument("config_file", metavar="FILE.yaml", type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="The protocol's name (a plain name; not a shipped protocol's).")
@click.option("--version", "version", default=1, show_default=True, type=int,
              help="The protocol's version (bump it when you change the file in a way that can move a number).")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write NAME.yaml into (created if missing).")
@click.option("--force", is_flag=True, help="Replace an existing NAME.yaml.")
@json_option("the protocol, what became of each config key and the notes")
def protocols_import(config_file: str, name: str, version: int, out_dir: str, force: bool, as_json: bool) -> None:
    """Translate a DD-Ranking config (its eval-branch `<Method>/<Dataset>/IPC<k>.yaml` format) into a ddr
    protocol and write it to OUT/NAME.yaml. Every key is mapped, recorded (run inputs, keys DD-Ranking
    ignores) or refused by name; nothing is written unless the whole protocol loads. The file states ddr's
    corrected recipe (the `ddr` edition); `--edition ddranking-0.2` evaluates what DD-Ranking 0.2.0 computed.

    \b
    Example:
      ddr protocols import DSA/CIFAR10/IPC10.yaml --name my-dsa-cifar10 --out protocols/
      ddr eval lrs --protocol protocols/my-dsa-cifar10.yaml --edition ddranking-0.2 ...
    """
    import yaml

    from ddr.checks import check_name, confined
    from ddr.compat.ddranking_config import import_config
    from ddr.errors import DDRError
    from ddr.kernel.atomic import write_text_atomic
    from ddr.protocols import list_protocols, load_protocol, parse_protocol

    check_name(name, "protocol name", taken=list_protocols())  # a shipped name would share its seeds and caches
    imported = import_config(config_file, name=name, version=version, source=config_file)
    parse_protocol(imported.protocol, f"{name} (imported)")  # every field checked before anything is written
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DDRError(f"--out {out_dir}: not a folder")
    target = confined(out, f"{name}.yaml", what="protocol name")
    if target.exists() and not force:
        raise DDRError(f"{target} exists; pass --force to replace it")
    text = _render(imported, config_file)
    if yaml.safe_load(text) != imported.protocol:  # the file must say exactly what was checked
        raise DDRError("internal: the protocol does not survive YAML; nothing written")
    write_text_atomic(target, text)
    proto = load_protocol(str(target))
    lines = [f"wrote {target} ({proto.ref}, {proto.dataset}, {proto.model}, {proto.label} labels)"]
    lines += [f"  {k}: {v}" for k, v in imported.keys.items()]
    lines += [f"  note: {n}" for n in imported.notes]
    emit({"path": str(target), "name": proto.name, "version": proto.version, "sha256": proto.sha256,
          "protocol": imported.protocol, "keys": imported.keys, "notes": imported.notes}, "\n".join(lines), as_json)


def _render(imported, source: str) -> str:
    """The protocol YAML, headed by what became of each key of the DD-Ranking config."""
    import yaml

    head = [f"# Imported from the DD-Ranking config {source} by `ddr protocols import`.",
            "# What became of each of its keys:"]
    head += [f"#   {k}: {v}" for k, v in imported.keys.items()]
    body = yaml.safe_dump(imported.protocol, sort_keys=False, default_flow_style=None, width=120)
    return "\n".join(head) + "\n" + body

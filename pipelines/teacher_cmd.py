"""`ddr teacher train`: a teacher checkpoint and its meta (recipe, seed, test accuracy)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from ddr.errors import DDRError
from pipelines.common_options import dataset_option, device_option, model_option, protocol_option


@click.group()
def teacher() -> None:
    """Teachers for soft-label evaluations."""


@teacher.command("train")
@dataset_option("Real data set to train on.", required=True)
@protocol_option("Take the teacher recipe from this protocol (default <dataset>-lrs-soft).")
@click.option("--index", default=0, show_default=True, type=int, help="Which of the protocol's teachers.")
@model_option("Override the teacher's model name.")
@click.option("--out", required=True, type=click.Path(), help="Folder for ckpt.pt and meta.json.")
@click.option("--root", default=None, help="Local folder or file of the real data set.")
@device_option()
def train_cmd(dataset: str, protocol: str | None, index: int, model: str | None, out: str, root: str | None,
              device: str) -> None:
    """Train a teacher on the real training split with a protocol's teacher recipe (seeded, recorded).

    \b
    Example:
      ddr teacher train --dataset digits --out teachers/digits-convnet2
      ddr eval lrs --label soft --teacher teachers/digits-convnet2 --distilled ... --dataset digits --ipc 10
    """
    from ddr.data import load_dataset
    from ddr.eval.teacher_store import make_teacher, write_teacher
    from ddr.models import build_model
    from ddr.protocols import default_protocol, load_protocol
    from ddr.train.engine import resolve_device

    proto = load_protocol(protocol or default_protocol(dataset, "lrs", "soft"))
    if proto.soft is None:
        raise DDRError(f"protocol {proto.name} has no teachers (hard labels)")
    if not 0 <= index < len(proto.soft.teachers):
        raise DDRError(f"protocol {proto.name} has {len(proto.soft.teachers)} teacher(s); --index {index} is out of range")
    spec = proto.soft.teachers[index]
    if model:
        spec = dataclasses.replace(spec, model=model)
    data = load_dataset(dataset, root)
    build_model(spec.model, data.channels, data.num_classes, data.im_size, **spec.model_args)  # refuse early
    if Path(out).exists():
        raise DDRError(f"{out} exists; choose another --out")
    net, meta = make_teacher(data, spec, index, resolve_device(device))
    write_teacher(Path(out), net, {**meta, "protocol": proto.ref})
    click.echo(f"teacher {spec.model} on {dataset}: test accuracy {meta['test_acc']:.4f}, seed {meta['seed']} -> {out}")

"""`ddr data ...`: real data, random baselines."""
from __future__ import annotations

import click

from ddr.data import load_dataset, random_baseline, write_distilled


@click.group()
def data() -> None:
    """Real data sets, random baselines and distilled sets."""


@data.command("random")
@click.option("--dataset", required=True, help="Data set name (digits, cifar10, cifar100, npz).")
@click.option("--ipc", required=True, type=int, help="Images per class.")
@click.option("--seed", required=True, type=int, help="Seed of the draw (round r of an evaluation uses seed_base + r).")
@click.option("--out", required=True, type=click.Path(), help="Folder to write.")
@click.option("--root", default=None, help="Local folder or file of the data set (not needed for digits).")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
def random_cmd(dataset: str, ipc: int, seed: int, out: str, root: str | None, force: bool) -> None:
    """Write a random baseline: IPC real training images per class, a pure function of (data set, ipc, seed).

    \b
    Example:
      ddr data random --dataset digits --ipc 10 --seed 0 --out data/random/digits-ipc10-seed0
    """
    real = load_dataset(dataset, root)
    ds = random_baseline(real, ipc, seed)
    write_distilled(out, ds, overwrite=force)
    click.echo(f"wrote {out}: {len(ds.images)} images ({ipc} per class), seed {seed}")

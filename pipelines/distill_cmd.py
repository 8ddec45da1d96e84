"""`ddr distill METHOD ...`: run a reference distiller and write its distilled-set folder."""
from __future__ import annotations

import time

import click
import yaml

from ddr.errors import DDRError
from pipelines.common_options import dataset_option, device_option


def parse_params(pairs: tuple[str, ...]) -> dict:
    """`key=value` pairs; values are read as YAML scalars (200 -> int, 0.1 -> float, true -> bool)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DDRError(f"--param expects key=value, got '{pair}'")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        if isinstance(parsed, (list, dict)):
            raise DDRError(f"--param {key}: expected a single value, got '{value}'")
        out[key.strip()] = parsed
    return out


@click.command("distill")
@click.argument("method", type=str)
@dataset_option("Data set name (digits, cifar10, cifar100, npz).", required=True)
@click.option("--ipc", required=True, type=int, help="Images per class.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every random draw of the method.")
@click.option("--out", required=True, type=click.Path(), help="Folder to write.")
@click.option("--root", default=None, help="Local folder or file of the data set (not needed for digits).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A method parameter, repeatable (e.g. iterations=500, feature_space=pixels, dsa=true).")
@device_option("cpu")  # bit-identical repeats on cpu
@click.option("--force", is_flag=True, help="Replace an existing folder.")
def distill_cmd(method: str, dataset: str, ipc: int, seed: int, out: str, root: str | None,
                params: tuple[str, ...], device: str, force: bool) -> None:
    """Distil a data set with a reference method: random, herding, kcenter, dm or dc.

    Writes images.pt (class-major, normalised pixels), labels.pt (hard labels), meta.json (method, data set,
    ipc, seed, every parameter) and, for selections, indices.json.

    \b
    Examples:
      ddr distill dm --dataset digits --ipc 10 --seed 0 --out data/distilled/dm-digits-ipc10
      ddr distill herding --dataset digits --ipc 1 --out data/herding-ipc1 --param feature_space=pixels
    """
    from ddr.data import load_dataset, validate, write_distilled
    from ddr.distill import DISTILLERS, distill

    DISTILLERS.get(method)  # an unknown method is refused (with a suggestion) before the data set is loaded
    kwargs = parse_params(params)
    real = load_dataset(dataset, root)
    start = time.perf_counter()
    ds = distill(method, real, ipc, seed=seed, device=device, **kwargs)
    seconds = time.perf_counter() - start
    validate(ds, real, ipc)
    write_distilled(out, ds, overwrite=force)
    click.echo(f"wrote {out}: {method}, {len(ds.images)} images ({ipc} per class), seed {seed}, {seconds:.1f}s")

"""`ddr data ...`: real data, random baselines."""
from __future__ import annotations

import click

from ddr.errors import DDRError
from pipelines.common_options import dataset_option
from pipelines.json_output import emit, json_option


@click.group()
def data() -> None:
    """Real data sets, random baselines and distilled sets."""


@data.command("random")
@dataset_option("Data set name (digits, cifar10, cifar100, npz, ...).", required=True)
@click.option("--ipc", required=True, type=int, help="Images per class.")
@click.option("--seed", required=True, type=int, help="Seed of the draw (round r of an evaluation uses seed_base + r).")
@click.option("--count", default=1, show_default=True, type=int,
              help="Draw seeds SEED .. SEED+COUNT-1 (the baselines of COUNT rounds); OUT then holds seed<S>/ folders.")
@click.option("--out", required=True, type=click.Path(), help="Folder to write.")
@click.option("--root", default=None, help="Local folder or file of the data set (not needed for digits).")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
def random_cmd(dataset: str, ipc: int, seed: int, count: int, out: str, root: str | None, force: bool) -> None:
    """Write random baselines: IPC real training images per class, a pure function of (data set, ipc, seed).
    Of an image-folder data set (TinyImageNet, ImageNet, ...) also files.json: the original files (path,
    sha256, label) the random side's per-image transforms read; an evaluation refuses a changed original.

    \b
    Examples:
      ddr data random --dataset digits --ipc 10 --seed 0 --out data/random/digits-ipc10-seed0
      ddr data random --dataset digits --ipc 10 --seed 0 --count 5 --out data/random/digits-ipc10
    """
    from pathlib import Path

    from ddr.data import load_dataset, random_baseline, write_distilled

    if count < 1:
        raise DDRError(f"--count must be at least 1, got {count}")
    if ipc < 1:
        raise DDRError(f"--ipc must be at least 1, got {ipc}")
    if seed < 0:
        raise DDRError(f"--seed must be at least 0, got {seed}")
    real = load_dataset(dataset, root)
    seeds = range(seed, seed + count)
    targets = [(seed, Path(out))] if count == 1 else [(s, Path(out) / f"seed{s}") for s in seeds]
    for seed, folder in targets:
        ds = random_baseline(real, ipc, seed)  # of an image-folder set: also its original files (files.json)
        write_distilled(folder, ds, overwrite=force)
        originals = f", {len(ds.files)} original files listed" if ds.files is not None else ""
        click.echo(f"wrote {folder}: {len(ds.images)} images ({ipc} per class), seed {seed}{originals}")


@data.command("real")
@dataset_option("Data set name.", required=True)
@click.option("--out", required=True, type=click.Path(), help="Folder for the manifest.")
@click.option("--root", default=None, help="Local folder or file of the data set (not needed for digits).")
def real_cmd(dataset: str, out: str, root: str | None) -> None:
    """Write the real data set's manifest (sizes, normalisation, sha256 of the exact tensors): the pipeline's
    first output, so a change of data reruns everything after it.

    \b
    Example:
      ddr data real --dataset digits --out data/real/digits
    """
    import json
    from pathlib import Path

    from ddr.data import load_dataset

    real = load_dataset(dataset, root)
    manifest = {"dataset": real.name, "source": real.source, "num_classes": real.num_classes,
                "train": len(real.x_train), "test": len(real.x_test), "image_shape": list(real.x_train.shape[1:]),
                "mean": list(real.mean), "std": list(real.std), "sha256": real.digest}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    click.echo(f"{real.name}: {manifest['train']} train / {manifest['test']} test images, sha256 {real.digest[:16]}")


@data.command("add")
@click.argument("path", type=click.Path())
@click.option("--method", required=True, help="Distillation method name.")
@dataset_option("Real data set the set was distilled from.", required=True)
@click.option("--ipc", required=True, type=int, help="Images per class.")
@click.option("--root", default=None, help="Local folder or file of the data set (not needed for digits).")
@click.option("--source", default=None, help="Where the set comes from (paper, repository, commit).")
@click.option("--licence", default=None, help="The set's licence.")
def add_cmd(path: str, method: str, dataset: str, ipc: int, root: str | None, source: str | None,
            licence: str | None) -> None:
    """Validate a distilled set, write its meta.json and version it with `dvc add`.

    \b
    Example:
      ddr data add data/distilled/mtt-ipc10 --method mtt --dataset digits --ipc 10
      git add data/distilled/mtt-ipc10.dvc data/distilled/.gitignore && dvc push
    """
    from pipelines.versioning import add_distilled

    meta = add_distilled(path, method=method, dataset=dataset, ipc=ipc, root=root, source=source, licence=licence)
    click.echo(f"added {meta['path']} ({meta['method']}, {meta['dataset']}, ipc {meta['ipc']}), md5 {meta['md5']}")


@data.command("ls")
@click.option("--repo", default=".", type=click.Path(), help="Project root.")
@json_option("the versioned sets (path, method, dataset, ipc, how, md5)")
def ls_cmd(repo: str, as_json: bool) -> None:
    """List the distilled sets DVC versions here, with their DVC md5.

    \b
    Example:
      ddr data ls
    """
    from pipelines.versioning import list_versioned

    rows = list_versioned(repo)
    if not rows:
        emit([], "no versioned distilled sets", as_json)
        return
    width = max(len(r["path"]) for r in rows) + 2
    lines = [f"{'path':<{width}}{'method':<18}{'dataset':<10}{'ipc':>4}  {'how':<9}md5"]
    lines += [f"{r['path']:<{width}}{str(r['method']):<18}{str(r['dataset']):<10}{str(r['ipc']):>4}  "
              f"{r['how']:<9}{r['md5']}" for r in rows]
    emit(rows, "\n".join(lines), as_json)

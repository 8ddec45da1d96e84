"""`ddr submit`: a distilled set into the pipeline, so `dvc repro` evaluates and ranks it."""
from __future__ import annotations

import click

from pipelines.common_options import dataset_option
from pipelines.json_output import emit, json_option


@click.command("submit")
@click.argument("path", type=click.Path())
@click.option("--method", required=True, help="Method name (as it will appear in the ranking).")
@dataset_option("Real data set the set was distilled from (the pipeline's).", required=True)
@click.option("--ipc", required=True, type=int, help="Images per class (one of the pipeline's data.ipcs).")
@click.option("--label", "labels", multiple=True, type=click.Choice(["hard", "soft"]),
              help="Evaluate under these labels' protocols (repeatable; default: soft for a soft-label set, "
              "else hard and soft, as the reference distillers).")
@click.option("--source", default=None, help="Where the set comes from (paper, repository, commit): in the release.")
@click.option("--licence", default=None, help="The set's licence: in the release.")
@click.option("--root", default=None, help="Local folder or file of the real data set (not needed for digits).")
@json_option("the submission (its params.yaml entry, with the set's DVC md5)")
def submit_cmd(path: str, method: str, dataset: str, ipc: int, labels: tuple[str, ...], source: str | None,
               licence: str | None, root: str | None, as_json: bool) -> None:
    """Submit a distilled set: validate it, copy it to submissions/, version it with DVC and declare it in
    params.yaml. PATH is a DD-Ranking-format folder (images.pt, labels.pt, optional lr.pt) or an image
    folder (one folder per class). Run at the pipeline's root.

    \b
    Example:
      ddr submit ~/mtt-ipc10 --method mtt --dataset digits --ipc 10 --source "arXiv:2203.11932" --licence MIT
      git add params.yaml submissions/ && git commit -m "submit mtt"
      dvc exp run -S release.version=0.2.0     # dvc repro as the next release: evaluates only the new cells
    """
    from pipelines.submissions import submit

    entry = submit(path, method=method, dataset=dataset, ipc=ipc, labels=list(labels) or None, source=source,
                   licence=licence, root=root)
    emit(entry, f"submitted {entry['path']} ({method}, {dataset}, ipc {ipc}, labels {', '.join(entry['labels'])}), "
         f"md5 {entry['md5']}\nnext: git add params.yaml {entry['path']}.dvc submissions/.gitignore && dvc repro",
         as_json)

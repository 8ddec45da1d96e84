"""`ddr eval lrs|ars|acc` (the `eval` group itself is in pipelines.cli)."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from ddr.errors import DDRError
from ddr.eval.request import EvalRequest
from ddr.protocols.editions import EDITIONS
from pipelines.common_options import (CACHE_DIR_OPT, TRACKING_URI_OPT, dataset_option, device_option,
                                      protocol_option)
from pipelines.json_output import emit, json_option
from pipelines.progress import TrainingProgress
from pipelines.report import result_table


def _common(fn):
    """The options every evaluation takes."""
    options = [
        click.option("--distilled", required=True, help="Distilled-set folder (images.pt [labels.pt lr.pt meta.json], or class folders)."),
        dataset_option("Real data set (digits, cifar10, cifar100, tinyimagenet, npz, ...).", required=True),
        click.option("--ipc", required=True, type=int, help="Images per class of the distilled set."),
        click.option("--label", type=click.Choice(["hard", "soft"]), default="hard", show_default=True,
                     help="Label regime; picks the default protocol <dataset>-<kind>-<label>."),
        protocol_option("Protocol name or YAML path (overrides --label's default)."),
        click.option("--rounds", default=None, type=int, help="Override the protocol's number of rounds."),
        click.option("--weight", default=None, type=float, help="w of LRS / gamma of ARS (default: the protocol's)."),
        click.option("--out", default=None, type=click.Path(), help="Folder for result.json (default runs/<dataset>-ipc<ipc>/<kind>-<label>/<method>)."),
        click.option("--force", is_flag=True, help="Replace a finished result already in the output folder."),
        click.option("--method", default=None, help="Method name (default: meta.json's, else the folder name)."),
        click.option("--teacher", "teachers", multiple=True, type=click.Path(), help="Teacher checkpoint (repeatable, one per protocol teacher); default: trained by ddr and cached."),
        click.option("--real-checkpoint", default=None, type=click.Path(),
                     help="State dict of the protocol's model: its test accuracy is Acc(real) (LRS) instead of training one."),
        click.option("--random", "random", multiple=True, type=click.Path(), help="Versioned random-baseline folder (repeatable); round r uses the one with seed seed_base + r."),
        click.option("--root", default=None, help="Local folder or file of the real data set."),
        device_option(),
        TRACKING_URI_OPT,
        click.option("--no-mlflow", "track", flag_value=False, default=True, help="Do not log to MLflow."),
        CACHE_DIR_OPT,
        click.option("--no-cache", "use_cache", flag_value=False, default=True,
                     help="Neither read nor write the training cache."),
        click.option("--edition", type=click.Choice(list(EDITIONS)), default="ddr", show_default=True,
                     help="ddr (corrected), ddranking-0.2 (as DD-Ranking 0.2.0 computes the protocol) or "
                          "leaderboard-2025-02 (as the 0.1.x code behind the public leaderboard did)."),
        click.option("--engine", default="plain", show_default=True,
                     help="plain (the reference numbers), batched[+bf16][+cl][+compile] (the LR grid trained at once) or compiled (torch.compile; benchmarks/RESULTS.md)."),
        click.option("--plan", "show_plan", is_flag=True,
                     help="Print the trainings the evaluation needs (role, round, LR, seed, cached or not) and train nothing."),
        json_option("the result (as result.json holds it; with --plan, the plan)"),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def request_from_options(kind: str, fields: dict) -> EvalRequest:
    """The options are the request's fields by name (one name per concept, from the option to the seed)."""
    return EvalRequest(kind, **fields)


def _run(kind: str, force: bool, as_json: bool, show_plan: bool, **fields) -> None:
    from ddr.eval.api import run_evaluation

    request = request_from_options(kind, fields)
    if show_plan:  # nothing is trained or written
        from ddr.eval.plan_report import describe, text

        doc = describe(request)
        emit(doc, text(doc), as_json)
        return
    out = request.out or str(_default_out(kind, request.dataset, request.ipc, request.label, request.protocol,
                                          request.method or _method_name(request.distilled), request.edition))
    if (Path(out) / "result.json").exists() and not force:
        raise DDRError(f"{out} already holds a finished result; pass --force to replace it, or --out another folder")
    with TrainingProgress() as progress:
        result = run_evaluation(request.replace(out=out), progress=progress)
    text = f"{result_table(result)}\n  result: {Path(out) / 'result.json'}"
    if result.mlflow:
        text += f"\n  MLflow: {result.mlflow['tracking_uri']} run {result.mlflow['run_id']} (see it with: ddr ui)"
    emit(result.to_dict(), text, as_json)


def _command(kind: str, summary: str, example: str):
    def deco(fn):
        @click.command(kind, help=f"{summary}\n\n\b\nExample:\n  {example}")
        @_common
        @functools.wraps(fn)
        def cmd(**kwargs):
            _run(kind, **kwargs)
        return cmd
    return deco


@_command("lrs", "Label-robust score: HLR, IOR and LRS against random subsets of the same size.",
          "ddr eval lrs --distilled data/distilled/digits-herding-ipc10 --dataset digits --ipc 10 [--label soft]")
def lrs_cmd() -> None: ...


@_command("ars", "Augmentation-robust score: syn - random accuracy with and without the protocol's augmentation.",
          "ddr eval ars --distilled data/distilled/digits-herding-ipc10 --dataset digits --ipc 10 --label soft")
def ars_cmd() -> None: ...


@_command("acc", "Plain test accuracy under the method's recipe (mean and std over rounds).",
          "ddr eval acc --distilled data/distilled/digits-herding-ipc10 --dataset digits --ipc 10")
def acc_cmd() -> None: ...


def _default_out(kind: str, dataset: str, ipc: int, label: str, protocol: str | None, method: str,
                 edition: str) -> Path:
    """runs/<dataset>-ipc<ipc>/<kind>-<label>/<method>: results of other kinds or labels never share a folder.
    The label is the protocol's when --protocol names one."""
    from ddr.checks import confined
    from ddr.paths import RUNS, result_parts

    if protocol:
        from ddr.protocols import load_protocol

        label = load_protocol(protocol).label
    # the method name comes from the set's meta.json: it names a folder, never a path out of runs/
    return confined(RUNS, *result_parts(dataset, ipc, kind, label, method, edition), what="method or data set name")


def _method_name(path: str) -> str:
    meta = Path(path) / "meta.json"
    if meta.is_file():
        try:
            d = json.loads(meta.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            d = None  # reading the set refuses it with one line
        if isinstance(d, dict) and d.get("method"):
            return str(d["method"])
    return Path(path).resolve().name

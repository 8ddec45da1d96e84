"""The `ddr` command: a thin click layer over the Python API (no metric maths here).

Bad input raises ddr.errors.DDRError, printed as one line on stderr with exit status 2.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ddr.errors import DDRError
from pipelines.lazy_group import LazyGroup


# Each command is imported when it is run (pipelines.lazy_group), so that `ddr data real` loads, and the DVC
# stage running it depends on, that command's code only. name -> ("module:attr", the first sentence of its
# help, which `ddr --help` shows without importing it).
COMMANDS = {
    "data": ("pipelines.data_cmd:data", "Real data sets, random baselines and distilled sets."),
    "distill": ("pipelines.distill_cmd:distill_cmd",
                "Distil a data set with a reference method: random, herding, kcenter, dm or dc."),
    "leaderboard": ("pipelines.leaderboard_cmd:leaderboard",
                    "DD-Ranking's published leaderboard beside ddr's numbers."),
    "protocols": ("pipelines.misc_cmd:protocols", "Shipped evaluation protocols (versioned YAML)."),
    "rank": ("pipelines.rank_cmd:rank",
             "Rank evaluations (result.json files or folders holding them) per (data set, ipc, label, score), "
             "best first, with Student-t posterior draws over rounds for how sure each rank is (the registry's "
             "ranking, unsigned)."),
    "ray": ("pipelines.ray_cmd:ray_group",
            "Start and stop a Ray cluster for `ddr eval grid --executor ray` (pip install .[ray])."),
    "registry": ("pipelines.registry_cmd:registry_group",
                 "Signed, versioned, verifiable ranking releases (releases/<version>/)."),
    "report": ("pipelines.appendix:report_cmd",
               "Print a short plain-text summary of a result.json or a release folder, for a paper's appendix."),
    "server": ("pipelines.grid_cmd:server_cmd",
               "Start one MLflow tracking server over the project's store, for many concurrent writers."),
    "submit": ("pipelines.submit_cmd:submit_cmd",
               "Submit a distilled set: validate it, copy it to submissions/, version it with DVC and declare it "
               "in params.yaml."),
    "teacher": ("pipelines.teacher_cmd:teacher", "Teachers for soft-label evaluations."),
    "ui": ("pipelines.misc_cmd:ui", "Start the MLflow UI on 127.0.0.1 over the project's tracking store."),
}
EVAL_COMMANDS = {
    "acc": ("pipelines.eval_cmd:acc_cmd", "Plain test accuracy under the method's recipe (mean and std over rounds)."),
    "ars": ("pipelines.eval_cmd:ars_cmd",
            "Augmentation-robust score: syn - random accuracy with and without the protocol's augmentation."),
    "grid": ("pipelines.grid_cmd:grid_cmd",
             "Run an evaluation grid (methods x data sets x ipc x metrics): each cell once, found by its content "
             "hash."),
    "lrs": ("pipelines.eval_cmd:lrs_cmd",
            "Label-robust score: HLR, IOR and LRS against random subsets of the same size."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="ddr")
def cli() -> None:
    """ddr: DD-Ranking metrics, done correctly, as a reproducibility registry.

    \b
    Quick start (digits ships with scikit-learn, nothing to download):
      ddr data random --dataset digits --ipc 10 --seed 0 --out data/random-ipc10
      ddr eval lrs --distilled data/random-ipc10 --dataset digits --ipc 10
      ddr ui
    """


@cli.group("eval", cls=LazyGroup, lazy=EVAL_COMMANDS)
def eval_group() -> None:
    """Evaluate distilled sets: LRS (hard or soft labels), ARS, plain accuracy."""


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    try:
        rv = cli.main(args=argv, prog_name="ddr", standalone_mode=False)
    except DDRError as exc:
        click.echo(f"ddr: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("ddr: interrupted; finished trainings are cached, run the same command again to resume",
                   err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        from mlflow.exceptions import MlflowException

        if isinstance(exc, MlflowException):  # e.g. an unreachable tracking server: say so in one line
            click.echo(f"ddr: error: MLflow: {str(exc).splitlines()[0]}", err=True)
            sys.exit(2)
        raise
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()


__all__ = ["cli", "main", "Path"]

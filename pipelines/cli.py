"""The `ddr` command: a thin click layer over the Python API (no metric maths here).

Bad input raises ddr.errors.DDRError, printed as one line on stderr with exit status 2.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ddr.errors import DDRError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="ddr")
def cli() -> None:
    """ddr: DD-Ranking metrics, done correctly, as a reproducibility registry.

    \b
    Quick start (digits ships with scikit-learn, nothing to download):
      ddr data random --dataset digits --ipc 10 --seed 0 --out data/random-ipc10
      ddr eval lrs --distilled data/random-ipc10 --dataset digits --ipc 10
      ddr ui
    """


from pipelines import data_cmd, distill_cmd, eval_cmd, grid_cmd, misc_cmd, submit_cmd, teacher_cmd  # noqa: E402  (commands register on import)
from pipelines.appendix import report_cmd  # noqa: E402
from pipelines.registry_cmd import registry_group  # noqa: E402
from pipelines import leaderboard_cmd  # noqa: E402
from pipelines.ray_cmd import ray_group  # noqa: E402

cli.add_command(data_cmd.data)
cli.add_command(eval_cmd.eval_group)
cli.add_command(eval_cmd.rank)
cli.add_command(misc_cmd.protocols)
cli.add_command(misc_cmd.ui)
cli.add_command(teacher_cmd.teacher)
cli.add_command(distill_cmd.distill_cmd)
eval_cmd.eval_group.add_command(grid_cmd.grid_cmd)
cli.add_command(grid_cmd.server_cmd)
cli.add_command(registry_group)
cli.add_command(submit_cmd.submit_cmd)
cli.add_command(leaderboard_cmd.leaderboard)
cli.add_command(report_cmd)
cli.add_command(ray_group)


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

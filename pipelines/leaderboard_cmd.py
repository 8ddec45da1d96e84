"""`ddr leaderboard import`: DD-Ranking's leaderboard CSV, in fractions, with ddr's LRS per row."""
from __future__ import annotations

import click

from pipelines.json_output import emit, json_option


@click.group("leaderboard")
def leaderboard() -> None:
    """DD-Ranking's published leaderboard beside ddr's numbers."""


@leaderboard.command("import")
@click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False))
@click.option("--weight", type=float, default=0.5, show_default=True, help="LRS weight w (w*IOR - (1-w)*HLR).")
@json_option("the weight and the rows")
def import_cmd(csv_path: str, weight: float, as_json: bool) -> None:
    """Read a DD-Ranking leaderboard CSV (columns method, method_reference, verified, date, dataset, ipc,
    label_type, hlr, ior; HLR and IOR in percentage points) and print every row in fractions with its LRS
    at WEIGHT. `ddr registry publish --leaderboard CSV` puts the rows beside a release's scores.

    \b
    Example:
      ddr leaderboard import leaderboard.csv --weight 0.5
    """
    from ddr import metrics
    from ddr.errors import DDRError
    from registry.leaderboard import read_leaderboard, row_lrs

    try:
        metrics.lrs(0.0, 0.0, weight)
    except ValueError as exc:
        raise DDRError(f"--weight: {exc}") from None
    rows = [{**r, "lrs": row_lrs(r, weight)} for r in read_leaderboard(csv_path)]
    lines = [f"{'dataset':<13}{'ipc':>4}  {'label':<5} {'method':<16}{'HLR':>8}{'IOR':>8}{'LRS':>8}  verified"]
    lines += [f"{r['dataset']:<13}{r['ipc']:>4}  {r['label']:<5} {r['method']:<16}{r['hlr']:>8.4f}"
              f"{r['ior']:>8.4f}{r['lrs']:>8.4f}  {r['verified']}" for r in rows]
    lines.append(f"{len(rows)} rows; LRS at weight {weight} from fractions (HLR, IOR / 100)")
    emit({"weight": weight, "rows": rows}, "\n".join(lines), as_json)

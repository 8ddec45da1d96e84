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
@click.option("--results", "results", multiple=True, type=click.Path(exists=True),
              help="result.json files or folders (repeatable): compare their LRS with the rows, cell by cell, "
                   "using results of the leaderboard's edition (leaderboard-2025-02) where there are any.")
@json_option("the weight, the rows and, with --results, the comparison")
def import_cmd(csv_path: str, weight: float, results: tuple[str, ...], as_json: bool) -> None:
    """Read a DD-Ranking leaderboard CSV (columns method, method_reference, verified, date, dataset, ipc,
    label_type, hlr, ior; HLR and IOR in percentage points) and print every row in fractions with its LRS
    at WEIGHT. With --results, compare ddr's LRS with the rows: the leaderboard was computed by DD-Ranking
    0.1.x, so like with like is a result of edition leaderboard-2025-02 (`ddr eval --edition`); a cell
    compared with another edition is marked and a note says so. `ddr registry publish --leaderboard CSV`
    puts the rows beside a release's scores the same way.

    \b
    Example:
      ddr leaderboard import leaderboard.csv --weight 0.5
      ddr leaderboard import leaderboard.csv --results results/
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
    doc: dict = {"weight": weight, "rows": rows}
    if results:
        from registry.leaderboard import compare, edition_note
        from registry.ranking import build_ranking, load_results

        comparison = compare(build_ranking(load_results(list(results)), seed=0), rows)
        doc["comparison"] = comparison
        lines += ["", f"{'dataset':<13}{'ipc':>4}  {'label':<5} {'method':<16}{'edition':<21}{'ddr LRS':>9}"
                      f"{'board LRS':>10}{'diff':>9}"]
        lines += [f"{c['dataset']:<13}{c['ipc']:>4}  {c['label']:<5} {c['method']:<16}"
                  f"{c['edition'] + ('' if c['edition_matches'] else ' *'):<21}{c['ddr_lrs']:>9.4f}"
                  f"{c['leaderboard_lrs']:>10.4f}{c['difference']:>+9.4f}" for c in comparison]
        lines.append(f"{len(comparison)} cells in both")
        note = edition_note(comparison)
        if note:
            click.echo(f"ddr: {note}", err=True)
    emit(doc, "\n".join(lines), as_json)

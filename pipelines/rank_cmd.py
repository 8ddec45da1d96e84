"""`ddr rank`: the registry's ranking of evaluations, unsigned, as terminal tables and files."""
from __future__ import annotations

import json
from pathlib import Path

import click

from pipelines.json_output import emit, json_option
from pipelines.registry_options import seed_option
from pipelines.report import mean_std
from registry.page.certainty import beats_random_text, table_notes


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option("--out", default=None, type=click.Path(), help="Also write ranking.json, ranking.md, ranking.csv, "
              "metrics.json and plots/ (DVC plots data, one file per table) here.")
@seed_option(0, "Seed of the posterior draws (recorded).")
@json_option("the ranking (as ranking.json holds it)")
def rank(results: tuple[str, ...], out: str | None, seed: int, as_json: bool) -> None:
    """Rank evaluations (result.json files or folders holding them) per (data set, ipc, label, score), best
    first, with Student-t posterior draws over rounds for how sure each rank is (the registry's ranking, unsigned).

    \b
    Example:
      ddr rank results/ --out ranking/
    """
    from registry.ranking import build_ranking, load_results
    from registry.page.text import to_csv, to_markdown
    from registry.util import check_writable

    if out:
        check_writable(out, "--out", folder=True)
    ranking = build_ranking(load_results(list(results)), seed=seed)
    emit(ranking, ranking_table(ranking), as_json)
    if out:
        from pipelines.ranking_plots import write_plots

        folder = Path(out)
        write_plots(ranking, folder)  # first: it checks every table's file name before writing
        (folder / "ranking.json").write_text(json.dumps(ranking, indent=2) + "\n")
        (folder / "ranking.md").write_text(to_markdown(ranking, "working copy (unsigned)"))
        (folder / "ranking.csv").write_text(to_csv(ranking))
        flat = {f"{t['dataset']}/ipc{t['ipc']}/{t['label']}/{t['score']}": {r["method"]: round(r["mean"], 6) for r in t["rows"]}
                for t in ranking["tables"]}
        (folder / "metrics.json").write_text(json.dumps(flat, indent=2, sort_keys=True) + "\n")


def ranking_table(ranking: dict) -> str:
    """The registry's ranking snapshot as terminal tables."""
    out = []
    for t in ranking["tables"]:
        out.append(f"\n{t['dataset']}, ipc {t['ipc']}, {t['label']} labels: {t['score'].upper()}")
        width = max(len(r["method"]) for r in t["rows"]) + 2
        out += [f"  {n}" for n in table_notes(t)]
        head = f"{'rank':<6}{'method':<{width}}{'mean ± std':>18}  {'95% rank':>9}  {'P(>next)':>8}  vs random (95%)"
        out += [head, "-" * len(head)]
        for r in t["rows"]:
            lo, hi = r["rank_interval"]
            p = "" if r["p_beats_next"] is None else f"{r['p_beats_next']:.2f}"
            out.append(f"{r['rank']:<6}{r['method']:<{width}}{mean_std(r):>18}  {f'{lo}-{hi}':>9}  {p:>8}  "
                       f"{beats_random_text(r)}")
    return "\n".join(out)

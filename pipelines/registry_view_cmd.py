"""``ddr registry ls``, ``show`` and ``diff``: read releases (unverified metadata; verify checks them)."""
from __future__ import annotations

from pathlib import Path

import click

from ddr.errors import DDRError
from pipelines.json_output import emit, json_option
from pipelines.registry_options import RELEASES_OPT


@click.command("ls")
@RELEASES_OPT
@json_option("the releases")
def ls_cmd(releases_dir, as_json):
    """List releases, oldest first (unverified metadata; run verify to check them).

    \b
    Example:
      ddr registry ls --releases releases
    """
    from registry.layout import read_statement_unverified, release_folders

    rows = []
    for v, folder in release_folders(releases_dir).items():
        pred = read_statement_unverified(folder)["predicate"]
        rows.append({"version": v, "created_at": pred.get("created_at"),
                     "previous": (pred.get("previous") or {}).get("version"),
                     "signers": pred.get("signers", []), "notes": pred.get("notes")})
    lines = [f"{r['version']:<12} {r['created_at'] or '?':<21} previous {r['previous'] or '-':<10} "
             f"signed by {','.join(k[:12] for k in r['signers'])}" + (f"  {r['notes']}" if r["notes"] else "")
             for r in rows]
    emit(rows, "\n".join(lines) if rows else f"no releases in {releases_dir}", as_json)


@click.command("show")
@click.argument("version", default="latest")
@RELEASES_OPT
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "json", "provenance", "ddranking-csv"]), default="md",
              show_default=True)
def show_cmd(version, releases_dir, fmt):
    """Print a release's ranking (Markdown, CSV, JSON), its provenance, or its LRS tables in the DD-Ranking
    leaderboard's CSV format (ddranking-csv: HLR and IOR in percentage points).

    \b
    Example:
      ddr registry show 1.0.0 --format csv
    """
    from registry.layout import resolve_release

    path = resolve_release(releases_dir, version)
    if fmt == "ddranking-csv":
        from registry.leaderboard import to_ddranking_csv
        from registry.layout import read_statement_unverified
        from registry.ranking import read_ranking

        created = str(read_statement_unverified(path)["predicate"].get("created_at") or "")[:10]
        click.echo(to_ddranking_csv(read_ranking(path / "ranking.json"), date=created), nl=False)
        return
    name = {"md": "ranking.md", "csv": "ranking.csv", "json": "ranking.json", "provenance": "provenance.json"}[fmt]
    try:
        click.echo((path / name).read_text(), nl=False)
    except FileNotFoundError:
        raise DDRError(f"{path / name} does not exist") from None
    if fmt == "md":
        _show_reproductions(path)


def _show_reproductions(path: Path) -> None:
    """Per cell, how many keys' verified attestations reproduced it (attestations are unsigned by the
    release, so each is verified here; a failing one is reported, not counted)."""
    from registry.attest import format_reproductions, reproductions
    from registry.signing import VerifyError
    from registry.util import read_json

    cells = [c["id"] for c in read_json(path / "provenance.json", "provenance").get("cells", [])]
    try:
        lines = format_reproductions(reproductions(path), cells)
    except VerifyError as e:
        lines = [f"FAIL {e}"]
    click.echo("\n## Reproductions\n\n" + "\n".join(f"- {line}" for line in lines))


@click.command("diff")
@click.argument("a")
@click.argument("b", default="latest")
@RELEASES_OPT
@json_option("the structured diff")
@click.option("--all", "all_rows", is_flag=True, help="Show unchanged rows too.")
@click.option("--paired", nargs=2, default=None, metavar="METHOD_A METHOD_B",
              help="McNemar test over test images: METHOD_A in release A against METHOD_B in release B "
                   "(give one version twice to compare two methods of a release).")
def diff_cmd(a, b, releases_dir, as_json, all_rows, paired):
    """Show rank moves and metric changes from release A to release B.

    \b
    Example:
      ddr registry diff 1.0.0 1.1.0
      ddr registry diff 1.1.0 1.1.0 --paired herding dm
    """
    from registry.diff import diff_rankings, format_diff, load_ranking
    from registry.layout import resolve_release

    if paired:
        from registry.paired import format_paired, paired_tests

        pa, pb = resolve_release(releases_dir, a), resolve_release(releases_dir, b)
        tests = paired_tests(pa, load_ranking(pa), paired[0], pb, load_ranking(pb), paired[1])
        emit(tests, format_paired(tests), as_json)
        return
    d = diff_rankings(load_ranking(resolve_release(releases_dir, a)), load_ranking(resolve_release(releases_dir, b)))
    emit(d, format_diff(d, all_rows), as_json)

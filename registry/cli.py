"""``ddr registry``: keygen, publish, verify, ls, show, diff, reproduce.

Bad input raises ddr.errors.DDRError (the top-level ``ddr`` prints one line, exits 2); a failed
verification or reproduction prints one line naming the failing check and exits 1.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ddr.errors import DDRError

RELEASES_OPT = click.option("--releases", "releases_dir", default="releases", show_default=True, envvar="DDR_RELEASES",
                            type=click.Path(file_okay=False), help="Folder holding releases/<version>/ (env DDR_RELEASES).")
KEYRING_OPT = click.option("--keyring", "keyring_path", default="keys/keyring.json", show_default=True,
                           envvar="DDR_KEYRING", type=click.Path(dir_okay=False),
                           help="Keyring of trusted public keys (env DDR_KEYRING).")


def _passphrase(env_var: str | None, prompt: bool, confirm: bool = False) -> str | None:
    if env_var:
        if env_var not in os.environ:
            raise DDRError(f"--passphrase-env {env_var}: that environment variable is not set")
        return os.environ[env_var]
    if prompt:
        return click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return None


@click.group("registry")
def registry_group() -> None:
    """Signed, versioned, verifiable ranking releases (releases/<version>/).

    \b
    Example:
      ddr registry keygen --out keys/maintainer.key
      ddr registry publish 1.0.0 --results runs/ --key keys/maintainer.key
      ddr registry verify
    """


@registry_group.command("keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the private key (PEM, mode 0600).")
@KEYRING_OPT
@click.option("--name", default=None, help="A label for the key in the keyring (e.g. the maintainer).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Encrypt the key with the passphrase in env VAR.")
@click.option("--prompt-passphrase", is_flag=True, help="Prompt for a passphrase to encrypt the key.")
@click.option("--threshold", type=int, default=None, help="Set the keyring's signature threshold.")
def keygen(out, keyring_path, name, passphrase_env, prompt_passphrase, threshold):
    """Create an Ed25519 signing key and trust its public key in the keyring.

    Writes OUT (PKCS8 PEM, mode 0600; encrypted with a passphrase if given), OUT.pub (raw public key,
    hex) and adds the key to the keyring (created if missing). For key rotation run it again with a
    new --out: releases signed by older keys keep verifying while the keyring lists them.

    \b
    Example:
      DDR_PASS=s3cret ddr registry keygen --out keys/maint-2026.key --passphrase-env DDR_PASS --name alice
    """
    from registry.keyring import Keyring, generate_key

    keyring = Keyring.load_or_new(keyring_path)
    pw = _passphrase(passphrase_env, prompt_passphrase, confirm=True)
    key, kid = generate_key(out, pw)
    keyring.add(key.public_key(), name)
    if threshold is not None:
        keyring.threshold = threshold
    keyring.save(keyring_path)
    click.echo(f"key {kid}")
    click.echo(f"private key: {out} (mode 0600{', encrypted' if pw else ''}); public key: {out}.pub")
    click.echo(f"keyring: {keyring_path} ({len(keyring.keys)} keys, threshold {keyring.threshold})")


@registry_group.command("trust")
@click.argument("public_key")
@KEYRING_OPT
@click.option("--name", default=None, help="A label for the key in the keyring.")
@click.option("--remove", is_flag=True, help="Stop trusting the key (PUBLIC_KEY is then a key id or its prefix).")
def trust_cmd(public_key, keyring_path, name, remove):
    """Add a public key (a .pub file from keygen: raw hex, or a PEM file) to a keyring, or remove one.

    This is how a verifier, or a maintainer rotating keys on another machine, trusts a new key.
    Removing a key makes every release signed only by it fail with 'unknown key'.

    \b
    Example:
      ddr registry trust keys/maint-2027.key.pub --keyring keys/keyring.json --name bob
    """
    from registry.keyring import Keyring, parse_public

    keyring = Keyring.load_or_new(keyring_path)
    if remove:
        kid = keyring.resolve(public_key)
        keyring.remove(kid)
        keyring.threshold = min(keyring.threshold, max(1, len(keyring.keys)))
        keyring.save(keyring_path)
        click.echo(f"removed key {kid} from {keyring_path}")
        return
    p = Path(public_key)
    text = p.read_text() if p.is_file() else public_key
    kid = keyring.add(parse_public(text), name)
    keyring.save(keyring_path)
    click.echo(f"trusted key {kid} in {keyring_path} ({len(keyring.keys)} keys, threshold {keyring.threshold})")


def _load_keys(paths, passphrase_env):
    from registry.keyring import load_private_key

    keys = []
    for p in paths:
        pw = _passphrase(passphrase_env, False)
        try:
            keys.append(load_private_key(p, pw))
        except DDRError as e:
            if pw is None and "is encrypted" in str(e) and sys.stdin.isatty():
                keys.append(load_private_key(p, click.prompt(f"Passphrase for {p}", hide_input=True)))
            else:
                raise
    return keys


@registry_group.command("publish")
@click.argument("version")
@click.option("--results", "results", multiple=True, required=True, type=click.Path(),
              help="result.json files or folders searched recursively (repeatable).")
@RELEASES_OPT
@click.option("--key", "key_paths", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Private signing key (repeatable, for threshold > 1).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Passphrase of the key(s) in env VAR.")
@KEYRING_OPT
@click.option("--seed", type=int, default=None, help="Bootstrap seed (recorded in the release).")
@click.option("--resamples", type=int, default=None, help="Bootstrap resamples (default 1000).")
@click.option("--notes", default=None, help="Free text stored in the signed statement.")
@click.option("--mlflow/--no-mlflow", "use_mlflow", default=True, show_default=True,
              help="Log the release as a run in the MLflow 'releases' experiment.")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or sqlite:///./mlflow.db).")
@click.option("--leaderboard", "leaderboard_csv", default=None, type=click.Path(dir_okay=False),
              help="DD-Ranking leaderboard CSV: carried as a reference column (ddr LRS, leaderboard LRS, difference).")
def publish_cmd(version, results, releases_dir, key_paths, passphrase_env, keyring_path, seed, resamples, notes,
                use_mlflow, tracking_uri, leaderboard_csv):
    """Rank result.json files and publish a signed release releases/VERSION/.

    VERSION is a semantic version newer than every existing release; an existing version is never
    overwritten. If the keyring exists, the signing keys must be in it and the existing chain must
    verify before it is extended.

    \b
    Example:
      ddr registry publish 1.1.0 --results runs/ --key keys/maint.key --notes "adds DM at IPC 50"
    """
    from registry.keyring import Keyring
    from registry.ranking import DEFAULT_RESAMPLES, DEFAULT_SEED, load_results
    from registry.release import publish

    rs = load_results(list(results))
    keys = _load_keys(key_paths, passphrase_env)
    keyring = Keyring.load(keyring_path) if Path(keyring_path).exists() else None
    path = publish(rs, releases_dir, version, keys, keyring=keyring,
                   seed=DEFAULT_SEED if seed is None else seed,
                   resamples=DEFAULT_RESAMPLES if resamples is None else resamples, notes=notes,
                   leaderboard=leaderboard_csv)
    click.echo(f"published {path} ({len(rs)} results)")
    if use_mlflow:
        from registry.release import read_statement_unverified
        from registry.tracking import default_tracking_uri, log_release

        uri = tracking_uri or default_tracking_uri()
        runs = [rid for rid in dict.fromkeys((r.data.get("mlflow") or {}).get("run_id") for r in rs) if rid]
        signers = read_statement_unverified(path)["predicate"].get("signers")
        rid = log_release(path, version, runs, uri, signers)
        click.echo(f"mlflow: run {rid} in experiment 'releases' at {uri}")


@registry_group.command("verify")
@click.argument("version", required=False)
@RELEASES_OPT
@KEYRING_OPT
@click.option("--latest", default=None, help="Fail unless this is the newest release (detects a rolled-back head).")
def verify_cmd(version, releases_dir, keyring_path, latest):
    """Verify releases offline: signatures, every file digest and the chain.

    Without VERSION every release is checked; with VERSION, the releases up to it. Exits 0 when all
    holds, else prints 'FAIL <check>: <detail>' (bad signature, unknown key, digest mismatch, missing
    file, extra file, version mismatch, chain broken at VERSION) and exits 1.

    \b
    Example:
      ddr registry verify --keyring keys/keyring.json --latest 1.2.0
    """
    from registry.keyring import Keyring
    from registry.verify import verify_chain

    keyring = Keyring.load(keyring_path)
    report = verify_chain(releases_dir, keyring, upto=version, latest=latest)
    if not report.ok:
        click.echo(f"FAIL {report.error}")
        sys.exit(1)
    for r in report.releases:
        click.echo(f"ok {r.version}: {r.files} files, signed by {', '.join(k[:16] for k in r.signers)}, "
                   f"previous {r.previous or '-'}")
    click.echo(f"OK: {len(report.releases)} release(s) verified, chain intact")


@registry_group.command("ls")
@RELEASES_OPT
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ls_cmd(releases_dir, as_json):
    """List releases, oldest first (unverified metadata; run verify to check them).

    \b
    Example:
      ddr registry ls --releases releases
    """
    from registry.release import list_versions, read_statement_unverified

    rows = []
    for v in list_versions(releases_dir):
        pred = read_statement_unverified(Path(releases_dir) / v)["predicate"]
        rows.append({"version": v, "created_at": pred.get("created_at"),
                     "previous": (pred.get("previous") or {}).get("version"),
                     "signers": pred.get("signers", []), "notes": pred.get("notes")})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no releases in {releases_dir}")
    for r in rows:
        click.echo(f"{r['version']:<12} {r['created_at'] or '?':<21} previous {r['previous'] or '-':<10} "
                   f"signed by {','.join(k[:12] for k in r['signers'])}" + (f"  {r['notes']}" if r["notes"] else ""))


@registry_group.command("show")
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
    from registry.release import resolve_release

    path = resolve_release(releases_dir, version)
    if fmt == "ddranking-csv":
        from registry.leaderboard import to_ddranking_csv
        from registry.release import read_statement_unverified
        from registry.util import read_json

        created = str(read_statement_unverified(path)["predicate"].get("created_at") or "")[:10]
        click.echo(to_ddranking_csv(read_json(path / "ranking.json", "ranking"), date=created), nl=False)
        return
    name = {"md": "ranking.md", "csv": "ranking.csv", "json": "ranking.json", "provenance": "provenance.json"}[fmt]
    try:
        click.echo((path / name).read_text(), nl=False)
    except FileNotFoundError:
        raise DDRError(f"{path / name} does not exist") from None


@registry_group.command("diff")
@click.argument("a")
@click.argument("b", default="latest")
@RELEASES_OPT
@click.option("--json", "as_json", is_flag=True, help="Print the structured diff as JSON.")
@click.option("--all", "all_rows", is_flag=True, help="Show unchanged rows too.")
def diff_cmd(a, b, releases_dir, as_json, all_rows):
    """Show rank moves and metric changes from release A to release B.

    \b
    Example:
      ddr registry diff 1.0.0 1.1.0
    """
    from registry.diff import diff_rankings, format_diff, load_ranking
    from registry.release import resolve_release

    d = diff_rankings(load_ranking(resolve_release(releases_dir, a)), load_ranking(resolve_release(releases_dir, b)))
    click.echo(json.dumps(d, indent=2) if as_json else format_diff(d, all_rows))


@registry_group.command("reproduce")
@click.argument("version")
@click.option("--cell", "cells", multiple=True, required=True,
              help="dataset/ipc/label/method[/kind] (repeatable), e.g. digits/10/hard/herding.")
@RELEASES_OPT
@KEYRING_OPT
@click.option("--no-verify", is_flag=True, help="Skip verifying the release before re-running it.")
@click.option("--device", default=None, help="cpu, cuda, ... (default: the evaluation core's choice).")
@click.option("--tolerance", type=float, default=None,
              help="Absolute tolerance per round (default: 0 = exact on CPU, 0.02 on GPU).")
@click.option("--root", default=None, help="Data set root passed to ddr.evaluate.")
@click.option("--cache-dir", default=None, help="Training cache folder passed to ddr.evaluate.")
@click.option("--base", default=None, type=click.Path(file_okay=False),
              help="Folder that relative distilled-set paths are resolved against (default: cwd).")
def reproduce_cmd(version, cells, releases_dir, keyring_path, no_verify, device, tolerance, root, cache_dir, base):
    """Re-run cells of a release from its provenance and compare the numbers.

    Exits 0 when every round of every metric matches (exactly on CPU; within the stated tolerance
    on GPU), 1 otherwise.

    \b
    Example:
      ddr registry reproduce 1.0.0 --cell digits/10/hard/herding --device cpu
    """
    from registry.release import resolve_release
    from registry.reproduce import find_cells, format_report, reproduce_cell
    from registry.util import read_json

    path = resolve_release(releases_dir, version)
    if not no_verify:
        from registry.keyring import Keyring
        from registry.verify import verify_chain

        report = verify_chain(path.parent, Keyring.load(keyring_path), upto=path.name)
        if not report.ok:
            click.echo(f"FAIL {report.error}")
            sys.exit(1)
    prov = read_json(path / "provenance.json", "provenance")
    ok = True
    for spec in cells:
        for cell in find_cells(prov, spec):
            rep = reproduce_cell(path, cell, device=device, tolerance=tolerance, base=base, root=root,
                                 cache_dir=cache_dir)
            click.echo(format_report(rep))
            ok = ok and rep["match"]
    if not ok:
        click.echo("FAIL reproduction mismatch")
        sys.exit(1)


__all__ = ["registry_group"]

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
@click.option("--sign-with", "sign_with", multiple=True, type=click.Path(dir_okay=False),
              help="Add the key as a signed keyring update, signed by these current keys (see 'trust').")
def keygen(out, keyring_path, name, passphrase_env, prompt_passphrase, threshold, sign_with):
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
    if keyring.version > 1 and not sign_with:
        raise DDRError(f"keyring {keyring_path} is version {keyring.version} of a signed history; "
                       "add the new key with --sign-with KEY (a threshold of its current keys)")
    pw = _passphrase(passphrase_env, prompt_passphrase, confirm=True)
    key, kid = generate_key(out, pw)
    if sign_with:
        from registry.keyring import public_raw

        _signed_keyring_update(keyring, keyring_path, public_raw(key.public_key()).hex(), name, False, sign_with,
                               None, threshold)
        click.echo(f"key {kid}\nprivate key: {out} (mode 0600{', encrypted' if pw else ''}); public key: {out}.pub")
        return
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
@click.option("--sign-with", "sign_with", multiple=True, type=click.Path(dir_okay=False),
              help="Make the change a signed keyring update: private key(s) of the current keyring (a threshold).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Passphrase of the --sign-with key(s) in env VAR.")
@click.option("--threshold", type=int, default=None, help="The new keyring's threshold (with --sign-with).")
def trust_cmd(public_key, keyring_path, name, remove, sign_with, passphrase_env, threshold):
    """Add a public key (a .pub file from keygen: raw hex, or a PEM file) to a keyring, or remove one.

    This is how a verifier, or a maintainer rotating keys on another machine, trusts a new key.
    Removing a key makes every release signed only by it fail with 'unknown key'. With --sign-with
    the change becomes the keyring's next version, signed by a threshold of the current keys, which
    verifiers that pinned the current version accept (a plain edit they reject as a keyring swap).

    \b
    Example:
      ddr registry trust keys/maint-2027.key.pub --keyring keys/keyring.json --name bob
      ddr registry trust 3f2a --remove --sign-with keys/maint-2027.key     # a signed revocation
    """
    from registry.keyring import Keyring, parse_public

    keyring = Keyring.load_or_new(keyring_path)
    if sign_with:
        _signed_keyring_update(keyring, keyring_path, public_key, name, remove, sign_with, passphrase_env, threshold)
        return
    if keyring.version > 1:
        raise DDRError(f"keyring {keyring_path} is version {keyring.version} of a signed history; change it "
                       "with --sign-with KEY (a threshold of its current keys)")
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


def _signed_keyring_update(keyring, keyring_path, public_key, name, remove, sign_with, passphrase_env, threshold):
    from registry.keyring import Keyring, parse_public
    from registry.keyring_updates import sign_update

    draft = Keyring(dict(keyring.keys), keyring.threshold)
    if remove:
        draft.remove(draft.resolve(public_key))
        what = "removed"
    else:
        p = Path(public_key)
        draft.add(parse_public(p.read_text() if p.is_file() else public_key), name)
        what = "added"
    t = threshold if threshold is not None else min(keyring.threshold, max(1, len(draft.keys)))
    new = sign_update(keyring, draft.keys, t, _load_keys(sign_with, passphrase_env))
    new.save(keyring_path)
    click.echo(f"keyring {keyring_path}: version {new.version} ({what} a key; {len(new.keys)} keys, threshold "
               f"{new.threshold}), signed by version {keyring.version}'s keys")


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
@click.option("--resamples", type=int, default=None, help="Rank-certainty draws (default 10000).")
@click.option("--notes", default=None, help="Free text stored in the signed statement.")
@click.option("--mlflow/--no-mlflow", "use_mlflow", default=True, show_default=True,
              help="Log the release as a run in the MLflow 'releases' experiment.")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or sqlite:///./mlflow.db).")
@click.option("--expires-days", type=float, default=None,
              help="Days until the registry's signed timestamp expires (default 30; refresh with 'timestamp').")
@click.option("--no-keyring", is_flag=True, help="Publish without a keyring: neither the signing key nor the "
              "existing chain is checked (say so explicitly; without it a missing keyring is an error).")
@click.option("--leaderboard", "leaderboard_csv", default=None, type=click.Path(dir_okay=False),
              help="DD-Ranking leaderboard CSV: carried as a reference column (ddr LRS, leaderboard LRS, difference).")
def publish_cmd(version, results, releases_dir, key_paths, passphrase_env, keyring_path, seed, resamples, notes,
                use_mlflow, tracking_uri, expires_days, no_keyring, leaderboard_csv):
    """Rank result.json files and publish a signed release releases/VERSION/.

    VERSION is a semantic version newer than every existing release; an existing version is never
    overwritten. The signing keys must be in the keyring and the existing chain must verify before it
    is extended; a missing keyring is refused unless --no-keyring says to publish unchecked.

    \b
    Example:
      ddr registry publish 1.1.0 --results runs/ --key keys/maint.key --notes "adds DM at IPC 50"
    """
    from registry.keyring import Keyring
    from registry.ranking import DEFAULT_RESAMPLES, DEFAULT_SEED, load_results
    from registry.release import publish

    rs = load_results(list(results))
    keys = _load_keys(key_paths, passphrase_env)
    if not no_keyring and not Path(keyring_path).exists():
        raise DDRError(f"keyring {keyring_path} does not exist: without it the chain being extended cannot be "
                       "verified; create it (ddr registry keygen / trust), or pass --no-keyring to publish unchecked")
    keyring = None if no_keyring else Keyring.load(keyring_path)
    path = publish(rs, releases_dir, version, keys, keyring=keyring,
                   seed=DEFAULT_SEED if seed is None else seed,
                   resamples=DEFAULT_RESAMPLES if resamples is None else resamples, notes=notes,
                   expires_days=expires_days, leaderboard=leaderboard_csv)
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
@click.option("--state", "state_path", default=None, type=click.Path(dir_okay=False),
              help="Trusted-state file: the newest keyring, head and timestamp verified per keyring "
                   "(default $DDR_STATE or ~/.local/state/ddr/verifier-state.json).")
@click.option("--no-state", is_flag=True, help="Neither read nor update the trusted state (no rollback detection).")
@click.option("--accept-keyring", is_flag=True, help="Re-pin the keyring even if it does not descend from the one seen before.")
def verify_cmd(version, releases_dir, keyring_path, latest, state_path, no_state, accept_keyring):
    """Verify releases offline: signatures, every file digest, the chain, the keyring's signed
    history and the timestamp's freshness against what this verifier saw before.

    Without VERSION every release is checked, with the timestamp and the trusted state (then
    advanced); with VERSION, the releases up to it (no freshness checks). Exits 0 when all holds,
    else prints 'FAIL <check>: <detail>' (bad signature, unknown key, digest mismatch, missing file,
    extra file, version mismatch, chain broken at VERSION, mix-and-match, rollback, freeze, removed
    release, keyring swap, attestation) and exits 1.

    \b
    Example:
      ddr registry verify --keyring keys/keyring.json --state ~/.ddr-state.json
    """
    from registry.keyring import Keyring
    from registry.verify import verify_chain, verify_registry

    keyring = Keyring.load(keyring_path)
    if version is not None:  # an unknown version is bad input (exit 2), not a failed verification
        from registry.release import resolve_release

        resolve_release(releases_dir, version)
        report = verify_chain(releases_dir, keyring, upto=version, latest=latest)
    else:
        from registry.trust_state import TrustState

        state = None if no_state else TrustState(state_path)
        report = verify_registry(releases_dir, keyring, state=state, keyring_path=keyring_path, latest=latest,
                                 accept_keyring=accept_keyring)
    if not report.ok:
        click.echo(f"FAIL {report.error}")
        sys.exit(1)
    for r in report.releases:
        click.echo(f"ok {r.version}: {r.files} files, signed by {', '.join(k[:16] for k in r.signers)}, "
                   f"previous {r.previous or '-'}")
    ts = (report.freshness or {}).get("timestamp")
    if ts:
        click.echo(f"ok timestamp #{ts['counter']}: head {report.releases[-1].version}, expires {ts['expires']}")
    elif report.freshness is not None:
        click.echo("note: no timestamp.dsse.json (format-1 registry): freshness not checked")
    click.echo(f"OK: {len(report.releases)} release(s) verified, chain intact")


@registry_group.command("timestamp")
@RELEASES_OPT
@click.option("--key", "key_paths", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Private signing key (repeatable, for threshold > 1).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Passphrase of the key(s) in env VAR.")
@KEYRING_OPT
@click.option("--expires-days", type=float, default=None, help="Days until the timestamp expires (default 30).")
def timestamp_cmd(releases_dir, key_paths, passphrase_env, keyring_path, expires_days):
    """Re-sign releases/timestamp.dsse.json for the newest release, before the old one expires.

    Verifiers fail with 'freeze' once a timestamp has expired, so a registry that is still
    maintained refreshes it (e.g. weekly from cron). The chain must verify first.

    \b
    Example:
      ddr registry timestamp --key keys/maint.key --expires-days 7
    """
    from registry.freshness import DEFAULT_EXPIRES_DAYS, write_timestamp
    from registry.keyring import Keyring
    from registry.verify import verify_chain

    keyring = Keyring.load(keyring_path)
    report = verify_chain(releases_dir, keyring)
    if not report.ok:
        raise DDRError(f"the releases do not verify ({report.error}); not timestamping them")
    head = report.releases[-1].version
    path = write_timestamp(releases_dir, head, _load_keys(key_paths, passphrase_env),
                           expires_days=DEFAULT_EXPIRES_DAYS if expires_days is None else expires_days)
    click.echo(f"timestamped head {head}: {path}")


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


@registry_group.command("diff")
@click.argument("a")
@click.argument("b", default="latest")
@RELEASES_OPT
@click.option("--json", "as_json", is_flag=True, help="Print the structured diff as JSON.")
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
    from registry.release import resolve_release

    if paired:
        from registry.paired import format_paired, paired_tests

        pa, pb = resolve_release(releases_dir, a), resolve_release(releases_dir, b)
        tests = paired_tests(pa, load_ranking(pa), paired[0], pb, load_ranking(pb), paired[1])
        click.echo(json.dumps(tests, indent=2) if as_json else format_paired(tests))
        return
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
@click.option("--attest", is_flag=True, help="Write a signed reproduction attestation per cell (needs --key).")
@click.option("--key", "key_path", default=None, type=click.Path(dir_okay=False),
              help="The reproducer's private key for --attest (any Ed25519 key; keygen --keyring elsewhere.json).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Passphrase of --key in env VAR.")
def reproduce_cmd(version, cells, releases_dir, keyring_path, no_verify, device, tolerance, root, cache_dir, base,
                  attest, key_path, passphrase_env):
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

    if attest and not key_path:
        raise DDRError("--attest needs --key (the reproducer's private signing key)")
    attest_key = _load_keys([key_path], passphrase_env)[0] if attest else None
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
            if attest_key is not None:
                from registry.attest import write_attestation

                click.echo(f"attestation: {write_attestation(path, cell, rep, attest_key)}")
    if not ok:
        click.echo("FAIL reproduction mismatch")
        sys.exit(1)


__all__ = ["registry_group"]

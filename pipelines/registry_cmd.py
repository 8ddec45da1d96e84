"""``ddr registry``: keygen, trust, publish, verify, timestamp, ls, show, diff, reproduce.

Bad input raises ddr.errors.DDRError (the top-level ``ddr`` prints one line, exits 2); a failed
verification or reproduction prints one line naming the failing check and exits 1.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from ddr.errors import DDRError
from pipelines.common_options import TRACKING_URI_OPT
from pipelines.json_output import emit, json_option
from pipelines.lazy_group import LazyGroup
from pipelines.registry_options import (KEYRING_OPT, PASSPHRASE_OPT, RELEASES_OPT, SIGNING_KEYS_OPT, load_keys,
                                        seed_option)


# the subcommands of other modules, imported when run (pipelines.lazy_group): publishing a release loads no
# key management, viewing or reproduction code
LAZY = {
    "diff": ("pipelines.registry_view_cmd:diff_cmd", "Show rank moves and metric changes from release A to release B."),
    "keygen": ("pipelines.registry_keys_cmd:keygen",
               "Create an Ed25519 signing key and trust its public key in the keyring."),
    "ls": ("pipelines.registry_view_cmd:ls_cmd",
           "List releases, oldest first (unverified metadata; run verify to check them)."),
    "reproduce": ("pipelines.reproduce_cmd:reproduce_cmd",
                  "Re-run cells of a release from its provenance and compare the numbers."),
    "show": ("pipelines.registry_view_cmd:show_cmd",
             "Print a release's ranking (Markdown, CSV, JSON), its provenance, or its LRS tables in the "
             "DD-Ranking leaderboard's CSV format (ddranking-csv: HLR and IOR in percentage points)."),
    "trust": ("pipelines.registry_keys_cmd:trust_cmd",
              "Add a public key (a .pub file from keygen: raw hex, or a PEM file) to a keyring, or remove one."),
}


@click.group("registry", cls=LazyGroup, lazy=LAZY)
def registry_group() -> None:
    """Signed, versioned, verifiable ranking releases (releases/<version>/).

    \b
    Example:
      ddr registry keygen --out keys/maintainer.key
      ddr registry publish 1.0.0 --results runs/ --key keys/maintainer.key
      ddr registry verify
    """


@click.command("publish")
@click.argument("version")
@click.option("--results", "results", multiple=True, required=True, type=click.Path(),
              help="result.json files or folders searched recursively (repeatable).")
@RELEASES_OPT
@SIGNING_KEYS_OPT
@PASSPHRASE_OPT
@KEYRING_OPT
@seed_option(None, "Bootstrap seed (recorded in the release).")
@click.option("--resamples", type=int, default=None, help="Rank-certainty draws (default 10000).")
@click.option("--notes", default=None, help="Free text stored in the signed statement.")
@click.option("--mlflow/--no-mlflow", "use_mlflow", default=True, show_default=True,
              help="Log the release as a run in the MLflow 'releases' experiment.")
@TRACKING_URI_OPT
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
    keys = load_keys(key_paths, passphrase_env)
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
        from registry.layout import read_statement_unverified
        from ddr.tracking import resolve_tracking_uri
        from registry.release_run import log_release

        uri = resolve_tracking_uri(tracking_uri)
        runs = [rid for rid in dict.fromkeys((r.data.get("mlflow") or {}).get("run_id") for r in rs) if rid]
        signers = read_statement_unverified(path)["predicate"].get("signers")
        rid = log_release(path, version, runs, uri, signers)
        click.echo(f"mlflow: run {rid} in experiment 'releases' at {uri}")


@click.command("verify")
@click.argument("version", required=False)
@RELEASES_OPT
@KEYRING_OPT
@click.option("--latest", default=None, help="Fail unless this is the newest release (detects a rolled-back head).")
@click.option("--state", "state_path", default=None, type=click.Path(dir_okay=False),
              help="Trusted-state file: the newest keyring, head and timestamp verified per keyring "
                   "(default $DDR_STATE or ~/.local/state/ddr/verifier-state.json).")
@click.option("--no-state", is_flag=True, help="Neither read nor update the trusted state (no rollback detection).")
@click.option("--accept-keyring", is_flag=True, help="Re-pin the keyring even if it does not descend from the one seen before.")
@json_option("the verdict (ok, error with its check, the releases verified, the timestamp)")
def verify_cmd(version, releases_dir, keyring_path, latest, state_path, no_state, accept_keyring, as_json):
    """Verify releases offline: signatures, every file digest, the chain, the keyring's signed
    history and the timestamp's freshness against what this verifier saw before.

    Without VERSION every release is checked, with the timestamp and the trusted state (then
    advanced); with VERSION, the releases up to it (no freshness checks). Exits 0 when all holds,
    else prints 'FAIL <check>: <detail>' (bad signature, unknown key, digest mismatch, missing file,
    extra file, version mismatch, chain broken at VERSION, mix-and-match, rollback, freeze, removed
    release, keyring swap, attestation) and exits 1. With --json the same verdict is a JSON document on
    stdout ({"ok", "error": {"check", "detail"} or null, "releases" verified, "timestamp"}), the text on stderr.

    \b
    Example:
      ddr registry verify --keyring keys/keyring.json --state ~/.ddr-state.json
    """
    from registry.keyring import Keyring
    from registry.verify import verify_chain, verify_registry

    keyring = Keyring.load(keyring_path)
    if version is not None:  # an unknown version is bad input (exit 2), not a failed verification
        from registry.layout import resolve_release

        resolve_release(releases_dir, version)
        report = verify_chain(releases_dir, keyring, upto=version, latest=latest)
    else:
        from registry.trust_state import TrustState

        state = None if no_state else TrustState(state_path)
        report = verify_registry(releases_dir, keyring, state=state, keyring_path=keyring_path, latest=latest,
                                 accept_keyring=accept_keyring)
    ts = (report.freshness or {}).get("timestamp")
    document = {"ok": report.ok,
                "error": {"check": report.error.check, "detail": report.error.detail} if report.error else None,
                "releases": [dataclasses.asdict(r) for r in report.releases],  # on failure: those before it
                "timestamp": ts}
    if not report.ok:
        emit(document, f"FAIL {report.error}", as_json)
        sys.exit(1)
    lines = [f"ok {r.version}: {r.files} files, signed by {', '.join(k[:16] for k in r.signers)}, "
             f"previous {r.previous or '-'}" for r in report.releases]
    if ts:
        lines.append(f"ok timestamp #{ts['counter']}: head {report.releases[-1].version}, expires {ts['expires']}")
    elif report.freshness is not None:
        lines.append("note: no timestamp.dsse.json (format-1 registry): freshness not checked")
    lines.append(f"OK: {len(report.releases)} release(s) verified, chain intact")
    emit(document, "\n".join(lines), as_json)


@click.command("timestamp")
@RELEASES_OPT
@SIGNING_KEYS_OPT
@PASSPHRASE_OPT
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
    from registry.freshness import DEFAULT_EXPIRES_DAYS, timestamp_window, write_timestamp
    from registry.keyring import Keyring
    from registry.verify import verify_chain

    timestamp_window(DEFAULT_EXPIRES_DAYS if expires_days is None else expires_days)  # before any key is read
    keyring = Keyring.load(keyring_path)
    report = verify_chain(releases_dir, keyring)
    if not report.ok:
        raise DDRError(f"the releases do not verify ({report.error}); not timestamping them")
    head = report.releases[-1].version
    path = write_timestamp(releases_dir, head, load_keys(key_paths, passphrase_env),
                           expires_days=DEFAULT_EXPIRES_DAYS if expires_days is None else expires_days)
    click.echo(f"timestamped head {head}: {path}")


for _cmd in (publish_cmd, verify_cmd, timestamp_cmd):
    registry_group.add_command(_cmd)

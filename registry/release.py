"""Build and write release folders ``releases/<version>/`` atomically (registry/layout.py reads them).

Layout::

    releases/1.2.0/
      ranking.json  ranking.csv  ranking.md  index.html  provenance.json  sensitivity.json
      results/<dataset>-ipc<ipc>-<label>-<method>-<kind>.json   (the source result.json files, verbatim)
      release.dsse.json   (DSSE envelope of an in-toto Statement v1 over every file above)

A release is written into a temporary sibling folder and renamed into place; an existing version is
never overwritten, and a new version must be newer (semver) than every existing one.
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr.checks import check_release_file, confined, release_file
from ddr.errors import DDRError
from ddr.kernel.atomic import atomic_folder
from ddr.kernel.clock import utc_now
from ddr.kernel.digests import sha256_file
from ddr.kernel.git import git, git_commit
from ddr.locks import exclusive_lock
from ddr.protocols.ledger import rows_for as ledger_rows
from registry import ENVELOPE_NAME, PROVENANCE_SCHEMA, REGISTRY_SCHEMA_V2
from registry.keyring import Keyring, keyid_of
from registry.layout import envelope_digest, release_folders, release_path
from registry.ranking import (DEFAULT_RESAMPLES, DEFAULT_SEED, Result, build_ranking, predictions_path,
                              result_filename)
from registry.page.text import to_csv, to_markdown
from registry.sensitivity import build_sensitivity
from registry.signing import sign_statement, statement
from registry.util import check_seed, check_semver, dump_json, list_files, semver_key

# a publish waits this long for another one on the same releases folder (they chain, one after the other)
PUBLISH_WAIT_S = 600.0

PACKAGES = ("ddr", "torch", "numpy", "pandas", "mlflow", "dvc", "click", "securesystemslib", "cryptography")


def publish_lock(releases_dir: str | Path) -> Path:
    """The lock file of a releases folder: beside it, so the folder holds releases only."""
    root = Path(releases_dir).resolve()
    return root.with_name(f".{root.name}.publish.lock")


def _packages() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _unique(values) -> list:
    seen = []
    for v in values:
        if v is not None and v not in seen:
            seen.append(v)
    return seen


def build_provenance(results: list[Result], version: str, created_at: str, repo: Path, ranking: dict) -> dict:
    protocols = sorted({(r.data["protocol"].get("name"), r.data["protocol"].get("version"), r.data["protocol"].get("sha256"))
                        for r in results}, key=lambda t: tuple(str(x) for x in t))
    cells = []
    for r in results:
        d = r.data
        inputs = d.get("inputs") or {}
        env = d.get("environment") or {}
        dataset, ipc, label, method, kind = r.cell
        cells.append({
            "id": r.cell_id, "dataset": dataset, "ipc": ipc, "label": label, "method": method, "kind": kind,
            "model": d.get("model"), "protocol": d["protocol"], "weight": d.get("weight"), "rounds": d.get("rounds"),
            "distilled": inputs.get("distilled"), "dataset_input": inputs.get("dataset"),
            "random": inputs.get("random"), "teachers": inputs.get("teachers"),
            "real_checkpoint": inputs.get("real_checkpoint"),
            "result": f"results/{result_filename(r)}", "result_sha256": r.sha256,
            "mlflow": d.get("mlflow"), "device": env.get("device"), "environment": env,
            "started_at": d.get("started_at"), "finished_at": d.get("finished_at"),
        })
    dvc_lock = None
    lock = repo / "dvc.lock"
    if lock.is_file():
        from ddr.data.digest import file_md5

        dvc_lock = {"path": "dvc.lock", "sha256": sha256_file(lock), "md5": file_md5(lock)}
    envs = [r.data.get("environment") or {} for r in results]
    return {
        "schema": PROVENANCE_SCHEMA,
        "version": version,
        "created_at": created_at,
        # with each protocol, the measured effect of ddr's corrections on it (docs/correction-ledger.md)
        "protocols": [{"name": n, "version": v, "sha256": s, "ledger": ledger_rows([(n, v)])} for n, v, s in protocols],
        "dvc_lock": {"publisher": dvc_lock, "results": _unique(e.get("dvc_lock_md5") for e in envs)},
        "git": {"commit": git_commit(repo),
                "dirty": (lambda s: None if s is None else bool(s))(git(repo, "status", "--porcelain", "--untracked-files=no")),
                "results": _unique(e.get("git_commit") for e in envs)},
        "packages": {"publisher": _packages(),
                     "results": _unique({k: e.get(k) for k in ("ddr", "python", "torch")} for e in envs)},
        "hardware": {"publisher": {"platform": platform.platform(), "machine": platform.machine(),
                                   "processor": platform.processor() or None, "cpu_count": os.cpu_count()},
                     "results": _unique({"device": e.get("device"), "platform": e.get("platform")} for e in envs)},
        "mlflow_run_ids": _unique((r.data.get("mlflow") or {}).get("run_id") for r in results),
        "posterior_draws": ranking["posterior_draws"],
        "cells": cells,
    }


def copy_predictions(r: Result, dest: Path) -> None:
    """Copy the predictions bundle beside a result.json into the release, if the result names one; a bundle
    whose sha256 differs from the result's record is refused (it is not the result's)."""
    info = r.data.get("predictions")
    if not isinstance(info, dict) or not info.get("file"):
        return
    src = confined(r.path.parent, str(info["file"]), what="predictions file")  # named by the result.json
    if not src.is_file():
        return  # the release then has no per-image comparison for this cell
    if sha256_file(src) != info.get("sha256"):
        raise DDRError(f"{src}: sha256 differs from the one in {r.path}; re-run the evaluation")
    shutil.copyfile(src, dest)


def publish(results: list[Result], releases_dir: str | Path, version: str, keys: list[Ed25519PrivateKey],
            *, keyring: Keyring | None = None, seed: int = DEFAULT_SEED, resamples: int = DEFAULT_RESAMPLES,
            notes: str | None = None, repo: str | Path | None = None, expires_days: float | None = None,
            leaderboard: str | Path | None = None) -> Path:
    """Rank, render, sign and write releases/<version>/ and a fresh releases/timestamp.dsse.json
    (expiring after ``expires_days``). Returns the release folder. With `leaderboard` (a DD-Ranking
    leaderboard CSV) the release carries its rows as a reference column (leaderboard.json, and a table
    in ranking.md: ddr's LRS, the leaderboard's, the difference).

    Two publishes at once would both read the same head and both name it `previous`, splitting the chain
    for good: everything from reading the head to renaming the new release into place holds an
    exclusive lock on the releases folder."""
    from registry.freshness import DEFAULT_EXPIRES_DAYS, timestamp_window

    check_semver(version)
    timestamp_window(DEFAULT_EXPIRES_DAYS if expires_days is None else expires_days)  # before anything is written
    check_seed(seed)
    if not keys:
        raise DDRError("publishing needs at least one signing key (--key)")
    releases_dir = Path(releases_dir)
    names: dict[str, str] = {}
    for r in results:  # two cells must never share one file: one result would silently replace the other
        name = check_release_file(f"results/{result_filename(r)}", f"result file of cell {r.cell_id}")
        if name in names:
            raise DDRError(f"cells {names[name]} and {r.cell_id} map to the same result file {name}")
        names[name] = r.cell_id
    board = None
    if leaderboard is not None:
        from registry.leaderboard import read_leaderboard

        board = (Path(leaderboard), read_leaderboard(leaderboard))  # a bad CSV fails before anything is written
    releases_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(publish_lock(releases_dir), timeout=PUBLISH_WAIT_S, what=f"releases folder {releases_dir}"):
        return _publish_locked(results, releases_dir, version, keys, keyring=keyring, seed=seed,
                               resamples=resamples, notes=notes, repo=repo, expires_days=expires_days, board=board)


def _publish_locked(results: list[Result], releases_dir: Path, version: str, keys: list[Ed25519PrivateKey], *,
                    keyring: Keyring | None, seed: int, resamples: int, notes: str | None,
                    repo: str | Path | None, expires_days: float | None, board: tuple | None = None) -> Path:
    from registry.attest import carried_reproductions
    from registry.freshness import DEFAULT_EXPIRES_DAYS, write_timestamp
    from registry.page.render import render_page

    final = release_path(releases_dir, version)
    if final.exists():
        raise DDRError(f"release {version} already exists in {releases_dir}; versions are never overwritten")
    folders = release_folders(releases_dir)
    versions = list(folders)
    if versions and semver_key(version) <= semver_key(versions[-1]):
        raise DDRError(f"version {version} is not newer than the latest release {versions[-1]}")
    signer_ids = [keyid_of(k.public_key()) for k in keys]
    if keyring is not None:
        untrusted = [k for k in signer_ids if k not in keyring.keys]
        if untrusted:
            raise DDRError(f"signing key {untrusted[0][:16]} is not in keyring {keyring.path}; add it first "
                           "(ddr registry keygen --keyring, or trust its .pub)")
        if versions:  # never extend a chain that does not verify
            from registry.verify import verify_chain

            report = verify_chain(releases_dir, keyring)
            if not report.ok:
                raise DDRError(f"the existing releases do not verify ({report.error}); fix them before publishing")
    previous = None
    if versions:
        prev = versions[-1]
        previous = {"version": prev, "digest": {"sha256": envelope_digest(folders[prev])}}

    created_at = utc_now()
    ranking = build_ranking(results, seed=seed, resamples=resamples)
    sensitivity = build_sensitivity(ranking)
    provenance = build_provenance(results, version, created_at, Path(repo or os.getcwd()), ranking)
    meta = {"created": created_at, "previous": previous["version"] if previous else "none (first release)",
            "signed by": ", ".join(k[:16] for k in signer_ids), "git commit": provenance["git"]["commit"] or "unknown"}
    if notes:
        meta["notes"] = notes

    with atomic_folder(final) as tmp:
        (tmp / "results").mkdir()
        for r in results:
            name = f"results/{result_filename(r)}"
            shutil.copyfile(r.path, release_file(tmp, name))
            copy_predictions(r, release_file(tmp, predictions_path(name)))
        (tmp / "ranking.json").write_text(dump_json({"version": version, **ranking}))
        (tmp / "ranking.csv").write_text(to_csv(ranking))
        (tmp / "ranking.md").write_text(to_markdown(ranking, version, meta))
        if board is not None:
            from registry.leaderboard import compare, reference_markdown

            comparison = compare(ranking, board[1])
            (tmp / "leaderboard.json").write_text(dump_json({"source": board[0].name, "sha256": sha256_file(board[0]),
                                                             "rows": board[1], "comparison": comparison}))
            with open(tmp / "ranking.md", "a") as fh:
                fh.write("\n" + reference_markdown(comparison, board[0].name))
        (tmp / "sensitivity.json").write_text(dump_json(sensitivity))
        page = render_page(ranking, version, meta, sensitivity, carried_reproductions(releases_dir, results),
                           sorted(r.cell_id for r in results),
                           sign=((tmp / "ranking.json").read_bytes(), keys, keyring.threshold if keyring is not None else 1))
        (tmp / "index.html").write_text(page)
        (tmp / "provenance.json").write_text(dump_json(provenance))
        subjects = {name: sha256_file(tmp / name) for name in list_files(tmp)}
        predicate = {"schema": REGISTRY_SCHEMA_V2, "version": version, "previous": previous, "created_at": created_at,
                     "generator": {"name": "ddr", "version": _packages().get("ddr")},
                     "signers": signer_ids, "notes": notes,
                     "ranking": {"name": "ranking.json", "digest": {"sha256": subjects["ranking.json"]}}}
        envelope = sign_statement(statement(subjects, predicate), keys)
        (tmp / ENVELOPE_NAME).write_text(dump_json(envelope))
        if final.exists():
            raise DDRError(f"release {version} appeared in {releases_dir} while publishing; not overwriting it")
    write_timestamp(releases_dir, version, keys,
                    expires_days=DEFAULT_EXPIRES_DAYS if expires_days is None else expires_days)
    return final


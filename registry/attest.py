"""Reproduction attestations: a reproducer's signed word that re-running a cell gave the release's numbers.

``ddr registry reproduce VERSION --cell ... --attest --key K`` writes
``releases/attestations/<version>/<cell>.<keyid16>.dsse.json``: a DSSE envelope of an in-toto Statement
whose subjects are the release's envelope and the cell's result file (with their sha256), whose
predicate holds the cell, the numbers the reproducer got, device, tolerance, match, ddr and torch
versions, and the reproducer's public key (the key id is its sha256, so the attestation verifies on
its own). Attestations sit beside the release, outside its signed subject: anyone may add one, and
each is judged alone. One that does not verify, names other files than the release holds, or claims
a match its numbers do not show fails verification.
"""
from __future__ import annotations

import base64
import importlib.metadata
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr.checks import confined
from ddr.errors import DDRError
from ddr.kernel.atomic import write_text_atomic
from ddr.kernel.clock import utc_now
from ddr.kernel.digests import sha256_file
from registry import ATTESTATIONS_DIR, ENVELOPE_NAME, REPRODUCTION_PREDICATE_TYPE
from registry.keyring import Keyring, keyid_of, parse_public, public_raw
from registry.reproduction import compare_metrics
from registry.signing import VerifyError, sign_statement, statement, verify_envelope
from registry.util import dump_json, read_json


def attestations_dir(releases_dir: str | Path, version: str) -> Path:
    """releases/attestations/<version>, the version confined to a plain folder name."""
    return confined(Path(releases_dir) / ATTESTATIONS_DIR, version, what="release version")


def _version(pkg: str) -> str | None:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def write_attestation(release_dir: str | Path, cell: dict, report: dict, key: Ed25519PrivateKey) -> Path:
    """Sign and write the attestation of one reproduce_cell report; returns its path."""
    release_dir = Path(release_dir)
    version, kid = release_dir.name, keyid_of(key.public_key())
    got = {r["metric"]: [] for r in report["rows"]}
    for r in report["rows"]:
        if r["round"] is not None:
            got[r["metric"]].append(r["reproduced"])
    pred = {"release": version, "cell": cell["id"], "match": report["match"], "device": report["device"],
            "tolerance": report["tolerance"], "exact": report["exact"],
            "metrics": {m: {"per_round": v} for m, v in got.items()},
            "ddr": _version("ddr"), "torch": _version("torch"), "reproduced_at": utc_now(),
            "reproducer": {"keyid": kid, "public": public_raw(key.public_key()).hex()}}
    subjects = {f"{version}/{ENVELOPE_NAME}": sha256_file(release_dir / ENVELOPE_NAME),
                f"{version}/{cell['result']}": sha256_file(release_dir / cell["result"])}
    out = confined(attestations_dir(release_dir.parent, version), f"{cell['id'].replace('/', '_')}.{kid[:16]}.dsse.json",
                   what="attestation file (from the cell id)")
    return write_text_atomic(out, dump_json(sign_statement(statement(subjects, pred, REPRODUCTION_PREDICATE_TYPE), [key])))


def verify_attestation(path: str | Path, release_dir: str | Path) -> dict:
    """The verified predicate of one attestation of the release in ``release_dir``; raises
    VerifyError('attestation', ...) when it is forged, about other files, or claims a false match."""
    path, release_dir = Path(path), Path(release_dir)
    version, where = release_dir.name, f"{ATTESTATIONS_DIR}/{release_dir.name}/{Path(path).name}"
    try:
        env = json.loads(path.read_text(encoding="utf-8"))
        stmt = json.loads(base64.b64decode(env["payload"]))
        rep = stmt["predicate"]["reproducer"]
        pub = parse_public(rep["public"])
    except (OSError, ValueError, KeyError, TypeError, DDRError):  # any unreadable attestation fails alike
        raise VerifyError("attestation", f"{where} is not a readable attestation") from None
    if keyid_of(pub) != rep.get("keyid"):
        raise VerifyError("attestation", f"{where}: the reproducer key id is not the sha256 of its key")
    try:
        stmt, _ = verify_envelope(env, Keyring({rep["keyid"]: {"public": rep["public"], "scheme": "ed25519"}}),
                                  where, (REPRODUCTION_PREDICATE_TYPE,))
    except VerifyError as e:
        raise VerifyError("attestation", e.detail) from None
    pred = stmt["predicate"]
    if pred.get("release") != version:
        raise VerifyError("attestation", f"{where} attests release {pred.get('release')!r}, not {version}")
    cells = {c["id"]: c for c in read_json(release_dir / "provenance.json", "provenance").get("cells", [])}
    cell = cells.get(pred.get("cell"))
    if cell is None:
        raise VerifyError("attestation", f"{where} names cell {pred.get('cell')!r}, which release {version} lacks")
    want = {f"{version}/{ENVELOPE_NAME}": sha256_file(release_dir / ENVELOPE_NAME),
            f"{version}/{cell['result']}": sha256_file(release_dir / cell["result"])}
    if {s.get("name"): (s.get("digest") or {}).get("sha256") for s in stmt["subject"]} != want:
        raise VerifyError("attestation", f"{where} attests other files than release {version} holds")
    expected = read_json(release_dir / cell["result"], "release result")["metrics"]
    rows = compare_metrics(expected, pred.get("metrics") or {}, float(pred.get("tolerance") or 0.0))
    if bool(pred.get("match")) != all(r["ok"] for r in rows):
        raise VerifyError("attestation", f"{where} claims match={pred.get('match')}, but its numbers "
                                         f"{'do not match' if pred.get('match') else 'match'} the release's")
    return dict(pred, keyid=rep["keyid"])


def reproductions(release_dir: str | Path) -> dict[str, dict[str, list[str]]]:
    """{cell id: {"match": [key ids], "mismatch": [key ids]}} from the release's verified attestations;
    raises VerifyError on the first that fails."""
    release_dir = Path(release_dir)
    out: dict[str, dict[str, list[str]]] = {}
    folder = attestations_dir(release_dir.parent, release_dir.name)
    for p in sorted(folder.glob("*.dsse.json")) if folder.is_dir() else []:
        pred = verify_attestation(p, release_dir)
        keys = out.setdefault(pred["cell"], {"match": [], "mismatch": []})["match" if pred["match"] else "mismatch"]
        if pred["keyid"] not in keys:
            keys.append(pred["keyid"])
    return out


def format_reproductions(repro: dict[str, dict[str, list[str]]], cells: list[str]) -> list[str]:
    """One line per cell: 'reproduced by N keys (ids)', plus failed reproductions when any."""
    lines = []
    for cid in cells:
        r = repro.get(cid, {"match": [], "mismatch": []})
        n = len(r["match"])
        line = f"{cid}: reproduced by {n} key{'s' if n != 1 else ''}"
        if n:
            line += f" ({', '.join(k[:16] for k in r['match'])})"
        if r["mismatch"]:
            line += f"; did not reproduce for {len(r['mismatch'])} ({', '.join(k[:16] for k in r['mismatch'])})"
        lines.append(line)
    return lines


def carried_reproductions(releases_dir: str | Path, results: list) -> dict[str, list[str]]:
    """For a release being published: {cell id: key ids} of matching attestations, in earlier releases,
    of the very same result file (same cell, same sha256). Attestations that fail are not counted."""
    by_cell = {r.cell_id: r.sha256 for r in results}
    from registry.layout import release_folders

    out: dict[str, list[str]] = {}
    for v, release_dir in release_folders(releases_dir).items():
        folder = attestations_dir(releases_dir, v)
        cells = {c["id"]: c for c in read_json(release_dir / "provenance.json", "provenance").get("cells", [])} \
            if folder.is_dir() else {}
        for p in sorted(folder.glob("*.dsse.json")) if folder.is_dir() else []:
            try:
                pred = verify_attestation(p, release_dir)
            except VerifyError:
                continue
            cid = pred["cell"]
            if pred["match"] and by_cell.get(cid) == cells[cid]["result_sha256"] and pred["keyid"] not in out.get(cid, []):
                out.setdefault(cid, []).append(pred["keyid"])
    return out


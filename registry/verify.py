"""Offline verification of releases: signatures, every file digest, and the chain of releases.

Checks, per release (oldest first), each failing with a named check:

- ``missing file`` / ``extra file``: the folder holds exactly the statement's subjects + the envelope;
- ``malformed envelope`` / ``malformed statement``: the envelope is DSSE, the payload an in-toto Statement v1;
- ``unknown key`` / ``bad signature``: at least ``threshold`` trusted keys signed the PAE of the payload;
- ``version mismatch``: the signed statement names the folder's version (catches a replayed envelope);
- ``digest mismatch``: every file's sha256 equals its subject digest;
- ``chain broken at VERSION``: each release names the version and envelope sha256 of the release
  before it (catches a removed, reordered or substituted release); the first names none.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from registry import ENVELOPE_NAME
from registry.keyring import Keyring
from registry.release import envelope_digest, list_versions
from registry.signing import VerifyError, verify_envelope
from registry.util import list_files, sha256_file


@dataclass
class Verified:
    version: str
    signers: list[str]
    previous: str | None
    created_at: str | None
    files: int


@dataclass
class Report:
    releases: list[Verified] = field(default_factory=list)
    error: VerifyError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def verify_release(release_dir: str | Path, keyring: Keyring) -> tuple[dict, list[str]]:
    """Verify one release folder on its own (no chain). Returns (statement, valid signer key ids)."""
    release_dir = Path(release_dir)
    version = release_dir.name
    env_path = release_dir / ENVELOPE_NAME
    if not env_path.is_file():
        raise VerifyError("missing file", f"{version}/{ENVELOPE_NAME}")
    try:
        env = json.loads(env_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerifyError("malformed envelope", f"{version}/{ENVELOPE_NAME} is not JSON") from None
    stmt, signers = verify_envelope(env, keyring, f"{version}/{ENVELOPE_NAME}")
    pred = stmt["predicate"]
    if pred.get("version") != version:
        raise VerifyError("version mismatch", f"folder {version} holds an envelope signed for release "
                                              f"{pred.get('version')!r} (a replayed or renamed release)")
    subjects: dict[str, str] = {}
    for s in stmt["subject"]:
        name = s.get("name") if isinstance(s, dict) else None
        digest = (s.get("digest") or {}).get("sha256") if isinstance(s, dict) else None
        if not isinstance(name, str) or not isinstance(digest, str) or name in subjects:
            raise VerifyError("malformed statement", f"{version}: subject {s!r} is invalid or repeated")
        pp = PurePosixPath(name)
        if pp.is_absolute() or ".." in pp.parts or name == ENVELOPE_NAME:
            raise VerifyError("malformed statement", f"{version}: subject name {name!r} is not allowed")
        subjects[name] = digest
    on_disk = set(list_files(release_dir)) - {ENVELOPE_NAME}
    for name in sorted(set(subjects) - on_disk):
        raise VerifyError("missing file", f"{version}/{name}")
    for name in sorted(on_disk - set(subjects)):
        raise VerifyError("extra file", f"{version}/{name}")
    for name in sorted(subjects):
        path = release_dir / name
        if path.is_symlink() or not path.is_file():
            raise VerifyError("digest mismatch", f"{version}/{name} is not a regular file")
        if sha256_file(path) != subjects[name]:
            raise VerifyError("digest mismatch", f"{version}/{name}")
    return stmt, signers


def verify_chain(releases_dir: str | Path, keyring: Keyring, *, upto: str | None = None,
                 latest: str | None = None) -> Report:
    """Verify every release in releases_dir (or those up to ``upto``) and the chain linking them.
    ``latest``: the version the caller expects to be newest (detects a rolled-back head)."""
    releases_dir = Path(releases_dir)
    report = Report()
    versions = list_versions(releases_dir)
    try:
        if not versions:
            raise VerifyError("missing file", f"no releases in {releases_dir}")
        if latest is not None and versions[-1] != latest:
            raise VerifyError(f"chain broken at {latest}",
                              f"the newest release in {releases_dir} is {versions[-1]}, expected {latest}")
        if upto is not None:
            if upto not in versions:
                raise VerifyError("missing file", f"release {upto} is not in {releases_dir}")
            versions = versions[: versions.index(upto) + 1]
        for i, v in enumerate(versions):
            stmt, signers = verify_release(releases_dir / v, keyring)
            pred = stmt["predicate"]
            prev = pred.get("previous")
            if i == 0:
                if prev is not None:
                    raise VerifyError(f"chain broken at {v}",
                                      f"it names previous release {prev.get('version')!r}, which is not in {releases_dir}")
            else:
                before = versions[i - 1]
                if not isinstance(prev, dict) or prev.get("version") != before:
                    named = prev.get("version") if isinstance(prev, dict) else None
                    raise VerifyError(f"chain broken at {v}",
                                      f"it names previous release {named!r}, but the release before it is {before}")
                want = (prev.get("digest") or {}).get("sha256")
                if want != envelope_digest(releases_dir / before):
                    raise VerifyError(f"chain broken at {v}",
                                      f"the envelope digest of previous release {before} does not match")
            report.releases.append(Verified(v, signers, prev.get("version") if isinstance(prev, dict) else None,
                                            pred.get("created_at"), len(stmt["subject"])))
    except VerifyError as e:
        report.error = e
    return report

"""Offline verification of releases: signatures, every file digest, and the chain of releases.

Checks, per release (oldest first), each failing with a named check:

- ``missing file`` / ``extra file``: the folder holds exactly the statement's subjects + the envelope, and no
  folder beside the releases holds a release under a name that is not a semantic version;
- ``malformed envelope`` / ``malformed statement``: the envelope is DSSE, the payload an in-toto Statement v1;
- ``unknown key`` / ``bad signature``: at least ``threshold`` trusted keys signed the PAE of the payload;
- ``version mismatch``: the signed statement names the folder's version (catches a replayed envelope);
- ``digest mismatch``: every file's sha256 equals its subject digest;
- ``chain broken at VERSION``: each release names the version and envelope sha256 of the release
  before it (catches a removed, reordered or substituted release); the first names none.
- ``mix-and-match``: a file whose digest is that of the same file in another release (files of one
  release presented with the statement of another).

``verify_registry`` adds what one look at a folder cannot know (registry/freshness.py,
registry/keyring_updates.py, registry/trust_state.py): ``keyring swap``, ``rollback``, ``freeze``,
``removed release`` and timestamp ``mix-and-match``, against the verifier's trusted state.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ddr.errors import DDRError
from ddr.kernel.digests import sha256_file
from registry import ENVELOPE_NAME, PREDICATE_TYPE_V2
from registry.keyring import Keyring
from registry.layout import envelope_digest, read_statement_unverified, release_folders, stray_releases
from registry.signing import VerifyError, verify_envelope
from registry.trust_state import TrustState
from registry.util import list_files


@dataclass
class Verified:
    version: str
    signers: list[str]
    previous: str | None
    created_at: str | None
    files: int
    predicate_type: str | None = None


@dataclass
class Report:
    releases: list[Verified] = field(default_factory=list)
    error: VerifyError | None = None
    freshness: dict | None = None  # the trust-state entry recorded by verify_registry

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
        digest = sha256_file(path)
        if digest != subjects[name]:
            other = _release_holding(release_dir, name, digest)
            if other:
                raise VerifyError("mix-and-match", f"{version}/{name} is the file of release {other}, "
                                                   f"not the one {version}'s statement signs")
            raise VerifyError("digest mismatch", f"{version}/{name}")
    return stmt, signers


def _release_holding(release_dir: Path, name: str, digest: str) -> str | None:
    """Another release beside this one whose (unverified) statement lists ``name`` with ``digest``;
    only used to name the failure, which is certain either way."""
    for v, other in release_folders(release_dir.parent).items():
        if v == release_dir.name:
            continue
        try:
            subjects = read_statement_unverified(other)["subject"]
        except (DDRError, OSError, KeyError, TypeError):
            continue
        if any(isinstance(s, dict) and s.get("name") == name and (s.get("digest") or {}).get("sha256") == digest
               for s in subjects):
            return v
    return None


def verify_chain(releases_dir: str | Path, keyring: Keyring, *, upto: str | None = None,
                 latest: str | None = None) -> Report:
    """Verify every release in releases_dir (or those up to ``upto``) and the chain linking them.
    ``latest``: the version the caller expects to be newest (detects a rolled-back head)."""
    releases_dir = Path(releases_dir)
    report = Report()
    folders = release_folders(releases_dir)
    versions = list(folders)
    try:
        for name in stray_releases(releases_dir):
            raise VerifyError("extra file", f"{name}/{ENVELOPE_NAME}: a release folder whose name is not a "
                                            "semantic version")
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
            stmt, signers = verify_release(folders[v], keyring)
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
                if want != envelope_digest(folders[before]):
                    raise VerifyError(f"chain broken at {v}",
                                      f"the envelope digest of previous release {before} does not match")
            report.releases.append(Verified(v, signers, prev.get("version") if isinstance(prev, dict) else None,
                                            pred.get("created_at"), len(stmt["subject"]), stmt["predicateType"]))
    except VerifyError as e:
        report.error = e
    return report


def verify_registry(releases_dir: str | Path, keyring: Keyring, *, state: TrustState | None = None,
                    keyring_path: str | Path | None = None, latest: str | None = None,
                    accept_keyring: bool = False) -> Report:
    """verify_chain plus the keyring's signed history and freshness: the timestamp, and what the
    trusted ``state`` (a TrustState, or None for a stateless check) saw before for this keyring.
    On success the state is advanced to the verified keyring, head and timestamp."""
    from registry.freshness import check_freshness
    from registry.keyring_updates import verify_lineage

    releases_dir = Path(releases_dir)
    ring_key = keyring_path or keyring.path
    seen = state.entry(ring_key) if state is not None and ring_key else {}
    try:
        lineage = verify_lineage(keyring)
        pinned = seen.get("keyring")
        if pinned and not accept_keyring and (pinned.get("version"), pinned.get("digest")) not in lineage:
            if keyring.version < pinned.get("version", 0):
                why = f"it is version {keyring.version}, older than version {pinned['version']} seen before"
            else:
                why = (f"it (version {keyring.version}) does not descend, by signed updates, from version "
                       f"{pinned.get('version')} seen before; if you changed it yourself, sign the change "
                       "(--sign-with) or re-pin it (verify --accept-keyring)")
            raise VerifyError("keyring swap", why)
    except VerifyError as e:
        return Report(error=e)
    pin = {"version": lineage[-1][0], "digest": lineage[-1][1]}
    if state is not None and ring_key and seen.get("keyring") != pin:
        # like a TUF client's new root, an accepted keyring version is kept even if the releases fail
        seen["keyring"] = pin
        state.update(ring_key, seen)
    report = verify_chain(releases_dir, keyring, latest=latest)
    if not report.ok:
        return report
    try:
        needs_ts = any(r.predicate_type == PREDICATE_TYPE_V2 for r in report.releases)
        entry = check_freshness(releases_dir, keyring, [r.version for r in report.releases], needs_ts, seen)
    except VerifyError as e:
        report.error = e
        return report
    try:  # attestations sit outside the signed releases, but a forged or false one must not pass
        from registry.attest import reproductions

        folders = release_folders(releases_dir)
        for r in report.releases:
            reproductions(folders[r.version])
    except VerifyError as e:
        report.error = e
        return report
    entry["keyring"] = pin
    report.freshness = entry
    if state is not None and ring_key:
        state.update(ring_key, entry)
    return report

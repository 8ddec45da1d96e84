"""The read side of a releases folder: which versions it holds, where a release's files are, and its
statement read without checking signatures. Both the writer (registry/release.py) and the verifier
(registry/verify.py) build on it, so neither imports the other for these.

Layout::

    releases/
      1.2.0/                     a release (see registry/release.py for its files)
        release.dsse.json        the DSSE envelope signing every other file of the release
      timestamp.dsse.json        the registry's signed timestamp (registry/freshness.py)
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

from ddr.checks import confined
from ddr.errors import DDRError, unknown
from ddr.kernel.digests import sha256_file
from registry import ENVELOPE_NAME
from registry.util import is_semver, semver_key


def release_folders(releases_dir: str | Path) -> dict[str, Path]:
    """{version: folder} of the releases present in releases_dir, oldest first (semver order), as the folder's
    own listing names them: verifiers walk these without joining a version into a path. Hidden and non-semver
    entries (temporary folders, a README) are ignored."""
    root = Path(releases_dir)
    if not root.is_dir():
        return {}
    found = sorted((p for p in root.iterdir() if p.is_dir() and is_semver(p.name)), key=lambda p: semver_key(p.name))
    return {p.name: p for p in found}


def list_versions(releases_dir: str | Path) -> list[str]:
    """Release versions present in releases_dir, oldest first (semver order); see release_folders."""
    return list(release_folders(releases_dir))


def release_path(releases_dir: str | Path, version: str) -> Path:
    """The folder of release ``version`` (given by a user or named by a signed statement), confined to
    releases_dir: a version is a plain name, and a symbolic link out of the folder is refused."""
    return confined(releases_dir, version, what="release version")


def stray_releases(releases_dir: str | Path) -> list[str]:
    """Visible folders that hold a release envelope under a name that is not a semantic version: no
    verifier reads them as part of the chain, so a verifier fails on them rather than skip a release
    (or a forgery) a reader may still open. Hidden folders are interrupted writes (ddr/kernel/atomic.py)."""
    root = Path(releases_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and not is_semver(p.name) and (p / ENVELOPE_NAME).exists())


def envelope_digest(release_dir: str | Path) -> str:
    """The sha256 of a release's envelope: what the next release names as its previous one."""
    return sha256_file(Path(release_dir) / ENVELOPE_NAME)


def read_statement_unverified(release_dir: str | Path) -> dict:
    """The statement inside a release's envelope, WITHOUT checking signatures (for ls/show/diff)."""
    path = Path(release_dir) / ENVELOPE_NAME
    try:
        env = json.loads(path.read_text())
        return json.loads(base64.b64decode(env["payload"]))
    except FileNotFoundError:
        raise DDRError(f"{path} does not exist") from None
    except (ValueError, KeyError, TypeError):
        raise DDRError(f"{path} is not a readable DSSE envelope") from None


def resolve_release(releases_dir: str | Path, version: str) -> Path:
    """A release folder by version ('latest' = newest), or a path to a release folder."""
    p = Path(version)
    if (p / ENVELOPE_NAME).is_file():
        return p
    versions = list_versions(releases_dir)
    if version == "latest":
        if not versions:
            raise DDRError(f"no releases in {releases_dir}")
        version = versions[-1]
    if version not in versions:
        if not versions:
            raise DDRError(f"no releases in {releases_dir}")
        raise unknown("release", version, versions)
    return release_path(releases_dir, version)

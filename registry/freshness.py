"""Signed timestamps (TUF-style freshness) and the rollback / freeze / removal / mix-and-match checks.

``releases/timestamp.dsse.json`` is a DSSE envelope of an in-toto Statement whose subject is the
newest release's envelope (``<head>/release.dsse.json`` with its sha256) and whose predicate holds
``head``, a ``counter`` that grows with every timestamp, ``issued_at`` and ``expires``. The chain
links every older release to the head, so the timestamp pins the whole registry; its expiry means a
mirror that stops updating (a freeze) is noticed. ``publish`` writes it; ``ddr registry timestamp``
re-signs it before it expires.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr.errors import DDRError
from ddr.kernel.atomic import write_text_atomic
from ddr.kernel.clock import utc_now
from ddr.kernel.digests import sha256_file
from registry import ENVELOPE_NAME, TIMESTAMP_NAME, TIMESTAMP_PREDICATE_TYPE
from registry.keyring import Keyring
from registry.layout import release_folders, release_path
from registry.signing import VerifyError, sign_statement, statement, verify_envelope
from registry.util import dump_json, semver_key

DEFAULT_EXPIRES_DAYS = 30.0
MAX_EXPIRES_DAYS = 3660.0  # ten years: a timestamp that never expires would make a freeze undetectable
_FMT = "%Y-%m-%dT%H:%M:%SZ"


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime(_FMT)


def _parse(text: object) -> datetime | None:
    try:
        return datetime.strptime(str(text), _FMT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def read_timestamp_unverified(releases_dir: str | Path) -> dict | None:
    """The timestamp's predicate without checking its signature (for numbering the next one)."""
    import base64

    p = Path(releases_dir) / TIMESTAMP_NAME
    try:
        return json.loads(base64.b64decode(json.loads(p.read_text())["payload"]))["predicate"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def timestamp_window(expires_days: object, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(issued at, expires at) of a timestamp signed now, after checking --expires-days: a finite number
    of days in (0, MAX_EXPIRES_DAYS]. With no explicit ``now`` the issue time honours SOURCE_DATE_EPOCH,
    and a timestamp that would already have expired by the real clock is refused: every verifier would
    fail it ('freeze'), so signing it only breaks the registry. Callers check this before writing anything."""
    try:
        days = float(expires_days)
    except (TypeError, ValueError):
        raise DDRError(f"--expires-days must be a number of days; got {expires_days!r}") from None
    if isinstance(expires_days, bool) or not (0 < days <= MAX_EXPIRES_DAYS):  # also refuses nan and inf
        raise DDRError(f"--expires-days must be more than 0 and at most {MAX_EXPIRES_DAYS:g}; got {expires_days}")
    if now is not None:
        return now, now + timedelta(days=days)
    try:
        issued = _parse(utc_now())
        expires = issued + timedelta(days=days)
    except (OverflowError, ValueError, OSError, TypeError):
        raise DDRError("SOURCE_DATE_EPOCH gives an issue time a timestamp cannot carry") from None
    real = datetime.now(timezone.utc)
    if expires <= real:
        raise DDRError(f"a timestamp issued at {_iso(issued)} (SOURCE_DATE_EPOCH) with --expires-days {expires_days} "
                       f"expired at {_iso(expires)}, before now ({_iso(real)}); refusing to sign an expired timestamp")
    return issued, expires


def write_timestamp(releases_dir: str | Path, head: str, keys: list[Ed25519PrivateKey], *,
                    expires_days: float = DEFAULT_EXPIRES_DAYS, now: datetime | None = None) -> Path:
    """Sign and write releases/timestamp.dsse.json naming ``head``, with the next counter (``now``: an
    explicit issue time, as a test builds an old registry with; see timestamp_window)."""
    issued, expires = timestamp_window(expires_days, now)
    releases_dir = Path(releases_dir)
    env_path = release_path(releases_dir, head) / ENVELOPE_NAME
    if not env_path.is_file():
        raise DDRError(f"release {head} is not in {releases_dir}")
    old = read_timestamp_unverified(releases_dir) or {}
    counter = old.get("counter") if isinstance(old.get("counter"), int) else 0
    pred = {"head": head, "counter": counter + 1, "issued_at": _iso(issued), "expires": _iso(expires)}
    stmt = statement({f"{head}/{ENVELOPE_NAME}": sha256_file(env_path)}, pred, TIMESTAMP_PREDICATE_TYPE)
    return write_text_atomic(releases_dir / TIMESTAMP_NAME, dump_json(sign_statement(stmt, keys)))


def verify_timestamp(releases_dir: Path, keyring: Keyring) -> dict | None:
    """The verified timestamp predicate plus its subject digest, or None when there is none."""
    p = releases_dir / TIMESTAMP_NAME
    if not p.exists():
        return None
    try:
        env = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerifyError("malformed envelope", f"{TIMESTAMP_NAME} is not JSON") from None
    stmt, _ = verify_envelope(env, keyring, TIMESTAMP_NAME, (TIMESTAMP_PREDICATE_TYPE,))
    pred, subj = stmt["predicate"], stmt["subject"]
    head = pred.get("head")
    if (not isinstance(head, str) or not isinstance(pred.get("counter"), int) or _parse(pred.get("expires")) is None
            or len(subj) != 1 or not isinstance(subj[0], dict) or subj[0].get("name") != f"{head}/{ENVELOPE_NAME}"):
        raise VerifyError("malformed statement", f"{TIMESTAMP_NAME} does not name one head release envelope")
    return dict(pred, envelope=(subj[0].get("digest") or {}).get("sha256"))


def check_freshness(releases_dir: Path, keyring: Keyring, versions: list[str], timestamp_required: bool,
                    seen: dict, now: datetime | None = None) -> dict:
    """Compare the verified chain (``versions``, oldest first) with the timestamp and with what this
    verifier saw before (``seen``: a trust-state entry). Returns the entry to record on success;
    raises VerifyError('rollback' | 'freeze' | 'removed release' | 'mix-and-match' | ...)."""
    now = now or datetime.now(timezone.utc)
    newest, folders = versions[-1], release_folders(releases_dir)
    seen_head, seen_ts = seen.get("head") or {}, seen.get("timestamp") or {}
    ts = verify_timestamp(releases_dir, keyring)
    if ts is not None:
        if seen_ts.get("counter") is not None and ts["counter"] < seen_ts["counter"]:
            raise VerifyError("rollback", f"{TIMESTAMP_NAME} is #{ts['counter']} (head {ts['head']}), older than "
                                          f"#{seen_ts['counter']} already seen")
        if seen_head.get("version") and semver_key(ts["head"]) < semver_key(seen_head["version"]):
            raise VerifyError("rollback", f"{TIMESTAMP_NAME} names head {ts['head']}, older than "
                                          f"{seen_head['version']} already seen")
        if _parse(ts["expires"]) <= now:
            raise VerifyError("freeze", f"{TIMESTAMP_NAME} (head {ts['head']}) expired at {ts['expires']}; "
                                        "the registry has stopped being refreshed or is being held back")
        if ts["head"] not in versions:
            raise VerifyError("removed release", f"{TIMESTAMP_NAME} names head {ts['head']}, which is not in "
                                                 f"{releases_dir} (newest there: {newest})")
        if ts["head"] != newest:
            raise VerifyError("mix-and-match", f"{TIMESTAMP_NAME} names head {ts['head']}, but {releases_dir} "
                                               f"holds the newer release {newest}")
        if ts["envelope"] != sha256_file(folders[newest] / ENVELOPE_NAME):
            raise VerifyError("mix-and-match", f"{TIMESTAMP_NAME} for {newest} names another envelope than "
                                               f"{newest}/{ENVELOPE_NAME} (metadata of two registries mixed)")
    if seen_head.get("version"):
        sv = seen_head["version"]
        if sv not in versions and semver_key(sv) > semver_key(newest):
            raise VerifyError("removed release", f"{sv} was the newest release seen; the newest in "
                                                 f"{releases_dir} is now {newest}")
        if sv in versions and seen_head.get("envelope") != sha256_file(folders[sv] / ENVELOPE_NAME):
            raise VerifyError(f"chain broken at {sv}", "its envelope differs from the one verified before")
    if ts is None and (timestamp_required or seen_ts):
        why = "releases of format 2 require it" if timestamp_required else f"#{seen_ts.get('counter')} was seen before"
        raise VerifyError("freeze", f"{TIMESTAMP_NAME} is missing from {releases_dir} ({why})")
    entry = {"head": {"version": newest, "envelope": sha256_file(folders[newest] / ENVELOPE_NAME)}}
    if ts is not None:
        entry["timestamp"] = {"counter": ts["counter"], "issued_at": ts.get("issued_at"), "expires": ts["expires"]}
    return entry

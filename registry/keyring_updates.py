"""Signed keyring updates: TUF-style root rotation for the keyring of trusted keys.

Keyring version N+1 is accepted only when a threshold of version N's keys signed it. The keyring
file carries its own history (``root`` = version 1, ``updates`` = one DSSE envelope per later
version), so a verifier that pinned version N (registry/trust_state.py) can walk to the current
version and refuse a keyring that does not descend from the one it saw (a swapped keyring file).
Revoking a key is an update like any other: the new version simply lacks it.
"""
from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr.errors import DDRError
from ddr.kernel.digests import canonical_json, sha256_bytes
from registry import KEYRING_PREDICATE_TYPE
from registry.keyring import Keyring, check_content, keyid_of
from registry.signing import VerifyError, sign_statement, statement, verify_envelope


def content_digest(content: dict) -> str:
    """sha256 of a keyring version's canonical content (version, keys, threshold)."""
    return sha256_bytes(canonical_json({k: content[k] for k in ("version", "keys", "threshold")}))


def sign_update(ring: Keyring, keys: dict, threshold: int, signers: list[Ed25519PrivateKey]) -> Keyring:
    """The next keyring version with ``keys``/``threshold``, signed by ``signers`` (a threshold of
    ``ring``'s current keys). ``ring`` itself is not changed."""
    if not isinstance(threshold, int) or not 1 <= threshold <= max(1, len(keys)):
        raise DDRError(f"threshold {threshold} must be between 1 and the {len(keys)} keys of the new keyring")
    signer_ids = {keyid_of(k.public_key()) for k in signers}
    trusted = signer_ids & set(ring.keys)
    if len(trusted) < ring.threshold:
        raise DDRError(f"a keyring update needs {ring.threshold} signature(s) by keys of the current keyring "
                       f"(version {ring.version}); {len(trusted)} of the given --sign-with keys are in it")
    prev = ring.content()
    nxt = {"version": ring.version + 1, "keys": keys, "threshold": threshold,
           "previous": {"version": ring.version, "digest": {"sha256": content_digest(prev)}}}
    stmt = statement({f"keyring.json@{nxt['version']}": content_digest(nxt)}, nxt, KEYRING_PREDICATE_TYPE)
    env = sign_statement(stmt, [k for k in signers if keyid_of(k.public_key()) in trusted])
    root = ring.root if ring.root is not None else prev
    return Keyring(dict(keys), threshold, ring.path, nxt["version"], root, [*ring.updates, env])


def _version_ring(content: object, where: str) -> Keyring:
    try:
        check_content(content, where)
    except DDRError as e:
        raise VerifyError("keyring swap", str(e)) from None
    v = content.get("version")
    if not isinstance(v, int) or isinstance(v, bool):
        raise VerifyError("keyring swap", f"{where} has no valid version")
    return Keyring(content["keys"], content["threshold"], version=v)


def verify_lineage(ring: Keyring) -> list[tuple[int, str]]:
    """Walk the keyring's history from version 1 to its current version, checking that every update
    is signed by a threshold of the version before it. Returns [(version, content digest)], oldest
    first. Raises VerifyError('keyring swap', ...) when the history does not hold."""
    if ring.version == 1 and not ring.updates and ring.root is None:
        return [(1, content_digest(ring.content()))]
    cur = _version_ring(ring.root, "keyring root")
    if cur.version != 1:
        raise VerifyError("keyring swap", f"keyring root is version {cur.version}, expected 1")
    seen = [(1, content_digest(cur.content()))]
    for env in ring.updates:
        where = f"keyring update to version {cur.version + 1}"
        try:
            stmt, _ = verify_envelope(env, cur, where, (KEYRING_PREDICATE_TYPE,))
        except VerifyError as e:
            raise VerifyError("keyring swap", f"{e.detail} (an update must be signed by a threshold of the "
                                              f"previous version's keys)") from None
        pred = stmt["predicate"]
        prev = pred.get("previous") if isinstance(pred.get("previous"), dict) else {}
        if pred.get("version") != cur.version + 1 or (prev.get("digest") or {}).get("sha256") != seen[-1][1]:
            raise VerifyError("keyring swap", f"{where} does not name version {cur.version} as its predecessor")
        cur = _version_ring(pred, where)
        seen.append((cur.version, content_digest(cur.content())))
    if content_digest(ring.content()) != seen[-1][1]:
        raise VerifyError("keyring swap", f"the keyring's keys are not those of its last signed update "
                                          f"(version {seen[-1][0]})")
    return seen

"""DSSE envelopes of in-toto Statement v1, signed with Ed25519.

Signing and checking signatures both go through securesystemslib (``CryptoSigner``, ``dsse.Envelope``
and its ``verify``, which builds DSSE's PAE); this module adds what a verdict needs around them: which check
failed (bad, unknown or too few signatures) and the in-toto Statement's shape. The standalone verifier
(verifier/ddr_verify.py) does the same with plain ``cryptography``, and the conformance suite holds both
to one verdict.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import CryptoSigner, Signature, SSlibKey

from ddr.kernel.digests import canonical_json
from registry import PAYLOAD_TYPE, PREDICATE_TYPE_V2, RELEASE_PREDICATE_TYPES, STATEMENT_TYPE
from registry.keyring import Keyring, keyid_of


class VerifyError(Exception):
    """A failed verification check; ``check`` names it (e.g. 'bad signature', 'digest mismatch')."""

    def __init__(self, check: str, detail: str):
        super().__init__(f"{check}: {detail}")
        self.check = check
        self.detail = detail


def statement(subjects: dict[str, str], predicate: dict, predicate_type: str = PREDICATE_TYPE_V2) -> dict:
    """An in-toto Statement v1: subjects {name: sha256 hex}, sorted by name."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in sorted(subjects.items())],
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def sign_statement(stmt: dict, keys: list[Ed25519PrivateKey]) -> dict:
    """A DSSE envelope (dict) over the canonical JSON of the statement, one signature per key."""
    env = Envelope(canonical_json(stmt), PAYLOAD_TYPE, {})
    for key in keys:
        kid = keyid_of(key.public_key())
        signer = CryptoSigner(key, SSlibKey.from_crypto(key.public_key(), keyid=kid, scheme="ed25519"))
        env.sign(signer)
    d = env.to_dict()
    # DSSE wants standard base64 for payload and sig; securesystemslib already emits it.
    return {"payloadType": d["payloadType"], "payload": d["payload"],
            "signatures": [{"keyid": s["keyid"], "sig": s["sig"]} for s in d["signatures"]]}


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise VerifyError("malformed envelope", f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise VerifyError("malformed envelope", f"{what} is not valid base64") from None


def verify_envelope(env: Any, keyring: Keyring, where: str = "release.dsse.json",
                    predicate_types: tuple[str, ...] = RELEASE_PREDICATE_TYPES) -> tuple[dict, list[str]]:
    """Check the envelope's signatures against the keyring and return the statement and the key ids that
    signed validly. Raises VerifyError naming the failing check. Each signature is judged alone by
    securesystemslib's Envelope.verify, so a bad one is told apart from an unknown key; the threshold counts
    distinct trusted keys."""
    if not isinstance(env, dict) or not isinstance(env.get("signatures"), list):
        raise VerifyError("malformed envelope", f"{where} is not a DSSE envelope")
    if env.get("payloadType") != PAYLOAD_TYPE:
        raise VerifyError("malformed envelope", f"{where} payloadType is {env.get('payloadType')!r}, expected {PAYLOAD_TYPE}")
    payload = _b64(env.get("payload"), f"{where} payload")
    valid: set[str] = set()
    unknown: list[str] = []
    bad: list[str] = []
    for i, s in enumerate(env["signatures"]):
        if not isinstance(s, dict) or not isinstance(s.get("keyid"), str):
            raise VerifyError("malformed envelope", f"{where} signature {i} has no keyid")
        kid = s["keyid"]
        pub = keyring.public_key(kid)
        if pub is None:
            unknown.append(kid)
            continue
        sig = Signature(kid, _b64(s.get("sig"), f"{where} signature {i}").hex())
        try:
            Envelope(payload, PAYLOAD_TYPE, {kid: sig}).verify(
                [SSlibKey.from_crypto(pub, keyid=kid, scheme="ed25519")], 1)
        except UnverifiedSignatureError:  # its subclass VerificationError: below the threshold of 1
            bad.append(kid)
            continue
        valid.add(kid)
    if len(valid) < keyring.threshold:
        if bad:
            raise VerifyError("bad signature", f"{where}: signature by key {bad[0][:16]} does not verify")
        if unknown:
            raise VerifyError("unknown key", f"{where} is signed by key {unknown[0][:16]}, which the keyring does not trust")
        if not env["signatures"]:
            raise VerifyError("bad signature", f"{where} carries no signature")
        raise VerifyError("bad signature", f"{where}: {len(valid)} valid trusted signature(s), threshold is {keyring.threshold}")
    try:
        stmt = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerifyError("malformed statement", f"{where} payload is not JSON") from None
    if not isinstance(stmt, dict) or stmt.get("_type") != STATEMENT_TYPE:
        raise VerifyError("malformed statement", f"{where} payload is not an in-toto Statement v1")
    if stmt.get("predicateType") not in predicate_types:
        raise VerifyError("malformed statement", f"{where} predicateType is {stmt.get('predicateType')!r}")
    if not isinstance(stmt.get("subject"), list) or not isinstance(stmt.get("predicate"), dict):
        raise VerifyError("malformed statement", f"{where} has no subject list or predicate")
    return stmt, sorted(valid)

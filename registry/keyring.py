"""Ed25519 keys and the keyring of trusted public keys.

Key id = sha256 of the raw 32-byte public key, hex. Keyring file (JSON)::

    {"keys": {"<keyid>": {"public": "<raw hex>", "scheme": "ed25519", "added": "<iso>", "name": "..."}},
     "threshold": 1,
     "version": 3, "root": {<version 1: keys, threshold, version>}, "updates": [<DSSE>, ...]}

``version``/``root``/``updates`` appear once the keyring has had a signed update (TUF-style root
rotation, registry/keyring_updates.py): each update is a DSSE envelope of version N+1's content,
signed by a threshold of version N's keys. A keyring without them is version 1.

A release verifies when at least ``threshold`` distinct trusted keys signed it. Rotation: add the
new key (``ddr registry keygen --keyring``); releases signed by older keys keep verifying while the
keyring still lists those keys.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ddr.errors import DDRError
from ddr.kernel.atomic import write_text_atomic
from ddr.kernel.clock import utc_now
from ddr.kernel.digests import sha256_bytes
from registry.util import dump_json, read_json

SCHEME = "ed25519"
_RAW_HEX = re.compile(r"[0-9a-fA-F]{64}")


def public_raw(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def keyid_of(pub: Ed25519PublicKey) -> str:
    return sha256_bytes(public_raw(pub))


def generate_key(out: str | Path, passphrase: str | None = None) -> tuple[Ed25519PrivateKey, str]:
    """Write a new PKCS8 PEM private key with mode 0600 (encrypted when a passphrase is given) and
    its public key next to it (``<out>.pub``, raw hex). Refuses to overwrite."""
    out = Path(out)
    if out.exists():
        raise DDRError(f"{out} exists; refusing to overwrite a private key")
    out.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    enc = (serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
           else serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
    finally:
        os.close(fd)
    os.chmod(out, 0o600)  # in case a umask or filesystem widened it
    pub_hex = public_raw(key.public_key()).hex()
    Path(str(out) + ".pub").write_text(pub_hex + "\n")
    return key, keyid_of(key.public_key())


def load_private_key(path: str | Path, passphrase: str | None = None) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DDRError(f"private key {path} does not exist") from None
    except OSError as exc:
        raise DDRError(f"private key {path}: cannot read it ({exc.strerror})") from None
    if os.name == "posix" and mode & 0o077:  # readable by others: it may already be someone else's key too
        raise DDRError(f"private key {path} is readable by group or others (mode {stat.S_IMODE(mode):04o}); "
                       f"run: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode("utf-8") if passphrase else None)
    except TypeError:
        msg = "is encrypted; give its passphrase" if not passphrase else "is not encrypted; give no passphrase"
        raise DDRError(f"private key {path}: {msg}") from None
    except ValueError:
        raise DDRError(f"private key {path}: cannot load it (wrong passphrase or not a PEM key)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DDRError(f"private key {path} is not an Ed25519 key")
    return key


def parse_public(text: str) -> Ed25519PublicKey:
    """A public key from raw hex (64 hex digits) or a PEM SubjectPublicKeyInfo."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            pub = serialization.load_pem_public_key(text.encode())
            if not isinstance(pub, Ed25519PublicKey):
                raise DDRError("public key is not Ed25519")
            return pub
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except DDRError:
        raise
    except ValueError as e:
        raise DDRError(f"cannot read public key: {e}") from None


def public_from_hex(text: object) -> Ed25519PublicKey:
    """A keyring entry's public key: exactly 64 hex digits (the raw key). A keyring holds one form only,
    so that every verifier (this package, verifier/ddr_verify.py, the release page) reads it alike."""
    if not isinstance(text, str) or not _RAW_HEX.fullmatch(text):
        raise DDRError("its public key must be 64 hex digits (the raw Ed25519 key; "
                       "'ddr registry trust' converts a PEM file)")
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


def check_content(d: object, where: str, *, versioned: bool = True) -> None:
    """The rules every keyring version obeys (the file, its root and each signed update): a ``keys``
    mapping of key id -> {public: raw hex, scheme: ed25519} whose ids are the sha256 of their keys, and
    a ``threshold`` that is a positive integer (given, or 1 when ``versioned`` is false and it is absent)."""
    if not isinstance(d, dict) or not isinstance(d.get("keys"), dict):
        raise DDRError(f"{where} has no 'keys' mapping")
    threshold = d.get("threshold", None if versioned else 1)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise DDRError(f"{where}: threshold must be a positive integer; got {threshold!r}")
    for kid, entry in d["keys"].items():
        if not isinstance(entry, dict):
            raise DDRError(f"{where}: key {str(kid)[:16]} must be a mapping with a 'public' key")
        if entry.get("scheme") != SCHEME:
            raise DDRError(f"{where}: key {str(kid)[:16]} has scheme {entry.get('scheme')!r}; only {SCHEME} is supported")
        try:
            pub = public_from_hex(entry.get("public"))
        except DDRError as e:
            raise DDRError(f"{where}: key {str(kid)[:16]}: {e}") from None
        except ValueError:
            raise DDRError(f"{where}: key {str(kid)[:16]} is not a valid Ed25519 public key") from None
        if keyid_of(pub) != kid:
            raise DDRError(f"{where}: key id {str(kid)[:16]} is not the sha256 of its public key")


@dataclass
class Keyring:
    keys: dict[str, dict] = field(default_factory=dict)
    threshold: int = 1
    path: Path | None = None
    version: int = 1
    root: dict | None = None  # version 1's content, kept once signed updates exist
    updates: list[dict] = field(default_factory=list)  # DSSE envelopes of versions 2..version

    @classmethod
    def load(cls, path: str | Path) -> "Keyring":
        path = Path(path)
        d = read_json(path, "keyring")
        check_content(d, f"keyring {path}", versioned=False)
        version = d.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise DDRError(f"keyring {path}: version must be a positive integer; got {version!r}")
        updates = d.get("updates", [])
        if not isinstance(updates, list) or (d.get("root") is not None and not isinstance(d.get("root"), dict)):
            raise DDRError(f"keyring {path}: 'updates' must be a list and 'root' a mapping")
        return cls(dict(d["keys"]), d.get("threshold", 1), path, version, d.get("root"), list(updates))

    def content(self) -> dict:
        """What a keyring version is: the part that signed updates carry and digests cover."""
        return {"version": self.version, "keys": self.keys, "threshold": self.threshold}

    @classmethod
    def load_or_new(cls, path: str | Path) -> "Keyring":
        path = Path(path)
        return cls.load(path) if path.exists() else cls(path=path)

    def add(self, pub: Ed25519PublicKey, name: str | None = None) -> str:
        kid = keyid_of(pub)
        if kid not in self.keys:
            entry = {"public": public_raw(pub).hex(), "scheme": SCHEME, "added": utc_now()}
            if name:
                entry["name"] = name
            self.keys[kid] = entry
        return kid

    def remove(self, keyid: str) -> None:
        kid = self.resolve(keyid)
        del self.keys[kid]

    def resolve(self, prefix: str) -> str:
        hits = [k for k in self.keys if k.startswith(prefix)]
        if len(hits) != 1:
            raise DDRError(f"key id '{prefix}' matches {len(hits)} keys in the keyring")
        return hits[0]

    def public_key(self, keyid: str) -> Ed25519PublicKey | None:
        entry = self.keys.get(keyid)
        return public_from_hex(entry["public"]) if entry else None

    def save(self, path: str | Path | None = None) -> Path:
        path = Path(path or self.path)
        if not isinstance(self.threshold, int) or self.threshold < 1:
            raise DDRError(f"threshold must be a positive integer; got {self.threshold!r}")
        if self.threshold > max(1, len(self.keys)):
            raise DDRError(f"threshold {self.threshold} exceeds the {len(self.keys)} keys in the keyring")
        d = {"keys": self.keys, "threshold": self.threshold}
        if self.version > 1 or self.updates:
            d.update(version=self.version, root=self.root, updates=self.updates)
        write_text_atomic(path, dump_json(d))
        self.path = path
        return path

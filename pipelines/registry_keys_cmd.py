"""``ddr registry keygen`` and ``ddr registry trust``: signing keys and the keyring of trusted keys."""
from __future__ import annotations

from pathlib import Path

import click

from ddr.errors import DDRError
from pipelines.registry_options import KEYRING_OPT, load_keys, passphrase


@click.command("keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the private key (PEM, mode 0600).")
@KEYRING_OPT
@click.option("--name", default=None, help="A label for the key in the keyring (e.g. the maintainer).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Encrypt the key with the passphrase in env VAR.")
@click.option("--prompt-passphrase", is_flag=True, help="Prompt for a passphrase to encrypt the key.")
@click.option("--threshold", type=int, default=None, help="Set the keyring's signature threshold.")
@click.option("--sign-with", "sign_with", multiple=True, type=click.Path(dir_okay=False),
              help="Add the key as a signed keyring update, signed by these current keys (see 'trust').")
def keygen(out, keyring_path, name, passphrase_env, prompt_passphrase, threshold, sign_with):
    """Create an Ed25519 signing key and trust its public key in the keyring.

    Writes OUT (PKCS8 PEM, mode 0600; encrypted with a passphrase if given), OUT.pub (raw public key,
    hex) and adds the key to the keyring (created if missing). For key rotation run it again with a
    new --out: releases signed by older keys keep verifying while the keyring lists them.

    \b
    Example:
      DDR_PASS=s3cret ddr registry keygen --out keys/maint-2026.key --passphrase-env DDR_PASS --name alice
    """
    from registry.keyring import Keyring, generate_key
    from registry.util import check_writable

    keyring = Keyring.load_or_new(keyring_path)
    if keyring.version > 1 and not sign_with:
        raise DDRError(f"keyring {keyring_path} is version {keyring.version} of a signed history; "
                       "add the new key with --sign-with KEY (a threshold of its current keys)")
    if threshold is not None and not 1 <= threshold <= len(keyring.keys) + 1:
        raise DDRError(f"--threshold must be between 1 and the {len(keyring.keys) + 1} keys the keyring will hold; "
                       f"got {threshold}")
    for path, what in ((Path(out), "private key"), (Path(f"{out}.pub"), "public key"), (Path(keyring_path), "keyring")):
        if path.exists() and what != "keyring":
            raise DDRError(f"{path} exists; refusing to overwrite a key")
        check_writable(path, what)  # all before the key is written: nothing half-done on a bad --out
    pw = passphrase(passphrase_env, prompt_passphrase, confirm=True)
    key, kid = generate_key(out, pw)
    if sign_with:
        from registry.keyring import public_raw

        _signed_keyring_update(keyring, keyring_path, public_raw(key.public_key()).hex(), name, False, sign_with,
                               None, threshold)
        click.echo(f"key {kid}\nprivate key: {out} (mode 0600{', encrypted' if pw else ''}); public key: {out}.pub")
        return
    keyring.add(key.public_key(), name)
    if threshold is not None:
        keyring.threshold = threshold
    keyring.save(keyring_path)
    click.echo(f"key {kid}")
    click.echo(f"private key: {out} (mode 0600{', encrypted' if pw else ''}); public key: {out}.pub")
    click.echo(f"keyring: {keyring_path} ({len(keyring.keys)} keys, threshold {keyring.threshold})")


@click.command("trust")
@click.argument("public_key")
@KEYRING_OPT
@click.option("--name", default=None, help="A label for the key in the keyring.")
@click.option("--remove", is_flag=True, help="Stop trusting the key (PUBLIC_KEY is then a key id or its prefix).")
@click.option("--sign-with", "sign_with", multiple=True, type=click.Path(dir_okay=False),
              help="Make the change a signed keyring update: private key(s) of the current keyring (a threshold).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Passphrase of the --sign-with key(s) in env VAR.")
@click.option("--threshold", type=int, default=None, help="The new keyring's threshold (with --sign-with).")
def trust_cmd(public_key, keyring_path, name, remove, sign_with, passphrase_env, threshold):
    """Add a public key (a .pub file from keygen: raw hex, or a PEM file) to a keyring, or remove one.

    This is how a verifier, or a maintainer rotating keys on another machine, trusts a new key.
    Removing a key makes every release signed only by it fail with 'unknown key'. With --sign-with
    the change becomes the keyring's next version, signed by a threshold of the current keys, which
    verifiers that pinned the current version accept (a plain edit they reject as a keyring swap).

    \b
    Example:
      ddr registry trust keys/maint-2027.key.pub --keyring keys/keyring.json --name bob
      ddr registry trust 3f2a --remove --sign-with keys/maint-2027.key     # a signed revocation
    """
    from registry.keyring import Keyring, parse_public

    keyring = Keyring.load_or_new(keyring_path)
    if sign_with:
        _signed_keyring_update(keyring, keyring_path, public_key, name, remove, sign_with, passphrase_env, threshold)
        return
    if keyring.version > 1:
        raise DDRError(f"keyring {keyring_path} is version {keyring.version} of a signed history; change it "
                       "with --sign-with KEY (a threshold of its current keys)")
    if remove:
        kid = keyring.resolve(public_key)
        keyring.remove(kid)
        keyring.threshold = min(keyring.threshold, max(1, len(keyring.keys)))
        keyring.save(keyring_path)
        click.echo(f"removed key {kid} from {keyring_path}")
        return
    p = Path(public_key)
    text = p.read_text() if p.is_file() else public_key
    kid = keyring.add(parse_public(text), name)
    keyring.save(keyring_path)
    click.echo(f"trusted key {kid} in {keyring_path} ({len(keyring.keys)} keys, threshold {keyring.threshold})")


def _signed_keyring_update(keyring, keyring_path, public_key, name, remove, sign_with, passphrase_env, threshold):
    from registry.keyring import Keyring, parse_public
    from registry.keyring_updates import sign_update

    draft = Keyring(dict(keyring.keys), keyring.threshold)
    if remove:
        draft.remove(draft.resolve(public_key))
        what = "removed"
    else:
        p = Path(public_key)
        draft.add(parse_public(p.read_text() if p.is_file() else public_key), name)
        what = "added"
    t = threshold if threshold is not None else min(keyring.threshold, max(1, len(draft.keys)))
    new = sign_update(keyring, draft.keys, t, load_keys(sign_with, passphrase_env))
    new.save(keyring_path)
    click.echo(f"keyring {keyring_path}: version {new.version} ({what} a key; {len(new.keys)} keys, threshold "
               f"{new.threshold}), signed by version {keyring.version}'s keys")

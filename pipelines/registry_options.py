"""What the `ddr registry` commands (and `ddr rank`, which ranks as a release does) share: the releases,
keyring and rank-certainty seed options, and reading signing keys (with a passphrase from the environment or a
prompt)."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import click

from ddr.errors import DDRError
from ddr.paths import KEYRING, RELEASES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

RELEASES_OPT = click.option("--releases", "releases_dir", default=str(RELEASES), show_default=True, envvar="DDR_RELEASES",
                            type=click.Path(file_okay=False), help="Folder holding releases/<version>/ (env DDR_RELEASES).")
KEYRING_OPT = click.option("--keyring", "keyring_path", default=str(KEYRING), show_default=True,
                           envvar="DDR_KEYRING", type=click.Path(dir_okay=False),
                           help="Keyring of trusted public keys (env DDR_KEYRING).")
SIGNING_KEYS_OPT = click.option("--key", "key_paths", multiple=True, required=True, type=click.Path(dir_okay=False),
                                help="Private signing key (repeatable, for threshold > 1).")
PASSPHRASE_OPT = click.option("--passphrase-env", default=None, metavar="VAR", help="Passphrase of the key(s) in env VAR.")


def _check_seed(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    from registry.util import check_seed

    return value if value is None else check_seed(value, f"--{param.name}")


def seed_option(default: int | None, help: str) -> Callable:
    """--seed of the rank-certainty draws, refused (one line, exit 2) outside 0 .. 2**32 - 1 before anything runs."""
    return click.option("--seed", type=int, default=default, show_default=default is not None, callback=_check_seed,
                        help=help)


def passphrase(env_var: str | None, prompt: bool, confirm: bool = False) -> str | None:
    """The passphrase in environment variable `env_var`, else one prompted for, else None."""
    if env_var:
        if env_var not in os.environ:
            raise DDRError(f"--passphrase-env {env_var}: that environment variable is not set")
        return os.environ[env_var]
    if prompt:
        return click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return None


def load_keys(paths: Iterable[str], passphrase_env: str | None) -> list[Ed25519PrivateKey]:
    """The private keys at `paths`; an encrypted one without --passphrase-env is asked for on a terminal."""
    from registry.keyring import load_private_key

    keys = []
    for p in paths:
        pw = passphrase(passphrase_env, False)
        try:
            keys.append(load_private_key(p, pw))
        except DDRError as e:
            if pw is None and "is encrypted" in str(e) and sys.stdin.isatty():
                keys.append(load_private_key(p, click.prompt(f"Passphrase for {p}", hide_input=True)))
            else:
                raise
    return keys

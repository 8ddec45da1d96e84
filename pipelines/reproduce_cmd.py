"""``ddr registry reproduce``: re-run cells of a release (this trains) and compare the numbers."""
from __future__ import annotations

import sys

import click

from ddr.errors import DDRError
from pipelines.common_options import CACHE_DIR_OPT, device_option
from pipelines.registry_options import KEYRING_OPT, RELEASES_OPT, load_keys


@click.command("reproduce")
@click.argument("version")
@click.option("--cell", "cells", multiple=True, required=True,
              help="dataset/ipc/label/method[/kind] (repeatable), e.g. digits/10/hard/herding.")
@RELEASES_OPT
@KEYRING_OPT
@click.option("--no-verify", is_flag=True, help="Skip verifying the release before re-running it.")
@device_option(None)
@click.option("--tolerance", type=float, default=None,
              help="Absolute tolerance per round (default: 0 = exact on CPU, 0.02 on GPU).")
@click.option("--root", default=None, help="Data set root passed to ddr.evaluate.")
@CACHE_DIR_OPT
@click.option("--base", default=None, type=click.Path(file_okay=False),
              help="Folder that relative distilled-set paths are resolved against (default: cwd).")
@click.option("--attest", is_flag=True, help="Write a signed reproduction attestation per cell (needs --key).")
@click.option("--key", "key_path", default=None, type=click.Path(dir_okay=False),
              help="The reproducer's private key for --attest (any Ed25519 key; keygen --keyring elsewhere.json).")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Passphrase of --key in env VAR.")
def reproduce_cmd(version, cells, releases_dir, keyring_path, no_verify, device, tolerance, root, cache_dir, base,
                  attest, key_path, passphrase_env):
    """Re-run cells of a release from its provenance and compare the numbers.

    Exits 0 when every round of every metric matches (exactly on CPU; within the stated tolerance
    on GPU), 1 otherwise.

    \b
    Example:
      ddr registry reproduce 1.0.0 --cell digits/10/hard/herding --device cpu
    """
    from pipelines.reproduce import reproduce_cell
    from registry.layout import resolve_release
    from registry.reproduction import find_cells, format_report
    from registry.util import read_json

    if attest and not key_path:
        raise DDRError("--attest needs --key (the reproducer's private signing key)")
    attest_key = load_keys([key_path], passphrase_env)[0] if attest else None
    path = resolve_release(releases_dir, version)
    if not no_verify:
        from registry.keyring import Keyring
        from registry.verify import verify_chain

        report = verify_chain(path.parent, Keyring.load(keyring_path), upto=path.name)
        if not report.ok:
            click.echo(f"FAIL {report.error}")
            sys.exit(1)
    prov = read_json(path / "provenance.json", "provenance")
    ok = True
    for spec in cells:
        for cell in find_cells(prov, spec):
            rep = reproduce_cell(path, cell, device=device, tolerance=tolerance, base=base, root=root,
                                 cache_dir=cache_dir)
            click.echo(format_report(rep))
            ok = ok and rep["match"]
            if attest_key is not None:
                from registry.attest import write_attestation

                click.echo(f"attestation: {write_attestation(path, cell, rep, attest_key)}")
    if not ok:
        click.echo("FAIL reproduction mismatch")
        sys.exit(1)

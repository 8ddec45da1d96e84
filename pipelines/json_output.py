"""`--json`, the same for every command that offers it: one JSON document on stdout for a program to parse,
the human text on stderr for the person watching, and the exit status the command has without it."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click


def json_option(what: str = "the result") -> Callable:
    """The --json flag (parameter `as_json`)."""
    return click.option("--json", "as_json", is_flag=True,
                        help=f"Print {what} as one JSON document on stdout; the human text goes to stderr.")


def emit(document: Any, text: str, as_json: bool) -> None:
    """A command's output: `text` on stdout, or with --json the document on stdout and `text` on stderr. The
    caller exits as it would without --json (a failed check still exits 1, bad input 2 with no document)."""
    if not as_json:
        click.echo(text)
        return
    if text:
        click.echo(text, err=True)
    click.echo(json.dumps(document, indent=2))

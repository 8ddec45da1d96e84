"""`--json`, the same for every command that offers it: one JSON document on stdout for a program to parse,
the human text on stderr for the person watching, and the exit status the command has without it.

While a --json command runs, whatever else would reach stdout goes to stderr: the command's own echoes, and
what libraries print there (DVC's logging binds sys.stdout when dvc is imported and says "To track the changes
with git, run: ..." on every `dvc add`; a child process inherits the file descriptor). Only the document
reaches the real stdout."""
from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TextIO

import click

_document_stream: ContextVar[TextIO | None] = ContextVar("document_stream", default=None)


def json_option(what: str = "the result") -> Callable:
    """The --json flag (parameter `as_json`); with it, the command runs with stdout sent to stderr."""
    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            if not kwargs.get("as_json"):
                return command(*args, **kwargs)
            with _stdout_to_stderr() as real_stdout:
                token = _document_stream.set(real_stdout)
                try:
                    return command(*args, **kwargs)
                finally:
                    _document_stream.reset(token)

        return click.option("--json", "as_json", is_flag=True,
                            help=f"Print {what} as one JSON document on stdout; the human text goes to stderr.")(run)
    return decorate


def emit(document: Any, text: str, as_json: bool) -> None:
    """A command's output: `text` on stdout, or with --json the document on stdout and `text` on stderr. The
    caller exits as it would without --json (a failed check still exits 1, bad input 2 with no document)."""
    if not as_json:
        click.echo(text)
        return
    if text:
        click.echo(text, err=True)
    click.echo(json.dumps(document, indent=2), file=_document_stream.get() or sys.stdout)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[TextIO]:
    """Send stdout to stderr, at the file descriptor where stdout has one (streams bound earlier and child
    processes follow it), else (a captured stream, as in tests run in process) at sys.stdout; yields a stream
    on the real stdout for the document."""
    real = sys.stdout
    try:
        fd, err_fd = real.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        with contextlib.redirect_stdout(sys.stderr):
            yield real
        return
    real.flush()
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        os.dup2(err_fd, fd)
        with open(saved, "w", encoding="utf-8", closefd=False) as document, \
                contextlib.redirect_stdout(sys.stderr):
            yield document
            document.flush()
    finally:
        real.flush()  # what a library wrote through the old stream object belongs to stderr
        os.dup2(saved, fd)
        os.close(saved)

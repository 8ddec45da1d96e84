"""A click group that imports each subcommand's module only when that subcommand is used.

A command's start-up, and the code a DVC stage running it depends on, is then its own module's import
closure, not every command's. The group knows each subcommand as 'module:attr' and the first sentence of its
help, so `ddr --help` lists every command without importing one (tests/pipelines/test_lazy_cli.py keeps the
sentences equal to the commands' own).
"""
from __future__ import annotations

import importlib

import click


class LazyGroup(click.Group):
    """click's lazy-loading group (click docs, "Lazily Loading Subcommands"), with help text that needs no
    import. lazy: name -> ("module:attr", the first sentence of the command's help)."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, name: str) -> click.Command:
        module, _, attr = self.lazy[name][0].partition(":")
        cmd = getattr(importlib.import_module(module), attr)
        if not isinstance(cmd, click.Command):  # a programming error in the table, not bad input
            raise TypeError(f"{self.lazy[name][0]} (command '{name}') is not a click command")
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click.Group's, but a command not imported yet shows the table's sentence, shortened by the same
        rule as click shortens a command's own help."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name) or click.Command(name, help=self.lazy[name][1])
            if not cmd.hidden:
                rows.append((name, cmd))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])

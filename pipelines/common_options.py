"""Options several commands take, declared once, as DVC's and MLflow's CLIs declare theirs.

An option that mirrors an environment variable binds it with click's `envvar=` (shown in --help): the
command line wins, then the variable, then the library's default (ddr.tracking.resolve_tracking_uri,
ddr.paths.default_cache_dir, which Python callers of ddr.evaluate get too). Names of registered things
(protocols, data sets, models) complete from their registries in the shell (README: shell completion).
"""
from __future__ import annotations

from collections.abc import Callable

import click
from click.shell_completion import CompletionItem

from ddr.paths import CACHE_DIR_ENV, TRACKING_URI_ENV

DEVICE_ENV = "DDR_DEVICE"

TRACKING_URI_OPT = click.option("--tracking-uri", default=None, envvar=TRACKING_URI_ENV, show_envvar=True,
                                help="MLflow tracking URI (default sqlite:///./mlflow.db, the project's store).")
CACHE_DIR_OPT = click.option("--cache-dir", default=None, envvar=CACHE_DIR_ENV, show_envvar=True,
                             type=click.Path(), help="Training cache folder (default .ddr/cache).")


def device_option(default: str | None = "auto") -> Callable:
    """--device; `default` is the command's own (distill: cpu, for bit-identical repeats)."""
    return click.option("--device", default=default, show_default=default is not None, envvar=DEVICE_ENV,
                        show_envvar=True, help="cpu, cuda, cuda:N, or auto (CUDA when present).")


def _matching(names: object, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def complete_protocol(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shipped protocol names; a YAML path where no name matches."""
    from ddr.protocols import list_protocols

    return _matching(list_protocols(), incomplete) or [CompletionItem(incomplete, type="file")]


def complete_dataset(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from ddr.data import DATASETS

    return _matching(DATASETS.names(), incomplete)


def complete_model(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from ddr.models import list_models

    return _matching(list_models(), incomplete)


def dataset_option(help: str, **kwargs) -> Callable:
    return click.option("--dataset", shell_complete=complete_dataset, help=help, **kwargs)


def protocol_option(help: str, **kwargs) -> Callable:
    return click.option("--protocol", default=None, shell_complete=complete_protocol, help=help, **kwargs)


def model_option(help: str, **kwargs) -> Callable:
    return click.option("--model", default=None, shell_complete=complete_model, help=help, **kwargs)

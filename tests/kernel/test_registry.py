"""Registry: one name table for every extension point; unknown names get the CLI's one-line error."""
import pytest

from ddr.errors import DDRError
from ddr.kernel.registry import Registry


def test_register_by_decorator_and_by_call_keeps_order():
    reg = Registry("widget")

    @reg.register("b")
    def b():
        return "b"

    reg.register("a", len)
    assert reg.names() == ("b", "a") and list(reg) == ["b", "a"] and len(reg) == 2
    assert reg.get("b") is b and reg.get("a") is len and "a" in reg and "c" not in reg


def test_unknown_name_suggests_the_closest():
    reg = Registry("loss")
    for name in ("ce", "kl", "sce", "mse_gt"):
        reg.register(name, name)
    with pytest.raises(DDRError, match=r"^unknown loss 'kld'; did you mean 'kl'\?$") as info:
        reg.get("kld")
    assert info.value.exit_code == 2
    with pytest.raises(DDRError, match=r"^unknown loss 'zzz'; known: ce, kl, mse_gt, sce$"):
        reg.get("zzz")


def test_list_valid_names_every_entry_in_order():
    reg = Registry("augmentation", list_valid=True)
    for name in ("dsa", "mixup", "cutmix"):
        reg.register(name, name)
    with pytest.raises(DDRError, match=r"^unknown augmentation 'mixupp'; valid: dsa, mixup, cutmix$"):
        reg.get("mixupp")


def test_a_name_registers_once():
    reg = Registry("model family")
    reg.register("ConvNet", object())
    with pytest.raises(ValueError, match="model family 'ConvNet' is already registered"):
        reg.register("ConvNet", object())
    with pytest.raises(ValueError):
        reg.register_lazy("ConvNet", "ddr.models:build_model")


def test_lazy_entry_is_imported_on_first_get_only():
    reg = Registry("thing")
    reg.register_lazy("dumps", "json:dumps")
    reg.register_lazy("broken", "ddr.no_such_module:x")
    assert reg.names() == ("dumps", "broken")  # listing imports nothing
    import json

    assert reg.get("dumps") is json.dumps
    with pytest.raises(ModuleNotFoundError):
        reg.get("broken")
    with pytest.raises(ValueError, match="module:attr"):
        reg.register_lazy("bad", "json.dumps")


def test_cli_choices_are_the_registry_names():
    import click

    from ddr.grid.executor_registry import EXECUTORS
    from ddr.grid.executors import make_executor
    from pipelines.grid_cmd import grid_cmd

    option = next(p for p in grid_cmd.params if p.name == "executor_name")
    assert isinstance(option.type, click.Choice) and tuple(option.type.choices) == EXECUTORS.names()
    assert EXECUTORS.names() == ("serial", "local", "ray")
    with pytest.raises(DDRError, match="unknown executor 'serail'; did you mean 'serial'"):
        make_executor("serail")


def test_every_extension_point_is_a_registry():
    from ddr.augment import AUGMENTATIONS
    from ddr.data.real_data import DATASETS
    from ddr.distill import DISTILLERS
    from ddr.eval.api import EVALUATIONS
    from ddr.grid.executor_registry import EXECUTORS
    from ddr.losses import LOSSES
    from ddr.models import FAMILIES

    for reg in (AUGMENTATIONS, DATASETS, DISTILLERS, EVALUATIONS, EXECUTORS, LOSSES, FAMILIES):
        assert isinstance(reg, Registry) and len(reg) >= 3, reg
    assert LOSSES.names() == ("ce", "kl", "sce", "mse_gt") and EVALUATIONS.names() == ("lrs", "ars", "acc")
    assert {"digits", "cifar10", "npz", "tinyimagenet", "imagefolder"} <= set(DATASETS)  # both loader modules
    assert AUGMENTATIONS.names()[:4] == ("dsa", "mixup", "cutmix", "sequence")

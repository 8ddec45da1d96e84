"""Protocols are read through their dataclasses as pydantic types (ddr.records): every problem is one
DDRError line naming the field and where it sits, a recipe built in code is checked by the same types, and
reading moves no value: each recipe field a shipped protocol states is kept as written, of the same type
(a recipe's values enter seeds and cache keys)."""
import dataclasses

import pytest

from ddr.errors import DDRError
from ddr.protocols import Protocol, TrainRecipe, list_protocols, load_protocol, parse_protocol, raw_protocol

BASE = raw_protocol("digits-lrs-soft")


def _with(path, value):
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    node = raw
    for part in path[:-1]:
        node[part] = node[part].copy() if isinstance(node[part], (dict, list)) else node[part]
        node = node[part]
    node[path[-1]] = value
    return raw


@pytest.mark.parametrize("path, value, message", [
    (("version",), 0, "protocol p: version must be >= 1, got 0"),
    (("version",), True, "protocol p: version must be a whole number, got True"),
    (("rounds",), "5", "protocol p: rounds must be a whole number, got '5'"),
    (("lr_grid",), [0.01, -1], "protocol p: lr_grid values must be > 0, got -1"),
    (("lr_grid",), [], "protocol p: lr_grid must list positive learning rates, got []"),
    (("train", "momentum"), 1.5, "protocol p: train: momentum must be <= 1, got 1.5"),
    (("train", "optimizer"), "rmsprop", "protocol p: train: optimizer must be 'sgd', 'adam' or 'adamw', got 'rmsprop'"),
    (("train", "loss_args"), {"temp": 4}, "protocol p: train.loss_args: unknown field 'temp'; valid: ce_weight, "
                                          "mse_weight, scale_t2, temperature"),
    (("soft", "teachers"), [{"model": "ConvNet-2", "train": {"epochs": 1, "batch_size": 8, "scheduler": "constant"}}],
     "protocol p: soft.teachers[0]: train needs a fixed lr"),
    (("soft", "teachers"), [{"model": "ConvNet-2"}], "protocol p: soft.teachers[0]: missing required field 'train'"),
    (("soft", "teachers"), [], "protocol p: soft: teachers must name at least one teacher"),
    (("soft", "mode"), "X", "protocol p: soft: mode must be 'S' or 'M', got 'X'"),
    (("zca",), {"eps": 0}, "protocol p: zca: eps must be > 0, got 0"),
    (("val_fraction",), 0.5, "protocol p: val_fraction must be < 0.5, got 0.5"),
    (("paired",), "yes", "protocol p: paired must be true or false, got 'yes'"),
    (("train",), [1], "protocol p: train must be a mapping, got [1]"),
    (("raw",), {}, "protocol p: unknown field 'raw'; valid: dataset, ddp, description,"),
    (("label",), "hard", "protocol p: label 'hard' trains with cross-entropy ('ce'); loss 'kl' needs soft labels"),
])
def test_a_bad_field_is_one_line_naming_it(path, value, message):
    with pytest.raises(DDRError) as exc:
        parse_protocol(_with(path, value), "p")
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_a_recipe_built_in_code_is_checked_by_the_same_types():
    with pytest.raises(DDRError, match="^epochs must be >= 1, got 0$"):
        TrainRecipe(epochs=0, batch_size=8, scheduler="constant")
    with pytest.raises(DDRError, match="^gamma must be finite, got nan$"):
        TrainRecipe(epochs=1, batch_size=8, step_size=1, gamma=float("nan"))
    r = TrainRecipe(epochs=2, batch_size=8, scheduler="constant")
    with pytest.raises(DDRError, match="^scheduler must be 'step', 'cosine', 'cosineannealing' or 'constant'"):
        dataclasses.replace(r, scheduler="linear")
    p = load_protocol("digits-lrs-hard")
    with pytest.raises(DDRError, match="^label must be 'hard' or 'soft', got 'both'$"):
        dataclasses.replace(p, label="both")
    assert isinstance(dataclasses.replace(p, rounds=2), Protocol)


@pytest.mark.parametrize("name", list_protocols())
def test_reading_keeps_every_recipe_value_as_written(name):
    raw, p = raw_protocol(name), load_protocol(name)
    recipes = [(raw["train"], p.train), (raw["real"], p.real)]
    recipes += [(t["train"], s.train) for t, s in zip((raw.get("soft") or {}).get("teachers") or [],
                                                      p.soft.teachers if p.soft else ())]
    for written, recipe in recipes:
        read = recipe.as_dict()
        for key, value in written.items():
            assert read[key] == value and type(read[key]) is type(value), (name, key, value, read[key])
    assert p.lr_grid == tuple(sorted(float(v) for v in raw["lr_grid"]))
    assert isinstance(p.weight, float) and p.raw == raw

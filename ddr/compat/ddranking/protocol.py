"""DD-Ranking evaluator settings -> a ddr protocol (the mapping behind ddr.compat.ddranking's evaluators).

Every key is mapped to a protocol field, or mapped to a documented correction that changes no number
(keys.NO_EFFECT), or refused with a DDRError naming it. The protocol's name carries a digest of what it
trains, so the same settings give the same name (and seeds, and cache hits) from a script or from
`ddr.evaluate(protocol=<its file>)`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ddr.compat.ddranking.keys import DSA_ALIASES
from ddr.compat.ddranking.transforms import check_val, train_ops
from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.kernel.digests import json_sha256
from ddr.protocols import FIVE_LR_GRID, list_protocols, parse_protocol, raw_protocol
from ddr.protocols.ddranking_tables import TEST_INTERVAL

SCHEDULERS = ("step", "cosine", "cosineannealing")
KIND = {"LabelRobustScoreHard": "lrs", "LabelRobustScoreSoft": "lrs", "AugmentationRobustScore": "ars",
        "GeneralEvaluator": "acc"}
# DD-Ranking's loss class defaults, used where loss_fn_kwargs is None (v0.2.0 unpacked None and crashed)
LOSS_DEFAULTS = {"kl": {"temperature": 1.2, "scale_t2": False}, "sce": {"temperature": 1.2, "scale_t2": False},
                 "mse_gt": {"mse_weight": 1.0, "ce_weight": 0.0}}
LOSS_KWARGS = {"temperature": "temperature", "scale_loss": "scale_t2", "mse_weight": "mse_weight",
               "ce_weight": "ce_weight"}
TORCHVISION_ONLY = ("alexnet", "mobilenet_v2", "shufflenet_v2_x0_5", "efficientnet_b0")


@dataclass(frozen=True)
class Mapped:
    """A protocol for one evaluator: its raw YAML mapping, kind ('lrs', 'ars', 'acc') and label."""

    raw: dict[str, Any]
    kind: str
    label: str
    teacher_names: tuple[str, ...]  # as DD-Ranking spells them: the folder names under teacher_dir/{dataset}/


def ddr_model(key: str, name: Any, torchvision: bool) -> str:
    """DD-Ranking's model name (+ its use_torchvision flag) as ddr spells it."""
    if not isinstance(name, str) or not name:
        raise DDRError(f"{key}: expected a model name, got {name!r}")
    family = name.split("-")[0]
    if name.lower() in TORCHVISION_ONLY or (torchvision and family == "AlexNet"):
        return f"{name.lower()}-tv"  # DD-Ranking went to torchvision for these (reference 2.9)
    if not torchvision or family == "ConvNet":  # DD-Ranking always built its own ConvNet
        return name
    parts = name.split("-")
    if family == "ResNet" and len(parts) >= 2:
        return f"ResNet-{parts[1]}-BN-tv"  # torchvision's ResNets always have batch norm
    raise DDRError(f"{key}: '{name}' with torchvision: ddr has torchvision ResNets and {', '.join(TORCHVISION_ONLY)}")


@lru_cache(maxsize=1)
def _shipped_real_rows() -> dict[tuple[str, str], dict[str, Any]]:
    """(data set, model) -> the real-data recipe ddr ships for it: one source of the recipes (ddr/protocols)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name in list_protocols():
        raw = raw_protocol(name)
        if raw.get("model_args") or "real" not in raw:
            continue
        key = (str(raw.get("dataset")), str(raw.get("model")))
        if rows.setdefault(key, raw["real"]) != raw["real"]:  # one recipe per pair, or the mapping is ambiguous
            raise DDRError(f"shipped protocols disagree on the real-data recipe of {key[1]} on {key[0]} ({name})")
    return rows


@lru_cache(maxsize=1)
def _shipped_teacher_rows() -> dict[tuple[str, str], dict[str, Any]]:
    """(data set, teacher model) -> the teacher recipe the first shipped protocol (by name) states for it."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name in list_protocols():
        raw = raw_protocol(name)
        for t in (raw.get("soft") or {}).get("teachers") or []:
            if not t.get("model_args"):
                rows.setdefault((str(raw.get("dataset")), str(t["model"])), t["train"])
    return rows


def teacher_recipe(dataset: str, model: str) -> dict[str, Any]:
    """How ddr trains a teacher when no checkpoint is given: the recipe a shipped protocol states for that
    teacher, else the real-data recipe of that model."""
    row = _shipped_teacher_rows().get((dataset, model))
    return dict(row) if row is not None else real_recipe("teacher_model_names", dataset, model)


def real_recipe(key: str, dataset: str, model: str) -> dict[str, Any]:
    if dataset == "digits":  # ddr's digits reference recipe serves every model on digits
        return dict(raw_protocol("digits-lrs-hard")["real"])
    row = _shipped_real_rows().get((dataset, model))
    if row is None:
        known = sorted(m for d, m in _shipped_real_rows() if d == dataset)
        raise DDRError(f"{key}: no real-data recipe for {model} on {dataset} (ddr ships: {', '.join(known) or 'none'})")
    return dict(row)


def _number(key: str, value: Any, *, whole: bool = False, positive: bool = True) -> Any:
    ok = isinstance(value, int if whole else (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or (positive and value <= 0) or (not positive and value < 0):
        kind = "a whole number" if whole else "a number"
        raise DDRError(f"{key}: expected {kind} {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def _batch_aug(s: dict[str, Any]) -> dict[str, Any] | None:
    func, params = s["data_aug_func"], s["aug_params"]
    if func in (None, "none", "None"):
        return None
    if params is not None and not isinstance(params, dict):
        raise DDRError(f"aug_params: expected a mapping, got {params!r}")
    params = dict(params or {})
    if func == "dsa":
        mapped = {}
        for k, v in params.items():
            mapped[DSA_ALIASES.get(k, k)] = v
        from ddr.augment import DSAParams

        try:
            DSAParams.from_dict(mapped)
        except DDRError as exc:
            raise DDRError(f"aug_params: {exc}") from None
        return {"name": "dsa", "params": mapped} if mapped else {"name": "dsa"}
    if func == "mixup":
        extra = sorted(set(params) - {"lambda"})
        if extra:
            raise DDRError(f"aug_params: '{extra[0]}' is not a Mixup parameter (DD-Ranking's Mixup reads 'lambda', "
                           "the Beta(a, a) parameter)")
        return {"name": "mixup", "lambda": float(params.get("lambda", 0.8))}
    if func == "cutmix":
        if params.get("cutmix_p", 1.0) != 1.0:
            raise DDRError(f"aug_params: cutmix_p {params['cutmix_p']!r}: ddr applies CutMix to every batch "
                           "(probability 1); DD-Ranking's CutMix reads only 'beta'")
        params.pop("cutmix_p", None)
        extra = sorted(set(params) - {"beta"})
        if extra:
            raise DDRError(f"aug_params: '{extra[0]}' is not a CutMix parameter (DD-Ranking's CutMix reads 'beta')")
        return {"name": "cutmix", "beta": float(params.get("beta", 1.0))}
    if func == "zca":
        raise DDRError("data_aug_func: 'zca' refits ZCA on every batch; ddr whitens the data set once: use_zca: true")
    raise DDRError(f"data_aug_func: unknown augmentation {func!r} (dsa, mixup, cutmix or None)")


def _augmentation(s: dict[str, Any], data: RealData, dataset_key: str) -> dict[str, Any] | None:
    ops = train_ops("custom_train_trans", s["custom_train_trans"], data.im_size, data.mean, data.std, dataset_key)
    check_val("custom_val_trans", s["custom_val_trans"], data.im_size, data.mean, data.std, dataset_key)
    batch = _batch_aug(s)
    ops += [batch] if batch else []
    if not ops:
        return None
    return ops[0] if len(ops) == 1 else {"name": "sequence", "ops": ops}


def _optimiser(s: dict[str, Any]) -> dict[str, Any]:
    opt = s["optimizer"]
    if opt not in ("sgd", "adam", "adamw"):
        raise DDRError(f"optimizer: unknown optimizer {opt!r} (sgd, adam or adamw)")
    out: dict[str, Any] = {"optimizer": opt, "weight_decay": float(_number("weight_decay", s["weight_decay"],
                                                                            positive=False))}
    momentum = s["momentum"]
    if opt == "sgd":
        out["momentum"] = float(_number("momentum", momentum, positive=False))
    elif isinstance(momentum, (list, tuple)):
        if len(momentum) != 2:
            raise DDRError(f"momentum: {opt} takes betas as two numbers, got {momentum!r}")
        out["betas"] = [float(_number("momentum", v, positive=False)) for v in momentum]
    sched = s["lr_scheduler"]
    if sched not in SCHEDULERS:
        raise DDRError(f"lr_scheduler: {sched!r} is not a DD-Ranking 0.2.0 scheduler ({', '.join(SCHEDULERS)})")
    out["scheduler"] = sched
    if sched == "step":
        if s["step_size"] is None:
            raise DDRError("step_size: lr_scheduler 'step' needs a step_size (DD-Ranking asserted it during training)")
        out["step_size"] = int(_number("step_size", s["step_size"], whole=True))
        out["gamma"] = 0.1
    return out


def _loss(evaluator: str, s: dict[str, Any]) -> dict[str, Any]:
    crit = s["soft_label_criterion"]
    if crit not in LOSS_DEFAULTS:
        raise DDRError(f"soft_label_criterion: unknown criterion {crit!r} (kl, sce or mse_gt)")
    args = dict(LOSS_DEFAULTS[crit])
    given = s.get("loss_fn_kwargs")
    if given is not None and not isinstance(given, dict):
        raise DDRError(f"loss_fn_kwargs: expected a mapping, got {given!r}")
    if evaluator == "GeneralEvaluator" and s.get("temperature") is not None:
        given = {"temperature": s["temperature"], **(given or {})}
    for k, v in (given or {}).items():
        if k not in LOSS_KWARGS:
            raise DDRError(f"loss_fn_kwargs: unknown key '{k}' ({', '.join(LOSS_KWARGS)})")
        target = LOSS_KWARGS[k]
        if target not in args:
            raise DDRError(f"loss_fn_kwargs: '{k}' does not apply to the {crit} loss")
        args[target] = bool(v) if target == "scale_t2" else float(v)
    if not args.get("scale_t2", True):
        del args["scale_t2"]  # ddr's default: stated only when on, as the shipped protocols do
    return {"loss": crit, "loss_args": args}


def build_protocol(evaluator: str, s: dict[str, Any], data: RealData, dataset: str) -> Mapped:
    """The ddr protocol for evaluator `evaluator` with settings `s` (every key of keys.DEFAULTS[evaluator],
    filled) on `data` (ddr name `dataset`)."""
    from ddr.models import build_model

    kind = KIND[evaluator]
    if evaluator == "AugmentationRobustScore":
        label = s["label_type"]
        if label not in ("hard", "soft"):
            raise DDRError(f"label_type: expected 'hard' or 'soft', got {label!r}")
    elif evaluator == "GeneralEvaluator":
        label = "soft" if s["use_soft_label"] else "hard"
    else:
        label = "soft" if evaluator == "LabelRobustScoreSoft" else "hard"
    tv = bool(s.get("use_torchvision") or s.get("stu_use_torchvision"))
    model = ddr_model("model_name", s["model_name"], tv)
    try:
        build_model(model, data.channels, data.num_classes, data.im_size)
    except DDRError as exc:
        raise DDRError(f"model_name: {exc}") from None
    batch_key = "syn_batch_size" if "syn_batch_size" in s and evaluator != "GeneralEvaluator" else "batch_size"
    train: dict[str, Any] = {"epochs": int(_number("num_epochs", s["num_epochs"], whole=True)),
                             "batch_size": int(_number(batch_key, s[batch_key], whole=True)),
                             "test_interval": TEST_INTERVAL[evaluator], **_optimiser(s)}
    aug = _augmentation(s, data, s["dataset"])
    if aug is not None:
        train["augmentation"] = aug
    # syn_lr is the set's own LR (lr_policy 'method'): both sides train at it and the random side's five-LR
    # search is recorded beside (ior_random_search); the ddranking-0.2 edition scores that one, as v0.2.0 did
    raw: dict[str, Any] = {"dataset": dataset, "model": model, "label": label, "lr_grid": list(FIVE_LR_GRID),
                           "lr_policy": "method", "ior_random": "method", "rounds": int(_number("num_eval", s["num_eval"], whole=True)),
                           "seed_base": 0, "real": real_recipe("model_name", dataset, model)}
    teacher_names: tuple[str, ...] = ()
    if label == "soft":
        train.update(_loss(evaluator, s))
        mode = s["soft_label_mode"]
        if mode not in ("S", "M"):
            raise DDRError(f"soft_label_mode: expected 'S' or 'M', got {mode!r}")
        names = s["teacher_model_names"]
        if isinstance(names, str):
            names = [names]
        if not names or not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise DDRError(f"teacher_model_names: a soft-label evaluation needs a list of teacher model names, "
                           f"got {s['teacher_model_names']!r}")
        teachers = []
        for n in names:
            t_model = ddr_model("teacher_model_names", n, bool(s["tea_use_torchvision"]))
            try:
                build_model(t_model, data.channels, data.num_classes, data.im_size)
            except DDRError as exc:
                raise DDRError(f"teacher_model_names: {exc}") from None
            teachers.append({"model": t_model, "train": teacher_recipe(dataset, t_model)})
        raw["soft"] = {"mode": mode, "teachers": teachers,
                       "use_aug_for_hard": bool(s.get("use_aug_for_hard", False))}
        teacher_names = tuple(names)
    elif evaluator == "LabelRobustScoreSoft":
        raise DDRError("LabelRobustScoreSoft needs soft labels")  # unreachable: label is soft by construction
    if s["use_zca"]:
        raw["zca"] = {"eps": 0.1}
    raw["train"] = train
    if kind == "ars" and aug is None:
        raise DDRError("data_aug_func: ARS compares training with and without augmentation; none is set")
    return Mapped(raw, kind, label, teacher_names)


def named(mapped: Mapped) -> dict[str, Any]:
    """The protocol YAML mapping, named by a digest of everything it trains, checked as ddr checks any protocol."""
    raw = dict(mapped.raw)
    digest = json_sha256(raw)[:10]
    out = {"name": f"ddranking-{mapped.kind}-{mapped.label}-{raw['dataset']}-{digest}", "version": 1,
           "description": f"DD-Ranking {mapped.kind.upper()} ({mapped.label} labels) settings, mapped by "
                          "ddr.compat.ddranking", **raw}
    parse_protocol(out, out["name"])
    return out

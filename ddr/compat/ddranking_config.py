"""DD-Ranking's evaluation configs (`<Method>/<Dataset>/IPC<k>.yaml` on its `eval` branch, the keys of its
`doc/config/overview.md`, reference 2.13 and 2.14) as ddr protocols.

Every key is in KEYS, as one of four kinds, or the config is refused naming it:
- `mapped`: it becomes a protocol field, converted (CIFAR10 -> cifar10, ResNet-18-BN with use_torchvision ->
  ResNet-18-BN-tv, num_eval -> rounds, syn_batch_size -> train.batch_size, ...);
- `checked`: it must agree with what ddr holds (the image size, the test transform); no field of its own;
- `run`: an input of a run or of the machine, not of the recipe (the IPC, paths, device, workers); checked and
  recorded, never part of the protocol;
- `ignored`: DD-Ranking 0.2.0 itself never reads it (default_lr, syn_lr, nclass), or the evaluator the config
  is for does not (AugmentationRobustScore and use_aug_for_hard); recorded with the reason.
A value ddr cannot honour (a transform class it has no op for, an unknown model, a scheduler it lacks) is one
DDRError line naming the key.

The translation is what DD-Ranking 0.2.0 computes from the config, wherever ddr can express it: the real-data
reference runs the REAL_DATA_TRAINING_CONFIG row's optimiser and schedule for the config's num_epochs at its
real_batch_size and test interval, with the method's batch augmentation iff use_aug_for_hard (reference 2.6).
ddr's deliberate corrections (ddr/protocols/README.md) are therefore NOT applied: they are what separates a
shipped protocol from its imported config (tests/compat/test_ddranking_config.py lists them per protocol).
Only where v0.2.0 stopped (no row for the data set and model, or the real accuracy read from a cache) does
the importer take ddr's documented recipe, and says so in the protocol's notes. A missing key that v0.2.0
read as None and crashed on (weight_decay, step_size for `step`, teacher_model_names) is refused.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddr.checks import number
from ddr.errors import DDRError, unknown
from ddr.protocols.ddranking_tables import (DATASET_NAMES, REAL_ROWS, SGD_CONV_CIFAR, SGD_CONV_TINY, TEST_INTERVAL,
                                            eval_full_data_needed)

FIVE_LR_GRID = [0.001, 0.005, 0.01, 0.05, 0.1]  # DD-Ranking's LR search (reference 1.1)


@dataclass(frozen=True)
class Key:
    """One DD-Ranking config key: its kind (mapped, checked, run or ignored) and what ddr does with it."""

    kind: str
    target: str


# The keys of DD-Ranking's doc/config/overview.md, then the ones its evaluators read besides (reference 2.14),
# then the ones v0.2.0 ignores. docs/ddranking-conformance.md shows this table.
KEYS: dict[str, Key] = {
    "dataset": Key("mapped", "dataset: CIFAR10 -> cifar10, CIFAR100 -> cifar100, TinyImageNet -> tinyimagenet, "
                             "ImageNet1K -> imagenet1k, ImageNette/ImageWoof/... -> imagenette/imagewoof/..."),
    "real_data_path": Key("run", "where the real data live: ddr finds a data set by name (`ddr data`)"),
    "ipc": Key("run", "a run argument (`--ipc`), checked against the distilled set"),
    "im_size": Key("checked", "must be the data set's size (32, 64, 224, 128 for the ImageNet subsets)"),
    "model_name": Key("mapped", "model (and soft.teachers' recipes): ConvNet-3 -> ConvNet-3, ResNet-18-BN with "
                                "torchvision -> ResNet-18-BN-tv"),
    "use_torchvision": Key("mapped", "LabelRobustScoreHard: model suffix -tv (ResNet); ConvNet is always ddr's"),
    "stu_use_torchvision": Key("mapped", "soft evaluators: model suffix -tv (ResNet)"),
    "tea_use_torchvision": Key("mapped", "soft.teachers[*].model suffix -tv"),
    "teacher_dir": Key("run", "checkpoints are passed with `--teacher` (one per teacher, in order); without them "
                              "ddr trains each teacher with the recipe in soft.teachers[*].train"),
    "teacher_model_names": Key("mapped", "soft.teachers[*].model; mobilenet_v2, shufflenet_v2_x0_5, "
                                         "efficientnet_b0, alexnet -> <name>-tv"),
    "data_aug_func": Key("mapped", "train.augmentation: dsa -> {name: dsa}, mixup -> {name: mixup}, "
                                   "cutmix -> {name: cutmix}, null -> none"),
    "aug_params": Key("mapped", "the batch augmentation's parameters: DSA keys -> params, lambda (Mixup), "
                                "beta (CutMix)"),
    "use_zca": Key("mapped", "zca: {eps: 0.1} (kornia's ZCA as MTT/DATM)"),
    "use_aug_for_hard": Key("mapped", "soft.use_aug_for_hard; with it the real reference gets the batch "
                                      "augmentation too (v0.2.0)"),
    "custom_train_trans": Key("mapped", "leading per-image ops of train.augmentation: RandomResizedCrop -> rrc, "
                                        "RandomCrop -> random_crop, RandomHorizontalFlip -> hflip, GaussianNoise "
                                        "-> gaussian_noise, ShufflePatches -> shuffle_patches; ToTensor and "
                                        "Normalize checked"),
    "custom_val_trans": Key("checked", "against ddr's test transform for the data set (Resize(256) + "
                                       "CenterCrop(224) on ImageNet, native size otherwise); another one is a note "
                                       "(I6)"),
    "soft_label_mode": Key("mapped", "soft.mode (S or M); any soft key makes the protocol label: soft"),
    "soft_label_criterion": Key("mapped", "train.loss: kl, sce, mse_gt"),
    "loss_fn_kwargs": Key("mapped", "train.loss_args: temperature, scale_loss -> scale_t2, mse_weight, "
                                    "ce_weight"),
    "optimizer": Key("mapped", "train.optimizer: sgd, adam, adamw"),
    "lr_scheduler": Key("mapped", "train.scheduler: step (gamma 0.1), cosine (DD-Ranking's quarter period), "
                                  "cosineannealing"),
    "weight_decay": Key("mapped", "train.weight_decay"),
    "momentum": Key("mapped", "train.momentum (sgd); train.betas when a pair (adam, adamw; a single number "
                              "is not read there: betas (0.9, 0.999))"),
    "step_size": Key("mapped", "train.step_size (required by step)"),
    "num_eval": Key("mapped", "rounds"),
    "eval_full_data": Key("mapped", "real: true -> the REAL_DATA_TRAINING_CONFIG row at num_epochs (a cosine "
                                    "over the row's epochs), real_batch_size (v0.2.0); false -> the row's own "
                                    "recipe (v0.2.0 read a cached accuracy or stopped); eval_full_data where "
                                    "DD-Ranking's tables would not tell the DD-Ranking editions which"),
    "num_epochs": Key("mapped", "train.epochs (and real.epochs under eval_full_data)"),
    "num_workers": Key("run", "loader workers: DDR_DATA_WORKERS"),
    "device": Key("run", "the machine's device (cuda or cpu); ddr picks it per run"),
    "dist": Key("run", "DD-Ranking's DDP over every training; ddr trains a student per device and runs "
                       "trainings side by side (`ddp` is ddr's per-protocol choice for the real reference)"),
    "syn_batch_size": Key("mapped", "train.batch_size"),
    "real_batch_size": Key("mapped", "real.batch_size under eval_full_data: true"),
    "batch_size": Key("mapped", "train.batch_size (AugmentationRobustScore's one batch size)"),
    "save_path": Key("run", "ddr writes result.json into its own results folder"),
    "random_data_format": Key("run", "ddr draws the random subsets itself per round (tensor or image only chose "
                                     "DD-Ranking's cache format)"),
    "random_data_path": Key("run", "ddr's random subsets are cached by recipe (`--random` passes folders)"),
    "label_type": Key("mapped", "label (AugmentationRobustScore): soft or hard"),
    "default_lr": Key("ignored", "not read by DD-Ranking 0.2.0 (reference 2.14)"),
    "syn_lr": Key("ignored", "not a config key in DD-Ranking 0.2.0 (an argument of compute_metrics)"),
    "nclass": Key("ignored", "not read by DD-Ranking 0.2.0 (the data set fixes the classes)"),
}

# doc/config/overview.md's LRS example, key by key (what a user's config holds)
OVERVIEW_KEYS = (
    "dataset", "real_data_path", "ipc", "im_size", "model_name", "stu_use_torchvision", "tea_use_torchvision",
    "teacher_dir", "teacher_model_names", "data_aug_func", "aug_params", "use_zca", "use_aug_for_hard",
    "custom_train_trans", "custom_val_trans", "soft_label_mode", "soft_label_criterion", "loss_fn_kwargs",
    "optimizer", "lr_scheduler", "weight_decay", "momentum", "num_eval", "eval_full_data", "num_epochs",
    "num_workers", "device", "dist", "syn_batch_size", "real_batch_size", "save_path", "random_data_format",
    "random_data_path",
)

# any of these makes a config a soft-label one (LabelRobustScoreSoft, or ARS with label_type soft)
SOFT_DEFINING = ("soft_label_mode", "soft_label_criterion", "loss_fn_kwargs", "teacher_model_names")

DATASETS = DATASET_NAMES
IMAGENET_FAMILY = ("imagenet1k", "imagenette", "imagewoof", "imagemeow", "imagesquawk", "imagefruit",
                   "imageyellow")
IM_SIZE = {"cifar10": 32, "cifar100": 32, "tinyimagenet": 64, "imagenet1k": 224,
           **{name: 128 for name in IMAGENET_FAMILY[1:]}}
CIFAR_NORM = ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))
IMAGENET_NORM = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
TV_ONLY = ("mobilenet_v2", "shufflenet_v2_x0_5", "efficientnet_b0", "alexnet")  # ddr's <name>-tv models

# Where the table has no row v0.2.0 stopped; ddr's documented choices (ddr/protocols/README.md, "Real-data
# references", I2, I8) stand in, each with the reason for the protocol's notes.
_CIFAR_RESNET = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0005,
                 "scheduler": "cosineannealing", "epochs": 200, "batch_size": 128}
FALLBACK_ROWS: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
    ("tinyimagenet", "ConvNet-4"): (SGD_CONV_TINY, "the TinyImageNet-ConvNet-4-BN row (I2)"),
    ("cifar100", "ConvNet-4-BN"): (SGD_CONV_CIFAR, "the CIFAR100-ConvNet-3-BN row"),
    **{(ds, "ResNet-18-BN"): (_CIFAR_RESNET, "ddr's CIFAR ResNet-18 recipe (I8)") for ds in ("cifar10", "cifar100")},
}
# Teachers DD-Ranking fetched with torchvision's downloaded ImageNet weights: ddr's recipes for training them
# when no checkpoint is passed (ddr/protocols/README.md, "Teachers"; the ones gvbsm-/edc-imagenet1k ship).
_IN_AUG = {"name": "sequence", "ops": [{"name": "rrc", "scale": [0.08, 1.0]}, {"name": "hflip"}]}
TV_TEACHERS: dict[str, dict[str, Any]] = {
    "alexnet-tv": {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0001, "scheduler": "step",
                   "step_size": 30, "gamma": 0.1, "epochs": 90, "batch_size": 256},
    "mobilenet_v2-tv": {"optimizer": "sgd", "lr": 0.045, "momentum": 0.9, "weight_decay": 0.00004,
                        "scheduler": "step", "step_size": 1, "gamma": 0.98, "epochs": 300, "batch_size": 256},
    "shufflenet_v2_x0_5-tv": {"optimizer": "sgd", "lr": 0.5, "momentum": 0.9, "weight_decay": 0.00004,
                              "scheduler": "cosineannealing", "epochs": 240, "batch_size": 1024},
    "efficientnet_b0-tv": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.00001,
                           "scheduler": "cosineannealing", "epochs": 350, "batch_size": 256},
}
SCHEDULERS = {"step": "step", "cosine": "cosine", "cosineannealing": "cosineannealing"}
LOSSES = {"kl": "kl", "sce": "sce", "mse_gt": "mse_gt"}
LOSS_KWARGS = {"temperature": "temperature", "scale_loss": "scale_t2", "mse_weight": "mse_weight",
               "ce_weight": "ce_weight"}
DSA_KEYS = ("scale", "rotate", "flip", "brightness", "saturation", "contrast", "crop", "cutout")


@dataclass
class Imported:
    """A DD-Ranking config as a ddr protocol: `protocol` (the YAML mapping, self-contained), what became of
    each key of the config (`keys`: key -> text) and the notes (fixes where v0.2.0 stopped, infidelities)."""

    protocol: dict[str, Any]
    keys: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_config(path: str | Path) -> dict[str, Any]:
    """A DD-Ranking YAML config, read strictly (a key given twice is refused, as in every ddr YAML)."""
    from ddr.yaml_input import load_yaml

    p = Path(path)
    if not p.is_file():
        raise DDRError(f"no such DD-Ranking config: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DDRError(f"DD-Ranking config {p}: cannot read it ({exc.__class__.__name__})") from None
    raw = load_yaml(text, f"DD-Ranking config {p}")
    if not isinstance(raw, dict):
        raise DDRError(f"DD-Ranking config {p}: not a YAML mapping of keys")
    return raw


def import_config(config: Mapping[str, Any] | str | Path, *, name: str, version: int = 1,
                  source: str | None = None) -> Imported:
    """The ddr protocol `name`@`version` a DD-Ranking config (a YAML file or its mapping) describes. Every key
    is mapped, recorded (run inputs, keys DD-Ranking ignores) or refused by name (DDRError)."""
    if isinstance(config, (str, Path)):
        source = source or Path(config).name
        config = read_config(config)
    if not isinstance(config, Mapping):
        raise DDRError("DD-Ranking config: not a mapping of keys")
    return _Importer(dict(config), name, number(version, "version", low=1, integer=True),
                     source or "a mapping").run()


class _Importer:
    def __init__(self, cfg: dict[str, Any], name: str, version: int, source: str):
        self.cfg, self.name, self.version, self.source = cfg, name, version, source
        self.keys: dict[str, str] = {}
        self.notes: list[str] = []

    # -- helpers -------------------------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return self.cfg.get(key) is not None

    def need(self, key: str, why: str = "") -> Any:
        if not self.has(key):
            raise DDRError(f"DD-Ranking config: missing key '{key}'" + (f" ({why})" if why else ""))
        return self.cfg[key]

    def num(self, key: str, **kw: Any) -> Any:
        try:
            return number(self.cfg[key], key, **kw)
        except DDRError as exc:
            raise DDRError(f"DD-Ranking config: {exc}") from None

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.cfg.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise DDRError(f"DD-Ranking config: {key} must be true or false, got {value!r}")
        return value

    def record(self, key: str, text: str) -> None:
        if key in self.cfg:
            self.keys[key] = text

    # -- the translation -----------------------------------------------------------------------------------
    def run(self) -> Imported:
        for key in self.cfg:
            if not isinstance(key, str) or key not in KEYS:
                raise unknown("DD-Ranking config key", str(key), KEYS)
        label_type = self.cfg.get("label_type")
        if "label_type" in self.cfg and label_type not in ("soft", "hard"):
            raise DDRError(f"DD-Ranking config: label_type must be 'soft' or 'hard', got {label_type!r}")
        soft_keys = [k for k in SOFT_DEFINING if self.has(k)]
        if label_type == "hard" and soft_keys:
            raise DDRError(f"DD-Ranking config: {soft_keys[0]} is a soft-label key but label_type is 'hard'")
        self.soft = bool(soft_keys) or label_type == "soft"
        self.ars = "label_type" in self.cfg or "batch_size" in self.cfg
        self.label = "soft" if self.soft else "hard"
        self.evaluator = ("AugmentationRobustScore" if self.ars
                          else "LabelRobustScoreSoft" if self.soft else "LabelRobustScoreHard")
        self.dataset = self._dataset()
        self.size = self._im_size()
        self.model = self._student()
        self._run_keys()
        per_image = self._train_transforms()
        self._val_transforms()
        self.batch_aug = self._batch_aug()
        ops = per_image + ([self.batch_aug] if self.batch_aug else [])
        augmentation = None if not ops else ops[0] if len(ops) == 1 else {"name": "sequence", "ops": ops}
        train = self._train(augmentation)
        proto: dict[str, Any] = {
            "name": self.name, "version": self.version,
            "description": f"Imported from the DD-Ranking config {self.source} ({self.evaluator}).",
            "dataset": self.dataset, "model": self.model, "label": self.label,
            "train": train, "real": self._real(train), "lr_grid": list(FIVE_LR_GRID), "lr_policy": "search",
            "rounds": self._rounds(), "seed_base": 0, "weight": 0.5,
        }
        if not self.ars and eval_full_data_needed(self.dataset, self.model, self.flag("eval_full_data")):
            proto["eval_full_data"] = self.flag("eval_full_data")
        if self.flag("use_zca"):
            proto["zca"] = {"eps": 0.1}
        self.record("use_zca", "zca: {eps: 0.1}" if self.flag("use_zca") else "no zca")
        if self.soft:
            proto["soft"] = self._soft_section()
        else:
            for key in ("teacher_dir", "tea_use_torchvision", "use_aug_for_hard", *SOFT_DEFINING):
                if key in self.cfg:  # present but null, or a key of the soft evaluators only
                    self.keys[key] = f"ignored: {self.evaluator} reads no soft-label key"
        self.record("label_type", f"label: {self.label}")
        for key, rule in KEYS.items():
            if key in self.cfg and key not in self.keys and rule.kind == "ignored":
                self.keys[key] = f"ignored: {rule.target}"
        unhandled = [k for k in self.cfg if k not in self.keys]
        if unhandled:  # a key the code below does not account for would be silently dropped: never
            raise DDRError(f"DD-Ranking config: key '{unhandled[0]}' is not used by {self.evaluator}")
        if self.notes:
            proto["notes"] = " ".join(self.notes)
        keys = {k: self.keys[k] for k in self.cfg}  # in the config's order
        return Imported(json.loads(json.dumps(proto)), keys, self.notes)  # no shared objects: no YAML anchors

    def _dataset(self) -> str:
        raw = self.need("dataset")
        if not isinstance(raw, str) or raw not in DATASETS:
            raise unknown("DD-Ranking data set (dataset)", str(raw), DATASETS)
        self.record("dataset", f"dataset: {DATASETS[raw]}")
        return DATASETS[raw]

    def _im_size(self) -> int:
        size = IM_SIZE[self.dataset]
        raw = self.cfg.get("im_size")
        if raw is not None:
            pair = raw if isinstance(raw, (list, tuple)) else [raw, raw]
            if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair) \
                    or list(pair) != [size, size]:
                raise DDRError(f"DD-Ranking config: im_size {raw!r}: ddr holds {self.dataset} at "
                               f"[{size}, {size}] only")
            self.record("im_size", f"checked: [{size}, {size}]")
        return size

    def _model(self, key: str, raw: Any, tv_key: str) -> str:
        """ddr's name for a DD-Ranking model name (reference 2.9); refused by `key` when ddr has none."""
        from ddr.models import parse_model_name

        if not isinstance(raw, str) or not raw:
            raise DDRError(f"DD-Ranking config: {key} must be a model name, got {raw!r}")
        torchvision = self.flag(tv_key)
        family = raw.split("-")[0]
        if raw in TV_ONLY or raw.lower() == "alexnet" and torchvision:
            if self.dataset not in IMAGENET_FAMILY:
                raise DDRError(f"DD-Ranking config: {key} {raw!r}: ddr's torchvision {raw.lower()} has "
                               "ImageNet's stem only (DD-Ranking swapped in a small-input stem); use it on "
                               "ImageNet data sets")
            name = f"{raw.lower()}-tv"
        elif family == "ResNet" and torchvision:
            parts = raw.split("-")
            name = f"ResNet-{parts[1]}-BN-tv" if len(parts) >= 2 else raw  # torchvision's ResNets are BN
        elif family in ("VGG",) and torchvision:
            raise DDRError(f"DD-Ranking config: {key} {raw!r} with {tv_key}: ddr has no torchvision VGG; "
                           f"use ddr's ({tv_key}: false)")
        else:
            name = raw  # ConvNet, LeNet, MLP, AlexNet, VGG, ResNet: ddr's own, DD-Ranking's grammar
        if family == "ResNet" and not name.endswith("-tv") and self.size > 64:
            raise DDRError(f"DD-Ranking config: {key} {raw!r}: DD-Ranking's own ResNet is a CIFAR ResNet that "
                           f"fails at {self.size} px (defect 6.1.12); set {tv_key}: true")
        try:
            parse_model_name(name)
        except DDRError:
            raise DDRError(f"DD-Ranking config: {key} {raw!r} is not a model ddr has (as {name!r})") from None
        return name

    def _student(self) -> str:
        hard_lrs = self.evaluator == "LabelRobustScoreHard"  # the soft evaluators and ARS read stu_use_torchvision
        tv_key, other = ("use_torchvision", "stu_use_torchvision") if hard_lrs else \
            ("stu_use_torchvision", "use_torchvision")
        model = self._model("model_name", self.need("model_name"), tv_key)
        self.record("model_name", f"model: {model}")
        self.record(tv_key, f"model: {model}")
        if other in self.cfg:
            self.flag(other)
            self.keys[other] = f"ignored: {self.evaluator} reads {tv_key}, not {other}"
        return model

    def _run_keys(self) -> None:
        if "ipc" in self.cfg:
            self.num("ipc", low=1, integer=True)
            self.record("ipc", f"run argument --ipc {self.cfg['ipc']} (checked against the set)")
        for key in ("real_data_path", "teacher_dir", "save_path", "random_data_path"):
            if self.has(key) and not isinstance(self.cfg[key], str):
                raise DDRError(f"DD-Ranking config: {key} must be a path, got {self.cfg[key]!r}")
        if self.has("num_workers"):
            self.num("num_workers", low=0, integer=True)
        if self.has("device") and str(self.cfg["device"]).split(":")[0] not in ("cuda", "cpu"):
            raise DDRError(f"DD-Ranking config: device must be cuda or cpu, got {self.cfg['device']!r}")
        if "dist" in self.cfg:
            self.flag("dist")
        if self.has("random_data_format") and self.cfg["random_data_format"] not in ("tensor", "tensors", "image"):
            raise DDRError("DD-Ranking config: random_data_format must be tensor or image, got "
                           f"{self.cfg['random_data_format']!r}")
        for key in ("real_data_path", "teacher_dir", "num_workers", "device", "dist", "save_path",
                    "random_data_format", "random_data_path"):
            if key == "teacher_dir" and not self.soft:
                continue
            self.record(key, f"run input, not part of the protocol: {KEYS[key].target}")

    def _trans_list(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        raw = self.cfg.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise DDRError(f"DD-Ranking config: {key} must be a list of {{name, args}}, got {raw!r}")
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or set(item) - {"name", "args"}:
                raise DDRError(f"DD-Ranking config: {key}[{i}] must be {{name: ..., args: ...}}, got {item!r}")
            args = item.get("args") or {}
            if not isinstance(args, dict):  # DD-Ranking passes a list positionally: ddr reads keywords only
                raise DDRError(f"DD-Ranking config: {key}[{i}] {item['name']}: give args as a mapping of keywords")
            out.append((item["name"], args))
        return out

    def _check_norm(self, key: str, args: dict[str, Any]) -> None:
        want = CIFAR_NORM if self.dataset in ("cifar10", "cifar100") else IMAGENET_NORM
        mean, std = args.get("mean"), args.get("std")
        if not all(isinstance(v, (list, tuple)) and len(v) == 3 for v in (mean, std)):
            raise DDRError(f"DD-Ranking config: {key} Normalize needs mean and std, three numbers each")
        got = (tuple(float(self._arg(key, "Normalize", "mean", v, low=None)) for v in mean),
               tuple(float(self._arg(key, "Normalize", "std", v, low_open=True)) for v in std))
        if any(not math.isclose(a, b, abs_tol=1e-4) for a, b in zip(got[0] + got[1], want[0] + want[1])):
            note = (f"{key} normalises with mean {list(got[0])}, std {list(got[1])}; ddr holds {self.dataset} in "
                    f"its own normalised space (mean {list(want[0])}, std {list(want[1])}), an affine difference "
                    "per channel (ddr/protocols/README.md I10).")
            if note not in self.notes:
                self.notes.append(note)

    @staticmethod
    def _arg(key: str, tname: str, name: str, value: Any, low: float | None = 0, **kw: Any) -> float | int:
        try:
            return number(value, f"{key} {tname}: {name}", low=low, **kw)
        except DDRError as exc:
            raise DDRError(f"DD-Ranking config: {exc}") from None

    def _pair(self, key: str, tname: str, name: str, value: Any) -> list[float]:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise DDRError(f"DD-Ranking config: {key} {tname}: {name} must be two numbers, got {value!r}")
        return [float(self._arg(key, tname, name, v, low_open=True)) for v in value]

    def _size_arg(self, key: str, tname: str, args: dict[str, Any]) -> None:
        size = args.get("size", self.size)
        pair = size if isinstance(size, (list, tuple)) else [size, size]
        if list(pair) != [self.size, self.size]:
            raise DDRError(f"DD-Ranking config: {key} {tname}(size={size!r}): ddr trains {self.dataset} at "
                           f"{self.size} px")

    def _only(self, key: str, tname: str, args: dict[str, Any], allowed: tuple[str, ...]) -> None:
        extra = sorted(set(args) - set(allowed))
        if extra:
            raise DDRError(f"DD-Ranking config: {key} {tname}: argument '{extra[0]}' has no ddr equivalent "
                           f"(ddr reads {', '.join(allowed) or 'none'})")

    def _train_transforms(self) -> list[dict[str, Any]]:
        key, ops, normalised = "custom_train_trans", [], False
        for tname, args in self._trans_list(key):
            if tname == "RandomResizedCrop":
                self._only(key, tname, args, ("size", "scale", "ratio"))
                self._size_arg(key, tname, args)
                op: dict[str, Any] = {"name": "rrc", "scale": self._pair(key, tname, "scale",
                                                                        args.get("scale", [0.08, 1.0]))}
                if "ratio" in args:
                    op["ratio"] = self._pair(key, tname, "ratio", args["ratio"])
                ops.append(op)
            elif tname == "RandomCrop":
                self._only(key, tname, args, ("size", "padding"))
                self._size_arg(key, tname, args)
                padding = self._arg(key, tname, "padding", args.get("padding", 0), integer=True)
                ops.append({"name": "random_crop", "padding": padding})  # one number: every side alike
            elif tname == "RandomHorizontalFlip":
                self._only(key, tname, args, ("p",))
                p = {"p": float(self._arg(key, tname, "p", args["p"], high=1))} if "p" in args else {}
                ops.append({"name": "hflip", **p})
            elif tname == "ShufflePatches":
                self._only(key, tname, args, ("factor",))
                ops.append({"name": "shuffle_patches",
                            "factor": self._arg(key, tname, "factor", args.get("factor", 2), low=1, integer=True)})
            elif tname == "GaussianNoise":
                self._only(key, tname, args, ("mean", "sigma", "clip"))
                if not normalised:
                    raise DDRError(f"DD-Ranking config: {key} GaussianNoise before Normalize: ddr adds noise in "
                                   "the normalised pixel space only (put it after Normalize)")
                if args.get("clip", True):
                    raise DDRError(f"DD-Ranking config: {key} GaussianNoise(clip=true): ddr's noise does not "
                                   "clip (give clip: false)")
                op = {"name": "gaussian_noise", "sigma": float(self._arg(key, tname, "sigma", args.get("sigma", 0.1)))}
                mean = float(self._arg(key, tname, "mean", args.get("mean", 0.0), low=None))
                if mean != 0.0:
                    op["mean"] = mean
                ops.append(op)
            elif tname == "ToTensor":
                self._only(key, tname, args, ())
            elif tname == "Normalize":
                self._only(key, tname, args, ("mean", "std"))
                self._check_norm(key, args)
                normalised = True
            else:
                raise DDRError(f"DD-Ranking config: {key}: transform '{tname}' has no ddr equivalent (ddr has "
                               "RandomResizedCrop, RandomCrop, RandomHorizontalFlip, GaussianNoise, "
                               "ShufflePatches; ToTensor and Normalize are implied)")
        if key in self.cfg:
            self.record(key, f"train.augmentation: {[op['name'] for op in ops]} first" if ops else "no per-image op")
        return ops

    def _val_transforms(self) -> None:
        key, steps = "custom_val_trans", []
        for tname, args in self._trans_list(key):
            if tname in ("Resize", "CenterCrop"):
                self._only(key, tname, args, ("size",))
                size = args.get("size")
                if isinstance(size, bool) or not isinstance(size, int):
                    raise DDRError(f"DD-Ranking config: {key} {tname}: size must be one whole number, got {size!r}")
                steps.append((tname, size))
            elif tname == "ToTensor":
                self._only(key, tname, args, ())
            elif tname == "Normalize":
                self._only(key, tname, args, ("mean", "std"))
                self._check_norm(key, args)
            else:
                raise DDRError(f"DD-Ranking config: {key}: transform '{tname}' has no ddr equivalent (ddr tests on "
                               "one test split per data set: Resize, CenterCrop, ToTensor, Normalize only)")
        s = self.size
        ddr_test = [("Resize", round(s / 0.875)), ("CenterCrop", s)] if self.dataset in IMAGENET_FAMILY else []
        same = steps == ddr_test or (not ddr_test and steps in ([("Resize", s), ("CenterCrop", s)],
                                                                [("CenterCrop", s)]))
        if steps and not same:
            self.notes.append(f"custom_val_trans {' + '.join(f'{n}({v})' for n, v in steps)} is not reproduced: "
                              f"ddr tests every {self.dataset} protocol on one test split "
                              f"({' + '.join(f'{n}({v})' for n, v in ddr_test) or f'native {s} px'}; "
                              "ddr/protocols/README.md I6).")
        self.record(key, "checked: ddr's test split" if same or not steps else "a note: not reproduced (I6)")

    def _batch_aug(self) -> dict[str, Any] | None:
        func = self.cfg.get("data_aug_func")
        params = self.cfg.get("aug_params")
        if params is not None and not isinstance(params, dict):
            raise DDRError(f"DD-Ranking config: aug_params must be a mapping, got {params!r}")
        params = dict(params or {})
        if func is None:
            if params:
                raise DDRError("DD-Ranking config: aug_params given without data_aug_func")
            self.record("data_aug_func", "no batch augmentation")
            self.record("aug_params", "no batch augmentation")
            return None
        if func == "dsa":
            extra = sorted(set(params) - set(DSA_KEYS))
            if extra:
                raise DDRError(f"DD-Ranking config: aug_params: '{extra[0]}' is not a DSA key "
                               f"({', '.join(DSA_KEYS)})")
            op = {"name": "dsa", "params": {k: float(self._param(k, v)) for k, v in params.items()}}
        elif func in ("mixup", "cutmix"):
            want = "lambda" if func == "mixup" else "beta"
            extra = sorted(set(params) - {want})
            if extra:
                raise DDRError(f"DD-Ranking config: aug_params: '{extra[0]}' is not a {func} key (only '{want}')")
            if want not in params:  # DD-Ranking's class has no default: the evaluator crashed without it
                raise DDRError(f"DD-Ranking config: aug_params needs '{want}' for {func}")
            op = {"name": func, want: float(self._param(want, params[want], low_open=True))}
        else:
            raise DDRError(f"DD-Ranking config: data_aug_func {func!r} has no ddr equivalent "
                           "(dsa, mixup, cutmix or null; ZCA is use_zca)")
        self.record("data_aug_func", f"train.augmentation: {op['name']}")
        self.record("aug_params", f"train.augmentation: {op['name']} parameters")
        return op

    @staticmethod
    def _param(key: str, value: Any, low_open: bool = False) -> float:
        try:
            return number(value, f"aug_params.{key}", low=0, low_open=low_open)
        except DDRError as exc:
            raise DDRError(f"DD-Ranking config: {exc}") from None

    def _train(self, augmentation: dict[str, Any] | None) -> dict[str, Any]:
        opt = self.need("optimizer")
        if opt not in ("sgd", "adam", "adamw"):
            raise DDRError(f"DD-Ranking config: optimizer {opt!r} has no ddr equivalent (sgd, adam, adamw)")
        train: dict[str, Any] = {"optimizer": opt}
        self.need("weight_decay", "DD-Ranking passed None to the optimizer")
        momentum = self.cfg.get("momentum")
        if opt == "sgd":
            self.need("momentum", "DD-Ranking passed None to SGD")
            train["momentum"] = self.num("momentum", low=0)
            self.record("momentum", f"train.momentum: {train['momentum']}")
        else:
            if isinstance(momentum, (list, tuple)) and len(momentum) == 2:
                train["betas"] = [float(self._arg("momentum", "(betas)", "each value", v, high=1)) for v in momentum]
                self.record("momentum", f"train.betas: {train['betas']}")
            else:
                train["betas"] = [0.9, 0.999]
                if momentum is not None:
                    self.num("momentum")
                self.record("momentum", f"ignored: {opt} takes betas; not a pair, so (0.9, 0.999) as DD-Ranking")
        train["weight_decay"] = self.num("weight_decay", low=0)
        self.record("optimizer", f"train.optimizer: {opt}")
        self.record("weight_decay", f"train.weight_decay: {train['weight_decay']}")
        sched = self.need("lr_scheduler")
        if not isinstance(sched, str) or sched not in SCHEDULERS:
            raise DDRError(f"DD-Ranking config: lr_scheduler {sched!r} has no ddr equivalent "
                           f"({', '.join(SCHEDULERS)})")
        train["scheduler"] = SCHEDULERS[sched]
        if sched == "step":
            self.need("step_size", "lr_scheduler step needs it; DD-Ranking asserted when creating it")
            train["step_size"] = self.num("step_size", low=1, integer=True)
            train["gamma"] = 0.1
            self.record("step_size", f"train.step_size: {train['step_size']} (gamma 0.1)")
        elif "step_size" in self.cfg:
            self.keys["step_size"] = f"ignored: only lr_scheduler step reads it (this is {sched})"
        self.record("lr_scheduler", f"train.scheduler: {train['scheduler']}")
        self.need("num_epochs")
        train["epochs"] = self.num("num_epochs", low=1, integer=True)
        self.record("num_epochs", f"train.epochs: {train['epochs']}")
        train["batch_size"] = self._batch_size()
        train["test_interval"] = TEST_INTERVAL[self.evaluator]
        if augmentation is not None:
            train["augmentation"] = augmentation
        if self.soft:
            train.update(self._loss())
        return train

    def _batch_size(self) -> int:
        if self.ars:
            for key in ("syn_batch_size", "real_batch_size", "eval_full_data", "use_aug_for_hard"):
                if key in self.cfg:
                    self.keys[key] = "ignored: AugmentationRobustScore does not read it (one batch_size, no real reference)"
            self.need("batch_size")
            bs = self.num("batch_size", low=1, integer=True)
            self.record("batch_size", f"train.batch_size: {bs}")
            return bs
        if "batch_size" in self.cfg:
            raise DDRError(f"DD-Ranking config: batch_size is AugmentationRobustScore's; {self.evaluator} reads "
                           "syn_batch_size and real_batch_size")
        self.need("syn_batch_size")
        bs = self.num("syn_batch_size", low=1, integer=True)
        self.record("syn_batch_size", f"train.batch_size: {bs}")
        return bs

    def _loss(self) -> dict[str, Any]:
        crit = self.need("soft_label_criterion")
        if not isinstance(crit, str) or crit not in LOSSES:
            raise DDRError(f"DD-Ranking config: soft_label_criterion {crit!r} has no ddr equivalent "
                           f"({', '.join(LOSSES)})")
        kwargs = self.need("loss_fn_kwargs", "the soft evaluators unpacked it; DD-Ranking crashed on None")
        if not isinstance(kwargs, dict):
            raise DDRError(f"DD-Ranking config: loss_fn_kwargs must be a mapping, got {kwargs!r}")
        args: dict[str, Any] = {}
        for k, v in kwargs.items():
            if k not in LOSS_KWARGS:
                raise DDRError(f"DD-Ranking config: loss_fn_kwargs: '{k}' has no ddr equivalent "
                               f"({', '.join(LOSS_KWARGS)})")
            if k == "scale_loss":
                if not isinstance(v, bool):
                    raise DDRError(f"DD-Ranking config: loss_fn_kwargs.scale_loss must be true or false, got {v!r}")
                if v:
                    args["scale_t2"] = True
            else:
                low_open = k == "temperature"
                try:
                    args[LOSS_KWARGS[k]] = float(number(v, f"loss_fn_kwargs.{k}", low=0, low_open=low_open))
                except DDRError as exc:
                    raise DDRError(f"DD-Ranking config: {exc}") from None
        if crit in ("kl", "sce") and "temperature" not in args:
            raise DDRError("DD-Ranking config: loss_fn_kwargs needs temperature for kl and sce "
                           "(ddr states T explicitly; DD-Ranking's default was 1.2)")
        self.record("soft_label_criterion", f"train.loss: {crit}")
        self.record("loss_fn_kwargs", f"train.loss_args: {args}")
        return {"loss": LOSSES[crit], "loss_args": args}

    def _row(self, model: str, what: str) -> tuple[dict[str, Any], str | None]:
        """The REAL_DATA_TRAINING_CONFIG row of (data set, model), or ddr's documented stand-in with why."""
        key = (self.dataset, model[:-3] if model.endswith("-tv") else model)
        if key in REAL_ROWS:
            return dict(REAL_ROWS[key]), None
        if key in FALLBACK_ROWS:
            row, why = FALLBACK_ROWS[key]
            return dict(row), why
        raise DDRError(f"DD-Ranking config: no real-data recipe for {what} {model} on {self.dataset}: "
                       "DD-Ranking's REAL_DATA_TRAINING_CONFIG has no row and ddr documents none")

    def _real(self, train: dict[str, Any]) -> dict[str, Any]:
        row, why = self._row(self.model, "model_name")
        real = {**row, "test_interval": 10}
        dd_key = f"{self.dataset}-{self.model.removesuffix('-tv')}"
        if self.ars:
            self.notes.append(f"AugmentationRobustScore has no real-data reference; real: records the {dd_key} "
                              "row for completeness (I15).")
        elif why is not None:
            self.notes.append(f"real: DD-Ranking's REAL_DATA_TRAINING_CONFIG has no {dd_key} row (v0.2.0 "
                              f"stopped); ddr trains {why} with its own epochs.")
        elif not self.flag("eval_full_data"):
            self.notes.append(f"real: eval_full_data false made v0.2.0 read a cached accuracy or stop; ddr "
                              f"trains the {dd_key} row with its own epochs (I7).")
        else:  # what v0.2.0 ran: the row's optimiser and schedule for num_epochs at real_batch_size (2.6), the
            # schedule built with the row's own epochs (a cosine's horizon)
            self.need("real_batch_size")
            if real["scheduler"] in ("cosine", "cosineannealing") and real["epochs"] != train["epochs"]:
                real["schedule_epochs"] = real["epochs"]
            real.update(epochs=train["epochs"], test_interval=TEST_INTERVAL[self.evaluator],
                        batch_size=self.num("real_batch_size", low=1, integer=True))
            if self.soft and self.flag("use_aug_for_hard") and self.batch_aug is not None:
                real["augmentation"] = self.batch_aug
        if not self.ars:
            self.flag("eval_full_data")
            self.record("eval_full_data", "real: the row at num_epochs, real_batch_size" if self.flag("eval_full_data")
                        else "real: the row's own recipe (v0.2.0 read a cache or stopped)")
            self.record("real_batch_size", f"real.batch_size: {real['batch_size']}" if self.flag("eval_full_data")
                        else "ignored: no real-data training under eval_full_data false")
        return real

    def _rounds(self) -> int:
        self.need("num_eval")
        rounds = self.num("num_eval", low=1, integer=True)
        self.record("num_eval", f"rounds: {rounds}")
        return rounds

    def _soft_section(self) -> dict[str, Any]:
        mode = self.need("soft_label_mode")
        if mode not in ("S", "M"):
            raise DDRError(f"DD-Ranking config: soft_label_mode must be S or M, got {mode!r}")
        names = self.need("teacher_model_names", "the soft evaluators build the teachers from it")
        if not isinstance(names, list) or not names:
            raise DDRError(f"DD-Ranking config: teacher_model_names must be a non-empty list, got {names!r}")
        teachers = []
        for i, raw in enumerate(names):
            model = self._model(f"teacher_model_names[{i}]", raw, "tea_use_torchvision")
            teachers.append({"model": model, "train": self._teacher_recipe(model, i)})
        self.notes.append("Teachers: DD-Ranking loaded checkpoints from teacher_dir; pass them with --teacher "
                          "(one per teacher, in order), else ddr trains each with soft.teachers[*].train.")
        use_aug = self.flag("use_aug_for_hard")
        self.record("soft_label_mode", f"soft.mode: {mode}")
        self.record("teacher_model_names", f"soft.teachers: {[t['model'] for t in teachers]}")
        self.record("tea_use_torchvision", f"soft.teachers: {[t['model'] for t in teachers]}")
        if not self.ars:
            self.record("use_aug_for_hard", f"soft.use_aug_for_hard: {str(use_aug).lower()}")
        return {"mode": mode, "use_aug_for_hard": use_aug and not self.ars, "teachers": teachers}

    def _teacher_recipe(self, model: str, i: int) -> dict[str, Any]:
        """ddr's recipe for a teacher (DD-Ranking gives none): the real-data row of its (data set, model)
        with the augmentation checkpoints are trained with, or torchvision's recipe for the ImageNet members."""
        if model in TV_TEACHERS:
            return {**TV_TEACHERS[model], "test_interval": 10, "augmentation": _IN_AUG}
        row, _ = self._row(model, f"teacher_model_names[{i}]")
        aug = _IN_AUG if self.dataset in IMAGENET_FAMILY else \
            {"name": "sequence", "ops": [{"name": "random_crop", "padding": 4}, {"name": "hflip"}]}
        return {**row, "test_interval": 10, "augmentation": aug}

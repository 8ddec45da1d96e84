"""The one mapping from DD-Ranking 0.2.0's settings (the keys of its `doc/config/overview.md`, reference 2.13
and 2.14) to a ddr protocol, used by `ddr protocols import` (ddr.compat.ddranking_config) and by the
evaluators of ddr.compat.ddranking.

It gives the `ddr` edition: ddr's corrected recipe where a correction is a reading of the settings (the
real-data reference with its own recipe, trained once, 6.1.8; the set's own lr on both sides, 1.6.3).
What DD-Ranking 0.2.0 computed from the same settings is that protocol's `ddranking-0.2` edition
(`ddr.protocols.editions.edition_of(protocol, "ddranking-0.2")`); where a setting says something that
edition cannot reproduce, the protocol's notes say so.

Every key is in KEYS, as one of five kinds, or the settings are refused naming it:
- `mapped`: it becomes a protocol field, converted (CIFAR10 -> cifar10, ResNet-18-BN with use_torchvision ->
  ResNet-18-BN-tv, num_eval -> rounds, syn_batch_size -> train.batch_size, ...);
- `checked`: it must agree with what ddr holds (the image size, the test transform); no field of its own;
- `run`: an input of a run or of the machine, not of the recipe (the IPC, paths, device, workers); checked and
  recorded, never part of the protocol;
- `edition`: what only the `ddranking-0.2` edition reads: DD-Ranking 0.2.0's real-data reference
  (eval_full_data, real_batch_size) and its JPEG random baselines (random_data_format); checked and recorded,
  stated in the protocol where DD-Ranking's own configs would tell the edition otherwise, a note where the
  edition differs;
- `ignored`: DD-Ranking 0.2.0 itself never reads it (default_lr, syn_lr, nclass); recorded with the reason.
A key the settings' evaluator does not read is recorded as ignored; a value ddr cannot honour (a transform
class it has no op for, an unknown model, a scheduler it lacks) is one DDRError line starting with the key.

Two callers, one reading: the importer passes a config file's keys as given (a missing key is what v0.2.0
read as None: where that crashed v0.2.0, the mapping refuses naming the key); the evaluators pass their
keywords with DD-Ranking's constructor defaults (ddr.compat.ddranking.keys) as `defaults`.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ddr.checks import number
from ddr.errors import DDRError, unknown
from ddr.protocols import FIVE_LR_GRID, raw_protocol
from ddr.protocols.ddranking_tables import (
    DATASET_NAMES,
    REAL_ACC_CACHE,
    REAL_BATCH_SIZE,
    REAL_ROWS,
    SGD_CONV_CIFAR,
    SGD_CONV_TINY,
    TEST_INTERVAL,
    eval_full_data_needed,
    jpeg_random_images,
    random_data_format_needed,
    trained_real_reference,
)


@dataclass(frozen=True)
class Key:
    """One DD-Ranking key: its kind (mapped, checked, run, edition or ignored) and what ddr does with it."""

    kind: str
    target: str


# The keys of DD-Ranking's doc/config/overview.md, then the ones its evaluators read besides (reference 2.14),
# then the ones v0.2.0 ignores. docs/ddranking-config-import.md shows this table.
KEYS: dict[str, Key] = {
    "dataset": Key("mapped", "dataset: CIFAR10 -> cifar10, CIFAR100 -> cifar100, TinyImageNet -> tinyimagenet, "
                             "ImageNet1K -> imagenet1k, ImageNette/ImageWoof/... -> imagenette/imagewoof/...; "
                             "digits is ddr's own"),
    "real_data_path": Key("run", "where the real data live: ddr finds a data set by name (`ddr data`); the "
                                 "evaluators load it from there"),
    "ipc": Key("run", "a run argument (`--ipc`), checked against the distilled set"),
    "im_size": Key("checked", "must be the data set's size (32, 64, 224, 128 for the ImageNet subsets, 8 digits)"),
    "model_name": Key("mapped", "model (and soft.teachers' recipes): ConvNet-3 -> ConvNet-3, ResNet-18-BN with "
                                "torchvision -> ResNet-18-BN-tv"),
    "use_torchvision": Key("mapped", "LabelRobustScoreHard: model suffix -tv (ResNet); ConvNet is always ddr's"),
    "stu_use_torchvision": Key("mapped", "the other evaluators: model suffix -tv (ResNet)"),
    "tea_use_torchvision": Key("mapped", "soft.teachers[*].model suffix -tv"),
    "teacher_dir": Key("run", "checkpoints: `--teacher` (one per teacher, in order), or teacher_dir/{dataset}/"
                              "{model}/ckpt_best.pt in the evaluators; without them ddr trains each teacher with "
                              "the recipe in soft.teachers[*].train"),
    "teacher_model_names": Key("mapped", "soft.teachers[*].model; mobilenet_v2, shufflenet_v2_x0_5, "
                                         "efficientnet_b0, alexnet -> <name>-tv"),
    "data_aug_func": Key("mapped", "train.augmentation: dsa -> {name: dsa}, mixup -> {name: mixup}, "
                                   "cutmix -> {name: cutmix}, null -> none"),
    "aug_params": Key("mapped", "the batch augmentation's parameters: DSA keys -> params (the docs' prob_flip, "
                                "ratio_rotate, ... spellings too), lambda (Mixup), beta (CutMix)"),
    "use_zca": Key("mapped", "zca: {eps: 0.1} (kornia's ZCA as MTT/DATM)"),
    "use_aug_for_hard": Key("mapped", "soft.use_aug_for_hard (in the ddranking-0.2 edition the real reference "
                                      "gets the batch augmentation too)"),
    "custom_train_trans": Key("mapped", "leading per-image ops of train.augmentation: RandomResizedCrop -> rrc, "
                                        "RandomCrop -> random_crop, RandomHorizontalFlip -> hflip, GaussianNoise "
                                        "-> gaussian_noise, ShufflePatches -> shuffle_patches; ToTensor, "
                                        "Normalize, Resize and CenterCrop to the image size checked"),
    "custom_val_trans": Key("checked", "against ddr's test transform for the data set (Resize(256) + "
                                       "CenterCrop(224) on ImageNet, native size otherwise); another one is a note "
                                       "(I6)"),
    "soft_label_mode": Key("mapped", "soft.mode (S or M); any soft key makes the protocol label: soft"),
    "soft_label_criterion": Key("mapped", "train.loss: kl, sce, mse_gt"),
    "loss_fn_kwargs": Key("mapped", "train.loss_args: temperature, scale_loss -> scale_t2, mse_weight, "
                                    "ce_weight, over DD-Ranking's class defaults (T 1.2; MSE-GT 1.0 / 0.0)"),
    "optimizer": Key("mapped", "train.optimizer: sgd, adam, adamw"),
    "lr_scheduler": Key("mapped", "train.scheduler: step (gamma 0.1), cosine (DD-Ranking's quarter period), "
                                  "cosineannealing"),
    "weight_decay": Key("mapped", "train.weight_decay"),
    "momentum": Key("mapped", "train.momentum (sgd); train.betas when a pair (adam, adamw; a single number "
                              "is not read there: betas (0.9, 0.999))"),
    "step_size": Key("mapped", "train.step_size (required by step)"),
    "num_eval": Key("mapped", "rounds"),
    "eval_full_data": Key("edition", "the ddr edition trains the real reference with its own recipe (6.1.8); "
                                     "the ddranking-0.2 edition trains it as v0.2.0 did where DD-Ranking's configs "
                                     "trained one; eval_full_data: true stated where the tables would read the "
                                     "cache, a note where this value asked for what v0.2.0 could not do"),
    "num_epochs": Key("mapped", "train.epochs (and real.epochs in the ddranking-0.2 edition)"),
    "num_workers": Key("run", "loader workers: DDR_DATA_WORKERS"),
    "device": Key("run", "the machine's device (cuda or cpu); ddr picks it per run"),
    "dist": Key("run", "DD-Ranking's DDP over every training; ddr trains a student per device and runs "
                       "trainings side by side (`ddp` is ddr's per-protocol choice for the real reference)"),
    "syn_batch_size": Key("mapped", "train.batch_size"),
    "real_batch_size": Key("edition", f"no field: the ddranking-0.2 edition trains the real reference at "
                                      f"{REAL_BATCH_SIZE}, the value of every DD-Ranking config that trained one "
                                      "(a note where this value differs)"),
    "batch_size": Key("mapped", "train.batch_size (AugmentationRobustScore's and GeneralEvaluator's one batch size)"),
    "save_path": Key("run", "where the scores go: ddr writes result.json into its own results folder"),
    "random_data_format": Key("edition", "the ddr edition draws each round's random subset from the data set's "
                                         "tensors; the ddranking-0.2 edition trains a CIFAR one as the JPEG round "
                                         "trip image wrote (elsewhere image copied the original files, which ddr "
                                         "trains from too); random_data_format stated where DD-Ranking's own "
                                         "configs of that label and ZCA chose otherwise"),
    "random_data_path": Key("run", "ddr's random subsets are cached by recipe (`--random` passes folders)"),
    "label_type": Key("mapped", "label (AugmentationRobustScore): soft or hard"),
    "use_soft_label": Key("mapped", "label (GeneralEvaluator): soft or hard"),
    "temperature": Key("mapped", "train.loss_args.temperature (GeneralEvaluator)"),
    "default_lr": Key("ignored", "not read by DD-Ranking 0.2.0 (reference 2.14)"),
    "syn_lr": Key("ignored", "not a config key in DD-Ranking 0.2.0 (an argument of compute_metrics)"),
    "nclass": Key("ignored", "not read by DD-Ranking 0.2.0 (the data set fixes the classes)"),
}
# keys that change no number in the ddr edition (the evaluators say so on stderr when given another value)
NO_EFFECT = ("num_workers", "dist", "random_data_format", "eval_full_data", "real_batch_size")

# doc/config/overview.md's LRS example, key by key (what a user's config holds)
OVERVIEW_KEYS = (
    "dataset", "real_data_path", "ipc", "im_size", "model_name", "stu_use_torchvision", "tea_use_torchvision",
    "teacher_dir", "teacher_model_names", "data_aug_func", "aug_params", "use_zca", "use_aug_for_hard",
    "custom_train_trans", "custom_val_trans", "soft_label_mode", "soft_label_criterion", "loss_fn_kwargs",
    "optimizer", "lr_scheduler", "weight_decay", "momentum", "num_eval", "eval_full_data", "num_epochs",
    "num_workers", "device", "dist", "syn_batch_size", "real_batch_size", "save_path", "random_data_format",
    "random_data_path",
)
EVALUATORS = ("LabelRobustScoreHard", "LabelRobustScoreSoft", "AugmentationRobustScore", "GeneralEvaluator")
KIND = {"LabelRobustScoreHard": "lrs", "LabelRobustScoreSoft": "lrs", "AugmentationRobustScore": "ars",
        "GeneralEvaluator": "acc"}
# any of these makes a config a soft-label one (LabelRobustScoreSoft, or ARS with label_type soft)
SOFT_DEFINING = ("soft_label_mode", "soft_label_criterion", "loss_fn_kwargs", "teacher_model_names")
# keys a hard-label evaluation never reads: given a value, they are refused there (the user meant soft labels)
SOFT_ONLY = (*SOFT_DEFINING, "temperature", "use_aug_for_hard")

DATASETS: dict[str, str] = {**DATASET_NAMES, "digits": "digits"}  # digits: ddr's own small data set
IMAGENET_FAMILY = ("imagenet1k", "imagenette", "imagewoof", "imagemeow", "imagesquawk", "imagefruit",
                   "imageyellow")
IM_SIZE = {"digits": 8, "cifar10": 32, "cifar100": 32, "tinyimagenet": 64, "imagenet1k": 224,
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
_CIFAR_AUG = {"name": "sequence", "ops": [{"name": "random_crop", "padding": 4}, {"name": "hflip"}]}
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
SCHEDULERS = ("step", "cosine", "cosineannealing")
# DD-Ranking's loss classes' defaults, where loss_fn_kwargs is left to them
LOSS_DEFAULTS = {"kl": {"temperature": 1.2}, "sce": {"temperature": 1.2},
                 "mse_gt": {"mse_weight": 1.0, "ce_weight": 0.0}}
LOSS_KWARGS = {"temperature": "temperature", "scale_loss": "scale_t2", "mse_weight": "mse_weight",
               "ce_weight": "ce_weight"}
DSA_KEYS = ("scale", "rotate", "flip", "brightness", "saturation", "contrast", "crop", "cutout")
# DD-Ranking's documented DSA keys (docs and demos; its DSA class never read them) -> the keys it reads
DSA_ALIASES: dict[str, str] = {
    "prob_flip": "flip", "ratio_rotate": "rotate", "ratio_scale": "scale", "ratio_crop_pad": "crop",
    "ratio_cutout": "cutout",
}
# the class defaults of DD-Ranking's batch augmentations, where aug_params is left to them
AUG_DEFAULTS = {"dsa": {}, "mixup": {"lambda": 0.8}, "cutmix": {"beta": 1.0}}
# a transform's positional arguments (a YAML list of args), and the attributes read from a torchvision object
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "RandomResizedCrop": ("size", "scale", "ratio"), "RandomHorizontalFlip": ("p",),
    "RandomCrop": ("size", "padding"), "Normalize": ("mean", "std"), "Resize": ("size",),
    "CenterCrop": ("size",), "ToTensor": (), "GaussianNoise": ("mean", "sigma", "clip"),
    "ShufflePatches": ("factor",),
}
_TORCHVISION = ("RandomResizedCrop", "RandomHorizontalFlip", "RandomCrop", "Normalize", "Resize", "CenterCrop",
                "ToTensor")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # a default ddr replaces with its own reading (the data set's image size, the machine)
_ABSENT: Any = object()


@dataclass
class Mapped:
    """DD-Ranking settings as a ddr protocol (the `ddr` edition): `protocol` (the YAML mapping without name,
    version and description), what became of each given key (`keys`: key -> text), the notes, the evaluator
    the settings are for, its kind ('lrs', 'ars', 'acc'), label, and the teachers as DD-Ranking spells them
    (the folder names under teacher_dir/{dataset}/)."""

    protocol: dict[str, Any]
    evaluator: str
    kind: str
    label: str
    keys: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    teacher_names: tuple[str, ...] = ()


def map_settings(given: Mapping[str, Any], *, evaluator: str | None = None,
                 defaults: Mapping[str, Any] | None = None) -> Mapped:
    """The ddr protocol DD-Ranking settings describe: `given` as the user gave them (a config file's keys, an
    evaluator's keywords), `defaults` what an absent key takes (none: a config file, where v0.2.0 read None),
    `evaluator` the class they are for (None: read from the keys, as for a config file)."""
    if evaluator is not None and evaluator not in EVALUATORS:
        raise unknown("DD-Ranking evaluator", evaluator, EVALUATORS, list_valid=True)
    return _Mapping(dict(given), dict(defaults or {}), evaluator).run()


class _Mapping:
    def __init__(self, given: dict[str, Any], defaults: dict[str, Any], evaluator: str | None):
        self.given, self.defaults, self.evaluator = given, defaults, evaluator
        self.keys: dict[str, str] = {}
        self.notes: list[str] = []
        self.states_eval_full_data = False  # the protocol states eval_full_data: true (see _real)

    # -- reading a key ------------------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        """The key's value: given, else its default, else None (what v0.2.0 read); UNSET is None here."""
        value = self.given.get(key, self.defaults.get(key))
        return None if value is UNSET else value

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def is_default(self, key: str) -> bool:
        return key not in self.given or self.given[key] == self.defaults.get(key, _ABSENT)

    def need(self, key: str, why: str = "") -> Any:
        if not self.has(key):
            raise DDRError(f"{key}: missing (DD-Ranking read it as None" + (f": {why})" if why else ")"))
        return self.get(key)

    def num(self, key: str, **kw: Any) -> Any:
        return number(self.get(key), f"{key}:", **kw)

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise DDRError(f"{key}: must be true or false, got {value!r}")
        return value

    def record(self, key: str, text: str) -> None:
        if key in self.given:
            self.keys[key] = text

    # -- the mapping ---------------------------------------------------------------------------------------
    def run(self) -> Mapped:
        for key in self.given:
            if not isinstance(key, str) or key not in KEYS:
                raise unknown("DD-Ranking config key", str(key), KEYS)
        self._evaluator()
        self.dataset = self._dataset()
        self.size = self._im_size()
        self.model = self._student()
        self._run_keys()
        per_image = self._train_transforms()
        self._val_transforms()
        self.batch_aug = self._batch_aug()
        ops = per_image + ([self.batch_aug] if self.batch_aug else [])
        augmentation = None if not ops else ops[0] if len(ops) == 1 else {"name": "sequence", "ops": ops}
        if self.kind == "ars" and augmentation is None:
            raise DDRError("data_aug_func: ARS compares training with and without augmentation; none is set")
        train = self._train(augmentation)
        # lr_policy method: compute_metrics' syn_lr (a set's lr.pt) trains both sides; without one both search
        proto: dict[str, Any] = {
            "dataset": self.dataset, "model": self.model, "label": self.label, "train": train,
            "real": self._real(train), "lr_grid": list(FIVE_LR_GRID), "lr_policy": "method",
            "rounds": self._rounds(), "seed_base": 0,
        }
        if self.states_eval_full_data:
            proto["eval_full_data"] = True
        if self.flag("use_zca"):
            proto["zca"] = {"eps": 0.1}
        self._random_data_format(proto)
        self.record("use_zca", "zca: {eps: 0.1}" if self.flag("use_zca") else "no zca")
        teacher_names: tuple[str, ...] = ()
        if self.soft:
            proto["soft"], teacher_names = self._soft_section()
        else:
            for key in SOFT_ONLY:
                if key in self.given and key not in self.keys and self.given[key] not in (None, False) \
                        and not self.is_default(key):
                    raise DDRError(f"{key}: this evaluation trains on hard labels (cross-entropy); {key} does not "
                                   "apply (label_type 'soft' / use_soft_label true for soft labels)")
            for key in ("teacher_dir", "tea_use_torchvision", "use_aug_for_hard", "temperature", *SOFT_DEFINING):
                if key in self.given:  # null, false or a default: a key of the soft-label evaluations only
                    self.keys[key] = f"ignored: a hard-label {self.evaluator} reads no soft-label key"
        for key, rule in KEYS.items():
            if key in self.given and key not in self.keys and rule.kind == "ignored":
                self.keys[key] = f"ignored: {rule.target}"
        unhandled = [k for k in self.given if k not in self.keys]
        if unhandled:  # a key the code above does not account for would be silently dropped: never
            raise DDRError(f"{unhandled[0]}: not read by {self.evaluator} (DD-Ranking 0.2.0 ignored it; ddr "
                           "does not take it silently)")
        if self.notes:
            proto["notes"] = " ".join(self.notes)
        keys = {k: self.keys[k] for k in self.given}  # in the given order
        return Mapped(json.loads(json.dumps(proto)), self.evaluator, self.kind, self.label, keys, self.notes,
                      teacher_names)  # json round trip: no shared objects, so no YAML anchors

    def _evaluator(self) -> None:
        label_type = self.get("label_type")
        if "label_type" in self.given and label_type not in ("soft", "hard"):
            raise DDRError(f"label_type: must be 'soft' or 'hard', got {label_type!r}")
        if self.evaluator is None:  # a config file: the evaluator is read from its keys
            soft_keys = [k for k in SOFT_DEFINING if self.has(k)]
            if label_type == "hard" and soft_keys:
                raise DDRError(f"{soft_keys[0]}: a soft-label key, but label_type is 'hard'")
            ars = "label_type" in self.given or "batch_size" in self.given
            soft = bool(soft_keys) or label_type == "soft"
            self.evaluator = ("AugmentationRobustScore" if ars
                              else "LabelRobustScoreSoft" if soft else "LabelRobustScoreHard")
        if self.evaluator == "AugmentationRobustScore":
            self.soft = label_type != "hard"
        elif self.evaluator == "GeneralEvaluator":
            self.soft = self.flag("use_soft_label")
        else:
            self.soft = self.evaluator == "LabelRobustScoreSoft"
        self.label = "soft" if self.soft else "hard"
        self.kind = KIND[self.evaluator]
        self.ars = self.kind == "ars"
        self.record("label_type", f"label: {self.label}")
        self.record("use_soft_label", f"label: {self.label}")
        for key, reader in (("label_type", "AugmentationRobustScore"), ("use_soft_label", "GeneralEvaluator")):
            if key in self.given and self.evaluator != reader:
                self.keys[key] = f"ignored: only {reader} reads it"

    def _dataset(self) -> str:
        raw = self.need("dataset")
        if not isinstance(raw, str) or raw not in DATASETS:
            raise DDRError(f"dataset: unknown data set {raw!r} (DD-Ranking's names: {', '.join(DATASETS)})")
        self.record("dataset", f"dataset: {DATASETS[raw]}")
        return DATASETS[raw]

    def _im_size(self) -> int:
        size = IM_SIZE[self.dataset]
        raw = self.get("im_size")
        if raw is not None:
            pair = list(raw) if isinstance(raw, (list, tuple)) else [raw, raw]
            if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair) \
                    or pair != [size, size]:
                raise DDRError(f"im_size: {raw!r}: ddr holds {self.dataset} at [{size}, {size}] only")
        self.record("im_size", f"checked: [{size}, {size}]")
        return size

    def _model(self, key: str, raw: Any, tv_key: str) -> str:
        """ddr's name for a DD-Ranking model name (reference 2.9); refused by `key` when ddr has none."""
        from ddr.models import parse_model_name

        if not isinstance(raw, str) or not raw:
            raise DDRError(f"{key}: must be a model name, got {raw!r}")
        torchvision = self.flag(tv_key)
        family = raw.split("-")[0]
        if raw in TV_ONLY or raw.lower() == "alexnet" and torchvision:
            if self.dataset not in IMAGENET_FAMILY:
                raise DDRError(f"{key}: {raw!r}: ddr's torchvision {raw.lower()} has ImageNet's stem only "
                               "(DD-Ranking swapped in a small-input stem); use it on ImageNet data sets")
            name = f"{raw.lower()}-tv"
        elif family == "ResNet" and torchvision:
            parts = raw.split("-")
            name = f"ResNet-{parts[1]}-BN-tv" if len(parts) >= 2 else raw  # torchvision's ResNets are BN
        elif family == "VGG" and torchvision:
            raise DDRError(f"{key}: {raw!r} with {tv_key}: ddr has no torchvision VGG; use ddr's ({tv_key}: false)")
        else:
            name = raw  # ConvNet (always DD-Ranking's own), LeNet, MLP, AlexNet, VGG, ResNet: DD-Ranking's grammar
        if family == "ResNet" and not name.endswith("-tv") and self.size > 64:
            raise DDRError(f"{key}: {raw!r}: DD-Ranking's own ResNet is a CIFAR ResNet that fails at {self.size} "
                           f"px (defect 6.1.12); set {tv_key}: true")
        try:
            parse_model_name(name)
        except DDRError:
            raise DDRError(f"{key}: {raw!r} is not a model ddr has (as {name!r})") from None
        return name

    def _student(self) -> str:
        hard_lrs = self.evaluator == "LabelRobustScoreHard"  # the others read stu_use_torchvision
        tv_key, other = ("use_torchvision", "stu_use_torchvision") if hard_lrs else \
            ("stu_use_torchvision", "use_torchvision")
        model = self._model("model_name", self.need("model_name"), tv_key)
        self.record("model_name", f"model: {model}")
        self.record(tv_key, f"model: {model}")
        if other in self.given:
            self.flag(other)
            self.keys[other] = f"ignored: {self.evaluator} reads {tv_key}, not {other}"
        return model

    def _run_keys(self) -> None:
        if self.has("ipc"):
            self.num("ipc", low=1, integer=True)
        for key in ("real_data_path", "teacher_dir", "save_path", "random_data_path"):
            if self.has(key) and not isinstance(self.get(key), str):
                raise DDRError(f"{key}: must be a path, got {self.get(key)!r}")
        if self.has("num_workers"):
            self.num("num_workers", low=0, integer=True)
        if self.has("device") and str(self.get("device")).split(":")[0] not in ("cuda", "cpu", "auto"):
            raise DDRError(f"device: must be cuda or cpu, got {self.get('device')!r}")
        self.flag("dist")
        if self.has("random_data_format") and self.get("random_data_format") not in ("tensor", "tensors", "image"):
            raise DDRError(f"random_data_format: must be tensor or image, got {self.get('random_data_format')!r}")
        self.record("ipc", f"run argument --ipc {self.get('ipc')} (checked against the set)")
        for key in ("real_data_path", "num_workers", "device", "dist", "save_path", "random_data_path",
                    *(("teacher_dir",) if self.soft else ())):
            self.record(key, f"run input, not part of the protocol: {KEYS[key].target}")

    # -- transforms ---------------------------------------------------------------------------------------
    def _steps(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        """(name, keyword args) per step of a YAML list of {name, args} or a torchvision Compose."""
        raw = self.get(key)
        if raw is None:
            return []
        if type(raw).__name__ == "Compose" and isinstance(getattr(raw, "transforms", None), list):
            out = []
            for t in raw.transforms:
                name = type(t).__name__
                if not type(t).__module__.startswith("torchvision.transforms") or name not in _TORCHVISION:
                    raise DDRError(f"{key}: transform {name} ({type(t).__module__}) has no ddr equivalent; a "
                                   "custom transform class cannot be mapped")
                out.append((name, {a: getattr(t, a) for a in _POSITIONAL[name]}))
            return out
        if not isinstance(raw, list):
            raise DDRError(f"{key}: must be a list of {{name, args}} or a torchvision Compose, got {raw!r}")
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or set(item) - {"name", "args"}:
                raise DDRError(f"{key}: item {i} must be {{name: ..., args: ...}}, got {item!r}")
            name, args = item["name"], item.get("args") or {}
            if name not in _POSITIONAL:
                raise DDRError(f"{key}: transform '{name}' has no ddr equivalent (ddr has "
                               f"{', '.join(_POSITIONAL)})")
            if isinstance(args, (list, tuple)):  # DD-Ranking passes a list positionally
                if len(args) > len(_POSITIONAL[name]):
                    raise DDRError(f"{key}: {name} takes at most {len(_POSITIONAL[name])} positional args")
                args = dict(zip(_POSITIONAL[name], args))
            if not isinstance(args, dict):
                raise DDRError(f"{key}: {name} args must be a mapping or a list, got {args!r}")
            out.append((name, args))
        return out

    def _check_norm(self, key: str, args: dict[str, Any]) -> None:
        if self.dataset == "digits":
            raise DDRError(f"{key}: Normalize: ddr normalises digits with its training split's statistics; "
                           "leave Normalize out")
        want = CIFAR_NORM if self.dataset in ("cifar10", "cifar100") else IMAGENET_NORM
        mean, std = args.get("mean"), args.get("std")
        if not all(isinstance(v, (list, tuple)) and len(v) == 3 for v in (mean, std)):
            raise DDRError(f"{key}: Normalize needs mean and std, three numbers each")
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
        return number(value, f"{key}: {tname} {name}", low=low, **kw)

    def _pair(self, key: str, tname: str, name: str, value: Any) -> list[float]:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise DDRError(f"{key}: {tname} {name} must be two numbers, got {value!r}")
        return [float(self._arg(key, tname, name, v, low_open=True)) for v in value]

    def _size_arg(self, key: str, tname: str, args: dict[str, Any]) -> None:
        size = args.get("size", self.size)
        pair = list(size) if isinstance(size, (list, tuple)) else [size, size]
        if pair != [self.size, self.size]:
            raise DDRError(f"{key}: {tname}(size={size!r}): ddr trains {self.dataset} at {self.size} px")

    @staticmethod
    def _only(key: str, tname: str, args: dict[str, Any], allowed: tuple[str, ...]) -> None:
        extra = sorted(set(args) - set(allowed))
        if extra:
            raise DDRError(f"{key}: {tname} argument '{extra[0]}' has no ddr equivalent "
                           f"(ddr reads {', '.join(allowed) or 'none'})")

    def _train_transforms(self) -> list[dict[str, Any]]:
        key, ops, normalised = "custom_train_trans", [], False
        for tname, args in self._steps(key):
            if tname == "RandomResizedCrop":
                self._only(key, tname, args, ("size", "scale", "ratio"))
                self._size_arg(key, tname, args)
                op: dict[str, Any] = {"name": "rrc", "scale": self._pair(key, tname, "scale",
                                                                        args.get("scale", [0.08, 1.0]))}
                if args.get("ratio") is not None:
                    op["ratio"] = self._pair(key, tname, "ratio", args["ratio"])
                ops.append(op)
            elif tname == "RandomCrop":
                self._only(key, tname, args, ("size", "padding"))
                self._size_arg(key, tname, args)
                padding = self._arg(key, tname, "padding", args.get("padding") or 0, integer=True)
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
                    raise DDRError(f"{key}: GaussianNoise before Normalize: ddr adds noise in the normalised "
                                   "pixel space only (put it after Normalize)")
                if args.get("clip", True):
                    raise DDRError(f"{key}: GaussianNoise(clip=true): ddr's noise does not clip (give clip: false)")
                op = {"name": "gaussian_noise", "sigma": float(self._arg(key, tname, "sigma", args.get("sigma", 0.1)))}
                mean = float(self._arg(key, tname, "mean", args.get("mean", 0.0), low=None))
                if mean != 0.0:
                    op["mean"] = mean
                ops.append(op)
            elif tname in ("Resize", "CenterCrop"):  # to the image size: a restatement of the tensor form
                self._only(key, tname, args, ("size",))
                self._size_arg(key, tname, {"size": args.get("size")})
            elif tname == "ToTensor":
                self._only(key, tname, args, ())
            else:  # Normalize
                self._only(key, tname, args, ("mean", "std"))
                self._check_norm(key, args)
                normalised = True
        self.record(key, f"train.augmentation: {[op['name'] for op in ops]} first" if ops else "no per-image op")
        return ops

    def _val_transforms(self) -> None:
        key, steps = "custom_val_trans", []
        for tname, args in self._steps(key):
            if tname in ("Resize", "CenterCrop"):
                self._only(key, tname, args, ("size",))
                size = args.get("size")
                if isinstance(size, (list, tuple)) and len(size) in (1, 2) and len(set(size)) == 1:
                    size = size[0]
                if isinstance(size, bool) or not isinstance(size, int):
                    raise DDRError(f"{key}: {tname} size must be one whole number, got {size!r}")
                steps.append((tname, size))
            elif tname == "ToTensor":
                self._only(key, tname, args, ())
            elif tname == "Normalize":
                self._only(key, tname, args, ("mean", "std"))
                self._check_norm(key, args)
            else:
                raise DDRError(f"{key}: transform '{tname}' has no ddr equivalent at test time (ddr tests on one "
                               "test split per data set: Resize, CenterCrop, ToTensor, Normalize only)")
        s = self.size
        ddr_test = [("Resize", round(s / 0.875)), ("CenterCrop", s)] if self.dataset in IMAGENET_FAMILY else []
        same = steps == ddr_test or (not ddr_test and steps in ([("Resize", s), ("CenterCrop", s)],
                                                                [("CenterCrop", s)], [("Resize", s)]))
        if steps and not same:
            self.notes.append(f"custom_val_trans {' + '.join(f'{n}({v})' for n, v in steps)} is not reproduced: "
                              f"ddr tests every {self.dataset} protocol on one test split "
                              f"({' + '.join(f'{n}({v})' for n, v in ddr_test) or f'native {s} px'}; "
                              "ddr/protocols/README.md I6).")
        self.record(key, "checked: ddr's test split" if same or not steps else "a note: not reproduced (I6)")

    def _batch_aug(self) -> dict[str, Any] | None:
        func = self.get("data_aug_func")
        given = self.given.get("aug_params", self.defaults.get("aug_params"))
        if func in (None, "none", "None"):
            if given not in (None, UNSET, {}) and "aug_params" in self.given:
                raise DDRError("aug_params: given without data_aug_func")
            self.record("data_aug_func", "no batch augmentation")
            self.record("aug_params", "no batch augmentation")
            return None
        if not isinstance(func, str) or func not in AUG_DEFAULTS:
            raise DDRError(f"data_aug_func: {func!r} has no ddr equivalent (dsa, mixup, cutmix or null; "
                           "ZCA is use_zca: ddr whitens the data set once)")
        if given is UNSET:  # the evaluators' default: the class's own parameters
            params = dict(AUG_DEFAULTS[func])
        elif given is None or isinstance(given, dict):
            params = dict(given or {})
        else:
            raise DDRError(f"aug_params: must be a mapping, got {given!r}")
        if func == "dsa":
            params = {DSA_ALIASES.get(k, k): v for k, v in params.items()}
            extra = sorted(set(params) - set(DSA_KEYS))
            if extra:
                raise DDRError(f"aug_params: '{extra[0]}' is not a DSA key ({', '.join(DSA_KEYS)})")
            op: dict[str, Any] = {"name": "dsa", "params": {k: float(self._param(k, v)) for k, v in params.items()}}
        else:
            want = "lambda" if func == "mixup" else "beta"
            if func == "cutmix" and "cutmix_p" in params:  # the constructor's default: CutMix never read it
                if params.pop("cutmix_p") != 1.0:
                    raise DDRError(f"aug_params: cutmix_p {given['cutmix_p']!r}: ddr applies CutMix to every batch "
                                   "(probability 1); DD-Ranking's CutMix reads only 'beta'")
                params.setdefault("beta", AUG_DEFAULTS["cutmix"]["beta"])
            extra = sorted(set(params) - {want})
            if extra:
                raise DDRError(f"aug_params: '{extra[0]}' is not a {func} key (only '{want}')")
            if want not in params:  # DD-Ranking's class has no default: the evaluator crashed without it
                raise DDRError(f"aug_params: needs '{want}' for {func}")
            op = {"name": func, want: float(self._param(want, params[want], low_open=True))}
        self.record("data_aug_func", f"train.augmentation: {op['name']}")
        self.record("aug_params", f"train.augmentation: {op['name']} parameters")
        return op

    @staticmethod
    def _param(key: str, value: Any, low_open: bool = False) -> float:
        return number(value, f"aug_params: {key}", low=0, low_open=low_open)

    # -- recipes ------------------------------------------------------------------------------------------
    def _train(self, augmentation: dict[str, Any] | None) -> dict[str, Any]:
        opt = self.need("optimizer")
        if opt not in ("sgd", "adam", "adamw"):
            raise DDRError(f"optimizer: {opt!r} has no ddr equivalent (sgd, adam, adamw)")
        train: dict[str, Any] = {"optimizer": opt}
        self.need("weight_decay", "DD-Ranking passed None to the optimizer")
        momentum = self.get("momentum")
        if opt == "sgd":
            self.need("momentum", "DD-Ranking passed None to SGD")
            train["momentum"] = self.num("momentum", low=0)
            self.record("momentum", f"train.momentum: {train['momentum']}")
        else:
            if isinstance(momentum, (list, tuple)) and len(momentum) == 2:
                train["betas"] = [float(self._arg("momentum", opt, "betas", v, high=1)) for v in momentum]
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
            raise DDRError(f"lr_scheduler: {sched!r} has no ddr equivalent ({', '.join(SCHEDULERS)}; "
                           "lambda_step no longer exists in DD-Ranking 0.2.0)")
        train["scheduler"] = sched
        if sched == "cosineannealing":  # the edition's rule reads it as the shipped protocols' corrected 'cosine'
            self.notes.append("lr_scheduler: the ddranking-0.2 edition reads cosineannealing as the quarter-period "
                              "'cosine' the shipped protocols corrected (6.1.15), which this config did not ask "
                              "for; its ddr edition trains v0.2.0's cosineannealing.")
        if sched == "step":
            self.need("step_size", "lr_scheduler step needs it; DD-Ranking asserted when creating it")
            train["step_size"] = self.num("step_size", low=1, integer=True)
            train["gamma"] = 0.1
            self.record("step_size", f"train.step_size: {train['step_size']} (gamma 0.1)")
        elif "step_size" in self.given:
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
        if self.evaluator == "GeneralEvaluator":  # one batch size; syn_batch_size spells it too
            key = "syn_batch_size" if "syn_batch_size" in self.given else "batch_size"
            other = "batch_size" if key == "syn_batch_size" else "syn_batch_size"
            self.need(key)
            bs = self.num(key, low=1, integer=True)
            self.record(key, f"train.batch_size: {bs}")
            if other in self.given:
                self.keys[other] = f"ignored: {key} is the batch size"
            return bs
        if self.ars:
            self.need("batch_size")
            bs = self.num("batch_size", low=1, integer=True)
            self.record("batch_size", f"train.batch_size: {bs}")
            return bs
        if "batch_size" in self.given:
            raise DDRError(f"batch_size: AugmentationRobustScore's; {self.evaluator} reads syn_batch_size and "
                           "real_batch_size")
        self.need("syn_batch_size")
        bs = self.num("syn_batch_size", low=1, integer=True)
        self.record("syn_batch_size", f"train.batch_size: {bs}")
        return bs

    def _loss(self) -> dict[str, Any]:
        crit = self.need("soft_label_criterion")
        if not isinstance(crit, str) or crit not in LOSS_DEFAULTS:
            raise DDRError(f"soft_label_criterion: {crit!r} has no ddr equivalent ({', '.join(LOSS_DEFAULTS)})")
        raw = self.given.get("loss_fn_kwargs", self.defaults.get("loss_fn_kwargs"))
        if raw is None and self.evaluator != "GeneralEvaluator":
            raise DDRError("loss_fn_kwargs: missing (DD-Ranking read it as None: the soft evaluators unpacked it "
                           "and crashed)")
        if raw is not UNSET and raw is not None and not isinstance(raw, dict):
            raise DDRError(f"loss_fn_kwargs: must be a mapping, got {raw!r}")
        kwargs = {} if raw in (None, UNSET) else dict(raw)
        if self.evaluator == "GeneralEvaluator" and self.has("temperature"):  # its own keyword
            kwargs = {"temperature": self.get("temperature"), **kwargs}
        args = dict(LOSS_DEFAULTS[crit])  # DD-Ranking's class defaults, then the given arguments
        for k, v in kwargs.items():
            if k not in LOSS_KWARGS:
                raise DDRError(f"loss_fn_kwargs: '{k}' has no ddr equivalent ({', '.join(LOSS_KWARGS)})")
            target = LOSS_KWARGS[k]
            if k == "scale_loss":
                if not isinstance(v, bool):
                    raise DDRError(f"loss_fn_kwargs: scale_loss must be true or false, got {v!r}")
                if crit == "mse_gt":
                    raise DDRError("loss_fn_kwargs: 'scale_loss' does not apply to the mse_gt loss")
                if v:
                    args["scale_t2"] = True
                continue
            if target not in args:
                raise DDRError(f"loss_fn_kwargs: '{k}' does not apply to the {crit} loss")
            args[target] = float(number(v, f"loss_fn_kwargs: {k}", low=0, low_open=k == "temperature"))
        self.record("soft_label_criterion", f"train.loss: {crit}")
        self.record("loss_fn_kwargs", f"train.loss_args: {args}")
        self.record("temperature", f"train.loss_args.temperature: {args.get('temperature')}")
        return {"loss": crit, "loss_args": args}

    def _row(self, model: str, what: str) -> tuple[dict[str, Any], str | None]:
        """The REAL_DATA_TRAINING_CONFIG row of (data set, model), ddr's documented stand-in with why, or on
        digits ddr's digits reference recipe (every model)."""
        if self.dataset == "digits":
            return dict(raw_protocol("digits-lrs-hard")["real"]), None
        key = (self.dataset, model.removesuffix("-tv"))
        if key in REAL_ROWS:
            return dict(REAL_ROWS[key]), None
        if key in FALLBACK_ROWS:
            row, why = FALLBACK_ROWS[key]
            return dict(row), why
        raise DDRError(f"{what}: no real-data recipe for {model} on {self.dataset}: DD-Ranking's "
                       "REAL_DATA_TRAINING_CONFIG has no row and ddr documents none")

    def _real(self, train: dict[str, Any]) -> dict[str, Any]:
        """The real-data reference of the ddr edition: the row's own recipe, trained once (6.1.8). The
        ddranking-0.2 edition derives v0.2.0's from it where DD-Ranking's configs trained one; the notes say
        where this config's eval_full_data or real_batch_size asked for something else."""
        row, why = self._row(self.model, "model_name")
        real = {**row, "test_interval": 10}
        dd_key = f"{self.dataset}-{self.model.removesuffix('-tv')}"
        pair = (self.dataset, self.model.removesuffix("-tv"))
        if self.ars:
            self.notes.append(f"AugmentationRobustScore has no real-data reference; real: records the {dd_key} "
                              "row for completeness (I15).")
            for key in ("syn_batch_size", "real_batch_size", "eval_full_data", "use_aug_for_hard"):
                if key in self.given:
                    self.keys[key] = "ignored: AugmentationRobustScore does not read it (one batch_size, no real " \
                                     "reference)"
            return real
        full = self.flag("eval_full_data")
        if self.has("real_batch_size"):
            self.num("real_batch_size", low=1, integer=True)
        trained = trained_real_reference(self.dataset, self.model)
        if why is not None:
            self.notes.append(f"real: DD-Ranking's REAL_DATA_TRAINING_CONFIG has no {dd_key} row (v0.2.0 "
                              f"stopped); ddr trains {why} with its own epochs in every edition.")
        elif self.dataset == "digits":
            pass  # DD-Ranking never had digits: its editions treat the digits reference as a table row
        elif trained and not full:
            self.notes.append(f"real: eval_full_data false made v0.2.0 read REAL_DATA_ACC_CACHE, which has no "
                              f"{dd_key} entry, and stop; the ddranking-0.2 edition trains the {dd_key} row for "
                              "the evaluator's epochs, as with eval_full_data true (I7).")
        elif pair in REAL_ACC_CACHE and not full:
            self.notes.append(f"real: eval_full_data false made v0.2.0 read its cached {dd_key} accuracy "
                              f"({REAL_ACC_CACHE[pair]} %) instead of training a reference (I7).")
        elif not trained and full and pair in REAL_ACC_CACHE:
            # the tables alone would read the cached accuracy here: the protocol states the config's flag
            self.states_eval_full_data = trained = eval_full_data_needed(self.dataset, self.model, True)
        size = self.get("real_batch_size")
        if trained and why is None and size is not None and size != REAL_BATCH_SIZE:
            self.notes.append(f"real: real_batch_size {size} is not reproduced: the ddranking-0.2 edition trains "
                              f"the reference at {REAL_BATCH_SIZE}, as every DD-Ranking config that trained one.")
        self.record("eval_full_data", "eval_full_data: true (the ddranking-0.2 edition trains the row for "
                    "num_epochs where DD-Ranking's own configs of this pair read the cache)"
                    if self.states_eval_full_data else
                    f"no field ({str(full).lower()}; the ddr edition trains the row's own recipe once, the "
                    "ddranking-0.2 edition as DD-Ranking's configs did)")
        self.record("real_batch_size", "no field (the ddranking-0.2 edition trains the reference at "
                                       f"{REAL_BATCH_SIZE})")
        return real

    def _random_data_format(self, proto: dict[str, Any]) -> None:
        """The config's random_data_format, stated where DD-Ranking's own configs of this label and whitening
        chose otherwise (image on CIFAR: the ddranking-0.2 edition trains the random side on JPEG round trips).
        Not given (v0.2.0 then stopped on its default 'tensors'): DD-Ranking's configs decide; 'tensors' given
        reads as 'tensor'."""
        if "random_data_format" not in self.given or not self.has("random_data_format"):
            self.record("random_data_format", "no field (DD-Ranking's configs of this label decide)")
            return
        fmt = "image" if self.get("random_data_format") == "image" else "tensor"
        zca = "zca" in proto
        if random_data_format_needed(self.dataset, self.label, zca, fmt):
            proto["random_data_format"] = fmt
        jpeg = jpeg_random_images(self.dataset, self.label, zca, fmt)
        if jpeg and zca:
            self.notes.append("random_data_format image with use_zca wrote the whitened tensors as JPEG; the "
                              "ddranking-0.2 edition refuses it (reference 2.5).")
        self.record("random_data_format", (f"random_data_format: {fmt}" if "random_data_format" in proto else
                                           "no field (DD-Ranking's configs of this label chose the same)")
                    + ("; the ddranking-0.2 edition trains the random side on JPEG round trips" if jpeg else
                       "; no effect on this data set" if fmt == "image" else ""))

    def _rounds(self) -> int:
        self.need("num_eval")
        rounds = self.num("num_eval", low=1, integer=True)
        self.record("num_eval", f"rounds: {rounds}")
        return rounds

    def _soft_section(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        mode = self.need("soft_label_mode")
        if mode not in ("S", "M"):
            raise DDRError(f"soft_label_mode: must be S or M, got {mode!r}")
        names = self.need("teacher_model_names", "the soft evaluators build the teachers from it")
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, (list, tuple)) or not names:
            raise DDRError(f"teacher_model_names: must be a non-empty list, got {names!r}")
        teachers = []
        for i, raw in enumerate(names):
            model = self._model("teacher_model_names", raw, "tea_use_torchvision")
            teachers.append({"model": model, "train": self._teacher_recipe(model)})
        self.notes.append("Teachers: DD-Ranking loaded checkpoints from teacher_dir; pass them (`--teacher`, one "
                          "per teacher in order, or teacher_dir/{dataset}/{model}/ckpt_best.pt in the evaluators), "
                          "else ddr trains each with soft.teachers[*].train.")
        use_aug = self.flag("use_aug_for_hard")
        self.record("soft_label_mode", f"soft.mode: {mode}")
        self.record("teacher_model_names", f"soft.teachers: {[t['model'] for t in teachers]}")
        self.record("tea_use_torchvision", f"soft.teachers: {[t['model'] for t in teachers]}")
        if not self.ars:
            self.record("use_aug_for_hard", f"soft.use_aug_for_hard: {str(use_aug).lower()}")
        soft = {"mode": mode, "use_aug_for_hard": use_aug and not self.ars, "teachers": teachers}
        return soft, tuple(names)

    def _teacher_recipe(self, model: str) -> dict[str, Any]:
        """ddr's recipe for a teacher (DD-Ranking gives none): the real-data row of its (data set, model)
        with the augmentation checkpoints are trained with, torchvision's recipe for the ImageNet members, or
        on digits the digits reference recipe."""
        if model in TV_TEACHERS:
            return {**TV_TEACHERS[model], "test_interval": 10, "augmentation": _IN_AUG}
        row, _ = self._row(model, "teacher_model_names")
        if self.dataset == "digits":
            return {**row, "test_interval": 10}
        aug = _IN_AUG if self.dataset in IMAGENET_FAMILY else _CIFAR_AUG
        return {**row, "test_interval": 10, "augmentation": aug}

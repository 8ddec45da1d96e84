"""The constructor keywords of DD-Ranking 0.2.0's four evaluators with their defaults (reference 2.14 and
the package's docs), and the spellings ddr maps them to.

`UNSET` marks a default ddr replaces with its own reading (documented in docs/ddranking-compat.md): the
image size and the device are the data set's and the machine's when not given (DD-Ranking's (32, 32) and
'cuda' would refuse digits and a CPU), and DD-Ranking's broken defaults (CutMix's `cutmix_p`, soft losses'
`loss_fn_kwargs=None`) become the class defaults its losses and augmentations use.
"""
from __future__ import annotations

from typing import Any

from ddr.protocols.ddranking_tables import DATASET_NAMES


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

_COMMON: dict[str, Any] = {
    "dataset": "CIFAR10", "real_data_path": "./dataset/", "ipc": 10, "model_name": "ConvNet-3",
    "data_aug_func": "cutmix", "aug_params": {"beta": 1.0}, "optimizer": "sgd", "lr_scheduler": "step",
    "step_size": None, "weight_decay": 0.0005, "momentum": 0.9, "use_zca": False, "num_eval": 5,
    "im_size": UNSET, "num_epochs": 300, "num_workers": 4, "save_path": None, "custom_train_trans": None,
    "custom_val_trans": None, "device": UNSET, "dist": False,
}
_SOFT: dict[str, Any] = {
    "soft_label_mode": "S", "soft_label_criterion": "kl", "loss_fn_kwargs": None, "stu_use_torchvision": False,
    "tea_use_torchvision": False, "teacher_dir": "./teacher_models", "teacher_model_names": None,
    "random_data_format": "tensor", "random_data_path": None,
}

# evaluator class name -> {keyword: default}
DEFAULTS: dict[str, dict[str, Any]] = {
    "LabelRobustScoreHard": {
        **_COMMON, "aug_params": {"cutmix_p": 1.0}, "real_batch_size": 256, "syn_batch_size": 256,
        "use_torchvision": False, "eval_full_data": False, "random_data_format": "tensor",
        "random_data_path": None,
    },
    "LabelRobustScoreSoft": {
        **_COMMON, **_SOFT, "use_aug_for_hard": False, "real_batch_size": 256, "syn_batch_size": 256,
        "eval_full_data": False,
    },
    "AugmentationRobustScore": {
        **_COMMON, **_SOFT, "label_type": "soft", "batch_size": 256, "random_data_format": "image",
    },
    "GeneralEvaluator": {
        **_COMMON, **{k: v for k, v in _SOFT.items() if not k.startswith("random_data")},
        "use_soft_label": False, "soft_label_mode": "M", "data_aug_func": "dsa", "aug_params": None,
        "optimizer": "adamw", "lr_scheduler": "cosine", "weight_decay": 0.01, "temperature": None,
        "batch_size": 256, "real_batch_size": 256, "syn_batch_size": 256,
    },
}

# ddr's own settings beside DD-Ranking's (keywords or config keys): the edition a call computes
# (ddr.protocols.editions: 'ddr', 'ddranking-0.2', 'leaderboard-2025-02')
EXTENSIONS: dict[str, Any] = {"edition": "ddr"}

# DD-Ranking's data set names -> ddr's (digits is ddr's own small data set, for tests and CPUs)
DATASETS: dict[str, str] = {**DATASET_NAMES, "digits": "digits"}

# DD-Ranking's documented DSA keys (docs and demos; its DSA class never read them) -> the keys it reads
DSA_ALIASES: dict[str, str] = {
    "prob_flip": "flip", "ratio_rotate": "rotate", "ratio_scale": "scale", "ratio_crop_pad": "crop",
    "ratio_cutout": "cutout",
}

# keys that change no number in ddr, each with the reason (docs/ddranking-compat.md lists them)
NO_EFFECT: dict[str, str] = {
    "num_workers": "ddr keeps every set in memory; no loader workers",
    "dist": "ddr trains each student on one device (the grid runs trainings in parallel instead)",
    "real_batch_size": "the real-data reference uses its own recipe's batch size (defect 6.1.8)",
    "eval_full_data": "the real-data reference is trained once per recipe and cached, never read from a table",
    "random_data_format": "random subsets are kept as the data set's own tensors (no JPEG re-encoding)",
}

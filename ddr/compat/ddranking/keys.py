"""The constructor keywords of DD-Ranking 0.2.0's four evaluators with their defaults (reference 2.14 and
the package's docs): what an absent keyword takes in the one mapping of DD-Ranking settings
(ddr.compat.ddranking_mapping).

`UNSET` marks a default ddr replaces with its own reading (documented in docs/ddranking-compat.md): the
image size and the device are the data set's and the machine's when not given (DD-Ranking's (32, 32) and
'cuda' would refuse digits and a CPU), and DD-Ranking's broken defaults (`aug_params` {'beta': 1.0} with
LabelRobustScoreHard's {'cutmix_p': 1.0}, which its CutMix never read; the soft losses' `loss_fn_kwargs=None`,
which they unpacked and crashed on) become the class defaults its augmentations and losses use.
"""
from __future__ import annotations

from typing import Any

from ddr.compat.ddranking_mapping import UNSET

_COMMON: dict[str, Any] = {
    "dataset": "CIFAR10", "real_data_path": "./dataset/", "ipc": 10, "model_name": "ConvNet-3",
    "data_aug_func": "cutmix", "aug_params": UNSET, "optimizer": "sgd", "lr_scheduler": "step",
    "step_size": None, "weight_decay": 0.0005, "momentum": 0.9, "use_zca": False, "num_eval": 5,
    "im_size": UNSET, "num_epochs": 300, "num_workers": 4, "save_path": None, "custom_train_trans": None,
    "custom_val_trans": None, "device": UNSET, "dist": False,
}
_SOFT: dict[str, Any] = {
    "soft_label_mode": "S", "soft_label_criterion": "kl", "loss_fn_kwargs": UNSET, "stu_use_torchvision": False,
    "tea_use_torchvision": False, "teacher_dir": "./teacher_models", "teacher_model_names": None,
    "random_data_format": "tensor", "random_data_path": None,
}

# evaluator class name -> {keyword: default}
DEFAULTS: dict[str, dict[str, Any]] = {
    "LabelRobustScoreHard": {
        **_COMMON, "real_batch_size": 256, "syn_batch_size": 256,
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

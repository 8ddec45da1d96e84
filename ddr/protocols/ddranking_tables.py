"""DD-Ranking 0.2.0's own tables, as the reference documents them: read by the config importer
(ddr.compat.ddranking_config) and by the DD-Ranking editions of a protocol (ddr.protocols.editions)."""
from __future__ import annotations

from typing import Any

# DD-Ranking's data set names -> ddr's
DATASET_NAMES: dict[str, str] = {
    "CIFAR10": "cifar10", "CIFAR100": "cifar100", "TinyImageNet": "tinyimagenet", "ImageNet1K": "imagenet1k",
    "ImageNette": "imagenette", "ImageWoof": "imagewoof", "ImageMeow": "imagemeow", "ImageSquawk": "imagesquawk",
    "ImageFruit": "imagefruit", "ImageYellow": "imageyellow",
}
# epochs between test passes, hard-coded per evaluator (reference 1.1, 2.6)
TEST_INTERVAL = {"LabelRobustScoreHard": 10, "LabelRobustScoreSoft": 20, "AugmentationRobustScore": 20,
                 "GeneralEvaluator": 10}
# the real_batch_size of the constructor and of every eval config that trained the real reference
REAL_BATCH_SIZE = 256
# default_lr: the constructor default and every eval config's value; 0.1.x trained the real reference at it
DEFAULT_LR = 0.01

# DD-Ranking's REAL_DATA_TRAINING_CONFIG (reference 2.6): "{dataset}-{model}" -> the recipe, with the row's
# own epochs and batch size (v0.2.0 ran num_epochs at real_batch_size instead, defect 6.1.8).
SGD_CONV_CIFAR = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0005, "scheduler": "step",
                   "step_size": 100, "gamma": 0.1, "epochs": 200, "batch_size": 512}
SGD_CONV_TINY = {**SGD_CONV_CIFAR, "step_size": 50, "epochs": 100}
REAL_ROWS: dict[tuple[str, str], dict[str, Any]] = {
    ("imagenet1k", "ResNet-18-BN"): {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0001,
                                     "scheduler": "step", "step_size": 30, "gamma": 0.1, "epochs": 90,
                                     "batch_size": 512},
    ("tinyimagenet", "ResNet-18-BN"): {"optimizer": "adamw", "lr": 0.01, "betas": [0.9, 0.999],
                                       "weight_decay": 0.01, "scheduler": "cosine", "epochs": 100,
                                       "batch_size": 512},
    ("tinyimagenet", "ConvNet-4-BN"): SGD_CONV_TINY,
    **{(ds, m): SGD_CONV_CIFAR for ds in ("cifar10", "cifar100") for m in ("ConvNet-3", "ConvNet-3-BN")},
}
# REAL_DATA_ACC_CACHE (percent): where the eval configs set eval_full_data false, v0.2.0 read these instead of
# training a reference
REAL_ACC_CACHE: dict[tuple[str, str], float] = {("imagenet1k", "ResNet-18-BN"): 56.5,
                                                ("tinyimagenet", "ResNet-18-BN"): 46.4}
REAL_ACC_CACHE_SOURCE = ("DD-Ranking 0.2.0, ddranking/utils/train_and_eval.py REAL_DATA_ACC_CACHE (percent; read "
                         "where a config set eval_full_data false; its recipe, seed and resolution undocumented)")


DATASETS = ("cifar10", "cifar100", "tinyimagenet", "imagenet1k")  # the data sets its tables cover


def _key(dataset: str, model: str) -> tuple[str, str]:
    return dataset, model.removesuffix("-tv")  # DD-Ranking's key names the model, torchvision's or its own


def trained_real_reference(dataset: str, model: str, eval_full_data: bool | None = None) -> bool:
    """Whether DD-Ranking 0.2.0 trained a real-data reference for (data set, model): its table has a row and
    the config did not read a cached accuracy instead (elsewhere it stopped, or read REAL_ACC_CACHE). On a
    data set DD-Ranking never had (digits), the protocol's real recipe stands in for the row.
    `eval_full_data`: the config's, where the protocol states it; unset, the tables decide (see
    cached_real_accuracy)."""
    if dataset not in DATASETS:
        return True
    key = _key(dataset, model)
    if eval_full_data is not None:
        return eval_full_data and key in REAL_ROWS
    return key in REAL_ROWS and key not in REAL_ACC_CACHE


def cached_real_accuracy(dataset: str, model: str, eval_full_data: bool | None = None) -> float | None:
    """Acc(real) as a fraction where DD-Ranking 0.2.0 read it from REAL_ACC_CACHE instead of training, else None.
    Unless the protocol states eval_full_data, the tables decide: every config of a cached (data set, model)
    (D4M, SRe2L and DWA on ImageNet-1K and TinyImageNet, RDED on ImageNet-1K; reference 2.13) set it false,
    and elsewhere false stopped v0.2.0 ("not found in cache"), so ddr's reference stands there."""
    percent = None if eval_full_data else REAL_ACC_CACHE.get(_key(dataset, model))
    return None if percent is None else round(percent / 100.0, 6)


def eval_full_data_needed(dataset: str, model: str, eval_full_data: bool) -> bool:
    """Whether a protocol translated from a DD-Ranking config must state its eval_full_data: where the tables
    alone would tell the DD-Ranking editions otherwise (train a reference it read from the cache, or the
    reverse)."""
    return (trained_real_reference(dataset, model, eval_full_data) != trained_real_reference(dataset, model)
            or cached_real_accuracy(dataset, model, eval_full_data) != cached_real_accuracy(dataset, model))


# random_data_format of DD-Ranking's eval configs (reference 2.13): 'tensor' in the hard-label ones (DC, DSA, DM,
# MTT) and DATM's (the soft-label method with ZCA), 'image' in every other soft-label one (D4M, SRe2L, RDED, DWA,
# G-VBSM, EDC). 'image' wrote a CIFAR random baseline as JPEG files and trained on their decodings (reference 2.5);
# of any other data set it copied the original files, which ddr trains from too (ddr.data.originals)
JPEG_DATASETS = ("cifar10", "cifar100")


def config_random_data_format(label: str, zca: bool) -> str:
    """The random_data_format DD-Ranking's own configs set for a protocol of this label and whitening."""
    return "image" if label == "soft" and not zca else "tensor"


def jpeg_random_images(dataset: str, label: str, zca: bool, random_data_format: str | None = None) -> bool:
    """Whether DD-Ranking 0.2.0 trained the random side on JPEG round trips: image format on CIFAR.
    `random_data_format`: the config's, where the protocol states it; unset, DD-Ranking's configs decide."""
    fmt = random_data_format or config_random_data_format(label, zca)
    return fmt == "image" and dataset in JPEG_DATASETS


def random_data_format_needed(dataset: str, label: str, zca: bool, random_data_format: str) -> bool:
    """Whether a protocol translated from a DD-Ranking config must state its random_data_format: where the
    configs' own choice would tell the ddranking-0.2 edition otherwise."""
    return (jpeg_random_images(dataset, label, zca, random_data_format)
            != jpeg_random_images(dataset, label, zca))


def cache_key(dataset: str, model: str) -> str:
    """DD-Ranking's "{dataset}-{model}" key of its tables (ImageNet1K-ResNet-18-BN)."""
    names = {ddr: theirs for theirs, ddr in DATASET_NAMES.items()}
    ds, m = _key(dataset, model)
    return f"{names.get(ds, ds)}-{m}"

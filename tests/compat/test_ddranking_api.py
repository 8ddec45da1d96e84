"""ddr.compat.ddranking: a script written the way DD-Ranking's docs show runs with its import lines changed,
each call is an ordinary ddr evaluation (result.json that passes ddr's schema, MLflow runs, cache), its
numbers are ddr.evaluate's in DD-Ranking's keys and units, and every setting ddr cannot honour is refused
by its key's name. Real trainings on digits with DD-Ranking's MLP (3 layers of 128), a few epochs."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from ddr import metrics
from ddr.compat.ddranking import (
    AugmentationRobustScore,
    Config,
    GeneralEvaluator,
    LabelRobustScoreHard,
    LabelRobustScoreSoft,
)
from ddr.compat.ddranking.report import ddranking_dict
from ddr.data import load_dataset, write_distilled
from ddr.data.random_baseline import random_baseline
from ddr.errors import DDRError
from ddr.eval.result import check_record
from ddr.eval.result_checks import check_summaries

ROOT = Path(__file__).resolve().parents[2]

# DD-Ranking's quick-start (doc/getting-started/quick-start.md), for the hard-label evaluator: a Config
# file, the synthetic images and learning rate from .pt files, compute_metrics, the returned dict read.
DDRANKING_SCRIPT = """\
import json
import sys

import torch
from ddranking.metrics import LabelRobustScoreHard
from ddranking.config import Config

config = Config.from_file(sys.argv[1])
lrs_hard_metric = LabelRobustScoreHard(config)
syn_images = torch.load(sys.argv[2] + "/images.pt")
syn_lr = torch.load(sys.argv[2] + "/lr.pt")
results = lrs_hard_metric.compute_metrics(image_tensor=syn_images, syn_lr=syn_lr, lrs_lambda=0.5)
print("LRS", results["label_robust_score_mean"])
print(json.dumps(results))
"""

# DD-Ranking config keys (doc/config/overview.md) made tiny: digits, MLP, 6 epochs, 2 rounds, DSA with the
# documented key spellings
TINY_HARD = {
    "dataset": "digits", "real_data_path": "./dataset/", "ipc": 2, "model_name": "MLP", "use_torchvision": False,
    "data_aug_func": "dsa",
    "aug_params": {"prob_flip": 0.5, "ratio_rotate": 15.0, "saturation": 2.0, "brightness": 1.0, "contrast": 0.5,
                   "ratio_scale": 1.2, "ratio_crop_pad": 0.125, "ratio_cutout": 0.5},
    "optimizer": "sgd", "lr_scheduler": "step", "step_size": 3, "weight_decay": 0.0005, "momentum": 0.9,
    "num_eval": 2, "num_epochs": 6, "real_batch_size": 256, "syn_batch_size": 256, "eval_full_data": True,
    "use_zca": False, "random_data_format": "tensor", "num_workers": 4, "device": "cpu", "dist": False,
    "custom_train_trans": None, "custom_val_trans": None,
}


@pytest.fixture(scope="module")
def syn_set(tmp_path_factory):
    """A 2-per-class digits subset standing in for a distilled set, with its lr.pt."""
    folder = tmp_path_factory.mktemp("syn") / "toy"
    ds = random_baseline(load_dataset("digits"), 2, 99)
    ds.lr = 0.05
    ds.meta = {"method": "toy"}
    return write_distilled(folder, ds)


@pytest.fixture
def env(tmp_path, monkeypatch, new_store):
    """Run in a fresh folder with its own MLflow store and training cache."""
    monkeypatch.chdir(tmp_path)
    uri = new_store(tmp_path / "store")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("DDR_CACHE_DIR", str(tmp_path / "cache"))
    return {"dir": tmp_path, "uri": uri}


def _check_written(result_path: Path) -> dict:
    record = json.loads(result_path.read_text())
    check_record(record, result_path)
    check_summaries(record, result_path)
    return record


@pytest.mark.slow  # a Python subprocess (torch and MLflow imported afresh) and the same evaluation retrained in-process
def test_ddranking_script_with_changed_imports_equals_ddr_evaluate(env, syn_set, tmp_path, ddr_cli):
    script = DDRANKING_SCRIPT.replace("from ddranking.", "from ddr.compat.ddranking.")
    changed = [(a, b) for a, b in zip(DDRANKING_SCRIPT.splitlines(), script.splitlines()) if a != b]
    assert [a for a, _ in changed] == ["from ddranking.metrics import LabelRobustScoreHard",
                                       "from ddranking.config import Config"]
    (tmp_path / "eval.py").write_text(script)
    cfg = {**TINY_HARD, "save_path": str(tmp_path / "res" / "scores.csv"),
           "random_data_path": str(tmp_path / "random_data")}
    (tmp_path / "IPC2.yaml").write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, "eval.py", "IPC2.yaml", str(syn_set)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(scores) == sorted(f"{k}_{s}" for k in ("hard_label_recovery", "improvement_over_random",
                                                         "label_robust_score") for s in ("mean", "std"))

    # the evaluation it ran: result.json (ddr's schema), its protocol, the CSV, the random folders, MLflow
    out = tmp_path / "res" / "lrs-hard"
    record = _check_written(out / "result.json")
    assert record["protocol"]["name"].startswith("ddranking-lrs-hard-digits-")
    assert record["rounds"] == 2 and record["ipc"] == 2 and record["model"] == "MLP"
    syn_lr = float(torch.load(syn_set / "lr.pt"))  # a float32 tensor, as DATM's lr_best.pt
    # syn_lr is the set's own LR: both sides train at it; the random side's five-LR search is recorded beside
    assert {t["lr"] for t in record["trainings"] if t["role"] in ("syn", "random")} == {syn_lr}
    assert {t["lr"] for t in record["trainings"] if t["role"] == "random_search"} == {0.001, 0.005, 0.01, 0.05, 0.1}
    assert record["protocol"]["edition"] == "ddr"
    csv_rows = (tmp_path / "res" / "scores.csv").read_text().splitlines()
    assert csv_rows[0] == "hard_label_recovery,improvement_over_random,lrs" and len(csv_rows) == 3
    assert sorted(p.name for p in (tmp_path / "random_data" / "digits_IPC2").iterdir()) == ["seed0", "seed1"]
    from mlflow import MlflowClient

    runs = MlflowClient(env["uri"]).search_runs(
        [e.experiment_id for e in MlflowClient(env["uri"]).search_experiments()],
        "tags.`ddr.compat.evaluator` = 'LabelRobustScoreHard'")
    assert len(runs) == 1 and runs[0].data.metrics["lrs_mean"] == record["metrics"]["lrs"]["mean"]
    assert runs[0].data.tags["ddr.protocol"] == record["protocol"]["name"]
    code, _, err = ddr_cli("rank", str(tmp_path / "res"), "--out", str(tmp_path / "ranking"))  # rankable as written
    assert code == 0, err

    # ddr.evaluate on the same inputs, retrained from nothing (fresh cache, no tracking): the same numbers
    import ddr

    direct = ddr.evaluate("lrs", distilled=str(syn_set), dataset="digits", ipc=2, protocol=str(out / "protocol.yaml"),
                          lr=syn_lr, weight=0.5, track=False, cache_dir=tmp_path / "fresh-cache")
    assert ddranking_dict(direct) == scores
    assert direct.metrics == record["metrics"]
    # DD-Ranking's units: HLR and IOR in percentage points; the score from fractions, in [0, 1]
    hlr, ior = direct.metrics["hlr"]["per_round"], direct.metrics["ior"]["per_round"]
    assert scores["hard_label_recovery_mean"] == pytest.approx(100 * sum(hlr) / 2)
    assert direct.metrics["lrs"]["per_round"] == [metrics.lrs(h, i, 0.5) for h, i in zip(hlr, ior)]
    assert 0 <= scores["label_robust_score_mean"] <= 1


def test_keywords_soft_labels_teacher_layout_and_cache(env, syn_set, digits):
    """DD-Ranking's keyword style with soft labels (mode M, KL): the teacher read from
    teacher_dir/{dataset}/{model}/ckpt_best.pt; a second call is served from the cache; random folders
    written by the first call are read back by the second."""
    from ddr.eval.teacher_store import make_teacher
    from ddr.protocols import TeacherSpec, TrainRecipe

    net, _ = make_teacher(digits, TeacherSpec("MLP", TrainRecipe(epochs=3, batch_size=128, lr=0.01, scheduler="cosine")),
                          0, torch.device("cpu"))
    ckpt = env["dir"] / "teacher_models" / "digits" / "MLP" / "ckpt_best.pt"
    ckpt.parent.mkdir(parents=True)
    torch.save(net.state_dict(), ckpt)
    kwargs = dict(dataset="digits", ipc=2, model_name="MLP", soft_label_mode="M", soft_label_criterion="kl",
                  loss_fn_kwargs={"temperature": 4.0, "scale_loss": False}, data_aug_func="mixup",
                  aug_params={"lambda": 0.8}, optimizer="adamw", lr_scheduler="cosine", weight_decay=0.01,
                  num_epochs=4, num_eval=1, syn_batch_size=64, teacher_dir="./teacher_models",
                  teacher_model_names=["MLP"], random_data_format="image", random_data_path="./random_data",
                  device="cpu")
    images = torch.load(syn_set / "images.pt")
    first = LabelRobustScoreSoft(**kwargs)
    scores = first.compute_metrics(image_tensor=images, syn_lr=0.01, lrs_lambda=0.3)
    record = _check_written(first.result_path)
    assert first.result_path == env["dir"] / "results" / "digits" / "MLP" / "ipc2" / "lrs-soft" / "result.json"
    assert record["label"] == "soft" and record["weight"] == 0.3
    assert record["inputs"]["teachers"][0]["path"] == str(Path("teacher_models/digits/MLP/ckpt_best.pt"))
    assert scores["label_robust_score_mean"] == record["metrics"]["lrs"]["mean"]
    assert scores["improvement_over_random_mean"] == 100 * record["metrics"]["ior"]["mean"]

    second = LabelRobustScoreSoft(**kwargs)
    assert second.compute_metrics(image_tensor=images, syn_lr=0.01, lrs_lambda=0.3) == scores
    assert second.result.resources["cached_trainings"] == second.result.resources["trainings"]
    assert second.result.inputs["random"][0]["path"].endswith(str(Path("digits_IPC2") / "seed0"))


def test_ars_and_general_evaluator_from_a_config_dict(env, syn_set):
    cfg = {**TINY_HARD, "label_type": "hard", "batch_size": 64}
    for key in ("real_batch_size", "syn_batch_size", "eval_full_data", "use_torchvision"):
        cfg.pop(key)
    cfg["stu_use_torchvision"] = False
    ars = AugmentationRobustScore(Config(cfg))
    scores = ars.compute_metrics(image_path=str(syn_set), syn_lr=0.05, ars_lambda=0.5)
    record = _check_written(ars.result_path)
    assert record["kind"] == "ars" and record["method"] == "toy"
    assert scores["with_aug_scores_mean"] == 100 * record["metrics"]["delta_aug"]["mean"]
    assert scores["without_aug_scores_std"] == 100 * record["metrics"]["delta_noaug"]["std"]
    assert scores["augmentation_robust_score_mean"] == record["metrics"]["ars"]["mean"]
    assert math.isfinite(scores["augmentation_robust_score_std"])

    general = GeneralEvaluator(dataset="digits", ipc=2, model_name="MLP", data_aug_func=None, num_epochs=5,
                               num_eval=2, device="cpu")
    acc = general.compute_metrics(image_tensor=torch.load(syn_set / "images.pt"), syn_lr=0.05)
    record = _check_written(general.result_path)
    assert sorted(acc) == ["acc_mean", "acc_std"]
    assert acc["acc_mean"] == 100 * record["metrics"]["acc"]["mean"] and 0 < acc["acc_mean"] <= 100


class _Shuffle:  # a user's own transform class, as DD-Ranking's RDED scripts define ShufflePatches
    def __call__(self, x):
        return x


REFUSED = [
    ({"custom_train_trans": "compose"}, "custom_train_trans"),
    ({"custom_train_trans": [{"name": "ColorJitter", "args": {"brightness": 0.4}}]}, "custom_train_trans"),
    ({"custom_train_trans": [{"name": "Normalize", "args": {"mean": [0.5], "std": [0.5]}}]}, "custom_train_trans"),
    ({"custom_val_trans": [{"name": "RandomHorizontalFlip"}]}, "custom_val_trans"),
    ({"model_name": "ViT-B-16"}, "model_name"),
    ({"model_name": "VGG-11", "use_torchvision": True}, "model_name"),
    ({"device": "tpu"}, "device"),
    ({"dataset": "MNIST"}, "dataset"),
    ({"dataset": "CIFAR10", "model_name": "ConvNet-3", "real_data_path": "./no-such-folder"}, "real_data_path"),
    ({"dataset": "CIFAR10", "real_data_path": "./no-such-folder"}, "model_name"),  # MLP: no CIFAR-10 reference recipe
    ({"im_size": (32, 32)}, "im_size"),
    ({"data_aug_func": "mixup", "aug_params": {"mixup_p": 0.8}}, "aug_params"),
    ({"data_aug_func": "cutmix", "aug_params": {"cutmix_p": 0.5}}, "aug_params"),
    ({"data_aug_func": "dsa", "aug_params": {"prob_flop": 0.5}}, "aug_params"),
    ({"data_aug_func": "zca"}, "data_aug_func"),
    ({"lr_scheduler": "lambda_step"}, "lr_scheduler"),
    ({"step_size": None}, "step_size"),
    ({"num_epochs": 0}, "num_epochs"),
    ({"learning_rate": 0.01}, "learning_rate"),  # not a DD-Ranking key (default_lr is one it ignored: recorded)
    ({"use_aug_for_hard": True}, "use_aug_for_hard"),
]


@pytest.mark.parametrize("change,key", REFUSED, ids=[f"{k}-{i}" for i, (_, k) in enumerate(REFUSED)])
def test_a_setting_ddr_cannot_honour_is_refused_by_its_key(env, change, key):
    settings = {**TINY_HARD, **change}
    if settings.get("custom_train_trans") == "compose":
        from torchvision import transforms

        settings["custom_train_trans"] = transforms.Compose([transforms.RandomHorizontalFlip(), _Shuffle()])
    with pytest.raises(DDRError) as exc:
        LabelRobustScoreHard(config=Config(settings))
    message = str(exc.value)
    assert (message.startswith(f"{key}:") or f"key '{key}'" in message) and "\n" not in message
    assert not any(env["dir"].iterdir()) or sorted(p.name for p in env["dir"].iterdir()) == ["store"]


def test_a_config_key_dd_ranking_ignored_is_accepted_with_a_note_and_refused_as_a_keyword(env, capsys):
    """A Config holds a DD-Ranking config file's keys: one the evaluator does not read is recorded and said
    (DD-Ranking ignored it); as a keyword argument it is refused, as Python refused it in DD-Ranking."""
    ev = LabelRobustScoreHard(Config({**TINY_HARD, "default_lr": 0.01, "label_type": "hard"}))
    err = capsys.readouterr().err
    assert "note: default_lr ignored: not read by DD-Ranking 0.2.0" in err
    assert "note: label_type ignored: only AugmentationRobustScore reads it" in err
    assert ev.mapped.keys["default_lr"].startswith("ignored") and ev.mapped.label == "hard"
    with pytest.raises(DDRError, match="^default_lr: not a LabelRobustScoreHard keyword"):
        LabelRobustScoreHard(**{**TINY_HARD, "default_lr": 0.01})


def test_refusals_of_soft_and_call_arguments(env, syn_set):
    soft = dict(dataset="digits", ipc=2, model_name="MLP", soft_label_mode="M", data_aug_func=None,
                step_size=2, num_epochs=2, num_eval=1, device="cpu", teacher_model_names=["MLP"])
    with pytest.raises(DDRError, match=r"^teacher_dir: no checkpoint"):
        LabelRobustScoreSoft(**soft)
    with pytest.raises(DDRError, match=r"^teacher_model_names"):
        LabelRobustScoreSoft(**{**soft, "teacher_model_names": None})
    with pytest.raises(DDRError, match=r"^soft_label_criterion"):
        LabelRobustScoreSoft(**{**soft, "soft_label_criterion": "l2"})
    with pytest.raises(DDRError, match=r"^loss_fn_kwargs"):
        LabelRobustScoreSoft(**{**soft, "loss_fn_kwargs": {"temp": 2.0}})
    ev = LabelRobustScoreSoft(**{**soft, "teacher_dir": None})  # teacher_dir null: ddr trains the teacher
    images = torch.load(syn_set / "images.pt")
    with pytest.raises(DDRError, match=r"^soft_labels: soft_label_mode 'M'"):
        ev.compute_metrics(image_tensor=images, soft_labels=torch.rand(20, 10))
    with pytest.raises(DDRError, match=r"^image_tensor / image_path"):
        ev.compute_metrics()
    with pytest.raises(DDRError, match=r"^syn_lr"):
        ev.compute_metrics(image_tensor=images, syn_lr=-1.0)
    with pytest.raises(DDRError, match=r"^lrs_lambda"):
        ev.compute_metrics(image_tensor=images, lrs_lambda=2.0)
    with pytest.raises(DDRError, match=r"^hard_labels: expected a tensor"):
        LabelRobustScoreHard(Config(TINY_HARD)).compute_metrics(image_tensor=images, hard_labels=[0, 1] * 10)
    with pytest.raises(DDRError, match=r"^soft_label_mode: this evaluation trains on hard labels"):
        AugmentationRobustScore(**{**soft, "label_type": "hard", "data_aug_func": "dsa", "aug_params": None,
                                     "teacher_model_names": None})
    with pytest.raises(DDRError, match=r"^LabelRobustScoreHard: pass a config or keyword arguments"):
        LabelRobustScoreHard(Config(TINY_HARD), ipc=3)
    assert not (env["dir"] / "results").exists()


def test_cifar10_spelling_teacher_layout_and_a_d4m_config_map_to_the_shipped_protocol(tmp_path, monkeypatch, capsys):
    """DD-Ranking's D4M CIFAR-10 config (reference 2.13) on a CIFAR-10 folder (digits in CIFAR's format): the
    data set as DD-Ranking spells it, the teacher read from teacher_dir/CIFAR10/ConvNet-3/ckpt_best.pt, and
    the protocol it maps to is ddr's shipped d4m-cifar10 apart from its listed correction ('cosine' ->
    'cosineannealing') and the name."""
    from ddr.models import build_model
    from ddr.protocols import raw_protocol
    from tests.compat.conformance import write_digits_cifar

    monkeypatch.chdir(tmp_path)
    write_digits_cifar(tmp_path / "dataset")
    d4m = {"dataset": "CIFAR10", "real_data_path": str(tmp_path / "dataset"), "ipc": 10, "model_name": "ConvNet-3",
           "stu_use_torchvision": False, "tea_use_torchvision": False, "teacher_dir": "./teacher_models",
           "teacher_model_names": ["ConvNet-3"], "data_aug_func": "cutmix", "aug_params": {"beta": 1.0},
           "use_zca": False, "use_aug_for_hard": False,
           "custom_train_trans": [
               {"name": "RandomResizedCrop", "args": {"size": 32, "scale": [0.08, 1.0]}},
               {"name": "RandomHorizontalFlip", "args": {"p": 0.5}}, {"name": "ToTensor"},
               {"name": "Normalize", "args": {"mean": [0.4914, 0.4822, 0.4465], "std": [0.2023, 0.1994, 0.2010]}}],
           "custom_val_trans": None, "soft_label_mode": "M", "soft_label_criterion": "kl",
           "loss_fn_kwargs": {"temperature": 20.0, "scale_loss": False}, "optimizer": "adamw",
           "lr_scheduler": "cosine", "weight_decay": 0.01, "momentum": 0.9, "num_eval": 5, "eval_full_data": True,
           "num_epochs": 500, "num_workers": 4, "device": "cpu", "dist": True, "syn_batch_size": 100,
           "real_batch_size": 256, "save_path": "./results/d4m.csv", "random_data_format": "image",
           "random_data_path": "./random_data", "im_size": [32, 32]}
    with pytest.raises(DDRError, match=r"^teacher_dir: no checkpoint teacher_models/CIFAR10/ConvNet-3/ckpt_best.pt"):
        LabelRobustScoreSoft(Config(d4m))
    ckpt = tmp_path / "teacher_models" / "CIFAR10" / "ConvNet-3" / "ckpt_best.pt"
    ckpt.parent.mkdir(parents=True)
    torch.save(build_model("ConvNet-3", 3, 10, (32, 32)).state_dict(), ckpt)
    capsys.readouterr()
    ev = LabelRobustScoreSoft(Config(d4m))
    assert "note: dist changes no number in ddr" in capsys.readouterr().err  # accepted, and said so
    assert ev.teachers == [str(Path("teacher_models/CIFAR10/ConvNet-3/ckpt_best.pt"))]
    mapped, shipped = ev.mapped.protocol, raw_protocol("d4m-cifar10")
    assert shipped["train"].pop("scheduler") == "cosineannealing" and mapped["train"].pop("scheduler") == "cosine"
    for key in ("dataset", "model", "label", "lr_grid", "rounds", "real", "train", "soft"):
        assert mapped[key] == shipped[key], key  # soft: mode M, the ConvNet-3 teacher and its recipe


def test_image_folder_input(env, syn_set):
    """image_path: an ImageFolder root (one folder per class, sorted), as DD-Ranking read it."""
    import numpy as np
    from PIL import Image

    data = load_dataset("digits")
    images = data.denormalise(torch.load(syn_set / "images.pt"))
    root = env["dir"] / "syn_images"
    for i, img in enumerate(images):
        folder = root / f"{i // 2:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.rint(img[0].clamp(0, 1).numpy() * 255).astype(np.uint8), "L").save(folder / f"{i:05d}.png")
    ev = GeneralEvaluator(dataset="digits", ipc=2, model_name="MLP", data_aug_func=None, num_epochs=3, num_eval=1,
                          save_path=str(env["dir"] / "out"))
    acc = ev.compute_metrics(image_path=str(root), syn_lr=0.05)
    record = _check_written(env["dir"] / "out" / "acc-hard" / "result.json")
    assert record["method"] == "syn_images" and record["inputs"]["distilled"]["path"] == str(root)
    assert acc["acc_mean"] == 100 * record["metrics"]["acc"]["mean"]
    assert (env["dir"] / "out" / "eval_scores.csv").read_text().startswith("acc\n")


def test_edition_ddranking_02(env, syn_set):
    """edition (a ddr setting beside DD-Ranking's): 'ddranking-0.2' scores IOR against the LR-searched random
    side and trains the real reference for the evaluator's epochs, as DD-Ranking 0.2.0 did."""
    kwargs = dict(dataset="digits", ipc=2, model_name="MLP", data_aug_func=None, step_size=2, num_epochs=4,
                  num_eval=1, device="cpu")
    images = torch.load(syn_set / "images.pt")
    ev = LabelRobustScoreHard(**kwargs, edition="ddranking-0.2")
    scores = ev.compute_metrics(image_tensor=images, syn_lr=0.05)
    record = _check_written(ev.result_path)
    assert record["protocol"]["edition"] == "ddranking-0.2"
    assert record["protocol"]["edition_changes"]["real.epochs"][1] == 4
    assert record["metrics"]["ior"] == record["metrics"]["ior_random_search"]
    assert scores["improvement_over_random_mean"] == 100 * record["metrics"]["ior_random_search"]["mean"]
    with pytest.raises(DDRError, match=r"^edition"):
        LabelRobustScoreHard(**kwargs, edition="ddranking-0.1")


def test_config_from_a_file_a_path_or_a_dict(tmp_path):
    path = tmp_path / "IPC2.yaml"
    path.write_text("dataset: digits\nipc: 2\nmodel_name: MLP\n")
    for config in (Config.from_file(path), Config(str(path)), Config(config_path=path),
                   Config({"dataset": "digits", "ipc": 2, "model_name": "MLP"})):
        assert config.get("ipc") == 2 and config.get("num_eval") is None and config.get("num_eval", 5) == 5
        assert sorted(config.keys()) == ["dataset", "ipc", "model_name"]
    path.write_text("ipc: 2\nipc: 3\n")  # a key given twice is refused, not silently the last one
    with pytest.raises(DDRError, match="given twice"):
        Config.from_file(path)
    with pytest.raises(DDRError, match="no such DD-Ranking config"):
        Config.from_file(tmp_path / "missing.yaml")

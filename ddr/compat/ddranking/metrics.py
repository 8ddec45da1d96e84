"""DD-Ranking 0.2.0's evaluators on ddr: `LabelRobustScoreHard`, `LabelRobustScoreSoft`,
`AugmentationRobustScore`, `GeneralEvaluator`.

Each is built from a `Config` or from DD-Ranking's keyword arguments; `compute_metrics` maps the settings
to a ddr protocol (ddr.compat.ddranking.protocol) and runs one ordinary `ddr.evaluate`: tracked in MLflow
(MLFLOW_TRACKING_URI), cached and resumable (DDR_CACHE_DIR), its result.json and protocol.yaml written to
`<folder of save_path>/<kind>-<label>/` beside DD-Ranking's per-round CSV. The returned dict has
DD-Ranking's keys and units (ddr.compat.ddranking.report); `evaluator.result` is the full EvalResult and
`evaluator.result_path` its result.json.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
import yaml

from ddr.checks import confined
from ddr.compat.ddranking.config import Config
from ddr.compat.ddranking.keys import DEFAULTS, EXTENSIONS, UNSET
from ddr.compat.ddranking.protocol import build_protocol, named
from ddr.compat.ddranking_mapping import NO_EFFECT, Mapped
from ddr.compat.ddranking.report import CSV_NAMES, ddranking_dict, summary, write_csv
from ddr.data.real import load_dataset
from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.eval.result import EvalResult
from ddr.kernel.atomic import write_text_atomic

COMPAT_TAG = "ddranking-0.2.0"


class _Evaluator:
    """Settings -> protocol at construction (every key checked, the data set loaded, as DD-Ranking's
    constructors did); one ddr evaluation per compute_metrics call."""

    def __init__(self, config: Config | dict | None = None, **kwargs: Any) -> None:
        name = type(self).__name__
        given, settings = _collect(name, config, kwargs)
        from ddr.protocols.editions import check_edition
        from ddr.train.engine import resolve_device

        try:
            self.edition = check_edition(settings["edition"])
        except DDRError as exc:
            raise DDRError(f"edition: {exc}") from None
        self.mapped: Mapped = build_protocol(name, {k: v for k, v in given.items() if k not in EXTENSIONS})
        self.dataset = self.mapped.protocol["dataset"]
        self.root = None if self.dataset == "digits" else settings["real_data_path"]
        try:
            self.data: RealData = load_dataset(self.dataset, self.root)
        except DDRError as exc:
            raise DDRError(f"real_data_path: {exc}") from None
        self.device = "auto" if settings["device"] is UNSET else settings["device"]
        try:
            resolve_device(self.device)
        except DDRError as exc:
            raise DDRError(f"device: {exc}") from None
        self.ipc, self.settings = settings["ipc"], settings
        self.teachers = self._teacher_paths()
        self.result: EvalResult | None = None
        self.result_path: Path | None = None
        for key in given:  # accepted, and said so
            if key in NO_EFFECT and given[key] != DEFAULTS[name].get(key):
                print(f"note: {key} changes no number in ddr: {self.mapped.keys[key]}", file=sys.stderr)
            elif self.mapped.keys.get(key, "").startswith("ignored"):
                print(f"note: {key} {self.mapped.keys[key]}", file=sys.stderr)

    # -- inputs ---------------------------------------------------------------------------------------

    def _teacher_paths(self) -> list[str] | None:
        """teacher_dir/{dataset}/{model}/ckpt_best.pt per teacher (DD-Ranking's layout and spelling); with
        teacher_dir None, ddr trains each teacher once on the real data and caches it."""
        if not self.mapped.teacher_names:
            return None
        base = self.settings["teacher_dir"]
        if base is None:
            return None
        paths = []
        for name in self.mapped.teacher_names:
            ckpt = confined(base, self.settings["dataset"], name, "ckpt_best.pt", what="teacher_model_names")
            if not ckpt.is_file():
                raise DDRError(f"teacher_dir: no checkpoint {ckpt} for teacher '{name}' (DD-Ranking's layout "
                               "teacher_dir/{dataset}/{model}/ckpt_best.pt; teacher_dir: null lets ddr train it)")
            paths.append(str(ckpt))
        return paths

    def _csv_path(self) -> Path:
        save = self.settings["save_path"]
        if save:
            path = Path(save)
            return path if path.suffix == ".csv" else path / CSV_NAMES[self.mapped.kind]
        s = self.settings
        return confined("results", s["dataset"], s["model_name"], f"ipc{self.ipc}",
                        CSV_NAMES[self.mapped.kind], what="dataset/model_name")

    def _random_folders(self, rounds: int) -> tuple[Path | None, list[str]]:
        """random_data_path/{dataset}_IPC{ipc}/: ddr random-baseline folders (seed<k>), read when present
        (each checked against the draw it claims to be) and written after the evaluation."""
        base = self.settings.get("random_data_path")
        if not base:
            return None, []
        folder = confined(base, f"{self.settings['dataset']}_IPC{self.ipc}", what="dataset")
        found = [str(folder / f"seed{s}") for s in range(rounds) if (folder / f"seed{s}" / "images.pt").is_file()]
        return folder, found

    @staticmethod
    def _lr(syn_lr: Any) -> float | None:
        if syn_lr is None:
            return None
        if isinstance(syn_lr, torch.Tensor):
            if syn_lr.numel() != 1:
                raise DDRError(f"syn_lr: expected one number, got a tensor of shape {tuple(syn_lr.shape)}")
            syn_lr = syn_lr.detach().cpu().item()
        if isinstance(syn_lr, bool) or not isinstance(syn_lr, (int, float)) or not syn_lr > 0 \
                or syn_lr != syn_lr or syn_lr == float("inf"):
            raise DDRError(f"syn_lr: expected a positive learning rate, got {syn_lr!r}")
        return float(syn_lr)

    # -- one evaluation -------------------------------------------------------------------------------

    def _run(self, image_tensor: Any, image_path: Any, labels: Any, syn_lr: Any, weight: Any,
             weight_key: str, labels_key: str) -> dict[str, float]:
        from ddr.eval.api import evaluate

        if (image_tensor is None) == (image_path is None):
            raise DDRError("image_tensor / image_path: give exactly one of them")
        if image_tensor is not None and not isinstance(image_tensor, torch.Tensor):
            raise DDRError(f"image_tensor: expected a tensor, got {type(image_tensor).__name__}")
        if labels is not None and not isinstance(labels, torch.Tensor):
            raise DDRError(f"{labels_key}: expected a tensor, got {type(labels).__name__}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 <= weight <= 1.0:
            raise DDRError(f"{weight_key}: expected a number in [0, 1], got {weight!r}")
        lr = self._lr(syn_lr)
        raw = named(self.mapped)
        csv_path = self._csv_path()
        out = csv_path.parent / f"{self.mapped.kind}-{self.mapped.label}"
        random_dir, random = self._random_folders(raw["rounds"])
        scratch = Path(tempfile.mkdtemp(prefix="ddr-ddranking-"))
        try:
            proto_file = write_text_atomic(scratch / "protocol.yaml", yaml.safe_dump(raw, sort_keys=False))
            method = Path(image_path).name if image_path is not None else None
            result = evaluate(
                self.mapped.kind, distilled=image_tensor if image_tensor is not None else str(image_path),
                dataset=self.dataset, ipc=self.ipc, protocol=str(proto_file), weight=float(weight), root=self.root,
                labels=labels, lr=lr, method=method, device=self.device, out=out, random=random or None,
                label=self.mapped.label, teachers=self.teachers, edition=self.edition,
                tags={"ddr.compat": COMPAT_TAG, "ddr.compat.evaluator": type(self).__name__})
            shutil.copyfile(proto_file, out / "protocol.yaml")  # the protocol beside the result it produced
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if random_dir is not None:
            self._write_random(random_dir, result)
        scores = ddranking_dict(result)
        write_csv(result, csv_path)
        self.result, self.result_path = result, (out / "result.json").resolve()
        print(summary(result, scores))
        return scores

    def _write_random(self, folder: Path, result: EvalResult) -> None:
        from ddr.data.distilled import write_distilled
        from ddr.data.random_baseline import random_baseline

        for entry in result.inputs["random"]:
            target = folder / f"seed{int(entry['seed'])}"
            if not (target / "images.pt").is_file():
                write_distilled(target, random_baseline(self.data, self.ipc, int(entry["seed"])), overwrite=True)


class LabelRobustScoreHard(_Evaluator):
    """LRS with hard labels (DD-Ranking's keywords: see keys.DEFAULTS['LabelRobustScoreHard'])."""

    def compute_metrics(self, image_tensor: torch.Tensor | None = None, image_path: str | None = None,
                        hard_labels: torch.Tensor | None = None, syn_lr: float | None = None,
                        lrs_lambda: float = 0.5) -> dict[str, float]:
        return self._run(image_tensor, image_path, hard_labels, syn_lr, lrs_lambda, "lrs_lambda", "hard_labels")


class LabelRobustScoreSoft(_Evaluator):
    """LRS with soft labels, mode S (soft_labels given) or M (teachers relabel every batch)."""

    def compute_metrics(self, image_tensor: torch.Tensor | None = None, image_path: str | None = None,
                        soft_labels: torch.Tensor | None = None, syn_lr: float | None = None,
                        lrs_lambda: float = 0.5) -> dict[str, float]:
        return self._run(image_tensor, image_path, _soft(self, soft_labels), syn_lr, lrs_lambda, "lrs_lambda",
                         "soft_labels")


class AugmentationRobustScore(_Evaluator):
    """ARS, hard (label_type 'hard') or soft labels."""

    def compute_metrics(self, image_tensor: torch.Tensor | None = None, image_path: str | None = None,
                        soft_labels: torch.Tensor | None = None, syn_lr: float | None = None,
                        ars_lambda: float = 0.5) -> dict[str, float]:
        return self._run(image_tensor, image_path, _soft(self, soft_labels), syn_lr, ars_lambda, "ars_lambda",
                         "soft_labels")


class GeneralEvaluator(_Evaluator):
    """Plain test accuracy (acc_mean, acc_std in percent); non-functional in DD-Ranking 0.2.0 (defect 6.1.7)."""

    def compute_metrics(self, image_tensor: torch.Tensor | None = None, image_path: str | None = None,
                        labels: torch.Tensor | None = None, syn_lr: float | None = None) -> dict[str, float]:
        if self.mapped.label == "soft":
            labels = _soft(self, labels, key="labels")
        return self._run(image_tensor, image_path, labels, syn_lr, 0.5, "weight", "labels")


def _collect(name: str, config: Config | dict | None, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the settings given, every setting with the defaults filled in) from a Config or keyword arguments."""
    defaults = {**DEFAULTS[name], **EXTENSIONS}
    if config is not None and kwargs:
        raise DDRError(f"{name}: pass a config or keyword arguments, not both (DD-Ranking ignored the keywords "
                       f"given with a config: '{next(iter(kwargs))}')")
    if isinstance(config, dict):
        config = Config(config)
    if config is not None and not isinstance(config, Config):
        raise DDRError(f"{name}: config must be a Config, got {type(config).__name__}")
    given = {k: config.get(k) for k in config.keys()} if config is not None else dict(kwargs)
    unknown = [k for k in kwargs if k not in defaults]  # a Config's keys are the mapping's to judge
    if unknown:
        raise DDRError(f"{unknown[0]}: not a {name} keyword in DD-Ranking 0.2.0 (valid: {', '.join(defaults)})")
    return given, {**defaults, **given}


def _soft(ev: _Evaluator, labels: Any, key: str = "soft_labels") -> Any:
    """Soft labels are the set's targets in mode S only: mode M relabels every batch with the teachers."""
    if labels is None or ev.mapped.label == "hard":
        if labels is not None:
            raise DDRError(f"{key}: label_type 'hard' trains on the class-major hard labels; soft labels unused")
        return None
    if ev.mapped.protocol["soft"]["mode"] == "M":
        raise DDRError(f"{key}: soft_label_mode 'M' relabels every batch with the teachers; pass soft labels "
                       "only in mode 'S'")
    return labels

"""Teachers for soft-label evaluations: a user's checkpoints, or ddr-trained ones cached by their recipe."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.kernel.atomic import atomic_folder
from ddr.kernel.digests import sha256_file
from ddr.protocols import Protocol, TeacherSpec
from ddr.seeds import derive_seed
from ddr.teacher_nets import TeacherEnsemble, load_teacher, state_digest, train_teacher
from ddr.train.cache import training_key
from ddr.train.engine import accuracy


def teacher_seed(data: RealData, spec: TeacherSpec, index: int) -> int:
    return derive_seed(dataset=data.name, role="teacher", index=index, teacher=spec.as_dict())


def write_teacher(out: Path, net: torch.nn.Module, meta: dict[str, Any]) -> Path:
    """ckpt.pt (plain state dict, loadable with weights_only=True) and meta.json, written atomically."""
    with atomic_folder(out) as tmp:
        torch.save(net.state_dict(), tmp / "ckpt.pt")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return out


def make_teacher(data: RealData, spec: TeacherSpec, index: int, device) -> tuple[torch.nn.Module, dict[str, Any]]:
    seed = teacher_seed(data, spec, index)
    net, res = train_teacher(spec, data, seed, device)
    meta = {"dataset": data.name, "dataset_sha256": data.digest, **spec.as_dict(), "seed": seed,
            "test_acc": res.best_acc, "best_epoch": res.best_epoch, "sha256": state_digest(net)}
    return net, meta


def _checkpoint(path: Path) -> Path:
    return path / "ckpt.pt" if path.is_dir() else path


def provide_teachers(protocol: Protocol, data: RealData, device: torch.device, cache_root: Path | None,
                     paths: list[str] | None = None) -> tuple[TeacherEnsemble, list[dict[str, Any]]]:
    """The protocol's teacher ensemble. With `paths`, one checkpoint per protocol teacher (refused if it
    does not fit); otherwise each teacher is trained on the real data once and cached by its recipe."""
    assert protocol.soft is not None
    specs = protocol.soft.teachers
    if paths and len(paths) != len(specs):
        raise DDRError(f"protocol {protocol.name} has {len(specs)} teacher(s); {len(paths)} checkpoint(s) given")
    nets, infos = [], []
    for i, spec in enumerate(specs):
        if paths:
            ckpt = _checkpoint(Path(paths[i]))
            if not ckpt.is_file():
                raise DDRError(f"no such teacher checkpoint: {ckpt}")
            net = load_teacher(ckpt, spec.model, data.channels, data.num_classes, data.im_size, spec.model_args)
            info = {"model": spec.model, "path": str(ckpt), "sha256": state_digest(net),
                    "file_sha256": sha256_file(ckpt), "trained_by": "user",
                    "test_acc": accuracy(net, data.x_test, data.y_test)}
        else:
            key = training_key({"teacher": spec.as_dict(), "data": data.digest, "seed": teacher_seed(data, spec, i),
                                "device": device.type})
            folder = cache_root / "teachers" / key if cache_root is not None else None
            if folder is not None and (folder / "ckpt.pt").is_file():
                net = load_teacher(folder / "ckpt.pt", spec.model, data.channels, data.num_classes, data.im_size,
                                   spec.model_args)
                meta = json.loads((folder / "meta.json").read_text())
            else:
                net, meta = make_teacher(data, spec, i, device)
                if folder is not None:
                    write_teacher(folder, net, meta)
            info = {"model": spec.model, "path": str(folder / "ckpt.pt") if folder else None, "sha256": meta["sha256"],
                    "test_acc": meta["test_acc"], "seed": meta["seed"], "trained_by": "ddr"}
        nets.append(net)
        infos.append(info)
    return TeacherEnsemble(nets).to(device), infos


def self_trained_warning(infos: list[dict[str, Any]]) -> str | None:
    """One line when any teacher was trained by ddr rather than given as a checkpoint, else None."""
    own = [f"{i['model']} (test acc {i['test_acc']:.4f})" for i in infos if i.get("trained_by") == "ddr"]
    if not own:
        return None
    return (f"warning: soft labels from teacher(s) ddr trained itself: {', '.join(own)}; DD-Ranking used given "
            f"checkpoints, pass yours with --teacher to compare with its leaderboard")

"""ImageNet end to end on a folder written here (224 px and larger JPEGs, three classes), under a memory cap
smaller than the data, so the training split is streamed from its files: LRS-hard (the same numbers as the
resident path; the real reference from a checkpoint), LRS-soft mode M with a local torchvision weight file as
teacher, and ARS, whose random side crops from the original files (a versioned random baseline's files.json,
refused once an original changed). Test-sized protocols: ConvNet-2 at 224 px, two epochs."""
import json

import pytest
import torch
import torchvision
from PIL import Image

import ddr
from ddr.data import DistilledSet, load_dataset, write_distilled
from ddr.data.streaming import StreamedData
from ddr.kernel.digests import json_sha256, sha256_file
from ddr.models import build_model
from tests.ddr.test_streaming import image_folder

CAP = 2_000_000  # bytes: the folder needs 16.3 MB as float32, its test split 0.9 MB as uint8
HARD = """name: tiny-in-lrs
version: 1
dataset: imagenet1k
label: hard
model: ConvNet-2
model_args: {width: 8}
train: {optimizer: sgd, momentum: 0.9, scheduler: constant, epochs: 2, batch_size: 8, test_interval: 1}
lr_grid: [0.01]
real: {optimizer: sgd, lr: 0.01, scheduler: constant, epochs: 2, batch_size: 8, test_interval: 1}
rounds: 1
seed_base: 0
weight: 0.5
"""
SOFT = """name: tiny-in-soft
version: 1
include: tiny-in-lrs.yaml
label: soft
train:
  loss: kl
  loss_args: {temperature: 4.0}
  augmentation:
    name: sequence
    ops:
      - {name: rrc, scale: [0.08, 1.0]}
      - {name: hflip, p: 0.5}
      - {name: cutmix, beta: 1.0}
soft:
  mode: M
  teachers:
    - model: shufflenet_v2_x0_5-tv
      train: {optimizer: sgd, lr: 0.1, scheduler: constant, epochs: 1, batch_size: 8, test_interval: 1}
"""


@pytest.fixture
def imagenet(project, monkeypatch):
    root = image_folder(project / "imagenet", classes=3, train=6, val=2, seed=1)
    (project / "tiny-in-lrs.yaml").write_text(HARD)
    (project / "tiny-in-soft.yaml").write_text(SOFT)
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", str(CAP))
    monkeypatch.setenv("DDR_DATA_WORKERS", "1")
    load_dataset.cache_clear()
    data = load_dataset("imagenet1k", str(root))
    assert isinstance(data, StreamedData) and 4 * (18 + 6) * 3 * 224 * 224 > CAP
    torch.manual_seed(0)
    syn = DistilledSet(torch.randn(6, 3, 224, 224), torch.arange(3).repeat_interleave(2), None, {"method": "noise"})
    write_distilled(project / "syn", syn)
    yield root, data
    load_dataset.cache_clear()


def run(kind, root, protocol, **kw):
    return ddr.evaluate(kind, distilled="syn", dataset="imagenet1k", ipc=2, protocol=protocol, root=str(root),
                        track=False, **kw)


def test_lrs_hard_streamed_equals_resident_and_takes_a_real_checkpoint(imagenet, project, monkeypatch, ddr_cli):
    root, data = imagenet
    streamed = run("lrs", root, "tiny-in-lrs.yaml")
    assert streamed.inputs["dataset"]["sha256"] == data.digest  # the streamed data's identity (its files)
    assert [t["role"] for t in streamed.trainings] == ["real", "syn", "random"]
    monkeypatch.delenv("DDR_MAX_DATA_BYTES")
    load_dataset.cache_clear()
    resident = run("lrs", root, "tiny-in-lrs.yaml", cache_dir=project / "cache-resident")
    load_dataset.cache_clear()
    assert resident.inputs["dataset"]["sha256"] != data.digest  # really the other path (tensor digest)
    assert resident.accuracies == streamed.accuracies and resident.metrics == streamed.metrics
    for a, b in zip(resident.trainings, streamed.trainings):
        assert a["history"] == b["history"], a["role"]

    # Acc(real) from a given checkpoint instead of a training: its test accuracy, recorded by sha256
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", str(CAP))
    torch.manual_seed(5)
    net = build_model("ConvNet-2", 3, 3, (224, 224), width=8)
    torch.save(net.state_dict(), project / "real.pth")
    code, out, err = ddr_cli("eval", "lrs", "--distilled", "syn", "--dataset", "imagenet1k", "--ipc", "2",
                             "--root", str(root), "--protocol", "tiny-in-lrs.yaml", "--no-mlflow",
                             "--real-checkpoint", str(project / "real.pth"), "--out", "res-ckpt")
    assert code == 0, err
    res = json.loads((project / "res-ckpt" / "result.json").read_text())
    assert res["inputs"]["real_checkpoint"] == {"path": str(project / "real.pth"),
                                                "sha256": sha256_file(project / "real.pth")}
    expected = (net.eval()(data.x_test[:]).argmax(1) == data.y_test).float().mean().item()
    assert res["accuracies"]["real"] == pytest.approx(expected)
    (real,) = [t for t in res["trainings"] if t["role"] == "real"]
    assert real["checkpoint"]["sha256"] == sha256_file(project / "real.pth")
    assert res["accuracies"]["syn"] == streamed.accuracies["syn"]  # the rest of the evaluation is unchanged

    code, out, err = ddr_cli("eval", "lrs", "--distilled", "syn", "--dataset", "imagenet1k", "--ipc", "2",
                             "--root", str(root), "--protocol", "tiny-in-lrs.yaml", "--no-mlflow",
                             "--real-checkpoint", str(project / "missing.pth"))
    assert code == 2 and "no such checkpoint file" in err


def test_lrs_soft_mode_m_and_ars_with_a_torchvision_weight_file(imagenet, project, ddr_cli):
    root, data = imagenet
    torch.manual_seed(7)
    teacher = torchvision.models.shufflenet_v2_x0_5(weights=None, num_classes=3)  # random init, as a user's file
    torch.save(teacher.state_dict(), project / "shufflenet_v2_x0_5.pth")
    sha = sha256_file(project / "shufflenet_v2_x0_5.pth")

    soft = run("lrs", root, "tiny-in-soft.yaml", teachers=[str(project / "shufflenet_v2_x0_5.pth")])
    roles = list(dict.fromkeys(t["role"] for t in soft.trainings))  # Acc(syn, hard) searches its own LR grid
    assert roles == ["real", "syn_hard", "syn", "random"]
    (info,) = soft.inputs["teachers"]
    assert info["trained_by"] == "user" and info["file_sha256"] == sha
    assert soft.inputs["dataset"]["sha256"] == data.digest
    for name in ("hlr", "ior", "lrs"):
        assert soft.metrics[name]["mean"] == soft.metrics[name]["mean"]  # finite, not NaN

    # the random side crops from the original files (the protocol's RRC + flip per image), the rest from tensors
    assert {t["role"] for t in soft.trainings if t.get("originals")} == {"random"}

    # ARS from a versioned random baseline: `ddr data random` lists the originals it trains from
    code, out, err = ddr_cli("data", "random", "--dataset", "imagenet1k", "--root", str(root), "--ipc", "2",
                             "--seed", "0", "--out", "rb")
    assert code == 0, err
    files = json.loads((project / "rb" / "files.json").read_text())
    ars = run("ars", root, "tiny-in-soft.yaml", teachers=[str(project / "shufflenet_v2_x0_5.pth")], random=["rb"])
    assert sorted(ars.accuracies) == ["random_aug", "random_noaug", "syn_aug", "syn_noaug"]
    assert ars.inputs["teachers"][0]["file_sha256"] == sha
    assert 0.0 <= ars.metrics["ars"]["mean"] <= 1.0
    assert {t["role"] for t in ars.trainings if t.get("originals")} == {"random_aug"}  # no-aug: the tensors
    # round 0 is seed 0's draw from the streamed training files, whether drawn or read from the folder
    rnd = ars.inputs["random"][0]
    assert rnd["seed"] == 0 and rnd["path"] == "rb"
    assert rnd["files_sha256"] == soft.inputs["random"][0]["files_sha256"] == json_sha256(files)
    assert rnd["indices_sha256"] == soft.inputs["random"][0]["indices_sha256"]

    # a changed original: one line, exit status 2, before any training
    Image.new("RGB", (260, 240), (200, 10, 10)).save(root / files[0]["path"], format="JPEG")
    load_dataset.cache_clear()
    code, out, err = ddr_cli("eval", "ars", "--distilled", "syn", "--dataset", "imagenet1k", "--ipc", "2",
                             "--root", str(root), "--protocol", "tiny-in-soft.yaml", "--no-mlflow", "--random", "rb",
                             "--teacher", str(project / "shufflenet_v2_x0_5.pth"))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"original {files[0]['path']} has sha256" in err and "changed after the baseline was written" in err


@pytest.mark.slow
def test_a_ddp_protocol_trains_the_real_reference_data_parallel_from_the_streamed_files(imagenet, project,
                                                                                        monkeypatch):
    root, data = imagenet
    (project / "tiny-in-ddp.yaml").write_text(HARD.replace("name: tiny-in-lrs", "name: tiny-in-ddp") + "ddp: true\n")
    plain = run("lrs", root, "tiny-in-lrs.yaml")
    monkeypatch.setenv("DDR_DDP_PROCS", "2")  # two gloo processes stand in for two GPUs
    ddp = run("lrs", root, "tiny-in-ddp.yaml")
    real = [t for t in ddp.trainings if t["role"] == "real"][0]
    assert real["engine"] == "ddp2" and real["world_size"] == 2
    assert [e for e, _ in real["history"]] == [1, 2]
    # the same seed (the real reference's ignores the protocol name), the same batches, sums in another order
    for (_, a), (_, b) in zip(real["history"], plain.trainings[0]["history"]):
        assert a == pytest.approx(b, abs=0.2)  # within one of the six test images
    assert [t.get("engine") for t in ddp.trainings[1:]] == [None, None]  # the small trainings stay on one device

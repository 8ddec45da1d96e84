"""The ddranking-0.2 edition's JPEG random baselines (rule jpeg-random-baselines, reference 2.5): with
random_data_format image, DD-Ranking 0.2.0 wrote a CIFAR random subset as JPEG files and trained on their
decodings. On the digits written as a CIFAR-10 folder, a real evaluation under the edition trains the random
side on those round trips; the ddr edition and tensor-format protocols train the data set's tensors."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ddr.data.digits_cifar import write_digits_cifar
from ddr.data.jpeg_round_trip import jpeg_round_trip
from ddr.data.random_baseline import random_baseline
from ddr.data.real import load_dataset
from ddr.eval.api import run_evaluation
from ddr.eval.plan import PlanInputs, TrainingSpec, complete, data_id
from ddr.eval.request import EvalRequest
from ddr.eval.training_sets import TrainingSets
from ddr.protocols import load_protocol
from ddr.protocols.editions import RULES, edition_of
from ddr.train.engine import train_student

TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "tiny-lrs.yaml")
IPC = 2


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits-cifar")
    write_digits_cifar(root)
    return str(root), load_dataset("cifar10", str(root))


def _protocol(fmt: str | None = "image"):
    # a CPU-sized CIFAR recipe: a narrow ConvNet-3, 4 epochs, one round, one LR
    p = load_protocol(TINY)
    return dataclasses.replace(p, dataset="cifar10", model="ConvNet-3", model_args={"width": 8}, rounds=1,
                               lr_grid=(0.05,), random_data_format=fmt,
                               train=dataclasses.replace(p.train, epochs=4, step_size=2, test_interval=2))


def test_the_round_trip_is_torchvisions_save_image_read_back_as_imagefolder_does(cifar, tmp_path):
    from torchvision.utils import save_image

    _, data = cifar
    images = random_baseline(data, IPC, 3).images
    got = jpeg_round_trip(images, data)
    assert got.shape == images.shape and got.dtype == images.dtype
    back = []
    for i, x in enumerate(images):  # DD-Ranking: de-normalise, clamp, save_image(..., "k.jpg"), ImageFolder
        save_image(data.denormalise(x[None]).clamp(0, 1)[0], tmp_path / f"{i:05d}.jpg")
        with Image.open(tmp_path / f"{i:05d}.jpg") as img:
            back.append(np.transpose(np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0, (2, 0, 1)))
    assert torch.equal(got, data.normalise(torch.from_numpy(np.stack(back))))
    err = (data.denormalise(got) - data.denormalise(images)).abs()
    assert 0 < err.mean() < 0.1 and err.max() > 1 / 255  # lossy, and not a rounding of the same pixels


def test_the_rule_applies_to_image_format_cifar_protocols_only():
    rule = RULES["jpeg-random-baselines"]
    assert rule.apply(_protocol("image")) == {"random_jpeg": True}
    assert rule.apply(_protocol("tensor")) == {}  # tensor format: the preprocessed tensors, as ddr
    assert rule.apply(_protocol(None)) == {}  # a hard-label protocol: DD-Ranking's configs chose tensor
    assert rule.apply(dataclasses.replace(_protocol("image"), dataset="digits")) == {}  # copied the originals
    assert edition_of(_protocol("image"), "ddr").random_jpeg is False
    assert edition_of(_protocol("image"), "leaderboard-2025-02").random_jpeg is False
    q = edition_of(_protocol("tensor"), "ddranking-0.2")
    assert q.random_jpeg is False and "random_jpeg" not in q.edition_changes


def _random_set(proto, data):
    sets = TrainingSets(protocol=proto, data=data, ipc=IPC, device=torch.device("cpu"))
    spec = TrainingSpec(role="random", round=0, lr=0.05, seed=7, recipe=proto.train, data="random", labels="hard",
                        group="random/0", data_id=data_id("random", 0, "hard", proto.train))
    ts = sets.get(spec)
    inputs = PlanInputs(dataset=data.name, ipc=IPC, rounds=1, digests={spec.data_id: ts.digest}, data=data.digest)
    return ts, complete(spec, proto, inputs).key_inputs, sets.random_inputs([0])[0]


def test_the_jpeg_set_has_its_own_digest_and_cache_key(cifar):
    _, data = cifar
    proto = _protocol("image")
    draw = random_baseline(data, IPC, proto.seed_base).images
    ours, our_key, our_info = _random_set(proto, data)
    theirs, their_key, their_info = _random_set(dataclasses.replace(proto, random_jpeg=True), data)
    assert torch.equal(ours.x, draw) and torch.equal(theirs.x, jpeg_round_trip(draw, data))
    assert ours.digest != theirs.digest and torch.equal(ours.y, theirs.y)
    assert {k for k in our_key if our_key[k] != their_key[k]} == {"train_data"}  # the same training otherwise
    assert their_info == {**our_info, "jpeg": True}


def test_an_evaluation_under_the_edition_trains_the_random_side_on_jpeg_round_trips(cifar, tmp_path):
    root, data = cifar
    draw = random_baseline(data, IPC, 0).images
    jpeg = jpeg_round_trip(draw, data)
    distilled = random_baseline(data, IPC, 99).images  # the "distilled" set: another draw, never re-encoded
    seen: dict[str, list[torch.Tensor]] = {}

    def evaluate(edition: str):
        xs = seen.setdefault(edition, [])

        def trainer(**kw):
            if len(kw["x"]) == len(draw):  # the synthetic and random sides (the real reference is larger)
                xs.append(kw["x"].detach().cpu().clone())
            return train_student(**kw)
        request = EvalRequest("lrs", distilled=distilled, dataset="cifar10", root=root, ipc=IPC,
                              protocol=_protocol("image"), method="mine", track=False, use_cache=False,
                              out=str(tmp_path / edition), device="cpu", edition=edition)
        return run_evaluation(request, trainer=trainer)

    theirs, ours = evaluate("ddranking-0.2"), evaluate("ddr")

    def trained_on(edition: str, x: torch.Tensor) -> bool:
        return any(torch.equal(s, x) for s in seen[edition])
    assert trained_on("ddranking-0.2", jpeg) and not trained_on("ddranking-0.2", draw)
    assert trained_on("ddr", draw) and not trained_on("ddr", jpeg)
    assert trained_on("ddranking-0.2", distilled) and trained_on("ddr", distilled)  # the synthetic side as given
    assert theirs.protocol["edition_changes"]["random_jpeg"] == [False, True]
    assert theirs.inputs["random"][0]["jpeg"] is True and "jpeg" not in ours.inputs["random"][0]
    assert theirs.inputs["random"][0]["indices_sha256"] == ours.inputs["random"][0]["indices_sha256"]  # one draw

"""The DD-Ranking side of the conformance check. Runs in the authors' environment (.ddranking-venv, made by
tools/ddranking-env.sh), never in ddr's: `python ddranking_side.py SPEC.json` prints one JSON line.

Every training goes through DD-Ranking 0.2.0's own code: its data set loader (`get_dataset` on a
CIFAR-10 python-pickle folder), `set_seed`, its ConvNet (its `build_model` at width 128, its ConvNet class
at other widths, since `get_convnet` fixes the width), `get_optimizer`, `get_lr_scheduler`,
`train_one_epoch`, `validate`, its DSA and its KL loss, with the loaders its evaluators build
(RandomSampler over a TensorDataset of stacked dataset items, or over the data set itself for the
real reference). Two changes only, both outside the training path:
- torchvision's md5 checks of the CIFAR folder are switched off (the folder is written by the test);
- sampler "paired" replaces the training loader's RandomSampler by one torch.randperm per epoch from a
  generator seeded with the run's seed, the batch order ddr's engine draws; "native" keeps DD-Ranking's
  RandomSampler (seeded from the global RNG at every epoch).
"""
import contextlib
import hashlib
import io
import json
import sys
import time

import torch
import torchvision.datasets.cifar
from ddranking.aug import DSA
from ddranking.loss import KLDivergenceLoss
from ddranking.utils.data import get_dataset
from ddranking.utils.misc import set_seed
from ddranking.utils.model import build_model
from ddranking.utils.networks import ConvNet
from ddranking.utils.train_and_eval import (
    get_lr_scheduler,
    get_optimizer,
    train_one_epoch,
    validate,
)
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

# the test writes its own folder, which no md5 in torchvision's list fits: the CIFAR module's checks only
torchvision.datasets.cifar.CIFAR10._check_integrity = lambda self: True
torchvision.datasets.cifar.check_integrity = lambda *args, **kwargs: True  # batches.meta


def sha256(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def state_sha256(net: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in sorted(net.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class PermutationSampler(torch.utils.data.Sampler):
    """One torch.randperm per epoch from a generator seeded with the run's seed: ddr's batch order.
    (torch's RandomSampler with a generator draws a second, empty-sliced randperm at the end of every
    epoch, so its epoch e uses the generator's permutation 2e, not e.)"""

    def __init__(self, n: int, seed: int):
        self.n, self.gen = n, torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        yield from torch.randperm(self.n, generator=self.gen).tolist()


def convnet(width: int, num_classes: int) -> torch.nn.Module:
    if width == 128:  # DD-Ranking's own builder (its ConvNet width is fixed at 128)
        return build_model("ConvNet-3", num_classes=num_classes, im_size=(32, 32), device="cpu")
    return ConvNet(channel=3, num_classes=num_classes, net_width=width, net_depth=3, net_act="relu",
                   net_norm="instancenorm", net_pooling="avgpooling", im_size=(32, 32))


def run(spec: dict, data: tuple, teachers: dict) -> dict:
    num_classes, dst_train, dst_test = data[4], data[5], data[6]  # get_dataset's 10-tuple
    if spec["train"] == "all":  # the real reference: the data set itself, per-item transforms
        dataset, x_train = dst_train, None
    else:
        idx = spec["train"]
        x_train = torch.stack([dst_train[i][0] for i in idx])  # as DD-Ranking stacks its tensor baselines
        dataset = TensorDataset(x_train, torch.tensor([dst_train.targets[i] for i in idx], dtype=torch.long))
    set_seed(spec["seed"])
    net = convnet(spec["width"], num_classes)
    paired = spec["sampler"] == "paired"
    sampler = PermutationSampler(len(dataset), spec["seed"]) if paired else RandomSampler(dataset)
    loader = DataLoader(dataset, batch_size=spec["batch_size"], num_workers=0, sampler=sampler)
    test_loader = DataLoader(dst_test, batch_size=len(dst_test), num_workers=0, sampler=RandomSampler(dst_test))
    opt = get_optimizer("sgd", net, spec["lr"], spec.get("weight_decay", 5e-4), spec.get("momentum", 0.9))
    sched = get_lr_scheduler("step", opt, spec["epochs"], spec["step_size"])
    aug = DSA(spec["dsa"]) if spec.get("dsa") else None
    tea, mode, loss_fn = None, "S", torch.nn.CrossEntropyLoss()
    if spec.get("teacher"):
        tea, mode = [teachers[spec["teacher"]]], "M"
        loss_fn = KLDivergenceLoss(temperature=spec["temperature"])
    history, start = [], time.perf_counter()
    for epoch in range(spec["epochs"]):
        train_one_epoch(epoch, net, loader, loss_fn, opt, soft_label_mode=mode, aug_func=aug, tea_models=tea,
                        lr_scheduler=sched, class_map=None, device="cpu")
        if (epoch + 1) % spec["test_interval"] == 0:
            history.append([epoch + 1, validate(net, test_loader, device="cpu")])
    out = {"name": spec["name"], "seed": spec["seed"], "history": history,
           "best_acc": max(a for _, a in history) / 100.0, "seconds": time.perf_counter() - start,
           "state_sha256": state_sha256(net), "test_correct": [round(a * len(dst_test) / 100) for _, a in history]}
    if x_train is not None:
        out["train_sha256"] = sha256(x_train)
    return out


def main() -> None:
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(1)
    with contextlib.redirect_stdout(io.StringIO()):  # DD-Ranking prints progress; the JSON goes out alone
        data = get_dataset("CIFAR10", job["root"], (32, 32), False, None, "cpu")
        teachers = {}
        for name, t in job.get("teachers", {}).items():
            net = convnet(t["width"], data[4])
            net.load_state_dict(torch.load(t["path"], map_location="cpu", weights_only=True))
            teachers[name] = net.eval()
        x_test = torch.stack([data[6][i][0] for i in range(len(data[6]))])
        results = [run(spec, data, teachers) for spec in job["runs"]]
    print(json.dumps({"test_sha256": sha256(x_test), "numpy": __import__("numpy").__version__,
                      "ddranking": __import__("importlib.metadata").metadata.version("ddranking"),
                      "runs": results}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Engine benchmark: a DD-Ranking-style reference loop against ddr's engines, in one process.

    python benchmarks/bench_engine.py --device cpu  --mode digits     --full   # this machine
    python benchmarks/bench_engine.py --device cuda --mode cifar-cell --full   # a GPU (random CIFAR-shaped data)
    python benchmarks/bench_engine.py --device cuda --mode cifar-cell --full --cifar-root /data/cifar10

Part 1, the canonical cell: one student trained `--seeds` times (seeds 0..S-1, one LR) by
  (ref)      a DD-Ranking-style loop (reference 2.1): per-image Dataset of uint8 HWC arrays with a
             per-image PIL -> tensor -> Normalize transform for the test set (and for real training
             data), a TensorDataset for the synthetic set, DataLoader + RandomSampler (seeded),
             `--ref-workers` worker processes (DD-Ranking: 4), per-epoch scheduler, percent accuracy
             averaged over batches weighted by batch size, test every `test_interval` epochs;
  (engines)  ddr's engines: `plain` (train_student, one after another), `batched` (all seeds at once) and
             `compiled` (train_student with the student torch.compile'd, ddr.train.compiled), optionally
             with +bf16 / +cl / +compile.

`--steps N` adds the training step alone: seconds per step after warm-up for eager, compiled and the
reference loop (its DataLoader included), alternating over `--repeats`, and the compile time on a cold
Inductor disk cache, again from the warm one in this process and in a new process:

    python benchmarks/bench_engine.py --device cpu --mode digits --ref-workers 0 --repeats 3 --seeds 3 \
        --variants plain,compiled --steps 30
Every path draws the same initialisation (torch.manual_seed(seed) + build_model) and the same batch
order (RandomSampler / randperm with a Generator seeded by `seed`), so on CPU the reference loop and the
plain engine compute the same numbers; the table reports each engine's best-accuracy difference to the
reference (mean and max over the seeds, percentage points).

Part 2 (`--full`): one full LRS-hard evaluation through ddr.evaluate's core, `run_evaluation` (real
reference + rounds x 2 sides x LR grid), once per engine and once with the reference loop as its trainer
(same protocol, same seeds), no cache, no MLflow; the cell's data set is passed in, not registered. Digits uses the shipped digits-lrs-hard protocol; cifar-cell a protocol with
the cell's recipe (its real reference trains `--real-epochs` epochs on the CIFAR-shaped training split).

Peak memory: on CUDA torch.cuda.max_memory_allocated per phase; on CPU the peak resident set size of
this process during the phase (sampled every 2 ms; DataLoader worker processes are not included).
`--append` appends the markdown block to benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# ----------------------------------------------------------------------------------------------------------
# measurement helpers

class Peak:
    """Peak memory during a `with` block: CUDA allocator peak, or this process's RSS on a CPU."""

    def __init__(self, device):
        self.device, self.peak, self._stop = device, 0, threading.Event()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.002)

    def __enter__(self):
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        else:
            self.peak = self._rss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self._rss())

    @property
    def mib(self) -> float:
        return self.peak / 2**20


def sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


# ----------------------------------------------------------------------------------------------------------
# the DD-Ranking-style reference loop

class PerImageDataset:
    """uint8 H x W x C images with a per-image transform (PIL image -> tensor / scale -> Normalize), the
    way a torchvision data set with transforms.Compose([ToTensor(), Normalize(mean, std)]) works."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, scale: float, mean, std):
        import torch

        self.images, self.labels, self.scale = images, labels, scale
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import torch
        from PIL import Image

        img = self.images[i]
        pil = Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img)  # what a torchvision data set returns
        arr = np.asarray(pil, dtype=np.uint8)
        arr = arr[:, :, None] if arr.ndim == 2 else arr
        t = torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(self.scale)  # ToTensor (scale 255)
        return (t - self.mean) / self.std, int(self.labels[i])  # Normalize


class TensorPairs:
    """DD-Ranking's TensorDataset for a synthetic set: per-index access, default collate."""

    def __init__(self, x, y):
        self.x, self.y = x.cpu(), y.cpu()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def _epoch_sampler(dataset, gen):
    """RandomSampler drawing one permutation per epoch. torch's RandomSampler draws a second, discarded
    permutation at the end of every epoch (torch/utils/data/sampler.py, RandomSampler.__iter__, the
    `[: num_samples % n]` line), so its epoch e uses the generator's permutation 2e; with this sampler the
    reference loop visits the batches in the plain engine's order and computes the same numbers on a CPU.
    The per-item work (sampler, fetch, transform, collate) is RandomSampler's."""
    import torch
    from torch.utils.data import RandomSampler

    class OncePerEpoch(RandomSampler):
        def __iter__(self):
            yield from torch.randperm(len(self.data_source), generator=self.generator).tolist()

    return OncePerEpoch(dataset, generator=gen)


def make_reference_trainer(raw: dict, workers: int, test_batch: int):
    """A function with train_student's signature that trains like DD-Ranking's train_one_epoch/validate."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, RandomSampler

    from ddr.models import build_model
    from ddr.train.engine import TrainingResult, resolve_device
    from ddr.train.optim import build_optimizer, lr_factor

    test_set = PerImageDataset(raw["test_images"], raw["test_labels"], raw["scale"], raw["mean"], raw["std"])
    real_set = PerImageDataset(raw["train_images"], raw["train_labels"], raw["scale"], raw["mean"], raw["std"])
    n_real = len(real_set)

    def train(*, model, model_args, x, y, x_test, y_test, num_classes, recipe, lr, seed, device=None, **_):
        dev = resolve_device(device) if not isinstance(device, torch.device) else device
        start = time.perf_counter()
        torch.manual_seed(seed)
        net = build_model(model, x.shape[1], num_classes, tuple(x.shape[2:]), **model_args).to(dev)
        gen = torch.Generator().manual_seed(seed)
        train_set = real_set if len(x) == n_real else TensorPairs(x, y)  # real data: per-image transforms
        loader = DataLoader(train_set, batch_size=recipe.batch_size, sampler=_epoch_sampler(train_set, gen),
                            num_workers=workers)
        test_loader = DataLoader(test_set, batch_size=test_batch, sampler=RandomSampler(test_set), num_workers=workers)
        opt = build_optimizer(net, recipe, lr)
        if recipe.scheduler == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, recipe.step_size, recipe.gamma)
        else:
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(recipe, e))
        res = TrainingResult(best_acc=-1.0, best_epoch=0)
        for epoch in range(recipe.epochs):
            net.train()
            for images, targets in loader:
                images, targets = images.to(dev, non_blocking=True), targets.to(dev, non_blocking=True)
                loss = F.cross_entropy(net(images), targets)
                loss.backward()
                opt.step()
                opt.zero_grad()
            sched.step()
            done = epoch + 1
            if done % recipe.test_interval == 0 or done == recipe.epochs:
                net.eval()
                total, seen = 0.0, 0
                with torch.inference_mode():
                    for images, targets in test_loader:  # percent per batch, sample-weighted (meter.py)
                        images, targets = images.to(dev), targets.to(dev)
                        correct = (net(images).argmax(1) == targets).sum().item()
                        total += correct * 100.0 / len(targets) * len(targets)
                        seen += len(targets)
                acc = total / seen / 100.0  # back to a fraction, to compare with ddr
                res.history.append((done, acc))
                if acc > res.best_acc:
                    res.best_acc, res.best_epoch = acc, done
        res.seconds = time.perf_counter() - start
        return res

    return train


# ----------------------------------------------------------------------------------------------------------
# the cells

def build_cell(args):
    """Returns dict: data (RealData), raw arrays for the reference loop, x_syn/y_syn, recipe, lr, model,
    model_args, protocol_yaml (for --full)."""
    import torch

    from ddr.data import load_dataset, random_baseline
    from ddr.data.real import CIFAR_MEAN, CIFAR_STD
    from ddr.data.real_data import RealData, normalise_splits
    from ddr.protocols import TrainRecipe, load_protocol

    if args.mode == "digits":
        data = load_dataset("digits")
        proto = load_protocol("digits-lrs-hard")
        scale = 16.0
        syn = random_baseline(data, args.ipc, 99)
        x_syn, y_syn = syn.images, syn.labels
        recipe, model, model_args = proto.train, proto.model, proto.model_args
        protocol = "digits-lrs-hard"
        dataset = "digits"
    else:
        scale = 255.0
        if args.cifar_root:
            data = load_dataset("cifar10", args.cifar_root)
        else:  # random CIFAR-shaped tensors: uint8 pixels, normalised exactly as ddr's loaders do
            g = np.random.default_rng(0)
            n_train = args.train_size
            xtr = g.integers(0, 256, (n_train, 3, 32, 32), dtype=np.uint8)
            xte = g.integers(0, 256, (args.test_size, 3, 32, 32), dtype=np.uint8)
            ytr = np.sort(np.arange(n_train) % 10).astype(np.int64)
            yte = g.integers(0, 10, args.test_size).astype(np.int64)
            xt, xe = normalise_splits(xtr.astype(np.float32) / scale, xte.astype(np.float32) / scale, CIFAR_MEAN, CIFAR_STD)
            data = RealData("bench-cifar", xt, torch.from_numpy(ytr), xe, torch.from_numpy(yte), 10, CIFAR_MEAN,
                            CIFAR_STD, source="random uint8, numpy seed 0")
        if len(data.x_test) > args.test_size:  # a smaller test set (CPU smoke runs), under its own name
            data = RealData(data.name + "-bench", data.x_train, data.y_train, data.x_test[:args.test_size],
                            data.y_test[:args.test_size], data.num_classes, data.mean, data.std, data.source)
        g = torch.Generator().manual_seed(99)
        x_syn = torch.randn(10 * args.ipc, 3, 32, 32, generator=g)  # a CIFAR-shaped IPC-10 'distilled' set
        y_syn = torch.arange(10).repeat_interleave(args.ipc)
        recipe = TrainRecipe(epochs=args.epochs or 300, batch_size=256, optimizer="sgd", momentum=0.9,
                             weight_decay=5e-4, scheduler="step", step_size=(args.epochs or 300) // 2,
                             test_interval=20)
        model, model_args = "ConvNet-3", {"width": 128}
        dataset = data.name
        protocol = {
            "name": "bench-cifar-lrs-hard", "version": 1, "dataset": "any", "label": "hard", "model": model,
            "model_args": model_args,
            "train": {k: v for k, v in recipe.as_dict().items() if k not in ("lr", "augmentation", "loss", "loss_args", "betas")},
            "lr_grid": [0.001, 0.005, 0.01, 0.05, 0.1],
            "real": {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0005, "scheduler": "step",
                     "step_size": max(1, args.real_epochs // 2), "epochs": args.real_epochs, "batch_size": 256,
                     "test_interval": max(1, args.real_epochs)},
            "rounds": 5, "seed_base": 0, "weight": 0.5,
        }
    # raw uint8 HWC arrays whose per-image transform reproduces ddr's normalised tensors exactly
    raw = {"scale": scale, "mean": data.mean, "std": data.std}
    for part, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        u = torch.round(data.denormalise(x) * scale).clamp(0, 255).to(torch.uint8)
        raw[f"{part}_images"] = u.permute(0, 2, 3, 1).contiguous().numpy()
        raw[f"{part}_labels"] = y.numpy()
    return dict(data=data, raw=raw, x_syn=x_syn, y_syn=y_syn, recipe=recipe, lr=args.lr, model=model,
                model_args=model_args, protocol=protocol, dataset=dataset, scale=scale)


def check_transform(cell) -> float:
    """Max |reference transform(test image) - ddr's test tensor| over the first 64 test images."""
    import torch

    raw, data = cell["raw"], cell["data"]
    ds = PerImageDataset(raw["test_images"], raw["test_labels"], raw["scale"], raw["mean"], raw["std"])
    got = torch.stack([ds[i][0] for i in range(min(64, len(ds)))])
    return float((got - data.x_test[:len(got)]).abs().max())


# ----------------------------------------------------------------------------------------------------------

def _engine_options(base: str, flags: list[str]) -> dict:
    """train_student's / train_students_batched's switches for an engine name ('compiled' = plain + compile)."""
    return dict(amp="bf16" in flags, channels_last="cl" in flags, compile=base == "compiled" or "compile" in flags)


_COMPILE_ONCE = r"""
import json, sys, time
from ddr.kernel.cpu_isa import pin_cpu_isa
pin_cpu_isa()
import torch
import torch.nn.functional as F
from torch._dynamo.utils import counters
from ddr.models import build_model
from ddr.train.compiled import compiled_student, student_key
torch.set_num_threads(1)
model, args, shape, nc, bs = json.loads(sys.argv[1])
x, y = torch.randn(bs, *shape), torch.arange(bs) % nc
t0 = time.perf_counter()
net, fwd = compiled_student(build_model(model, shape[0], nc, tuple(shape[1:]), **args),
                            student_key(model, args, nc, x, torch.device("cpu"), False))
F.cross_entropy(fwd(x), y).backward()
print(json.dumps([time.perf_counter() - t0, counters["inductor"]["fxgraph_cache_hit"]]))
"""


def _compile_in_new_process(cell, x, nc: int, bs: int) -> tuple[float, int]:
    """(seconds, FX graph cache hits) of the first compiled step of the cell's student in a fresh process that
    shares this one's Inductor disk cache (CPU; imports not counted)."""
    import subprocess

    spec = json.dumps([cell["model"], cell["model_args"], [int(s) for s in x.shape[1:]], nc, bs])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _COMPILE_ONCE, spec], env=env, capture_output=True, text=True,
                          check=True)
    seconds, hits = json.loads(proc.stdout.strip().splitlines()[-1])
    return seconds, hits


def run_steps(args, cell, dev):
    """Seconds per training step after warm-up of one student on the cell's set (one batch: all of it up to
    the recipe's batch size): eager (the plain engine's step), compiled (the compiled engine's network,
    ddr.train.compiled) and the reference loop's (a DataLoader over the set, `--ref-workers` workers, one
    epoch per pass: the loop's per-step overhead included), with the compile time on a cold Inductor disk
    cache (a fresh folder) and again on the warm one after dropping the in-memory compiled code."""
    import torch
    import torch.nn.functional as F
    from torch._dynamo.utils import counters
    from torch.utils.data import DataLoader

    from ddr.models import build_model
    from ddr.train.compiled import compiled_student, inductor_cache_dir, student_key
    from ddr.train.optim import build_optimizer

    x, y, recipe, nc = cell["x_syn"].to(dev), cell["y_syn"].to(dev), cell["recipe"], cell["data"].num_classes
    bs = min(recipe.batch_size, len(x))
    xb, yb = x[:bs], y[:bs]

    def fresh():
        torch.manual_seed(0)
        return build_model(cell["model"], x.shape[1], nc, tuple(x.shape[2:]), **cell["model_args"]).to(dev)

    def stepper(net, fwd):
        opt = build_optimizer(net, recipe, cell["lr"])

        def step(images=xb, targets=yb):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(fwd(images), targets).backward()
            opt.step()
        return step

    def timed(fn, n):
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync(dev)
        return (time.perf_counter() - t0) / n

    warm, n = args.warmup_steps, args.steps
    out = {"images": len(x), "batch": bs, "steps": n, "warmup_steps": warm, "ref_workers": args.ref_workers,
           "repeats": args.repeats}
    net = fresh()
    t0 = time.perf_counter()
    net, fwd = compiled_student(net, student_key(cell["model"], cell["model_args"], nc, x, dev, False))
    compiled_step = stepper(net, fwd)
    compiled_step()  # compiles the forward and backward graphs
    sync(dev)
    out["compile_cold_s"] = time.perf_counter() - t0
    out["inductor_cache"] = str(inductor_cache_dir())

    torch._dynamo.reset()  # forget the compiled code in memory; Inductor's disk cache stays
    hits = counters["inductor"]["fxgraph_cache_hit"]
    t0 = time.perf_counter()
    compiled_step()  # compiled again, from the disk cache
    sync(dev)
    out["compile_warm_s"] = time.perf_counter() - t0
    out["warm_fxgraph_hits"] = counters["inductor"]["fxgraph_cache_hit"] - hits
    out["compile_new_process_s"], out["new_process_fxgraph_hits"] = _compile_in_new_process(cell, x, nc, bs)

    eager = fresh()
    eager_step = stepper(eager, eager)
    ref_set = TensorPairs(x, y)  # DD-Ranking's TensorDataset access for a synthetic set
    loader = DataLoader(ref_set, batch_size=recipe.batch_size,
                        sampler=_epoch_sampler(ref_set, torch.Generator().manual_seed(0)), num_workers=args.ref_workers)
    ref_net = fresh()
    ref_step = stepper(ref_net, ref_net)
    per_epoch = -(-len(x) // recipe.batch_size)

    def ref_epoch():
        for images, targets in loader:
            ref_step(images.to(dev, non_blocking=True), targets.to(dev, non_blocking=True))

    paths = {"eager": (eager_step, n, 1), "compiled": (compiled_step, n, 1),
             "ref": (ref_epoch, max(1, n // per_epoch), per_epoch)}
    for fn, reps, _ in paths.values():
        timed(fn, max(1, warm * reps // n))
    walls: dict[str, list[float]] = {k: [] for k in paths}
    for rep in range(args.repeats):  # alternating, against drift on a shared machine
        for name in (paths if rep % 2 == 0 else reversed(list(paths))):
            fn, reps, steps_per_call = paths[name]
            walls[name].append(timed(fn, reps) / steps_per_call)
    for name, w in walls.items():
        out[f"{name}_s"] = statistics.median(w)
    out["compiled_vs_eager"] = out["eager_s"] / out["compiled_s"]
    out["compiled_vs_ref"] = out["ref_s"] / out["compiled_s"]
    out["eager_vs_ref"] = out["ref_s"] / out["eager_s"]
    print(f"  steps: eager {1000 * out['eager_s']:.2f} ms, compiled {1000 * out['compiled_s']:.2f} ms, ref "
          f"{1000 * out['ref_s']:.2f} ms per step; compile {out['compile_cold_s']:.1f} s cold, "
          f"{out['compile_warm_s']:.1f} s from the disk cache ({out['warm_fxgraph_hits']} graph hits)", flush=True)
    return out


def run_cell(args, cell, dev, variants, ref_train):

    from ddr.train.batched import train_students_batched
    from ddr.train.engine import train_student

    seeds = list(range(args.seeds))
    data = cell["data"]
    kw = dict(model=cell["model"], model_args=cell["model_args"], x=cell["x_syn"].to(dev), y=cell["y_syn"].to(dev),
              x_test=data.x_test.to(dev), y_test=data.y_test.to(dev), num_classes=data.num_classes,
              recipe=cell["recipe"], device=dev)
    rows = {}
    # warm-up (allocator, kernels, compile) outside the timings: one short training per path
    import dataclasses

    short = dataclasses.replace(cell["recipe"], epochs=min(2, cell["recipe"].epochs), test_interval=1)
    ref_train(**{**kw, "recipe": short}, lr=cell["lr"], seed=0)
    for v in variants:
        base, *flags = v.split("+")
        opts = _engine_options(base, flags)
        if base in ("plain", "compiled"):
            train_student(**{**kw, "recipe": short}, lr=cell["lr"], seed=0, **opts)
        else:
            train_students_batched(**{**kw, "recipe": short}, lrs=[cell["lr"]] * len(seeds), seeds=seeds, **opts)
    for rep in range(args.repeats):
        order = ["ref", *variants] if rep % 2 == 0 else [*variants, "ref"]  # alternate, against drift
        for name in order:
            sync(dev)
            with Peak(dev) as peak:
                t0 = time.perf_counter()
                if name == "ref":
                    res = [ref_train(**kw, lr=cell["lr"], seed=s) for s in seeds]
                else:
                    base, *flags = name.split("+")
                    opts = _engine_options(base, flags)
                    if base in ("plain", "compiled"):
                        res = [train_student(**kw, lr=cell["lr"], seed=s, **opts) for s in seeds]
                    else:
                        res = train_students_batched(**kw, lrs=[cell["lr"]] * len(seeds), seeds=seeds, **opts)
                sync(dev)
                wall = time.perf_counter() - t0
            r = rows.setdefault(name, {"walls": [], "acc": None, "peak_mib": 0.0})
            r["walls"].append(wall / len(seeds))
            r["acc"] = [x.best_acc for x in res]
            r["peak_mib"] = max(r["peak_mib"], peak.mib)
            print(f"  rep {rep} {name:<22} {wall / len(seeds):8.3f} s/training  peak {peak.mib:8.1f} MiB", flush=True)
    ref_acc = rows["ref"]["acc"]
    for name, r in rows.items():
        r["s_per_training"] = statistics.median(r["walls"])
        r["diff_pp"] = [100 * (a - b) for a, b in zip(r["acc"], ref_acc)]
    base = rows["ref"]["s_per_training"]
    for r in rows.values():
        r["speedup"] = base / r["s_per_training"]
    return rows


def run_full(args, cell, dev, variants, ref_train):
    from ddr.data import random_baseline
    from ddr.eval.api import run_evaluation
    from ddr.eval.request import EvalRequest

    data = cell["data"]
    if isinstance(cell["protocol"], dict):
        tmp = Path(tempfile.mkdtemp(prefix="ddr-bench-")) / "bench-cifar-lrs-hard.yaml"
        import yaml

        tmp.write_text(yaml.safe_dump(cell["protocol"]))
        protocol = str(tmp)
        ds = cell["x_syn"]
    else:
        protocol = cell["protocol"]
        ds = random_baseline(data, args.ipc, 99).images
    out = {}
    common = dict(distilled=ds, dataset=cell["dataset"], ipc=args.ipc, protocol=protocol, device=str(dev),
                  track=False, use_cache=False)
    for name in ["ref", *variants] if not args.skip_ref_full else variants:
        sync(dev)
        with Peak(dev) as peak:
            t0 = time.perf_counter()
            if name == "ref":  # every student trained by the reference loop instead of ddr's engine
                res = run_evaluation(EvalRequest("lrs", **common), data=data, trainer=ref_train)
            else:
                res = run_evaluation(EvalRequest("lrs", engine=name, **common), data=data)
            sync(dev)
            wall = time.perf_counter() - t0
        real_s = sum(t["seconds"] for t in res.trainings if t["role"] == "real")
        out[name] = {"wall_s": wall, "real_reference_s": real_s, "trainings": len(res.trainings),
                     "lrs_mean": res.metrics["lrs"]["mean"], "accuracies": res.accuracies, "peak_mib": peak.mib}
        print(f"  full LRS-hard {name:<22} {wall:7.1f} s ({len(res.trainings)} trainings, real reference {real_s:.1f} s)"
              f"  LRS {res.metrics['lrs']['mean']:.4f}  peak {peak.mib:.0f} MiB", flush=True)
    if "ref" in out:
        ref = out["ref"]
        for name, r in out.items():
            r["speedup"] = ref["wall_s"] / r["wall_s"]
            pairs = [(a, b) for side in ("syn", "random") for a, b in zip(r["accuracies"][side], ref["accuracies"][side])]
            r["max_acc_diff_pp"] = max(abs(100 * (a - b)) for a, b in pairs)
            r["lrs_diff"] = r["lrs_mean"] - ref["lrs_mean"]
    return out


def versions(dev) -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__,
            "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU {cpu}, {os.cpu_count()} cores",
            "threads": torch.get_num_threads(), "git": _git()}


def _git() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def markdown(args, env, cell_rows, full, steps=None) -> str:
    lines = [f"### {args.mode} on {env['device']} ({env['date']})", "",
             f"torch {env['torch']}, python {env['python']}, numpy {env['numpy']}, torch threads {env['threads']}, "
             f"git {env['git']}, reference loop workers {args.ref_workers}, seeds {args.seeds}, repeats {args.repeats}",
             f"command: `python benchmarks/bench_engine.py {' '.join(sys.argv[1:])}`", "",
             "| path | s / training (median) | trainings / s | peak MiB | speed-up vs ref | best-acc diff vs ref, pp (mean / max abs) |",
             "|---|---|---|---|---|---|"]
    for name, r in cell_rows.items():
        d = r["diff_pp"]
        lines.append(f"| {name} | {r['s_per_training']:.3f} | {1 / r['s_per_training']:.2f} | {r['peak_mib']:.0f} | "
                     f"{r['speedup']:.2f}x | {statistics.mean(d):+.3f} / {max(abs(x) for x in d):.3f} |")
    if steps:
        st = steps
        lines += ["", f"Training step ({st['images']} images, batch {st['batch']}, {st['steps']} steps after "
                  f"{st['warmup_steps']} of warm-up, median of {st['repeats']} alternating repeats; reference loop: "
                  f"DataLoader, {st['ref_workers']} workers):", "",
                  "| path | ms / step | vs eager | vs ref |", "|---|---|---|---|"]
        for name in ("ref", "eager", "compiled"):
            t = st[f"{name}_s"]
            lines.append(f"| {name} | {1000 * t:.2f} | {st['eager_s'] / t:.2f}x | {st['ref_s'] / t:.2f}x |")
        lines += ["", f"Compile time (first compiled step): {st['compile_cold_s']:.1f} s on a cold Inductor disk "
                  f"cache; from the warm disk cache {st['compile_warm_s']:.1f} s in the same process after "
                  f"torch._dynamo.reset() ({st['warm_fxgraph_hits']} FX graph cache hits) and "
                  f"{st['compile_new_process_s']:.1f} s in a new process ({st['new_process_fxgraph_hits']} hits)."]
        if "compiled" in cell_rows and "plain" in cell_rows:
            c, p, r = (cell_rows[k]["s_per_training"] for k in ("compiled", "plain", "ref"))
            lines.append(f"Per training (table above): compiled {c:.3f} s, plain {p:.3f} s ({p / c:.2f}x), reference "
                         f"loop {r:.3f} s ({r / c:.2f}x); the compile time is paid once per (model, shape) and "
                         "process, not per training.")
    if full:
        lines += ["", "| full LRS-hard | wall s | trainings | real reference s | speed-up vs ref | LRS mean | LRS diff | max acc diff pp | peak MiB |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, r in full.items():
            lines.append(f"| {name} | {r['wall_s']:.1f} | {r['trainings']} | {r['real_reference_s']:.1f} | "
                         f"{r.get('speedup', float('nan')):.2f}x | {r['lrs_mean']:.4f} | {r.get('lrs_diff', float('nan')):+.2e} | "
                         f"{r.get('max_acc_diff_pp', float('nan')):.3f} | {r['peak_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto", help="cpu | cuda | auto")
    ap.add_argument("--mode", choices=("digits", "cifar-cell"), default="digits")
    ap.add_argument("--cifar-root", default=None, help="a CIFAR-10 python-pickle folder (else random tensors)")
    ap.add_argument("--variants", default=None,
                    help="comma-separated ddr engines: plain, batched, compiled, +bf16/+cl/+compile "
                         "(default cpu: plain,batched; cuda: plain,batched,batched+bf16+cl)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2, help="timing repeats per path (median reported)")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=None, help="cifar-cell: override 300 epochs (CPU smoke runs)")
    ap.add_argument("--test-size", type=int, default=10000, help="cifar-cell: test images")
    ap.add_argument("--train-size", type=int, default=50000, help="cifar-cell, random data: training images")
    ap.add_argument("--real-epochs", type=int, default=2, help="cifar-cell --full: epochs of the real reference")
    ap.add_argument("--ref-workers", type=int, default=4, help="reference DataLoader workers (DD-Ranking: 4)")
    ap.add_argument("--test-batch", type=int, default=256, help="reference test loader batch size")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--full", action="store_true", help="also time one full LRS-hard evaluation per path")
    ap.add_argument("--skip-ref-full", action="store_true", help="--full without the reference-loop evaluation")
    ap.add_argument("--steps", type=int, default=0,
                    help="also time N training steps of eager, compiled and the reference loop, and the compile time")
    ap.add_argument("--warmup-steps", type=int, default=5, help="--steps: untimed steps first")
    ap.add_argument("--json", default=None, help="write the figures as JSON here")
    ap.add_argument("--append", action="store_true", help="append the markdown block to benchmarks/RESULTS.md")
    args = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    from ddr.train.engine import resolve_device

    torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    variants = (args.variants.split(",") if args.variants else
                (["plain", "batched", "batched+bf16+cl"] if dev.type == "cuda" else ["plain", "batched"]))
    env = versions(dev)
    print(json.dumps(env))
    cell = build_cell(args)
    print(f"reference transform vs ddr tensors: max abs diff {check_transform(cell):.3g}")
    ref_train = make_reference_trainer(cell["raw"], args.ref_workers, args.test_batch)
    print(f"cell: {args.mode}, model {cell['model']} {cell['model_args']}, {len(cell['x_syn'])} training images, "
          f"{len(cell['data'].x_test)} test images, {cell['recipe'].epochs} epochs, test every "
          f"{cell['recipe'].test_interval}, lr {cell['lr']}, seeds {args.seeds}")
    if args.steps and not os.environ.get("TORCHINDUCTOR_CACHE_DIR"):  # a cold disk cache, for the compile time
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="ddr-bench-inductor-")
    steps = run_steps(args, cell, dev) if args.steps else None
    rows = run_cell(args, cell, dev, variants, ref_train)
    full = run_full(args, cell, dev, variants, ref_train) if args.full else None
    md = markdown(args, env, rows, full, steps)
    print()
    print(md)
    if args.json:
        Path(args.json).write_text(json.dumps({"env": env, "cell": rows, "full": full, "steps": steps}, indent=1,
                                                 default=str))
    if args.append:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a") as f:
            f.write("\n" + md)


if __name__ == "__main__":
    main()

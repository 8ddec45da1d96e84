"""One large training, data-parallel over the devices of one node (torchrun + DDP), same numbers contract.

    python -m torch.distributed.run --standalone --nproc_per_node 8 -m ddr.train.ddp SPEC.pt RESULT.json

or from Python, `run_ddp(spec, nproc=8)`. SPEC.pt holds train_student's keyword arguments (model,
model_args, x, y, x_test, y_test, num_classes, recipe as a dict, lr, seed).

How the numbers are kept: every rank builds the model from the same seed (DDP also broadcasts rank 0's
weights), draws the same per-epoch permutation from the same generator, and takes a contiguous shard of
each batch. Its loss is the shard's summed cross-entropy times world / batch size, so the gradient DDP
averages over ranks is exactly the full batch's mean gradient, as in the plain engine, up to the order of
float sums. Rank 0 tests on the whole test set at the same epochs and writes the result. So the result
equals `train_student`'s within floating-point tolerance (bit for bit is not promised: sums are ordered
differently). Models with BatchNorm see per-shard batch statistics, which does change the maths: use
instancenorm (the DC default), layernorm or none, or convert to SyncBatchNorm on GPUs.

A protocol asks for this path with `ddp: true` (the ImageNet-1K protocols): its real-data reference, the one
large hard-label training of an evaluation, then runs over every visible GPU when there are several
(DDR_DDP_PROCS overrides the count, also on CPU with gloo), cached under its own engine name. The many small
trainings stay on one device (the grid parallelises those). On CUDA, BatchNorm layers become SyncBatchNorm,
so batch statistics are the whole batch's, as on one device. A streamed training split (ddr.data.streaming)
is read shard by shard: each rank decodes only its own part of every batch.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ddr.data.streaming import FolderImages
from ddr.kernel.atomic import write_text_atomic
from ddr.models import build_model
from ddr.protocols import TrainRecipe
from ddr.train.engine import accuracy
from ddr.train.epochs import TrainingResult
from ddr.train.optim import batch_lr_factor, build_optimizer, lr_factor, set_lr


def train_student_ddp(*, model: str, model_args: dict, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor,
                      y_test: torch.Tensor, num_classes: int, recipe: TrainRecipe, lr: float, seed: int
                      ) -> TrainingResult | None:
    """Inside an initialised process group: train; rank 0 returns the result, the other ranks None."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", rank))
    cuda = torch.cuda.is_available()
    dev = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(dev)
    start = time.perf_counter()
    torch.manual_seed(seed)
    net = build_model(model, x.shape[1], num_classes, tuple(x.shape[2:]), **model_args)
    if cuda:
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    net = net.to(dev)
    ddp = DDP(net, device_ids=[local] if cuda else None)
    gen = torch.Generator().manual_seed(seed)
    streamed = isinstance(x, FolderImages)
    x, y = x.to(dev), y.to(dev)
    opt = build_optimizer(net, recipe, lr)
    n, bs = len(x), recipe.batch_size
    history: list[tuple[int, float]] = []  # rank 0's test points
    net.train()
    for epoch in range(recipe.epochs):
        first_lr, epoch_lr = lr * batch_lr_factor(recipe, epoch, 0), lr * lr_factor(recipe, epoch)
        set_lr(opt, first_lr)  # scheduler_per_batch: the first batch at the previous epoch's LR
        perm = torch.randperm(n, generator=gen)
        shards = [perm[i:i + bs].tensor_split(world)[rank] for i in range(0, n, bs)]
        feed = x.stream([s.tolist() if len(s) else perm[i:i + 1].tolist() for s, i in zip(shards, range(0, n, bs))],
                        pin_memory=cuda) if streamed else None
        perm = perm.to(dev)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            shard = idx.tensor_split(world)[rank]
            xb = next(feed).to(dev, non_blocking=True) if streamed else x[shard if len(shard) else idx[:1]]
            if len(shard):
                loss = F.cross_entropy(ddp(xb), y[shard], reduction="sum") * (world / len(idx))
            else:  # a batch smaller than the world: this rank contributes zero gradient, but takes part
                loss = ddp(xb).sum() * 0.0
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if i == 0 and first_lr != epoch_lr:
                set_lr(opt, epoch_lr)
        done = epoch + 1
        if recipe.tests_at(done) and rank == 0:
            history.append((done, accuracy(net, x_test.to(dev), y_test.to(dev))))
    if rank != 0:
        return None
    return TrainingResult.from_history(history, seconds=time.perf_counter() - start)


def _main(spec_path: str, out_path: str) -> None:
    import torch.distributed as dist

    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    try:
        spec = torch.load(spec_path, map_location="cpu", weights_only=False)
        spec["recipe"] = TrainRecipe(**{**spec["recipe"], "betas": tuple(spec["recipe"].get("betas", (0.9, 0.999)))})
        res = train_student_ddp(**spec)
        if res is not None:
            write_text_atomic(out_path, json.dumps({"best_acc": res.best_acc, "best_epoch": res.best_epoch,
                                                    "history": [list(h) for h in res.history],
                                                    "seconds": res.seconds, "world_size": dist.get_world_size()}))
    finally:
        dist.destroy_process_group()


def ddp_processes() -> int:
    """How many processes a protocol's DDP training uses: DDR_DDP_PROCS, else the number of visible GPUs."""
    raw = os.environ.get("DDR_DDP_PROCS")
    return int(raw) if raw else torch.cuda.device_count()


def run_ddp(spec: dict[str, Any], nproc: int, env: dict[str, str] | None = None, timeout: float | None = None
            ) -> dict[str, Any]:
    """Launch torchrun on this node (127.0.0.1 rendezvous) for one training; returns the result dict."""
    spec = dict(spec)
    if isinstance(spec.get("recipe"), TrainRecipe):
        spec["recipe"] = spec["recipe"].as_dict()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="ddr-ddp-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.pt", Path(tmp) / "result.json"
        torch.save(spec, spec_path)
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", str(nproc),
               "--master_addr", "127.0.0.1", "--master_port", str(port), "-m", "ddr.train.ddp",
               str(spec_path), str(out_path)]
        full_env = {**os.environ, **(env or {})}
        if not torch.cuda.is_available():
            full_env.setdefault("GLOO_SOCKET_IFNAME", "lo")
        proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not out_path.is_file():
            from ddr.errors import DDRError

            raise DDRError(f"torchrun failed with status {proc.returncode}: {proc.stderr.strip()[-800:]}")
        return json.loads(out_path.read_text())


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])

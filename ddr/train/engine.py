"""The training engine: one student, trained on tensors resident on the device, tested every N epochs.

No DataLoader and no per-image transforms for tensor data: each epoch is a seeded permutation and
slicing of device tensors. The test pass is one batched inference over the whole test set; its
correct-counts stay on the device and are read once, after the last epoch (unless an `on_test`
callback asks for them as they come), so the epoch loop never waits for the host.
Optional speed switches, off by default: `amp`, `channels_last`, `compile` (the compiled engine,
ddr.train.compiled); the batched engine (ddr.train.batched) trains several students at once. The epoch
rule (test points, best point) is ddr.train.epochs'.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ddr.data.streaming import FolderImages
from ddr.errors import DDRError
from ddr.losses import build_loss
from ddr.models import build_model
from ddr.protocols import TrainRecipe
from ddr.train.compiled import compiled_student, detached_copy, student_key
from ddr.train.epochs import TrainingResult, accuracy_history, best_point
from ddr.train.optim import batch_lr_factor, build_optimizer, lr_factor, set_lr

TEST_BATCH = 4096
_CE = build_loss("ce")  # hard labels, or soft CE against mixed/soft probability vectors


@torch.inference_mode()
def correct_count(model: nn.Module, x: torch.Tensor, y: torch.Tensor, amp: bool = False) -> torch.Tensor:
    """The number of correctly classified test images, as a device tensor (no host synchronisation)."""
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=x.device)
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        for i in range(0, len(x), TEST_BATCH):
            correct += (model(x[i:i + TEST_BATCH]).argmax(1) == y[i:i + TEST_BATCH]).sum()
    model.train()
    return correct


@torch.inference_mode()
def predict(model: nn.Module, x: torch.Tensor, amp: bool = False) -> torch.Tensor:
    """The predicted class of every image, as a device tensor (no host synchronisation)."""
    model.eval()
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        out = torch.cat([model(x[i:i + TEST_BATCH]).argmax(1) for i in range(0, len(x), TEST_BATCH)])
    model.train()
    return out


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return int(correct_count(model, x, y).item()) / len(x)


def _step_loss(net, xb, yb, tb, augment, gen, teacher, loss_fn, num_classes) -> torch.Tensor:
    if augment is not None:
        xb = augment(xb, gen)
    if teacher is not None:
        targets = teacher(xb)  # mode M: relabel the augmented batch (the teacher runs without gradient)
    elif tb is not None:
        targets = tb  # mode S: stored per-image labels
    else:
        targets = yb
    mix = getattr(augment, "last_mix", None) if getattr(augment, "mix_labels", False) else None
    if mix is not None and teacher is None:
        if not targets.is_floating_point():
            targets = F.one_hot(targets, num_classes).float()
        targets = mix.mix(targets)
    return (loss_fn or _CE)(net(xb), targets, yb)


def resolve_device(device: str | None = None) -> torch.device:
    """'auto' (CUDA when present), or a device this machine has: refused here, not deep inside training."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise DDRError(f"unknown device '{device}'; use cpu, cuda, cuda:N or auto") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DDRError(f"device '{device}': no CUDA device on this machine; use cpu or auto")
        if dev.index is not None and dev.index >= count:
            raise DDRError(f"device '{device}': this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1})")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise DDRError(f"device '{device}': MPS is not available on this machine")
    elif dev.type != "cpu":
        raise DDRError(f"device '{device}': ddr trains on cpu, cuda or mps")
    return dev


def train_student(
    *,
    model: str,
    model_args: dict,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    num_classes: int,
    recipe: TrainRecipe,
    lr: float,
    seed: int,
    device: torch.device | str | None = None,
    on_test: Callable[[int, float], None] | None = None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    soft_targets: torch.Tensor | None = None,
    teacher: nn.Module | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    keep_model: bool = False,
    amp: bool = False,
    channels_last: bool = False,
    compile: bool = False,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
) -> TrainingResult:
    """Train a fresh `model` on (x, y) and return its best test accuracy.

    Targets per batch: the hard labels y (cross-entropy by default); or stored soft labels
    `soft_targets` (mode S); or the `teacher`'s logits on the augmented batch (mode M, no gradient).
    `augment(x, gen)` transforms each batch; a mixing augmentation with mix_labels mixes the targets too.
    Every random draw (initialisation, batch order, augmentation) comes from `seed`, so on CPU the result
    repeats bit for bit. Test points: TrainRecipe.tests_at (every test_interval epochs and the last one, after test_after).
    Test correct-counts stay on the device and are read once after the last epoch (at once only when
    `on_test` is given). Speed switches, off by default because they may move a number (within the
    tolerance stated in benchmarks/RESULTS.md): `amp` (bf16 autocast), `channels_last`, `compile`
    (the compiled engine: the student torch.compile'd once per model and shape, ddr.train.compiled).
    With a validation split (`x_val`, `y_val`) its accuracy is measured at the same test points
    (`val_history`), for selecting the checkpoint without the test set.
    """
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    start = time.perf_counter()
    torch.manual_seed(seed)  # initialisation; the batch order has its own generator below
    net = build_model(model, x.shape[1], num_classes, tuple(x.shape[2:]), **model_args).to(dev)
    gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator().manual_seed(seed ^ 0x5EED)  # own stream: batch order is independent of augmentation
    if soft_targets is not None:
        soft_targets = soft_targets.to(dev)
    if teacher is not None:
        teacher = teacher.to(dev)
    x, y = x.to(dev), y.to(dev)
    x_test, y_test = x_test.to(dev), y_test.to(dev)
    n, bs = len(x), recipe.batch_size
    # a training split on disk: decoded ahead, batch by batch (original files also transformed per image,
    # their draws seeded from aug_gen: ddr.data.originals)
    streamed = isinstance(x, FolderImages)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x_test = x_test.contiguous(memory_format=torch.channels_last)
        x = x if streamed else x.contiguous(memory_format=torch.channels_last)
    if compile:  # the compiled engine: one compiled network per (model, shape) in this process
        net, fwd = compiled_student(net, student_key(model, model_args, num_classes, x, dev, channels_last))
    else:
        fwd = net
    opt = build_optimizer(net, recipe, lr)
    net.train()
    pending: list[tuple[int, torch.Tensor]] = []  # (epoch, correct-count on the device)
    val_pending: list[torch.Tensor] = []
    test_preds: list[torch.Tensor] = []
    if x_val is not None:
        x_val, y_val = x_val.to(dev), y_val.to(dev)
        if channels_last:
            x_val = x_val.contiguous(memory_format=torch.channels_last)
    for epoch in range(recipe.epochs):
        # the epoch's LR; under scheduler_per_batch its first batch runs at the previous one's (optim.batch_lr_factor)
        first_lr, epoch_lr = lr * batch_lr_factor(recipe, epoch, 0), lr * lr_factor(recipe, epoch)
        set_lr(opt, first_lr)
        perm = torch.randperm(n, generator=gen)
        feed = x.batches(perm, bs, pin_memory=dev.type == "cuda", gen=aug_gen) if streamed else None
        if dev.type == "cuda":  # a pinned source makes the copy truly asynchronous (no wait for the GPU)
            perm = perm.pin_memory()
        perm = perm.to(dev, non_blocking=True)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = (next(feed).to(dev, non_blocking=True) if streamed else x[idx]), y[idx]
            if streamed and channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                if augment is None and teacher is None and soft_targets is None and loss_fn is None:
                    loss = F.cross_entropy(fwd(xb), yb)  # the plain path: hard labels, no augmentation
                else:
                    loss = _step_loss(fwd, xb, yb, soft_targets[idx] if soft_targets is not None else None,
                                      augment, aug_gen, teacher, loss_fn, num_classes)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if i == 0 and first_lr != epoch_lr:
                set_lr(opt, epoch_lr)
        done = epoch + 1
        if recipe.tests_at(done):
            preds = predict(fwd, x_test, amp)
            correct = (preds == y_test).sum()  # the same argmax correct_count compares
            test_preds.append(preds)
            if on_test:
                on_test(done, int(correct.item()) / len(x_test))
            pending.append((done, correct))
            if x_val is not None:
                val_pending.append(correct_count(fwd, x_val, y_val, amp))
    counts = torch.stack([c for _, c in pending]).tolist() if pending else []  # the one synchronisation
    epochs = [done for done, _ in pending]
    result = TrainingResult.from_history(accuracy_history(epochs, counts, len(x_test)))
    keep = {result.best_epoch, epochs[-1]} if pending else set()
    if x_val is not None:
        result.val_history = accuracy_history(epochs, torch.stack(val_pending).tolist(), len(x_val))
        keep.add(best_point(result.val_history)[0])
    for (done, _), preds in zip(pending, test_preds):
        if done in keep:
            result.predictions[done] = preds.cpu().tolist()
    result.seconds = time.perf_counter() - start
    if keep_model:
        result.model = (detached_copy(net) if compile else net).eval()
    return result

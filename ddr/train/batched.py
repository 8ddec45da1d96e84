"""The batched engine: M students of one recipe trained at once, as one wide network.

`train_students_batched` returns exactly what `[train_student(...) for each (x, y, lr, seed)]` returns
(a TrainingResult per student, same test points, same best-accuracy rule), with every per-student
random draw identical to the plain path: initialisation from `torch.manual_seed(seed)` + build_model,
batch order from `torch.Generator().manual_seed(seed)`, one randperm per epoch.

How. A DC ConvNet's layers are all channel-wise except the convolutions and the classifier, so M
ConvNets of the same shape are one ConvNet of M times the width whose convolutions are grouped
(groups = M) and whose classifier is a batched matmul:

- input: student m's batch goes into channels [m*C, (m+1)*C) of one (B, M*C, H, W) tensor, so every
  student keeps its own images and its own batch order;
- conv: F.conv2d(groups=M) with the M weight tensors concatenated; instance norm (GroupNorm with a
  group per channel) and batch norm (statistics per channel over the batch) are per channel, hence
  per student; activations and pooling are per element / per channel;
- classifier: (M, B, F) x (M, F, K) with baddbmm;
- loss: the sum over students of each student's own mean cross-entropy, so each student's gradient
  is the gradient of its own loss;
- optimiser: SGD / Adam / AdamW written over the stacked tensors with a per-student learning rate
  (same update formulas as torch.optim's single-tensor implementations);
- test: the test images are repeated into every student's channels; correct-counts stay on the
  device until the end (one host synchronisation per batch of students).

Floating-point summation order differs from M separate networks (grouped kernels, batched matmul),
so the numbers match the plain path within a tolerance (tests/ddr/test_fast_engine.py), not bit for
bit; hence a batched result is cached under its own key. Models other than the ConvNet family with
instance/batch/no norm (MLP, LeNet, layer norm), augmentation or non-CE losses fall back to the plain
engine, one student after another (the result is then the plain path's, bit for bit).

Options: `amp` (bf16 autocast), `channels_last`, `compile` (torch.compile of the stacked forward;
mode 'max-autotune-no-cudagraphs' is not used: on CUDA 'reduce-overhead' captures CUDA graphs).
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ddr.models import build_model
from ddr.models.convnet import ConvNet
from ddr.protocols import TrainRecipe
from ddr.train.compiled import configure_inductor
from ddr.train.engine import resolve_device, train_student
from ddr.train.epochs import TrainingResult, accuracy_history
from ddr.train.optim import batch_lr_factor, lr_factor

TEST_IMAGES_PER_PASS = 8192  # test images x students per inference batch (bounds activation memory: ~4 GiB fp32 for ConvNet-3 w128 on 32x32)


class StackedConvNet(nn.Module):
    """M ConvNets of one shape as one grouped network. Parameters are model-major: every parameter's
    first dimension is M (classifier) or M * width (convolutions, norms), so `p.unflatten(0, (M, -1))`
    is the per-student view the optimiser uses."""

    def __init__(self, nets: Sequence[ConvNet]):
        super().__init__()
        self.m = len(nets)
        first = nets[0]
        self.ops: list[tuple[str, object]] = []
        params: dict[str, torch.Tensor] = {}
        buffers: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(first.features):
            layers = [n.features[i] for n in nets]
            if isinstance(layer, nn.Conv2d):
                params[f"w{i}"] = torch.cat([m.weight.detach() for m in layers])
                params[f"b{i}"] = torch.cat([m.bias.detach() for m in layers])
                self.ops.append(("conv", (i, layer.padding)))
            elif isinstance(layer, nn.GroupNorm):
                params[f"w{i}"] = torch.cat([m.weight.detach() for m in layers])
                params[f"b{i}"] = torch.cat([m.bias.detach() for m in layers])
                self.ops.append(("gn", (i, layer.num_groups * self.m, layer.eps)))
            elif isinstance(layer, nn.BatchNorm2d):
                params[f"w{i}"] = torch.cat([m.weight.detach() for m in layers])
                params[f"b{i}"] = torch.cat([m.bias.detach() for m in layers])
                buffers[f"rm{i}"] = torch.cat([m.running_mean for m in layers])
                buffers[f"rv{i}"] = torch.cat([m.running_var for m in layers])
                self.ops.append(("bn", (i, layer.momentum, layer.eps)))
            else:  # activation or pooling: element- or channel-wise, shared as is
                self.ops.append(("fn", layer))
        params["wc"] = torch.stack([n.classifier.weight.detach() for n in nets])  # (M, K, F)
        params["bc"] = torch.stack([n.classifier.bias.detach() for n in nets])  # (M, K)
        self.p = nn.ParameterDict({k: nn.Parameter(v.clone()) for k, v in params.items()})
        for k, v in buffers.items():
            self.register_buffer(k, v.clone())
        self._fns = nn.ModuleList([op for kind, op in self.ops if kind == "fn"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, M*C, H, W) -> logits (M, B, K)."""
        p, m = self.p, self.m
        for kind, arg in self.ops:
            if kind == "conv":
                i, pad = arg
                x = F.conv2d(x, p[f"w{i}"], p[f"b{i}"], padding=pad, groups=m)
            elif kind == "gn":
                i, groups, eps = arg
                x = F.group_norm(x, groups, p[f"w{i}"], p[f"b{i}"], eps)
            elif kind == "bn":
                i, momentum, eps = arg
                x = F.batch_norm(x, getattr(self, f"rm{i}"), getattr(self, f"rv{i}"), p[f"w{i}"], p[f"b{i}"],
                                 self.training, momentum, eps)
            else:
                x = arg(x)
        b = x.shape[0]
        feats = x.reshape(b, m, -1).transpose(0, 1)  # (M, B, F), each student's features channel-major
        return torch.baddbmm(p["bc"].unsqueeze(1), feats, p["wc"].transpose(1, 2))


def supports(model: str, model_args: dict, recipe: TrainRecipe, channels: int, num_classes: int,
             im_size: tuple[int, int]) -> bool:
    """Whether the batched engine trains this (model, recipe) itself (else it falls back to plain)."""
    if recipe.augmentation or recipe.loss != "ce":
        return False
    net = build_model(model, channels, num_classes, im_size, **model_args)
    if not isinstance(net, ConvNet):
        return False
    ok = (nn.Conv2d, nn.GroupNorm, nn.BatchNorm2d, nn.ReLU, nn.Sigmoid, nn.LeakyReLU, nn.AvgPool2d, nn.MaxPool2d)
    for layer in net.features:
        if not isinstance(layer, ok):
            return False
        if isinstance(layer, nn.GroupNorm) and layer.num_groups != layer.num_channels:
            return False
    return True


class StackedOptimizer:
    """torch.optim's SGD / Adam / AdamW update rules (single-tensor form, no nesterov, no amsgrad) over
    model-major stacked parameters, with a learning rate per student."""

    def __init__(self, params: list[nn.Parameter], m: int, recipe: TrainRecipe):
        self.params, self.m, self.recipe = params, m, recipe
        self.state: list[dict[str, torch.Tensor]] = [{} for _ in params]
        self.t = 0

    @torch.no_grad()
    def step(self, lr: torch.Tensor) -> None:
        """lr: (M,) the learning rate of each student for this step."""
        r, m = self.recipe, self.m
        self.t += 1
        for p, st in zip(self.params, self.state):
            # (M, rows, ...) views whatever the memory format: dim 0 is model-major in every layout
            g = p.grad.unflatten(0, (m, -1))
            w = p.unflatten(0, (m, -1))
            lr_col = lr.view(m, *[1] * (w.dim() - 1))
            if r.optimizer == "sgd":
                if r.weight_decay:
                    g = g.add(w, alpha=r.weight_decay)
                if r.momentum:
                    buf = st.get("buf")
                    if buf is None:
                        buf = st["buf"] = g.clone()
                    else:
                        buf.mul_(r.momentum).add_(g)
                    g = buf
                w.sub_(g * lr_col)
            else:
                b1, b2 = r.betas
                eps = 1e-8
                if r.optimizer == "adamw":
                    w.mul_(1 - lr_col * r.weight_decay)
                elif r.weight_decay:
                    g = g.add(w, alpha=r.weight_decay)
                if not st:
                    st["m"], st["v"] = torch.zeros_like(w), torch.zeros_like(w)
                st["m"].lerp_(g, 1 - b1)
                st["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
                denom = (st["v"].sqrt() / (bc2 ** 0.5)).add_(eps)
                w.sub_(st["m"] / denom * (lr_col / bc1))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def default_max_models(dev: torch.device) -> int:
    """Students per batch. On a CPU the wide network falls out of cache beyond a few ConvNet-2 students and
    the gain stops (benchmarks/RESULTS.md); on a GPU 50 covers one LRS evaluation's grid x rounds."""
    return 50 if dev.type == "cuda" else 5


def _as_list(v, m: int) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v] * m


def train_students_batched(
    *,
    model: str,
    model_args: dict,
    x: torch.Tensor | Sequence[torch.Tensor],
    y: torch.Tensor | Sequence[torch.Tensor],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    num_classes: int,
    recipe: TrainRecipe,
    lrs: Sequence[float],
    seeds: Sequence[int],
    device: torch.device | str | None = None,
    amp: bool = False,
    channels_last: bool = False,
    compile: bool = False,
    max_models: int | None = None,
) -> list[TrainingResult]:
    """Train len(lrs) students at once: student m on (x[m], y[m]) (or the shared x, y) at lrs[m] with
    seeds[m]. All training sets must have the same size. Returns one TrainingResult per student, in
    order; `seconds` is the batch's wall time divided by its size."""
    m_all = len(lrs)
    if len(seeds) != m_all:
        raise ValueError("train_students_batched: lrs and seeds differ in length")
    xs, ys = _as_list(x, m_all), _as_list(y, m_all)
    if len({len(t) for t in xs}) > 1:
        raise ValueError("train_students_batched: all training sets must have the same size")
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    shape = (int(xs[0].shape[1]), num_classes, tuple(int(s) for s in xs[0].shape[2:]))
    if not supports(model, model_args, recipe, shape[0], shape[1], shape[2]):
        return [train_student(model=model, model_args=model_args, x=xi, y=yi, x_test=x_test, y_test=y_test,
                              num_classes=num_classes, recipe=recipe, lr=lr, seed=s, device=dev, amp=amp,
                              channels_last=channels_last, compile=compile)
                for xi, yi, lr, s in zip(xs, ys, lrs, seeds)]
    chunk = max_models or default_max_models(dev)
    out: list[TrainingResult] = []
    for a in range(0, m_all, chunk):
        sl = slice(a, a + chunk)
        out += _train_group(model=model, model_args=model_args, xs=xs[sl], ys=ys[sl], x_test=x_test, y_test=y_test,
                            num_classes=num_classes, recipe=recipe, lrs=list(lrs[sl]), seeds=list(seeds[sl]),
                            dev=dev, amp=amp, channels_last=channels_last, compile=compile)
    return out


def _train_group(*, model: str, model_args: dict, xs: list[torch.Tensor], ys: list[torch.Tensor],
                 x_test: torch.Tensor, y_test: torch.Tensor, num_classes: int, recipe: TrainRecipe,
                 lrs: list[float], seeds: list[int], dev: torch.device, amp: bool, channels_last: bool,
                 compile: bool) -> list[TrainingResult]:
    """One chunk of train_students_batched (its arguments, per student as lists): student m on
    (xs[m], ys[m]) at lrs[m] from seeds[m], all M stacked into one network."""
    start = time.perf_counter()
    m = len(lrs)
    c, im_size = int(xs[0].shape[1]), tuple(int(s) for s in xs[0].shape[2:])
    nets = []
    for s in seeds:  # the plain path's initialisation, student by student
        torch.manual_seed(s)
        nets.append(build_model(model, c, num_classes, im_size, **model_args))
    net = StackedConvNet(nets).to(dev)
    del nets
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    shared = all(t is xs[0] for t in xs) and all(t is ys[0] for t in ys)
    if shared:
        x_all, y_all = xs[0].to(dev), ys[0].to(dev)  # (N, C, H, W), (N,)
    else:
        x_all, y_all = torch.stack([t.to(dev) for t in xs]), torch.stack([t.to(dev) for t in ys])  # (M, N, ...)
    x_test, y_test = x_test.to(dev), y_test.to(dev)
    mem = torch.channels_last if channels_last else torch.contiguous_format
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    if compile:
        configure_inductor()  # the compiled engine's disk cache and vector width
    fwd = torch.compile(net, mode="reduce-overhead" if dev.type == "cuda" else None) if compile else net
    opt = StackedOptimizer(list(net.p.values()), m, recipe)
    n, bs = len(x_all) if shared else x_all.shape[1], recipe.batch_size
    rows = torch.arange(m, device=dev).unsqueeze(1)
    # every epoch's per-student LR, computed once (one host-to-device copy)
    lr_table = torch.tensor([[lr * lr_factor(recipe, e) for lr in lrs] for e in range(recipe.epochs)],
                            dtype=torch.float32, device=dev)
    # scheduler_per_batch: each epoch's first batch at the previous epoch's LR (optim.batch_lr_factor)
    first_table = torch.tensor([[lr * batch_lr_factor(recipe, e, 0) for lr in lrs] for e in range(recipe.epochs)],
                               dtype=torch.float32, device=dev) if recipe.scheduler_per_batch else lr_table
    points, counts = [], []
    net.train()
    for epoch in range(recipe.epochs):
        perm = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (M, n), the plain path's draws
        if dev.type == "cuda":  # pinned: the copy does not wait for the GPU
            perm = perm.pin_memory()
        perm = perm.to(dev, non_blocking=True)
        lr, first_lr = lr_table[epoch], first_table[epoch]
        for i in range(0, n, bs):
            idx = perm[:, i:i + bs]  # (M, b)
            b = idx.shape[1]
            if shared:
                xb, yb = x_all[idx], y_all[idx]  # (M, b, C, H, W), (M, b)
            else:
                xb, yb = x_all[rows, idx], y_all[rows, idx]
            xb = xb.transpose(0, 1).reshape(b, m * c, *im_size).contiguous(memory_format=mem)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                logits = fwd(xb)  # (M, b, K)
                loss = F.cross_entropy(logits.reshape(m * b, -1).float(), yb.reshape(-1), reduction="none")
                loss = loss.view(m, b).mean(1).sum()
            opt.zero_grad()
            loss.backward()
            opt.step(first_lr if i == 0 else lr)
        done = epoch + 1
        if recipe.tests_at(done):
            points.append(done)
            counts.append(_correct_counts(fwd, x_test, y_test, m, mem, amp))
    table = torch.stack(counts).tolist() if counts else []  # the one host synchronisation
    seconds = (time.perf_counter() - start) / m
    return [TrainingResult.from_history(accuracy_history(points, [row[j] for row in table], len(x_test)),
                                        seconds=seconds) for j in range(m)]


@torch.inference_mode()
def _correct_counts(net: nn.Module, x: torch.Tensor, y: torch.Tensor, m: int, mem, amp: bool) -> torch.Tensor:
    """(M,) correct-counts of every student on the whole test set, on the device."""
    net.eval()
    correct = torch.zeros(m, dtype=torch.long, device=x.device)
    tb = max(1, TEST_IMAGES_PER_PASS // m)
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        for i in range(0, len(x), tb):
            xb = x[i:i + tb]
            xb = xb.repeat(1, m, 1, 1).contiguous(memory_format=mem)  # every student sees the same images
            correct += (net(xb).argmax(-1) == y[i:i + tb]).sum(1)
    net.train()
    return correct

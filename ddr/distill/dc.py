"""DC, dataset condensation with gradient matching (Zhao, Mopuri & Bilen, ICLR 2021): synthetic images
whose per-class training gradients match those of real batches, along the trajectory of networks that
are themselves trained on the synthetic set."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ddr.data.distilled import DistilledSet
from ddr.data.random_baseline import random_indices
from ddr.data.real_data import RealData
from ddr.distill.augment import apply_affine, draw_affine
from ddr.distill.common import Device, base_meta, check_ipc, class_major_labels
from ddr.distill.features import default_depth, default_width, random_convnet, reinit
from ddr.train.engine import resolve_device

# DC's get_loops: (outer_loop, inner_loop) by images per class
DC_LOOPS = {1: (1, 1), 10: (10, 50), 20: (20, 25), 30: (30, 10), 40: (40, 15), 50: (50, 10)}


def dc_loops(ipc: int) -> tuple[int, int]:
    """DC's loop counts; IPCs it does not list take the nearest listed one's."""
    return DC_LOOPS[min(DC_LOOPS, key=lambda k: (abs(k - ipc), k))]


def gradient_distance(g_syn: list[torch.Tensor], g_real: list[torch.Tensor]) -> torch.Tensor:
    """DC's layer-wise distance ('ours'): per layer, sum over output channels of 1 - cos between the
    flattened per-channel gradients; 1-D tensors (biases, norm affine) are skipped, as in DC."""
    total = torch.zeros((), device=g_syn[0].device)
    for gs, gr in zip(g_syn, g_real):
        if gs.ndim == 1:
            continue
        gs, gr = gs.flatten(1), gr.flatten(1)
        cos = (gs * gr).sum(-1) / (gs.norm(dim=-1) * gr.norm(dim=-1) + 1e-6)
        total = total + (1 - cos).sum()
    return total


def dc(data: RealData, ipc: int, *, seed: int = 0, device: Device = None, iterations: int | None = None,
       outer_loop: int | None = None, inner_loop: int | None = None, lr_img: float = 0.1,
       momentum_img: float = 0.5, lr_net: float = 0.01, batch_real: int = 64, batch_train: int = 256,
       width: int | None = None, depth: int | None = None, dsa: bool = False) -> DistilledSet:
    """Gradient matching from a seeded random-real initialisation (the random baseline's images for `seed`).

    Each iteration draws a fresh network (seeded), then `outer_loop` times: per class, match the CE
    gradient of a real batch against the synthetic images' (create_graph, so the distance differentiates
    into the pixels), one SGD step on the pixels, then `inner_loop` epochs of the network on the synthetic
    set. DC's paper runs 1000 iterations with its loop table on a GPU; the defaults here keep digits on one
    CPU thread under ~45 s: 200 iterations at IPC 1, and at larger IPC 10 iterations with inner_loop 10."""
    check_ipc(data, ipc)
    dev = resolve_device(device)
    depth = depth or default_depth(data.im_size)
    width = width or default_width(data.im_size)
    paper_outer, paper_inner = dc_loops(ipc)
    outer_loop = int(outer_loop or paper_outer)
    inner_loop = int(inner_loop or (paper_inner if ipc == 1 else min(paper_inner, 10)))
    iterations = int(iterations or (200 if ipc == 1 else 10))
    gen = torch.Generator().manual_seed(seed)
    init = random_indices(data, ipc, seed)
    flat = [i for per_class in init for i in per_class]
    syn = data.x_train[flat].clone().to(dev).requires_grad_(True)
    y_syn = class_major_labels(data.num_classes, ipc).to(dev)
    opt_img = torch.optim.SGD([syn], lr=lr_img, momentum=momentum_img)
    x_real = data.x_train.to(dev)
    classes = [torch.from_numpy(idx) for idx in data.class_indices()]
    k = data.num_classes
    net = random_convnet(data, seed, width=width, depth=depth, device=dev).train()
    params = list(net.parameters())
    for _ in range(iterations):
        reinit(net, int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        opt_net = torch.optim.SGD(params, lr=lr_net)  # fresh network, fresh optimiser (DC: plain SGD)
        for ol in range(outer_loop):
            loss = torch.zeros((), device=dev)
            for c in range(k):
                idx = classes[c][torch.randperm(len(classes[c]), generator=gen)[:batch_real]].to(dev)
                xr, xs = x_real[idx], syn[c * ipc:(c + 1) * ipc]
                if dsa:  # the same view of both sides
                    m = draw_affine(gen)
                    xr, xs = apply_affine(xr, m), apply_affine(xs, m)
                yr, ys = torch.full((len(xr),), c, device=dev), y_syn[c * ipc:(c + 1) * ipc]
                g_real = [g.detach() for g in torch.autograd.grad(F.cross_entropy(net(xr), yr), params)]
                g_syn = torch.autograd.grad(F.cross_entropy(net(xs), ys), params, create_graph=True)
                loss = loss + gradient_distance(list(g_syn), g_real)
            opt_img.zero_grad(set_to_none=True)
            loss.backward()
            opt_img.step()
            if ol == outer_loop - 1:
                break
            _train_on_synthetic(net, opt_net, syn.detach(), y_syn, inner_loop, batch_train, gen, dsa)
    meta_params = {"iterations": iterations, "outer_loop": outer_loop, "inner_loop": inner_loop, "lr_img": lr_img,
                   "momentum_img": momentum_img, "lr_net": lr_net, "batch_real": batch_real,
                   "batch_train": batch_train, "width": width, "depth": depth, "dsa": bool(dsa),
                   "init": "real-random", "distance": "dc-layerwise-cos"}
    meta = base_meta("dc", data, ipc, seed, meta_params) | {
        "feature_space": f"convnet:ConvNet-{depth}:w{width}:fresh-per-iteration", "init_indices": init}
    return DistilledSet(syn.detach().cpu().clone(), y_syn.cpu(), meta=meta)


def _train_on_synthetic(net: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                        epochs: int, batch: int, gen: torch.Generator, dsa: bool) -> None:
    """DC's inner loop: `epochs` shuffled epochs of the network on the (frozen) synthetic set."""
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen).to(x.device)
        for i in range(0, len(x), batch):
            b = perm[i:i + batch]
            xb = apply_affine(x[b], draw_affine(gen)) if dsa else x[b]
            loss = F.cross_entropy(net(xb), y[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

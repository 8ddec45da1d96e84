"""DM, distribution matching (Zhao & Bilen, WACV 2023): synthetic images whose mean embedding, under
randomly initialised ConvNets (a fresh one per iteration), matches the class's real mean embedding."""
from __future__ import annotations

import torch

from ddr.data.distilled import DistilledSet
from ddr.data.random_baseline import random_indices
from ddr.data.real_data import RealData
from ddr.distill.augment import apply_affine, draw_affine
from ddr.distill.common import Device, base_meta, check_ipc, class_major_labels
from ddr.distill.features import class_means, default_depth, default_width, random_convnet, reinit
from ddr.train.engine import resolve_device


def dm(data: RealData, ipc: int, *, seed: int = 0, device: Device = None, iterations: int = 1000, lr_img: float = 1.0,
       momentum: float = 0.5, batch_real: int = 64, width: int | None = None, depth: int | None = None,
       dsa: bool = False) -> DistilledSet:
    """Distribution matching from a seeded random-real initialisation (the random baseline's images for
    `seed`, so DM's gain over random is measured from the same starting point).

    Per iteration: a fresh random ConvNet (seeded from `seed`), per class a real batch of up to
    `batch_real` images; loss = sum over classes of ||mean f(real) - mean f(syn)||^2 over the penultimate
    features; SGD on the synthetic pixels. The DM paper's 20k iterations with lr 1.0 target CIFAR on a GPU;
    the defaults here are sized for digits on one CPU thread."""
    check_ipc(data, ipc)
    dev = resolve_device(device)
    depth = depth or default_depth(data.im_size)
    width = width or default_width(data.im_size)
    gen = torch.Generator().manual_seed(seed)
    init = random_indices(data, ipc, seed)
    flat = [i for per_class in init for i in per_class]
    syn = data.x_train[flat].clone().to(dev).requires_grad_(True)
    opt = torch.optim.SGD([syn], lr=lr_img, momentum=momentum)
    x_real = data.x_train.to(dev)
    classes = [torch.from_numpy(idx) for idx in data.class_indices()]
    k = data.num_classes
    net = random_convnet(data, seed, width=width, depth=depth, device=dev).train()
    for p in net.parameters():  # only the pixels learn
        p.requires_grad_(False)
    syn_owner = class_major_labels(k, ipc).to(dev)
    for _ in range(int(iterations)):
        reinit(net, int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        real_idx = [idx[torch.randperm(len(idx), generator=gen)[:batch_real]] for idx in classes]
        real_owner = torch.cat([torch.full((len(r),), c) for c, r in enumerate(real_idx)]).to(dev)
        xr, xs = x_real[torch.cat(real_idx).to(dev)], syn
        if dsa:  # one view per class, the same for its real and synthetic images
            mats = torch.stack([draw_affine(gen) for _ in range(k)]).to(dev)
            xr, xs = apply_affine(xr, mats[real_owner]), apply_affine(xs, mats[syn_owner])
        # One batched pass for all classes (instance norm is per sample, so this equals per-class passes)
        with torch.no_grad():
            mean_real = class_means(net.features(xr).flatten(1), real_owner, k)
        mean_syn = class_means(net.features(xs).flatten(1), syn_owner, k)
        loss = (mean_real - mean_syn).pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    params = {"iterations": int(iterations), "lr_img": lr_img, "momentum": momentum, "batch_real": batch_real,
              "width": width, "depth": depth, "dsa": bool(dsa), "init": "real-random"}
    meta = base_meta("dm", data, ipc, seed, params) | {
        "feature_space": f"convnet-random-init:ConvNet-{depth}:w{width}:fresh-per-iteration",
        "init_indices": init}
    return DistilledSet(syn.detach().cpu().clone(), class_major_labels(k, ipc), meta=meta)

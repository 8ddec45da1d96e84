"""A random baseline as DD-Ranking 0.2.0's `random_data_format: image` saw it on CIFAR: each selected
(normalised) image de-normalised, clamped to [0, 1], written as a JPEG file and read back through ImageFolder
(reference 2.5). The lossy round trip is what its random side trained on; ddr's own random side trains on the
data set's tensors (a correction). The ddranking-0.2 edition (rule jpeg-random-baselines) trains on this."""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from ddr.data.real_data import RealData


def jpeg_round_trip(images: torch.Tensor, data: RealData) -> torch.Tensor:
    """Normalised images (N x C x H x W, `data`'s normalisation) de-normalised, clamped to [0, 1], to uint8 as
    torchvision's save_image rounds (x 255 + 0.5), saved as JPEG with PIL's defaults (quality 75, 4:2:0 chroma
    subsampling), decoded as ImageFolder does (RGB; L for one channel), / 255 and normalised again."""
    pixels = (data.denormalise(images.detach().cpu().float()).clamp(0, 1) * 255 + 0.5).clamp(0, 255).to(torch.uint8)
    out = []
    for arr in pixels.numpy():
        buf = io.BytesIO()
        img = Image.fromarray(arr[0]) if arr.shape[0] == 1 else Image.fromarray(np.transpose(arr, (1, 2, 0)))
        img.save(buf, format="JPEG")
        buf.seek(0)
        with Image.open(buf) as decoded:
            back = np.asarray(decoded.convert("RGB" if arr.shape[0] == 3 else "L"), dtype=np.float32) / 255.0
        out.append(back[None] if back.ndim == 2 else np.transpose(back, (2, 0, 1)))
    return data.normalise(torch.from_numpy(np.stack(out)))


__all__ = ["jpeg_round_trip"]

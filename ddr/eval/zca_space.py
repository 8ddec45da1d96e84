"""ZCA preprocessing (MTT/DATM; reference 2.4): fitted once on the real training pixels in [0, 1] with
kornia's semantics, then applied to the training, test and random sets alike. Distilled sets evaluated
under such a protocol are expected in the whitened space already (as MTT/DATM save them)."""
from __future__ import annotations

from ddr.augment import ZCA
from ddr.data.real_data import RealData
from ddr.errors import DDRError


def whiten(data: RealData, eps: float) -> tuple[RealData, ZCA]:
    from ddr.data.streaming import StreamedData

    if isinstance(data, StreamedData):
        raise DDRError(f"{data.name}: ZCA whitening needs the training split in memory, but it is streamed "
                       f"(above DDR_MAX_DATA_BYTES); raise the limit or use a smaller im_size")
    zca = ZCA().fit(data.denormalise(data.x_train), eps=eps)
    white = RealData(
        name=data.name, x_train=zca.transform(data.denormalise(data.x_train)), y_train=data.y_train,
        x_test=zca.transform(data.denormalise(data.x_test)), y_test=data.y_test, num_classes=data.num_classes,
        mean=data.mean, std=data.std, source=f"{data.source} + zca(eps={eps:g})",
    )
    return white, zca

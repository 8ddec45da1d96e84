"""ZCA whitening fitted once on a training set (MTT/DATM preprocessing, kornia's ZCAWhitening semantics).

kornia (what DD-Ranking and MTT call with eps=0.1, compute_inv=True): flatten each image to a vector,
centre with the training mean, cov = Xc^T Xc / (N - 1), cov = U diag(S) U^T,
W = U diag(1 / sqrt(S + eps)) U^T, transform(x) = (x - mean) W.

Here the covariance and its decomposition are computed in float64 (eigh on the symmetric matrix,
accumulated over chunks so the N x D data are never copied to float64 at once); W is stored in
float32. Results agree with kornia up to float32 rounding. Memory: the D x D covariance in float64,
D = C*H*W (CIFAR: 3072^2 * 8 B = 75 MB; 64 px: 1.2 GB). DD-Ranking's separate 'zca' batch
augmentation refitted ZCA on every batch (reference 2.4); that mode is deliberately not offered:
ZCA is a data-set transform, fitted on the training split and applied to train and test alike.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ddr.errors import DDRError


class ZCA:
    def __init__(self) -> None:
        self.mean: Tensor | None = None
        self.matrix: Tensor | None = None
        self.inverse: Tensor | None = None
        self.eps: float | None = None

    def fit(self, x_train: Tensor, eps: float = 0.1, chunk: int = 4096) -> ZCA:
        if x_train.dim() < 2 or len(x_train) < 2:
            raise DDRError("ZCA.fit needs at least two samples")
        if eps < 0:
            raise DDRError(f"ZCA eps must be >= 0, got {eps}")
        flat = x_train.reshape(len(x_train), -1)
        n, d = flat.shape
        total = torch.zeros(d, dtype=torch.float64)
        for i in range(0, n, chunk):
            total += flat[i:i + chunk].to("cpu", torch.float64).sum(0)
        mean = total / n
        cov = torch.zeros(d, d, dtype=torch.float64)
        for i in range(0, n, chunk):
            c = flat[i:i + chunk].to("cpu", torch.float64) - mean
            cov += c.T @ c
        cov /= n - 1  # kornia's unbiased estimate
        s, u = torch.linalg.eigh(cov)
        s = s.clamp_min(0)  # tiny negative eigenvalues from rounding
        self.matrix = ((u * torch.rsqrt(s + eps)) @ u.T).float()
        self.inverse = ((u * torch.sqrt(s + eps)) @ u.T).float()
        self.mean, self.eps = mean.float(), float(eps)
        return self

    def _check(self, x: Tensor) -> None:
        if self.matrix is None:
            raise DDRError("ZCA: call fit() before transform()")
        if x[0].numel() != self.matrix.shape[0]:
            raise DDRError(f"ZCA fitted on {self.matrix.shape[0]} features; got samples of {x[0].numel()}")

    def transform(self, x: Tensor) -> Tensor:
        self._check(x)
        flat = x.reshape(len(x), -1)
        m, w = self.mean.to(x.device), self.matrix.to(x.device)
        return ((flat - m) @ w).reshape(x.shape)

    def inverse_transform(self, x: Tensor) -> Tensor:
        self._check(x)
        flat = x.reshape(len(x), -1)
        return (flat @ self.inverse.to(x.device) + self.mean.to(x.device)).reshape(x.shape)

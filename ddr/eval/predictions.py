"""Per-test-image predictions of the selected trainings: a compact codec for the cache, a deterministic
.npz bundle per evaluation (its sha256 goes into result.json), per-class accuracy, and McNemar's test.

The bundle holds `y_test` and one array `<role>/round<r>` per selected training: the predicted class of
every test image, in test order, at the checkpoint the protocol's selection rule reported.
"""
from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ddr.kernel.atomic import atomic_path
from ddr.kernel.digests import sha256_bytes

PREDICTIONS_FILE = "predictions.npz"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip member times fixed, so equal predictions give an equal sha256


def encode(preds: list[int]) -> str:
    """Class indices as base64 of uint8 ('u1:') or uint16 ('u2:') bytes."""
    arr = np.asarray(preds)
    kind = "u1" if arr.size == 0 or arr.max() < 256 else "u2"
    return f"{kind}:" + base64.b64encode(arr.astype(np.uint8 if kind == "u1" else "<u2").tobytes()).decode()


def decode(text: str) -> np.ndarray:
    kind, body = text.split(":", 1)
    return np.frombuffer(base64.b64decode(body), dtype=np.uint8 if kind == "u1" else "<u2").astype(np.int64)


def selected_predictions(trainings: list[dict[str, Any]], by_key: dict[str, dict[str, str]]) -> dict[str, np.ndarray]:
    """`<role>/round<r>` -> predictions at the reported checkpoint, for every selected training that has them."""
    out: dict[str, np.ndarray] = {}
    for t in trainings:
        if not t.get("selected"):
            continue
        epoch = (t.get("selected_point") or {}).get("epoch", t["best_epoch"])
        enc = by_key.get(t["key"], {}).get(str(epoch))
        if enc is not None:
            out[f"{t['role']}/round{t['round']}"] = decode(enc)
    return out


def write_bundle(path: str | Path, y_test: np.ndarray, arrays: dict[str, np.ndarray]) -> str:
    """Write the .npz (deterministic bytes) and return its sha256."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in [("y_test", np.asarray(y_test))] + sorted(arrays.items()):
            data = io.BytesIO()
            np.lib.format.write_array(data, np.ascontiguousarray(arr.astype(np.int16)), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME), data.getvalue(),
                        compress_type=zipfile.ZIP_DEFLATED)
    raw = buf.getvalue()
    Path(path).write_bytes(raw)
    return sha256_bytes(raw)


def read_bundle(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k].astype(np.int64) for k in z.files}


def per_class_accuracy(arrays: dict[str, np.ndarray], y_test: np.ndarray, num_classes: int) -> dict[str, list[float]]:
    """Per role: the accuracy on each class's test images, averaged over rounds."""
    y = np.asarray(y_test)
    by_role: dict[str, list[np.ndarray]] = {}
    for name, preds in arrays.items():
        role = name.split("/", 1)[0]
        correct = preds == y
        by_role.setdefault(role, []).append(np.array([correct[y == c].mean() if np.any(y == c) else np.nan
                                                      for c in range(num_classes)]))
    return {role: [round(float(v), 6) for v in np.mean(v, axis=0)] for role, v in sorted(by_role.items())}


def mcnemar(a_correct: np.ndarray, b_correct: np.ndarray) -> dict[str, Any]:
    """Exact McNemar test on paired right/wrong outcomes: only images where A and B disagree count."""
    from scipy.stats import binomtest

    a, b = np.asarray(a_correct, dtype=bool), np.asarray(b_correct, dtype=bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = only_a + only_b
    p = 1.0 if n == 0 else float(binomtest(only_a, n, 0.5).pvalue)
    # six significant digits, not decimals: a clear difference has a p-value far below 1e-6, not 0
    return {"pairs": int(a.size), "only_a": only_a, "only_b": only_b, "p_value": float(f"{p:.6g}"),
            "acc_a": round(float(a.mean()), 6), "acc_b": round(float(b.mean()), 6)}


def write_predictions(trainings: list[dict[str, Any]], by_key: dict[str, dict[str, str]], data: Any,
                      folder: Path) -> tuple[dict | None, dict | None, Path | None]:
    """Bundle the selected trainings' predictions (`by_key`: training key -> {epoch: encoded}) into
    folder/predictions.npz (atomically). Returns (result.json's `predictions`, `per_class_accuracy`, the
    file) or Nones when no training kept them."""
    arrays = selected_predictions(trainings, by_key)
    if not arrays:
        return None, None, None
    y = data.y_test.cpu().numpy()
    path = folder / PREDICTIONS_FILE
    with atomic_path(path) as tmp:
        digest = write_bundle(tmp, y, arrays)
    selected = sum(1 for t in trainings if t.get("selected"))
    info = {"file": PREDICTIONS_FILE, "sha256": digest, "arrays": sorted(arrays), "test_images": int(len(y)),
            "missing": selected - len(arrays)}
    return info, per_class_accuracy(arrays, y, data.num_classes), path

"""Data-path benchmark: peak resident memory and images/s against the number of training images, for the
streamed image-folder path (ddr.data.streaming) and the resident path it replaces above the memory cap.

For each size N it writes (once, cached under --workdir) an ImageNet-shaped folder of N training JPEGs
(random sizes 256..400 px, noise over a class colour, 10 classes) plus a fixed 200-image val split, then
in a fresh subprocess per (path, N):
  - resident: load_dataset (whole split decoded to float32 in memory), then one epoch of batch slicing;
  - streamed: load_dataset under a 1-byte-above-the-test-split cap (training split left on disk), then one
    epoch of `x_train.batches(perm, batch)` through DataLoader workers;
  - originals: as streamed, but every training image read as the random side of an ImageNet protocol reads
    its baseline (ddr.data.originals): the full-resolution original through sre2l-imagenet1k's per-image
    RandomResizedCrop + flip, per epoch (CutMix stays on the batch and is not timed);
  optionally (--train MODEL) one training epoch of MODEL on the streamed split via train_student.
It prints peak RSS of the process (ru_maxrss) and of its largest worker, load time, epoch images/s, and the
ratios against the smallest N (flat memory: the streamed ratio stays ~1 while the resident one grows ~N).

CPU (this machine):  python benchmarks/bench_data.py --sizes 500 1000 2000 4000
                     python benchmarks/bench_data.py --sizes 500 1000 2000 --paths streamed originals
GPU machine:         python benchmarks/bench_data.py --sizes 5000 20000 80000 --workers 8 --batch 256 \
                         --device cuda --train ResNet-18-BN-tv --skip-resident-above 20000 \
                         --paths streamed resident originals
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAL = 200
CLASSES = 10


def make_folder(base: Path, n: int) -> Path:
    import numpy as np
    from PIL import Image

    root = base / f"in-{n}"
    if (root / ".done").is_file():
        return root
    rng = np.random.default_rng(n)
    for split, count in (("train", n), ("val", VAL)):
        for i in range(count):
            c = i % CLASSES
            d = root / split / f"n{c:08d}"
            d.mkdir(parents=True, exist_ok=True)
            w, h = (int(v) for v in rng.integers(256, 401, 2))
            base_colour = rng.integers(0, 256, 3)
            arr = np.clip(base_colour + rng.normal(0, 30, (h // 8, w // 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).resize((w, h), Image.BILINEAR).save(d / f"{i}.JPEG", quality=90)
    (root / ".done").write_text("")
    return root


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    os.environ["DDR_DATA_WORKERS"] = str(args.workers)
    pixels = 3 * 224 * 224
    if args.path in ("streamed", "originals"):
        os.environ["DDR_MAX_DATA_BYTES"] = str(VAL * pixels + 1)  # the test split fits, nothing else does
    else:
        os.environ["DDR_MAX_DATA_BYTES"] = str(1 << 50)
    from ddr.data import load_dataset
    from ddr.data.streaming import StreamedData

    t0 = time.perf_counter()
    data = load_dataset("imagenet1k", args.root)
    load_s = time.perf_counter() - t0
    assert isinstance(data, StreamedData) == (args.path != "resident")
    n = len(data.x_train)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    seen = 0
    if args.path == "originals":
        from ddr.augment import split_per_image
        from ddr.data.originals import OriginalImages
        from ddr.protocols import load_protocol

        per_image, batch_spec = split_per_image(load_protocol("sre2l-imagenet1k").train.augmentation)
        x = OriginalImages(data.train_paths, ["0" * 64] * n, data.im_size, "RGB", data.mean, data.std, per_image,
                           batch_spec)  # sha256s only name the files in cache keys; not needed to time a pass
        for xb in x.batches(perm, args.batch, pin_memory=args.device == "cuda", gen=torch.Generator().manual_seed(0)):
            xb = xb.to(args.device, non_blocking=True)
            seen += len(xb)
    elif args.path == "streamed":
        for xb in data.x_train.batches(perm, args.batch, pin_memory=args.device == "cuda"):
            xb = xb.to(args.device, non_blocking=True)
            seen += len(xb)
    else:
        x = data.x_train.to(args.device)
        for i in range(0, n, args.batch):
            xb = x[perm[i:i + args.batch].to(args.device)]
            seen += len(xb)
    if args.device == "cuda":
        torch.cuda.synchronize()
    epoch_s = time.perf_counter() - t0
    out = {"path": args.path, "n": n, "load_s": round(load_s, 2), "epoch_s": round(epoch_s, 2),
           "images_per_s": round(seen / epoch_s, 1)}
    if args.train:
        from ddr.protocols import TrainRecipe
        from ddr.train.engine import train_student

        recipe = TrainRecipe(optimizer="sgd", lr=0.1, scheduler="constant", epochs=1, batch_size=args.batch,
                             test_interval=1)
        t0 = time.perf_counter()
        train_student(model=args.train, model_args={}, x=data.x_train, y=data.y_train, x_test=data.x_test,
                      y_test=data.y_test, num_classes=data.num_classes, recipe=recipe, lr=0.1, seed=0,
                      device=args.device)
        train_s = time.perf_counter() - t0
        out.update(train_epoch_s=round(train_s, 2), train_images_per_s=round(n / train_s, 1))
        if args.device == "cuda":
            out["cuda_max_allocated_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["worker_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--train", default=None, help="also time one training epoch of this model on the streamed split")
    ap.add_argument("--paths", nargs="+", default=["streamed", "resident"], choices=["streamed", "resident", "originals"])
    ap.add_argument("--skip-resident-above", type=int, default=None, help="do not run the resident path above this N")
    ap.add_argument("--workdir", default="/tmp/ddr-bench-data")
    ap.add_argument("--json", default=None, help="also write the rows here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--path", default="streamed", help=argparse.SUPPRESS)
    ap.add_argument("--root", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    rows = []
    for n in args.sizes:
        t0 = time.perf_counter()
        root = make_folder(Path(args.workdir), n)
        print(f"# folder of {n} training images ready ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        for path in args.paths:
            if path == "resident" and args.skip_resident_above is not None and n > args.skip_resident_above:
                continue
            cmd = [sys.executable, __file__, "--child", "--path", path, "--root", str(root), "--batch",
                   str(args.batch), "--workers", str(args.workers), "--threads", str(args.threads), "--device",
                   args.device] + (["--train", args.train] if args.train and path == "streamed" else [])
            env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                sys.exit(f"{path} N={n} failed:\n{proc.stderr[-2000:]}")
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| path | N train | load s | epoch images/s | peak RSS MiB | x smallest N | largest worker MiB |")
    print("|---|---|---|---|---|---|---|")
    for path in args.paths:
        sel = [r for r in rows if r["path"] == path]
        for r in sel:
            ratio = r["peak_rss_mib"] / sel[0]["peak_rss_mib"]
            print(f"| {path} | {r['n']} | {r['load_s']} | {r['images_per_s']} | {r['peak_rss_mib']} | {ratio:.2f} | "
                  f"{r['worker_peak_rss_mib']} |")
    by = {(r["path"], r["n"]): r for r in rows}
    for n in args.sizes:
        if ("originals", n) in by and ("streamed", n) in by:
            ratio = by["originals", n]["images_per_s"] / by["streamed", n]["images_per_s"]
            print(f"originals (RRC + flip per full-size image) vs streamed centre-crop decode, N={n}: "
                  f"{ratio:.2f}x the images/s")
    for r in rows:
        if "train_epoch_s" in r:
            print(f"training epoch ({args.train}, N={r['n']}): {r['train_epoch_s']} s, {r['train_images_per_s']} images/s"
                  + (f", cuda max allocated {r['cuda_max_allocated_gib']} GiB" if "cuda_max_allocated_gib" in r else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

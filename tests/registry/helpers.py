"""Builders for ddr.result/v1 files (docs/result-schema.md), checked against the schema evaluations write
with (ddr.eval.result.check_record), and small registry helpers. Tests that need real numbers, predictions
or the exact records an evaluation writes use the real evaluations of tests/registry/real_results.py."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from ddr.eval.result import check_record
from ddr.metrics import ars, lrs, summarize

REAL_ACC = 0.9833


def make_result(method: str, *, dataset: str = "digits", ipc: int = 10, label: str = "hard", kind: str = "lrs",
                syn: float = 0.85, rnd: float = 0.80, spread: float = 0.01, rounds: int = 5, seed: int = 0,
                run_id: str | None = None) -> dict:
    """A result.json mapping whose numbers are consistent: hlr/ior/lrs from per-round accuracies."""
    rng = np.random.default_rng([seed, sum(map(ord, method)), ipc])
    syn_acc = [round(float(x), 4) for x in np.clip(syn + spread * rng.standard_normal(rounds), 0, 1)]
    rnd_acc = [round(float(x), 4) for x in np.clip(rnd + spread * rng.standard_normal(rounds), 0, 1)]
    run_id = run_id or hashlib.md5(f"{method}{dataset}{ipc}{label}{kind}{seed}".encode()).hexdigest()
    if kind == "lrs":
        h = [REAL_ACC - s for s in syn_acc]
        i = [s - r for s, r in zip(syn_acc, rnd_acc)]
        metrics = {"hlr": summarize(h), "ior": summarize(i), "lrs": summarize([lrs(a, b, 0.5) for a, b in zip(h, i)])}
        proto = f"{dataset}-lrs-{label}"
        accs = {"real": REAL_ACC, "syn": syn_acc, "random": rnd_acc}
    else:
        da = [s - r for s, r in zip(syn_acc, rnd_acc)]
        dn = [s - r - 0.01 for s, r in zip(syn_acc, rnd_acc)]
        metrics = {"delta_aug": summarize(da), "delta_noaug": summarize(dn),
                   "ars": summarize([ars(a, b, 0.5) for a, b in zip(da, dn)])}
        proto = f"{dataset}-ars-{label}"
        accs = {"real": REAL_ACC, "syn_aug": syn_acc, "random_aug": rnd_acc}
    record = {
        "schema": "ddr.result/v1", "kind": kind, "label": label, "method": method, "dataset": dataset, "ipc": ipc,
        "model": "ConvNet-2",
        "protocol": {"name": proto, "version": 1, "sha256": hashlib.sha256(proto.encode()).hexdigest()},
        "weight": 0.5, "rounds": rounds, "metrics": metrics, "accuracies": accs,
        "trainings": [{"role": "syn", "round": r, "lr": 0.01, "seed": 1000 + r, "best_acc": syn_acc[r],
                       "best_epoch": 90, "history": [[10, 0.5], [100, syn_acc[r]]], "selected": True,
                       "key": hashlib.sha256(f"{method}{r}".encode()).hexdigest(), "cached": False,
                       "seconds": 0.31, "mlflow_run_id": hashlib.md5(f"{run_id}{r}".encode()).hexdigest()}
                      for r in range(rounds)],
        "inputs": {"distilled": {"path": f"data/distilled/{method}-ipc{ipc}",
                                 "md5": hashlib.md5(method.encode()).hexdigest() + ".dir", "lr": None,
                                 "content_sha256": hashlib.sha256(f"{method}/{ipc}".encode()).hexdigest()},
                   "random": [{"round": r, "seed": r, "indices_sha256": hashlib.sha256(bytes([r, ipc])).hexdigest()}
                              for r in range(rounds)],
                   "dataset": {"name": dataset, "sha256": hashlib.sha256(dataset.encode()).hexdigest(),
                               "source": "sklearn.datasets.load_digits"},
                   "teachers": None},
        "environment": {"ddr": "0.1.0", "python": "3.11.7", "torch": "2.5.1", "device": "cpu",
                        "git_commit": "212e3c7" + "0" * 33, "dvc_lock_md5": "d41d8cd98f00b204e9800998ecf8427e",
                        "platform": "Linux-x86_64"},
        "mlflow": {"tracking_uri": "sqlite:///mlflow.db", "experiment_id": "1", "run_id": run_id},
        "started_at": "2026-11-26T04:00:00Z", "finished_at": "2026-11-26T04:00:30Z", "wall_time_s": 30.1,
    }
    check_record(record, f"make_result({method!r})")  # the shape evaluations write, nothing the registry alone reads
    return record


# method -> (syn acc, random acc): a clear ordering plus two methods close together
DEFAULT_METHODS = {"herding": (0.90, 0.80), "dm": (0.88, 0.80), "kcenter": (0.879, 0.80), "random": (0.80, 0.80)}


def save_result(folder: Path, record: dict) -> Path:
    """Write folder/result.json after checking it has the shape evaluations write (a test that edits a
    made record must still hand the registry something an evaluation could have written)."""
    check_record(record, folder)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(record, indent=2))
    return folder


def write_results(root: Path, methods: dict | None = None, *, ipcs=(10,), kinds=("lrs",), seed: int = 0) -> Path:
    root = Path(root)
    for ipc in ipcs:
        for kind in kinds:
            for m, (s, r) in (methods or DEFAULT_METHODS).items():
                save_result(root / f"{kind}-{m}-ipc{ipc}", make_result(m, ipc=ipc, kind=kind, syn=s, rnd=r, seed=seed))
    return root


def invoke(*args, input=None):
    """Run `ddr registry ...` the way the top-level ddr wrapper does: DDRError -> one line, exit 2."""
    from ddr.errors import DDRError
    from pipelines.registry_cmd import registry_group

    res = CliRunner().invoke(registry_group, [str(a) for a in args], input=input)
    if isinstance(res.exception, DDRError):
        return 2, f"error: {res.exception}"
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def page_banner(page: Path) -> tuple[str, str]:
    """(data-state, text) of a release page's verification banner after its scripts ran in headless Chromium."""
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'<div id="ddr-verify" data-state="([^"]+)"[^>]*>([^<]*)</div>', out.stdout)
    assert m, f"no banner in the rendered page: {out.stdout[:500]} {out.stderr[-500:]}"
    return m.group(1), m.group(2)



def publish_page(root: Path, methods: dict | None = None) -> tuple[Path, str]:
    """A signed release 1.0.0 (LRS and ARS tables) published under root with a new key: (its index.html, key id)."""
    from registry.keyring import Keyring, generate_key
    from registry.ranking import load_results
    from registry.release import publish

    key, kid = generate_key(root / "k.key")
    ring = Keyring(path=root / "keyring.json")
    ring.add(key.public_key())
    publish(load_results([write_results(root / "res", methods, kinds=("lrs", "ars"))]), root / "releases", "1.0.0",
            [key], keyring=ring, resamples=50, repo=root)
    return root / "releases" / "1.0.0" / "index.html", kid

"""Every malformed input found by an adversarial pass over the commands: one line on stderr, exit
status 2, and nothing written (no file created or changed in the project, so no MLflow store or run
either, no result, no cache entry)."""
import hashlib
import json
import os
import pickle

import numpy as np
import pytest
import torch
import yaml

from ddr.data import random_baseline, write_distilled

EVAL = ["eval", "lrs", "--dataset", "digits", "--ipc", "2", "--protocol", "tiny-lrs.yaml"]


def _set(p, digits, name="s", images=None, labels=None, files=None):
    """A distilled-set folder: a valid random baseline, with tensors or side files replaced."""
    ds = random_baseline(digits, 2, 0)
    folder = p / name
    write_distilled(folder, ds)
    (folder / "indices.json").unlink()
    (folder / "meta.json").write_text("{}")
    if images is not None:
        torch.save(images(ds.images), folder / "images.pt")
    if labels is not None:
        torch.save(labels, folder / "labels.pt")
    for fname, content in (files or {}).items():
        (folder / fname).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def eval_set(**kw):
    return lambda p, d: [*EVAL, "--distilled", str(_set(p, d, **kw)), "--out", "res"]


def eval_args(*extra, out=True):
    def make(p, d):
        write_distilled(p / "good", random_baseline(d, 2, 0))
        return [*EVAL, "--distilled", "good", *(["--out", "res"] if out else []), *extra]
    return make


def protocol(edit):
    def make(p, d):
        raw = yaml.safe_load((p / "tiny-lrs.yaml").read_text())
        edit(raw)
        (p / "bad.yaml").write_text(yaml.safe_dump(raw))
        write_distilled(p / "good", random_baseline(d, 2, 0))
        return [*EVAL, "--distilled", "good", "--protocol", "bad.yaml", "--out", "res"]
    return make


def image_folder(p, d):
    for c in range(10):
        (p / "imgs" / f"c{c}").mkdir(parents=True)
        for i in range(2):
            (p / "imgs" / f"c{c}" / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    return [*EVAL, "--distilled", "imgs", "--out", "res"]


def random_with_bad_seed(p, d):
    write_distilled(p / "good", random_baseline(d, 2, 0))
    rb = random_baseline(d, 2, 0)
    rb.meta["seed"] = "abc"
    write_distilled(p / "rb", rb)
    return [*EVAL, "--distilled", "good", "--random", "rb", "--out", "res"]


def grid(text, out=True):
    def make(p, d):
        (p / "grid.yaml").write_text(text)
        return ["eval", "grid", "grid.yaml", "--no-mlflow", *(["--out", "g"] if out else [])]
    return make


def results(edit):
    def make(p, d):
        from tests.registry.helpers import make_result

        for m in ("dm", "herding"):
            r = make_result(m)
            if m == "dm":
                edit(r)
            (p / "runs" / m).mkdir(parents=True)
            (p / "runs" / m / "result.json").write_text(json.dumps(r))
        return ["rank", "runs", "--out", "ranking"]
    return make


def _key(p, mode=0o600, keyring=True):
    from registry.keyring import Keyring, generate_key

    key, _ = generate_key(p / "k.key")
    os.chmod(p / "k.key", mode)
    if keyring:
        ring = Keyring(path=p / "keyring.json")
        ring.add(key.public_key(), "k")
        ring.save()
    from tests.registry.helpers import write_results

    write_results(p / "runs")


def publish(mode=0o600, keyring=True):
    def make(p, d):
        _key(p, mode, keyring)
        return ["registry", "publish", "1.0.0", "--results", "runs", "--key", "k.key", "--keyring", "keyring.json",
                "--no-mlflow", "--resamples", "20"]
    return make


def verify(keyring_text=None, version=None):
    def make(p, d):
        from registry.keyring import Keyring
        from registry.ranking import load_results
        from registry.release import publish as pub

        _key(p)
        pub(load_results([p / "runs"]), p / "releases", "1.0.0", [__import__("registry.keyring", fromlist=["x"])
            .load_private_key(p / "k.key")], keyring=Keyring.load(p / "keyring.json"), resamples=20, repo=p)
        if keyring_text is not None:
            (p / "keyring.json").write_text(keyring_text)
        return ["registry", "verify", *([version] if version else []), "--keyring", "keyring.json"]
    return make


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch owned",))


def cifar_with_code(p, d):
    folder = p / "cifar" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({"data": np.zeros((10, 3072), np.uint8), "labels": list(range(10)), "x": _Payload()}, f)
    return ["eval", "lrs", "--dataset", "cifar10", "--root", "cifar", "--ipc", "1", "--distilled", "nowhere"]


def _grid_spec(path="sets/{bogus}", name="g"):
    return f"name: {name}\ndatasets: [digits]\nipc: [2]\nprotocol: tiny-lrs.yaml\nmethods:\n  m: {{path: '{path}'}}\n"


CASES = {
    # distilled-set files
    "zero-byte images.pt": (eval_set(files={"images.pt": b""}), "cannot read"),
    "0-d labels.pt": (eval_set(labels=torch.tensor(3)), "holds a single number"),
    "invalid meta.json": (eval_set(files={"meta.json": "{method: x"}), "meta.json: invalid JSON"),
    "binary meta.json": (eval_set(files={"meta.json": b"\xff\xfe\x00\x81"}), "meta.json: not a text file"),
    "list meta.json": (eval_set(files={"meta.json": "[1, 2]"}), "must hold a JSON object"),
    "meta.json method not a string": (eval_set(files={"meta.json": '{"method": 7}'}), "'method' must be a non-empty string"),
    "meta.json ipc not a number": (eval_set(files={"meta.json": '{"ipc": "2"}'}), "'ipc' must be a whole number"),
    "meta.json method escapes runs/": (lambda p, d: [*EVAL, "--distilled", str(_set(
        p, d, files={"meta.json": '{"method": "../../../tmp/x"}'}))], "would leave"),
    "invalid indices.json": (eval_set(files={"indices.json": "[[1, 2"}), "indices.json: invalid JSON"),
    "binary indices.json": (eval_set(files={"indices.json": b"\x80\x81"}), "indices.json: not a text file"),
    "mapping indices.json": (eval_set(files={"indices.json": '{"a": 1}'}), "one list of non-negative indices"),
    "indices.json of strings": (eval_set(files={"indices.json": '[["a"]]'}), "one list of non-negative indices"),
    "unreadable image file": (image_folder, "not a readable image"),
    "images uint8": (eval_set(images=lambda x: (x * 10 + 100).clamp(0, 255).to(torch.uint8)), "images are uint8"),
    "images bool": (eval_set(images=lambda x: x > 0), "images are bool"),
    "images complex": (eval_set(images=lambda x: x.to(torch.complex64)), "images are complex64"),
    "images int64": (eval_set(images=lambda x: x.long()), "images are int64"),
    "images absurd magnitude": (eval_set(images=lambda x: x * 1e6), "pixel values reach"),
    "images raw 0-255 floats": (eval_set(images=lambda x: (x * 60 + 120).clamp(0, 255)), "pixel values reach"),
    "random baseline with a text seed": (random_with_bad_seed, "'seed' must be a whole number"),
    # options
    "--device tpu:7": (eval_args("--device", "tpu:7"), "device 'tpu:7'"),
    "--device cuda:99": (eval_args("--device", "cuda:99"), "cuda:99"),
    "--device gibberish": (eval_args("--device", "gpu please"), "unknown device"),
    # protocol fields
    "protocol version as text": (protocol(lambda r: r.update(version="one")), "version must be a whole number"),
    "protocol epochs as text": (protocol(lambda r: r["train"].update(epochs="20")), "epochs must be a whole number"),
    "protocol seed_base as text": (protocol(lambda r: r.update(seed_base="0")), "seed_base must be a whole number"),
    "protocol lr_grid as text": (protocol(lambda r: r.update(lr_grid="0.01")), "lr_grid must list"),
    "protocol lr_grid of texts": (protocol(lambda r: r.update(lr_grid=["1e-2"])), "lr_grid values must be a number"),
    "protocol negative momentum": (protocol(lambda r: r["train"].update(momentum=-0.9)), "momentum must be >= 0"),
    "protocol negative real.lr": (protocol(lambda r: r["real"].update(lr=-0.01)), "lr must be > 0"),
    "protocol negative step_size": (protocol(lambda r: r["train"].update(step_size=-5)), "step_size must be >= 1"),
    "protocol lr_grid NaN": (protocol(lambda r: r.update(lr_grid=[float("nan")])), "must be finite"),
    "protocol real.lr NaN": (protocol(lambda r: r["real"].update(lr=float("nan"))), "lr must be finite"),
    "protocol weight_decay NaN": (protocol(lambda r: r["train"].update(weight_decay=float("nan"))), "must be finite"),
    "protocol kl loss with hard labels": (protocol(lambda r: r["train"].update(loss="kl")), "label 'hard' trains with"),
    "protocol betas not a list": (protocol(lambda r: r["train"].update(betas=0.9)), "betas must be two numbers"),
    # data random
    "data random --ipc -1": (lambda p, d: ["data", "random", "--dataset", "digits", "--ipc", "-1", "--seed", "0",
                                           "--out", "rb"], "--ipc must be at least 1"),
    "data random --ipc 0": (lambda p, d: ["data", "random", "--dataset", "digits", "--ipc", "0", "--seed", "0",
                                          "--out", "rb"], "--ipc must be at least 1"),
    "data random --seed -1": (lambda p, d: ["data", "random", "--dataset", "digits", "--ipc", "1", "--seed", "-1",
                                            "--out", "rb"], "--seed must be at least 0"),
    # grid specs
    "grid path '{bogus}'": (grid(_grid_spec()), "may use only {dataset}, {ipc} and {method}"),
    "grid name escapes runs/": (grid(_grid_spec(path="good", name="../../../tmp/g"), out=False), "would leave"),
    "grid rounds as text": (grid(_grid_spec(path="good") + "rounds: two\n"), "rounds must be a whole number"),
    "grid random_seed as text": (grid("datasets: [digits]\nipc: [2]\nmethods:\n  r: {random_seed: x}\n"),
                                 "random_seed must be a non-negative whole number"),
    # result files
    "result ipc 'abc'": (results(lambda r: r.update(ipc="abc")), "'ipc' must be a positive whole number"),
    "result dataset null": (results(lambda r: r.update(dataset=None)), "'dataset' must be a non-empty string"),
    "result mean beside its rounds": (results(lambda r: r["metrics"]["lrs"].update(mean=5.0)), "per-round values give"),
    "result NaN mean": (results(lambda r: r["metrics"]["lrs"].update(mean=float("nan"))), "not a finite number"),
    # registry
    "keyring entry not a mapping": (verify('{"keys": {"abc": "x"}, "threshold": 1}'), "must be a mapping"),
    "verify an unknown release": (verify(version="7.7.7"), "unknown release '7.7.7'"),
    "publish without a keyring": (publish(keyring=False), "--no-keyring"),
    "publish with a world-readable key": (publish(mode=0o644), "chmod 600"),
    # real data
    "CIFAR batch that would run code": (cifar_with_code, "refusing to load"),
}


def _tree(root):
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_one_line_exit_2_nothing_written(project, ddr_cli, digits, case):
    make, message = CASES[case]
    argv = make(project, digits)
    before = _tree(project)
    code, out, err = ddr_cli(*argv)
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err[-2000:]}"
    assert len(lines) == 1 and lines[0].startswith("ddr: error: ") and message in lines[0], err[-2000:]
    assert out == ""
    assert _tree(project) == before  # no store, run, result, cache entry or output folder appeared
    assert not (project / "owned").exists()

import hashlib
import json
import math
import subprocess
import sys

import pytest
import torch
from mlflow import MlflowClient

import ddr
from ddr import metrics
from ddr.data import random_baseline
from ddr.data.digest import dvc_md5


def _client(project):
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def _all_runs(client):
    exps = client.search_experiments()
    return client.search_runs([e.experiment_id for e in exps]) if exps else []


def test_eval_lrs_end_to_end_with_mlflow(project, store, ddr_cli):
    code, out, err = ddr_cli("data", "random", "--dataset", "digits", "--ipc", "3", "--seed", "100", "--out", "sets/r100")
    assert code == 0, err
    code, out, err = ddr_cli("eval", "lrs", "--distilled", "sets/r100", "--dataset", "digits", "--ipc", "3",
                             "--protocol", "tiny-lrs.yaml", "--out", "res/r100")
    assert code == 0, err
    assert "LRS" in out and "HLR" in out and "[9/9]" in err  # table on stdout, progress on stderr
    res = json.loads((project / "res/r100/result.json").read_text())
    assert res["schema"] == "ddr.result/v1" and res["protocol"]["name"] == "tiny-lrs" and res["protocol"]["version"] == 1
    assert res["method"] == "random" and res["ipc"] == 3 and res["rounds"] == 2
    for name in ("hlr", "ior", "lrs"):
        m = res["metrics"][name]
        assert len(m["per_round"]) == 2 and m["mean"] == pytest.approx(sum(m["per_round"]) / 2)
    acc = res["accuracies"]
    for r in range(2):  # the scores are exactly the formulas applied to the recorded accuracies
        h, i = acc["real"] - acc["syn"][r], acc["syn"][r] - acc["random"][r]
        assert res["metrics"]["hlr"]["per_round"][r] == pytest.approx(h)
        assert res["metrics"]["lrs"]["per_round"][r] == pytest.approx(metrics.lrs(h, i))
    assert 0.0 <= res["metrics"]["lrs"]["mean"] <= 1.0
    trainings = res["trainings"]
    assert len(trainings) == 1 + 2 * 2 * 2  # real + rounds x (syn, random) x LR grid
    assert {t["role"] for t in trainings} == {"real", "syn", "random"}
    assert all(isinstance(t["seed"], int) and t["history"] for t in trainings)
    assert sum(t["selected"] for t in trainings) == 1 + 2 * 2
    assert res["inputs"]["distilled"]["md5"] == dvc_md5(project / "sets/r100")
    assert res["environment"]["torch"] == torch.__version__ and res["environment"]["ddr"] == ddr.__version__

    client = _client(project)
    exp = client.get_experiment_by_name("digits")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.run_id == res["mlflow"]["run_id"] and parent.info.status == "FINISHED"
    tags = parent.data.tags
    assert tags["ddr.method"] == "random" and tags["ddr.dataset"] == "digits" and tags["ddr.ipc"] == "3"
    assert tags["ddr.protocol"] == "tiny-lrs" and tags["ddr.protocol_version"] == "1"
    assert tags["ddr.dvc_md5"] == res["inputs"]["distilled"]["md5"]
    assert parent.data.metrics["lrs_mean"] == pytest.approx(res["metrics"]["lrs"]["mean"])
    assert parent.inputs.dataset_inputs[0].dataset.digest in {res["inputs"]["distilled"]["md5"], res["inputs"]["dataset"]["sha256"][:32]}
    assert any(d.dataset.digest == res["inputs"]["distilled"]["md5"] for d in parent.inputs.dataset_inputs)
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["predictions.npz", "result.json"]
    assert res["predictions"]["sha256"] == hashlib.sha256((project / "res/r100/predictions.npz").read_bytes()).hexdigest()
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == len(trainings)
    by_id = {t["mlflow_run_id"]: t for t in trainings}
    for child in children:
        t = by_id[child.info.run_id]
        hist = client.get_metric_history(child.info.run_id, "test_acc")
        assert [(m.step, m.value) for m in sorted(hist, key=lambda m: m.step)] == [tuple(h) for h in t["history"]]
        assert child.data.params["seed"] == str(t["seed"]) and child.data.tags["ddr.role"] == t["role"]


def test_same_command_twice_gives_identical_metrics(project, ddr_cli):
    """... and with --json the second prints its result.json as one document on stdout, the table on stderr."""
    ddr_cli("data", "random", "--dataset", "digits", "--ipc", "2", "--seed", "7", "--out", "s")
    outs = []
    for run, as_json in (("a", []), ("b", ["--json"])):
        code, out, err = ddr_cli("eval", "lrs", "--distilled", "s", "--dataset", "digits", "--ipc", "2", "--protocol",
                                 "tiny-lrs.yaml", "--out", run, "--no-cache", "--no-mlflow", *as_json)
        assert code == 0, err
        outs.append(json.loads((project / run / "result.json").read_text()))
    assert json.loads(out) == outs[1] and "LRS" in err and "result: b/result.json" in err
    assert outs[0]["metrics"] == outs[1]["metrics"]  # bit for bit on CPU, not approximately
    assert [t["seed"] for t in outs[0]["trainings"]] == [t["seed"] for t in outs[1]["trainings"]]
    assert not (project / "mlflow.db").exists()


def test_interrupted_evaluation_resumes_from_the_cache(project, store, digits):
    ds = random_baseline(digits, 2, 11)
    uri = store
    seen = []

    def stop_after_three(msg):
        seen.append(msg)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ddr.evaluate("lrs", distilled=ds, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", tracking_uri=uri,
                     progress=stop_after_three)
    client = _client(project)
    killed = [r for r in _all_runs(client) if "mlflow.parentRunId" not in r.data.tags]
    assert [r.info.status for r in killed] == ["KILLED"]
    resumed = ddr.evaluate("lrs", distilled=ds, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", tracking_uri=uri)
    assert [t["cached"] for t in resumed.trainings][:3] == [True, True, True]
    assert not any(t["cached"] for t in resumed.trainings[3:])
    fresh = ddr.evaluate("lrs", distilled=ds, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", track=False,
                         use_cache=False)
    assert resumed.metrics == fresh.metrics
    again = ddr.evaluate("lrs", distilled=ds, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", track=False)
    assert all(t["cached"] for t in again.trainings) and again.metrics == fresh.metrics


def test_real_reference_is_shared_across_ipc_and_methods(project, digits):
    a = ddr.evaluate("lrs", distilled=random_baseline(digits, 1, 50), dataset="digits", ipc=1,
                     protocol="tiny-lrs.yaml", track=False)
    b = ddr.evaluate("lrs", distilled=random_baseline(digits, 2, 51), dataset="digits", ipc=2,
                     protocol="tiny-lrs.yaml", track=False)
    ra = [t for t in a.trainings if t["role"] == "real"]
    rb = [t for t in b.trainings if t["role"] == "real"]
    assert len(ra) == len(rb) == 1 and rb[0]["cached"] and ra[0]["key"] == rb[0]["key"]


def test_ddranking_format_folder_and_tensor_api(project, digits):
    folder = project / "ddranking"
    folder.mkdir()
    rb = random_baseline(digits, 2, 3)
    torch.save(rb.images, folder / "images.pt")
    torch.save(torch.nn.functional.one_hot(rb.labels, 10).float(), folder / "labels.pt")
    torch.save(torch.tensor(0.05), folder / "lr.pt")
    res = ddr.evaluate("lrs", distilled=str(folder), dataset="digits", ipc=2, protocol="tiny-lrs.yaml", track=False,
                       out=project / "out")
    assert res.method == "ddranking" and res.inputs["distilled"]["lr"] == pytest.approx(0.05)
    assert (project / "out" / "result.json").is_file()
    mem = ddr.evaluate("lrs", distilled=rb.images, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", track=False)
    assert mem.inputs["distilled"]["md5"].startswith("mem:")
    assert mem.metrics == res.metrics  # same pixels, same protocol -> same numbers, whatever the container


def test_lr_policy_method_trains_both_sides_at_the_sets_lr(project, digits):
    text = (project / "tiny-lrs.yaml").read_text().replace("name: tiny-lrs", "name: tiny-lrs-method")
    (project / "m.yaml").write_text(text + "lr_policy: method\n")
    res = ddr.evaluate("lrs", distilled=random_baseline(digits, 2, 3).images, lr=0.02, dataset="digits", ipc=2,
                       protocol="m.yaml", track=False)
    lrs = {(t["role"], t["lr"]) for t in res.trainings if t["role"] != "real"}
    # the score is symmetric (both sides at the set's LR); DD-Ranking's searched random side is recorded beside it
    assert lrs == {("syn", 0.02), ("random", 0.02), ("random_search", 0.01), ("random_search", 0.05)}
    assert res.metrics["ior"] == res.metrics["ior_random_method"] and "ior_random_search" in res.metrics


def test_shipped_digits_protocol_one_round(project, digits):
    res = ddr.evaluate("lrs", distilled=random_baseline(digits, 10, 99), dataset="digits", ipc=10, rounds=1,
                       track=False)
    assert res.protocol["name"] == "digits-lrs-hard" and len(res.trainings) == 11
    assert res.accuracies["real"] > 0.95 and res.accuracies["syn"][0] > 0.8 and res.accuracies["random"][0] > 0.8
    assert not math.isnan(res.metrics["lrs"]["mean"])


def test_console_script_exit_status(project):
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "eval", "lrs", "--distilled", "nowhere",
                           "--dataset", "digits", "--ipc", "10"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["ddr: error: no such distilled set: nowhere"]


def test_versioned_random_baselines_give_the_same_numbers(project, ddr_cli, digits):
    for seed in (0, 1):
        code, _, err = ddr_cli("data", "random", "--dataset", "digits", "--ipc", "2", "--seed", str(seed), "--out", f"rb{seed}")
        assert code == 0, err
    syn = random_baseline(digits, 2, 42)
    with_dirs = ddr.evaluate("lrs", distilled=syn, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", track=False,
                             use_cache=False, random=["rb0", "rb1"])
    drawn = ddr.evaluate("lrs", distilled=syn, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", track=False,
                         use_cache=False)
    assert with_dirs.metrics == drawn.metrics
    assert [r["md5"] for r in with_dirs.inputs["random"]] == [dvc_md5(project / "rb0"), dvc_md5(project / "rb1")]
    torch.save(torch.zeros(20, 1, 8, 8), project / "rb1" / "images.pt")  # a tampered baseline is refused
    code, _, err = ddr_cli("eval", "lrs", "--distilled", "rb0", "--dataset", "digits", "--ipc", "2", "--protocol",
                           "tiny-lrs.yaml", "--random", "rb0", "--random", "rb1", "--no-mlflow")
    assert code == 2 and "does not match the random baseline of (digits, ipc 2, seed 1)" in err

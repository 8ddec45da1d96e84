"""Soft-label LRS (modes M and S), ARS, accuracy and ZCA, end to end on digits with test-sized protocols."""
import json

import pytest
import torch
from torch import nn

import ddr
from ddr import metrics
from ddr.data import DistilledSet, random_baseline, write_distilled
from ddr.protocols import TrainRecipe
from ddr.train import train_student


@pytest.fixture
def herding_like(project, digits):
    ds = random_baseline(digits, 2, 77)
    ds.meta["method"] = "subset77"
    write_distilled(project / "syn", ds)
    return "syn"


def test_lrs_soft_mode_m_end_to_end(project, store, ddr_cli, herding_like):
    code, out, err = ddr_cli("eval", "lrs", "--distilled", herding_like, "--dataset", "digits", "--ipc", "2",
                             "--protocol", "tiny-soft.yaml", "--out", "res")
    assert code == 0, err
    res = json.loads((project / "res" / "result.json").read_text())
    assert res["label"] == "soft" and res["kind"] == "lrs"
    roles = [t["role"] for t in res["trainings"]]
    assert roles.count("syn_hard") == roles.count("syn") == roles.count("random") == 2 * 2 and roles.count("real") == 1
    acc = res["accuracies"]
    for r in range(2):  # HLR from the hard-label run, IOR from the soft-label runs
        assert res["metrics"]["hlr"]["per_round"][r] == pytest.approx(acc["real"] - acc["syn_hard"][r])
        assert res["metrics"]["ior"]["per_round"][r] == pytest.approx(acc["syn"][r] - acc["random"][r])
    (teacher,) = res["inputs"]["teachers"]
    assert teacher["trained_by"] == "ddr" and len(teacher["sha256"]) == 64 and teacher["test_acc"] > 0.5


def test_mode_m_relabels_the_augmented_batch_with_the_teacher(digits):
    class Marker:  # an augmentation whose output the teacher can recognise
        def __call__(self, x, gen):
            x = x.clone()
            x[:, :, 0, 0] = 42.0
            return x

    class KnownTeacher(nn.Module):  # always says "class 3", and remembers what it saw
        def __init__(self):
            super().__init__()
            self.seen = []

        def forward(self, x):
            self.seen.append(x[:, :, 0, 0].clone())
            out = torch.full((len(x), 10), -10.0)
            out[:, 3] = 10.0
            return out

    t = KnownTeacher()
    rb = random_baseline(digits, 5, 0)
    recipe = TrainRecipe(epochs=30, batch_size=50, scheduler="constant", test_interval=30)
    from ddr.losses import build_loss

    res = train_student(model="ConvNet-2", model_args={"width": 8}, x=rb.images, y=rb.labels, x_test=digits.x_test,
                        y_test=digits.y_test, num_classes=10, recipe=recipe, lr=0.05, seed=0, augment=Marker(),
                        teacher=t, loss_fn=build_loss("kl"))
    assert t.seen and all(bool((s == 42.0).all()) for s in t.seen)  # every batch, after augmentation
    share_of_3 = int((digits.y_test == 3).sum()) / len(digits.y_test)
    assert res.best_acc == pytest.approx(share_of_3, abs=1e-9)  # the student learnt the teacher, not the labels


def test_lrs_soft_mode_s_uses_stored_labels_and_refuses_sets_without(project, ddr_cli, digits):
    ds = random_baseline(digits, 2, 5)
    write_distilled(project / "hard-only", ds)
    code, _, err = ddr_cli("eval", "lrs", "--distilled", "hard-only", "--dataset", "digits", "--ipc", "2",
                           "--protocol", "tiny-soft-s.yaml", "--no-mlflow")
    assert code == 2 and "mode S" in err and len(err.strip().splitlines()) == 1
    soft = DistilledSet(ds.images, torch.nn.functional.one_hot(ds.labels, 10).float() * 5.0, meta={"method": "s"})
    res = ddr.evaluate("lrs", distilled=soft, dataset="digits", ipc=2, protocol="tiny-soft-s.yaml", track=False)
    assert {t["role"] for t in res.trainings} == {"real", "syn_hard", "syn", "random"}
    assert 0.0 <= res.metrics["lrs"]["mean"] <= 1.0


def test_ars_end_to_end(project, store, ddr_cli, herding_like):
    code, out, err = ddr_cli("eval", "ars", "--distilled", herding_like, "--dataset", "digits", "--ipc", "2",
                             "--protocol", "tiny-ars.yaml", "--out", "ars", "--json")
    assert code == 0, err
    res = json.loads((project / "ars" / "result.json").read_text())
    assert json.loads(out) == res and "MLflow:" in err  # --json: the result on stdout, the table on stderr
    acc, m = res["accuracies"], res["metrics"]
    assert set(acc) == {"syn_aug", "random_aug", "syn_noaug", "random_noaug"}
    for r in range(2):
        da, dn = acc["syn_aug"][r] - acc["random_aug"][r], acc["syn_noaug"][r] - acc["random_noaug"][r]
        assert m["ars"]["per_round"][r] == pytest.approx(metrics.ars(da, dn, 0.5))
    assert "ARS" in err
    code, out, err = ddr_cli("eval", "ars", "--distilled", herding_like, "--dataset", "digits", "--ipc", "2",
                             "--protocol", "tiny-lrs.yaml", "--no-mlflow", "--json")
    assert code == 2 and "has no augmentation" in err and out == ""  # bad input: no document


def test_acc_and_zca(project, herding_like, ddr_cli):
    code, out, err = ddr_cli("eval", "acc", "--distilled", herding_like, "--dataset", "digits", "--ipc", "2",
                             "--protocol", "tiny-lrs.yaml", "--no-mlflow", "--out", "acc", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res == json.loads((project / "acc" / "result.json").read_text()) and "acc" in err
    assert len(res["metrics"]["acc"]["per_round"]) == 2 and res["accuracies"]["syn"] == res["metrics"]["acc"]["per_round"]
    z = ddr.evaluate("lrs", distilled=herding_like, dataset="digits", ipc=2, protocol="tiny-zca.yaml", track=False)
    plain = ddr.evaluate("lrs", distilled=herding_like, dataset="digits", ipc=2, protocol="tiny-lrs.yaml", track=False)
    assert z.inputs["dataset"]["sha256"] != plain.inputs["dataset"]["sha256"]  # trained and tested in ZCA space
    assert z.accuracies["real"] > 0.5


def test_user_teacher_checkpoint(project, ddr_cli, herding_like):
    code, out, err = ddr_cli("teacher", "train", "--dataset", "digits", "--protocol", "tiny-soft.yaml", "--out", "t1")
    assert code == 0, err
    meta = json.loads((project / "t1" / "meta.json").read_text())
    assert meta["model"] == "ConvNet-2" and 0 < meta["test_acc"] <= 1 and isinstance(meta["seed"], int)
    res = ddr.evaluate("lrs", distilled=herding_like, dataset="digits", ipc=2, protocol="tiny-soft.yaml",
                       teachers=["t1"], track=False, rounds=1)
    assert res.inputs["teachers"][0]["trained_by"] == "user" and res.inputs["teachers"][0]["sha256"] == meta["sha256"]
    code, _, err = ddr_cli("teacher", "train", "--dataset", "digits", "--protocol", "tiny-soft.yaml", "--model",
                           "ConvNet-1", "--out", "t2")
    assert code == 0, err
    code, _, err = ddr_cli("eval", "lrs", "--distilled", herding_like, "--dataset", "digits", "--ipc", "2",
                           "--protocol", "tiny-soft.yaml", "--teacher", "t2", "--no-mlflow")
    assert code == 2 and "does not fit ConvNet-2" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("patch, message", [
    ("train: {augmentation: {name: dsa, params: {flipp: 0.5}}}", "flipp"),
    ("train: {augmentation: {name: mixup, beta: 1.0}}", "unknown key 'beta'; valid: name, lambda, mix_labels"),
    ("train: {loss: klx}", "unknown loss 'klx'"),
    ("soft: {mode: Q}", "mode must be 'S' or 'M'"),
])
def test_bad_protocol_fields_exit_2(project, ddr_cli, herding_like, patch, message):
    (project / "bad.yaml").write_text(f"name: bad\nversion: 1\ninclude: tiny-soft.yaml\n{patch}\n")
    code, _, err = ddr_cli("eval", "lrs", "--distilled", herding_like, "--dataset", "digits", "--ipc", "2",
                           "--protocol", "bad.yaml", "--no-mlflow")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err

"""The three DD-Ranking behaviours the editions reproduce besides the recipes' fields: DD-Ranking 0.2.0's cached
real accuracies, the horizon of a trained real row's cosine (the table's epochs, not the epochs trained), and
0.1.x's scheduler call after every batch. Each is checked against an independent computation: torch's own
schedulers stepped as DD-Ranking stepped them, the LR seen by every optimiser step of a real training, and
an evaluation whose Acc(real) is the cached constant."""
import dataclasses
import json
import math
import warnings

import mlflow
import numpy as np
import pytest
import torch
from PIL import Image
from torch.optim.optimizer import register_optimizer_step_pre_hook

import ddr
from ddr.data import load_dataset, random_baseline
from ddr.errors import DDRError
from ddr.eval.plan import PlanInputs, plan
from ddr.protocols import TrainRecipe, list_protocols, load_protocol, parse_protocol
from ddr.protocols.editions import EDITION_RULES, RULES, edition_of, with_rules
from ddr.train.batched import train_students_batched
from ddr.train.engine import train_student
from ddr.train.optim import batch_lr_factor, lr_factor


def _lambda_cosine(num_epochs):
    """DD-Ranking 0.2.0's get_lr_scheduler('cosine', ..., num_epochs), verbatim."""
    return lambda step: 0.5 * (1.0 + math.cos(math.pi * step / num_epochs / 2)) if step <= num_epochs else 0


def _torch_lrs(make, epochs, batches, lr, per_batch):
    """The LR each batch trains at under a torch scheduler stepped as DD-Ranking did: once after the epoch
    (0.2.0), or `step(epoch)` after every batch (0.1.x)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated: that is the call 0.1.x made
        for epoch in range(epochs):
            for _ in range(batches):
                out.append(opt.param_groups[0]["lr"])
                opt.step()
                if per_batch:
                    sched.step(epoch)
            if not per_batch:
                sched.step()
    return out


class SeenLRs:
    """The LR of every optimiser step taken while it is active (a global torch optimizer hook)."""

    def __enter__(self):
        self.lrs = []
        self.handle = register_optimizer_step_pre_hook(
            lambda opt, args, kwargs: self.lrs.append(opt.param_groups[0]["lr"]))
        return self

    def __exit__(self, *exc):
        self.handle.remove()


def _train(digits, recipe, x, lr=0.05, seed=3):
    return train_student(model="ConvNet-2", model_args={"width": 8}, x=x.images, y=x.labels, x_test=digits.x_test,
                         y_test=digits.y_test, num_classes=10, recipe=recipe, lr=lr, seed=seed, device="cpu",
                         keep_model=True)


# -- the options of a recipe: absent unless set, so no shipped recipe or cache key moves --------------------
def test_the_new_recipe_options_leave_every_shipped_recipe_dict_unchanged():
    for name in list_protocols():
        proto = load_protocol(name)
        for recipe in (proto.train, proto.real, *(t.train for t in (proto.soft.teachers if proto.soft else ()))):
            d = recipe.as_dict()
            assert "schedule_epochs" not in d and "scheduler_per_batch" not in d
    r = TrainRecipe(epochs=10, batch_size=8, scheduler="cosine", schedule_epochs=4, scheduler_per_batch=True)
    assert r.as_dict()["schedule_epochs"] == 4 and r.as_dict()["scheduler_per_batch"] is True
    with pytest.raises(DDRError, match="schedule_epochs sets a cosine schedule's horizon; scheduler 'step'"):
        TrainRecipe(epochs=10, batch_size=8, scheduler="step", step_size=5, schedule_epochs=4)


# -- 2: a trained real row's cosine over the table's epochs -----------------------------------------------------
@pytest.mark.parametrize("horizon, epochs", [(10, 25), (10, 10), (25, 10)])
def test_lr_factor_with_a_horizon_is_torchs_scheduler_built_with_it(horizon, epochs):
    cos = TrainRecipe(epochs=epochs, batch_size=8, scheduler="cosine", schedule_epochs=horizon)
    full = dataclasses.replace(cos, scheduler="cosineannealing")
    lam = _torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, _lambda_cosine(horizon)), epochs, 1, 1.0, False)
    ann = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=horizon), epochs, 1, 1.0, False)
    assert [lr_factor(cos, e) for e in range(epochs)] == pytest.approx(lam, abs=1e-12)
    assert [lr_factor(full, e) for e in range(epochs)] == pytest.approx(ann, abs=1e-12)
    if epochs > horizon:  # 0.2.0's 'cosine' is 0 past its horizon: the reference stops learning there
        assert lr_factor(cos, horizon) == 0.5 and lr_factor(cos, horizon + 1) == 0.0


def _cosine_real(proto):
    """A digits protocol whose real row is a cosine (the digits protocols' rows are step)."""
    return dataclasses.replace(proto, real=dataclasses.replace(proto.real, scheduler="cosine", step_size=None))


def test_the_ddranking_edition_keeps_a_trained_cosine_rows_horizon_at_the_tables_epochs():
    base = load_protocol("digits-lrs-hard")  # digits: the protocol's real recipe stands in for the row
    q = edition_of(_cosine_real(base), "ddranking-0.2")
    assert (q.real.scheduler, q.real.epochs, q.real.schedule_epochs) == ("cosine", base.train.epochs,
                                                                          base.real.epochs)
    assert q.edition_changes["real.schedule_epochs"] == [None, base.real.epochs]
    # a step row has no horizon: nothing added (and the ledger's step rows stay as measured)
    assert edition_of(base, "ddranking-0.2").real.schedule_epochs is None
    # ddr's cosineannealing real row: quarter-cosine makes it 0.2.0's 'cosine', over the same horizon
    full = dataclasses.replace(base, real=dataclasses.replace(base.real, scheduler="cosineannealing", step_size=None))
    assert edition_of(full, "ddranking-0.2").real.schedule_epochs == base.real.epochs
    # the leaderboard edition's 0.1.x cosine ran over the epochs trained
    assert edition_of(_cosine_real(base), "leaderboard-2025-02").real.schedule_epochs is None


def test_a_real_reference_under_the_horizon_trains_at_the_lrs_ddranking_0_2_set(digits):
    base = load_protocol("digits-lrs-hard")
    real = edition_of(_cosine_real(base), "ddranking-0.2").real
    real = dataclasses.replace(real, epochs=12, schedule_epochs=5, batch_size=512)  # sized for a test
    x = random_baseline(digits, 60, 0)  # 600 images: 2 batches per epoch
    with SeenLRs() as seen:
        _train(digits, real, x, lr=real.lr)
    expected = _torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, _lambda_cosine(5)), 12, 2, real.lr, False)
    assert seen.lrs == pytest.approx(expected, abs=1e-15)
    assert seen.lrs[-1] == 0.0 and seen.lrs[10] == pytest.approx(0.5 * real.lr)  # epoch 5 = the horizon


# -- 3: 0.1.x's scheduler call after every batch -----------------------------------------------------------------
def test_the_leaderboard_edition_steps_its_scheduler_after_every_batch_as_0_1_did(digits):
    proto = edition_of(load_protocol("digits-lrs-hard"), "leaderboard-2025-02")
    recipe = proto.train
    assert recipe.scheduler_per_batch and proto.real.scheduler_per_batch
    assert proto.edition_changes["train.scheduler_per_batch"] == [None, True]
    x = random_baseline(digits, 60, 1)  # 600 images at batch 256: 3 batches per epoch
    with SeenLRs() as seen:
        res = _train(digits, recipe, x, lr=0.05)
    # 0.1.x: StepLR(epochs // 2 + 1, 0.1) and lr_scheduler.step(epoch) after every batch
    expected = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=recipe.step_size, gamma=0.1),
                          recipe.epochs, 3, 0.05, True)
    assert seen.lrs == pytest.approx(expected, rel=1e-12)
    k = 3 * recipe.step_size  # the first batch of the epoch the LR decays in ran at the previous epoch's LR
    assert seen.lrs[k - 1:k + 2] == pytest.approx([0.05, 0.05, 0.005])
    assert [batch_lr_factor(recipe, recipe.step_size, b) for b in (0, 1)] == pytest.approx([1.0, 0.1])
    # ddr's loop (the option off) sets the epoch's LR before its first batch
    with SeenLRs() as plain:
        other = _train(digits, dataclasses.replace(recipe, scheduler_per_batch=False), x, lr=0.05)
    assert plain.lrs == pytest.approx(_torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(
        o, step_size=recipe.step_size, gamma=0.1), recipe.epochs, 3, 0.05, False), rel=1e-12)
    assert plain.lrs[k] == pytest.approx(0.005)
    assert not torch.equal(other.model.classifier.weight, res.model.classifier.weight)  # a different student


def test_the_batched_engine_honours_the_per_batch_step(digits):
    sets = [random_baseline(digits, 5, s) for s in (0, 1)]
    recipe = TrainRecipe(epochs=6, batch_size=32, scheduler="step", step_size=1, gamma=0.1, test_interval=2,
                         scheduler_per_batch=True)  # 50 images: 2 batches per epoch, a decay every epoch
    lrs, seeds = [0.05, 0.1], [7, 8]

    def batched(r):
        return train_students_batched(model="ConvNet-2", model_args={"width": 8}, x=[s.images for s in sets],
                                      y=[s.labels for s in sets], x_test=digits.x_test, y_test=digits.y_test,
                                      num_classes=10, recipe=r, lrs=lrs, seeds=seeds, device="cpu")

    plain = [train_student(model="ConvNet-2", model_args={"width": 8}, x=s.images, y=s.labels, x_test=digits.x_test,
                           y_test=digits.y_test, num_classes=10, recipe=recipe, lr=lr, seed=sd, device="cpu")
             for s, lr, sd in zip(sets, lrs, seeds)]
    per_batch, per_epoch = batched(recipe), batched(dataclasses.replace(recipe, scheduler_per_batch=False))
    assert sum(abs(a.best_acc - b.best_acc) for a, b in zip(plain, per_batch)) / 2 * 100 <= 0.5  # its tolerance
    assert [r.history for r in per_batch] != [r.history for r in per_epoch]  # the option reaches its loop


@pytest.mark.slow
def test_the_data_parallel_engine_honours_the_per_batch_step(digits):
    from ddr.train.ddp import run_ddp

    ds = random_baseline(digits, 10, 4)  # 100 images at batch 64: 2 batches per epoch, a decay every epoch
    recipe = TrainRecipe(epochs=6, batch_size=64, scheduler="step", step_size=1, gamma=0.1, test_interval=1,
                         scheduler_per_batch=True)
    spec = dict(model="ConvNet-2", model_args={"width": 16}, x=ds.images, y=ds.labels, x_test=digits.x_test,
                y_test=digits.y_test, num_classes=10, recipe=recipe, lr=0.05, seed=1)
    per_batch = train_student(**spec, device="cpu").history
    per_epoch = train_student(**{**spec, "recipe": dataclasses.replace(recipe, scheduler_per_batch=False)},
                              device="cpu").history
    ddp = [tuple(h) for h in run_ddp(spec, nproc=2, env={"OMP_NUM_THREADS": "1"}, timeout=300)["history"]]
    assert [a for _, a in ddp] == pytest.approx([a for _, a in per_batch], abs=0.02)  # its stated tolerance
    assert max(abs(a - b) for (_, a), (_, b) in zip(per_batch, per_epoch)) > 0.05  # the option matters here


# -- 1: the cached real accuracies of DD-Ranking 0.2.0 ---------------------------------------------------------
def test_the_cached_accuracy_replaces_the_real_training_in_the_plan():
    inputs = PlanInputs(dataset="tinyimagenet", ipc=10, rounds=2, data="d")
    base = load_protocol("sre2l-tinyimagenet")
    edited = edition_of(base, "ddranking-0.2")
    assert edited.real_acc_cached == 0.464 and not edited.real_every_round
    (real,) = [s for s in plan("lrs", edited, inputs) if s.role == "real"]
    assert real.engine == "constant" and real.key_inputs is None
    (trained,) = [s for s in plan("lrs", base, inputs) if s.role == "real"]
    assert trained.engine == "" and trained.key_inputs is not None
    assert [s.role for s in plan("lrs", edited, inputs)] == [s.role for s in plan("lrs", base, inputs)]
    with pytest.raises(DDRError, match="--real-checkpoint: the ddranking-0.2 edition of sre2l-tinyimagenet reads "
                                       r"Acc\(real\) from DD-Ranking's cache \(46.4 %\)"):
        plan("lrs", edited, PlanInputs(dataset="tinyimagenet", ipc=10, rounds=2, data="d", real_checkpoint=True))
    # the rule alone (the ledger's unit) and only where the key is cached
    assert with_rules(base, ("cached-real-accuracy",)).real_acc_cached == 0.464
    assert with_rules(load_protocol("digits-lrs-hard"), ("cached-real-accuracy",)) == load_protocol("digits-lrs-hard")
    assert "cached-real-accuracy" in EDITION_RULES["ddranking-0.2"]
    assert "cached-real-accuracy" not in EDITION_RULES["leaderboard-2025-02"]  # 0.1.x had no cache


TINY_TINY = """name: tiny-tinyimagenet
version: 1
dataset: tinyimagenet
label: hard
model: ResNet-18-BN
train: {optimizer: sgd, momentum: 0.9, scheduler: constant, epochs: 1, batch_size: 8, test_interval: 1}
lr_grid: [0.01]
real: {optimizer: sgd, lr: 0.01, scheduler: constant, epochs: 1, batch_size: 8, test_interval: 1}
rounds: 2
"""


def _tinyimagenet(root, classes=3, train=4, val=2):
    """TinyImageNet's class-folder layout at 64 px: noise over a class colour."""
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("val", val)):
        for c in range(classes):
            d = root / split / f"c{c}"
            d.mkdir(parents=True)
            for j in range(n):
                arr = np.clip(rng.normal(60 + 70 * c, 40, (64, 64, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(arr).save(d / f"{j}.png")
    return root


@pytest.fixture
def tiny_tinyimagenet(tmp_path):
    load_dataset.cache_clear()
    yield _tinyimagenet(tmp_path / "tiny")
    load_dataset.cache_clear()


def test_an_evaluation_under_the_ddranking_edition_scores_hlr_with_the_cached_accuracy(tiny_tinyimagenet, tmp_path):
    """A TinyImageNet-format folder written here (3 classes, 64 px) and a test-sized ResNet-18-BN protocol: the
    (tinyimagenet, ResNet-18-BN) key DD-Ranking 0.2.0 read 46.4 % for."""
    (tmp_path / "tiny.yaml").write_text(TINY_TINY)
    data = load_dataset("tinyimagenet", str(tiny_tinyimagenet))
    images = torch.cat([data.x_train[data.y_train == c][:1] for c in range(3)])

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"

    def run(edition):
        return ddr.evaluate("lrs", distilled=images, dataset="tinyimagenet", ipc=1, root=str(tiny_tinyimagenet),
                            protocol=str(tmp_path / "tiny.yaml"), track=edition != "ddr", tracking_uri=uri,
                            cache_dir=str(tmp_path / "cache"), out=str(tmp_path / edition), edition=edition)

    from ddr.eval.plan_report import describe, text
    from ddr.eval.request import EvalRequest

    request = EvalRequest("lrs", distilled=images, dataset="tinyimagenet", ipc=1, root=str(tiny_tinyimagenet),
                          protocol=str(tmp_path / "tiny.yaml"), cache_dir=str(tmp_path / "cache"),
                          edition="ddranking-0.2")
    shown = describe(request)  # --plan: the real reference is read, not trained
    assert shown["trainings"][0]["engine"] == "constant" and shown["trainings"][0]["key"] is None
    assert "real          round 0 lr 0      seed 0          DD-Ranking's cached accuracy" in text(shown)
    ours, theirs = run("ddr"), run("ddranking-0.2")
    doc = json.loads((tmp_path / "ddranking-0.2" / "result.json").read_text())
    assert doc["protocol"]["edition_changes"]["real_acc_cached"] == [None, 0.464]
    assert doc["inputs"]["real_constant"]["key"] == "TinyImageNet-ResNet-18-BN"
    assert doc["inputs"]["real_constant"]["percent"] == 46.4 and doc["inputs"]["real_constant"]["acc"] == 0.464
    assert "REAL_DATA_ACC_CACHE" in doc["inputs"]["real_constant"]["source"]
    (real,) = [t for t in doc["trainings"] if t["role"] == "real"]
    assert real["best_acc"] == 0.464 and real["history"] == [] and real["constant"]["key"] == real["key"][9:]
    assert doc["accuracies"]["real"] == 0.464 and "real_per_round" not in doc["accuracies"]
    child = mlflow.MlflowClient(uri).get_run(real["mlflow_run_id"]).data  # its MLflow run: the constant, no epochs
    assert child.metrics["best_acc"] == 0.464 and child.params["key"] == "constant:TinyImageNet-ResNet-18-BN"
    assert mlflow.MlflowClient(uri).get_run(theirs.mlflow["run_id"]).data.metrics["real_acc"] == 0.464
    assert doc["metrics"]["hlr"]["per_round"] == pytest.approx([0.464 - s for s in doc["accuracies"]["syn"]])
    # ddr's edition trains its reference (and the rest of the evaluation is the same trainings)
    (trained,) = [t for t in ours.trainings if t["role"] == "real"]
    assert trained["history"] and "constant" not in trained and "real_constant" not in ours.inputs
    assert theirs.accuracies["syn"] == ours.accuracies["syn"]
    assert theirs.accuracies["random"] == ours.accuracies["random"]


def test_each_new_behaviour_is_a_named_rule_with_its_reference():
    for name, ref in (("cached-real-accuracy", "2.6"), ("scheduler-per-batch-0.1", "0.1.x")):
        assert RULES[name].name == name and ref in RULES[name].ref and RULES[name].title
    assert "scheduler-per-batch-0.1" in EDITION_RULES["leaderboard-2025-02"]
    assert "scheduler-per-batch-0.1" not in EDITION_RULES["ddranking-0.2"]  # 0.2.0 steps after the epoch


def test_where_a_protocol_must_state_eval_full_data():
    from ddr.protocols.ddranking_tables import eval_full_data_needed

    assert not eval_full_data_needed("tinyimagenet", "ResNet-18-BN-tv", False)  # as DD-Ranking's own configs
    assert eval_full_data_needed("tinyimagenet", "ResNet-18-BN-tv", True)  # trained a cached pair
    assert eval_full_data_needed("cifar100", "ConvNet-3", False)  # nothing cached: DD-Ranking stopped
    assert not eval_full_data_needed("cifar100", "ConvNet-3", True)
    assert not eval_full_data_needed("cifar10", "ResNet-18-BN", False)  # no row: no reference either way
    assert not eval_full_data_needed("digits", "ConvNet-2", False)  # DD-Ranking never had digits


def test_eval_full_data_in_a_protocol_file_overrides_the_tables(tmp_path):
    raw = {**json.loads(json.dumps(load_protocol("sre2l-tinyimagenet").raw)), "eval_full_data": True}
    proto = parse_protocol(raw, "x")
    q = edition_of(proto, "ddranking-0.2")
    assert q.real_acc_cached is None and q.real_every_round and q.real.epochs == proto.train.epochs
    assert (q.real.scheduler, q.real.schedule_epochs) == ("cosine", proto.real.epochs) != (None, proto.train.epochs)
    with pytest.raises(DDRError, match="eval_full_data"):
        parse_protocol({**raw, "eval_full_data": "yes"}, "x")

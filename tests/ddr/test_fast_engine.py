"""The fast paths against the plain engine: a fast path may never move the protocol's results beyond a
stated tolerance, since the plain engine defines the reference numbers.

Tolerances (also in benchmarks/RESULTS.md):
- batched engine, fp32: best accuracy within 0.5 percentage points on average over the students of a
  test (in practice on CPU the histories are identical: the grouped kernels reproduce the separate ones
  almost always; the test only allows for a summation-order difference);
- bf16 autocast: mean best accuracy over 5 seeds within 1.0 pp of fp32 (a looser bound for these
  short CPU runs; the benchmark checks 0.5 pp over 5 seeds on the full protocol);
- channels_last: same tolerance as batched fp32;
- models and recipes the batched engine does not handle fall back to the plain engine bit for bit.
No timings are asserted here: speed belongs to benchmarks/bench_engine.py.
"""
import dataclasses
import statistics

import pytest
import torch

import ddr
from ddr.data import random_baseline
from ddr.errors import DDRError
from ddr.protocols import TrainRecipe
from ddr.train.batched import supports, train_students_batched
from ddr.train.engine import train_student

TOL_PP = 0.5
RECIPE = TrainRecipe(epochs=12, batch_size=32, scheduler="step", step_size=6, test_interval=4)


def _plain(digits, sets, lrs, seeds, model="ConvNet-2", model_args=None, recipe=RECIPE, **opts):
    return [train_student(model=model, model_args=model_args or {"width": 8}, x=s.images, y=s.labels,
                          x_test=digits.x_test, y_test=digits.y_test, num_classes=10, recipe=recipe, lr=lr, seed=sd,
                          device="cpu", **opts)
            for s, lr, sd in zip(sets, lrs, seeds)]


def _batched(digits, sets, lrs, seeds, model="ConvNet-2", model_args=None, recipe=RECIPE, **opts):
    return train_students_batched(model=model, model_args=model_args or {"width": 8}, x=[s.images for s in sets],
                                  y=[s.labels for s in sets], x_test=digits.x_test, y_test=digits.y_test,
                                  num_classes=10, recipe=recipe, lrs=lrs, seeds=seeds, device="cpu", **opts)


def _mean_diff_pp(a, b):
    return statistics.mean(abs(x.best_acc - y.best_acc) for x, y in zip(a, b)) * 100


def _check_same_points(a, b):
    for x, y in zip(a, b):
        assert [e for e, _ in x.history] == [e for e, _ in y.history]
        assert x.best_acc == max(acc for _, acc in x.history) and y.best_acc == max(acc for _, acc in y.history)


@pytest.fixture(scope="module")
def sets(digits):
    return [random_baseline(digits, 5, s) for s in (0, 1)]


def test_batched_matches_plain_over_an_lr_grid_with_per_student_data(digits, sets):
    lrs = [0.01, 0.05, 0.1] * 2
    data = [sets[0]] * 3 + [sets[1]] * 3  # two training sets, three LRs each, as in one LRS round
    seeds = [11, 12, 13, 14, 15, 16]
    plain, batched = _plain(digits, data, lrs, seeds), _batched(digits, data, lrs, seeds)
    _check_same_points(plain, batched)
    assert _mean_diff_pp(plain, batched) <= TOL_PP
    # chunking (max_models) does not change the students' draws
    chunked = _batched(digits, data, lrs, seeds, max_models=4)
    assert _mean_diff_pp(chunked, batched) <= TOL_PP


@pytest.mark.parametrize("model,model_args,recipe", [
    ("ConvNet-2-BN", {"width": 8}, RECIPE),
    ("ConvNet-2-NN", {"width": 8, "act": "leakyrelu", "pool": "maxpooling"}, RECIPE),
    ("ConvNet-1", {"width": 8}, dataclasses.replace(RECIPE, optimizer="adam", scheduler="cosineannealing")),
    ("ConvNet-2", {"width": 8}, dataclasses.replace(RECIPE, optimizer="adamw", weight_decay=0.01, scheduler="cosine")),
    ("ConvNet-2", {"width": 8}, dataclasses.replace(RECIPE, momentum=0.0, weight_decay=0.0, batch_size=20)),
])
def test_batched_matches_plain_for_norms_pools_optimisers_and_schedules(digits, sets, model, model_args, recipe):
    lrs = [0.001, 0.01] if recipe.optimizer != "sgd" else [0.01, 0.05]
    seeds = [3, 4]
    plain = _plain(digits, sets, lrs, seeds, model, model_args, recipe)
    batched = _batched(digits, sets, lrs, seeds, model, model_args, recipe)
    _check_same_points(plain, batched)
    assert _mean_diff_pp(plain, batched) <= TOL_PP


def test_unsupported_models_fall_back_to_the_plain_engine_bit_for_bit(digits, sets):
    assert not supports("MLP", {}, RECIPE, 1, 10, (8, 8))
    assert not supports("ConvNet-2-LN", {}, RECIPE, 1, 10, (8, 8))
    assert supports("ConvNet-2-BN", {}, RECIPE, 1, 10, (8, 8))
    plain = _plain(digits, sets, [0.01, 0.05], [1, 2], "MLP", {"width": 16})
    batched = _batched(digits, sets, [0.01, 0.05], [1, 2], "MLP", {"width": 16})
    assert [r.history for r in plain] == [r.history for r in batched]


def test_bf16_autocast_on_cpu_within_tolerance(digits, sets):
    seeds = [0, 1, 2, 3, 4]
    data, lrs = [sets[0]] * 5, [0.05] * 5
    fp32 = _plain(digits, data, lrs, seeds)
    bf16 = _plain(digits, data, lrs, seeds, amp=True)
    bf16_batched = _batched(digits, data, lrs, seeds, amp=True)
    mean = lambda rs: statistics.mean(r.best_acc for r in rs) * 100  # noqa: E731
    assert abs(mean(bf16) - mean(fp32)) <= 1.0
    assert abs(mean(bf16_batched) - mean(fp32)) <= 1.0


def test_channels_last_within_tolerance(digits, sets):
    lrs, seeds = [0.01, 0.05], [5, 6]
    plain = _plain(digits, sets, lrs, seeds)
    assert _mean_diff_pp(plain, _plain(digits, sets, lrs, seeds, channels_last=True)) <= TOL_PP
    assert _mean_diff_pp(plain, _batched(digits, sets, lrs, seeds, channels_last=True)) <= TOL_PP


def test_deferred_test_counts_equal_the_callback_values(digits, sets):
    seen = []
    kw = dict(model="ConvNet-2", model_args={"width": 8}, x=sets[0].images, y=sets[0].labels, x_test=digits.x_test,
              y_test=digits.y_test, num_classes=10, recipe=RECIPE, lr=0.05, seed=9, device="cpu")
    quiet = train_student(**kw)
    loud = train_student(**kw, on_test=lambda e, a: seen.append((e, a)))
    assert quiet.history == loud.history == seen


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA-only: torch.compile/CUDA graphs are checked on a GPU "
                    "(benchmarks/bench_engine.py --variants batched+compile)")
def test_compiled_batched_step_on_cuda(digits, sets):  # pragma: no cover - GPU machines only
    lrs, seeds = [0.01, 0.05], [5, 6]
    ref = _batched(digits, sets, lrs, seeds)
    got = train_students_batched(model="ConvNet-2", model_args={"width": 8}, x=[s.images for s in sets],
                                 y=[s.labels for s in sets], x_test=digits.x_test, y_test=digits.y_test,
                                 num_classes=10, recipe=RECIPE, lrs=lrs, seeds=seeds, device="cuda", compile=True)
    assert _mean_diff_pp(ref, got) <= 2 * TOL_PP


def test_evaluate_with_the_batched_engine(tmp_path, monkeypatch, digits):
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-lrs.yaml"
    monkeypatch.chdir(tmp_path)
    ds = random_baseline(digits, 2, 5)
    common = dict(distilled=ds, dataset="digits", ipc=2, protocol=str(fixture), track=False)
    with pytest.raises(DDRError, match="unknown engine 'fast'"):
        ddr.evaluate("lrs", engine="fast", **common)
    with pytest.raises(DDRError, match="unknown option 'fp8'"):
        ddr.evaluate("lrs", engine="batched+fp8", **common)
    messages = []
    plain = ddr.evaluate("lrs", cache_dir=tmp_path / "plain", **common)
    batched = ddr.evaluate("lrs", engine="batched", progress=messages.append, cache_dir=tmp_path / "batched", **common)
    assert any("training 8 students at once" in m for m in messages)  # 2 rounds x 2 sides x 2 LRs
    assert len(batched.trainings) == len(plain.trainings) == 9
    by_role = lambda res: [(t["role"], t["round"], t["lr"], t["seed"]) for t in res.trainings]  # noqa: E731
    assert by_role(batched) == by_role(plain)  # same trainings, same order, same seeds
    real_p, real_b = plain.trainings[0], batched.trainings[0]
    assert real_b["key"] == real_p["key"] and real_b["history"] == real_p["history"]  # alone: the plain engine
    for tp, tb in zip(plain.trainings[1:], batched.trainings[1:]):
        assert tb["key"] != tp["key"] and not tb["cached"] and tb["engine"] == "batched"
        assert "engine" not in tp
    diffs = [abs(a - b) * 100 for side in ("syn", "random")
             for a, b in zip(plain.accuracies[side], batched.accuracies[side])]
    assert statistics.mean(diffs) <= TOL_PP
    again = ddr.evaluate("lrs", engine="batched", cache_dir=tmp_path / "batched", **common)  # engine-keyed cache
    assert all(t["cached"] for t in again.trainings) and again.metrics == batched.metrics
    # a plain evaluation never reads batched results; a batched one may reuse plain results (the reference numbers)
    assert not any(t["cached"] for t in ddr.evaluate("lrs", cache_dir=tmp_path / "batched", **common).trainings[1:])
    reuse = ddr.evaluate("lrs", engine="batched", cache_dir=tmp_path / "plain", **common)
    assert all(t["cached"] for t in reuse.trainings) and reuse.metrics == plain.metrics


def test_benchmark_script_runs_on_cpu_and_the_reference_loop_agrees(tmp_path):
    """benchmarks/bench_engine.py stays runnable; its reference loop computes the plain engine's numbers."""
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_engine.py"
    spec = importlib.util.spec_from_file_location("bench_engine", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    bench.main(["--device", "cpu", "--mode", "digits", "--seeds", "1", "--repeats", "1", "--ref-workers", "0",
                "--variants", "plain,batched", "--json", str(out)])
    cell = json.loads(out.read_text())["cell"]
    assert set(cell) == {"ref", "plain", "batched"}
    assert cell["plain"]["diff_pp"] == [0.0]  # same draws, same kernels: the same student
    assert abs(cell["batched"]["diff_pp"][0]) <= TOL_PP
    assert torch.get_num_threads() == 1


def test_soft_label_protocol_batches_its_hard_side_only(tmp_path, digits):
    """Mode M (augmented, teacher-relabelled) trainings stay on the plain engine; Acc(syn, hard) is batched
    when it is unaugmented (the method's augmentation is only batch mixing, which the hard run drops)."""
    from pathlib import Path

    base = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-soft.yaml"
    fixture = tmp_path / "mix-only.yaml"
    fixture.write_text(f"name: tiny-soft-mix\nversion: 1\ninclude: {base}\ntrain: {{augmentation: {{name: mixup}}}}\n")
    ds = random_baseline(digits, 2, 5)
    common = dict(distilled=ds.images, dataset="digits", ipc=2, protocol=str(fixture), label="soft", track=False,
                  rounds=1, cache_dir=tmp_path / "cache")
    messages = []
    plain = ddr.evaluate("lrs", **common)
    batched = ddr.evaluate("lrs", engine="batched", progress=messages.append, **{**common, "cache_dir": tmp_path / "b"})
    assert [m for m in messages if "at once" in m] == ["training 2 students at once (engine batched)"]
    engines = {t["role"]: t.get("engine", "plain") for t in batched.trainings}
    assert engines == {"real": "plain", "syn_hard": "batched", "syn": "plain", "random": "plain"}
    for side in ("syn", "random"):  # the plain engine's trainings: identical
        assert batched.accuracies[side] == plain.accuracies[side]
    assert abs(batched.accuracies["syn_hard"][0] - plain.accuracies["syn_hard"][0]) * 100 <= TOL_PP

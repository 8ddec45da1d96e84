"""The evaluation's explicit seams: a data set held in memory (never registered by name) and the function
that trains each student, passed to run_evaluation instead of patched into modules."""
from pathlib import Path

import torch

from ddr.data.random_baseline import random_baseline
from ddr.data.real import RealData
from ddr.eval.api import evaluate, run_evaluation
from ddr.eval.request import EvalRequest
from ddr.train.engine import train_student

TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "tiny-lrs.yaml")


def test_run_evaluation_trains_the_given_data_with_the_given_trainer(tmp_path, digits):
    torch.set_num_threads(1)
    small = RealData("digits-small", digits.x_train, digits.y_train, digits.x_test[:120], digits.y_test[:120],
                     digits.num_classes, digits.mean, digits.std, source="digits, first 120 test images")
    images = random_baseline(digits, 2, 7).images
    calls: list[float] = []

    def counting(**kw):  # the real trainer, counted
        calls.append(kw["lr"])
        return train_student(**kw)

    protocol = tmp_path / "tiny-any.yaml"
    protocol.write_text(Path(TINY).read_text().replace("dataset: digits", "dataset: any"))
    opts = EvalRequest("lrs", distilled=images, dataset="digits-small", ipc=2, protocol=str(protocol), rounds=1,
                       track=False, use_cache=False)
    res = run_evaluation(opts, data=small, trainer=counting)
    assert res.inputs["dataset"] == {"name": "digits-small", "sha256": small.digest, "source": small.source}
    assert small.digest != digits.digest
    assert len(calls) == len(res.trainings) == 1 + 2 * 2  # the real reference, then 2 sides x 2 LRs
    assert all(len(t["history"]) and t["history"][-1][0] > 0 for t in res.trainings)

    # the keyword API is the same evaluation: on the registered data set it equals run_evaluation's
    kw = dict(distilled=images, dataset="digits", ipc=2, protocol=TINY, rounds=1, track=False, use_cache=False)
    a = evaluate("lrs", **kw)
    b = run_evaluation(EvalRequest("lrs", **kw))
    assert a.metrics == b.metrics and a.accuracies == b.accuracies

"""Editions: the same protocol as ddr corrects it, as DD-Ranking 0.2.0 computes it and as the 0.1.x code behind the
public leaderboard did; recorded in result.json, MLflow and the ranking, and used by the leaderboard comparison."""
import json
import math
from pathlib import Path

import mlflow
import pytest

from ddr.data.random_baseline import random_baseline
from ddr.errors import DDRError
from ddr.eval.api import evaluate
from ddr.eval.request import EvalRequest
from ddr.grid.spec import parse_grid
from ddr.protocols import list_protocols, load_protocol
from ddr.protocols.ddranking_tables import trained_real_reference
from ddr.protocols.editions import EDITIONS, edition_of
from registry.leaderboard import compare, edition_note, read_leaderboard
from registry.ranking import build_ranking, load_results
from registry.page.text import to_csv

TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "tiny-lrs.yaml")


def _shipped():
    return [load_protocol(n if isinstance(n, str) else n[0]) for n in list_protocols()]


def test_the_ddr_edition_is_the_protocol_as_its_file_states_it():
    for proto in _shipped():
        assert edition_of(proto, "ddr") is proto and proto.edition == "ddr" and not proto.edition_changes


def test_the_ddranking_edition_restores_what_ddranking_0_2_computed():
    for proto in _shipped():
        q = edition_of(proto, "ddranking-0.2")
        assert q.edition == "ddranking-0.2" and q.name == proto.name and q.ref == proto.ref  # seeds stay ddr's
        if trained_real_reference(proto.dataset, proto.model):  # else DD-Ranking trained none: ddr's stands
            assert q.real.epochs == proto.train.epochs  # the evaluator's epochs (6.1.8)
            assert q.real.test_interval == proto.train.test_interval  # b1: every 20 in the soft evaluator
            assert q.real.batch_size == 256  # real_batch_size
        else:
            assert q.real == proto.real
        assert (q.real.optimizer, q.real.lr) == (proto.real.optimizer, proto.real.lr)  # its table row
        assert q.train.scheduler == ("cosine" if proto.train.scheduler in ("cosine", "cosineannealing")
                                     else proto.train.scheduler)
        if proto.lr_policy == "method":
            assert q.ior_random == "search"  # the random side LR-searched (1.6.3)
        if proto.label == "soft" and not proto.soft.use_aug_for_hard:  # b3: no batch augmentation, DSA included
            ops = json.dumps(q.hard_recipe().augmentation)
            assert '"dsa"' not in ops and '"mixup"' not in ops and '"cutmix"' not in ops
        assert set(q.edition_changes) == {k for k in q.edition_changes if k.split(".")[0] in
                                          ("train", "real", "hard", "ior_random", "real_every_round",
                                           "crop_originals", "real_acc_cached", "random_jpeg")}
        # Acc(real) read from REAL_DATA_ACC_CACHE (percent there, a fraction here) exactly where 0.2.0 read it
        cached = {("imagenet1k", "ResNet-18-BN-tv"): 0.565, ("tinyimagenet", "ResNet-18-BN-tv"): 0.464}
        assert q.real_acc_cached == cached.get((proto.dataset, proto.model))
        if q.real_acc_cached is not None:
            assert q.edition_changes["real_acc_cached"] == [None, q.real_acc_cached] and q.real == proto.real
        assert q.real_every_round == trained_real_reference(proto.dataset, proto.model)  # retrained per round
        assert q.crop_originals  # b2: a resized image folder cropped from its full-size files
        # random_data_format image on CIFAR (the D4M, SRe2L and RDED configs, reference 2.13): JPEG round trips
        image_cifar = proto.name.split("-")[0] in ("d4m", "sre2l", "rded") and proto.dataset.startswith("cifar")
        assert q.random_jpeg == image_cifar == ("random_jpeg" in q.edition_changes)


def test_the_leaderboard_edition_is_the_0_1_loop():
    for proto in _shipped():
        q = edition_of(proto, "leaderboard-2025-02")
        for recipe in (q.train, q.real):
            assert recipe.test_after == min(math.floor(0.8 * recipe.epochs) + 1, recipe.epochs - 1)
            assert recipe.scheduler != "cosine"  # 0.1.x's cosine was the true one
            if recipe.scheduler == "step":
                assert (recipe.step_size, recipe.gamma) == (recipe.epochs // 2 + 1, 0.1)
        assert q.real.lr == 0.01 and q.real.augmentation is None and q.real.optimizer == proto.train.optimizer
        assert q.real.epochs == proto.train.epochs
        assert not q.random_jpeg  # whether 0.1.x re-encoded CIFAR random baselines is not documented


def test_an_unknown_edition_is_one_line_naming_the_valid_ones():
    with pytest.raises(DDRError, match="unknown edition 'ddranking-0.1'; valid: ddr, ddranking-0.2, leaderboard"):
        EvalRequest("lrs", distilled="x", dataset="digits", ipc=1, edition="ddranking-0.1")
    with pytest.raises(DDRError, match="unknown edition"):
        parse_grid({"datasets": ["digits"], "ipc": [1], "metrics": ["lrs"], "methods": {"r": {"random_seed": 0}},
                    "edition": "v0"}, "spec.yaml", Path("."))


@pytest.fixture(scope="module")
def edition_results(tmp_path_factory, digits):
    """One set evaluated under each edition (tiny protocol, real training, one MLflow store)."""
    root = tmp_path_factory.mktemp("editions")
    images = random_baseline(digits, 2, 11).images
    uri = f"sqlite:///{root / 'mlflow.db'}"
    out = {}
    for edition in EDITIONS:
        out[edition] = evaluate("lrs", distilled=images, dataset="digits", ipc=2, protocol=TINY, rounds=2,
                                method="mine", tracking_uri=uri, cache_dir=str(root / "cache"),
                                out=str(root / edition), edition=edition)
    return root, uri, out


def test_every_result_records_its_edition_in_result_json_and_mlflow(edition_results):
    root, uri, out = edition_results
    client = mlflow.MlflowClient(uri)
    for edition, res in out.items():
        d = json.loads((root / edition / "result.json").read_text())
        assert d["protocol"]["edition"] == edition
        assert bool(d["protocol"].get("edition_changes")) == (edition != "ddr")
        assert client.get_run(res.mlflow["run_id"]).data.tags["ddr.edition"] == edition
    # both DD-Ranking editions train the real reference again in every round, and each round's HLR uses its own
    for edition in ("ddranking-0.2", "leaderboard-2025-02"):
        res = out[edition]
        reals = [t for t in res.trainings if t["role"] == "real"]
        assert [t["round"] for t in reals] == [0, 1] and reals[0]["seed"] != reals[1]["seed"]
        per_round = res.accuracies["real_per_round"]
        assert per_round == [t["best_acc"] for t in reals]
        syn = res.accuracies["syn"]
        assert res.metrics["hlr"]["per_round"] == pytest.approx([a - s for a, s in zip(per_round, syn)])
    assert [t["role"] for t in out["ddr"].trainings].count("real") == 1 and "real_per_round" not in out["ddr"].accuracies
    # the leaderboard edition takes no test point before 0.8 x epochs (tiny-lrs: 20 epochs, test every 5)
    lb = out["leaderboard-2025-02"]
    assert {e for t in lb.trainings for e, _ in t["history"]} <= {20}
    assert any(e < 17 for t in out["ddr"].trainings if t["role"] != "real" for e, _ in t["history"])


def test_the_ddr_edition_is_todays_evaluation(edition_results, digits):
    root, _uri, out = edition_results
    images = random_baseline(digits, 2, 11).images
    plain = evaluate("lrs", distilled=images, dataset="digits", ipc=2, protocol=TINY, rounds=2, method="mine",
                     track=False, cache_dir=str(root / "cache2"))
    assert plain.metrics == out["ddr"].metrics and plain.accuracies == out["ddr"].accuracies


BOARD = ("method,method_reference,verified,date,dataset,ipc,label_type,hlr,ior\n"
         "Mine,,,2025-02-08,digits,2,hard,10.0,1.0\n")


def test_each_edition_is_ranked_in_its_own_table_and_the_leaderboard_compares_like_with_like(edition_results,
                                                                                            tmp_path):
    root, _uri, out = edition_results
    ranking = build_ranking(load_results([str(root / e) for e in EDITIONS]), seed=0)
    lrs = [t for t in ranking["tables"] if t["score"] == "lrs"]
    assert sorted(t.get("edition", "ddr") for t in lrs) == sorted(EDITIONS)
    assert all(len(t["rows"]) == 1 for t in lrs)
    csv_rows = to_csv(ranking).splitlines()
    assert csv_rows[0].endswith(",edition") and {r.rsplit(",", 1)[1] for r in csv_rows[1:]} == set(EDITIONS)

    (tmp_path / "board.csv").write_text(BOARD)
    board = read_leaderboard(tmp_path / "board.csv")
    both = compare(ranking, board)
    assert len(both) == 1 and both[0]["edition"] == "leaderboard-2025-02" and both[0]["edition_matches"]
    assert both[0]["ddr_lrs"] == out["leaderboard-2025-02"].metrics["lrs"]["mean"] and edition_note(both) is None
    only_ddr = compare(build_ranking(load_results([str(root / "ddr")]), seed=0), board)
    assert only_ddr[0]["edition"] == "ddr" and not only_ddr[0]["edition_matches"]
    assert "1 of 1 compared results are of edition ddr" in edition_note(only_ddr)


def test_leaderboard_import_says_when_the_edition_differs(edition_results, tmp_path, ddr_cli):
    root, _uri, _out = edition_results
    csv = tmp_path / "board.csv"
    csv.write_text(BOARD)
    code, stdout, stderr = ddr_cli("leaderboard", "import", str(csv), "--results", str(root / "ddr"), "--json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["comparison"][0]["edition"] == "ddr" and "not leaderboard-2025-02" in stderr
    folders = [a for e in EDITIONS for a in ("--results", str(root / e))]
    code, stdout, stderr = ddr_cli("leaderboard", "import", str(csv), *folders, "--json")
    assert code == 0 and json.loads(stdout)["comparison"][0]["edition_matches"] and "note" not in stderr


def test_a_resized_image_folder_trains_from_its_full_size_files_in_the_ddranking_editions(tmp_path, digits):
    """b2: D4M writes 224 px PNGs of CIFAR; ddr resizes them on load, DD-Ranking's RandomResizedCrop cropped the
    full file. Digits written at 24 px stand in for them."""
    import dataclasses as dc

    from ddr.eval.ledger import write_folder

    folder = write_folder(random_baseline(digits, 1, 3).images, digits, tmp_path / "set", 24)
    proto = load_protocol(TINY)
    proto = dc.replace(proto, train=dc.replace(proto.train, augmentation={"name": "rrc", "scale": [0.5, 1.0]}))
    runs = {e: evaluate("acc", distilled=str(folder), dataset="digits", ipc=1, protocol=proto, rounds=1, track=False,
                        cache_dir=str(tmp_path / "cache"), edition=e) for e in ("ddr", "ddranking-0.2")}
    assert all(not t.get("originals") for t in runs["ddr"].trainings)
    assert all(t.get("originals") for t in runs["ddranking-0.2"].trainings)
    assert runs["ddr"].inputs["distilled"]["resized"]["from"] == [[24, 24]]


def test_the_dvc_plots_of_two_editions_are_two_files(edition_results, tmp_path):
    from pipelines.ranking_plots import write_plots

    root, _uri, _out = edition_results
    ranking = build_ranking(load_results([str(root / e) for e in EDITIONS]), seed=0)
    plots = write_plots(ranking, tmp_path)
    names = sorted(p.name for p in (plots / "scores").iterdir())
    assert len(names) == len(ranking["tables"]) == 3
    assert any(n.endswith("-leaderboard-2025-02.json") for n in names)

"""`ddr eval ... --plan`: the trainings an evaluation needs, with their cache hits, and nothing trained."""
import json

from ddr.data import random_baseline, write_distilled


def test_plan_lists_the_trainings_and_their_cache_hits_without_training(project, ddr_cli, digits):
    write_distilled(project / "set", random_baseline(digits, 1, 4))
    argv = ("eval", "lrs", "--distilled", "set", "--dataset", "digits", "--ipc", "1", "--protocol", "tiny-lrs.yaml")
    code, out, err = ddr_cli(*argv, "--plan")
    assert code == 0, err
    assert out.splitlines()[0].endswith("9 trainings, 0 cached, 9 to train")  # real + 2 rounds x 2 sides x 2 LRs
    assert "[1/9] real" in out and "[9/9] random" in out
    assert not (project / "cache").exists() and not (project / "runs").exists()  # nothing trained, nothing written
    assert not (project / "mlflow.db").exists()

    code, out, err = ddr_cli(*argv, "--no-mlflow", "--rounds", "1", "--out", "res")
    assert code == 0, err
    trained = json.loads((project / "res" / "result.json").read_text())["trainings"]

    code, out, err = ddr_cli(*argv, "--plan", "--json")
    assert code == 0, err
    doc = json.loads(out)  # one document on stdout, the text on stderr
    assert "9 trainings, 5 cached, 4 to train" in err
    assert doc["count"] == len(doc["trainings"]) == 9 and doc["cached"] == 5 and doc["unknown"] == 0
    assert [t["cached"] for t in doc["trainings"]] == [True] * 5 + [False] * 4  # round 0 and the real reference
    assert [(t["role"], t["round"], t["lr"], t["seed"], t["key"]) for t in doc["trainings"][:5]] == \
        [(t["role"], t["round"], t["lr"], t["seed"], t["key"]) for t in trained]


def test_plan_refuses_bad_input_like_the_evaluation(project, ddr_cli, digits):
    write_distilled(project / "set", random_baseline(digits, 1, 4))
    code, out, err = ddr_cli("eval", "ars", "--distilled", "set", "--dataset", "digits", "--ipc", "1",
                             "--protocol", "tiny-lrs.yaml", "--plan", "--json")
    assert code == 2 and out == "" and "no augmentation" in err
    assert "Traceback" not in err

"""One default layout (ddr/paths.py) for results, cell stores and keys: what each command writes without
--out, what the pipeline and the docs name, and what the docs test may skip."""
import json
import shlex

import yaml

from ddr.data import random_baseline, write_distilled
from ddr.paths import GRIDS, KEYRING, PIPELINE_KEY, RUNS
from tests.pipelines.doc_commands import ROOT, SKIP, documented_commands, skip_reason


def test_eval_results_differ_by_kind_and_label_and_are_never_overwritten_without_force(project, digits, ddr_cli):
    write_distilled(project / "sets" / "mine", random_baseline(digits, 1, 5))
    lrs = ("eval", "lrs", "--distilled", "sets/mine", "--dataset", "digits", "--ipc", "1", "--rounds", "1",
           "--no-mlflow")
    code, _, err = ddr_cli(*lrs, "--protocol", "tiny-lrs.yaml")
    assert code == 0, err
    hard = project / RUNS / "digits-ipc1" / "lrs-hard" / "random" / "result.json"
    first = hard.read_bytes()
    code, _, err = ddr_cli(*lrs, "--protocol", "tiny-soft.yaml")  # the protocol's label names the folder
    assert code == 0, err
    soft = project / RUNS / "digits-ipc1" / "lrs-soft" / "random" / "result.json"
    assert json.loads(soft.read_text())["label"] == "soft" and hard.read_bytes() == first

    code, _, err = ddr_cli(*lrs, "--protocol", "tiny-lrs.yaml", "--rounds", "2")
    assert code == 2 and "already holds a finished result" in err and "--force" in err
    assert len(err.strip().splitlines()) == 1 and hard.read_bytes() == first
    code, _, err = ddr_cli(*lrs, "--protocol", "tiny-lrs.yaml", "--rounds", "2", "--force")
    assert code == 0, err
    assert json.loads(hard.read_text())["rounds"] == 2


def test_a_grid_keeps_its_cells_outside_runs_so_publish_sees_each_result_once(project, digits, ddr_cli):
    write_distilled(project / "sets" / "mine", random_baseline(digits, 1, 5))
    (project / "grid.yaml").write_text(yaml.safe_dump({
        "name": "small", "datasets": ["digits"], "ipc": [1], "metrics": ["lrs"], "protocol": "tiny-lrs.yaml",
        "rounds": 1, "methods": {"mine": {"path": "sets/mine"}}}))
    code, _, err = ddr_cli("eval", "grid", "grid.yaml", "--no-mlflow")
    assert code == 0, err
    assert (project / GRIDS / "small" / "grid.json").is_file() and not (project / RUNS).exists()
    code, _, err = ddr_cli("eval", "lrs", "--distilled", "sets/mine", "--dataset", "digits", "--ipc", "1",
                           "--protocol", "tiny-lrs.yaml", "--rounds", "1", "--no-mlflow")
    assert code == 0, err
    code, _, err = ddr_cli("registry", "keygen", "--out", "keys/maint.key")
    assert code == 0 and (project / KEYRING).is_file(), err  # the default keyring
    code, out, err = ddr_cli("registry", "publish", "1.0.0", "--results", "runs/", "--key", "keys/maint.key",
                             "--no-mlflow", "--resamples", "20")
    assert code == 0, err
    code, out, err = ddr_cli("registry", "verify")
    assert code == 0 and "OK: 1 release(s) verified" in out, err


def test_the_pipeline_signs_with_the_keys_every_command_defaults_to():
    release = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["release"]["cmd"]
    words = shlex.split(release)
    assert words[:3] == ["tools/release-key.sh", str(PIPELINE_KEY), str(KEYRING)]
    assert words[words.index("--keyring") + 1] == str(KEYRING) and words[words.index("--key") + 1] == str(PIPELINE_KEY)
    evaluate = shlex.split(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["evaluate"]["cmd"])
    assert evaluate[evaluate.index("--out") + 1] == str(GRIDS / "pipeline")
    main = (ROOT / "tools" / "main.sh").read_text()
    assert "ddr registry verify\n" in main  # as the docs list it: the defaults are the pipeline's


def test_every_skipped_doc_command_is_documented_and_the_rest_are_commands():
    commands = documented_commands()
    for prefix in SKIP:
        assert any(c == prefix or c.startswith(prefix + " ") for _, c in commands), f"stale skip entry {prefix!r}"
    run = [c for _, c in commands if not skip_reason(c)]
    assert len(run) > 30
    for c in run:  # placeholders and alternatives belong in ```text blocks, not in commands to run
        assert not any(w in c.split("#")[0].split() for w in ("...", "PATH", "NAME", "SPEC.yaml")), c
        assert shlex.split(c.split("#")[0])[0] in ("ddr", "dvc", "git", "python"), c

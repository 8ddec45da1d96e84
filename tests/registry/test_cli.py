"""`ddr registry ...` end to end through click, with a real MLflow sqlite store."""
import json
import os
import stat

import click
import pytest

from pipelines.registry_cmd import registry_group
from tests.registry.helpers import invoke, write_results

COMMANDS = ["keygen", "timestamp", "trust", "publish", "verify", "ls", "show", "diff", "reproduce"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_has_example(cmd):
    code, out = invoke(cmd, "--help")
    assert code == 0 and "Example:" in out and f"ddr registry {cmd}" in out


def test_group_commands():
    assert registry_group.list_commands(click.Context(registry_group)) == sorted(COMMANDS)


def test_full_cycle_with_mlflow(tmp_path, monkeypatch, new_store, ddr_cli):
    monkeypatch.chdir(tmp_path)
    new_store(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DDR_PASS", "correct horse")
    res = write_results(tmp_path / "runs")
    code, out = invoke("keygen", "--out", "keys/maint.key", "--passphrase-env", "DDR_PASS", "--name", "alice")
    assert code == 0, out
    assert stat.S_IMODE(os.stat("keys/maint.key").st_mode) == 0o600
    assert json.loads(open("keys/keyring.json").read())["threshold"] == 1

    code, out = invoke("publish", "1.0.0", "--results", res, "--key", "keys/maint.key", "--passphrase-env", "DDR_PASS",
                       "--resamples", 100)
    assert code == 0, out
    assert "mlflow: run" in out
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("releases")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    tags = runs[0].data.tags
    assert tags["ddr.release.version"] == "1.0.0"
    source = json.loads(open("releases/1.0.0/provenance.json").read())["mlflow_run_ids"]
    assert sorted(tags["ddr.source_runs"].split(",")) == sorted(source) and len(source) == 4
    arts = {a.path for a in client.list_artifacts(runs[0].info.run_id, "release-1.0.0")}
    assert "release-1.0.0/release.dsse.json" in arts and "release-1.0.0/index.html" in arts
    assert (tmp_path / "mlartifacts").is_dir() and not (tmp_path / "mlruns").exists()

    write_results(tmp_path / "runs2", {"herding": (0.90, 0.80), "dm": (0.92, 0.80), "kcenter": (0.86, 0.80)})
    code, out = invoke("publish", "1.1.0", "--results", tmp_path / "runs2", "--key", "keys/maint.key",
                       "--passphrase-env", "DDR_PASS", "--resamples", 100, "--no-mlflow", "--notes", "dm rerun")
    assert code == 0, out
    assert "mlflow" not in out

    code, out = invoke("verify")
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "OK: 2 release(s) verified, chain intact"
    code, out = invoke("verify", "1.0.0", "--latest", "1.1.0")
    assert code == 0 and "1 release(s)" in out

    code, out = invoke("ls")
    assert code == 0 and out.splitlines()[0].startswith("1.0.0") and "dm rerun" in out.splitlines()[1]
    code, out, err = ddr_cli("registry", "ls", "--json")  # the document on stdout, the listing on stderr
    assert [r["version"] for r in json.loads(out)] == ["1.0.0", "1.1.0"] and err.startswith("1.0.0")

    code, out = invoke("show")
    assert code == 0 and "# DD-Ranking release 1.1.0" in out
    code, out = invoke("show", "1.0.0", "--format", "csv")
    assert out.startswith("dataset,ipc,label,score,rank,method")
    code, out = invoke("show", "1.0.0", "--format", "provenance")
    assert json.loads(out)["version"] == "1.0.0"

    code, out = invoke("diff", "1.0.0", "1.1.0")
    assert code == 0
    assert "digits/ipc10/hard/lrs:" in out
    assert "  - random: removed (was rank 4" in out
    assert "dm: rank" in out and "-> 1 (up" in out
    code, out, err = ddr_cli("registry", "diff", "1.0.0", "1.1.0", "--json")
    d = json.loads(out)
    assert code == 0 and "digits/ipc10/hard/lrs:" in err
    dm = next(r for r in d["tables"][0]["rows"] if r["method"] == "dm")
    assert dm["rank_to"] == 1 and dm["rank_move"] >= 1 and dm["mean_change"] > 0
    code, out = invoke("diff", "1.1.0", "1.1.0")
    assert "no changes" in out

    # tamper -> exit 1 with a one-line named failure
    with open("releases/1.0.0/ranking.md", "a") as f:
        f.write(" ")
    code, out = invoke("verify")
    assert code == 1 and out.strip() == "FAIL digest mismatch: 1.0.0/ranking.md"


def test_bad_input_is_ddrerror(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_results(tmp_path / "runs")
    assert invoke("keygen", "--out", "k.key")[0] == 0
    code, out = invoke("publish", "one", "--results", "runs", "--key", "k.key", "--no-mlflow")
    assert code == 2 and "not a semantic version" in out
    code, out = invoke("publish", "1.0.0", "--results", "nowhere", "--key", "k.key", "--no-mlflow")
    assert code == 2 and "does not exist" in out
    assert invoke("publish", "1.0.0", "--results", "runs", "--key", "k.key", "--no-mlflow", "--resamples", 20)[0] == 0
    code, out = invoke("publish", "1.0.0", "--results", "runs", "--key", "k.key", "--no-mlflow")
    assert code == 2 and "already exists" in out
    code, out = invoke("show", "1.0.1")
    assert code == 2 and "unknown release '1.0.1'; did you mean '1.0.0'?" in out
    code, out = invoke("verify", "--keyring", "missing.json")
    assert code == 2 and "keyring missing.json does not exist" in out
    code, out = invoke("keygen", "--out", "k.key")
    assert code == 2 and "refusing to overwrite" in out
    code, out = invoke("reproduce", "1.0.0", "--cell", "digits/10/hard/nope")
    assert code == 2 and "unknown cell 'digits/10/hard/nope'" in out
    code, out = invoke("reproduce", "1.0.0", "--cell", "digits/ten/hard/dm")
    assert code == 2 and "not an integer" in out

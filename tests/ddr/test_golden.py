"""Golden results per protocol version: a protocol's content may not change without a version bump, and
neither may the digits numbers (regenerate after a bump: `python -m ddr.protocols.golden PROTOCOL`)."""
import json
import os

import pytest
import torch

from ddr.protocols import list_protocols, load_protocol
from ddr.protocols.golden import GOLDEN_DIR, HASHES, compute_golden, content_sha256, golden_set

REGEN = "bump its version and run `PYTHONPATH=$PWD python -m ddr.protocols.golden {}` (docs: ddr/protocols/README.md)"
GOLDEN = sorted(GOLDEN_DIR.glob("*@*.json"))
TORCH = torch.__version__.split("+")[0]


def _golden(path):
    return json.loads(path.read_text())


def test_every_protocol_version_has_a_pinned_content_hash():
    pinned = json.loads((GOLDEN_DIR / HASHES).read_text())
    for name in list_protocols():
        proto = load_protocol(name)
        recorded = pinned.get(name, {}).get(str(proto.version))
        assert recorded is not None, f"{proto.ref} has no pinned content hash: {REGEN.format('--hashes')}"
        assert recorded == content_sha256(proto), f"{proto.ref} changed without a version bump: {REGEN.format('--hashes')}"


def test_prose_edits_do_not_count_as_content(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("name: a\nversion: 1\ninclude: digits-lrs-hard\ndescription: one\n")
    b = tmp_path / "b.yaml"
    b.write_text("name: a\nversion: 1\ninclude: digits-lrs-hard\ndescription: two\nnotes: more\n")
    c = tmp_path / "c.yaml"
    c.write_text("name: a\nversion: 1\ninclude: digits-lrs-hard\nrounds: 4\n")
    assert content_sha256(load_protocol(str(a))) == content_sha256(load_protocol(str(b)))
    assert content_sha256(load_protocol(str(a))) != content_sha256(load_protocol(str(c)))


def test_every_digits_protocol_has_golden_results_at_its_version():
    have = {p.stem for p in GOLDEN}
    for name in list_protocols():
        proto = load_protocol(name)
        if proto.dataset == "digits":
            assert proto.ref in have, f"no tests/golden/{proto.ref}.json: {REGEN.format(name)}"


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_file_matches_protocol_and_its_own_formulas(path):
    g = _golden(path)
    proto = load_protocol(g["protocol"]["name"])
    if proto.version != g["protocol"]["version"]:
        pytest.skip(f"{path.name} is an earlier version's record")
    assert g["protocol"]["content_sha256"] == content_sha256(proto), f"{proto.ref} content changed: {REGEN.format(proto.name)}"
    assert all(len(v) == g["rounds"] for v in g["metrics"].values())


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_seeds_and_first_hard_training_repeat(path, digits):
    """Fast: every recorded seed is still the one ddr derives, and round 0's selected hard-label
    synthetic training repeats its recorded accuracy bit for bit on the CPU."""
    from ddr.eval.session import EvalSession
    from ddr.train import train_student
    from ddr.train.cache import TrainingCache

    g = _golden(path)
    proto = load_protocol(g["protocol"]["name"])
    if proto.version != g["protocol"]["version"]:
        pytest.skip(f"{path.name} is an earlier version's record")
    session = EvalSession(protocol=proto, data=digits, ipc=g["set"]["ipc"], device=torch.device("cpu"),
                          cache=TrainingCache(None), tracker=None, progress=None, total=0)
    recipes = {"syn": proto.train, "random": proto.train, "syn_hard": proto.hard_recipe(),
               "syn_aug": proto.train, "random_aug": proto.train,
               "syn_noaug": proto.noaug_recipe(), "random_noaug": proto.noaug_recipe()}
    for t in g["trainings"]:
        if t["role"] in recipes:
            assert session.seed(t["role"], t["round"], t["lr"], recipes[t["role"]]) == t["seed"], \
                f"{proto.ref}: seed of {t['role']} round {t['round']} lr {t['lr']} moved: {REGEN.format(proto.name)}"
    if g["torch"] != TORCH:
        pytest.skip(f"golden numbers recorded with torch {g['torch']}, this is {TORCH}")
    if proto.selection != "test":
        pytest.skip("selection on a validation split: the recorded accuracy is not the test maximum (slow check)")
    role = "syn_hard" if proto.label == "soft" else ("syn_noaug" if g["kind"] == "ars" else "syn")
    if role == "syn_noaug" and proto.label == "soft":
        pytest.skip("soft ARS: no hard-label arm")
    recipe = recipes[role]
    best = max((t for t in g["trainings"] if t["role"] == role and t["round"] == 0), key=lambda t: t["best_acc"])
    ds = golden_set(proto)
    from ddr.augment import build_augmentation

    res = train_student(model=proto.model, model_args=proto.model_args, x=ds.images,
                        y=ds.hard_labels(digits.num_classes), x_test=digits.x_test, y_test=digits.y_test,
                        num_classes=digits.num_classes, recipe=recipe, lr=best["lr"], seed=best["seed"],
                        device="cpu", augment=build_augmentation(recipe.augmentation))
    assert res.best_acc == best["best_acc"], f"{proto.ref}: a digits number moved without a version bump: {REGEN.format(proto.name)}"


# Round 0 of a full evaluation costs one to several CPU minutes per protocol; by default it runs for one
# protocol of each kind (hard LRS, soft LRS, ARS), and the fast test above checks every record's
# selected training. DDR_GOLDEN_FULL=1 repeats every record.
FULL_BY_DEFAULT = {"digits-lrs-hard", "digits-lrs-soft", "digits-ars-hard"}


@pytest.mark.slow
@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_results_repeat_in_full(path, tmp_path):
    g = _golden(path)
    if g["protocol"]["name"] not in FULL_BY_DEFAULT and os.environ.get("DDR_GOLDEN_FULL") != "1":
        pytest.skip("repeated in full only with DDR_GOLDEN_FULL=1 (the fast test checks its selected training)")
    proto = load_protocol(g["protocol"]["name"])
    if proto.version != g["protocol"]["version"]:
        pytest.skip(f"{path.name} is an earlier version's record")
    if g["torch"] != TORCH:
        pytest.skip(f"golden numbers recorded with torch {g['torch']}, this is {TORCH}")
    now = compute_golden(proto.name, tmp_path, rounds=1)  # round 0 in full: a fifth of the work

    def first(acc):
        return {k: v[0] if isinstance(v, list) else v for k, v in acc.items()}

    assert {k: v[0] for k, v in now["metrics"].items()} == {k: v[0] for k, v in g["metrics"].items()} \
        and first(now["accuracies"]) == first(g["accuracies"]), \
        f"{proto.ref}: digits numbers moved without a version bump: {REGEN.format(proto.name)}"

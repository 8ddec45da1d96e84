"""The fidelity fixes, each on digits with test-sized protocols: hard-label run keeps per-image ops and
searches its own grid, G-VBSM's recipe, teachers honour augmentation, both IORs under lr_policy method,
the random side keyed on recipe content, paired rounds, and image folders at another size."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ddr
from ddr.data import DistilledSet, random_baseline, read_distilled
from ddr.protocols import FIVE_LR_GRID, load_protocol

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _proto(tmp_path: Path, name: str, body: str, base: str = "tiny-lrs.yaml") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nversion: 1\ninclude: {FIXTURES / base}\n{body}")
    return str(path)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):  # shared: the teacher and the real reference are trained once for the module
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def _eval(cache):
    def run(tmp_path, protocol, ds, kind="lrs", rounds=1, **kw):
        ipc = 2 if not isinstance(ds, DistilledSet) else ds.images.shape[0] // 10
        return ddr.evaluate(kind, distilled=ds, dataset="digits", ipc=ipc, protocol=protocol, rounds=rounds,
                            track=False, cache_dir=cache, **kw)
    return run


@pytest.fixture
def subset(digits):
    ds = random_baseline(digits, 2, 77)
    return DistilledSet(ds.images, ds.labels, meta={"method": "subset77"})


# --- per-image ops kept, batch mixing dropped ------------------------------------------------------
def test_hard_recipe_keeps_per_image_ops_and_drops_only_batch_mixing():
    d4m = load_protocol("d4m-cifar10").hard_recipe()
    names = [op["name"] for op in d4m.augmentation["ops"]]
    assert "cutmix" not in names and {"rrc", "hflip"} <= set(names) and d4m.loss == "ce"
    sre2l = load_protocol("sre2l-cifar10")
    assert "mixup" in str(sre2l.train.augmentation) and "mixup" not in str(sre2l.hard_recipe().augmentation)
    assert load_protocol("digits-lrs-soft").hard_recipe().augmentation == {"name": "dsa"}
    datm = load_protocol("datm-cifar10")  # use_aug_for_hard: the whole augmentation
    assert datm.hard_recipe().augmentation == datm.train.augmentation


# --- the hard-label run searches its own grid -------------------------------------------------------
def test_hard_label_run_searches_hard_lr_grid(tmp_path, subset, _eval):
    assert load_protocol("rded-cifar10-ipc10").hard_lr_grid == FIVE_LR_GRID
    assert load_protocol("rded-cifar10-ipc10").lr_grid == (0.001,)
    proto = _proto(tmp_path, "one-lr-soft", "lr_grid: [0.05]\nhard_lr_grid: [0.01, 0.05]\n", "tiny-soft.yaml")
    res = _eval(tmp_path, proto, subset)
    lrs = {role: sorted({t["lr"] for t in res.trainings if t["role"] == role}) for role in ("syn_hard", "syn", "random")}
    assert lrs == {"syn_hard": [0.01, 0.05], "syn": [0.05], "random": [0.05]}
    assert res.accuracies["syn_hard"][0] == max(t["best_acc"] for t in res.trainings if t["role"] == "syn_hard")


def test_bad_hard_lr_grid_is_refused(tmp_path):
    from ddr.errors import DDRError

    with pytest.raises(DDRError, match="hard_lr_grid values must be > 0"):
        load_protocol(_proto(tmp_path, "bad", "hard_lr_grid: [0.0]\n"))
    with pytest.raises(DDRError, match="ior_random must be .method. or .search., got .both."):
        load_protocol(_proto(tmp_path, "bad2", "ior_random: both\n"))


# --- G-VBSM -------------------------------------------------------------------------------------------
def test_gvbsm_follows_its_own_evaluation_script():
    p = load_protocol("gvbsm-imagenet1k")
    assert p.train.loss == "mse_gt" and p.train.loss_args == {"mse_weight": 1.0, "ce_weight": 0.1}
    assert p.train.scheduler == "cosineannealing"


# --- teachers ---------------------------------------------------------------------------------------
def test_teacher_training_honours_augmentation(digits):
    from ddr.protocols import TeacherSpec, TrainRecipe
    from ddr.teacher_nets import state_digest, train_teacher

    plain = TrainRecipe(epochs=2, batch_size=256, lr=0.01, scheduler="constant", test_interval=1)
    aug = TrainRecipe(epochs=2, batch_size=256, lr=0.01, scheduler="constant", test_interval=1,
                      augmentation={"name": "random_crop", "padding": 1})
    a, _ = train_teacher(TeacherSpec("ConvNet-2", plain, {"width": 8}), digits, 3)
    b, _ = train_teacher(TeacherSpec("ConvNet-2", aug, {"width": 8}), digits, 3)
    assert state_digest(a) != state_digest(b)


def test_teacher_test_acc_recorded_and_self_trained_warned(tmp_path, subset, capsys, _eval):
    res = _eval(tmp_path, str(FIXTURES / "tiny-soft.yaml"), subset)
    (t,) = res.inputs["teachers"]
    assert t["trained_by"] == "ddr" and 0.3 < t["test_acc"] <= 1.0
    err = capsys.readouterr().err
    assert err.count("warning: soft labels from teacher(s) ddr trained itself") == 1 and "--teacher" in err
    # a given checkpoint: its test accuracy is measured, and no warning
    ckpt = Path(t["path"])
    res2 = _eval(tmp_path, str(FIXTURES / "tiny-soft.yaml"), subset, teachers=[str(ckpt)])
    (u,) = res2.inputs["teachers"]
    assert u["trained_by"] == "user" and u["test_acc"] == pytest.approx(t["test_acc"])
    assert "warning" not in capsys.readouterr().err


# --- lr_policy method: both IORs ------------------------------------------------------------------
@pytest.mark.parametrize("side", ["method", "search"])
def test_lr_policy_method_records_both_iors(tmp_path, subset, side, _eval):
    proto = _proto(tmp_path, f"method-{side}", f"lr_policy: method\nior_random: {side}\n")
    ds = DistilledSet(subset.images, subset.labels, lr=0.02, meta=subset.meta)
    res = _eval(tmp_path, proto, ds)
    m, acc = res.metrics, res.accuracies
    assert m["ior_random_method"]["per_round"][0] == pytest.approx(acc["syn"][0] - acc["random"][0])
    assert m["ior_random_search"]["per_round"][0] == pytest.approx(acc["syn"][0] - acc["random_search"][0])
    assert m["ior"] == m[f"ior_random_{side}"]
    assert {t["lr"] for t in res.trainings if t["role"] == "random"} == {0.02}
    assert {t["lr"] for t in res.trainings if t["role"] == "random_search"} == {0.01, 0.05}


# --- random side keyed on recipe content --------------------------------------------------------------
def test_random_side_is_shared_by_protocols_with_the_same_recipe(tmp_path, subset, _eval):
    a = _eval(tmp_path, _proto(tmp_path, "same-a", ""), subset)
    b = _eval(tmp_path, _proto(tmp_path, "same-b", ""), subset)
    c = _eval(tmp_path, _proto(tmp_path, "other", "train: {weight_decay: 0.001}\n"), subset)

    def by_role(res, role):
        return {(t["round"], t["lr"]): t for t in res.trainings if t["role"] == role}

    ra, rb, rc = by_role(a, "random"), by_role(b, "random"), by_role(c, "random")
    assert {k: t["seed"] for k, t in ra.items()} == {k: t["seed"] for k, t in rb.items()}
    assert all(t["cached"] for t in rb.values())  # trained once, served to the second protocol
    assert a.accuracies["random"] == b.accuracies["random"]
    assert {k: t["seed"] for k, t in ra.items()} != {k: t["seed"] for k, t in rc.items()}
    sa, sb = by_role(a, "syn"), by_role(b, "syn")  # the synthetic side stays protocol-seeded
    assert all(sa[k]["seed"] != sb[k]["seed"] for k in sa)
    assert by_role(b, "real")[(0, 0.01)]["cached"]  # the real reference: one per recipe, too


# --- paired rounds ------------------------------------------------------------------------------------
def test_paired_rounds_share_seed_between_sides(tmp_path, subset, _eval):
    res = _eval(tmp_path, _proto(tmp_path, "paired", "paired: true\n"), subset, rounds=2)
    syn = {(t["round"], t["lr"]): t["seed"] for t in res.trainings if t["role"] == "syn"}
    rdm = {(t["round"], t["lr"]): t["seed"] for t in res.trainings if t["role"] == "random"}
    assert syn == rdm and len(set(syn.values())) == 4
    unpaired = _eval(tmp_path, _proto(tmp_path, "unpaired", ""), subset, rounds=2)
    assert {(t["round"], t["lr"]): t["seed"] for t in unpaired.trainings if t["role"] == "random"} == rdm


# --- image folders at another size ----------------------------------------------------------------------
def test_image_folder_at_another_size_is_resized_and_recorded(tmp_path, digits, _eval):
    folder = tmp_path / "big"
    ds = random_baseline(digits, 2, 5)
    pixels = digits.denormalise(ds.images)  # [0, 1], N x 1 x 8 x 8
    for i, (img, y) in enumerate(zip(pixels, ds.labels)):
        (folder / f"c{int(y)}").mkdir(parents=True, exist_ok=True)
        arr = (img[0].numpy() * 255).round().astype(np.uint8)
        Image.fromarray(arr).resize((24, 24), Image.NEAREST).save(folder / f"c{int(y)}" / f"{i}.png")
    read = read_distilled(folder, digits)
    assert read.images.shape == (20, 1, 8, 8)
    assert read.meta["resized"] == {"from": [[24, 24]], "to": [8, 8], "interpolation": "bilinear (PIL, antialiased)"}
    # nearest x3 up, then antialiased bilinear down: close to the original pixels on average
    assert (digits.denormalise(read.images) - pixels).abs().mean() < 0.08
    res = _eval(tmp_path, str(FIXTURES / "tiny-lrs.yaml"), folder)
    assert res.inputs["distilled"]["resized"]["from"] == [[24, 24]]
    assert 0 <= res.metrics["lrs"]["mean"] <= 1


# --- cross-architecture evaluation ---------------------------------------------------------------
def test_cross_arch_protocol_is_named_versioned_and_distinct():
    from ddr.errors import DDRError
    from ddr.protocols.cross_arch import STUDENTS, cross_arch_names
    from ddr.protocols.golden import content_sha256

    base = load_protocol("dm-cifar10")
    assert STUDENTS == ("ConvNet", "ResNet-18", "VGG-11", "AlexNet")
    assert cross_arch_names(base) == ["dm-cifar10", "dm-cifar10:ResNet-18", "dm-cifar10:VGG-11", "dm-cifar10:AlexNet"]
    d = load_protocol("dm-cifar10:ResNet-18")
    assert d.name == "dm-cifar10:ResNet-18" and d.version == base.version and d.ref == f"dm-cifar10:ResNet-18@{base.version}"
    assert d.model == "ResNet-18" and d.model_args == {} and d.train == base.train and d.real == base.real
    assert content_sha256(d) != content_sha256(base) and d.raw["cross_arch"] == {"base": base.ref, "student": "ResNet-18"}
    with pytest.raises(DDRError, match="unknown student model 'ResNet-19'"):
        load_protocol("dm-cifar10:ResNet-19")
    with pytest.raises(DDRError, match="already trains ConvNet-3"):
        load_protocol("dm-cifar10:ConvNet-3")
    with pytest.raises(DDRError, match="unknown protocol"):
        load_protocol("no-such:AlexNet")


def test_cross_arch_evaluation_trains_the_student(tmp_path, subset, _eval):
    res = _eval(tmp_path, f"{FIXTURES / 'tiny-lrs.yaml'}:ConvNet-1", subset)
    assert res.model == "ConvNet-1" and res.protocol["student"] == "ConvNet-1"
    assert res.protocol["name"] == "tiny-lrs:ConvNet-1"
    base = _eval(tmp_path, str(FIXTURES / "tiny-lrs.yaml"), subset)
    assert "student" not in base.protocol
    real = [t for t in res.trainings if t["role"] == "real"][0]
    assert real["key"] != [t for t in base.trainings if t["role"] == "real"][0]["key"]  # the reference is the student's

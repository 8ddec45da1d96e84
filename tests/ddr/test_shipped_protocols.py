"""Every shipped protocol loads, names itself after its file, targets a known data set, and its student,
teachers and augmentation build (and run, up to 64 px) on that data set's shape."""
from functools import lru_cache
from pathlib import Path

import pytest
import torch

from ddr.augment import build_augmentation
from ddr.data.real_data import DATASETS
import ddr.protocols
from ddr.models import build_model
from ddr.protocols import list_protocols, load_protocol

# (channels, H, W, classes) of each data set a shipped protocol may name
SHAPES = {
    "digits": (1, 8, 8, 10),
    "cifar10": (3, 32, 32, 10),
    "cifar100": (3, 32, 32, 100),
    "tinyimagenet": (3, 64, 64, 200),
    "imagenet1k": (3, 224, 224, 1000),
}
MAX_FORWARD_PX = 64  # above this only build (a forward at 224 px is checked once, below)
PROTOCOLS = list_protocols()


@lru_cache(maxsize=None)
def _built(model: str, args: tuple, dataset: str) -> torch.nn.Module:
    c, h, w, k = SHAPES[dataset]
    torch.manual_seed(0)
    return build_model(model, c, k, (h, w), **dict(args)).eval()


def _check(model: str, args: dict, dataset: str) -> None:
    c, h, w, k = SHAPES[dataset]
    net = _built(model, tuple(sorted(args.items())), dataset)
    if max(h, w) <= MAX_FORWARD_PX:
        with torch.no_grad():
            out = net(torch.randn(2, c, h, w))
        assert out.shape == (2, k)
    else:
        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        assert last.out_features == k


def test_there_are_protocols_and_bases_are_hidden():
    assert len(PROTOCOLS) >= 40
    assert not [n for n in PROTOCOLS if n.startswith("_")]


@pytest.mark.parametrize("name", PROTOCOLS)
def test_shipped_protocol(name):
    p = load_protocol(name)
    assert p.name == name, f"{name}.yaml declares name {p.name!r}"
    assert p.version >= 1  # the exact version and content are pinned in tests/golden/protocols.json
    assert p.ddp == (p.dataset == "imagenet1k")
    assert p.dataset in DATASETS and p.dataset in SHAPES
    assert p.description and "\n" not in p.description
    _check(p.model, p.model_args, p.dataset)
    if p.soft is not None:
        for t in p.soft.teachers:
            _check(t.model, t.model_args, p.dataset)
            assert t.train.lr is not None
            if p.dataset != "digits":  # crop + flip (RRC + flip on ImageNet), as checkpoints are trained
                assert "hflip" in str(t.train.augmentation)
    assert p.real.lr is not None
    c, h, w, _ = SHAPES[p.dataset]
    aug = build_augmentation(p.train.augmentation)
    if aug is not None and max(h, w) <= MAX_FORWARD_PX:
        x = torch.randn(4, c, h, w)
        out = aug(x, torch.Generator().manual_seed(0))
        assert out.shape == x.shape and torch.isfinite(out).all()


def test_torchvision_resnet_forward_at_224():
    net = _built("ResNet-18-BN-tv", (), "imagenet1k")
    with torch.no_grad():
        assert net(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


def test_readme_lists_every_leaderboard_protocol():
    readme = Path(ddr.protocols.__file__).with_name("README.md")
    if not readme.is_file():  # an installed wheel ships only the YAML files
        pytest.skip("ddr/protocols/README.md not present")
    text = readme.read_text()
    missing = [n for n in PROTOCOLS if not n.startswith("digits-") and f"`{n}`" not in text]
    assert not missing, f"ddr/protocols/README.md lacks {missing}"


@pytest.mark.parametrize("name", ["mobilenet_v2-tv", "shufflenet_v2_x0_5-tv", "efficientnet_b0-tv"])
def test_torchvision_ensemble_members(name):
    from ddr.models import list_models, parse_model_name

    assert name in list_models()
    assert parse_model_name(name) == (name[:-3], None, "tv")
    torch.manual_seed(0)
    net = build_model(name, 3, 7, (64, 64)).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 3, 64, 64)).shape == (2, 7)


def test_torchvision_members_refuse_bad_inputs():
    from ddr.errors import DDRError

    with pytest.raises(DDRError, match="3-channel"):
        build_model("mobilenet_v2-tv", 1, 10, (64, 64))
    with pytest.raises(DDRError, match="no model_args"):
        build_model("mobilenet_v2-tv", 3, 10, (64, 64), width=8)
    with pytest.raises(DDRError, match="unknown model"):
        build_model("resnet18-tv", 3, 10, (64, 64))

"""ResNet / VGG / AlexNet families: forward + backward on 8x8x1 and 32x32x3 batches, naming, structure."""
import pytest
import torch
from torch import nn

from ddr.errors import DDRError
from ddr.models import build_model, list_models, parse_model_name

NEW = [n for n in list_models() if n.split("-")[0] in ("ResNet", "VGG", "AlexNet")]


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)], ids=["8x8x1", "32x32x3"])
@pytest.mark.parametrize("name", NEW)
def test_forward_backward(name, shape):
    torch.manual_seed(0)
    net = build_model(name, shape[0], 5, shape[1:])
    x = torch.randn(2, *shape)
    out = net(x)
    assert out.shape == (2, 5) and torch.isfinite(out).all()
    out.square().mean().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_all_new_names_listed_and_parse():
    assert {"ResNet-18", "ResNet-18-BN", "ResNet-18-BN-tv", "ResNet-50", "VGG-11", "VGG-19-BN", "AlexNet"} <= set(NEW)
    assert parse_model_name("ResNet-34-BN-tv") == ("ResNet", 34, "BN-tv")
    for bad in ("ResNet", "ResNet-20", "VGG-12", "AlexNet-BN", "ConvNet-3-BN-tv", "VGG-11-BN-tv"):
        with pytest.raises(DDRError, match="unknown model"):
            parse_model_name(bad)


def test_norm_choice():
    inst = build_model("ResNet-18", 3, 10, (32, 32))
    bn = build_model("ResNet-18-BN", 3, 10, (32, 32))
    assert any(isinstance(m, nn.GroupNorm) and m.num_groups == m.num_channels for m in inst.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in inst.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in bn.modules())
    vgg = build_model("VGG-11", 3, 10, (32, 32))
    assert any(isinstance(m, nn.GroupNorm) for m in vgg.modules())


def test_torchvision_stem_and_keys():
    import torchvision

    small = build_model("ResNet-18-BN-tv", 3, 10, (32, 32))
    assert small.conv1.kernel_size == (3, 3) and small.conv1.stride == (1, 1) and small.conv1.bias is None
    assert isinstance(small.maxpool, nn.Identity)
    big = build_model("ResNet-18-BN-tv", 3, 10, (96, 96))
    assert big.conv1.kernel_size == (7, 7) and isinstance(big.maxpool, nn.MaxPool2d)
    ref = torchvision.models.resnet18(weights=None, num_classes=10)
    assert set(small.state_dict()) == set(ref.state_dict())  # loads DD-Ranking/torchvision checkpoints
    assert build_model("ResNet-18-BN-tv", 1, 10, (96, 96)).conv1.in_channels == 1


def test_cifar_resnet_geometry_matches_reference():
    # DD-Ranking: stride-1 conv1 at 32 px, stride 2 at 64 px, 512*expansion features into the classifier
    assert build_model("ResNet-18", 3, 10, (32, 32)).conv1.stride == (1, 1)
    assert build_model("ResNet-18", 3, 10, (64, 64)).conv1.stride == (2, 2)
    assert build_model("ResNet-50-BN", 3, 10, (32, 32)).classifier.in_features == 2048
    assert build_model("AlexNet", 3, 10, (32, 32)).fc.in_features == 192 * 4 * 4  # DC's fixed size


def test_any_input_size():
    torch.manual_seed(0)
    for name in ("ResNet-18-BN", "VGG-11", "AlexNet"):
        for size in ((64, 64), (28, 28), (48, 40)):
            net = build_model(name, 3, 4, size).eval()
            assert net(torch.randn(1, 3, *size)).shape == (1, 4)


def test_bad_model_args():
    with pytest.raises(DDRError, match="bad model_args"):
        build_model("AlexNet", 3, 10, (32, 32), width=64)


def test_small_inputs_keep_two_pixel_maps():
    # instance norm on 1x1 maps is a constant: small inputs stop downsampling at 2 px
    feats = {}
    net = build_model("ResNet-18", 1, 10, (8, 8))
    net.layer4.register_forward_hook(lambda m, i, o: feats.update(r=o.shape))
    net(torch.randn(2, 1, 8, 8))
    assert feats["r"][-2:] == (2, 2)
    vgg = build_model("VGG-11", 3, 10, (8, 8))
    vgg.features[-2].register_forward_hook(lambda m, i, o: feats.update(v=o.shape))  # before the last pool
    vgg(torch.randn(2, 3, 8, 8))
    assert min(feats["v"][-2:]) >= 2

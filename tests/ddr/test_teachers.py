"""Teacher checkpoints: strict loading, one-line errors on mismatch, frozen ensemble = mean of logits."""
import pytest
import torch

from ddr.errors import DDRError
from ddr.models import build_model
from ddr.teacher_nets import TeacherEnsemble, load_teacher

ARGS = {"width": 8}


def save(tmp_path, name="ConvNet-2", seed=0, classes=10, **kw):
    torch.manual_seed(seed)
    net = build_model(name, 1, classes, (8, 8), **{**ARGS, **kw})
    path = tmp_path / f"{name}-{seed}-{classes}.pt"
    torch.save(net.state_dict(), path)
    return net, path


def test_load_teacher_roundtrip_frozen(tmp_path):
    net, path = save(tmp_path)
    t = load_teacher(path, "ConvNet-2", 1, 10, (8, 8), ARGS)
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(t(x), net.eval()(x))
    assert not t.training and not any(p.requires_grad for p in t.parameters())


def test_ddp_prefix_is_stripped(tmp_path):
    net, _ = save(tmp_path)
    path = tmp_path / "ddp.pt"
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, path)
    load_teacher(path, "ConvNet-2", 1, 10, (8, 8), ARGS)


def test_mismatch_errors_are_one_line(tmp_path):
    _, path = save(tmp_path)
    with pytest.raises(DDRError, match="shape mismatch for classifier.weight") as e:
        load_teacher(path, "ConvNet-2", 1, 100, (8, 8), ARGS)
    assert "\n" not in str(e.value)
    msg = r"does not fit MLP: missing keys: net\.1\.weight.*; unexpected keys: features"
    with pytest.raises(DDRError, match=msg) as e:
        load_teacher(path, "MLP", 1, 10, (8, 8), ARGS)
    assert "\n" not in str(e.value)
    with pytest.raises(DDRError, match="missing keys: features.1.running_mean"):
        load_teacher(path, "ConvNet-2-BN", 1, 10, (8, 8), ARGS)
    assert "\n" not in str(e.value)
    bad = tmp_path / "bad.pt"
    torch.save({"state_dict": {"a": torch.zeros(1)}}, bad)
    with pytest.raises(DDRError, match="not a plain state dict"):
        load_teacher(bad, "ConvNet-2", 1, 10, (8, 8), ARGS)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DDRError, match="not a loadable state dict"):
        load_teacher(junk, "ConvNet-2", 1, 10, (8, 8), ARGS)
    with pytest.raises(DDRError, match="not found"):
        load_teacher(tmp_path / "none.pt", "ConvNet-2", 1, 10, (8, 8), ARGS)


def test_ensemble_mean_of_logits_no_grad_eval(tmp_path):
    nets = [load_teacher(save(tmp_path, "ConvNet-2-BN", seed=s)[1], "ConvNet-2-BN", 1, 10, (8, 8), ARGS)
            for s in (0, 1)]
    ens = TeacherEnsemble(nets)
    ens.train()  # a student loop's .train() must not switch BN teachers to batch statistics
    assert not ens.training and all(not m.training for m in ens.members)
    x = torch.randn(4, 1, 8, 8, requires_grad=True)
    out = ens(x)
    assert not out.requires_grad
    assert torch.allclose(out, (nets[0](x) + nets[1](x)) / 2)
    with pytest.raises(DDRError):
        TeacherEnsemble([])

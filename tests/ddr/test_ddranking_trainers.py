"""The ledger's DD-Ranking trainer: unfrozen teachers (6.1.17). (JPEG random baselines are an edition rule:
tests/ddr/test_jpeg_random_baselines.py.)"""
import torch

from ddr.data.real import load_dataset
from ddr.eval.ddranking_trainers import UnfrozenEnsemble, teachers_not_frozen, undetached_loss
from ddr.losses import build_loss
from ddr.models import build_model
from ddr.protocols import TrainRecipe
from ddr.teacher_nets import TeacherEnsemble, state_digest
from ddr.train.engine import train_student

RECIPE = TrainRecipe(epochs=4, batch_size=32, optimizer="sgd", momentum=0.9, weight_decay=5e-4, scheduler="step",
                     step_size=2, test_interval=2, loss="sce", loss_args={"temperature": 1.0})


def _bn_teacher(data):
    torch.manual_seed(3)
    net = build_model("ConvNet-2-BN", data.channels, 10, data.im_size, width=8)
    net.train()
    with torch.no_grad():  # running statistics away from their initial values
        net(data.x_train[:256])
    return TeacherEnsemble([net])


def test_unfrozen_teachers_take_gradient_in_eval_mode_and_leave_the_student_unchanged():
    data = load_dataset("digits")
    frozen = _bn_teacher(data)
    before = state_digest(frozen)
    x, y = data.x_train[:64], data.y_train[:64]

    thawed = UnfrozenEnsemble(frozen.members)
    thawed.train()  # a student loop's train() call: DD-Ranking set its teachers to eval mode
    student = build_model("ConvNet-2", data.channels, 10, data.im_size, width=8)
    sce = undetached_loss("sce", {"temperature": 1.0})
    sce(student(x), thawed(x), y).backward()
    grads = [p.grad for p in thawed.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)  # reached the teacher
    assert not thawed.training and state_digest(thawed) == before  # eval mode: running stats unchanged
    assert not frozen(x).requires_grad and all(p.grad is None for p in frozen.parameters())  # ddr's: no graph
    out = student(x)
    assert torch.equal(sce(out, frozen(x), y), build_loss("sce", temperature=1.0)(out, frozen(x), y))

    kw = dict(model="ConvNet-2", model_args={"width": 8}, x=x, y=y, x_test=data.x_test, y_test=data.y_test,
              num_classes=10, recipe=RECIPE, lr=0.05, seed=11, device="cpu", teacher=frozen,
              loss_fn=build_loss("sce", temperature=1.0), keep_model=True)
    ours, theirs = train_student(**kw), teachers_not_frozen(**kw)
    # the gradient into the teacher is wasted work: the student's updates are bit for bit ddr's
    assert ours.history == theirs.history and state_digest(ours.model) == state_digest(theirs.model)
    assert state_digest(frozen) == before  # the ledger's copy took the gradient, not ddr's ensemble

"""The ledger's DD-Ranking trainers: unfrozen teachers (6.1.17) and JPEG-re-encoded random baselines (2.5, 6.2)."""
import torch

from ddr.data.digits_cifar import write_digits_cifar
from ddr.data.random_baseline import random_baseline
from ddr.data.real import load_dataset
from ddr.eval.ddranking_trainers import UnfrozenEnsemble, jpeg_random, jpeg_reencode, teachers_not_frozen, undetached_loss
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


def test_jpeg_random_trains_the_random_baselines_on_lossy_re_encodings_only(tmp_path):
    write_digits_cifar(tmp_path)
    data = load_dataset("cifar10", str(tmp_path))
    base = random_baseline(data, 2, seed=4)
    jpeg = jpeg_reencode(base.images, data)
    assert jpeg.shape == base.images.shape and jpeg.dtype == base.images.dtype
    err = (data.denormalise(jpeg) - data.denormalise(base.images)).abs()
    assert 0 < err.mean() < 0.1 and err.max() > 1 / 255  # lossy, and not a rounding of the same pixels

    trainer = jpeg_random(data, 2, [4])
    recipe = TrainRecipe(epochs=2, batch_size=8, optimizer="sgd", momentum=0.9, weight_decay=5e-4,
                         scheduler="step", step_size=2, test_interval=2)
    kw = dict(model="ConvNet-2", model_args={"width": 4}, y=base.labels, x_test=data.x_test, y_test=data.y_test,
              num_classes=10, recipe=recipe, lr=0.05, seed=11, device="cpu", keep_model=True)
    other = random_baseline(data, 2, seed=5).images  # another round's draw (or the distilled set): as given

    def trained(fn, x):
        return state_digest(fn(x=x, **kw).model)

    assert trained(trainer, base.images.clone()) == trained(train_student, jpeg) != trained(train_student, base.images)
    assert trained(trainer, other) == trained(train_student, other)

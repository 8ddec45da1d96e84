"""Training engine: optimisers, schedules, and the tensor-resident training loop."""
from ddr.train.engine import accuracy, resolve_device, train_student
from ddr.train.epochs import TrainingResult

__all__ = ["TrainingResult", "accuracy", "resolve_device", "train_student"]

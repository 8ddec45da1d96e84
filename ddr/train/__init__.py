"""Training engine: optimisers, schedules, and the tensor-resident training loop."""
from ddr.train.engine import TrainingResult, accuracy, resolve_device, train_student

__all__ = ["TrainingResult", "accuracy", "resolve_device", "train_student"]

"""Evaluations (LRS, ARS, accuracy) over the training engine, with caching and MLflow logging."""

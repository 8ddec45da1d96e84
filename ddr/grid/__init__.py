"""Evaluation grids: methods x data sets x ipc x metrics, as independent content-addressed cells, run by
a serial, local (one process per GPU or N CPU workers) or Ray executor, resumable after any crash; a
parallel executor trains the cells' trainings from one deduplicated pool (ddr.grid.pool).

Import the submodules (ddr.grid.spec, .runner, .executors); this package imports nothing heavy, so a
worker can pin CUDA_VISIBLE_DEVICES before torch is loaded.
"""

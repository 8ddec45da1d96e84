"""MLflow sqlite stores for tests, without a schema migration per test.

MLflow creates a brand-new sqlite store by running its alembic migrations, which costs seconds per store.
A copy of one store migrated once per session has the same schema and is a brand-new store in every
other respect, so tests that need a fresh store take such a copy (`conftest.new_store`). The stores keep
absolute artifact locations, so a copy is re-pointed at its own folder. The migration itself stays under
test where it is the subject (a new store opened by several evaluations at once).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

DB = "mlflow.db"
# the columns where MLflow records a path or URI under the store's folder
LOCATION_COLUMNS = {"artifact_location", "artifact_uri", "storage_location", "source"}


def migrate(folder: Path) -> Path:
    """A new store at folder/mlflow.db, created and migrated by MLflow itself. Created from inside
    `folder`, as `ddr` creates one from the project folder, so its Default experiment lies under it."""
    from mlflow import MlflowClient

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / DB
    here = os.getcwd()
    os.chdir(folder)
    try:
        MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments(max_results=1)
    finally:
        os.chdir(here)
    return db


def copy_store(template: Path, folder: Path) -> str:
    """Copy the store `template` to folder/mlflow.db, its locations moved along; returns its sqlite URI."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / DB
    shutil.copyfile(template, db)
    relocate(db, template.parent, folder)
    return f"sqlite:///{db}"


def relocate(db: Path, old: Path, new: Path) -> None:
    """Rewrite every recorded location under `old` (as a path or a file URI) to the same place under `new`."""
    old, new = Path(old).resolve(), Path(new).resolve()
    prefixes = ((str(old), str(new)), (old.as_uri(), new.as_uri()))
    with sqlite3.connect(db) as con:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')} & LOCATION_COLUMNS
            for col in columns:
                for before, after in prefixes:
                    con.execute(f'UPDATE "{table}" SET "{col}" = ? || substr("{col}", ?) '
                                f'WHERE "{col}" = ? OR substr("{col}", 1, ?) = ?',
                                (after, len(before) + 1, before, len(before) + 1, before + "/"))
    con.close()

"""Test-wide settings: one torch thread (two threads run 4-7x slower when the other core is busy),
no telemetry, no network."""
import os
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DVC_NO_ANALYTICS"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
# registry verifiers remember what they verified; tests keep that out of ~/.local/state
os.environ["DDR_STATE"] = os.path.join(tempfile.mkdtemp(prefix="ddr-test-state-"), "verifier-state.json")

from ddr.kernel.cpu_isa import pin_cpu_isa  # noqa: E402

pin_cpu_isa()  # golden numbers were recorded under AVX2 kernels; AVX-512 ones move a digit (see the module)

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Modules holding a slow test run first, each module's tests kept together (so a module-scoped
    fixture is built once): with parallel workers (tools/test.sh) the long tests start at once and the
    short ones fill in around them, instead of one long test running alone at the end."""
    has_slow = {getattr(item, "module", None) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: getattr(item, "module", None) not in has_slow)  # stable: else in collection order


@pytest.fixture(scope="session")
def digits():
    from ddr.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory):
    """One MLflow sqlite store, created and migrated once per session (tests/stores.py says why)."""
    from tests.stores import migrate

    return migrate(tmp_path_factory.mktemp("mlflow-template"))


@pytest.fixture
def new_store(migrated_store):
    """new_store(folder) -> sqlite URI of a brand-new store at folder/mlflow.db, copied from the migrated one
    (where `ddr` looks when run in `folder` without MLFLOW_TRACKING_URI)."""
    from tests.stores import copy_store

    return lambda folder: copy_store(migrated_store, folder)


@pytest.fixture
def ddr_cli(capsys):
    """Run the real `ddr` entry point in-process: returns (exit status, stdout, stderr)."""
    def run(*argv: str):
        capsys.readouterr()
        try:
            from pipelines.cli import main

            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err
    return run

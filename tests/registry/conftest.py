import os

import pytest

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

from registry.keyring import Keyring, generate_key  # noqa: E402
from registry.ranking import load_results  # noqa: E402
from registry.release import publish  # noqa: E402

from tests.registry.helpers import DEFAULT_METHODS, write_results  # noqa: E402


@pytest.fixture(autouse=True)
def _verifier_state(tmp_path, monkeypatch):
    """Each test gets its own trusted verifier state (never the user's ~/.local/state)."""
    monkeypatch.setenv("DDR_STATE", str(tmp_path / "verifier-state.json"))


@pytest.fixture
def keys(tmp_path):
    """A signing key and a keyring trusting it."""
    key, kid = generate_key(tmp_path / "keys" / "maint.key")
    ring = Keyring(path=tmp_path / "keys" / "keyring.json")
    ring.add(key.public_key(), "maint")
    ring.save()
    return key, ring


@pytest.fixture
def chain(tmp_path, keys):
    """Three published releases 1.0.0 -> 1.1.0 -> 2.0.0 (results change between them)."""
    key, ring = keys
    rel = tmp_path / "releases"
    m1 = dict(DEFAULT_METHODS)
    m2 = dict(m1, kcenter=(0.895, 0.80))  # kcenter moves up
    m3 = dict(m2, idc=(0.93, 0.80))  # a new method on top
    for v, methods, ipcs in (("1.0.0", m1, (10,)), ("1.1.0", m2, (10,)), ("2.0.0", m3, (10, 50))):
        src = write_results(tmp_path / f"res-{v}", methods, ipcs=ipcs)
        publish(load_results([src]), rel, v, [key], keyring=ring, resamples=200, repo=tmp_path)
    return rel, key, ring


@pytest.fixture(scope="session")
def real_results(tmp_path_factory):
    """The main job's kind of results, from real evaluations at test size (tests/registry/real_results.py),
    built once per session. Tests read them; one that changes a result works on its own copy."""
    from tests.registry.real_results import build

    return build(tmp_path_factory.mktemp("real-results"))

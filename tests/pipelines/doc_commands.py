"""The shell commands the docs show (every line of every ```bash block of README.md and docs/*.md), and the
few that cannot run in a test, each with the reason. test_dvc_pipeline.py runs the rest, as written, in a
copy of the reproduced pipeline; test_doc_commands.py keeps this list honest."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# README first, then every page under docs/: a new page's commands are tested without editing this list
DOCS = ("README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")))
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)

# command prefix -> why a test does not run it (a test elsewhere covers what it can)
SKIP = {
    "tools/main.sh": "the main job itself: the reproduced pipeline is its reduced form",
    "tools/test.sh": "the test suite itself",
    "DDR_GOLDEN_FULL=1 tools/test.sh": "the test suite itself",
    "pip install": "needs the network",
    "git push": "pushes to your git and DVC remotes; test_team_flow_* pushes to a local DVC remote",
    "git clone ...": "a fresh clone of your remote; test_team_flow_* clones, pulls and reproduces",
    "dvc pull --run-cache": "in the fresh clone above (from the remote the push filled); test_team_flow_* pulls",
    "ddr ray start": "starts a Ray cluster; tests/grid/test_grid_ray.py starts its loopback one the same way",
    "ddr ray stop": "stops the Ray cluster above",
    "ddr eval grid grid.yaml --executor ray": "runs on the Ray cluster above; tests/grid/test_grid_ray.py does",
    "mlflow server --host 10.0.0.5": "the multi-machine recipe: needs the machines it names",
    "createdb -h db.lab": "the team's tracking store: needs the team's PostgreSQL; test_postgres_store makes one",
    "ddr server --host 10.0.0.5": "the team's tracking store: test_postgres_store serves a local PostgreSQL",
    "MLFLOW_TRACKING_URI=http://10.0.0.5:5000": "the multi-machine recipe: needs the machines it names",
    "dvc exp run --queue": "reruns every evaluation per experiment; test_run_cache_remote_* runs a queued sweep",
    "dvc exp run --run-all": "runs the queued sweep above; test_run_cache_remote_* runs one",
    "tools/ddranking-env.sh": "installs the authors' package from PyPI; .ci/run runs it before the suite",
    "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ddranking_conformance.py":
        "a benchmark of width-128 trainings (minutes each); tests/compat runs the CI-sized conformance",
}


def documented_commands(root: Path = ROOT) -> list[tuple[str, str]]:
    """(file, command) for every command line of every ```bash block, in reading order (README first)."""
    found = []
    for name in DOCS:
        text = (root / name).read_text()
        for block in BLOCK.findall(text):
            for line in block.splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    found.append((name, line))
    return found


def skip_reason(command: str) -> str | None:
    """Why `command` is not run by the docs test, or None."""
    for prefix, reason in SKIP.items():
        if command == prefix or command.startswith(prefix + " "):
            return reason
    return None

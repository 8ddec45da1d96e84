#!/usr/bin/env bash
# Set up (idempotent), then run the test suite on every CPU (pytest-xdist). Extra arguments go to pytest
# and come last, so `-n 0` runs it in one process and `-m "not slow"` runs the quick part.
# One test module stays in one worker (its module and session fixtures are built once), taken in
# collection order: tests/conftest.py puts the modules with slow tests first.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
export OMP_NUM_THREADS=1 MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1 DO_NOT_TRACK=1
exec .venv/bin/python -m pytest -n auto --dist loadfile --no-loadscope-reorder "$@"

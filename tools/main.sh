#!/usr/bin/env bash
# Set up (idempotent), then run the main job: the DVC pipeline on the embedded default (digits):
# real data -> teacher -> random baselines -> distillers -> LRS/ARS evaluations -> ranking -> signed release.
# A second run does nothing that is already done; extra arguments go to `dvc repro`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
export PATH="$PWD/.venv/bin:$PATH" MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1
# One torch thread per process unless told otherwise: the evaluate step's workers (evaluate.executor) fill
# the cores; a second thread per process only waits for a core, and spins while it waits.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
start=$(date +%s)
dvc repro "$@"
echo
echo "== ranking (results/, bootstrap over rounds) =="
ddr rank results
echo
version=$(python -c "import yaml; print(yaml.safe_load(open('params.yaml'))['release']['version'])")
ddr registry verify --releases releases --keyring .ddr/keys/keyring.json
echo "release: releases/$version (signed; verify with the command above)"
echo "MLflow:  sqlite:///$PWD/mlflow.db (browse it with: .venv/bin/ddr ui)"
echo "wall time: $(( $(date +%s) - start )) s"
# What the run left for git is all to commit (lock files and caches are ignored): a clone's dvc.lock
# must describe the code and config it checks out (README: DVC as a team uses it).
if changes=$(git status --short --untracked-files=all 2>/dev/null) && [ -n "$changes" ]; then
  echo
  echo "== to share this run: commit what it left, then push outputs and run cache =="
  echo "$changes"
  echo "git add -A && git commit -m 'pipeline run' && dvc push --run-cache"
fi

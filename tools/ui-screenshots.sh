#!/usr/bin/env bash
# Screenshots of the MLflow UI and of a release page for the README (docs/img/), taken in headless
# Chromium against a store made by real `ddr` evaluations on digits (a few small ones: LRS at ipc 10
# with 2 rounds, one soft-label evaluation with its teacher under a test-sized protocol), served by `mlflow server` on 127.0.0.1.
# Usage: tools/ui-screenshots.sh SCRATCH_DIR   (needs ddr, mlflow on PATH and /usr/bin/chromium)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mkdir -p "$1" && cd "$1" && pwd)
img="$repo/docs/img"
mkdir -p "$img"
export MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1 OMP_NUM_THREADS=1 MLFLOW_TRACKING_URI="sqlite:///$work/mlflow.db"
cd "$work"
[ -d sets/random ] || ddr data random --dataset digits --ipc 10 --seed 100 --out sets/random
for m in herding kcenter; do [ -d "sets/$m" ] || ddr distill "$m" --dataset digits --ipc 10 --out "sets/$m"; done
for m in random herding kcenter; do
  [ -f "results/lrs-$m/result.json" ] || ddr eval lrs --distilled "sets/$m" --dataset digits --ipc 10 --rounds 2 --out "results/lrs-$m"
done
# soft labels under the test-sized protocol (a 4-epoch teacher) to keep this short on a CPU
[ -f results/soft-herding/result.json ] || ddr eval lrs --label soft --distilled sets/herding --dataset digits --ipc 10 \
  --protocol "$repo/tests/fixtures/tiny-soft.yaml" --rounds 1 --out results/soft-herding
[ -f .ddr/keys/k.key ] || ddr registry keygen --out .ddr/keys/k.key --keyring .ddr/keys/keyring.json >/dev/null
[ -d releases/0.1.0 ] || ddr registry publish 0.1.0 --results results --key .ddr/keys/k.key \
  --keyring .ddr/keys/keyring.json --releases releases --notes "README screenshots (digits, 2 rounds)"
port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false setsid mlflow server -w 1 --host 127.0.0.1 --port "$port" \
  --backend-store-uri "$MLFLOW_TRACKING_URI" --default-artifact-root "file://$work/mlartifacts" >"$work/server.log" 2>&1 &
server=$!
trap 'kill -- -$server 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 1; done
base="http://127.0.0.1:$port"
exp=$(python - "$MLFLOW_TRACKING_URI" <<'PY'
import sys
from mlflow import MlflowClient
print(MlflowClient(sys.argv[1]).get_experiment_by_name("digits").experiment_id)
PY
)
run=$(python -c 'import json; print(json.load(open("results/lrs-herding/result.json"))["mlflow"]["run_id"])')
soft=$(python -c 'import json; print(json.load(open("results/soft-herding/result.json"))["mlflow"]["run_id"])')
filter=$(python -c 'from ddr.mlflow_notes import EVALUATIONS_FILTER as f; from urllib.parse import quote; print(quote(f, safe=""))')
shot() {  # URL FILE WIDTH HEIGHT
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --virtual-time-budget=45000 \
    --window-size="$3,$4" --screenshot="$img/$2" "$1" 2>/dev/null
}
shot "$base/#/experiments/$exp/runs?searchFilter=$filter" mlflow-evaluations.png 1400 800
shot "$base/#/experiments/$exp/runs" mlflow-experiment.png 1400 800
shot "$base/#/experiments/$exp/runs/$run" mlflow-evaluation-run.png 1400 1900
shot "$base/#/experiments/$exp/runs/$run/model-metrics" mlflow-evaluation-metrics.png 1400 1000
shot "$base/#/experiments/$exp/runs/$soft" mlflow-teacher-models.png 1400 900
shot "file://$work/releases/0.1.0/index.html" release-page.png 1280 1500
shot "file://$work/releases/0.1.0/index.html" release-page-phone.png 390 1500
ls -la "$img"

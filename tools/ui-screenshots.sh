#!/usr/bin/env bash
# Screenshots of the MLflow UI and of the release page for the README (docs/img/), taken in headless
# Chromium against the main job's own store: run `tools/main.sh` first (here or in another checkout), then
#   tools/ui-screenshots.sh [MAIN_JOB_CHECKOUT]     (default: this checkout)
# The store is served by `mlflow server` on 127.0.0.1; needs ddr and mlflow on PATH and chromium.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(cd "${1:-$repo}" && pwd)
img="$repo/docs/img"
mkdir -p "$img"
export MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1 MLFLOW_TRACKING_URI="sqlite:///$work/mlflow.db"
cd "$work"
version=$(python -c "import yaml; print(yaml.safe_load(open('params.yaml'))['release']['version'])")
for f in mlflow.db "releases/$version/index.html" results/digits-ipc10/lrs-hard/herding/result.json \
         results/digits-ipc10/lrs-soft/dm/result.json; do
  [ -e "$f" ] || { echo "ui-screenshots: $work/$f is missing; run tools/main.sh there first" >&2; exit 2; }
done
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
run_of() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))["mlflow"]["run_id"])' "$1"; }
run=$(run_of results/digits-ipc10/lrs-hard/herding/result.json)
soft=$(run_of results/digits-ipc10/lrs-soft/dm/result.json)
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
shot "file://$work/releases/$version/index.html" release-page.png 1280 1500
shot "file://$work/releases/$version/index.html" release-page-phone.png 390 1500
ls -la "$img"

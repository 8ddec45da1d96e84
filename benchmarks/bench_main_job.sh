#!/usr/bin/env bash
# The main job's time from a clean checkout with the venv in place: clone REV of this repository into a
# scratch folder, link the existing .venv, run tools/main.sh's steps (without its setup step) under
# /usr/bin/time, and print wall and CPU time (user + sys, the fairer figure on a shared machine) with the
# load average at start and end.
#   benchmarks/bench_main_job.sh [REV] [SCRATCH]      (default: HEAD, /tmp/ddr-main-job; VENV=... to use
#                                                     another checkout's .venv)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rev=${1:-HEAD} dest=${2:-/tmp/ddr-main-job}
rm -rf "$dest"
git clone -q "$here" "$dest"
git -C "$dest" checkout -q "$rev"
ln -s "${VENV:-$here/.venv}" "$dest/.venv"
cd "$dest"
export PATH="$PWD/.venv/bin:$PATH" MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1 PYTHONPATH="$PWD"
unset DDR_CACHE_DIR MLFLOW_TRACKING_URI
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # as tools/main.sh
echo "rev $(git rev-parse --short HEAD); start $(date -u +%T); load $(cut -d' ' -f1-3 /proc/loadavg); $(nproc --all) cores"
/usr/bin/time -f "main job: %e s wall, %U s user + %S s sys CPU" bash -c '
  dvc repro >dvc-repro.log 2>&1 || { tail -30 dvc-repro.log; exit 1; }
  ddr rank results >/dev/null
  ddr registry verify >/dev/null'
echo "end $(date -u +%T); load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "second run: %e s wall" dvc repro >/dev/null

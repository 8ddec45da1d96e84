#!/usr/bin/env bash
# The main job's time from a clean checkout with the venv in place, before and after, in one run: for each
# revision, clone this repository into a scratch folder, link the existing .venv, run tools/main.sh's steps
# (without its setup step) under /usr/bin/time, and print wall and CPU time (user + sys, the fairer figure on a
# shared machine) with the load average at start and end, and where the evaluate stage's time went
# (benchmarks/main_job_breakdown.py); then the ratio after / before.
#   benchmarks/bench_main_job.sh [AFTER] [BEFORE]   (default: HEAD alone; VENV=... to use another checkout's
#                                                   .venv, SCRATCH=... for the clones, default /tmp/ddr-main-job)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
after=${1:-HEAD} before=${2:-}
scratch=${SCRATCH:-/tmp/ddr-main-job}

run() {  # run REV LABEL -> prints "LABEL wall_s"
  local rev=$1 label=$2 dest="$scratch/$2"
  rm -rf "$dest"
  git clone -q "$here" "$dest"
  git -C "$dest" checkout -q "$rev"
  ln -s "${VENV:-$here/.venv}" "$dest/.venv"
  (
    cd "$dest"
    export PATH="$PWD/.venv/bin:$PATH" MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1 PYTHONPATH="$PWD"
    unset DDR_CACHE_DIR MLFLOW_TRACKING_URI
    # a fresh machine's verifier state: one kept in ~/.local/state pins the keyring an earlier clone at this
    # path generated, and this clone's new pipeline key would fail its verification
    export DDR_STATE="$scratch/$label-verifier-state.json"
    rm -f "$DDR_STATE"
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # as tools/main.sh
    echo "$label: rev $(git rev-parse --short HEAD); start $(date -u +%T); load $(cut -d' ' -f1-3 /proc/loadavg); $(nproc --all) cores" >&2
    start=$(date +%s.%N)
    /usr/bin/time -f "$label: %e s wall, %U s user + %S s sys CPU" bash -c '
      dvc repro >dvc-repro.log 2>&1 || { tail -30 dvc-repro.log; exit 1; }
      ddr rank results >/dev/null
      ddr registry verify >/dev/null' >&2
    end=$(date +%s.%N)
    echo "$label: end $(date -u +%T); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    /usr/bin/time -o second.time -f "$label second run: %e s wall" dvc repro >/dev/null 2>&1
    cat second.time >&2
    # where the evaluate stage's time went, from what the run recorded (main_job_breakdown.py of this checkout)
    PYTHONPATH="$here" "${VENV:-$here/.venv}/bin/python" "$here/benchmarks/main_job_breakdown.py" . \
      | sed "s/^/$label: /" >&2
    echo "$label $(echo "$end - $start" | bc)"
  )
}

a=$(run "$after" after)
echo "$a"
if [ -n "$before" ]; then
  b=$(run "$before" before)
  echo "$b"
  echo "after / before wall: $(echo "scale=3; ${a#* } / ${b#* }" | bc)"
fi

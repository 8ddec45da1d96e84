#!/usr/bin/env bash
# Idempotent setup: .venv with ddr (editable, with the dev, ray and postgres extras the tests use) and the tested
# torch/torchvision pair from constraints.txt.
# Reinstalls only when pyproject.toml or constraints.txt changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ "$(cat .venv/.ddr-installed 2>/dev/null || true)" != "$want" ]; then
  echo "setup: installing ddr into .venv (first time: a few minutes, torch is large)" >&2
  if ! .venv/bin/pip install --disable-pip-version-check -c constraints.txt -e '.[dev,ray,postgres]' > .venv/pip.log 2>&1; then
    grep -v '^WARNING: Location' .venv/pip.log | tail -30 >&2
    exit 1
  fi
  echo "$want" > .venv/.ddr-installed
fi

#!/usr/bin/env bash
# Idempotent: the authors' package ddranking==0.2.0 in an environment of its own (.ddranking-venv), for the
# conformance tests (tests/compat) and benchmarks/bench_ddranking_conformance.py.
# ddranking wants numpy<2 (and pandas, kornia, timm, scipy<1.16); ddr's .venv has numpy 2. The installed
# torch/torchvision are reused through a .pth file that puts ddr's site-packages AFTER this environment's
# own, so this environment's numpy 1.26 wins; --no-deps keeps pip from fetching a second torch.
# DDR_VENV names ddr's environment (default: .venv of this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
ddr_venv=$(cd "${DDR_VENV:-.venv}" && pwd)
target=.ddranking-venv
pins="ddranking==0.2.0 numpy==1.26.4 pandas==2.3.3 pytz==2025.2 tzdata==2025.2 python-dateutil==2.9.0.post0 six==1.17.0 kornia==0.8.1 kornia_rs==0.1.9 timm==1.0.15 tqdm==4.67.1 scipy==1.15.3 pyyaml==6.0.2 packaging==25.0 huggingface_hub==0.33.0 safetensors==0.5.3 filelock==3.18.0 fsspec==2025.5.1 requests==2.32.4 typing_extensions==4.14.0"
want=$(printf '%s\n%s\n' "$pins" "$ddr_venv" | sha256sum | cut -c1-16)
if [ "$(cat "$target/.ddranking-installed" 2>/dev/null || true)" = "$want" ]; then
  exit 0
fi
rm -rf "$target"
"$ddr_venv/bin/python" -c 'import sys; assert sys.version_info >= (3, 8)'
# Same interpreter as ddr's environment, so the shared torch's compiled extensions load.
base=$("$ddr_venv/bin/python" -c 'import sys; print(sys._base_executable)')
"$base" -m venv "$target"
echo "ddranking-env: installing ddranking 0.2.0 into $target (without torch)" >&2
# shellcheck disable=SC2086
if ! "$target/bin/pip" install --disable-pip-version-check --no-deps $pins > "$target/pip.log" 2>&1; then
  tail -30 "$target/pip.log" >&2
  exit 1
fi
own=$("$target/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
shared=$("$ddr_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$shared" > "$own/zz-ddr-shared-torch.pth"
"$target/bin/python" - <<'PY'
import numpy, torch, torchvision, ddranking, kornia, timm, pandas  # noqa: F401
from ddranking.utils.train_and_eval import train_one_epoch, validate  # noqa: F401
assert numpy.__version__.startswith("1."), numpy.__version__
assert torch.from_numpy(numpy.zeros(2)).sum().item() == 0.0
PY
echo "$want" > "$target/.ddranking-installed"

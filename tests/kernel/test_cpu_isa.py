"""The test session's CPU kernels take one code path on every x86-64 machine (oneDNN and ATen capped at
AVX2, MKL on its vendor-neutral branch), so golden numbers match on Intel and AMD alike."""
import ctypes
import platform
from pathlib import Path

import pytest
import torch

from ddr.kernel.cpu_isa import PINNED, pin_cpu_isa

x86 = platform.machine().lower() in ("x86_64", "amd64")
MKL_CBWR_COMPATIBLE = 3  # mkl_cbwr.h


@pytest.mark.skipif(not x86, reason="the pin is for x86-64 CPUs")
def test_session_runs_avx2_kernels():
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"


@pytest.mark.skipif(not x86, reason="the pin is for x86-64 CPUs")
def test_session_mkl_runs_its_vendor_neutral_branch():
    """MKL's default branch picks Zen-only sgemm kernels on AMD and others on Intel; COMPATIBLE is one for both."""
    if not torch.backends.mkl.is_available():
        pytest.skip("torch built without MKL")
    lib = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"))
    if not hasattr(lib, "mkl_serv_cbwr_get"):
        pytest.skip("this torch's MKL does not export its CNR branch")
    torch.ones(4, 4) @ torch.ones(4, 4)  # MKL reads MKL_CBWR on its first call
    assert lib.mkl_serv_cbwr_get(1) == MKL_CBWR_COMPATIBLE


@pytest.mark.skipif(not x86, reason="the pin is for x86-64 CPUs")
def test_pin_sets_every_variable_and_keeps_a_given_value():
    env = {"ATEN_CPU_CAPABILITY": "default"}
    pin_cpu_isa(env)
    assert env == {**PINNED, "ATEN_CPU_CAPABILITY": "default"}
    assert env["MKL_CBWR"] == "COMPATIBLE"


def test_pin_refuses_once_torch_is_loaded():
    if not x86:
        pytest.skip("the pin is for x86-64 CPUs")
    with pytest.raises(RuntimeError, match="before torch is imported"):
        pin_cpu_isa()

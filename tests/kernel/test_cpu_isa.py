"""The test session's CPU kernels are capped at AVX2, so golden numbers match on every x86-64 machine."""
import platform

import pytest
import torch

from ddr.kernel.cpu_isa import PINNED, pin_cpu_isa

x86 = platform.machine().lower() in ("x86_64", "amd64")


@pytest.mark.skipif(not x86, reason="the pin is for x86-64 CPUs")
def test_session_runs_avx2_kernels():
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"


@pytest.mark.skipif(not x86, reason="the pin is for x86-64 CPUs")
def test_pin_sets_both_variables_and_keeps_a_given_value():
    env = {"ATEN_CPU_CAPABILITY": "default"}
    pin_cpu_isa(env)
    assert env == {**PINNED, "ATEN_CPU_CAPABILITY": "default"}


def test_pin_refuses_once_torch_is_loaded():
    if not x86:
        pytest.skip("the pin is for x86-64 CPUs")
    with pytest.raises(RuntimeError, match="before torch is imported"):
        pin_cpu_isa()

"""CPUBF16AmpOptimWrapper (bfloat16 autocast on a CPU) and the check of the
CPU's bfloat16 instructions."""
import pytest
import torch
from torch import nn

import projects.nsrm  # noqa: F401
from mmpose.registry import OPTIM_WRAPPERS
from projects.nsrm.engine import CPUBF16AmpOptimWrapper
from projects.nsrm.engine.optim_wrappers import (NATIVE_BF16_FLAGS,
                                                 cpu_native_bf16_flags,
                                                 cpu_supports_native_bf16)


def sgd_wrapper(model, lr=0.25, **kwargs):
    return CPUBF16AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=lr), **kwargs)


def test_registered_in_mmposes_registry():
    assert OPTIM_WRAPPERS.get('CPUBF16AmpOptimWrapper') is \
        CPUBF16AmpOptimWrapper
    model = nn.Linear(2, 1)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='CPUBF16AmpOptimWrapper',
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert isinstance(wrapper, CPUBF16AmpOptimWrapper)
    assert wrapper.cast_dtype is torch.bfloat16


def test_context_autocasts_to_bfloat16_and_the_step_is_float32():
    """y = w.x + b with x = (1, 2, 0.5), w = (0.5, -1, 4), b = 0.25: every
    value is exact in bfloat16, so the SGD step is known exactly:
    dy/dw = x, dy/db = 1, w <- w - 0.25 x."""
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -1.0, 4.0]]))
        model.bias.fill_(0.25)
    wrapper = sgd_wrapper(model)
    x = torch.tensor([[1.0, 2.0, 0.5]])
    assert not torch.is_autocast_enabled('cpu')
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') is torch.bfloat16
        y = model(x)
    assert not torch.is_autocast_enabled('cpu')
    assert y.dtype is torch.bfloat16
    assert y.item() == 0.5 - 2.0 + 2.0 + 0.25
    wrapper.update_params(y.float().sum())
    # parameters, gradients and the update stay float32 (no loss scale)
    assert model.weight.dtype is torch.float32
    assert model.weight.grad is None  # zero_grad(set_to_none) after step
    assert model.weight.tolist() == [[0.25, -1.5, 3.875]]
    assert model.bias.item() == 0.0
    assert not hasattr(wrapper, 'loss_scaler')


def test_arguments_are_checked():
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match='takes no loss_scale'):
        sgd_wrapper(model, loss_scale='dynamic')
    with pytest.raises(ValueError, match="dtype must be 'bfloat16'"):
        sgd_wrapper(model, dtype='float16')
    assert sgd_wrapper(model, dtype=torch.bfloat16).cast_dtype is \
        torch.bfloat16


def test_a_model_off_the_cpu_is_an_error():
    model = nn.Linear(2, 1, device='meta')
    wrapper = CPUBF16AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match='the model is on meta'):
        with wrapper.optim_context(model):
            pass


def fake_capabilities(monkeypatch, **flags):
    caps = {flag: False for flag in NATIVE_BF16_FLAGS}
    caps.update(flags, cpu_name='Test CPU')
    monkeypatch.setattr(torch.cpu, 'get_capabilities', lambda: caps)


def test_native_flags_come_from_torchs_cpuinfo(monkeypatch):
    fake_capabilities(monkeypatch)
    assert cpu_native_bf16_flags() == ()
    assert not cpu_supports_native_bf16()
    fake_capabilities(monkeypatch, amx_bf16=True, avx512_bf16=True)
    assert cpu_native_bf16_flags() == ('avx512_bf16', 'amx_bf16')
    assert cpu_supports_native_bf16()
    # the flags are useless without oneDNN's kernels
    monkeypatch.setattr(torch.backends.mkldnn, 'is_available', lambda: False)
    assert cpu_native_bf16_flags() == ()


def test_native_flags_agree_with_proc_cpuinfo():
    try:
        with open('/proc/cpuinfo') as f:
            line = next(line for line in f if line.startswith('flags'))
    except (OSError, StopIteration):
        pytest.skip('no x86 /proc/cpuinfo flags on this machine')
    kernel_flags = set(line.split(':', 1)[1].split())
    found = set(cpu_native_bf16_flags())
    for flag in ('avx512_bf16', 'amx_bf16'):
        assert (flag in found) == (flag in kernel_flags), flag

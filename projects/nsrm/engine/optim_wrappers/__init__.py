"""Optimizer wrappers of NSRM: bfloat16 autocast training on a CPU."""
from .cpu_bf16_amp_optim_wrapper import (NATIVE_BF16_FLAGS,
                                         CPUBF16AmpOptimWrapper,
                                         cpu_native_bf16_flags,
                                         cpu_supports_native_bf16)

__all__ = [
    'CPUBF16AmpOptimWrapper', 'NATIVE_BF16_FLAGS', 'cpu_native_bf16_flags',
    'cpu_supports_native_bf16'
]

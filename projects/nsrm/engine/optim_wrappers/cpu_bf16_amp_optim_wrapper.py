"""Mixed-precision training on a CPU: bfloat16 autocast, no loss scaling.

MMEngine's ``AmpOptimWrapper`` (what MMPose's ``--amp`` selects) refuses to
start without a CUDA / NPU / MLU / MUSA device. On a CPU with bfloat16
instructions, ``torch.autocast('cpu', dtype=torch.bfloat16)`` runs the
convolutions and matrix products in bfloat16 (oneDNN kernels);
``CPUBF16AmpOptimWrapper`` is an ``OptimWrapper`` that opens that context
around the forward pass. bfloat16 has float32's exponent range, so no loss
scaling is needed (the parameters, gradients and optimizer state stay
float32). ``tools/train.py --amp`` switches to it on a CPU-only machine when
:func:`cpu_native_bf16_flags` finds the instructions
(``projects/nsrm/utils/runner_setup.py``).
"""
from contextlib import contextmanager
from typing import Tuple, Union

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmpose.registry import OPTIM_WRAPPERS

#: The CPU flags (names of ``torch.cpu.get_capabilities()``) of native
#: bfloat16 arithmetic: x86 AVX512-BF16 (Cooper Lake, Zen 4 and later) and
#: AMX-BF16 (Sapphire Rapids and later); Arm's BF16 (Armv8.6) and SVE-BF16.
NATIVE_BF16_FLAGS: Tuple[str, ...] = ('avx512_bf16', 'amx_bf16', 'bf16',
                                      'sve_bf16')


def cpu_native_bf16_flags() -> Tuple[str, ...]:
    """The native bfloat16 flags this CPU has and PyTorch can use.

    torch's own cpuinfo-based detection (``torch.cpu.get_capabilities()``,
    the one ``torch.cpu._is_avx512_bf16_supported`` reads) is checked, not
    ``torch.ops.mkldnn._is_mkldnn_bf16_supported()``: the latter is also True
    on AVX-512 CPUs without bfloat16 instructions (avx512bw/vl/dq, where
    oneDNN emulates bfloat16), which are no faster in bfloat16 than in
    float32. The flags count only when PyTorch has oneDNN
    (``torch.backends.mkldnn.is_available()``), whose kernels use them.

    Returns:
        Tuple[str, ...]: The flags of :data:`NATIVE_BF16_FLAGS` found, in
        that order; empty when bfloat16 would be emulated.
    """
    if not torch.backends.mkldnn.is_available():
        return ()
    caps = torch.cpu.get_capabilities()
    return tuple(flag for flag in NATIVE_BF16_FLAGS if caps.get(flag, False))


def cpu_supports_native_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions PyTorch uses (see
    :func:`cpu_native_bf16_flags`)."""
    return len(cpu_native_bf16_flags()) > 0


@OPTIM_WRAPPERS.register_module()
class CPUBF16AmpOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose forward pass runs under CPU bfloat16
    autocast.

    ``optim_context`` (which ``BaseModel.train_step`` opens around the data
    preprocessor and the forward pass) adds
    ``torch.autocast('cpu', dtype=torch.bfloat16)`` to ``OptimWrapper``'s
    context (gradient-accumulation ``no_sync``); ``backward`` and ``step``
    are ``OptimWrapper``'s: no loss scaling, since bfloat16 keeps float32's
    exponent range. Losses that need float32 compute it themselves (as
    ``NSRMLoss`` does).

    Args:
        dtype (str | torch.dtype): The autocast type; only bfloat16 (the
            type CPU autocast is made for) is accepted. Defaults to
            ``'bfloat16'``.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).

    Raises:
        ValueError: ``dtype`` is not bfloat16, or a ``loss_scale`` (an
            ``AmpOptimWrapper`` argument) is given.
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs):
        if 'loss_scale' in kwargs:
            raise ValueError(
                'CPUBF16AmpOptimWrapper takes no loss_scale: bfloat16 has '
                "float32's exponent range, so losses are not scaled; remove "
                'optim_wrapper.loss_scale from the config')
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                "CPUBF16AmpOptimWrapper's dtype must be 'bfloat16' (CPU "
                f'autocast runs in bfloat16), got {dtype!r}')
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module):
        """``OptimWrapper``'s context plus CPU bfloat16 autocast.

        Args:
            model (nn.Module): The training model (on the CPU).

        Raises:
            ValueError: the model's parameters are not on the CPU (CPU
                autocast would silently leave them in float32; use
                MMEngine's ``AmpOptimWrapper`` on an accelerator).
        """
        param = next(model.parameters(), None)
        if param is not None and param.device.type != 'cpu':
            raise ValueError(
                'CPUBF16AmpOptimWrapper autocasts CPU operations only, but '
                f'the model is on {param.device}: use MMEngine\'s '
                "AmpOptimWrapper (tools/train.py --amp, optional "
                "optim_wrapper.dtype='bfloat16') on an accelerator")
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield

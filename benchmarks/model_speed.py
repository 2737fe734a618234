"""Speed, memory and cost of the paper's models and the NSRM add-ons.

Usage::

    python benchmarks/model_speed.py [--device cuda:0] [--repeat 5]
        [--models cpm lpm_g1g6 ...] [--batch-sizes 1 8] [--bf16 auto]
    python benchmarks/model_speed.py --quick      # a few-second smoke run

For CPM and the four NSRM variants of the paper (``configs/nsrm/*_panoptic
.py``: VGG-19 to conv4_4 + the cascade, 368x368) and NSRM LPM-G1&6 on
HRNetV2-w18 and ResNet-50 (``configs/nsrm_addon/lpm_g1g6_*_panoptic_256.py``,
256x256), all built with ``model.backbone.init_cfg=None`` (no weights
file), at batch 1 and 8, prints and writes to
``benchmarks/results/model_speed.json``:

- parameters and multiply-adds per sample (MMEngine's ``FlopAnalyzer`` via
  ``projects/nsrm/utils/model_cost.py``: 1 MAC = 1 "FLOP", MMPose's
  convention), split into backbone and head;
- forward time (eval mode, no grad) and forward + loss + backward time
  (train mode, the real ``NSRMLoss`` on random targets), medians;
- peak memory of each above what was allocated before (GPU:
  ``torch.cuda.max_memory_allocated``; CPU: the allocator records of
  ``torch.profiler``);
- the achieved throughput in GMAC/s (forward + backward counted as 3x the
  forward's MACs) and its share of the measured matmul peak: a timed
  2048x2048 matmul in float32 and bfloat16;
- bfloat16 autocast rows (``--amp``) where the device has bfloat16
  arithmetic (a CUDA GPU with it, a CPU with avx512_bf16 / amx_bf16 /
  bf16 / sve_bf16); otherwise one row saying "no native bf16" (``--bf16 on``
  times emulated bfloat16 anyway).
"""
import argparse
import os.path as osp
import sys
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.common import (add_common_args, build_model,  # noqa: E402
                               device_info, fake_targets, load_model_config,
                               matmul_peak_gmacs, peak_memory_bytes,
                               print_table, rows_with, start_run, time_call,
                               write_results)

#: name -> (label, config, input size (w = h)).
MODELS = {
    'cpm': ('CPM', 'configs/nsrm/cpm_panoptic.py', 368),
    'ldm_g1': ('NSRM LDM-G1', 'configs/nsrm/ldm_g1_panoptic.py', 368),
    'lpm_g1': ('NSRM LPM-G1', 'configs/nsrm/lpm_g1_panoptic.py', 368),
    'ldm_g1g6': ('NSRM LDM-G1&6', 'configs/nsrm/ldm_g1g6_panoptic.py', 368),
    'lpm_g1g6': ('NSRM LPM-G1&6', 'configs/nsrm/lpm_g1g6_panoptic.py', 368),
    'hrnet_addon': (
        'NSRM LPM-G1&6 on HRNetV2-w18',
        'configs/nsrm_addon/lpm_g1g6_hrnetv2_w18_panoptic_256.py', 256),
    'res50_addon': (
        'NSRM LPM-G1&6 on ResNet-50',
        'configs/nsrm_addon/lpm_g1g6_res50_panoptic_256.py', 256),
}
#: What --quick runs: one paper model of each kind and one add-on, at a
#: tiny resolution (full size -> quick size; ResNet-50's stride-32 features
#: need 2x2 at least for BatchNorm at batch 1) with a narrow head
#: (``common.QUICK_HEAD``).
QUICK_MODELS = ('cpm', 'lpm_g1g6', 'res50_addon')
QUICK_INPUTS = {368: 16, 256: 64}


def bf16_support(device: torch.device) -> Optional[str]:
    """Why this device has native bfloat16 (e.g. ``'amx_bf16'``), or None
    when it has none."""
    if device.type == 'cuda':
        if torch.cuda.is_bf16_supported(including_emulation=False):
            return torch.cuda.get_device_name(device)
        return None
    from projects.nsrm.engine.optim_wrappers import cpu_native_bf16_flags
    flags = cpu_native_bf16_flags()
    return ', '.join(flags) if flags else None


def autocast(device: torch.device, precision: str):
    """bfloat16 autocast for ``precision == 'bf16'``, else nothing."""
    if precision == 'bf16':
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def measure(model: torch.nn.Module, inputs: torch.Tensor, precision: str,
            device: torch.device, repeat: int,
            warmup: int = 1) -> Dict[str, float]:
    """Forward and forward+backward medians and peak memory of one batch.

    Returns:
        dict: ``fwd_ms``, ``train_ms``, ``fwd_peak_mib``,
        ``train_peak_mib``.
    """
    targets = fake_targets(model, inputs)

    def forward():
        with torch.no_grad(), autocast(device, precision):
            model._forward(inputs)

    def train_step():
        model.zero_grad(set_to_none=True)
        with autocast(device, precision):
            structure, pose = model.head.forward(model.extract_feat(inputs))
            losses = model.head.loss_module(
                pose, structure, targets['heatmaps'], targets['limb_masks'],
                targets['keypoint_weights'])
        sum(losses.values()).backward()

    model.eval()
    fwd = time_call(forward, repeat, warmup, device=device)
    fwd_peak = peak_memory_bytes(forward, device)
    model.train()
    train = time_call(train_step, repeat, warmup, device=device)
    train_peak = peak_memory_bytes(train_step, device)
    model.zero_grad(set_to_none=True)
    return dict(fwd_ms=fwd['median_ms'], train_ms=train['median_ms'],
                fwd_peak_mib=fwd_peak / 2**20,
                train_peak_mib=train_peak / 2**20)


def model_rows(name: str, device: torch.device, batch_sizes: Sequence[int],
               precisions: Sequence[str], peaks: Dict[str, Dict],
               repeat: int, quick: bool, bf16_note: Optional[str]
               ) -> List[Dict]:
    """Every row of one model: its cost, then each batch x precision."""
    from projects.nsrm.utils.model_cost import backbone_and_head_cost
    label, config, size = MODELS[name]
    # heatmaps: stride 8 (the paper's VGG-19), stride 4 (the add-ons)
    stride = 8 if config.startswith('configs/nsrm/') else 4
    if quick:
        size = QUICK_INPUTS[size]
    heatmap = size // stride
    cfg = load_model_config(config, (size, size), (heatmap, heatmap), quick)
    cost = backbone_and_head_cost(cfg, (size, size))
    model = build_model(cfg, device)
    rows = []
    for batch in batch_sizes:
        gen = torch.Generator().manual_seed(batch)
        inputs = torch.randn(batch, 3, size, size, generator=gen).to(device)
        for precision in precisions:
            row = dict(model=label, config=config, input=f'{size}x{size}',
                       batch=batch, precision=precision,
                       params_m=cost['total_params'] / 1e6,
                       backbone_gmac=cost['backbone_flops'] / 1e9,
                       head_gmac=cost['head_flops'] / 1e9,
                       gmac=cost['total_flops'] / 1e9)
            if precision == 'bf16' and bf16_note is None:
                row['note'] = 'no native bf16'
                rows.append(row)
                continue
            row.update(measure(model, inputs, precision, device, repeat,
                               warmup=0 if quick else 1))
            macs = cost['total_flops'] * batch
            row['fwd_gmacs'] = macs / (row['fwd_ms'] / 1e3) / 1e9
            row['train_gmacs'] = 3 * macs / (row['train_ms'] / 1e3) / 1e9
            peak = peaks[precision]['gmacs']
            row['fwd_of_peak'] = f"{100 * row['fwd_gmacs'] / peak:.0f}%"
            row['train_of_peak'] = (
                f"{100 * row['train_gmacs'] / peak:.0f}%")
            rows.append(row)
    return rows


def main(argv: Sequence[str] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument('--repeat', type=int, default=5,
                        help='timed calls per figure (median); default 5')
    parser.add_argument('--models', nargs='+', choices=sorted(MODELS),
                        default=None, help='models to run (default all; '
                        f'--quick: {" ".join(QUICK_MODELS)})')
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=None,
                        help='batch sizes (default 1 8; --quick: 1)')
    parser.add_argument(
        '--bf16', choices=('auto', 'on', 'off'), default='auto',
        help='bfloat16 autocast rows: auto = where the device has native '
        'bfloat16 (default), on = also emulated, off = none')
    args = parser.parse_args(argv)
    device, repeat = start_run(args)
    models = args.models or (QUICK_MODELS if args.quick else list(MODELS))
    batch_sizes = args.batch_sizes or ([1] if args.quick else [1, 8])
    if min(batch_sizes) < 1:
        raise ValueError(f'--batch-sizes must be >= 1, got {batch_sizes}')
    info = device_info(device)

    import projects.nsrm  # noqa: F401  registers NSRM's modules
    bf16_note = bf16_support(device)
    if args.bf16 == 'on' and bf16_note is None:
        bf16_note = 'emulated (--bf16 on)'
    precisions = ['fp32'] if args.bf16 == 'off' else ['fp32', 'bf16']
    n = 256 if args.quick else 2048
    peaks = {'fp32': matmul_peak_gmacs(device, torch.float32, n,
                                       repeat=max(repeat, 3))}
    peak_rows = [dict(peaks['fp32'], precision='fp32')]
    if 'bf16' in precisions and bf16_note is not None:
        peaks['bf16'] = matmul_peak_gmacs(device, torch.bfloat16, n,
                                          repeat=max(repeat, 3))
        peak_rows.append(dict(peaks['bf16'], precision='bf16',
                              note=bf16_note))
    elif 'bf16' in precisions:
        peak_rows.append(dict(n=n, precision='bf16', note='no native bf16'))
    print_table(f'Matmul peak ({n}x{n} @ {n}x{n}, median)', info,
                [('precision', 'precision', ''),
                 ('median_ms', 'ms', '.2f'), ('gmacs', 'GMAC/s', '.1f'),
                 ('note', 'note', '')], peak_rows)

    rows = []
    for name in models:
        rows += model_rows(name, device, batch_sizes, precisions, peaks,
                           repeat, args.quick, bf16_note)
    print_table(
        f'Models (ms per batch, median of {repeat}; peak MiB above the '
        'weights; GMAC/s achieved and share of the matmul peak)', info,
        [('model', 'model', ''), ('input', 'input', ''),
         ('batch', 'batch', 'd'), ('precision', 'prec', ''),
         ('params_m', 'params M', '.2f'), ('gmac', 'GMAC/sample', '.2f'),
         ('fwd_ms', 'fwd ms', '.1f'), ('train_ms', 'fwd+bwd ms', '.1f'),
         ('fwd_peak_mib', 'fwd MiB', '.0f'),
         ('train_peak_mib', 'fwd+bwd MiB', '.0f'),
         ('fwd_gmacs', 'fwd GMAC/s', '.1f'),
         ('fwd_of_peak', 'of peak', ''),
         ('train_gmacs', 'fwd+bwd GMAC/s', '.1f'),
         ('train_of_peak', 'of peak', ''), ('note', 'note', '')], rows)
    payload = dict(
        script='model_speed', device=info,
        settings=dict(repeat=repeat, quick=args.quick, models=list(models),
                      batch_sizes=list(batch_sizes), bf16=args.bf16,
                      native_bf16=bf16_support(device)),
        matmul_peak=rows_with(info, peak_rows),
        models=rows_with(info, rows))
    payload['path'] = write_results('model_speed', payload, args.out)
    return payload


if __name__ == '__main__':
    main()

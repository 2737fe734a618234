"""Whether the ``channels_last`` and ``compile`` config switches pay off:
the bare training step of a config's model in float32 as built, in
channels-last memory format, and compiled with ``torch.compile``, measured
in one run.

Usage::

    python benchmarks/switches.py [--config CONFIG] [--batch-size 8]
        [--repeat 5] [--device cuda:0] [--no-compile]
    python benchmarks/switches.py --quick      # a few-second smoke run

A "bare step" is forward + ``NSRMLoss`` + backward on a batch already on the
device (as in ``overheads.py``), ``optimizer.zero_grad`` included. The
compiled variant compiles that step function once (its compile time is
printed separately, not in the step time). Prints one table and writes
``benchmarks/results/switches.json``; the README's "Performance" section
says which switch a config turns on, from these figures.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.common import (add_common_args, build_model,  # noqa: E402
                               device_info, fake_targets, load_model_config,
                               loss_step, print_table, rows_with, start_run,
                               synchronize, time_call, write_results)

#: The main job's model (128x128 input) by default.
DEFAULT_CONFIG = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'


def measure(config: str, device: torch.device, batch_size: int, repeat: int,
            quick: bool, compile_too: bool) -> List[Dict]:
    """The step time of each variant (see the module docstring)."""
    sizes = (((32, 32), (8, 8)) if quick else (None, None))
    cfg = load_model_config(config, *sizes, quick=quick)
    width, height = cfg.codec.input_size
    rows = []
    base_ms = None
    variants = ['float32', 'channels_last']
    if compile_too:
        variants.append('torch.compile')
    for variant in variants:
        torch.manual_seed(0)
        model = build_model(cfg, device).train()
        inputs = torch.randn(batch_size, 3, height, width, device=device)
        targets = fake_targets(model, inputs)
        if variant == 'channels_last':
            model = model.to(memory_format=torch.channels_last)
            inputs = inputs.contiguous(memory_format=torch.channels_last)

        def step(model=model, inputs=inputs, targets=targets):
            model.zero_grad(set_to_none=True)
            return loss_step(model, inputs, targets)

        compile_s = None
        if variant == 'torch.compile':
            step = torch.compile(step)
            synchronize(device)
            start = time.perf_counter()
            try:
                step()
            except Exception as err:  # a missing C++ compiler, for one
                rows.append(dict(variant=variant,
                                 note=f'failed: {type(err).__name__}: '
                                 f'{str(err).splitlines()[0][:80]}'))
                continue
            synchronize(device)
            compile_s = time.perf_counter() - start
        timing = time_call(step, repeat, warmup=1, device=device)
        if base_ms is None:
            base_ms = timing['median_ms']
        rows.append(dict(variant=variant, **timing,
                         ratio=timing['median_ms'] / base_ms,
                         compile_s=compile_s, note=''))
    return rows


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help=f'model config (default {DEFAULT_CONFIG})')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='batch size (default 8; --quick: 2)')
    parser.add_argument('--repeat', type=int, default=5,
                        help='timed steps per figure (median); default 5')
    parser.add_argument('--no-compile', action='store_true',
                        help='skip the torch.compile variant')
    add_common_args(parser)
    args = parser.parse_args(argv)
    device, repeat = start_run(args)
    info = device_info(device)
    batch = args.batch_size or (2 if args.quick else 8)
    rows = measure(args.config, device, batch, repeat, args.quick,
                   not args.no_compile)
    print_table(
        f'Bare training step of {args.config}, batch {batch}, median of '
        f'{repeat} (ratio: over float32 as built; < 1 is faster)', info,
        [('variant', 'variant', ''), ('median_ms', 'ms', '.1f'),
         ('ratio', 'ratio', '.3f'), ('compile_s', 'compile s', '.1f'),
         ('note', 'note', '')], rows)
    payload = dict(script='switches', device=info,
                   settings=dict(config=args.config, batch_size=batch,
                                 repeat=repeat, quick=args.quick),
                   rows=rows_with(info, rows))
    payload['path'] = write_results('switches', payload, args.out)
    return payload


if __name__ == '__main__':
    main()

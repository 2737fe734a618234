#!/usr/bin/env python
"""Generate the NSRM synthetic hand data set (OneHand10K-style COCO json).

Example (from the repository root)::

    python tools/generate_synthetic_hands.py --out-dir data/synthetic_hands \
        --num-train 1000 --num-val 200 --seed 0

An existing complete data set with the same settings is reused unless
``--force`` is given.
"""
import argparse
import os
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

# projects.synthetic_hands is pure numpy + OpenCV (no torch / MMPose), so
# this tool works before the MMPose stack is installed.
from projects.synthetic_hands import (  # noqa: E402
    ensure_synthetic_hands, generate_synthetic_hands)


def parse_args(argv=None):
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', default='data/synthetic_hands',
                        help='output root (default: data/synthetic_hands)')
    parser.add_argument('--num-train', type=int, default=1000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--workers', type=int, default=None,
                        help='processes (default: os.cpu_count())')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if a matching data set exists')
    return parser.parse_args(argv)


def main(argv=None):
    """Generate (or reuse) the data set and print a summary."""
    args = parse_args(argv)
    kwargs = dict(num_train=args.num_train, num_val=args.num_val,
                  seed=args.seed, img_size=args.img_size,
                  workers=args.workers)
    start = time.perf_counter()
    try:
        if args.force:
            result = generate_synthetic_hands(args.out_dir, **kwargs)
        else:
            result = ensure_synthetic_hands(args.out_dir, **kwargs)
    except ValueError as err:
        sys.exit(f'error: {err}')
    seconds = time.perf_counter() - start
    total = result['num_train'] + result['num_val']
    action = 'wrote' if result['generated'] else 'reused'
    print(f'{action} {result["num_train"]} train + {result["num_val"]} val '
          f'images ({result["img_size"]}x{result["img_size"]}) in '
          f'{result["out_dir"]}')
    for split in ('train', 'val'):
        print(f'  {split}: {result["img_dirs"][split]}  '
              f'{result["ann_files"][split]}')
    print(f'  meta: {result["meta"]}')
    rate = f', {total / seconds:.1f} img/s' if result['generated'] else ''
    print(f'took {seconds:.2f} s{rate}')


if __name__ == '__main__':
    main()

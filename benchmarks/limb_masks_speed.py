"""Speed of NSRM limb-mask generation (single thread, one sample).

Usage::

    python benchmarks/limb_masks_speed.py [--repeat 2000]

Prints the median wall time per sample (ms) of
``projects.nsrm.codecs.utils.limb_masks.generate_limb_masks`` for a
realistic 21-keypoint hand. Target: G1&6 LPM at 46x46 <= 0.5 ms on one core.
"""
import os

# single thread: must be set before numpy is imported
for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
             'NUMEXPR_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import sys  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from projects.nsrm.codecs.utils.limb_masks import \
    generate_limb_masks  # noqa: E402
from projects.nsrm.testing import HAND as HAND_46  # noqa: E402


def bench(keypoints, visible, size, mask_type, groups, sigma, repeat):
    fn = lambda: generate_limb_masks(  # noqa: E731
        keypoints, visible, size, mask_type=mask_type, groups=groups,
        sigma=sigma)
    fn()  # warm-up (grid cache)
    number = 10
    times = timeit.repeat(fn, number=number, repeat=max(repeat // number, 5))
    return 1e3 * float(np.median(times)) / number


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=2000,
                        help='calls per case (median over groups of 10)')
    args = parser.parse_args()

    vis = np.ones(21, dtype=np.float32)
    vis_missing = vis.copy()
    vis_missing[[0, 8, 12]] = 0  # OneHand10K-style unlabelled keypoints

    def scaled(w, h):
        return HAND_46 * np.array([w / 46.0, h / 46.0])

    cases = [
        ('LPM', 'G1&6', (46, 46), scaled(46, 46), vis),
        ('LDM', 'G1&6', (46, 46), scaled(46, 46), vis),
        ('LPM', 'G1', (46, 46), scaled(46, 46), vis),
        ('LDM', 'G1', (46, 46), scaled(46, 46), vis),
        ('LPM', 'G6', (46, 46), scaled(46, 46), vis),
        ('LPM', 'G1&6', (46, 46), scaled(46, 46), vis_missing),
        ('LPM', 'G1&6', (64, 64), scaled(64, 64), vis),
        ('LDM', 'G1&6', (64, 64), scaled(64, 64), vis),
        ('LPM', 'G1&6', (48, 64), scaled(48, 64), vis),
        ('LDM', 'G1&6', (48, 64), scaled(48, 64), vis),
    ]
    print(f'numpy {np.__version__}, single thread, median of '
          f'{args.repeat} calls')
    print(f'{"mask":5s} {"groups":6s} {"W x H":8s} {"visible":8s} '
          f'{"ms/sample":>10s}')
    for mask_type, groups, size, kpts, v in cases:
        ms = bench(kpts, v, size, mask_type, groups, 1.0, args.repeat)
        print(f'{mask_type:5s} {groups:6s} {size[0]:>2d} x {size[1]:<3d} '
              f'{int(v.sum()):>2d}/21    {ms:10.3f}')


if __name__ == '__main__':
    main()

"""Speed of NSRM's training targets and of the paper's data pipeline, per
sample, on one CPU thread.

Usage::

    python benchmarks/targets_speed.py [--repeat 200] [--device cpu]
    python benchmarks/targets_speed.py --quick      # a few-second smoke run

Prints two tables and writes ``benchmarks/results/targets_speed.json``:

1. Limb masks per sample, LDM / LPM x G1 / G6 / G1&6 at 46x46 (the paper's
   368 input) and 64x64 (a 256 input): ``LimbMaskTarget.transform``, the
   pure function it calls (``generate_limb_masks``) and a per-limb
   reference written here (the same maths, one limb at a time, numpy
   float64), with the largest difference between the transform and the
   reference (the run stops if they disagree).
2. The whole training pipeline of ``configs/nsrm/lpm_g1g6_panoptic.py`` per
   sample at 368x368, stage by stage (LoadImage = read + JPEG decode,
   GetBBoxCenterScale, TopdownAffine, GenerateTarget, LimbMaskTarget,
   FastPackPoseInputs) on a generated 640x480 JPEG with one hand, and the
   composed pipeline, timed round-robin (each round: every stage, then the
   composition) so that all figures see the same load. With
   ``--device cuda:N`` one more row: copying the packed sample (image,
   heatmaps, limb masks) to the GPU from pinned memory.

One thread everywhere (``torch.set_num_threads(1)``, ``cv2.setNumThreads(1)``,
the BLAS / OpenMP variables), since DataLoader workers run one sample at a
time each. Figures are medians over ``--repeat`` calls.
"""
import os
import sys

if __name__ == '__main__':
    # one thread: must be set before numpy is imported
    for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                 'NUMEXPR_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS'):
        os.environ[_var] = '1'

import argparse  # noqa: E402
import copy  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from typing import Dict, List, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import cv2  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import (add_common_args, device_info,  # noqa: E402
                               print_table, rows_with, start_run, time_call,
                               write_hand_dataset, write_results)
from projects.nsrm.codecs.utils.limb_masks import \
    generate_limb_masks  # noqa: E402
from projects.nsrm.structures import hand_topology  # noqa: E402
from projects.nsrm.testing import HAND  # noqa: E402

#: The paper's config whose train pipeline is timed.
PIPELINE_CONFIG = 'configs/nsrm/lpm_g1g6_panoptic.py'
#: Heatmap grid -> model input size of the mask cases.
GRIDS = {46: 368, 64: 256}
#: Keypoints left unlabelled in the extra case (OneHand10K-style).
UNLABELLED = (0, 8, 12)
#: Boundary slack of the LDM rectangle (grid pixels), as in the library.
LDM_SLACK = 1e-4


def reference_limb_masks(keypoints: np.ndarray, visible: np.ndarray,
                         size: Tuple[int, int], mask_type: str,
                         groups: str, sigma: float = 1.0) -> np.ndarray:
    """The NSRM limb masks computed one limb at a time (float64), the
    reference the vectorised code is compared with.

    For a limb ``a -> b`` with unit direction ``u`` and normal ``u_perp``
    and a pixel ``p``: ``along = (p - a).u``, ``perp = (p - a).u_perp``.
    LDM = 1 where ``0 <= along <= |b - a|`` and ``|perp| <= sigma``; LPM =
    ``exp(-d^2 / (2 sigma^2))`` with ``d`` the distance to the segment. A
    group is the pixel-wise max of its limbs.

    Args:
        keypoints (np.ndarray): Keypoints in grid units, (K, 2).
        visible (np.ndarray): Keypoint visibility, (K, ); a limb is drawn
            when both its ends are > 0.
        size (Tuple[int, int]): Grid ``(W, H)``.
        mask_type (str): ``'LDM'`` or ``'LPM'``.
        groups (str): ``'G1'``, ``'G6'`` or ``'G1&6'``.
        sigma (float): Half width / spread in grid pixels.

    Returns:
        np.ndarray: The masks, (C, H, W) float32.
    """
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    maps = []
    for start, end in hand_topology.HAND_LIMBS:
        if visible[start] <= 0 or visible[end] <= 0:
            maps.append(np.zeros((h, w)))
            continue
        a, b = keypoints[start], keypoints[end]
        dx, dy = xs - a[0], ys - a[1]
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        ux, uy = ((b - a) / length) if length >= 1e-6 else (1.0, 0.0)
        length = length if length >= 1e-6 else 0.0
        along = dx * ux + dy * uy
        perp = dy * ux - dx * uy
        if mask_type == 'LPM':
            excess = along - np.clip(along, 0.0, length)
            maps.append(np.exp(-(perp**2 + excess**2) / (2 * sigma**2)))
        elif length == 0.0:
            maps.append(dx**2 + dy**2 <= (sigma + LDM_SLACK)**2)
        else:
            maps.append((np.abs(perp) <= sigma + LDM_SLACK)
                        & (along >= -LDM_SLACK)
                        & (along <= length + LDM_SLACK))
    members = hand_topology.channel_members(groups,
                                            len(hand_topology.HAND_LIMBS))
    out = np.zeros((len(members), h, w), dtype=np.float32)
    for c, limbs in enumerate(members):
        for limb in limbs:
            np.maximum(out[c], maps[limb], out=out[c])
    return out


def mask_cases() -> List[dict]:
    """The limb-mask cases: every mask type x groups x grid, plus LPM G1&6
    at 46x46 with three keypoints unlabelled."""
    cases = [
        dict(mask_type=m, groups=g, grid=s, unlabelled=())
        for s in GRIDS for m in ('LDM', 'LPM') for g in ('G1', 'G6', 'G1&6')
    ]
    cases.append(dict(mask_type='LPM', groups='G1&6', grid=46,
                      unlabelled=UNLABELLED))
    return cases


def time_limb_masks(repeat: int, device: torch.device) -> List[Dict]:
    """Table 1: the three implementations on every case."""
    from projects.nsrm.datasets.transforms import LimbMaskTarget
    rows = []
    for case in mask_cases():
        grid, in_size = case['grid'], GRIDS[case['grid']]
        kpts = HAND * grid / 46.0  # grid units
        visible = np.ones(21, dtype=np.float32)
        visible[list(case['unlabelled'])] = 0
        transform = LimbMaskTarget(
            input_size=(in_size, in_size), heatmap_size=(grid, grid),
            mask_type=case['mask_type'], groups=case['groups'])
        results = dict(
            transformed_keypoints=(kpts * in_size / grid)[None],
            keypoints_visible=visible[None])
        args = (kpts, visible, (grid, grid), case['mask_type'],
                case['groups'])
        got = transform.transform(dict(results))['limb_masks']
        want = reference_limb_masks(*args)
        diff = float(np.abs(got - want).max())
        if got.shape != want.shape or diff > 1e-4:
            raise RuntimeError(
                f'LimbMaskTarget disagrees with the per-limb reference on '
                f'{case}: shapes {got.shape} / {want.shape}, max |diff| '
                f'{diff:g}')
        row = dict(
            mask_type=case['mask_type'], groups=case['groups'],
            grid=f'{grid}x{grid}', labelled=f'{int(visible.sum())}/21',
            transform_ms=time_call(lambda: transform.transform(
                dict(results)), repeat)['median_ms'],
            function_ms=time_call(lambda: generate_limb_masks(
                kpts, visible, (grid, grid), mask_type=case['mask_type'],
                groups=case['groups']), repeat)['median_ms'],
            loop_ms=time_call(lambda: reference_limb_masks(*args),
                              repeat)['median_ms'],
            max_diff=diff)
        row['loop_over_transform'] = row['loop_ms'] / row['transform_ms']
        rows.append(row)
    return rows


def pipeline_stages(root: str):
    """The dataset's first sample (before the pipeline) and the built
    train transforms of :data:`PIPELINE_CONFIG`, over ``root``."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpose.registry import DATASETS, TRANSFORMS
    from mmpose.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('mmpose')
    cfg = Config.fromfile(os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), PIPELINE_CONFIG))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset = DATASETS.build(
        dict(dataset_cfg, data_root=root + '/', pipeline=[]))
    transforms = [TRANSFORMS.build(t) for t in dataset_cfg.pipeline]
    return dataset.get_data_info(0), transforms


def time_pipeline(repeat: int, device: torch.device) -> List[Dict]:
    """Table 2: each stage of the paper's train pipeline, then all."""
    with tempfile.TemporaryDirectory() as root:
        write_hand_dataset(root, num_samples=1, image_size=(640, 480))
        info, transforms = pipeline_stages(root)
        states = [info]
        for t in transforms:
            states.append(t(copy.deepcopy(states[-1])))

        def run_all(results):
            for t in transforms:
                results = t(results)
            return results

        # round-robin: every round times each stage on a fresh copy of its
        # input, then the composed pipeline, so that the stages and their
        # composition are measured under the same load (timing them one
        # after the other once showed a 1.3 ms "gap" that was drift)
        calls = [(t, lambda i=i: copy.deepcopy(states[i]))
                 for i, t in enumerate(transforms)]
        calls.append((run_all, lambda: copy.deepcopy(info)))
        times = [[] for _ in calls]
        for round_ in range(1 + repeat):  # round 0 warms up
            for (fn, setup), ts in zip(calls, times):
                ms = time_call(fn, 1, warmup=0, setup=setup)['median_ms']
                if round_:
                    ts.append(ms)
        medians = [statistics.median(ts) for ts in times]
        rows = [dict(stage=type(t).__name__, ms=ms)
                for t, ms in zip(transforms, medians)]
        whole = medians[-1]
    total = sum(r['ms'] for r in rows)
    for r in rows:
        r['share'] = f"{100 * r['ms'] / total:.0f}%"
    rows.append(dict(stage='sum of the stages', ms=total, share='100%'))
    rows.append(dict(stage='composed pipeline', ms=whole))
    if device.type == 'cuda':
        packed = states[-1]
        tensors = [packed['inputs'],
                   packed['data_samples'].gt_fields.heatmaps,
                   packed['data_samples'].gt_fields.limb_masks]

        def copy_to_device():
            return [x.pin_memory().to(device, non_blocking=True)
                    for x in tensors]

        rows.append(dict(
            stage=f'to {device} (pinned, non_blocking)',
            ms=time_call(copy_to_device, repeat,
                         device=device)['median_ms']))
    return rows


def main(argv: Sequence[str] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser, threads=False)
    parser.add_argument('--repeat', type=int, default=200,
                        help='timed calls per figure (median); default 200')
    args = parser.parse_args(argv)
    device, repeat = start_run(args)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    info = device_info(device)

    masks = time_limb_masks(repeat, device)
    print_table(
        f'Limb masks per sample (ms, median of {repeat}; one thread): '
        'LimbMaskTarget, the pure function, a per-limb numpy loop',
        info, [('mask_type', 'mask', ''), ('groups', 'groups', ''),
               ('grid', 'grid', ''), ('labelled', 'labelled', ''),
               ('transform_ms', 'transform', '.3f'),
               ('function_ms', 'function', '.3f'),
               ('loop_ms', 'per-limb loop', '.3f'),
               ('loop_over_transform', 'loop/transform', '.1f'),
               ('max_diff', 'max |diff|', '.1e')], masks)
    pipeline = time_pipeline(repeat, device)
    print_table(
        f'Training pipeline of {PIPELINE_CONFIG} per sample at 368x368 '
        f'(ms, median of {repeat}; one thread; 640x480 JPEG)', info,
        [('stage', 'stage', ''), ('ms', 'ms/sample', '.3f'),
         ('share', 'share', '')], pipeline)
    payload = dict(
        script='targets_speed', device=info,
        settings=dict(repeat=repeat, quick=args.quick, threads=1,
                      pipeline_config=PIPELINE_CONFIG),
        limb_masks=rows_with(info, masks),
        pipeline=rows_with(info, pipeline))
    payload['path'] = write_results('targets_speed', payload, args.out)
    return payload


if __name__ == '__main__':
    main()

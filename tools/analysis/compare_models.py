"""Two hand models side by side on the same test images, each with its
per-image PCK (the paper's qualitative comparison, e.g. CPM against NSRM).

Over the first N samples of CONFIG_A's test dataset (its ground-truth boxes
and keypoints) it runs both models and writes ``OUT_DIR/<image stem>.png``:
model A's drawing beside model B's (skeleton, and the limb masks of a model
that has them, see ``NSRMPoseLocalVisualizer``), each under a title with its
per-image PCK-mean. An image's PCK-mean is the mean over the thresholds of
CONFIG_A's ``MultiThresholdPCK`` test evaluator (its ``thresholds`` and
``norm``; default 0.1, 0.15, ..., 0.3 of the ground-truth keypoints' box)
of the fraction of its labelled keypoints within the threshold, as
``MultiThresholdPCK`` computes it for one image. It prints a table (image,
PCK A, PCK B in %) and writes it to ``OUT_DIR/compare.json`` (fractions).

Example::

    python tools/analysis/compare_models.py \\
        configs/nsrm/cpm_synthetic_cpu.py work_dirs/cpm/epoch_12.pth \\
        configs/nsrm/lpm_g1g6_synthetic_cpu.py work_dirs/lpm/epoch_12.pth \\
        --out-dir vis_compare --num 8 --names CPM NSRM
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import projects.nsrm  # noqa: E402,F401  registers NSRM's modules
from mmpose.registry import DATASETS  # noqa: E402
from projects.nsrm import apis  # noqa: E402
from projects.nsrm.evaluation import functional  # noqa: E402
from projects.nsrm.utils import runner_setup  # noqa: E402
from projects.nsrm.visualization import mask_drawing  # noqa: E402

#: MultiThresholdPCK's defaults, used when CONFIG_A's test_evaluator has none.
DEFAULT_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3)
DEFAULT_NORM = 'keypoint_bbox'


def pck_settings(test_evaluator) -> Tuple[Tuple[float, ...], str]:
    """``thresholds`` and ``norm`` of the first ``MultiThresholdPCK`` of a
    config's ``test_evaluator`` (a dict or a list of dicts), else the
    metric's defaults."""
    evaluators = (test_evaluator if isinstance(test_evaluator, (list, tuple))
                  else [test_evaluator])
    for evaluator in evaluators:
        if isinstance(evaluator, dict) and str(
                evaluator.get('type', '')).endswith('MultiThresholdPCK'):
            thresholds = evaluator.get('thresholds', DEFAULT_THRESHOLDS)
            thresholds = np.atleast_1d(np.asarray(thresholds, float))
            return tuple(float(t) for t in thresholds), evaluator.get(
                'norm', DEFAULT_NORM)
    return DEFAULT_THRESHOLDS, DEFAULT_NORM


def image_pck_mean(pred: np.ndarray,
                   gt: np.ndarray,
                   visible: np.ndarray,
                   thresholds: Sequence[float],
                   norm: str = DEFAULT_NORM,
                   bbox: Optional[np.ndarray] = None) -> Optional[float]:
    """The PCK-mean of one image, as ``MultiThresholdPCK`` scores it.

    Args:
        pred (np.ndarray): Predicted keypoints (K, 2), image pixels.
        gt (np.ndarray): Ground-truth keypoints (K, 2).
        visible (np.ndarray): Labelled keypoints (K,), > 0 when labelled.
        thresholds (Sequence[float]): T thresholds, fractions of the norm.
        norm (str): ``'keypoint_bbox'`` (the longer side of the labelled
            keypoints' box) or ``'bbox'`` (the longer side of ``bbox``).
        bbox (np.ndarray, optional): The annotation box ``[x1, y1, x2, y2]``
            (4,), for ``norm='bbox'``.

    Returns:
        float | None: Mean over the thresholds of the fraction of labelled
        keypoints whose error / norm is below the threshold, in [0, 1];
        None when the image has no labelled keypoint or a zero norm (the
        metric skips such an image).
    """
    gt = np.asarray(gt, dtype=np.float64)[None, :, :2]
    pred = np.asarray(pred, dtype=np.float64)[None, :, :2]
    mask = np.asarray(visible).reshape(1, -1) > 0
    if norm == 'keypoint_bbox':
        norm_size = functional.keypoint_bbox_size(gt, mask)
    elif norm == 'bbox':
        if bbox is None:
            raise ValueError("image_pck_mean(norm='bbox') needs the bbox")
        box = np.asarray(bbox, dtype=np.float64).reshape(4)
        norm_size = np.array([max(box[2] - box[0], box[3] - box[1])])
    else:
        raise ValueError(f"norm must be 'keypoint_bbox' or 'bbox', got "
                         f'{norm!r}')
    if not functional.countable_rows(mask, norm_size)[0]:
        return None
    pck, _, _ = functional.multi_threshold_pck(pred, gt, mask, norm_size,
                                               thresholds)
    return float(pck.mean())


def format_table(names: Sequence[str], rows: Sequence[dict]) -> str:
    """The printed table: image, then each model's PCK-mean in % ('-' where
    the image has no PCK), then the mean over the images that have one."""

    def cell(value):
        return '-' if value is None else f'{100 * value:.1f}'

    header = ['image', *[f'PCK {n} (%)' for n in names]]
    lines = [[row['image'], *[cell(row['pck'][n]) for n in names]]
             for row in rows]
    means = mean_pck(names, rows)
    lines.append(['mean', *[cell(means[n]) for n in names]])
    widths = [
        max(len(str(line[i])) for line in [header, *lines])
        for i in range(len(header))
    ]
    return '\n'.join(
        '  '.join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip()
        for line in [header, *lines])


def mean_pck(names: Sequence[str], rows: Sequence[dict]) -> dict:
    """Each model's mean PCK-mean over the images that have one (None when
    none has)."""
    means = {}
    for name in names:
        values = [r['pck'][name] for r in rows if r['pck'][name] is not None]
        means[name] = float(np.mean(values)) if values else None
    return means


def unique_names(paths: Sequence[str]) -> List[str]:
    """``<stem>.png`` per image, ``<stem>_<i>.png`` for the i-th sample when
    an earlier one has the same stem (two hands of one image)."""
    names, seen = [], set()
    for i, path in enumerate(paths):
        stem = osp.splitext(osp.basename(path))[0]
        name = f'{stem}.png' if stem not in seen else f'{stem}_{i}.png'
        seen.add(stem)
        names.append(name)
    return names


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw two models\' predictions side by side on the first '
        'N test images of CONFIG_A, each with its per-image PCK-mean.')
    parser.add_argument('config_a', help='config of model A (its test '
                        'dataset and MultiThresholdPCK settings are used)')
    parser.add_argument('checkpoint_a', help='checkpoint of model A')
    parser.add_argument('config_b', help='config of model B')
    parser.add_argument('checkpoint_b', help='checkpoint of model B')
    parser.add_argument('--out-dir', required=True,
                        help='folder for the PNGs and compare.json')
    parser.add_argument('--num', type=int, default=8,
                        help='number of test samples (default: 8)')
    parser.add_argument('--names', nargs=2, metavar=('A', 'B'),
                        help='model names (default: the config file names)')
    apis.add_drawing_args(parser)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='overrides of both configs in key=value form, e.g. '
        'test_dataloader.dataset.data_root=data/synthetic_hands/')
    return parser.parse_args(argv)


def draw_pair(image: np.ndarray, info: dict, names: Sequence[str],
              models: Sequence, visualizers: Sequence,
              thresholds: Sequence[float], norm: str,
              kpt_thr: float) -> Tuple[np.ndarray, dict]:
    """Both models on one test sample.

    Args:
        image (np.ndarray): (H, W, 3) uint8 BGR.
        info (dict): The dataset's data info of the sample (``bbox`` (1, 4)
            xyxy, ``keypoints`` (1, K, 2), ``keypoints_visible`` (1, K)).
        names, models, visualizers: One per model.
        thresholds (Sequence[float]), norm (str): The PCK settings.
        kpt_thr (float): Keypoint score threshold of the drawing.

    Returns:
        tuple: The drawings side by side under their titles, (24 + H_max,
        W_A + 8 + W_B, 3) uint8 BGR, and ``{name: PCK-mean or None}``.
    """
    bbox = np.asarray(info['bbox'], dtype=np.float32).reshape(1, 4)
    gt = np.asarray(info['keypoints']).reshape(-1, 2)
    visible = np.asarray(info['keypoints_visible']).reshape(-1)
    panels, pcks = [], {}
    for name, model, visualizer in zip(names, models, visualizers):
        sample = apis.inference_nsrm(model, image, bbox)
        pred = sample.pred_instances.keypoints[0]
        pcks[name] = pck = image_pck_mean(pred, gt, visible, thresholds,
                                          norm, bbox[0])
        drawn = visualizer.add_datasample(name, image[..., ::-1], sample,
                                          draw_gt=False, kpt_thr=kpt_thr)
        score = 'no PCK' if pck is None else f'{100 * pck:.1f}%'
        panels.append(
            mask_drawing.title_bar(
                np.ascontiguousarray(drawn[..., ::-1]),
                f'{name}: PCK-mean {score}'))
    return mask_drawing.hstack_panels(panels, gap=8), pcks


def main(argv=None) -> int:
    runner_setup.silence_known_warnings()
    args = parse_args(argv)
    try:
        if args.num < 1:
            raise apis.InputError(f'--num must be >= 1, got {args.num}')
        names = args.names or [
            osp.splitext(osp.basename(c))[0]
            for c in (args.config_a, args.config_b)
        ]
        if names[0] == names[1]:
            raise apis.InputError('--names: the two models need different '
                                  f'names, got {names}')
        cfg = runner_setup.load_config(args.config_a)
        cfg.merge_from_dict(args.cfg_options)
        thresholds, norm = pck_settings(cfg.get('test_evaluator', []))
        models = [
            apis.init_nsrm_model(config, ckpt, args.device, args.cfg_options)
            for config, ckpt in ((args.config_a, args.checkpoint_a),
                                 (args.config_b, args.checkpoint_b))
        ]
        init_default_scope(cfg.get('default_scope', 'mmpose'))
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        infos = [dataset.get_data_info(i)
                 for i in range(min(args.num, len(dataset)))]
        if not infos:
            raise apis.InputError(
                f'{args.config_a}: the test dataset is empty')
        # images are named relative to the dataset's image folder
        img_root = dataset.data_prefix.get('img') or ''
        visualizers = [apis.build_visualizer(m) for m in models]
        os.makedirs(args.out_dir, exist_ok=True)
        rows = []
        png_names = unique_names([info['img_path'] for info in infos])
        for info, png_name in zip(infos, png_names):
            drawn, pcks = draw_pair(
                apis.read_image(info['img_path']), info, names, models,
                visualizers, thresholds, norm, args.kpt_thr)
            out_file = osp.join(args.out_dir, png_name)
            cv2.imwrite(out_file, drawn)
            image = (osp.relpath(info['img_path'], img_root) if img_root
                     else osp.basename(info['img_path']))
            rows.append(dict(image=image, png=out_file, pck=pcks))
    except (FileNotFoundError, apis.InputError) as err:
        print(f'compare_models.py: error: {err}', file=sys.stderr)
        return 1

    shown = ', '.join(f'{t:g}' for t in thresholds)
    print(f'PCK-mean per image (thresholds {shown}, norm {norm!r}):')
    print(format_table(names, rows))
    result = dict(models=list(names), thresholds=list(thresholds), norm=norm,
                  images=rows, mean=mean_pck(names, rows))
    json_file = osp.join(args.out_dir, 'compare.json')
    with open(json_file, 'w') as f:
        json.dump(result, f, indent=2)
    print(f'Wrote {len(rows)} images and {json_file}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

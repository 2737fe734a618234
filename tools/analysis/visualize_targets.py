"""Draws the NSRM limb-mask targets of a config's training samples (the
paper's Figures 2 to 4): LDM and LPM, G1 and the six G6 groups.

For the first ``--num`` samples of the config's train (or ``--split val``)
dataset, the config's OWN pipeline runs up to, not including,
``PackPoseInputs`` (numpy and ``random`` seeded with ``--seed`` first, so the
random augmentation is reproducible), so the crop drawn is exactly the model
input a training step sees. From its ``transformed_keypoints`` the project's
``LimbMaskTarget`` builds the LDM and LPM targets for G1&6 with the config's
input size, heatmap size and sigma (those of the config's ``LimbMaskTarget``
when its pipeline has one, else the head's codec sizes and sigma 1.0).

One PNG per sample, ``OUT_DIR/<index>_<image stem>.png``, a grid of tiles
the size of the crop::

    input + keypoints | LDM G1      | LPM G1
    LDM thumb | LDM index | LDM middle | LDM ring | LDM little | LDM palm
    LPM thumb | LPM index | LPM middle | LPM ring | LPM little | LPM palm

The first tile is the crop with its labelled keypoints and skeleton in the
dataset's colours; the others are the masks blended over the crop.

Where the masks are drawn: heatmap pixel ``i`` lies on crop pixel ``i * s``
(``s = input / heatmap``), as MMPose's codecs and ``LimbMaskTarget`` place
it (``grid_to_crop`` in ``projects/nsrm/visualization/mask_drawing.py``), not
where a plain ``cv2.resize`` would put it (``(s - 1) / 2`` further right and
down).

Example::

    python tools/analysis/visualize_targets.py \\
        configs/nsrm/lpm_g1g6_synthetic_cpu.py --num 4 --out-dir vis_targets
"""
import argparse
import os
import os.path as osp
import random
import sys
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from mmpose.registry import DATASETS, TRANSFORMS  # noqa: E402
# importing projects.nsrm registers NSRM's modules
from projects.nsrm import channel_slices  # noqa: E402
from projects.nsrm.datasets.transforms import PACK_TRANSFORMS  # noqa: E402
from projects.nsrm.structures import channel_names  # noqa: E402
from projects.nsrm.utils import runner_setup  # noqa: E402
from projects.nsrm.visualization.mask_drawing import (  # noqa: E402
    grid_to_crop, overlay_mask, tile_grid)

#: The structure channels drawn: G1 and the six G6 groups.
GROUPS = 'G1&6'
#: The two synthetic mask types, in figure order.
MASK_TYPES = ('LDM', 'LPM')
#: Tiles per row of the figure (the six G6 groups).
COLS = 6
#: Pixels between the tiles and around the grid.
PAD = 4
#: Opacity of a mask at value 1.
ALPHA = 0.6
#: Sigma of the masks when the config has no ``LimbMaskTarget``.
DEFAULT_SIGMA = 1.0


class TargetFigureError(ValueError):
    """A config, option or sample that cannot be drawn (the message says
    why)."""


def skeleton_style(metainfo: Dict) -> Dict[str, np.ndarray]:
    """The skeleton of a dataset's metainfo, with BGR colours.

    Args:
        metainfo (dict): ``dataset.metainfo`` (MMPose's parsed metainfo:
            ``skeleton_links``, and RGB ``skeleton_link_colors``,
            ``keypoint_colors``).

    Returns:
        dict: ``links`` (L, 2) int64, ``link_colors`` (L, 3) and
        ``keypoint_colors`` (K, 3) uint8 BGR.
    """
    links = np.asarray(metainfo.get('skeleton_links', []),
                       dtype=np.int64).reshape(-1, 2)
    link_colors = np.asarray(metainfo.get('skeleton_link_colors', []),
                             dtype=np.uint8).reshape(-1, 3)[:, ::-1]
    kpt_colors = np.asarray(metainfo.get('keypoint_colors', []),
                            dtype=np.uint8).reshape(-1, 3)[:, ::-1]
    if len(link_colors) != len(links):
        raise TargetFigureError(
            f'dataset metainfo: {len(link_colors)} skeleton_link_colors for '
            f'{len(links)} skeleton_links')
    return dict(links=links, link_colors=np.ascontiguousarray(link_colors),
                keypoint_colors=np.ascontiguousarray(kpt_colors))


def draw_keypoints(image: np.ndarray, keypoints: np.ndarray,
                   visible: np.ndarray, skeleton: Dict) -> np.ndarray:
    """The labelled keypoints and the links between them, drawn on a copy.

    Keypoints with ``visible <= 0`` (unlabelled) or non-finite coordinates
    are not drawn, nor the links that end at them.

    Args:
        image (np.ndarray): (h, w, 3) uint8 BGR.
        keypoints (np.ndarray): (K, 2) crop pixels (x, y).
        visible (np.ndarray): (K,) visibility.
        skeleton (dict): :func:`skeleton_style`'s output.

    Returns:
        np.ndarray: (h, w, 3) uint8 BGR, a new array.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    visible = np.asarray(visible).reshape(-1)
    if len(visible) != len(keypoints):
        raise ValueError(f'{len(visible)} visibilities for '
                         f'{len(keypoints)} keypoints')
    kpt_colors = skeleton['keypoint_colors']
    if len(kpt_colors) != len(keypoints):
        raise TargetFigureError(
            f'dataset metainfo: {len(kpt_colors)} keypoint_colors for '
            f'{len(keypoints)} keypoints')
    out = image.copy()
    size = min(image.shape[:2])
    radius = max(2, int(round(size / 64)))
    thickness = max(1, int(round(size / 128)))
    shown = (visible > 0) & np.isfinite(keypoints).all(axis=1)
    # 4 fractional bits: sub-pixel positions, as the masks use them
    fixed = np.round(np.where(shown[:, None], keypoints, 0) * 16).astype(int)
    for (a, b), colour in zip(skeleton['links'], skeleton['link_colors']):
        if a < len(keypoints) and b < len(keypoints) and shown[a] and shown[b]:
            cv2.line(out, tuple(fixed[a]), tuple(fixed[b]),
                     tuple(int(c) for c in colour), thickness, cv2.LINE_AA,
                     shift=4)
    for k in np.flatnonzero(shown):
        cv2.circle(out, tuple(fixed[k]), radius * 16,
                   tuple(int(c) for c in kpt_colors[k]), -1, cv2.LINE_AA,
                   shift=4)
    return out


def limb_targets(sample: Dict, target_args: Dict) -> Dict[str, np.ndarray]:
    """The LDM and LPM targets (G1&6) of one sample, by ``LimbMaskTarget``.

    Args:
        sample (dict): Pipeline results before ``PackPoseInputs``:
            ``transformed_keypoints`` (1, K, 2), ``keypoints_visible``
            (1, K) and, optionally, ``skeleton_links``.
        target_args (dict): ``LimbMaskTarget`` arguments other than
            ``mask_type`` and ``groups`` (:func:`target_settings`).

    Returns:
        dict: ``{'LDM': (7, H, W), 'LPM': (7, H, W)}`` float32, channels in
        ``channel_names('G1&6')`` order (G1, then the six G6 groups).
    """
    targets = {}
    for mask_type in MASK_TYPES:
        transform = TRANSFORMS.build(
            dict(target_args, type='LimbMaskTarget', mask_type=mask_type,
                 groups=GROUPS))
        targets[mask_type] = transform(dict(sample))['limb_masks']
    return targets


def target_tiles(sample: Dict,
                 target_args: Dict,
                 skeleton: Dict,
                 alpha: float = ALPHA) -> Tuple[List[np.ndarray], List[str]]:
    """The figure's tiles of one sample, in figure order.

    Args:
        sample (dict): Pipeline results before ``PackPoseInputs``: ``img``
            (h, w, 3) uint8 BGR (the model input crop),
            ``transformed_keypoints`` (1, K, 2), ``keypoints_visible`` (1, K)
            (or (1, K, 2)).
        target_args (dict): ``LimbMaskTarget`` arguments
            (:func:`target_settings`); its ``input_size`` must be the crop's.
        skeleton (dict): :func:`skeleton_style`'s output.
        alpha (float): Opacity of a mask at value 1. Defaults to ``ALPHA``.

    Returns:
        tuple:
        - tiles (List[np.ndarray]): 15 images (h, w, 3) uint8 BGR: the crop
          with its keypoints, LDM G1, LPM G1, the six LDM G6 groups, the six
          LPM G6 groups.
        - labels (List[str]): their labels (``'LDM G1'``, ``'LPM thumb'``,
          ...).
    """
    image = sample.get('img')
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8
            and image.ndim == 3 and image.shape[2] == 3):
        raise TargetFigureError(
            'the pipeline must give "img" as the uint8 BGR crop (h, w, 3), '
            f'got {getattr(image, "dtype", type(image))} of shape '
            f'{getattr(image, "shape", None)}')
    in_w, in_h = target_args['input_size']
    if image.shape[:2] != (in_h, in_w):
        raise TargetFigureError(
            f'the crop is {image.shape[1]}x{image.shape[0]} but the limb '
            f'masks\' input_size is {in_w}x{in_h}: the config\'s '
            'LimbMaskTarget (or codec) input_size must match the pipeline\'s')
    keypoints = sample.get('transformed_keypoints', sample.get('keypoints'))
    if keypoints is None or np.ndim(keypoints) != 3:
        raise TargetFigureError(
            'the sample has no "transformed_keypoints" (1, K, 2): the '
            'pipeline must crop the hand (TopdownAffine or WholeImageResize)')
    visible = sample.get('keypoints_visible')
    if visible is None:
        visible = np.ones(np.shape(keypoints)[:2])
    visible = np.asarray(visible)
    if visible.ndim == 3:
        visible = visible[..., 0]

    targets = limb_targets(sample, target_args)
    tiles = [draw_keypoints(image, np.asarray(keypoints)[0, :, :2],
                            visible[0], skeleton)]
    labels = ['input']
    names = channel_names(GROUPS)
    slices = channel_slices(GROUPS)
    g1, g6 = slices['g1'].start, range(slices['g6'].start, slices['g6'].stop)
    order = [(t, g1) for t in MASK_TYPES] + [(t, c) for t in MASK_TYPES
                                             for c in g6]
    for mask_type, channel in order:
        mask = grid_to_crop(targets[mask_type][channel], (in_w, in_h))
        tiles.append(overlay_mask(image, mask, alpha))
        labels.append(f'{mask_type} {names[channel]}')
    return tiles, labels


def figure(tiles: Sequence[np.ndarray], labels: Sequence[str],
           pad: int = PAD) -> np.ndarray:
    """:func:`target_tiles`' 15 tiles as the figure: the first three on the
    first row, then a row of six LDM groups and a row of six LPM groups.

    Returns:
        np.ndarray: (3 * (h + pad) + pad, 6 * (w + pad) + pad, 3) uint8 BGR.
    """
    g6 = channel_slices(GROUPS)['g6']
    num_g6 = g6.stop - g6.start
    first = len(tiles) - len(MASK_TYPES) * num_g6
    blank = np.full_like(tiles[0], 255)
    tiles = [*tiles[:first], *[blank] * (COLS - first), *tiles[first:]]
    labels = [*labels[:first], *[''] * (COLS - first), *labels[first:]]
    return tile_grid(tiles, labels, cols=COLS, pad=pad)


def _type_name(transform) -> str:
    kind = transform.get('type') if isinstance(transform, dict) else None
    return getattr(kind, '__name__', kind)


def split_dataset_cfg(cfg: Config, split: str) -> Tuple[Dict, List[Dict]]:
    """The dataset config of ``<split>_dataloader`` and its pipeline.

    Raises:
        TargetFigureError: when the config has no such dataloader, dataset
            or pipeline.
    """
    key = f'{split}_dataloader'
    loader = cfg.get(key)
    if not loader:
        raise TargetFigureError(
            f'the config has no {key} (it is {loader!r}); give a config that '
            f'trains, or another --split')
    dataset = loader.get('dataset')
    if not dataset:
        raise TargetFigureError(f'{key} has no dataset')
    pipeline = dataset.get('pipeline')
    if not pipeline:
        raise TargetFigureError(
            f'{key}.dataset has no pipeline (it is {pipeline!r}); the tool '
            'draws what the pipeline gives the model')
    return dataset, list(pipeline)


def target_settings(cfg: Config, split: str = 'train') -> Dict:
    """``LimbMaskTarget`` arguments (all but ``mask_type`` and ``groups``)
    for the figure: those of the first ``LimbMaskTarget`` in the split's
    pipeline, else in the train pipeline, else the head's codec (or the
    top-level ``codec``) sizes with sigma ``DEFAULT_SIGMA``.

    Returns:
        dict: ``input_size``, ``heatmap_size``, ``sigma``, ``limbs``,
        ``limb_groups`` and ``source`` (where they come from; drop it before
        building the transform).
    """
    for name in dict.fromkeys((split, 'train')):
        loader = cfg.get(f'{name}_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline') or []
        for transform in pipeline:
            if _type_name(transform) == 'LimbMaskTarget':
                return dict(
                    input_size=tuple(transform['input_size']),
                    heatmap_size=tuple(transform['heatmap_size']),
                    sigma=float(transform.get('sigma', DEFAULT_SIGMA)),
                    limbs=transform.get('limbs'),
                    limb_groups=transform.get('limb_groups'),
                    source=f'{name}_dataloader\'s LimbMaskTarget')
    head = (cfg.get('model') or {}).get('head') or {}
    for source, codec in (('model.head.decoder', head.get('decoder')),
                          ('codec', cfg.get('codec'))):
        if codec and 'input_size' in codec and 'heatmap_size' in codec:
            return dict(input_size=tuple(codec['input_size']),
                        heatmap_size=tuple(codec['heatmap_size']),
                        sigma=DEFAULT_SIGMA, limbs=None, limb_groups=None,
                        source=f'{source} (sigma {DEFAULT_SIGMA})')
    raise TargetFigureError(
        'no mask sizes in the config: no LimbMaskTarget in the pipelines and '
        'no input_size/heatmap_size in model.head.decoder or codec')


def build_dataset(cfg: Config, split: str):
    """The split's dataset with its pipeline cut before the packing
    (``PackPoseInputs`` or ``FastPackPoseInputs``).

    Returns:
        BaseDataset: The built dataset.
    """
    dataset_cfg, pipeline = split_dataset_cfg(cfg, split)
    names = [_type_name(t) for t in pipeline]
    packs = [i for i, n in enumerate(names) if n in PACK_TRANSFORMS]
    if packs:
        pipeline = pipeline[:packs[0]]
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    dataset_cfg = dataset_cfg.copy()
    dataset_cfg['pipeline'] = pipeline
    return DATASETS.build(dataset_cfg)


def iter_samples(dataset, num: int, seed: int) -> Iterator[Dict]:
    """The first ``num`` samples (or all there are) through the pipeline, in
    order, after seeding numpy and ``random`` with ``seed`` (so sample ``i``
    does not depend on ``num``).

    Yields:
        dict: The pipeline results of samples ``0 .. num - 1``.
    """
    np.random.seed(seed)
    random.seed(seed)
    for index in range(min(num, len(dataset))):
        yield dataset[index]


def load_samples(dataset, num: int, seed: int) -> List[Dict]:
    """:func:`iter_samples` as a list."""
    return list(iter_samples(dataset, num, seed))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw the LDM/LPM limb-mask targets (G1 and G6) of the '
        'first samples of a config\'s dataset, as its pipeline gives them to '
        'the model (the NSRM paper\'s Figures 2 to 4).')
    parser.add_argument('config', help='config file')
    parser.add_argument('--num', type=int, default=4,
                        help='number of samples (default: 4)')
    parser.add_argument('--out-dir', required=True,
                        help='folder for the PNGs (created if needed)')
    parser.add_argument('--split', choices=('train', 'val'), default='train',
                        help='the dataloader whose dataset and pipeline are '
                        'drawn (default: train)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of numpy and random before the pipeline '
                        'runs, for reproducible augmentation (default: 0)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (as tools/train.py), e.g. '
        'train_dataloader.dataset.data_root=data/synthetic_hands/')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    runner_setup.silence_known_warnings()
    try:
        if args.num < 1:
            raise TargetFigureError(f'--num must be >= 1, got {args.num}')
        cfg = runner_setup.load_config(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        target_args = target_settings(cfg, args.split)
        source = target_args.pop('source')
        dataset = build_dataset(cfg, args.split)
        if len(dataset) == 0:
            raise TargetFigureError(
                f'the {args.split} dataset of {args.config} is empty')
        skeleton = skeleton_style(dataset.metainfo)
        print(f'Masks: input {target_args["input_size"]}, heatmap '
              f'{target_args["heatmap_size"]}, sigma {target_args["sigma"]} '
              f'(from {source})')
        if len(dataset) < args.num:
            print(f'Note: the {args.split} dataset has only {len(dataset)} '
                  f'samples; drawing {len(dataset)} (--num {args.num})')
        for index, sample in enumerate(
                iter_samples(dataset, args.num, args.seed)):
            image = figure(*target_tiles(sample, target_args, skeleton))
            stem = osp.splitext(
                osp.basename(str(sample.get('img_path', 'sample'))))[0]
            path = osp.join(args.out_dir, f'{index}_{stem}.png')
            os.makedirs(args.out_dir, exist_ok=True)
            if not cv2.imwrite(path, image):
                raise TargetFigureError(f'--out-dir: could not write {path}')
            print(path)
    except (ValueError, FileNotFoundError) as err:
        # TargetFigureError, and the clear ValueErrors of LimbMaskTarget
        # and the datasets (bad sizes, annotation files not found)
        print(f'visualize_targets.py: error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

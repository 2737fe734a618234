"""NSRM image demo: the predicted skeleton beside the learned hand structure.

For each image it runs a top-down hand model (MMPose's ``init_model`` and
``inference_topdown``, with ``test_cfg.output_heatmaps=True`` so that an
NSRM model returns its limb masks), puts the limb masks into image space and
draws with the config's visualizer (``NSRMPoseLocalVisualizer``): [skeleton
| G1 mask | the six G6 masks] for NSRM models, the skeleton alone for CPM.
It writes ``OUT_DIR/<image stem>.png`` and prints each path.

Without ``--bboxes`` the whole image is the hand (box ``[0, 0, W, H]``), as
in OneHand10K. ``--bboxes FILE.json`` gives boxes per image: a JSON object
mapping an image's file name (no folder) to a list of ``[x1, y1, x2, y2]``
boxes in pixels, e.g. ``{"hand1.jpg": [[10, 20, 110, 140]]}``; an image that
is not in the file uses the whole image (a note says so).

Example::

    python demo/image_demo.py configs/nsrm/lpm_g1g6_synthetic_cpu.py \\
        work_dirs/lpm_g1g6_synthetic_cpu/epoch_12.pth \\
        data/synthetic_hands/images/val --out-dir vis_demo
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.utils import ProgressBar  # noqa: E402

import projects.nsrm  # noqa: E402,F401  registers NSRM's modules
from projects.nsrm.apis import (InputError, add_drawing_args,  # noqa: E402
                                build_visualizer, collect_images,
                                inference_nsrm, init_nsrm_model, load_bboxes,
                                read_image, whole_image_bbox)
from projects.nsrm.utils import runner_setup  # noqa: E402


def output_names(paths: Sequence[str]) -> List[str]:
    """``<stem>.png`` per input; inputs that share a stem (``a.jpg``,
    ``a.png``) get ``<stem>_<ext>.png`` instead, so none is overwritten."""
    stems = [osp.splitext(osp.basename(p))[0] for p in paths]
    names = []
    for path, stem in zip(paths, stems):
        if stems.count(stem) > 1:
            ext = osp.splitext(path)[1].lstrip('.').lower()
            stem = f'{stem}_{ext}'
        names.append(f'{stem}.png')
    return names


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw a hand model\'s predicted skeleton beside its limb '
        'masks (G1, G6) for one image or a folder of images.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='an image file or a folder of images')
    parser.add_argument(
        '--out-dir', required=True,
        help='folder to write <image stem>.png to (created if needed)')
    parser.add_argument(
        '--bboxes', metavar='FILE.json',
        help='hand boxes per image: a JSON object mapping an image file name '
        '(no folder) to a list of [x1, y1, x2, y2] boxes in pixels, e.g. '
        '{"hand1.jpg": [[10, 20, 110, 140]]}; images not in it, and every '
        'image without --bboxes, use the whole image as the hand box')
    add_drawing_args(parser)
    parser.add_argument(
        '--mask-alpha', type=float, default=0.5,
        help='opacity of a limb mask of value 1 over the image (a pixel is '
        'blended by alpha x its mask value; default: 0.5)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    runner_setup.silence_known_warnings()
    args = parse_args(argv)
    try:
        if not 0.0 <= args.kpt_thr <= 1.0:
            raise InputError(f'--kpt-thr must be in [0, 1], got '
                             f'{args.kpt_thr}')
        if not 0.0 <= args.mask_alpha <= 1.0:
            raise InputError(f'--mask-alpha must be in [0, 1], got '
                             f'{args.mask_alpha}')
        images = collect_images(args.input)
        boxes: Dict = load_bboxes(args.bboxes) if args.bboxes else {}
        model = init_nsrm_model(args.config, args.checkpoint, args.device)
        visualizer = build_visualizer(model, mask_alpha=args.mask_alpha)
        os.makedirs(args.out_dir, exist_ok=True)
        progress = ProgressBar(len(images)) if len(images) > 1 else None
        written, notes = [], []
        for path, out_name in zip(images, output_names(images)):
            image = read_image(path)
            name = osp.basename(path)
            bboxes = boxes.get(name)
            if bboxes is None:
                bboxes = whole_image_bbox(image.shape)
                if args.bboxes:
                    notes.append(f'note: {name} is not in {args.bboxes}; '
                                 'the whole image is its hand box')
            sample = inference_nsrm(model, image, bboxes)
            out_file = osp.join(args.out_dir, out_name)
            visualizer.add_datasample(
                name, image[..., ::-1], sample, draw_gt=False,
                draw_bbox=bool(args.bboxes), kpt_thr=args.kpt_thr,
                out_file=out_file)
            written.append(out_file)
            if progress is not None:
                progress.update()
    except (FileNotFoundError, InputError) as err:
        print(f'image_demo.py: error: {err}', file=sys.stderr)
        return 1
    if progress is not None:
        print()
    for line in notes + written:
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())

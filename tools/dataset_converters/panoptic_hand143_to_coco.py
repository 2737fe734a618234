#!/usr/bin/env python
"""Convert CMU Panoptic hand143_panopticdb to COCO-style train/val/test jsons.

Example (from the repository root, the README's layout)::

    python tools/dataset_converters/panoptic_hand143_to_coco.py \
        --root data/panoptic_hand143 --out data/panoptic_hand143

writes ``data/panoptic_hand143/annotations/panoptic_hand143_{train,val,test}
.json`` and ``panoptic_hand143_split.json`` (seeded 80/10/10 split; for the
full release 11,853 / 1,482 / 1,482). Malformed entries are reported by their
index in ``root`` and skipped. Existing output files are kept unless
``--force`` is given. Exit code 2 on an error (nothing written).
The format, rules and split: ``projects/nsrm/datasets/converters/
panoptic_hand143.py``.
"""
import argparse
import importlib.util
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVERTER = osp.join(REPO_ROOT, 'projects', 'nsrm', 'datasets', 'converters',
                     'panoptic_hand143.py')


def load_converter():
    """Loads the converter module by path.

    It is pure numpy + stdlib; importing it as ``projects.nsrm.datasets...``
    would first import ``projects.nsrm`` and with it the whole MMPose stack
    (seconds), which a data conversion does not need.
    """
    spec = importlib.util.spec_from_file_location('nsrm_panoptic_hand143',
                                                  CONVERTER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None):
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--root', required=True,
        help='the extracted release: holds hands_v143_14817.json and imgs/')
    parser.add_argument(
        '--out', default=None,
        help='output root; the jsons go to OUT/annotations (default: --root, '
        'so that file names are relative to the data root)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the 80/10/10 split (default: 0)')
    parser.add_argument('--force', action='store_true',
                        help='overwrite existing output jsons')
    return parser.parse_args(argv)


def main(argv=None):
    """Converts, prints the report; exit code 2 with a message on error."""
    args = parse_args(argv)
    converter = load_converter()
    try:
        converter.convert_panoptic_hand143(
            args.root, args.out, seed=args.seed, force=args.force)
    except (FileNotFoundError, FileExistsError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()

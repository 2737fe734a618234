#!/usr/bin/env python
"""Generate the NSRM synthetic hand data set (OneHand10K-style COCO json).

Example (from the repository root)::

    python tools/generate_synthetic_hands.py --out-dir data/synthetic_hands \
        --num-train 1000 --num-val 200 --seed 0

    # occluded keypoints labelled v = 1 (Panoptic-like), more occluders;
    # written to data/synthetic_hands_panoptic_hard unless --out-dir is given
    python tools/generate_synthetic_hands.py --labelling panoptic \
        --occlusion hard

    # the data a config trains on (its dataloaders' data_root, labelling and
    # occlusion; needs MMEngine to read the config), as tools/main_job.sh does
    python tools/generate_synthetic_hands.py \
        --from-config configs/nsrm/lpm_g1g6_synthetic_cpu.py \
        [--cfg-options train_dataloader.dataset.labelling=panoptic ...]

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
from projects.synthetic_hands import (DEFAULT_REGIME, LABELLINGS,  # noqa: E402
                                      OCCLUSION_LEVELS, default_out_dir,
                                      ensure_synthetic_hands,
                                      generate_synthetic_hands)

SYNTHETIC_DATASET = 'SyntheticHandDataset'


def parse_args(argv=None):
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out-dir', default=None,
        help='output root (default: data/synthetic_hands, with _panoptic '
        'and/or _hard added for those settings)')
    parser.add_argument('--num-train', type=int, default=1000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--workers', type=int, default=None,
                        help='processes (default: os.cpu_count())')
    parser.add_argument(
        '--labelling', choices=LABELLINGS, default=None,
        help='onehand10k: hidden keypoints unlabelled [0, 0, 0]; panoptic: '
        'keypoints hidden by an occluder inside the image labelled '
        '[x, y, 1] at their true position (default: onehand10k)')
    parser.add_argument(
        '--occlusion', choices=list(OCCLUSION_LEVELS), default=None,
        help='default: 0-3 occluders on 40%% of the images, >= 10 keypoints '
        'kept visible; hard: 1-4 larger ones on 75%%, >= 6 kept visible '
        '(default: default)')
    parser.add_argument(
        '--from-config', metavar='CONFIG', default=None,
        help="take --out-dir, --labelling and --occlusion from the config's "
        f'{SYNTHETIC_DATASET} dataloaders (data_root, labelling, '
        'occlusion); nothing is generated when it uses other data')
    parser.add_argument(
        '--cfg-options', nargs='+', default=None, metavar='KEY=VALUE',
        help='with --from-config: overrides applied to the config first, as '
        'in tools/train.py')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if a matching data set exists')
    args = parser.parse_args(argv)
    if args.from_config is None and args.cfg_options is not None:
        parser.error('--cfg-options needs --from-config')
    if args.from_config is not None:
        given = [f'--{k.replace("_", "-")}'
                 for k in ('out_dir', 'labelling', 'occlusion')
                 if getattr(args, k) is not None]
        if given:
            parser.error(f'--from-config takes {", ".join(given)} from the '
                         'config; give one or the other')
    return args


def settings_from_config(path, cfg_options=None):
    """``out_dir``, ``labelling``, ``occlusion`` of a config's synthetic data.

    Args:
        path (str): The config file.
        cfg_options (list[str] | None): ``KEY=VALUE`` overrides (MMEngine's
            ``DictAction`` syntax) merged into the config first.

    Returns:
        dict | None: The settings shared by the config's train / val / test
        dataloaders whose dataset type is ``SyntheticHandDataset`` (a
        missing ``labelling`` / ``occlusion`` means the default); None when
        no dataloader uses it.

    Raises:
        ValueError: If those dataloaders disagree or have no ``data_root``.
    """
    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(path, import_custom_modules=False)
    if cfg_options:
        parsed = argparse.Namespace()
        DictAction(['--cfg-options'], 'cfg_options')(None, parsed,
                                                     cfg_options)
        cfg.merge_from_dict(parsed.cfg_options)
    found = {}
    for split in ('train', 'val', 'test'):
        dataset = (cfg.get(f'{split}_dataloader') or {}).get('dataset') or {}
        if dataset.get('type') != SYNTHETIC_DATASET:
            continue
        found[split] = dict(
            data_root=dataset.get('data_root'),
            **{k: dataset.get(k) or v for k, v in DEFAULT_REGIME.items()})
    if not found:
        return None
    first = next(iter(found.values()))
    if any(s != first for s in found.values()) or not first['data_root']:
        listed = '; '.join(
            f'{split}_dataloader.dataset: ' + ', '.join(
                f'{k}={v!r}' for k, v in s.items())
            for split, s in found.items())
        raise ValueError(
            f'{path}: the {SYNTHETIC_DATASET} dataloaders must share one '
            f'data_root (not empty), labelling and occlusion: {listed}')
    settings = dict(first)
    settings['out_dir'] = settings.pop('data_root')
    return settings


def main(argv=None):
    """Generate (or reuse) the data set and print a summary."""
    args = parse_args(argv)
    try:
        if args.from_config is not None:
            settings = settings_from_config(args.from_config,
                                            args.cfg_options)
            if settings is None:
                print(f'{args.from_config} does not use {SYNTHETIC_DATASET}: '
                      'nothing to generate')
                return
            print(f'{args.from_config}: data_root {settings["out_dir"]}, '
                  f'labelling {settings["labelling"]}, occlusion '
                  f'{settings["occlusion"]}')
            usual = default_out_dir(settings['labelling'],
                                    settings['occlusion'])
            if os.path.normpath(settings['out_dir']) != usual:
                print(f'note: data sets with these settings usually live in '
                      f'{usual}/ (the dataset configs and the generator '
                      'default); the data set in the given data_root is '
                      'replaced if its settings differ')
        else:
            settings = {k: getattr(args, k) or v
                        for k, v in DEFAULT_REGIME.items()}
            settings['out_dir'] = args.out_dir or default_out_dir(**settings)
        out_dir = settings.pop('out_dir')
        kwargs = dict(num_train=args.num_train, num_val=args.num_val,
                      seed=args.seed, img_size=args.img_size,
                      workers=args.workers, **settings)
        start = time.perf_counter()
        if args.force:
            result = generate_synthetic_hands(out_dir, **kwargs)
        else:
            result = ensure_synthetic_hands(out_dir, **kwargs)
    except ValueError as err:
        sys.exit(f'error: {err}')
    seconds = time.perf_counter() - start
    total = result['num_train'] + result['num_val']
    action = 'wrote' if result['generated'] else 'reused'
    print(f'{action} {result["num_train"]} train + {result["num_val"]} val '
          f'images ({result["img_size"]}x{result["img_size"]}, labelling '
          f'{result["labelling"]}, occlusion {result["occlusion"]}) in '
          f'{result["out_dir"]}')
    for split in ('train', 'val'):
        print(f'  {split}: {result["img_dirs"][split]}  '
              f'{result["ann_files"][split]}')
    print(f'  meta: {result["meta"]}')
    rate = f', {total / seconds:.1f} img/s' if result['generated'] else ''
    print(f'took {seconds:.2f} s{rate}')


if __name__ == '__main__':
    main()

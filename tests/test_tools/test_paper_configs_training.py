"""Each of the paper's ten configs trains 2 iterations and tests on tiny
real-format data: OneHand10K-format files (the built-in synthetic hands and
../shared/realdata/onehand10k), the raw Panoptic release converted by
tools/dataset_converters/panoptic_hand143_to_coco.py, and MMPose's own
Panoptic jsons (../shared/realdata/panoptic). Only the head is narrowed (the
paper's VGG-19 at 368x368, the pipelines, the dataset classes, the codec and
the metrics are the configs' own), and all but two runs (one per dataset)
also swap VGG-19 for a slim ResNet with the same stride 8, so that the runs
fit a CPU test."""
import glob
import json
import os.path as osp

import numpy as np
import pytest

from projects.nsrm.testing import REPO, run_tool
from projects.nsrm.utils.runner_setup import (adapt_cfg_to_device,
                                              apply_switches, build_runner,
                                              load_config)

pytestmark = pytest.mark.slow  # 12 short trainings at 368x368

VARIANTS = ('cpm', 'ldm_g1', 'lpm_g1', 'ldm_g1g6', 'lpm_g1g6')
THRESHOLDS = {
    'onehand10k': ('0.1', '0.15', '0.2', '0.25', '0.3'),
    'panoptic': ('0.04', '0.06', '0.08', '0.1', '0.12'),
}

#: a narrow cascade (the configs' own backbone, input and maps)
NARROW_HEAD = {
    'model.backbone.init_cfg': None,
    'model.head.adapter_channels': [],
    'model.head.feat_channels': 16,
    'model.head.first_stage_channels': 16,
    'model.head.stage_channels': 16,
    'model.head.stage_kernel_size': 3,
    'model.head.num_stage_convs': 1,
    'train_cfg.max_epochs': 1,
    'default_hooks.logger.interval': 1,
    'randomness.seed': 0,
}

#: a slim ResNet-18 (stride 8, 64 channels: 46x46 maps at 368x368) in place
#: of VGG-19 (stride 8, 512 channels), about 50x cheaper
SLIM_BACKBONE = {
    'model.backbone': dict(
        _delete_=True, type='ResNet', depth=18, num_stages=2, strides=(1, 2),
        dilations=(1, 1), out_indices=(1, ), stem_channels=32,
        base_channels=32),
    'model.head.in_channels': 64,
}


def loader(root, ann_file, img_prefix, num_images):
    """--cfg-options of one dataloader: 2 images of batch 1 (2 iterations)."""
    return {
        'batch_size': 1, 'num_workers': 0, 'persistent_workers': False,
        'dataset.data_root': root, 'dataset.ann_file': ann_file,
        'dataset.data_prefix': dict(img=img_prefix),
        'dataset.indices': num_images,
    }


def options(splits, slim=True):
    opts = dict(NARROW_HEAD, **(SLIM_BACKBONE if slim else {}))
    for split, values in splits.items():
        opts.update({f'{split}_dataloader.{k}': v for k, v in values.items()})
    return opts


def train_then_test(config, work_dir, opts):
    """tools/train.py's steps in this process, then runner.test()."""
    cfg = load_config(osp.join(REPO, config))
    cfg.merge_from_dict(opts)
    cfg.work_dir = str(work_dir)
    cfg = adapt_cfg_to_device(apply_switches(cfg))
    runner = build_runner(cfg)
    runner.train()
    return runner.test()


def check_metrics(metrics, dataset):
    names = [f'PCK@{t}' for t in THRESHOLDS[dataset]] + ['PCK-mean']
    assert set(names + ['PCK', 'AUC', 'EPE']) <= set(metrics), metrics
    for name in names:
        assert 0.0 <= metrics[name] <= 1.0
    assert metrics['PCK-mean'] == pytest.approx(
        np.mean([metrics[n] for n in names[:-1]]))


@pytest.mark.parametrize('variant', VARIANTS)
def test_onehand10k_configs_on_onehand10k_format_files(variant, tiny_hands,
                                                       tmp_path):
    split = loader(tiny_hands, 'annotations/synthetic_hands_train.json',
                   'images/', 2)
    # the paper's VGG-19 once
    metrics = train_then_test(
        f'configs/nsrm/{variant}_onehand10k.py', tmp_path,
        options(dict(train=split, test=split), slim=variant != 'lpm_g1g6'))
    check_metrics(metrics, 'onehand10k')
    # no validation loop: the last epoch's checkpoint is the one to test
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    assert not glob.glob(str(tmp_path / 'best_*.pth'))


def test_onehand10k_config_on_the_real_samples(realdata, tmp_path):
    root = osp.join(realdata, 'onehand10k')
    split = loader(root, 'test_onehand10k.json', '', 4)
    metrics = train_then_test('configs/nsrm/lpm_g1_onehand10k.py', tmp_path,
                              options(dict(train=split, test=split)))
    check_metrics(metrics, 'onehand10k')


@pytest.fixture(scope='module')
def panoptic_hand143(tmp_path_factory):
    """A tiny raw hand143_panopticdb release, converted like the README
    says."""
    from projects.nsrm.testing import write_raw_panoptic_hand143
    root = str(tmp_path_factory.mktemp('panoptic_hand143'))
    write_raw_panoptic_hand143(root)
    run_tool(['tools/dataset_converters/panoptic_hand143_to_coco.py',
              '--root', root, '--out', root])
    return root


@pytest.mark.parametrize('variant', VARIANTS)
def test_panoptic_configs_on_converted_files(variant, panoptic_hand143,
                                             tmp_path):
    splits = {
        split: loader(panoptic_hand143,
                      f'annotations/panoptic_hand143_{split}.json', '', 2)
        for split in ('train', 'val', 'test')
    }
    metrics = train_then_test(f'configs/nsrm/{variant}_panoptic.py',
                              tmp_path, options(splits))
    check_metrics(metrics, 'panoptic')


def test_panoptic_config_on_mmposes_panoptic_json(realdata, tmp_path):
    root = osp.join(realdata, 'panoptic')
    split = loader(root, 'test_panoptic.json', '', 4)
    metrics = train_then_test(
        'configs/nsrm/lpm_g1g6_panoptic.py', tmp_path,
        options(dict(train=split, val=split, test=split)))
    check_metrics(metrics, 'panoptic')


def test_train_py_on_converted_panoptic_reports_the_papers_pck(
        panoptic_hand143, tmp_path):
    """The mission's command, `tools/train.py
    configs/nsrm/lpm_g1g6_panoptic.py`, on converted data: validation
    reports PCK at the five thresholds and their mean, and the best
    checkpoint is picked on the validation split."""
    opts = options({
        split: loader(panoptic_hand143,
                      f'annotations/panoptic_hand143_{split}.json', '', 2)
        for split in ('train', 'val', 'test')
    }, slim=False)  # the paper's VGG-19
    # as command-line --cfg-options (data_prefix is already img='')
    args = [f'{key}={value}' for key, value in opts.items()
            if not key.endswith('data_prefix')]
    run_tool(['tools/train.py', 'configs/nsrm/lpm_g1g6_panoptic.py',
              '--work-dir', str(tmp_path), '--cfg-options', *args])
    scalars = glob.glob(str(tmp_path / '*' / 'vis_data' / 'scalars.json'))
    with open(scalars[0]) as f:
        val = [r for r in map(json.loads, f) if 'PCK-mean' in r]
    assert len(val) == 1
    check_metrics(val[0], 'panoptic')
    assert glob.glob(str(tmp_path / 'best_PCK-mean_epoch_1.pth'))

"""NSRM as an add-on to MMPose's HRNetV2-w18 and ResNet-50 (256x256) on
OneHand10K and Panoptic (configs/nsrm_addon/): each add-on is its
plain-heatmap sibling with only the head, the limb-mask target and the lambda
hook changed; the siblings are MMPose's configs (OneHand10K) or MMPose's
model on the Panoptic crop + augmentation base; the light NSRM head costs at
most half the backbone's FLOPs, as measured here and stated in each header;
every config trains 2 iterations, validates and tests on tiny data."""
import glob
import math
import os.path as osp
import re

import mmpose
import numpy as np
import pytest
from mmengine.config import Config
from mmpose.registry import MODELS, TRANSFORMS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401
from projects.nsrm.testing import REPO
from projects.nsrm.utils.model_cost import backbone_and_head_cost

register_all_modules()

BACKBONES = ('hrnetv2_w18', 'res50')
DATASETS = ('onehand10k', 'panoptic')
PAIRS = [(b, d) for b in BACKBONES for d in DATASETS]
ADDON_DIR = 'configs/nsrm_addon'
#: MMPose's own OneHand10K configs, one per backbone
MMPOSE = {
    'hrnetv2_w18': 'mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/'
    'td-hm_hrnetv2-w18_8xb64-210e_onehand10k-256x256.py',
    'res50': 'mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/'
    'td-hm_res50_8xb32-210e_onehand10k-256x256.py',
}
PANOPTIC_BASE = 'configs/_base_/datasets/panoptic_hand143_256_crop_aug.py'
THRESHOLDS = {
    'onehand10k': (0.1, 0.15, 0.2, 0.25, 0.3),
    'panoptic': (0.04, 0.06, 0.08, 0.1, 0.12),
}
CODEC = dict(
    type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)


def heatmap_path(backbone, dataset):
    return f'{ADDON_DIR}/heatmap_{backbone}_{dataset}_256.py'


def addon_path(backbone, dataset):
    return f'{ADDON_DIR}/lpm_g1g6_{backbone}_{dataset}_256.py'


ALL = [f(b, d) for b, d in PAIRS for f in (heatmap_path, addon_path)]


def load(path):
    """A config of this repository, or `mmpose::<path>` of MMPose's."""
    if path.startswith('mmpose::'):
        return Config.fromfile(
            osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs',
                     path[len('mmpose::'):]))
    return Config.fromfile(osp.join(REPO, path))


def plain(value):
    """`value` as plain dicts / lists / tuples, without the `_scope_` keys
    MMEngine adds to what comes from an `mmpose::` base."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def types(pipeline):
    return [t['type'] for t in pipeline]


def test_the_eight_configs_and_nothing_else():
    found = {
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, ADDON_DIR, '*.py'))
    }
    assert found == set(ALL)


@pytest.mark.parametrize('backbone, dataset', PAIRS)
def test_addon_is_its_sibling_with_another_head_masks_and_hooks(
        backbone, dataset):
    heatmap = load(heatmap_path(backbone, dataset))
    addon = load(addon_path(backbone, dataset))
    # the add-on inherits the sibling and the light cascade's variables
    with open(osp.join(REPO, addon_path(backbone, dataset))) as f:
        assert (f"_base_ = [\n    './heatmap_{backbone}_{dataset}_256.py',\n"
                "    './_base_/nsrm_light_cascade.py'\n]") in f.read()

    def without_the_differences(cfg):
        cfg = plain(cfg.to_dict())
        for name in ('nsrm_head', 'limb_mask_target', 'lambda_decay'):
            cfg.pop(name, None)
        head = cfg['model'].pop('head')
        hooks = cfg.pop('custom_hooks')
        masks = []
        for pipeline in (cfg['train_pipeline'],
                         cfg['train_dataloader']['dataset']['pipeline']):
            masks += [t for t in pipeline if t['type'] == 'LimbMaskTarget']
            pipeline[:] = [
                t for t in pipeline if t['type'] != 'LimbMaskTarget'
            ]
        return cfg, head, hooks, masks

    h_rest, h_head, h_hooks, h_masks = without_the_differences(heatmap)
    a_rest, a_head, a_hooks, a_masks = without_the_differences(addon)
    assert a_rest == h_rest
    # the sibling: MMPose's HeatmapHead, no masks, no lambda hook (the
    # runner adds SyncBuffersHook to both)
    assert h_head['type'] == 'HeatmapHead'
    assert h_masks == [] and h_hooks == []
    # the add-on: NSRMHead, one LimbMaskTarget (in both pipeline keys)
    # right before PackPoseInputs, the decayed lambdas
    assert a_head['type'] == 'NSRMHead'
    assert a_head['decoder'] == h_head['decoder'] == CODEC
    assert a_head['loss'] == dict(
        type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02)
    assert a_hooks == [dict(type='LambdaDecayHook', gamma=0.1, step=50)]
    assert len(a_masks) == 2 and a_masks[0] == a_masks[1]
    assert a_masks[0] == dict(
        type='LimbMaskTarget', input_size=(256, 256), heatmap_size=(64, 64),
        mask_type='LPM', groups=a_head['groups'], sigma=CODEC['sigma'])
    assert a_head['groups'] == 'G1&6'
    pipeline = addon.train_dataloader.dataset.pipeline
    assert types(pipeline)[-3:] == [
        'GenerateTarget', 'LimbMaskTarget', 'PackPoseInputs']
    # both build: every transform and the model
    for cfg in (heatmap, addon):
        for split in ('train', 'val', 'test'):
            for transform in cfg[f'{split}_dataloader'].dataset.pipeline:
                TRANSFORMS.build(transform)
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model)
        assert type(model.head).__name__ == cfg.model.head.type


@pytest.mark.parametrize('backbone', BACKBONES)
def test_the_light_head_is_the_same_on_both_datasets(backbone):
    heads = [
        plain(load(addon_path(backbone, d)).model.head) for d in DATASETS
    ]
    assert heads[0] == heads[1]
    assert (heads[0]['feat_channels'], heads[0]['stage_channels'],
            heads[0]['stage_kernel_size'],
            heads[0]['num_stage_convs']) == (32, 32, 3, 2)


@pytest.mark.parametrize('backbone', BACKBONES)
def test_onehand10k_siblings_are_mmposes_configs(backbone):
    ours = load(heatmap_path(backbone, 'onehand10k'))
    mmpose = load(MMPOSE[backbone])
    for key in ('model', 'codec', 'train_cfg', 'optim_wrapper',
                'param_scheduler', 'auto_scale_lr', 'data_mode'):
        assert plain(ours[key]) == plain(mmpose[key]), key
    for split in ('train', 'val', 'test'):
        a = plain(ours[f'{split}_dataloader'].to_dict())
        b = plain(mmpose[f'{split}_dataloader'].to_dict())
        assert a['dataset'].pop('type') == 'NSRMOneHand10KDataset'
        assert b['dataset'].pop('type') == 'OneHand10KDataset'
        assert a == b, split
    # the project's runtime pieces and the paper's PCK beside MMPose's
    assert ours.custom_imports.imports == ['projects.nsrm']
    assert ours.runner_type == 'CrashSafeRunner'
    assert ours.default_hooks.checkpoint.type == 'CrashSafeCheckpointHook'
    assert ours.default_hooks.checkpoint.save_best == 'AUC'  # MMPose's
    assert ours.default_hooks.checkpoint.max_keep_ckpts == 2
    assert types(ours.val_evaluator) == [
        'MultiThresholdPCK', 'PCKAccuracy', 'AUC', 'EPE']
    assert ours.val_evaluator[0].thresholds == THRESHOLDS['onehand10k']
    assert ours.val_evaluator[0].norm == 'keypoint_bbox'
    assert plain(ours.val_evaluator[1:]) == plain(mmpose.val_evaluator)
    assert ours.test_evaluator == ours.val_evaluator


@pytest.mark.parametrize('backbone', BACKBONES)
def test_panoptic_siblings_are_mmposes_model_on_the_crop_aug_base(backbone):
    ours = load(heatmap_path(backbone, 'panoptic'))
    mmpose = load(MMPOSE[backbone])
    # MMPose's model (HeatmapHead included) and training recipe, exactly
    assert plain(ours.model) == plain(mmpose.model)
    for key in ('codec', 'optim_wrapper', 'param_scheduler',
                'auto_scale_lr'):
        assert plain(ours[key]) == plain(mmpose[key]), key
    assert ours.train_cfg.max_epochs == 210
    assert ours.train_cfg.val_interval == 10
    assert ours.train_dataloader.batch_size == \
        mmpose.train_dataloader.batch_size
    # the paper's crop, MMPose's augmentation
    mmpose_aug = [
        t for t in plain(mmpose.train_dataloader.dataset.pipeline)
        if t['type'] in ('RandomFlip', 'RandomBBoxTransform')
    ]
    pipeline = plain(ours.train_dataloader.dataset.pipeline)
    assert pipeline == [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=2.2), *mmpose_aug,
        dict(type='TopdownAffine', input_size=(256, 256)),
        dict(type='GenerateTarget', encoder=CODEC),
        dict(type='PackPoseInputs')
    ]
    for split in ('train', 'val', 'test'):
        dataset = ours[f'{split}_dataloader'].dataset
        assert dataset.type == ours.dataset_type == 'NSRMPanopticHandDataset'
        assert dataset.data_root == 'data/panoptic_hand143/'
        assert dataset.ann_file == \
            f'annotations/panoptic_hand143_{split}.json'
        assert dataset.pipeline[1] == dict(
            type='GetBBoxCenterScale', padding=2.2)
        if split != 'train':
            assert types(dataset.pipeline) == [
                'LoadImage', 'GetBBoxCenterScale', 'TopdownAffine',
                'PackPoseInputs'
            ]
    # selected on validation PCK-mean (the val split, never test)
    assert ours.default_hooks.checkpoint.save_best == 'PCK-mean'
    assert ours.default_hooks.checkpoint.type == 'CrashSafeCheckpointHook'
    assert ours.default_hooks.checkpoint.max_keep_ckpts == 2
    assert ours.runner_type == 'CrashSafeRunner'
    assert types(ours.val_evaluator) == [
        'MultiThresholdPCK', 'PCKAccuracy', 'AUC', 'EPE']
    assert ours.val_evaluator[0].thresholds == THRESHOLDS['panoptic']
    assert ours.val_evaluator[0].norm == 'keypoint_bbox'
    assert ours.test_evaluator == ours.val_evaluator
    assert ours.custom_hooks == []


def test_the_model_bases_are_mmposes_models():
    """The Panoptic siblings' model bases are copies of MMPose's `model`
    (without the decoder, which the leaves link to the codec)."""
    for backbone, base in (('hrnetv2_w18', 'hrnetv2_w18_heatmap.py'),
                           ('res50', 'res50_heatmap.py')):
        cfg = Config.fromfile(
            osp.join(REPO, ADDON_DIR, '_base_', 'models', base))
        assert set(cfg.keys()) == {'model'}
        model = plain(load(MMPOSE[backbone]).model.to_dict())
        del model['head']['decoder']
        assert plain(cfg.model.to_dict()) == model, base


# `#   backbone: 9.56 M params, 4.33 GFLOPs (...)`
COST_LINE = re.compile(
    r'^#\s+(backbone|head): (\d+\.\d+) M params, (\d+\.\d+) GFLOPs',
    re.M)


def header_costs(path):
    """{'backbone': (M params, GFLOPs, decimals), 'head': ...} of a config's
    header comment."""
    with open(osp.join(REPO, path)) as f:
        text = f.read()
    hits = COST_LINE.findall(text.split('_base_ = ')[0])
    assert [h[0] for h in hits] == ['backbone', 'head'], path
    return {
        part: ((float(p), len(p.split('.')[1])), (float(g),
                                                  len(g.split('.')[1])))
        for part, p, g in hits
    }


def test_header_parser_reads_values_and_decimals():
    assert COST_LINE.findall(
        '# x\n#   backbone: 9.56 M params, 4.33 GFLOPs (HRNet)\n'
        '#   head: 0.2 M params, 0.830 GFLOPs\n') == [
            ('backbone', '9.56', '4.33'), ('head', '0.2', '0.830')]


@pytest.fixture(scope='module')
def costs():
    """Measured cost of each of the four distinct models (OneHand10K)."""
    return {
        path: backbone_and_head_cost(load(path), (256, 256))
        for path in (f(b, 'onehand10k') for b in BACKBONES
                     for f in (heatmap_path, addon_path))
    }


@pytest.mark.slow  # traces four models, HRNet twice (~15 s)
@pytest.mark.parametrize('backbone, dataset', PAIRS)
def test_light_head_costs_at_most_half_the_backbone_as_the_headers_say(
        backbone, dataset, costs):
    for path in (heatmap_path(backbone, dataset),
                 addon_path(backbone, dataset)):
        # the Panoptic configs build the OneHand10K configs' models
        measured = costs[path.replace(dataset, 'onehand10k')]
        if dataset == 'panoptic':
            assert plain(load(path).model) == plain(
                load(path.replace(dataset, 'onehand10k')).model)
        for part, ((params, p_dec), (gflops, g_dec)) in \
                header_costs(path).items():
            # the header's numbers are the measurement, rounded
            assert abs(measured[f'{part}_params'] / 1e6 -
                       params) <= 0.5 * 10**-p_dec + 1e-9, (path, part)
            assert abs(measured[f'{part}_flops'] / 1e9 -
                       gflops) <= 0.5 * 10**-g_dec + 1e-9, (path, part)
    addon = costs[addon_path(backbone, 'onehand10k')]
    heatmap = costs[heatmap_path(backbone, 'onehand10k')]
    assert addon['backbone_flops'] == heatmap['backbone_flops']
    assert addon['backbone_params'] == heatmap['backbone_params']
    assert addon['head_flops'] <= 0.5 * addon['backbone_flops']


# ------------------------------------------------------------------ training

#: the configs' own model, pipelines, dataset classes, codec and metrics;
#: only the data, the batch and the schedule shrink
TINY = {
    'model.backbone.init_cfg': None,
    'train_cfg.max_epochs': 1,
    'train_cfg.val_interval': 1,
    'default_hooks.logger.interval': 1,
    'randomness.seed': 0,
}


def loader(root, ann_file, img_prefix, num_images):
    """--cfg-options of one dataloader: the first `num_images` images,
    batch 2."""
    return {
        'batch_size': 2, 'num_workers': 0, 'persistent_workers': False,
        'dataset.data_root': root, 'dataset.ann_file': ann_file,
        'dataset.data_prefix': dict(img=img_prefix),
        'dataset.indices': num_images,
    }


def train_validate_test(config, work_dir, splits):
    """tools/train.py's steps in this process (4 train images of batch 2:
    2 iterations, then validation), then runner.test()."""
    from projects.nsrm.utils.runner_setup import (adapt_cfg_to_device,
                                                  apply_switches, build_runner,
                                                  load_config)
    cfg = load_config(osp.join(REPO, config))
    opts = dict(TINY)
    for split, values in splits.items():
        opts.update({f'{split}_dataloader.{k}': v for k, v in values.items()})
    cfg.merge_from_dict(opts)
    cfg.work_dir = str(work_dir)
    runner = build_runner(adapt_cfg_to_device(apply_switches(cfg)))
    runner.train()
    assert runner.iter == 2
    train_scalars = runner.message_hub.log_scalars
    metrics = runner.test()
    return train_scalars, metrics


def check_run(config, dataset, train_scalars, metrics, work_dir):
    names = [f'PCK@{t:g}' for t in THRESHOLDS[dataset]] + ['PCK-mean']
    assert set(names + ['PCK', 'AUC', 'EPE']) <= set(metrics), metrics
    for name in names:
        assert 0.0 <= metrics[name] <= 1.0
    assert metrics['PCK-mean'] == pytest.approx(
        np.mean([metrics[n] for n in names[:-1]]))
    assert math.isfinite(train_scalars['train/loss'].current())
    # only the add-on trains the structure branch
    nsrm = osp.basename(config).startswith('lpm_g1g6')
    for key in ('train/loss_structure_g1', 'train/loss_structure_g6'):
        assert (key in train_scalars) == nsrm, key
        if nsrm:
            assert math.isfinite(train_scalars[key].current())
    # the best checkpoint by the config's rule, after validation
    best = 'PCK-mean' if dataset == 'panoptic' else 'AUC'
    assert glob.glob(str(work_dir / f'best_{best}_epoch_1.pth')), \
        sorted(p.name for p in work_dir.iterdir())


@pytest.mark.slow  # 2 iterations at 256x256 + validation + flip test
@pytest.mark.parametrize('backbone', BACKBONES)
@pytest.mark.parametrize('kind', (heatmap_path, addon_path),
                         ids=('heatmap', 'addon'))
def test_onehand10k_configs_train_validate_and_test(backbone, kind,
                                                    tiny_hands, tmp_path):
    config = kind(backbone, 'onehand10k')
    train = loader(tiny_hands, 'annotations/synthetic_hands_train.json',
                   'images/', 4)
    val = loader(tiny_hands, 'annotations/synthetic_hands_val.json',
                 'images/', 2)
    scalars, metrics = train_validate_test(
        config, tmp_path, dict(train=train, val=val, test=val))
    check_run(config, 'onehand10k', scalars, metrics, tmp_path)


@pytest.fixture(scope='module')
def panoptic_hand143(tmp_path_factory):
    """A tiny raw hand143_panopticdb release (16 / 2 / 2 images),
    converted."""
    from projects.nsrm.datasets.converters import convert_panoptic_hand143
    from projects.nsrm.testing import write_raw_panoptic_hand143
    root = str(tmp_path_factory.mktemp('panoptic_hand143'))
    write_raw_panoptic_hand143(root)
    convert_panoptic_hand143(root, log=None, progress=False)
    return root


@pytest.mark.slow  # 2 iterations at 256x256 + validation + flip test
@pytest.mark.parametrize('backbone', BACKBONES)
@pytest.mark.parametrize('kind', (heatmap_path, addon_path),
                         ids=('heatmap', 'addon'))
def test_panoptic_configs_train_validate_and_test(backbone, kind,
                                                  panoptic_hand143, tmp_path):
    config = kind(backbone, 'panoptic')
    splits = {
        split: loader(panoptic_hand143,
                      f'annotations/panoptic_hand143_{split}.json', '',
                      4 if split == 'train' else 2)
        for split in ('train', 'val', 'test')
    }
    scalars, metrics = train_validate_test(config, tmp_path, splits)
    check_run(config, 'panoptic', scalars, metrics, tmp_path)

"""The paper's ten configs (configs/nsrm/{variant}_{dataset}.py): each is a
dataset base joined with a variant base, holds the paper's settings, and
builds, trains 2 iterations and tests on tiny real-format data."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

import projects.nsrm  # noqa: F401
from projects.nsrm.testing import REPO

VARIANTS = ('cpm', 'ldm_g1', 'lpm_g1', 'ldm_g1g6', 'lpm_g1g6')
DATASETS = ('onehand10k', 'panoptic')
PAPER = [f'configs/nsrm/{v}_{d}.py' for v in VARIANTS for d in DATASETS]

#: the paper's lambdas (Sec. 4.2)
LAMBDAS = {
    'ldm_g1': dict(lambda_g1=1.0),
    'lpm_g1': dict(lambda_g1=0.5),
    'ldm_g1g6': dict(lambda_g1=0.2, lambda_g6=0.04),
    'lpm_g1g6': dict(lambda_g1=0.1, lambda_g6=0.02),
}
THRESHOLDS = {
    'onehand10k': (0.1, 0.15, 0.2, 0.25, 0.3),
    'panoptic': (0.04, 0.06, 0.08, 0.1, 0.12),
}
#: transforms the paper did not use (augmentation)
AUGMENTATION = ('RandomFlip', 'RandomBBoxTransform', 'RandomHalfBody',
                'Albumentation', 'PhotometricDistortion')


def load(path):
    return Config.fromfile(osp.join(REPO, path))


def types(pipeline):
    return [t['type'] for t in pipeline]


def test_the_ten_configs_are_exactly_the_papers_variants():
    found = {
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'configs/nsrm/*_*.py'))
        if not p.endswith('_cpu.py')
    }
    assert set(PAPER) <= found


@pytest.mark.parametrize('variant', VARIANTS)
@pytest.mark.parametrize('dataset', DATASETS)
def test_paper_settings(variant, dataset):
    cfg = load(f'configs/nsrm/{variant}_{dataset}.py')
    head = cfg.model.head
    # VGG-19 to conv4_4 with the ImageNet weights file, 368 -> 46
    assert cfg.model.backbone.type == 'VGG'
    assert cfg.model.backbone.depth == 19
    assert cfg.model.backbone.init_cfg.checkpoint == \
        'checkpoints/vgg19_imagenet_mmpose.pth'
    assert cfg.codec == dict(
        type='NSRMHeatmap', input_size=(368, 368), heatmap_size=(46, 46),
        sigma=1, refine='none')
    assert head.decoder == cfg.codec
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4)
    assert 'param_scheduler' not in cfg or cfg.param_scheduler is None \
        or all(s.get('gamma', 1) == 1 for s in cfg.param_scheduler)
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_cfg.max_epochs == 80
    # no augmentation anywhere
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            assert not set(types(loader.dataset.pipeline)) & set(
                AUGMENTATION), split
    # the paper's PCK thresholds, MMPose's metrics beside them
    assert types(cfg.test_evaluator) == [
        'MultiThresholdPCK', 'PCKAccuracy', 'AUC', 'EPE']
    assert cfg.test_evaluator[0].thresholds == THRESHOLDS[dataset]
    assert cfg.test_evaluator[0].norm == 'keypoint_bbox'
    pipeline = cfg.train_dataloader.dataset.pipeline
    if variant == 'cpm':
        assert (head.num_structure_stages, head.num_pose_stages) == (0, 6)
        assert cfg.custom_hooks == []
        assert types(pipeline)[-2:] == ['GenerateTarget', 'FastPackPoseInputs']
    else:
        assert (head.num_structure_stages, head.num_pose_stages) == (3, 3)
        assert dict(head.loss) == dict(type='NSRMLoss', **LAMBDAS[variant])
        assert cfg.custom_hooks == [
            dict(type='LambdaDecayHook', gamma=0.1, step=20)]
        target = pipeline[-2]
        assert target == dict(
            type='LimbMaskTarget', input_size=(368, 368),
            heatmap_size=(46, 46), mask_type=variant[:3].upper(),
            groups='G1' if variant.endswith('g1') else 'G1&6', sigma=1.0)
        assert head.groups == target['groups']


def test_onehand10k_resizes_the_whole_image_and_selects_no_checkpoint():
    cfg = load('configs/nsrm/lpm_g1_onehand10k.py')
    assert types(cfg.train_dataloader.dataset.pipeline) == [
        'LoadImage', 'WholeImageResize', 'GenerateTarget', 'LimbMaskTarget',
        'FastPackPoseInputs']
    assert types(cfg.test_dataloader.dataset.pipeline) == [
        'LoadImage', 'WholeImageResize', 'FastPackPoseInputs']
    assert cfg.train_dataloader.dataset.ann_file == \
        'annotations/onehand10k_train.json'
    assert cfg.test_dataloader.dataset.ann_file == \
        'annotations/onehand10k_test.json'
    # no validation loop, so nothing is selected on the test split: the
    # last epoch is tested
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.default_hooks.checkpoint.save_best is None


def test_panoptic_crops_2_2_times_the_tight_box_and_selects_on_val():
    cfg = load('configs/nsrm/lpm_g1g6_panoptic.py')
    for split in ('train', 'val', 'test'):
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        assert pipeline[:3] == [
            dict(type='LoadImage'),
            dict(type='GetBBoxCenterScale', padding=2.2),
            dict(type='TopdownAffine', input_size=(368, 368))
        ], split
        assert cfg[f'{split}_dataloader'].dataset.ann_file == \
            f'annotations/panoptic_hand143_{split}.json'
        assert cfg[f'{split}_dataloader'].dataset.type == \
            'NSRMPanopticHandDataset'
    assert cfg.default_hooks.checkpoint.save_best == 'PCK-mean'
    assert cfg.val_evaluator == cfg.test_evaluator


@pytest.mark.parametrize('dataset', DATASETS)
def test_variants_differ_only_in_what_the_paper_varies(dataset):
    def flat(variant):
        cfg = load(f'configs/nsrm/{variant}_{dataset}.py').to_dict()
        cfg.pop('structure_target', None)
        cfg.pop('lambda_decay', None)
        head = cfg['model']['head']
        pipeline = cfg['train_dataloader']['dataset']['pipeline']
        parts = dict(
            loss=head.pop('loss'), groups=head.pop('groups', None),
            stages=(head.pop('num_structure_stages'),
                    head.pop('num_pose_stages')),
            target=[t for t in pipeline
                    if t['type'] == 'LimbMaskTarget'],
            hooks=cfg.pop('custom_hooks'))
        cfg['train_dataloader']['dataset']['pipeline'] = [
            t for t in pipeline if t['type'] != 'LimbMaskTarget']
        return cfg, parts

    lpm, lpm_parts = flat('lpm_g1')
    for variant in VARIANTS:
        cfg, parts = flat(variant)
        assert cfg == lpm, variant
        if variant != 'cpm':
            assert parts['hooks'] == lpm_parts['hooks']
            assert parts['stages'] == (3, 3)


def test_real_mask_configs_learn_onehand10ks_own_masks():
    real = load('configs/nsrm/real_mask_onehand10k.py')
    pp = load('configs/nsrm/real_mask_pp_onehand10k.py')
    lpm = load('configs/nsrm/lpm_g1_onehand10k.py')
    pipeline = real.train_dataloader.dataset.pipeline
    assert pipeline[:-3] == lpm.train_transforms
    assert pipeline[-3:-1] == [
        dict(type='LoadHandMask', source='mask_file'),
        dict(type='HandMaskTarget', input_size=(368, 368),
             heatmap_size=(46, 46), groups='G1')
    ]
    assert real.model.head.groups == 'G1'
    assert real.model.head.loss == dict(type='NSRMLoss', lambda_g1=1.0)
    assert real.custom_hooks == []  # "Real Mask": constant lambda
    assert pp.custom_hooks == [  # "Real Mask ++": the paper's decay
        dict(type='LambdaDecayHook', gamma=0.1, step=20)]


def test_real_mask_pipeline_reads_the_mask_beside_each_photo(tmp_path):
    """OneHand10K's layout (Train/source/<n>.jpg, Train/mask/<n>.png): the
    config's train pipeline turns a hand mask covering the image's left half
    into a target that covers the left half of the 46x46 grid."""
    import cv2

    from mmpose.registry import DATASETS
    from mmpose.utils import register_all_modules
    register_all_modules()
    for sub in ('source', 'mask'):
        (tmp_path / 'Train' / sub).mkdir(parents=True)
    img = np.full((100, 160, 3), 90, np.uint8)
    cv2.imwrite(str(tmp_path / 'Train/source/1.jpg'), img)
    mask = np.zeros((100, 160), np.uint8)
    mask[:, :80] = 255
    cv2.imwrite(str(tmp_path / 'Train/mask/1.png'), mask)
    keypoints = []
    for i in range(21):
        keypoints += [10.0 + 3 * i, 20.0 + 2 * i, 2]
    ann = dict(
        images=[dict(id=1, file_name='Train/source/1.jpg', width=160,
                     height=100)],
        annotations=[dict(id=1, image_id=1, category_id=1, iscrowd=0,
                          bbox=[10, 20, 60, 40], area=2400,
                          num_keypoints=21, keypoints=keypoints)],
        categories=[dict(id=1, name='hand')])
    (tmp_path / 'train.json').write_text(json.dumps(ann))
    cfg = load('configs/nsrm/real_mask_onehand10k.py')
    dataset = DATASETS.build(
        dict(cfg.train_dataloader.dataset, data_root=str(tmp_path),
             ann_file='train.json'))
    target = dataset[0]['data_samples'].gt_fields.limb_masks.numpy()
    assert target.shape == (1, 46, 46)
    # whole image stretched: image column 80 -> input 184 -> grid 23
    # (cell j averages input pixels [8j - 4, 8j + 4): row and column 0
    # reach outside the image)
    np.testing.assert_allclose(target[0, 1:, 1:22], 1.0)
    np.testing.assert_allclose(target[0, :, 24:], 0.0)

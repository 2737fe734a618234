"""Every shipped config parses and builds; the configs are laid out like
MMPose's (dataset bases + model bases joined by siblings, no pipeline edited
by list position); the paper's model has the paper's shapes and takes
ImageNet VGG weights from a local file."""
import ast
import glob
import os
import os.path as osp
import re

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmpose.registry import MODELS, TRANSFORMS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401
from projects.nsrm.testing import REPO

register_all_modules()

CONFIG_ROOT = osp.join(REPO, 'configs')
BASE_ROOT = osp.join(CONFIG_ROOT, '_base_')

#: every config file, bases included, relative to the repository root
ALL_FILES = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True))
#: the leaf configs (everything outside configs/_base_)
CONFIGS = [p for p in ALL_FILES if '_base_' not in p.split(osp.sep)]

NSRM_CPU = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
CPM_CPU = 'configs/nsrm/cpm_synthetic_cpu.py'
HEATMAP_CPU = 'configs/baseline/heatmap_resnet_synthetic_cpu.py'
SYNTHETIC_SIBLINGS = [NSRM_CPU, CPM_CPU, HEATMAP_CPU]
LPM_G1 = 'configs/nsrm/lpm_g1_onehand10k.py'
LDM_G1 = 'configs/nsrm/ldm_g1_onehand10k.py'
CPM_VGG = 'configs/nsrm/cpm_onehand10k.py'


def load(path):
    return Config.fromfile(osp.join(REPO, path))


def base_files(path):
    """The absolute paths in the `_base_` of the config file `path`."""
    tree = ast.parse(open(osp.join(REPO, path)).read())
    for node in tree.body:
        if (isinstance(node, ast.Assign)
                and [getattr(t, 'id', None)
                     for t in node.targets] == ['_base_']):
            bases = ast.literal_eval(node.value)
            bases = [bases] if isinstance(bases, str) else bases
            return [
                b if '::' in b else osp.normpath(
                    osp.join(REPO, osp.dirname(path), b)) for b in bases
            ]
    return []


#: the transforms that write the structure targets (`limb_masks`)
STRUCTURE_TARGETS = ('LimbMaskTarget', 'HandMaskTarget')


def types(pipeline):
    return [t['type'] for t in pipeline]


def test_the_shipped_configs_are_found():
    assert set(CONFIGS) >= {
        NSRM_CPU, CPM_CPU, HEATMAP_CPU, LPM_G1, LDM_G1, CPM_VGG}


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_a_consistent_model(path):
    cfg = load(path)
    # MMPose's inferencer reads these two top-level variables
    assert cfg.dataset_type == cfg.train_dataloader.dataset.type
    assert cfg.data_mode == 'topdown'
    head = cfg.model.head
    pipeline = cfg.train_dataloader.dataset.pipeline
    masks = [t for t in pipeline if t['type'] in STRUCTURE_TARGETS]
    hooks = [h['type'] for h in cfg.custom_hooks]
    if head.type == 'NSRMHead' and head.get('num_structure_stages', 3) > 0:
        # the targets and the head agree on groups and sizes
        assert len(masks) == 1
        assert masks[0]['groups'] == head.groups
        assert masks[0]['heatmap_size'] == head.decoder['heatmap_size']
        assert masks[0]['input_size'] == head.decoder['input_size']
        # real masks are loaded just before they are warped to the grid
        loaders = ['LoadHandMask'] if masks[0]['type'] == 'HandMaskTarget' \
            else []
        # the project's bases pack with FastPackPoseInputs, the add-ons
        # on MMPose's configs with MMPose's PackPoseInputs
        pack = 'PackPoseInputs' if 'nsrm_addon' in path \
            else 'FastPackPoseInputs'
        assert types(pipeline)[-3 - len(loaders):] == [
            'GenerateTarget', *loaders, masks[0]['type'], pack]
        assert hooks in (['LambdaDecayHook'], [])
        # only a real-mask config may train with a constant lambda
        assert hooks or masks[0]['type'] == 'HandMaskTarget'
    else:
        assert not masks
        assert 'LambdaDecayHook' not in hooks
    if head.type == 'NSRMHead':
        # the head passes its own groups to the loss
        assert 'groups' not in head.loss
    for split in ('train', 'val', 'test'):
        if cfg.get(f'{split}_dataloader') is None:
            assert split == 'val'  # a config without a validation loop
            assert cfg.val_cfg is None and cfg.val_evaluator is None
            continue
        for transform in cfg[f'{split}_dataloader'].dataset.pipeline:
            TRANSFORMS.build(transform)
    cfg.model.backbone.pop('init_cfg', None)
    model = MODELS.build(cfg.model)
    assert model.head.__class__.__name__ == head.type


# a pipeline edited by list position: `train_pipeline[:-2]`,
# `_base_.train_pipeline[-2] = ...`, `transforms[3]` ...
LIST_POSITION_EDIT = re.compile(r'(pipeline|transforms)\s*\[')


@pytest.mark.parametrize('path', ALL_FILES)
def test_no_pipeline_is_edited_by_list_position(path):
    with open(osp.join(REPO, path)) as f:
        code = [line.split('#', 1)[0] for line in f]
    hits = [
        f'{path}:{i + 1}: {line.strip()}' for i, line in enumerate(code)
        if LIST_POSITION_EDIT.search(line)
    ]
    assert not hits, ('build the pipeline from `_base_.train_transforms` '
                      'instead of indexing a list:\n' + '\n'.join(hits))


def test_the_regex_catches_list_position_edits():
    for bad in ('train_pipeline = _base_.train_pipeline[:-2] + x',
                "train_pipeline[-2] = dict(mask_type='LDM')",
                'pipeline=[*_base_.train_pipeline[:-1], x]'):
        assert LIST_POSITION_EDIT.search(bad), bad
    for good in ('train_pipeline = [*_base_.train_transforms, x]',
                 'dataset=dict(pipeline=train_pipeline)'):
        assert not LIST_POSITION_EDIT.search(good), good


def test_model_bases_hold_only_the_model():
    """so that a leaf can join a model base and a dataset base (MMEngine
    forbids a key in two bases)"""
    paths = glob.glob(osp.join(BASE_ROOT, 'models', '*.py'))
    assert paths
    for p in paths:
        cfg = Config.fromfile(p, import_custom_modules=False)
        assert set(cfg.keys()) == {'model'}, p


def test_dataset_bases_do_not_replace_mmpose_metainfo(monkeypatch):
    """MMPose's OneHand10KDataset reads its metainfo from
    'configs/_base_/datasets/onehand10k.py', relative to the working
    directory first: no dataset base here may take such a name."""
    import mmpose
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    mim = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_',
                   'datasets')
    ours = {
        osp.basename(p)
        for p in glob.glob(osp.join(BASE_ROOT, 'datasets', '*.py'))
    }
    assert ours
    assert 'onehand10k.py' not in ours
    if osp.isdir(mim):
        assert not ours & set(os.listdir(mim))
    monkeypatch.chdir(REPO)
    meta = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/onehand10k.py'))
    assert meta['dataset_name'] == 'onehand10k'
    assert meta['num_keypoints'] == 21


@pytest.mark.parametrize('path', SYNTHETIC_SIBLINGS)
def test_models_are_siblings_not_children(path):
    """NSRM, CPM and the heatmap baseline are built from a dataset base and
    a model base, never from another leaf config."""
    bases = base_files(path)
    assert len(bases) == 2
    dataset, model = bases
    assert osp.dirname(dataset) == osp.join(BASE_ROOT, 'datasets')
    assert osp.dirname(model) == osp.join(BASE_ROOT, 'models')


def test_synthetic_models_share_their_dataset_base():
    cfgs = [load(p) for p in SYNTHETIC_SIBLINGS]
    datasets = {base_files(p)[0] for p in SYNTHETIC_SIBLINGS}
    assert datasets == {osp.join(BASE_ROOT, 'datasets',
                                 'synthetic_hands_cpu.py')}
    nsrm = cfgs[0]
    for cfg in cfgs[1:]:
        assert cfg.codec == nsrm.codec
        assert cfg.model.head.decoder == nsrm.codec
        assert cfg.val_pipeline == nsrm.val_pipeline
        assert cfg.val_dataloader.dataset.pipeline == cfg.val_pipeline
        assert cfg.train_transforms == nsrm.train_transforms
        assert cfg.model.backbone == nsrm.model.backbone
        assert cfg.model.data_preprocessor == nsrm.model.data_preprocessor
        for split in ('train', 'val', 'test'):
            a = cfg[f'{split}_dataloader'].dataset
            b = nsrm[f'{split}_dataloader'].dataset
            assert a.ann_file == b.ann_file
            assert a.data_root == b.data_root
        for key in ('train_cfg', 'optim_wrapper', 'param_scheduler'):
            assert cfg[key] == nsrm[key], key
        # NSRM also scores its structure branch (LimbMaskQuality on the
        # limb-mask targets, which its evaluation pipeline adds)
        assert cfg.val_evaluator == nsrm.val_evaluator[:-1]
        assert nsrm.val_evaluator[-1] == dict(type='LimbMaskQuality',
                                              groups='G1&6')
        assert nsrm.val_dataloader.dataset.pipeline == [
            *cfg.val_pipeline[:-1], nsrm.limb_mask_target,
            dict(type='FastPackPoseInputs')
        ]


def test_cpm_has_no_limb_masks_and_nsrm_has_them_before_packing():
    nsrm, cpm, heatmap = (load(p) for p in SYNTHETIC_SIBLINGS)
    nsrm_pipeline = nsrm.train_dataloader.dataset.pipeline
    cpm_pipeline = cpm.train_dataloader.dataset.pipeline
    assert types(nsrm_pipeline)[-2:] == [
        'LimbMaskTarget', 'FastPackPoseInputs']
    assert nsrm_pipeline[:-2] == nsrm.train_transforms
    assert 'LimbMaskTarget' not in types(cpm_pipeline)
    assert cpm_pipeline == heatmap.train_dataloader.dataset.pipeline
    assert cpm_pipeline == [*nsrm.train_transforms,
                            dict(type='FastPackPoseInputs')]
    assert cpm.custom_hooks == []
    assert nsrm.custom_hooks == [
        dict(type='LambdaDecayHook', gamma=0.1, step=4)]
    # the CPM is the NSRM cascade without structure stages, 6 pose stages
    assert cpm.model.head.num_structure_stages == 0
    assert cpm.model.head.num_pose_stages == 6
    for key in ('in_channels', 'feat_channels', 'adapter_channels',
                'first_stage_channels', 'stage_channels',
                'stage_kernel_size', 'num_stage_convs'):
        assert cpm.model.head[key] == nsrm.model.head[key], key


def test_synthetic_lambdas_are_the_papers_lpm_g1g6():
    assert load(NSRM_CPU).model.head.loss == dict(
        type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02)


@pytest.mark.slow  # the full paper model at 368x368
def test_paper_model_shapes_at_368():
    cfg = load(LPM_G1)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    x = torch.randn(1, 3, 368, 368)
    with torch.no_grad():
        feats = model.extract_feat(x)
        structure, pose = model.head(feats)
    assert feats[-1].shape == (1, 512, 46, 46)  # conv4_4, stride 8
    assert [s.shape for s in structure] == [(1, 1, 46, 46)] * 3
    assert [p.shape for p in pose] == [(1, 21, 46, 46)] * 3
    # Fig. 5: three 3x3 convs 512 -> 512 -> 512 -> 128 before the stages
    convs = [m for m in model.head.adapter.modules()
             if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] \
        == [(512, 512, (3, 3)), (512, 512, (3, 3)), (512, 128, (3, 3))]


def test_cpm_baseline_has_six_pose_stages():
    cfg = load(CPM_VGG)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert len(model.head.pose_stages) == 6
    assert len(model.head.structure_stages) == 0


def test_imagenet_weights_load_through_the_config(tmp_path):
    """torchvision's layout, converted by tools/convert_vgg_weights.py,
    reaches the backbone through init_cfg=Pretrained."""
    from projects.nsrm.utils.vgg_weights import convert_vgg_state_dict
    tv = torchvision.models.vgg19(weights=None)
    ckpt = tmp_path / 'vgg19_mmpose.pth'
    torch.save({'state_dict': convert_vgg_state_dict(tv.state_dict())}, ckpt)
    cfg = load(LPM_G1)
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
    model = MODELS.build(cfg.model)
    model.init_weights()
    conv4_4 = model.backbone.features[14].conv.weight
    torch.testing.assert_close(conv4_4, tv.features[25].weight)

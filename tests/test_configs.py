"""Every shipped config parses and builds; the paper's model has the paper's
shapes and takes ImageNet VGG weights from a local file."""
import glob
import os.path as osp

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmpose.registry import MODELS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401
from conftest import REPO

register_all_modules()

CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '_base_' not in p)


def load(path):
    return Config.fromfile(osp.join(REPO, path))


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_a_consistent_model(path):
    cfg = load(path)
    # MMPose's inferencer reads these two top-level variables
    assert cfg.dataset_type == cfg.train_dataloader.dataset.type
    assert cfg.data_mode == 'topdown'
    head = cfg.model.head
    pipeline = cfg.train_dataloader.dataset.pipeline
    masks = [t for t in pipeline if t['type'] == 'LimbMaskTarget']
    if head.type == 'NSRMHead' and head.get('num_structure_stages', 3) > 0:
        # the targets and the head agree on groups and sizes
        assert len(masks) == 1
        assert masks[0]['groups'] == head.groups
        assert masks[0]['heatmap_size'] == head.decoder['heatmap_size']
        assert masks[0]['input_size'] == head.decoder['input_size']
        assert [t['type'] for t in pipeline][-3:] == [
            'GenerateTarget', 'LimbMaskTarget', 'PackPoseInputs']
    else:
        assert not masks
    cfg.model.backbone.pop('init_cfg', None)
    model = MODELS.build(cfg.model)
    assert model.head.__class__.__name__ == head.type


def test_paper_model_shapes_at_368():
    cfg = load('configs/nsrm/lpm_g1_vgg19_onehand10k.py')
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
    cfg = load('configs/nsrm/cpm_vgg19_onehand10k.py')
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert len(model.head.pose_stages) == 6
    assert len(model.head.structure_stages) == 0


def test_imagenet_weights_load_through_the_config(tmp_path):
    """torchvision's layout, converted by tools/convert_vgg_weights.py,
    reaches the backbone through init_cfg=Pretrained."""
    from projects.nsrm.vgg_weights import convert_vgg_state_dict
    tv = torchvision.models.vgg19(weights=None)
    ckpt = tmp_path / 'vgg19_mmpose.pth'
    torch.save({'state_dict': convert_vgg_state_dict(tv.state_dict())}, ckpt)
    cfg = load('configs/nsrm/lpm_g1_vgg19_onehand10k.py')
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
    model = MODELS.build(cfg.model)
    model.init_weights()
    conv4_4 = model.backbone.features[14].conv.weight
    torch.testing.assert_close(conv4_4, tv.features[25].weight)

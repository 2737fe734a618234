"""backbone_and_head_cost counts like MMPose's get_flops.py (MMEngine's
FlopAnalyzer: one multiply-add = one FLOP) and splits the model into the
feature extractor and everything after it."""
import pytest
from mmengine.config import Config

from projects.nsrm.utils.model_cost import backbone_and_head_cost

#: ResNet-18 (stride 32, 512 channels) + a tiny NSRM cascade on 16x16 maps
TINY = dict(
    type='TopdownPoseEstimator',
    backbone=dict(type='ResNet', depth=18),
    head=dict(
        type='NSRMHead',
        in_channels=512,
        num_keypoints=21,
        groups='G1',
        num_structure_stages=1,
        num_pose_stages=1,
        feat_channels=8,
        adapter_channels=(),
        first_stage_channels=8,
        stage_channels=8,
        stage_kernel_size=3,
        num_stage_convs=1,
        heatmap_size=(16, 16)))


def conv(c_in, c_out, k, hw):
    """(multiply-adds, parameters) of a k x k conv with bias on hw
    pixels."""
    return c_in * c_out * k * k * hw, c_in * c_out * k * k + c_out


def test_head_cost_by_hand():
    """A 64x64 input gives 2x2 ResNet features (stride 32); the head adapts
    them (3x3, 512 -> 8), resizes them to 16x16 (bilinear: 4 FLOPs per
    output value) and runs one structure stage (first-stage kind: 1x1
    8 -> 8, 1x1 8 -> 1) and one pose stage on [F, S] (9 channels: 3x3
    9 -> 8, 1x1 8 -> 8, 1x1 8 -> 21)."""
    cost = backbone_and_head_cost(Config(dict(model=TINY)), (64, 64))
    layers = [
        conv(512, 8, 3, 2 * 2),  # adapter at 2x2
        conv(8, 8, 1, 256), conv(8, 1, 1, 256),  # structure stage
        conv(9, 8, 3, 256), conv(8, 8, 1, 256), conv(8, 21, 1, 256),  # pose
    ]
    resize = 4 * 8 * 16 * 16
    assert cost['head_flops'] == sum(f for f, _ in layers) + resize
    assert cost['head_flops'] == 399_360
    assert cost['head_params'] == sum(p for _, p in layers) == 37_870
    # torchvision's ResNet-18 without its classifier (11,689,512 - 513,000)
    assert cost['backbone_params'] == 11_176_512
    assert cost['total_params'] == 11_176_512 + 37_870
    assert cost['total_flops'] == cost['backbone_flops'] + 399_360
    # ResNet-18 counts 1.82 GFLOPs at 224x224 in MMPose's / fvcore's
    # convention; at 64x64 about (64/224)^2 of that
    assert cost['backbone_flops'] == pytest.approx(
        1.82e9 * (64 / 224)**2, rel=0.05)


def test_input_size_is_w_h_and_the_config_is_untouched():
    cfg = Config(dict(model=TINY))
    before = cfg.to_dict()
    wide = backbone_and_head_cost(cfg, (128, 64))  # 4x2 features
    assert cfg.to_dict() == before
    square = backbone_and_head_cost(cfg, (64, 64))
    # only the adapter runs at the feature size: twice the pixels
    adapter = 512 * 8 * 9 * 2 * 2
    assert wide['head_flops'] - square['head_flops'] == adapter
    assert wide['backbone_flops'] == pytest.approx(
        2 * square['backbone_flops'], rel=0.01)


@pytest.mark.parametrize('bad', [(256, ), (0, 256), (256.5, 256), 'ab',
                                 None])
def test_bad_input_size(bad):
    with pytest.raises(ValueError, match=r'input_size must be two positive '
                       r'integers \(w, h\)'):
        backbone_and_head_cost(Config(dict(model=TINY)), bad)


def test_a_model_without_head_is_refused():
    model = dict(TINY)
    del model['head']
    with pytest.raises(ValueError, match='`model` has a `backbone` and a '
                       '`head`'):
        backbone_and_head_cost(Config(dict(model=model)))


def test_builds_mmposes_modules_whatever_the_default_scope():
    """The data preprocessor is built by MMEngine's BaseModel from the
    current default scope: the helper uses MMPose's (as init_model does)
    and leaves the caller's scope as it was."""
    from mmengine.registry import DefaultScope
    model = dict(TINY, data_preprocessor=dict(type='PoseDataPreprocessor'))
    with DefaultScope.overwrite_default_scope('mmengine'):
        cost = backbone_and_head_cost(Config(dict(model=model)), (64, 64))
        assert DefaultScope.get_current_instance().scope_name == 'mmengine'
    assert cost['head_flops'] == 399_360

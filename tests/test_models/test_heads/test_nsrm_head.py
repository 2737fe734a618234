"""Tests of NSRMHead (the structure + pose cascade of the paper's Fig. 5)."""
import math
from types import MethodType

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

from mmpose.models.backbones import HRNet, ResNet, VGG
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from projects.nsrm.models.heads import NSRMHead

K = 21
FLIP_INDICES = list(range(K))  # one hand: every keypoint is its own mirror
# small widths keep the CPU tests fast; the cascade wiring is unchanged
SMALL = dict(
    feat_channels=16,
    adapter_channels=(16, ),
    stage_channels=16,
    first_stage_channels=32,
    num_stage_convs=2)


def small_head(in_channels=32, groups='G1&6', s=3, p=3, **kwargs):
    cfg = dict(SMALL)
    if groups == 'G6':  # the paper has no G6-only model, hence no default
        cfg['loss'] = dict(type='NSRMLoss', lambda_g6=0.02)
    cfg.update(kwargs)
    return NSRMHead(
        in_channels,
        num_keypoints=K,
        groups=groups,
        num_structure_stages=s,
        num_pose_stages=p,
        **cfg)


def make_samples(B, C, H, W, input_size=(64, 64), with_masks=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for b in range(B):
        d = PoseDataSample()
        fields = dict(heatmaps=torch.rand(K, H, W, generator=g))
        if with_masks and C:
            fields['limb_masks'] = torch.rand(C, H, W, generator=g)
        d.gt_fields = PixelData(**fields)
        w = torch.ones(1, K)
        w[0, b] = 0.0
        d.gt_instance_labels = InstanceData(keypoint_weights=w)
        d.gt_instances = InstanceData(
            bboxes=np.array([[0, 0, input_size[0], input_size[1]]],
                            dtype=np.float32),
            bbox_scores=np.ones(1, dtype=np.float32))
        d.set_metainfo(
            dict(
                flip_indices=FLIP_INDICES,
                input_size=np.array(input_size),
                input_center=np.array(input_size, dtype=np.float32) / 2,
                input_scale=np.array(input_size, dtype=np.float32)))
        samples.append(d)
    return samples


# --------------------------------------------------------------------------
# shapes and wiring


@pytest.mark.parametrize('groups,C', [('G1', 1), ('G6', 6), ('G1&6', 7)])
@pytest.mark.parametrize('num_structure_stages', [0, 3])
def test_output_shapes(groups, C, num_structure_stages):
    head = small_head(32, groups, num_structure_stages, 3)
    s, k = head((torch.rand(2, 32, 16, 16), ))
    assert len(s) == num_structure_stages and len(k) == 3
    assert all(t.shape == (2, C, 16, 16) for t in s)
    assert all(t.shape == (2, K, 16, 16) for t in k)


@pytest.mark.parametrize(
    'name,in_ch,hw',
    [
        ('vgg_conv4_4', 512, 8),  # stride 8 on 64x64
        ('resnet50', 2048, 2),  # stride 32
        ('resnet18', 512, 2),
        ('hrnet_w32', 32, 16),  # stride 4
    ])
def test_backbone_shaped_features_resampled_to_heatmap(name, in_ch, hw):
    head = small_head(in_ch, heatmap_size=(16, 16))
    feats = (torch.rand(2, 8, 32, 32), torch.rand(2, in_ch, hw, hw))
    s, k = head(feats)  # in_index=-1 picks the last feature
    assert s[-1].shape == (2, 7, 16, 16)
    assert k[-1].shape == (2, K, 16, 16)


def test_resampling_non_square_and_decoder_size():
    # heatmap_size is (w, h)
    head = small_head(32, heatmap_size=(24, 20))
    s, k = head((torch.rand(1, 32, 8, 8), ))
    assert s[0].shape == (1, 7, 20, 24) and k[0].shape == (1, K, 20, 24)
    # taken from the decoder when not given
    head = small_head(
        32,
        decoder=dict(
            type='MSRAHeatmap',
            input_size=(92, 92),
            heatmap_size=(23, 23),
            sigma=1.0))
    assert head.heatmap_size == (23, 23)
    assert head((torch.rand(1, 32, 16, 16), ))[1][-1].shape == (1, K, 23, 23)
    # bilinear, align_corners=False resampling of the adapted features
    head = small_head(32, heatmap_size=(7, 7))
    ref = small_head(32)  # no resampling, same weights
    ref.load_state_dict(head.state_dict())
    feats = (torch.rand(1, 32, 4, 4), )
    expected = torch.nn.functional.interpolate(
        ref._features(feats), size=(7, 7), mode='bilinear',
        align_corners=False)
    assert torch.allclose(head._features(feats), expected, atol=1e-6)
    # without heatmap_size the feature's own size is used
    assert small_head(32)((torch.rand(1, 32, 5, 6), ))[1][0].shape == (1, K,
                                                                       5, 6)


def test_default_wiring_matches_paper():
    head = NSRMHead(512)  # paper defaults: G1&6, 3 + 3 stages, VGG conv4_4
    convs = [m for m in head.adapter if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs
            ] == [(512, 512, (3, 3)), (512, 512, (3, 3)), (512, 128, (3, 3))]
    st, ps = head.structure_stages, head.pose_stages
    assert len(st) == 3 and len(ps) == 3
    # stage 1: 1x1 128 -> 512, 1x1 512 -> 7
    c = [m for m in st[0] if isinstance(m, torch.nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size)
            for m in c] == [(128, 512, (1, 1)), (512, 7, (1, 1))]
    # later stages: 5 x 7x7 (128), 1x1 128, 1x1 out
    for stage, cin, cout in [(st[1], 128 + 7, 7), (st[2], 128 + 7, 7),
                             (ps[0], 128 + 7, K), (ps[1], 128 + 7 + K, K),
                             (ps[2], 128 + 7 + K, K)]:
        c = [m for m in stage if isinstance(m, torch.nn.Conv2d)]
        assert len(c) == 7
        assert c[0].in_channels == cin
        assert all(m.kernel_size == (7, 7) and m.padding == (3, 3)
                   for m in c[:5])
        assert [m.out_channels for m in c] == [128] * 6 + [cout]
        assert c[5].kernel_size == c[6].kernel_size == (1, 1)
        # no activation after the last conv
        assert isinstance(stage[-1], torch.nn.Conv2d)
    # CPM baseline: 6 pose stages, stage 1 is 1x1 128 -> 512 -> K
    cpm = NSRMHead(512, num_structure_stages=0, num_pose_stages=6)
    assert len(cpm.structure_stages) == 0 and len(cpm.pose_stages) == 6
    first = cpm.pose_stages[0][0]
    assert first.kernel_size == (1, 1) and first.in_channels == 128
    assert first.out_channels == 512
    assert cpm.pose_stages[1][0].in_channels == 128 + K


def test_wiring_feeds_last_structure_logits_to_every_pose_stage():
    """Perturbing S_last must change every pose stage; S_1 only through
    S_2, S_3."""
    head = small_head(32, s=3, p=3)
    feats = (torch.rand(1, 32, 8, 8), )
    captured = {}

    def hook(name):

        def fn(module, inp):
            captured[name] = inp[0]

        return fn

    for i, m in enumerate(head.pose_stages):
        m.register_forward_pre_hook(hook(f'p{i}'))
    s, k = head(feats)
    F_ = head._features(feats)
    assert torch.equal(captured['p0'], torch.cat([F_, s[-1]], 1))
    assert torch.equal(captured['p1'], torch.cat([F_, s[-1], k[0]], 1))
    assert torch.equal(captured['p2'], torch.cat([F_, s[-1], k[1]], 1))


def test_argument_validation():
    with pytest.raises(ValueError, match='groups'):
        NSRMHead(32, groups='G3')
    with pytest.raises(ValueError, match='num_structure_stages'):
        NSRMHead(32, num_structure_stages=-1)
    with pytest.raises(ValueError, match='num_pose_stages'):
        NSRMHead(32, num_pose_stages=0)


# --------------------------------------------------------------------------
# loss


def test_loss_dict_hand_computation_and_parse_losses():
    """Head.loss stacks the targets and hands them to NSRMLoss: controlled
    outputs give the hand-computed numbers."""
    B, H, W = 2, 2, 2
    head = small_head(32, groups='G1&6', s=1, p=1, loss=dict(
        type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02))
    samples = make_samples(B, 7, H, W)
    for d in samples:
        d.gt_fields.heatmaps = torch.zeros(K, H, W)
        d.gt_fields.limb_masks = torch.zeros(7, H, W)
    samples[0].gt_fields.heatmaps[0, 0, 0] = 1.0
    samples[0].gt_fields.limb_masks[0] = 1.0  # sample 0: G1 all ones
    # sample 1: all-zero masks -> no structure loss from it
    # keypoint_weights: sample 0 ignores kpt 0, sample 1 ignores kpt 1
    pose = torch.zeros(B, K, H, W)
    pose[0, 0] = 0.5  # ignored (weight 0)
    pose[0, 2, 1, 1] = 0.3
    pose[1, 0, 0, 1] = -0.2
    pose[1, 1] = 9.0  # ignored (weight 0)
    x, y = 0.7, -1.2
    logits = torch.full((B, 7, H, W), y)
    logits[:, 0] = x
    logits[1] = 4.0  # ignored sample

    head.forward = MethodType(lambda self, feats: ([logits], [pose]), head)
    losses = head.loss(None, samples)
    # lambdas are logged by LambdaDecayHook, not returned as losses
    assert set(losses) == {
        'loss_pose', 'loss_structure_g1', 'loss_structure_g6', 'acc_pose'
    }
    exp_pose = (0.3**2 + 0.2**2) / (B * H * W)
    bce1 = -math.log(1 / (1 + math.exp(-x)))  # target 1
    bce0 = -math.log(1 - 1 / (1 + math.exp(-y)))  # target 0
    exp_g1 = 0.1 * H * W * bce1 / (B * H * W)
    exp_g6 = 0.02 * 6 * H * W * bce0 / (B * H * W)
    assert losses['loss_pose'].item() == pytest.approx(exp_pose, rel=1e-6)
    assert losses['loss_structure_g1'].item() == pytest.approx(exp_g1, 1e-6)
    assert losses['loss_structure_g6'].item() == pytest.approx(exp_g6, 1e-6)
    for k, v in losses.items():
        assert isinstance(v, torch.Tensor) and v.dim() == 0, k
    total, log_vars = BaseModel.parse_losses(None, losses)
    assert total.item() == pytest.approx(exp_pose + exp_g1 + exp_g6, 1e-6)
    # decayed lambdas weight the terms
    head.loss_module.set_lambda_factor(0.1)
    losses = head.loss(None, samples)
    assert losses['loss_structure_g1'].item() == pytest.approx(
        exp_g1 / 10, 1e-5)


@pytest.mark.parametrize('groups,keys', [
    ('G1', {'loss_structure_g1'}),
    ('G6', {'loss_structure_g6'}),
])
def test_loss_keys_per_grouping(groups, keys):
    C = {'G1': 1, 'G6': 6}[groups]
    loss = dict(type='NSRMLoss', **{f'lambda_{groups.lower()}': 0.5})
    head = small_head(32, groups=groups, s=2, p=2, loss=loss)
    assert head.loss_module.groups == groups  # filled in by the head
    losses = head.loss((torch.rand(2, 32, 8, 8), ), make_samples(2, C, 8, 8))
    assert set(losses) == {'loss_pose', 'acc_pose'} | keys


def test_cpm_baseline_loss_keys():
    head = small_head(32, s=0, p=3)
    losses = head.loss((torch.rand(2, 32, 8, 8), ),
                       make_samples(2, 0, 8, 8, with_masks=False))
    assert set(losses) == {'loss_pose', 'acc_pose'}


def test_missing_or_mismatched_limb_masks():
    head = small_head(32, groups='G1&6', s=1, p=1)
    feats = (torch.rand(2, 32, 8, 8), )
    with pytest.raises(KeyError, match='LimbMaskTarget'):
        head.loss(feats, make_samples(2, 7, 8, 8, with_masks=False))
    with pytest.raises(ValueError, match='1 channels.*expects 7'):
        head.loss(feats, make_samples(2, 1, 8, 8))


def test_no_nan_on_all_zero_inputs_and_targets():
    head = small_head(32, s=2, p=2)
    head.init_weights()
    samples = make_samples(2, 7, 8, 8)
    for d in samples:
        d.gt_fields.heatmaps.zero_()
        d.gt_fields.limb_masks.zero_()
        d.gt_instance_labels.keypoint_weights.zero_()
    losses = head.loss((torch.zeros(2, 32, 8, 8), ), samples)
    for k, v in losses.items():
        assert torch.isfinite(v), k


def test_untrained_head_outputs_are_near_zero():
    """The default (CPM-style Normal std 0.01) init keeps the outputs ~0, the
    regime in which the paper's lambdas balance the loss terms."""
    head = small_head(64, heatmap_size=(23, 23))
    head.init_weights()
    s, k = head((torch.rand(2, 64, 12, 12), ))
    assert s[-1].abs().max() < 0.05 and k[-1].abs().max() < 0.05


# --------------------------------------------------------------------------
# real backbones


def tiny_hrnet():
    return HRNet(
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(1, ),
                num_channels=(8, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(1, 1),
                num_channels=(8, 16)),
            stage3=dict(
                num_modules=1,
                num_branches=3,
                block='BASIC',
                num_blocks=(1, 1, 1),
                num_channels=(8, 16, 32)),
            stage4=dict(
                num_modules=1,
                num_branches=4,
                block='BASIC',
                num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64))))


@pytest.mark.parametrize('backbone_name', ['vgg11', 'resnet18', 'hrnet'])
def test_real_backbones_compose_and_backprop(backbone_name):
    if backbone_name == 'vgg11':
        backbone, in_ch = VGG(
            depth=11,
            num_stages=4,
            dilations=(1, 1, 1, 1),
            out_indices=(3, ),
            with_last_pool=False), 512
    elif backbone_name == 'resnet18':
        backbone, in_ch = ResNet(
            depth=18, stem_channels=8, base_channels=8), 64
    else:
        backbone, in_ch = tiny_hrnet(), 8
    backbone.init_weights()
    head = small_head(in_ch, heatmap_size=(16, 16), s=2, p=2)
    head.init_weights()
    feats = backbone(torch.rand(2, 3, 64, 64))
    expected = {'vgg11': 8, 'resnet18': 2, 'hrnet': 16}[backbone_name]
    assert feats[-1].shape == (2, in_ch, expected, expected)
    losses = head.loss(feats, make_samples(2, 7, 16, 16))
    total = sum(v for n, v in losses.items() if 'loss' in n)
    total.backward()
    grads = [p.grad for p in backbone.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum().item() for g in grads) > 0
    first = next(p for p in backbone.parameters() if p.dim() == 4)
    assert first.grad.abs().sum() > 0


# --------------------------------------------------------------------------
# predict


def test_predict_decode_and_output_heatmaps():
    head = small_head(
        32,
        decoder=dict(
            type='MSRAHeatmap',
            input_size=(64, 64),
            heatmap_size=(16, 16),
            sigma=1.0))
    samples = make_samples(2, 7, 16, 16)
    preds = head.predict((torch.rand(2, 32, 8, 8), ), samples)
    assert len(preds) == 2
    for p in preds:
        assert p.keypoints.shape == (1, K, 2)
        assert p.keypoint_scores.shape == (1, K)
    preds, fields = head.predict((torch.rand(2, 32, 8, 8), ),
                                 samples,
                                 dict(output_heatmaps=True))
    assert len(fields) == 2
    for f in fields:
        assert f.heatmaps.shape == (K, 16, 16)
        assert f.limb_masks.shape == (7, 16, 16)
        assert 0 <= f.limb_masks.min() and f.limb_masks.max() <= 1
    # CPM baseline: no limb masks
    cpm = small_head(
        32,
        s=0,
        p=2,
        decoder=dict(
            type='MSRAHeatmap',
            input_size=(64, 64),
            heatmap_size=(16, 16),
            sigma=1.0))
    _, fields = cpm.predict((torch.rand(2, 32, 8, 8), ), samples,
                            dict(output_heatmaps=True))
    assert 'limb_masks' not in fields[0]
    assert fields[0].heatmaps.shape == (K, 16, 16)


def test_flip_test_consistency():
    """Symmetric setup: the flipped branch returns exactly the mirrored
    outputs (keypoint channels swapped by flip_indices, limb masks only
    mirrored); flip-averaging must then reproduce the plain prediction."""
    B, H, W = 2, 16, 16
    flip_indices = list(reversed(range(K)))  # non-trivial swap
    g = torch.Generator().manual_seed(1)
    k_last = torch.rand(B, K, H, W, generator=g)
    s_last = torch.randn(B, 7, H, W, generator=g)
    head = small_head(
        32,
        s=1,
        p=1,
        decoder=dict(
            type='MSRAHeatmap',
            input_size=(64, 64),
            heatmap_size=(W, H),
            sigma=1.0))

    def fake_forward(self, feats):
        if feats == 'flip':
            return [s_last.flip(-1)], [k_last.flip(-1)[:, flip_indices]]
        return [s_last], [k_last]

    head.forward = MethodType(fake_forward, head)
    samples = make_samples(B, 7, H, W)
    for d in samples:
        d.set_metainfo(dict(flip_indices=flip_indices))
    plain, plain_f = head.predict('orig', samples, dict(output_heatmaps=True))
    flip, flip_f = head.predict(['orig', 'flip'], samples,
                                dict(flip_test=True, output_heatmaps=True))
    for i, (a, b) in enumerate(zip(plain_f, flip_f)):
        assert torch.allclose(a.heatmaps, k_last[i], atol=1e-6)
        assert torch.allclose(b.heatmaps, k_last[i], atol=1e-6)
        assert torch.allclose(b.limb_masks, torch.sigmoid(s_last[i]),
                              atol=1e-6)
    for a, b in zip(plain, flip):
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-5)
    # a wrong (swapped) treatment of the masks would break the equality
    assert not torch.allclose(s_last.flip(-1), s_last)


# --------------------------------------------------------------------------
# full TopdownPoseEstimator from a dict config


def test_topdown_pose_estimator_loss_and_predict():
    init_default_scope('mmpose')
    codec = dict(
        type='MSRAHeatmap',
        input_size=(64, 64),
        heatmap_size=(16, 16),
        sigma=1.0,
        unbiased=True)
    head_cfg = dict(
        type='NSRMHead',
        in_channels=512,
        num_keypoints=K,
        groups='G1&6',
        num_structure_stages=2,
        num_pose_stages=2,
        loss=dict(type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02),
        decoder=codec,
        **SMALL)
    model = MODELS.build(
        dict(
            type='TopdownPoseEstimator',
            data_preprocessor=dict(
                type='PoseDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                bgr_to_rgb=True),
            backbone=dict(
                type='VGG',
                depth=11,
                num_stages=4,
                dilations=(1, 1, 1, 1),
                out_indices=(3, ),
                with_last_pool=False),
            head=head_cfg,
            test_cfg=dict(
                flip_test=True,
                flip_mode='heatmap',
                shift_heatmap=False,
                output_heatmaps=True)))
    model.init_weights()
    inputs = torch.rand(2, 3, 64, 64)
    samples = make_samples(2, 7, 16, 16)
    losses = model.loss(inputs, samples)
    assert {'loss_pose', 'loss_structure_g1', 'loss_structure_g6',
            'acc_pose'} == set(losses)
    total, log_vars = model.parse_losses(losses)
    assert total.item() == pytest.approx(
        (losses['loss_pose'] + losses['loss_structure_g1'] +
         losses['loss_structure_g6']).item(), rel=1e-6)
    total.backward()
    first = next(p for p in model.backbone.parameters() if p.dim() == 4)
    assert first.grad is not None and first.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, make_samples(2, 7, 16, 16))
        tensors = model(inputs, None, mode='tensor')
    assert len(results) == 2
    for r in results:
        assert r.pred_instances.keypoints.shape == (1, K, 2)
        assert r.pred_fields.heatmaps.shape == (K, 16, 16)
        assert r.pred_fields.limb_masks.shape == (7, 16, 16)
    s, k = tensors
    assert len(s) == 2 and len(k) == 2 and k[-1].shape == (2, K, 16, 16)

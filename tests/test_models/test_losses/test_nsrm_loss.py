"""Tests of the NSRM composite loss (paper Eq. 5, 7, 8)."""
import math

import numpy as np
import pytest
import torch

from projects.nsrm.models.losses import (NSRMLoss, pose_sse_loss,
                                         structure_bce_loss)


def bce(y, x):
    """Hand-written BCE of target y against sigmoid(logit x)."""
    p = 1.0 / (1.0 + math.exp(-x))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def tiny_case():
    """B=2, K=2, H=W=2, one pose stage, one G1 structure stage."""
    heatmaps = torch.tensor([
        [[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]],
        [[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [0.5, 0.0]]],
    ])
    pose = torch.tensor([
        [[[0.5, 0.0], [0.0, 0.1]], [[0.2, 0.0], [0.0, 0.7]]],
        [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.3], [0.5, 0.0]]],
    ])
    # keypoint 1 of sample 0 is invisible, keypoint 1 of sample 1 half weight
    weights = torch.tensor([[1.0, 0.0], [1.0, 0.5]])
    # sample 1 has all-zero masks (no valid limb) -> zero structure weight
    masks = torch.tensor([[[[1.0, 0.0], [0.5, 0.0]]], [[[0.0, 0.0],
                                                        [0.0, 0.0]]]])
    logits = torch.tensor([[[[2.0, -1.0], [0.0, 3.0]]],
                           [[[5.0, -5.0], [1.0, 0.0]]]])
    return pose, logits, heatmaps, masks, weights


def hand_pose_sse():
    # sample 0: kpt 0 -> 0.5^2 + 0.1^2; kpt 1 weight 0
    # sample 1: kpt 0 -> 1^2;           kpt 1 -> 0.5 * 0.3^2
    return (0.25 + 0.01 + 0.0 * (0.04 + 0.09) + 1.0 + 0.5 * 0.09) / (2 * 2 * 2)


def hand_g1_bce():
    s0 = bce(1.0, 2.0) + bce(0.0, -1.0) + bce(0.5, 0.0) + bce(0.0, 3.0)
    return s0 / (2 * 2 * 2)  # sample 1 does not count, still / (B*H*W)


def test_pure_functions_match_hand_computation():
    pose, logits, heatmaps, masks, weights = tiny_case()
    assert hand_pose_sse() == pytest.approx(0.163125)
    got = pose_sse_loss([pose], heatmaps, weights)
    assert got.item() == pytest.approx(hand_pose_sse(), rel=1e-6)
    # without weights the invisible keypoint counts
    got = pose_sse_loss([pose], heatmaps, None)
    assert got.item() == pytest.approx(
        (0.26 + 0.13 + 1.0 + 0.09) / 8, rel=1e-6)
    # two identical stages sum up
    got = pose_sse_loss([pose, pose], heatmaps, weights)
    assert got.item() == pytest.approx(2 * hand_pose_sse(), rel=1e-6)
    sw = torch.tensor([1.0, 0.0])
    got = structure_bce_loss([logits], masks, sw)
    assert got.item() == pytest.approx(hand_g1_bce(), rel=1e-6)


def test_module_g1_matches_hand_computation():
    pose, logits, heatmaps, masks, weights = tiny_case()
    loss = NSRMLoss(groups='G1', lambda_g1=0.5, loss_weight=2.0)
    out = loss([pose], [logits], heatmaps, masks, weights)
    assert set(out) == {'loss_pose', 'loss_structure_g1'}
    assert out['loss_pose'].item() == pytest.approx(
        2.0 * hand_pose_sse(), rel=1e-6)
    # the all-zero-mask sample is ignored (not its BCE of ~10.7)
    assert out['loss_structure_g1'].item() == pytest.approx(
        2.0 * 0.5 * hand_g1_bce(), rel=1e-6)
    for v in out.values():
        assert v.dim() == 0 and v.dtype == torch.float32


def test_module_g1and6_channel_split():
    """C=7: channel 0 is G1, channels 1-6 are G6; two structure stages."""
    B, H, W = 2, 2, 2
    x, y = 1.5, -0.5
    logits = torch.full((B, 7, H, W), y)
    logits[:, 0] = x
    masks = torch.zeros(B, 7, H, W)
    masks[0, 0] = 1.0  # sample 0: G1 = 1, G6 = 0; sample 1: all zero
    pose = torch.zeros(B, 1, H, W)
    heatmaps = torch.zeros(B, 1, H, W)
    loss = NSRMLoss(lambda_g1=0.1, lambda_g6=0.02)
    out = loss([pose], [logits, logits], heatmaps, masks,
               torch.ones(B, 1))
    assert set(out) == {'loss_pose', 'loss_structure_g1', 'loss_structure_g6'}
    g1 = 2 * (H * W * bce(1.0, x)) / (B * H * W)
    g6 = 2 * (6 * H * W * bce(0.0, y)) / (B * H * W)
    assert out['loss_structure_g1'].item() == pytest.approx(0.1 * g1, 1e-6)
    assert out['loss_structure_g6'].item() == pytest.approx(0.02 * g6, 1e-6)
    assert out['loss_pose'].item() == 0.0


def test_module_g6_only():
    B, H, W = 2, 3, 3
    logits = torch.zeros(B, 6, H, W)
    masks = torch.zeros(B, 6, H, W)
    masks[:, 2, 1, 1] = 1.0
    loss = NSRMLoss(groups='G6', lambda_g6=0.02)
    out = loss([torch.zeros(B, 2, H, W)], [logits],
               torch.zeros(B, 2, H, W), masks, torch.ones(B, 2))
    assert set(out) == {'loss_pose', 'loss_structure_g6'}
    # zero logits -> ln 2 per element, all 6 channels in G6
    assert out['loss_structure_g6'].item() == pytest.approx(
        0.02 * 6 * H * W * B * math.log(2) / (B * H * W), rel=1e-6)


def test_no_structure_stages_only_pose():
    pose, _, heatmaps, _, weights = tiny_case()
    loss = NSRMLoss(groups='G1', lambda_g1=0.5)
    out = loss([pose], [], heatmaps, None, weights)
    assert set(out) == {'loss_pose'}


def test_no_nan_all_zero_and_huge_logits():
    B, C, K, H, W = 2, 7, 3, 4, 4
    loss = NSRMLoss(lambda_g1=0.1, lambda_g6=0.02)
    zeros = loss([torch.zeros(B, K, H, W)], [torch.zeros(B, C, H, W)],
                 torch.zeros(B, K, H, W), torch.zeros(B, C, H, W),
                 torch.zeros(B, K))
    for k, v in zeros.items():
        assert torch.isfinite(v), k
        assert v.item() == 0.0, k  # nothing valid -> exactly zero

    masks = torch.zeros(B, C, H, W)
    masks[:, :, :2] = 1.0  # top half 1, bottom half 0
    for sign in (1.0, -1.0):
        logits = torch.full((B, C, H, W), sign * 100.0, requires_grad=True)
        out = loss([torch.zeros(B, K, H, W)], [logits],
                   torch.zeros(B, K, H, W), masks, torch.ones(B, K))
        total = sum(out.values())
        total.backward()
        assert torch.isfinite(total) and torch.isfinite(logits.grad).all()
        # wrong half costs 100 per element, right half ~0
        per_channel = 100.0 * (H // 2) * W * B / (B * H * W)
        assert out['loss_structure_g1'].item() == pytest.approx(
            0.1 * per_channel, rel=1e-5)
        assert out['loss_structure_g6'].item() == pytest.approx(
            0.02 * 6 * per_channel, rel=1e-5)


def test_autocast_low_precision_inputs():
    B, C, K, H, W = 2, 7, 3, 4, 4
    pose = torch.rand(B, K, H, W).bfloat16()
    logits = (torch.randn(B, C, H, W) * 50).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = NSRMLoss(lambda_g1=0.1, lambda_g6=0.02)(
            [pose], [logits], torch.rand(B, K, H, W),
            torch.rand(B, C, H, W), torch.ones(B, K))
    for v in out.values():
        assert v.dtype == torch.float32 and torch.isfinite(v)


def test_lambdas_api_and_validation():
    loss = NSRMLoss(lambda_g1=0.2, lambda_g6=0.04)
    assert loss.base_lambdas == dict(g1=0.2, g6=0.04)
    assert loss.current_lambdas() == dict(lambda_g1=0.2, lambda_g6=0.04)
    loss.set_lambda_factor(0.01)
    assert loss.current_lambdas() == pytest.approx(
        dict(lambda_g1=0.002, lambda_g6=0.0004))
    assert loss.base_lambdas == dict(g1=0.2, g6=0.04)  # base untouched
    g1 = NSRMLoss(groups='G1', lambda_g1=0.2)
    g1.set_lambda_factor(0.01)
    assert g1.current_lambdas() == pytest.approx(dict(lambda_g1=0.002))
    pose, logits, heatmaps, masks, weights = tiny_case()
    out = g1([pose], [logits], heatmaps, masks, weights)
    assert out['loss_structure_g1'].item() == pytest.approx(
        0.002 * hand_g1_bce(), rel=1e-6)
    with pytest.raises(ValueError, match='lambda_g1 must be >= 0'):
        NSRMLoss(lambda_g1=-0.1, lambda_g6=0.02)
    with pytest.raises(ValueError, match='lambda_g6 must be >= 0'):
        NSRMLoss(lambda_g1=0.1, lambda_g6=-1.0)
    with pytest.raises(ValueError, match='factor'):
        loss.set_lambda_factor(-1)


def test_groups_come_from_config_not_channel_count():
    assert NSRMLoss(groups='G1', lambda_g1=1.0).slices == dict(g1=slice(0, 1))
    assert NSRMLoss(groups='G6', lambda_g6=1.0).slices == dict(g6=slice(0, 6))
    # a lambda the groups need is required, one they lack is refused
    # unset lambdas: the paper's LPM values; G6 alone has none
    assert NSRMLoss().base_lambdas == dict(g1=0.1, g6=0.02)
    assert NSRMLoss(groups='G1').base_lambdas == dict(g1=0.5)
    with pytest.raises(ValueError, match="groups='G6'.*needs lambda_g6"):
        NSRMLoss(groups='G6')
    with pytest.raises(ValueError, match="lambda_g6=0.02 has no effect"):
        NSRMLoss(groups='G1', lambda_g1=0.5, lambda_g6=0.02)
    with pytest.raises(ValueError, match='groups must be one of'):
        NSRMLoss(groups='G2', lambda_g1=0.1)
    # 7 channels given to a G6 loss: named, not guessed from the count
    with pytest.raises(ValueError, match="expects 6"):
        NSRMLoss(groups='G6', lambda_g6=0.02)(
            [torch.zeros(1, 2, 4, 4)], [torch.zeros(1, 7, 4, 4)],
            torch.zeros(1, 2, 4, 4), torch.zeros(1, 7, 4, 4))


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match='does not match'):
        pose_sse_loss([torch.zeros(1, 2, 4, 4)], torch.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match='limb_masks have 3 channels'):
        NSRMLoss(lambda_g1=0.1, lambda_g6=0.02)(
            [torch.zeros(1, 2, 4, 4)], [torch.zeros(1, 3, 4, 4)],
            torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4))


# ---------------------------------------------------------------------------
# Scale check: the paper's lambdas balance the two terms at the start of
# training only with the sum / (B x H x W) normalisation.
LIMBS = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8),
         (0, 9), (9, 10), (10, 11), (11, 12), (0, 13), (13, 14), (14, 15),
         (15, 16), (0, 17), (17, 18), (18, 19), (19, 20)]
G6 = [[1, 2, 3], [5, 6, 7], [9, 10, 11], [13, 14, 15], [17, 18, 19],
      [0, 4, 8, 12, 16]]


def synthetic_hand(size=46):
    """21 keypoints of an open hand on a size x size grid (sub-pixel)."""
    wrist = np.array([22.3, 38.6])
    kpts = [wrist]
    angles = [-65, -25, -5, 15, 35]  # thumb .. little, degrees from 'up'
    for a in angles:
        d = np.array([math.sin(math.radians(a)), -math.cos(math.radians(a))])
        base = wrist + 9.0 * d
        for j in range(4):
            kpts.append(base + d * (4.0 * j + 0.37))
    kpts = np.stack(kpts)
    assert kpts.shape == (21, 2)
    assert (kpts > 1).all() and (kpts < size - 1).all()
    return kpts


def gaussian_heatmaps(kpts, size=46, sigma=1.0):
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    hm = [
        np.exp(-((xs - x)**2 + (ys - y)**2) / (2 * sigma**2))
        for x, y in kpts
    ]
    return torch.tensor(np.stack(hm), dtype=torch.float32)


def lpm_g1and6(kpts, size=46, sigma=1.0):
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    limb_maps = []
    for a, b in LIMBS:
        pa, pb = kpts[a], kpts[b]
        v = pb - pa
        t = ((xs - pa[0]) * v[0] + (ys - pa[1]) * v[1]) / (v @ v)
        t = np.clip(t, 0, 1)
        d2 = (xs - pa[0] - t * v[0])**2 + (ys - pa[1] - t * v[1])**2
        limb_maps.append(np.exp(-d2 / (2 * sigma**2)))
    limb_maps = np.stack(limb_maps)
    groups = [limb_maps.max(0)] + [limb_maps[g].max(0) for g in G6]
    return torch.tensor(np.stack(groups), dtype=torch.float32)


def test_pose_and_structure_terms_on_same_scale_at_start():
    B, size, T = 2, 46, 3
    kpts = synthetic_hand(size)
    heatmaps = gaussian_heatmaps(kpts, size).expand(B, -1, -1, -1)
    masks = lpm_g1and6(kpts, size).expand(B, -1, -1, -1)
    assert masks.shape == (B, 7, size, size)
    assert masks.max() == pytest.approx(1.0, abs=1e-3)
    weights = torch.ones(B, 21)
    pose_outs = [torch.zeros(B, 21, size, size)] * T
    logits = [torch.zeros(B, 7, size, size)] * T  # sigmoid -> 0.5

    out = NSRMLoss(lambda_g1=0.1, lambda_g6=0.02)(  # LPM-G1&6
        pose_outs, logits, heatmaps, masks, weights)
    pose = out['loss_pose'].item()
    struct = out['loss_structure_g1'].item() + out[
        'loss_structure_g6'].item()
    ratio = struct / pose
    # the KeypointMSELoss-style mean takes another factor K=21 off the pose
    mean_ratio = struct / (pose / 21)
    # the paper's other settings, for the record (zero logits: ln 2 / pixel)
    other = {
        name: T * math.log(2) * (l1 + 6 * l6) / pose
        for name, (l1, l6) in dict(
            ldm_g1=(1.0, 0), lpm_g1=(0.5, 0), ldm_g16=(0.2, 0.04)).items()
    }
    msg = (f'pose={pose:.4f} structure={struct:.4f} ratio={ratio:.2f} '
           f'mean-convention ratio={mean_ratio:.1f} '
           f'other paper settings (structure/pose): '
           + ', '.join(f'{k}={v:.1f}' for k, v in other.items()))
    print(msg)
    # hand-checkable: zero logits give ln 2 per element
    assert struct == pytest.approx(T * math.log(2) * (0.1 + 6 * 0.02), 1e-5)
    assert 0.1 < ratio < 10, msg
    assert not 0.1 < mean_ratio < 10, msg

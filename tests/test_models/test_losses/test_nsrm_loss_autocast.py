"""NSRMLoss under CPU bfloat16 autocast (``--amp`` on a CPU): float32
arithmetic on the rounded network outputs, finite for saturated logits."""
import numpy as np
import torch

from projects.nsrm.models.losses import NSRMLoss


def bf16_case(seed=0):
    """Network outputs as a bfloat16 forward pass gives them (B=2, K=21,
    C=7, 8x8, 3 stages): structure logits saturated at +-80 (the wrong
    sign on half the pixels), float32 targets."""
    g = torch.Generator().manual_seed(seed)
    B, K, C, H, W = 2, 21, 7, 8, 8
    masks = (torch.rand(B, C, H, W, generator=g) > 0.5).float()
    masks[0, 0, 0, :4] = torch.tensor([0.25, 0.5, 0.75, 1.0])
    sign = torch.where(torch.rand(B, C, H, W, generator=g) > 0.5, 1.0, -1.0)
    logits = [(80.0 * sign + torch.randn(B, C, H, W, generator=g)).to(
        torch.bfloat16).requires_grad_() for _ in range(3)]
    pose = [torch.rand(B, K, H, W, generator=g).to(
        torch.bfloat16).requires_grad_() for _ in range(3)]
    heatmaps = torch.rand(B, K, H, W, generator=g)
    weights = torch.ones(B, K)
    weights[1, :3] = 0.0
    return pose, logits, heatmaps, masks, weights


def bce64(x, y):
    """BCE of target y against sigmoid(x), float64 numpy, stable form."""
    return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))


def test_bf16_autocast_loss_is_the_float32_loss_of_the_rounded_outputs():
    pose, logits, heatmaps, masks, weights = bf16_case()
    loss = NSRMLoss(groups='G1&6', lambda_g1=0.1, lambda_g6=0.02)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        # autocast is really on: a matrix product comes out in bfloat16
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype is torch.bfloat16
        got = loss(pose, logits, heatmaps, masks, weights)
    ref = loss([p.detach().float() for p in pose],
               [s.detach().float() for s in logits], heatmaps, masks,
               weights)
    assert set(got) == {'loss_pose', 'loss_structure_g1',
                        'loss_structure_g6'}
    for name, value in got.items():
        assert value.dtype is torch.float32, name
        assert torch.isfinite(value), name
        assert abs(value.item() - ref[name].item()) <= \
            1e-6 * abs(ref[name].item()), name

    # and against a float64 computation by hand: sum over stages, channels,
    # pixels, / (B x H x W)
    B, _, H, W = masks.shape
    y = masks.numpy().astype(np.float64)
    bce = [bce64(s.detach().double().numpy(), y) for s in logits]
    g1 = sum(b[:, :1].sum() for b in bce) / (B * H * W)
    g6 = sum(b[:, 1:].sum() for b in bce) / (B * H * W)
    w = weights.numpy()[:, :, None, None]
    sse = sum((w * (p.detach().double().numpy() - heatmaps.numpy())**2).sum()
              for p in pose) / (B * H * W)
    assert g1 > 100  # saturated logits of the wrong sign: BCE ~ 80 each
    np.testing.assert_allclose(got['loss_structure_g1'].item(), 0.1 * g1,
                               rtol=1e-6)
    np.testing.assert_allclose(got['loss_structure_g6'].item(), 0.02 * g6,
                               rtol=1e-6)
    np.testing.assert_allclose(got['loss_pose'].item(), sse, rtol=1e-6)


def test_bf16_autocast_gradients_are_finite_and_exact():
    """d BCE / d x = sigmoid(x) - y, back to each bfloat16 logit."""
    pose, logits, heatmaps, masks, weights = bf16_case(seed=1)
    loss = NSRMLoss(groups='G1&6', lambda_g1=0.1, lambda_g6=0.02)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        total = sum(loss(pose, logits, heatmaps, masks, weights).values())
    total.backward()
    B, _, H, W = masks.shape
    for s in logits:
        assert s.grad.dtype is torch.bfloat16
        assert torch.isfinite(s.grad.float()).all()
        lam = torch.tensor([0.1] + [0.02] * 6)[None, :, None, None]
        want = lam * (torch.sigmoid(s.detach().float()) - masks)
        want = want / (B * H * W)
        # the gradient is rounded to bfloat16 (8 significant bits) only
        torch.testing.assert_close(s.grad.float(), want, rtol=2**-8,
                                   atol=1e-12)

"""ImageNet VGG weights reach MMPose's VGG unchanged."""
import torch
import torchvision
from mmpose.models.backbones import VGG

from projects.nsrm.testing import run_tool
from projects.nsrm.utils.vgg_weights import (convert_vgg_state_dict,
                                       mmpose_conv_indices)


def test_conv_indices_skip_pools():
    assert mmpose_conv_indices(19)[:6] == [0, 1, 3, 4, 6, 7]
    assert len(mmpose_conv_indices(19)) == 16


def vgg19_conv4_4():
    # the paper's backbone: VGG-19 up to conv4_4 + ReLU, stride 8
    model = VGG(depth=19, num_stages=4, dilations=(1, 1, 1, 1),
                with_last_pool=False, out_indices=(3, ))
    model.eval()  # MMPose's VGG.train() does not return the module
    return model


def test_torchvision_weights_give_torchvision_features(tmp_path):
    torch.manual_seed(0)
    tv = torchvision.models.vgg19(weights=None).eval()
    src = tmp_path / 'vgg19_torchvision.pth'
    torch.save(tv.state_dict(), src)
    dst = tmp_path / 'vgg19_mmpose.pth'
    run_tool(['tools/convert_vgg_weights.py', str(src), str(dst)])
    ours = vgg19_conv4_4()
    state = torch.load(dst, weights_only=True)['state_dict']
    assert len(state) == 32  # 16 convolutions
    ours.load_state_dict(
        {k: v for k, v in state.items() if int(k.split('.')[1]) < 15},
        strict=True)
    x = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        expected = tv.features[:27](x)  # conv1_1 .. conv4_4 + ReLU
        got = ours(x)[-1]
    assert got.shape == (1, 512, 8, 6)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_mmpretrain_layout_is_kept():
    tv = torchvision.models.vgg19(weights=None)
    ours = convert_vgg_state_dict(tv.state_dict())
    prefixed = {f'backbone.{k}': v for k, v in ours.items()}
    again = convert_vgg_state_dict({'state_dict': prefixed})
    assert list(again) == list(ours)
    assert all(torch.equal(again[k], ours[k]) for k in ours)

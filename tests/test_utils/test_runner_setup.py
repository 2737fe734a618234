"""What the tools add to a config: the TensorBoard switch and the check of
pretrained-weights files."""
import os.path as osp

import pytest
from mmengine.config import Config

from projects.nsrm.testing import REPO
from projects.nsrm.utils.runner_setup import (apply_switches,
                                              check_pretrained_files)

VGG_CONFIG = osp.join(REPO, 'configs/nsrm/lpm_g1_onehand10k.py')


def test_missing_vgg_weights_name_the_converter(tmp_path):
    cfg = Config.fromfile(VGG_CONFIG)
    missing = str(tmp_path / 'vgg19_imagenet_mmpose.pth')
    cfg.model.backbone.init_cfg.checkpoint = missing
    with pytest.raises(FileNotFoundError) as info:
        check_pretrained_files(cfg)
    message = str(info.value)
    assert message.startswith(
        f'model.backbone.init_cfg: pretrained weights file {missing} not '
        'found.')
    assert 'python tools/convert_vgg_weights.py vgg19-dcbb9e9d.pth' in message
    assert '--cfg-options model.backbone.init_cfg=None' in message
    # present file, or URL (the loader reports those), or none: no error
    open(missing, 'wb').close()
    check_pretrained_files(cfg)
    cfg.model.backbone.init_cfg.checkpoint = 'open-mmlab://msra/hrnetv2_w18'
    check_pretrained_files(cfg)
    cfg.model.backbone.init_cfg = None
    check_pretrained_files(cfg)


def test_tensorboard_switch_adds_a_working_backend(tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'))
    assert cfg.tensorboard is False
    before = [b['type'] for b in cfg.visualizer.vis_backends]
    assert 'TensorboardVisBackend' not in apply_switches(cfg).visualizer[
        'vis_backends']
    cfg.merge_from_dict(dict(tensorboard=True))
    apply_switches(cfg)
    apply_switches(cfg)  # idempotent
    types = [b['type'] for b in cfg.visualizer.vis_backends]
    assert types == before + ['TensorboardVisBackend']
    # the pinned tensorboard package is installed and writes event files
    from mmengine.visualization import TensorboardVisBackend
    backend = TensorboardVisBackend(save_dir=str(tmp_path))
    backend.add_scalar('loss', 0.5, step=1)
    backend.close()
    events = list(tmp_path.rglob('events.out.tfevents.*'))
    assert events and events[0].stat().st_size > 0

"""ONNX export (projects/nsrm/deploy/onnx_export.py) and its CLI
(tools/deploy/export_onnx.py) on tiny randomly initialised models."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.config import Config

from projects.nsrm.deploy.onnx_export import (METADATA_KEYS, PoseOnnxWrapper,
                                              check_parity, crop_pipeline,
                                              export_onnx, parse_metadata,
                                              read_metadata)
from projects.nsrm.structures import CHANNEL_NAMES
from projects.nsrm.testing import (REPO, load_script, run_tool,
                                   write_tiny_checkpoint)

pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')

LPM = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
CPM = 'configs/nsrm/cpm_synthetic_cpu.py'
HEATMAP = 'configs/baseline/heatmap_resnet_synthetic_cpu.py'
CODEC = dict(type='MSRAHeatmap', input_size=[128, 128],
             heatmap_size=[32, 32], sigma=2, unbiased=True)


def _export(config, folder, **kwargs):
    """A tiny random model of ``config`` exported to ``folder``."""
    from mmpose.apis import init_model
    ckpt = write_tiny_checkpoint(osp.join(REPO, config),
                                 osp.join(folder, 'tiny.pth'))
    model = init_model(osp.join(REPO, config), ckpt, device='cpu')
    path = osp.join(folder, 'model.onnx')
    meta = export_onnx(model, path, **kwargs)
    return dict(model=model, path=path, meta=meta, ckpt=ckpt)


@pytest.fixture(scope='module')
def lpm(tmp_path_factory):
    return _export(LPM, str(tmp_path_factory.mktemp('lpm')))


@pytest.fixture(scope='module')
def cpm(tmp_path_factory):
    return _export(CPM, str(tmp_path_factory.mktemp('cpm')))


def _session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(path, options,
                                providers=['CPUExecutionProvider'])


def test_lpm_export_has_the_named_outputs_and_matches_pytorch(lpm):
    sess = _session(lpm['path'])
    [inp] = sess.get_inputs()
    assert inp.name == 'input' and inp.shape == ['batch', 3, 128, 128]
    outs = sess.get_outputs()
    assert [o.name for o in outs] == ['heatmaps', 'limb_masks']
    assert [o.shape for o in outs] == [['batch', 21, 32, 32],
                                       ['batch', 7, 32, 32]]
    # dynamic batch: 3 crops (exported with 2); PyTorch gives the same
    diffs = check_parity(lpm['model'], lpm['path'], num=3, seed=1)
    assert set(diffs) == {'heatmaps', 'limb_masks'}
    assert max(diffs.values()) < 1e-4
    x = np.random.default_rng(0).standard_normal((3, 3, 128, 128))
    heatmaps, masks = sess.run(None, {'input': x.astype(np.float32)})
    assert heatmaps.shape == (3, 21, 32, 32)
    assert masks.shape == (3, 7, 32, 32)
    # a sigmoid: in (0, 1), and not a constant
    assert masks.min() > 0 and masks.max() < 1 and masks.std() > 0


def test_cpm_and_heatmap_head_export_heatmaps_only(cpm, tmp_path):
    sess = _session(cpm['path'])
    assert [(o.name, o.shape) for o in sess.get_outputs()] == [
        ('heatmaps', ['batch', 21, 32, 32])]
    diffs = check_parity(cpm['model'], cpm['path'], num=3)
    assert list(diffs) == ['heatmaps'] and diffs['heatmaps'] < 1e-4
    # MMPose's plain HeatmapHead (forward returns one tensor)
    plain = _export(HEATMAP, str(tmp_path))
    sess = _session(plain['path'])
    assert [(o.name, o.shape) for o in sess.get_outputs()] == [
        ('heatmaps', ['batch', 21, 32, 32])]
    assert check_parity(plain['model'], plain['path'])['heatmaps'] < 1e-4
    assert json.loads(plain['meta']['structure_channels']) == []


def test_metadata_round_trips(lpm, cpm):
    meta = read_metadata(lpm['path'])
    assert set(meta) == set(METADATA_KEYS)
    # what export_onnx returned is what the file holds
    assert meta == parse_metadata(lpm['meta'])
    assert meta['input_size'] == [128, 128]
    assert meta['heatmap_size'] == [32, 32]
    assert meta['mean'] == [123.675, 116.28, 103.53]
    assert meta['std'] == [58.395, 57.12, 57.375]
    assert meta['bgr_to_rgb'] is True
    assert meta['codec'] == CODEC
    assert meta['bbox_padding'] == 1.25 and meta['use_udp'] is False
    assert meta['pipeline'] == [
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='TopdownAffine', input_size=[128, 128], use_udp=False)
    ]
    assert meta['structure_groups'] == 'G1&6'
    assert meta['structure_channels'] == list(CHANNEL_NAMES)
    assert meta['dataset_name'] == 'onehand10k'
    assert meta['num_keypoints'] == 21
    assert meta['keypoint_names'][:2] == ['wrist', 'thumb1']
    assert (meta['flip_test'], meta['flip_mode'],
            meta['shift_heatmap']) == (True, 'heatmap', True)
    assert meta['flip_indices'] == list(range(21))
    assert meta['output_names'] == ['heatmaps', 'limb_masks']
    assert meta['source_config'] == 'lpm_g1g6_synthetic_cpu.py'
    cpm_meta = read_metadata(cpm['path'])
    assert cpm_meta['structure_channels'] == []
    assert cpm_meta['structure_groups'] is None
    assert cpm_meta['output_names'] == ['heatmaps']


def test_input_size_option_rewrites_the_crop_and_the_codec(cpm, tmp_path):
    path = str(tmp_path / 'cpm_96x64.onnx')
    meta = parse_metadata(
        export_onnx(cpm['model'], path, input_size=(96, 64)))
    # NSRMHead resizes its features to the codec's 32x32 grid
    assert meta['input_size'] == [96, 64]
    assert meta['codec']['input_size'] == [96, 64]
    assert meta['codec']['heatmap_size'] == [32, 32]
    assert meta['pipeline'][1]['input_size'] == [96, 64]
    assert _session(path).get_inputs()[0].shape == ['batch', 3, 64, 96]
    assert check_parity(cpm['model'], path, num=1)['heatmaps'] < 1e-4


@pytest.mark.slow  # the torch.export-based exporter takes ~6 s
def test_dynamo_exporter_gives_the_same_outputs(cpm, tmp_path):
    pytest.importorskip('onnxscript')
    path = str(tmp_path / 'cpm_dynamo.onnx')
    export_onnx(cpm['model'], path, dynamo=True)
    assert [o.name for o in _session(path).get_outputs()] == ['heatmaps']
    assert check_parity(cpm['model'], path, num=3)['heatmaps'] < 1e-4


def test_export_errors_name_the_problem(cpm, tmp_path):
    import torch
    with pytest.raises(ValueError, match='top-down pose estimator'):
        PoseOnnxWrapper(torch.nn.Conv2d(3, 3, 1))
    cfg = cpm['model'].cfg
    try:
        del cpm['model'].cfg
        with pytest.raises(ValueError, match='model.cfg'):
            export_onnx(cpm['model'], str(tmp_path / 'x.onnx'))
    finally:
        cpm['model'].cfg = cfg
    with pytest.raises(ValueError, match=r"metadata \['codec'\] missing"):
        props = dict(cpm['meta'])
        del props['codec']
        parse_metadata(props, 'some.onnx')


def test_crop_pipeline_reads_the_test_pipeline():
    cfg = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=2.2),
        dict(type='TopdownAffine', input_size=(368, 368), use_udp=True),
        dict(type='LimbMaskTarget', groups='G1'),
        dict(type='PackPoseInputs'),
    ]))))
    assert crop_pipeline(cfg) == [
        dict(type='GetBBoxCenterScale', padding=2.2),
        dict(type='TopdownAffine', input_size=[368, 368], use_udp=True)
    ]
    whole = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='LoadImage'),
        dict(type='WholeImageResize', input_size=(368, 368)),
    ]))))
    assert crop_pipeline(whole, (256, 192)) == [
        dict(type='WholeImageResize', input_size=[256, 192])
    ]
    flipped = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip'),
        dict(type='TopdownAffine', input_size=(8, 8)),
    ]))))
    with pytest.raises(ValueError, match="'RandomFlip' is not reproduced"):
        crop_pipeline(flipped)


def _load_tool():
    return load_script('tools/deploy/export_onnx.py')


def test_cli_missing_files_give_clear_errors(tmp_path, capsys):
    tool = _load_tool()
    missing = str(tmp_path / 'no_such.pth')
    assert tool.main([CPM, missing, '--out', str(tmp_path / 'a.onnx')]) == 1
    assert f'checkpoint file not found: {missing}' in capsys.readouterr().err
    assert tool.main(['configs/nope.py', missing, '--out', 'a.onnx']) == 1
    assert 'config file not found: configs/nope.py' in (
        capsys.readouterr().err)
    assert not (tmp_path / 'a.onnx').exists()


def test_missing_packages_give_the_install_command(
        cpm, tmp_path, monkeypatch, capsys):
    from projects.nsrm.deploy.onnx_inference import OnnxPoseModel
    monkeypatch.setitem(sys.modules, 'onnx', None)  # import onnx fails
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    hint = r"needs the '{}' package.*pip install onnx onnxruntime"
    with pytest.raises(ImportError, match=hint.format('onnx')):
        export_onnx(cpm['model'], str(tmp_path / 'x.onnx'))
    with pytest.raises(ImportError, match=hint.format('onnxruntime')):
        OnnxPoseModel(cpm['path'])
    out = str(tmp_path / 'x.onnx')
    assert _load_tool().main([CPM, cpm['ckpt'], '--out', out]) == 1
    err = capsys.readouterr().err
    assert "needs the 'onnx' package" in err
    assert 'requirements/runtime.txt' in err
    assert not osp.exists(out)


def test_cli_fails_when_parity_is_off(cpm, tmp_path, capsys, monkeypatch):
    import projects.nsrm.deploy.onnx_export as onnx_export
    monkeypatch.setattr(onnx_export, 'check_parity',
                        lambda model, path: dict(heatmaps=2e-4))
    out = str(tmp_path / 'bad.onnx')
    assert _load_tool().main([CPM, cpm['ckpt'], '--out', out]) == 1
    captured = capsys.readouterr()
    assert 'heatmaps: max |PyTorch - ONNX Runtime| = 2.000e-04' in (
        captured.out)
    assert f'{out} differs from PyTorch' in captured.err


@pytest.mark.slow
def test_cli_writes_the_file_and_prints_the_differences(lpm, tmp_path):
    out = tmp_path / 'deploy' / 'lpm.onnx'
    proc = run_tool(['tools/deploy/export_onnx.py', LPM, lpm['ckpt'],
                     '--out', str(out)],
                    env=dict(OMP_NUM_THREADS='1'))
    assert out.is_file()
    diffs = {}
    for line in proc.stdout.splitlines():
        if ': max |PyTorch - ONNX Runtime| = ' in line:
            name, value = line.split(': max |PyTorch - ONNX Runtime| = ')
            diffs[name] = float(value)
    assert set(diffs) == {'heatmaps', 'limb_masks'}
    assert max(diffs.values()) < 1e-4
    assert 'Parity OK' in proc.stdout
    assert read_metadata(str(out))['structure_channels'] == list(
        CHANNEL_NAMES)


def test_deploy_modules_import_onnx_only_inside_functions():
    """projects.nsrm imports without onnx / onnxruntime installed."""
    import ast
    for name in ('__init__', 'onnx_export', 'onnx_inference'):
        path = osp.join(REPO, 'projects/nsrm/deploy', f'{name}.py')
        with open(path) as f:
            tree = ast.parse(f.read())
        imports = (ast.Import, ast.ImportFrom)
        top = [n for n in tree.body if isinstance(n, imports)]
        modules = [a.name for n in top if isinstance(n, ast.Import)
                   for a in n.names]
        modules += [n.module for n in top if isinstance(n, ast.ImportFrom)
                    and n.module]
        assert modules, path
        assert not [m for m in modules if m.split('.')[0] in (
            'onnx', 'onnxruntime', 'onnxscript')], (path, modules)

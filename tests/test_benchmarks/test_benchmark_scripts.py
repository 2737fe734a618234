"""The benchmark scripts (benchmarks/*.py): their --quick smoke runs, the
tables' contents and the references they measure against."""
import json
import math

import numpy as np
import pytest
import torch

from benchmarks import model_speed, overheads, switches, targets_speed
from benchmarks.common import check_device, cpu_name, peak_memory_bytes
from projects.nsrm.engine.optim_wrappers import cpu_native_bf16_flags
from projects.nsrm.testing import run_tool

STAGES = ['LoadImage', 'GetBBoxCenterScale', 'TopdownAffine',
          'GenerateTarget', 'LimbMaskTarget', 'FastPackPoseInputs']


def check_written(payload, path):
    """The JSON file holds the payload and every row names the device."""
    with open(path) as f:
        saved = json.load(f)
    assert saved['script'] == payload['script']
    assert saved['device']['device'] == 'cpu'
    assert saved['device']['name'] == cpu_name()
    return saved


def test_reference_limb_masks_by_hand():
    """Only limb 0 -> 1 drawn: from (2, 2) to (6, 2) on a 9x5 grid."""
    kpts = np.zeros((21, 2))
    kpts[0], kpts[1] = (2.0, 2.0), (6.0, 2.0)
    visible = np.zeros(21)
    visible[[0, 1]] = 1
    ldm = targets_speed.reference_limb_masks(kpts, visible, (9, 5), 'LDM',
                                             'G1')
    want = np.zeros((1, 5, 9), np.float32)
    want[0, 1:4, 2:7] = 1  # |y - 2| <= 1, 2 <= x <= 6
    np.testing.assert_array_equal(ldm, want)
    lpm = targets_speed.reference_limb_masks(kpts, visible, (9, 5), 'LPM',
                                             'G1&6')
    assert lpm.shape == (7, 5, 9)
    assert lpm[0, 3, 4] == pytest.approx(math.exp(-0.5))  # 1 px beside
    assert lpm[0, 2, 8] == pytest.approx(math.exp(-2.0))  # 2 px beyond b
    assert lpm[0, 2, 2:7].tolist() == [1.0] * 5
    np.testing.assert_array_equal(lpm[6], lpm[0])  # the palm limb 0 -> 1
    assert not lpm[1:6].any()  # no finger limb


def test_bad_device_is_a_clear_error():
    with pytest.raises(ValueError, match="--device 'gpu0' is not a torch"):
        check_device('gpu0')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='CUDA is not available'):
            targets_speed.main(['--quick', '--device', 'cuda:0'])


def test_cpu_peak_memory_counts_what_the_call_holds():
    def hold_8_mib():
        a = torch.ones(1024, 1024)  # 4 MiB
        b = a + 1  # 4 MiB more while a lives
        del a, b

    peak = peak_memory_bytes(hold_8_mib, torch.device('cpu'))
    # the two 4 MiB buffers (and a few bytes of bookkeeping tensors)
    assert 8 * 2**20 <= peak < 8 * 2**20 + 4096


@pytest.mark.slow
def test_targets_speed_quick(tmp_path):
    out = str(tmp_path / 'targets.json')
    payload = targets_speed.main(['--quick', '--out', out])
    saved = check_written(payload, out)
    assert saved['device']['threads'] == 1
    masks = saved['limb_masks']
    assert len(masks) == 13
    assert {(r['mask_type'], r['groups'], r['grid']) for r in masks} == {
        (m, g, s) for m in ('LDM', 'LPM') for g in ('G1', 'G6', 'G1&6')
        for s in ('46x46', '64x64')}
    for row in masks:
        assert row['transform_ms'] > 0 and row['loop_ms'] > 0
        assert row['max_diff'] < (1e-5 if row['mask_type'] == 'LPM' else
                                  1e-12)
        assert row['device'] == saved['device']
    assert masks[-1]['labelled'] == '18/21'
    stages = saved['pipeline']
    assert [r['stage'] for r in stages] == STAGES + [
        'sum of the stages', 'composed pipeline']
    assert stages[-2]['ms'] == pytest.approx(
        sum(r['ms'] for r in stages[:6]))


@pytest.mark.slow
def test_targets_speed_runs_as_a_script(tmp_path):
    out = str(tmp_path / 'targets.json')
    proc = run_tool(['benchmarks/targets_speed.py', '--quick', '--out', out],
                    timeout=300)
    assert 'device: cpu (' in proc.stdout
    assert '1 CPU thread' in proc.stdout
    assert f'wrote {out}' in proc.stdout
    with open(out) as f:
        assert len(json.load(f)['pipeline']) == 8


@pytest.mark.slow
def test_model_speed_quick(tmp_path):
    out = str(tmp_path / 'models.json')
    payload = model_speed.main(['--quick', '--threads', '1', '--out', out])
    saved = check_written(payload, out)
    rows = saved['models']
    assert [(r['model'], r['precision']) for r in rows] == [
        (model_speed.MODELS[name][0], precision)
        for name in model_speed.QUICK_MODELS
        for precision in ('fp32', 'bf16')]
    native = bool(cpu_native_bf16_flags())
    for row in rows:
        assert row['gmac'] == pytest.approx(row['backbone_gmac'] +
                                            row['head_gmac'])
        if row['precision'] == 'bf16' and not native:
            assert row['note'] == 'no native bf16'
            assert 'fwd_ms' not in row
            continue
        assert row['fwd_ms'] > 0 and row['train_ms'] > 0
        assert row['train_peak_mib'] > 0
        assert row['fwd_gmacs'] == pytest.approx(
            row['gmac'] * row['batch'] / (row['fwd_ms'] / 1e3))
    peak = saved['matmul_peak'][0]
    assert peak['precision'] == 'fp32' and peak['gmacs'] > 0


@pytest.mark.slow
def test_overheads_quick(tmp_path):
    out = str(tmp_path / 'overheads.json')
    payload = overheads.main(['--quick', '--threads', '1', '--out', out])
    saved = check_written(payload, out)
    cpm, nsrm, ratio = saved['nsrm_over_cpm']
    assert ratio['ratio'] == pytest.approx(nsrm['ms'] / cpm['ms'])
    plain = saved['modules_over_plain']
    # same weights, same operations: identical outputs on the CPU
    assert plain[2]['max_diff'] == 0.0
    assert plain[5]['ratio'] == pytest.approx(plain[3]['ms'] /
                                              plain[4]['ms'])
    fetch, run_iter, bare, ratio, total = saved['runner_over_bare']
    assert fetch['what'] == 'data fetch (0 workers)' and fetch['ms'] > 0
    assert ratio['ratio'] == pytest.approx(run_iter['ms'] / bare['ms'])
    assert total['ratio'] == pytest.approx(
        (fetch['ms'] + run_iter['ms']) / bare['ms'])


def test_plain_twin_copies_a_config_built_model():
    from benchmarks.common import build_model, load_model_config
    cfg = load_model_config(overheads.CPM_CONFIG, (16, 16), (2, 2),
                            quick=True)
    model = build_model(cfg, torch.device('cpu')).eval()
    plain = overheads.plain_twin(model).eval()
    assert len(plain.structure) == 0 and len(plain.pose) == 6
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        _, want = model._forward(x)
        _, got = plain(x)
    for a, b in zip(want, got):
        assert torch.equal(a, b)


def test_switches_quick(tmp_path):
    """float32, channels_last (and torch.compile, which may fail without a
    C++ compiler: then its row says why) on the quick model; the ratio is
    each variant's step time over float32's."""
    out = str(tmp_path / 'switches.json')
    payload = switches.main(['--quick', '--threads', '1', '--out', out,
                             '--no-compile'])
    saved = check_written(payload, out)
    base, last = saved['rows']
    assert [base['variant'], last['variant']] == ['float32', 'channels_last']
    assert base['ratio'] == 1.0
    assert last['ratio'] == pytest.approx(last['median_ms'] /
                                          base['median_ms'])
    assert saved['settings']['batch_size'] == 2

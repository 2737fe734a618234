"""Attacks on checkpoint loading (issue 7, item 1): each refused or harmless.

Every attack file is built inside the test. Loads that could crash the
interpreter, and checks of torch's process-wide state, run in subprocesses.
"""
import copyreg
import http.server
import os
import os.path as osp
import pickle
import resource
import subprocess
import sys
import textwrap
import threading
import traceback
import types

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint
from torch import nn
from torch.utils.data import DataLoader, Dataset

from projects.nsrm.testing import REPO
from projects.nsrm.utils import safe_checkpoint
from projects.nsrm.utils.safe_checkpoint import (CorruptCheckpointError,
                                                 UnsafeCheckpointError,
                                                 load_from_local)

# --------------------------------------------------------------------------
# Attack payloads
# --------------------------------------------------------------------------


class Evil:
    """Pickles to ``os.system(...)``: what a malicious checkpoint does."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class CraftedDtype:
    """Pickles to ``numpy.dtype(spec)`` followed by a chosen dtype state."""

    def __init__(self, spec, flags):
        self.spec, self.flags = spec, flags

    def __reduce__(self):
        state = list(np.dtype(self.spec).__reduce__()[2])
        state[7] = self.flags
        return np.dtype, (self.spec, False, True), tuple(state)


class CraftedArray:
    """Pickles like a numpy array whose dtype and raw bytes are chosen."""

    def __init__(self, dtype, data, shape=(1, )):
        self.dtype, self.data, self.shape = dtype, data, shape

    def __reduce__(self):
        return (np.core.multiarray._reconstruct, (np.ndarray, (0, ), b'b'),
                (1, self.shape, self.dtype, False, self.data))


class CraftedHistoryBuffer:
    """Pickles exactly like a ``HistoryBuffer`` whose state is chosen."""

    __class__ = property(lambda self: HistoryBuffer)  # for pickle's check

    def __init__(self, state):
        self.state = state

    def __reduce_ex__(self, protocol):
        return copyreg.__newobj__, (HistoryBuffer, ), self.state


def object_array_attack():
    """An object-dtype array whose 8 raw bytes become an object pointer."""
    return CraftedArray(CraftedDtype('O8', 0), b'A' * 8)


def save(obj, path, **kwargs):
    torch.save(obj, str(path), **kwargs)
    return str(path)


def run_python(code, timeout=120):
    """Runs code in a fresh interpreter at the repository root, no core."""
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)], cwd=REPO,
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, 'PYTHONPATH': REPO},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))


# --------------------------------------------------------------------------
# A tiny MMEngine runner on CPU
# --------------------------------------------------------------------------

#: dataset_meta with the numpy values real checkpoints carry (and more).
TOY_META = dict(
    sigmas=np.array([0.025, 0.035], dtype=np.float32),
    names=np.array(['wrist', 'thumb']),
    raw=np.array([b'ab', b'c']),
    fortran=np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
    big_endian=np.arange(3, dtype='>f8'),
    flags=np.array([True, False]),
    empty=np.zeros((0, 3), dtype=np.uint8),
    zero_d=np.array(2.5),
    complex=np.array([1 + 2j], dtype=np.complex64),
    half=np.array([0.5], dtype=np.float16),
    scale=np.float32(0.5),
    count=np.int64(7),
    ok=np.bool_(True),
    label=np.str_('hand'),
    dtype=np.dtype('<u2'),
)


class ToyDataset(Dataset):
    metainfo = TOY_META

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return dict(inputs=torch.full((2, ), float(index)))


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return out


_RUNNERS = iter(range(10**6))


def toy_runner(work_dir, max_epochs=1, **kwargs):
    from mmengine.runner import Runner
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=DataLoader(ToyDataset(), batch_size=2),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        experiment_name=f'safe_ckpt_{os.getpid()}_{next(_RUNNERS)}',
        default_scope='mmengine',
        **kwargs)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One toy epoch: ``epoch_1.pth``, a real MMEngine checkpoint."""
    work_dir = tmp_path_factory.mktemp('toy_run')
    toy_runner(work_dir).train()
    path = str(work_dir / 'epoch_1.pth')
    assert osp.isfile(path)
    return path


@pytest.fixture
def hub_checkpoint(tmp_path):
    """A checkpoint of what MMEngine saves (weights, optimizer, message hub
    log buffers, numpy dataset meta), built without a runner: fast."""
    from mmengine.logging import MessageHub
    model = ToyModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(2, 2), mode='loss')['loss'].backward()
    optimizer.step()
    hub = MessageHub.get_instance(f'safe_ckpt_hub_{next(_RUNNERS)}')
    for step, loss in enumerate((0.5, 0.25, 0.75)):
        hub.update_scalar('train/loss', loss)
        hub.update_scalar('train/lr', np.float64(0.1), count=2)
        hub.update_info('iter', step)
    checkpoint = dict(
        meta=dict(epoch=1, iter=3, seed=0, dataset_meta=TOY_META),
        state_dict=model.state_dict(),
        optimizer=optimizer.state_dict(),
        message_hub=hub.state_dict())
    return save(checkpoint, tmp_path / 'hub.pth')


def trusted_load(path):
    """Stock unpickling, for files this test made itself."""
    return torch.load(path, map_location='cpu', weights_only=False)


# --------------------------------------------------------------------------
# A loopback HTTP server
# --------------------------------------------------------------------------


@pytest.fixture
def http_files(tmp_path, monkeypatch):
    """Serves ``files[name] = bytes`` at ``http://127.0.0.1:PORT/name``.

    torch.hub's cache goes to tmp_path; proxies are bypassed for loopback.
    """
    files = {}

    class Handler(http.server.BaseHTTPRequestHandler):

        def do_GET(self):
            body = files.get(self.path.lstrip('/'))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05, ), daemon=True)
    thread.start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    for var in ('no_proxy', 'NO_PROXY'):
        monkeypatch.setenv(var, '127.0.0.1,localhost')
    base = f'http://127.0.0.1:{server.server_address[1]}/'
    try:
        yield files, base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert torch.hub.get_dir().startswith(str(tmp_path))


# --------------------------------------------------------------------------
# Deep comparison of loaded checkpoints
# --------------------------------------------------------------------------


def assert_same(a, b, where='checkpoint'):
    assert type(a) is type(b), f'{where}: {type(a)} != {type(b)}'
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.flags.c_contiguous == b.flags.c_contiguous, where
        assert a.flags.f_contiguous == b.flags.f_contiguous, where
        assert a.flags.writeable == b.flags.writeable, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in 'fc'), where
        assert pickle.dumps(a) == pickle.dumps(b), where
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), where
    elif isinstance(a, HistoryBuffer):
        assert a.max_length == b.max_length, where
        for x, y in zip(a.data, b.data):
            assert_same(x, y, f'{where}.data')
        if len(a.data[0]):
            for stat in ('mean', 'min', 'max', 'current'):
                assert a.statistics(stat) == b.statistics(stat), where
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f'{where}[{key!r}]')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{where}[{i}]')
    else:
        assert a == b, where


def assert_clear_refusal(err, path, refused):
    message = str(err)
    assert f'Refused to load checkpoint {path}' in message
    assert refused in message
    assert 'sources you trust' in message
    shown = ''.join(traceback.format_exception(err))
    for advice in ('weights_only', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD',
                   'add_safe_globals'):
        assert advice not in shown


# --------------------------------------------------------------------------
# Arbitrary code: local, http://, URL in last_checkpoint
# --------------------------------------------------------------------------


def test_os_system_pickle_refused_locally(tmp_path):
    marker = tmp_path / 'pwned'
    path = save({'state_dict': {}, 'meta': Evil(marker)}, tmp_path / 'e.pth')
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(path)
    assert_clear_refusal(info.value, path, 'posix.system')
    assert not marker.exists()


def test_os_system_pickle_refused_via_http(tmp_path, http_files):
    files, base = http_files
    marker = tmp_path / 'pwned'
    files['evil.pth'] = open(
        save({'meta': Evil(marker)}, tmp_path / 'src.pth'), 'rb').read()
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(base + 'evil.pth')
    cached = osp.join(torch.hub.get_dir(), 'checkpoints', 'evil.pth')
    assert osp.isfile(cached)  # downloaded into the (tmp) torch.hub cache
    assert_clear_refusal(info.value, cached, 'posix.system')
    assert not marker.exists()


def test_unreachable_url_says_where_to_put_the_file(http_files):
    """An inherited pretrained URL that cannot be reached (offline, 404)
    names the URL, the cache path to put the file at, and how to train
    from scratch instead of a bare URLError."""
    from projects.nsrm.utils.safe_checkpoint import CheckpointDownloadError
    _, base = http_files
    with pytest.raises(CheckpointDownloadError) as info:
        CheckpointLoader.load_checkpoint(base + 'missing_w18.pth')
    cached = osp.join(torch.hub.get_dir(), 'checkpoints', 'missing_w18.pth')
    message = str(info.value)
    assert base + 'missing_w18.pth' in message and '404' in message
    assert f'put the file at {cached}' in message
    assert 'model.backbone.init_cfg=None' in message
    assert not osp.exists(cached)


def test_benign_checkpoint_over_http_loads(hub_checkpoint, http_files):
    files, base = http_files
    files['good.pth'] = open(hub_checkpoint, 'rb').read()
    assert_same(
        CheckpointLoader.load_checkpoint(base + 'good.pth'),
        trusted_load(hub_checkpoint))


@pytest.mark.slow
def test_url_in_last_checkpoint_refused_on_auto_resume(tmp_path, http_files):
    files, base = http_files
    marker = tmp_path / 'pwned'
    files['evil.pth'] = open(
        save({'meta': Evil(marker)}, tmp_path / 'src.pth'), 'rb').read()
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text(base + 'evil.pth')
    runner = toy_runner(work_dir, resume=True)
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        runner.load_or_resume()
    assert not marker.exists()


def test_every_registered_scheme_is_served_safely():
    schemes = CheckpointLoader._schemes
    for prefix in ('', 'http://', 'https://', 'pavi://', 'modelzoo://',
                   'torchvision://', 'open-mmlab://', 'openmmlab://',
                   'mmcls://', r'(\S+\:)?s3://', r'(\S+\:)?petrel://'):
        assert prefix in schemes
    for prefix, loader in schemes.items():
        assert getattr(loader, '_nsrm_safe_loader', False), prefix
        assert loader.__module__ == safe_checkpoint.__name__, prefix


@pytest.mark.parametrize('scheme', ['torchvision://', 'modelzoo://',
                                    'open-mmlab://', 'openmmlab://',
                                    'mmcls://'])
def test_named_schemes_resolve_like_mmengine_then_load_safely(
        scheme, tmp_path, http_files, monkeypatch):
    files, base = http_files
    marker = tmp_path / 'pwned'
    files['evil.pth'] = open(
        save({'meta': Evil(marker)}, tmp_path / 'src.pth'), 'rb').read()
    table = {'evilnet': base + 'evil.pth'}
    for helper in ('get_torchvision_models', 'get_external_models',
                   'get_mmcls_models'):
        monkeypatch.setattr(mmengine_checkpoint, helper, lambda: table)
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint(scheme + 'evilnet')
    assert not marker.exists()


def test_real_mmengine_tables_resolve_the_same_urls(monkeypatch):
    asked = []
    monkeypatch.setattr(safe_checkpoint, 'load_from_http',
                        lambda url, map_location=None: asked.append(url) or {})
    CheckpointLoader.load_checkpoint('torchvision://resnet18')
    CheckpointLoader.load_checkpoint('open-mmlab://resnet50_v1c')
    CheckpointLoader.load_checkpoint('mmcls://resnet50')
    assert asked == [
        mmengine_checkpoint.get_torchvision_models()['resnet18'],
        mmengine_checkpoint.get_external_models()['resnet50_v1c'],
        mmengine_checkpoint.get_mmcls_models()['resnet50'],
    ]


def test_open_mmlab_relative_path_loads_from_mmengine_home_safely(
        tmp_path, monkeypatch):
    marker = tmp_path / 'pwned'
    save({'meta': Evil(marker)}, tmp_path / 'evil.pth')
    monkeypatch.setattr(mmengine_checkpoint, 'get_external_models',
                        lambda: {'localnet': 'evil.pth'})
    monkeypatch.setattr(mmengine_checkpoint, '_get_mmengine_home',
                        lambda: str(tmp_path))
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint('open-mmlab://localnet')
    assert not marker.exists()


def test_ceph_and_pavi_bytes_go_through_the_safe_loader(tmp_path,
                                                        monkeypatch):
    marker = tmp_path / 'pwned'
    evil = save({'meta': Evil(marker)}, tmp_path / 'evil.pth')
    data = open(evil, 'rb').read()

    class Backend:

        def get(self, filepath):
            return data

    monkeypatch.setattr(safe_checkpoint, 'get_file_backend',
                        lambda *args, **kwargs: Backend())
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint('s3://bucket/evil.pth')

    class Model:
        name = '../evil.pth'

        def download(self, path):
            with open(path, 'wb') as f:
                f.write(data)

    modelcloud = types.SimpleNamespace(get=lambda path: Model())
    monkeypatch.setitem(sys.modules, 'pavi',
                        types.SimpleNamespace(modelcloud=modelcloud))
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint('pavi://models/evil.pth')
    assert not marker.exists()


def test_unknown_scheme_registered_before_install_is_refused(monkeypatch):
    monkeypatch.setattr(CheckpointLoader, '_schemes',
                        dict(CheckpointLoader._schemes))
    CheckpointLoader.register_scheme(
        'dummy://', loader=lambda filename, map_location=None: {})
    safe_checkpoint.install()
    safe_checkpoint.install()  # idempotent
    with pytest.raises(UnsafeCheckpointError, match="scheme 'dummy://'"):
        CheckpointLoader.load_checkpoint('dummy://anything')


# --------------------------------------------------------------------------
# meta['config'] text is never executed
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_meta_config_code_never_runs_on_resume(trained, tmp_path):
    from mmengine.config import Config
    marker, probe = tmp_path / 'pwned', tmp_path / 'probe'
    payload = f"open({str(marker)!r}, 'w').write('pwned')\ngpu_ids = [0]\n"
    # the payload is live: MMEngine's resume runs meta['config'] like this
    Config.fromstring(payload.replace(str(marker), str(probe)), '.py')
    assert probe.exists()

    checkpoint = trusted_load(trained)
    checkpoint['meta']['config'] = payload
    crafted = save(checkpoint, tmp_path / 'crafted.pth')
    runner = toy_runner(tmp_path / 'work', max_epochs=2, resume=True,
                        load_from=crafted)
    runner.train()
    assert not marker.exists()
    assert runner.epoch == 2
    resumed = load_from_local(str(tmp_path / 'work' / 'epoch_2.pth'))
    assert 'config' not in resumed['meta']


def test_config_texts_an_inferencer_would_run_are_dropped(tmp_path):
    """MMEngine's BaseInferencer, given weights without a config, runs
    message_hub.runtime_info['cfg'] or meta['cfg'] as Python."""
    from mmengine.runner import CheckpointLoader
    code = "import os; os.system('touch pwned')"
    path = save({'meta': dict(cfg=code, config=code, epoch=3),
                 'message_hub': dict(runtime_info=dict(cfg=code, iter=7)),
                 'state_dict': {}}, tmp_path / 'cfg.pth')
    loaded = CheckpointLoader.load_checkpoint(path)
    assert loaded['meta'] == dict(epoch=3)
    assert loaded['message_hub']['runtime_info'] == dict(iter=7)


# --------------------------------------------------------------------------
# Inside the allow-list: HistoryBuffer and numpy
# --------------------------------------------------------------------------


def test_history_buffer_state_cannot_remap_class_statistics(tmp_path):
    HistoryBuffer()  # registers the default statistics, as MMEngine does
    table_before = dict(HistoryBuffer._statistics_methods)
    state = dict(
        _log_history=np.array([1.0, 5.0, 3.0]),
        _count_history=np.array([1, 1, 1]),
        max_length=10,
        statistics_methods=dict(mean=HistoryBuffer.max,
                                current=HistoryBuffer.update))
    path = save({'message_hub': {'log_scalars': {
        'train/loss': CraftedHistoryBuffer(state)}}}, tmp_path / 'hb.pth')
    loaded = load_from_local(path)
    assert HistoryBuffer._statistics_methods == table_before
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert type(buffer) is HistoryBuffer
    assert buffer.mean() == buffer.statistics('mean') == 3.0
    assert buffer.statistics('current') == 3.0
    assert HistoryBuffer([1.0], [1]).statistics('mean') == 1.0


@pytest.mark.parametrize('state, refused', [
    (dict(_log_history=np.array([1.0]), _count_history=np.array([1]),
          max_length=10, _statistics_methods={}), 'state keys'),
    (dict(_log_history=np.array([1.0]), _count_history=np.array([1, 2]),
          max_length=10), 'differ in length'),
    (dict(_log_history=np.array([1.0]), _count_history=np.array([1]),
          max_length=0), 'max_length'),
    (dict(_log_history=[1.0], _count_history=np.array([1]),
          max_length=10), 'log history'),
])
def test_malformed_history_buffer_refused(tmp_path, state, refused):
    path = save({'hb': CraftedHistoryBuffer(state)}, tmp_path / 'hb.pth')
    with pytest.raises(UnsafeCheckpointError, match=refused):
        load_from_local(path)


@pytest.mark.slow
def test_object_dtype_array_refused_without_crashing(tmp_path):
    path = save({'meta': {'a': object_array_attack()}}, tmp_path / 'obj.pth')
    show = f'import torch; a = torch.load({path!r}, weights_only=False)\n' \
        "print(repr(a), flush=True)"
    # control: stock unpickling of this file crashes the interpreter
    assert run_python(show).returncode < 0
    proc = run_python(f"""
        import projects.nsrm
        from mmengine.runner import CheckpointLoader
        from projects.nsrm.utils.safe_checkpoint import UnsafeCheckpointError
        try:
            a = CheckpointLoader.load_checkpoint({path!r})
            print('LOADED', repr(a), a['meta']['a'].sum())
        except UnsafeCheckpointError as err:
            print('REFUSED', err)
        """)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'REFUSED' in proc.stdout and "'O8'" in proc.stdout, proc.stdout


@pytest.mark.parametrize('attack, refused', [
    (lambda: CraftedDtype('f8', 63), 'crafted state'),
    (lambda: CraftedDtype('V8', 0), "'V8'"),
    (lambda: np.dtype([('a', 'f4'), ('b', 'i4')]), "'V8'"),
    (lambda: np.dtype(('f4', (2, ))), 'numpy dtype'),
    (lambda: np.dtype('M8[s]'), "'M8'"),
    (lambda: np.array([1, 'x'], dtype=object), "'O8'"),
    (lambda: CraftedArray(np.dtype('f8'), b'\0' * 7), '7 bytes'),
    (lambda: CraftedArray(np.dtype('f8'), b'\0' * 16), '16 bytes'),
    (lambda: CraftedArray(np.dtype('f8'), [1.0]), 'list'),
    (lambda: CraftedArray(np.dtype('f8'), b'', shape=(0, -1)), 'shape'),
    (lambda: CraftedArray(CraftedDtype('f8', 1), b'\0' * 8),
     'crafted state'),
])
def test_unsafe_numpy_objects_refused(tmp_path, attack, refused):
    path = save({'meta': {'x': attack()}}, tmp_path / 'np.pth')
    with pytest.raises(UnsafeCheckpointError, match=refused) as info:
        load_from_local(path)
    assert_clear_refusal(info.value, path, 'numpy')


def test_numpy_values_round_trip_exactly(tmp_path):
    values = dict(TOY_META, matrix=np.random.default_rng(0).random((3, 4)))
    path = save({'meta': values, 'shared': [values['sigmas']] * 2},
                tmp_path / 'np.pth')
    loaded = load_from_local(path)
    assert_same(loaded, trusted_load(path))
    assert loaded['shared'][0] is loaded['shared'][1]
    assert loaded['shared'][0] is loaded['meta']['sigmas']


def test_mmengine_objects_round_trip(hub_checkpoint):
    loaded = load_from_local(hub_checkpoint)
    assert_same(loaded, trusted_load(hub_checkpoint))
    buffers = loaded['message_hub']['log_scalars']
    assert set(buffers) == {'train/loss', 'train/lr'}
    assert buffers['train/loss'].mean() == pytest.approx(0.5)
    assert buffers['train/lr'].mean() == pytest.approx(0.05)


@pytest.mark.slow
def test_real_mmengine_checkpoint_round_trip(trained):
    loaded = CheckpointLoader.load_checkpoint(trained, map_location='cpu')
    reference = trusted_load(trained)
    # the one difference: the config texts MMEngine would execute
    assert isinstance(reference['meta'].pop('cfg'), str)
    assert isinstance(
        reference['message_hub']['runtime_info'].pop('cfg'), str)
    assert_same(loaded, reference)
    hub = loaded['message_hub']['log_scalars']
    assert hub and all(type(b) is HistoryBuffer for b in hub.values())
    # numpy's own unpickling turns '>f8' into native float64: compare with it
    assert_same(loaded['meta']['dataset_meta'],
                pickle.loads(pickle.dumps(TOY_META)))


# --------------------------------------------------------------------------
# The allow-list is not process-wide
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_allow_list_is_scoped_to_the_project_load_call(trained):
    proc = run_python(f"""
        import pickle, torch
        import projects.nsrm
        from mmengine.runner import CheckpointLoader
        # torch's own entries only (torch adds DTensor classes on import)
        torch_own = set(map(repr, torch.serialization.get_safe_globals()))
        for word in ('numpy', 'mmengine', 'nsrm', 'getattr', 'bytes'):
            assert not any(word in entry for entry in torch_own), word
        def unchanged():
            now = set(map(repr, torch.serialization.get_safe_globals()))
            return now == torch_own
        def plain():
            try:
                torch.load({trained!r}, weights_only=True)
                return 'LOADED'
            except pickle.UnpicklingError:
                return 'REFUSED'
        print('plain-before', plain())
        ckpt = CheckpointLoader.load_checkpoint({trained!r})
        print('project', sorted(ckpt))
        print('plain-after', plain())
        print('globals-unchanged', unchanged())
        """)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'plain-before REFUSED' in proc.stdout, proc.stdout
    assert "project ['message_hub', 'meta'" in proc.stdout, proc.stdout
    assert 'plain-after REFUSED' in proc.stdout, proc.stdout
    assert 'globals-unchanged True' in proc.stdout, proc.stdout


def test_process_wide_globals_are_restored_and_cannot_shadow(tmp_path):
    before = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals([np.dtype, type(np.dtype('O'))])
    try:
        path = save({'x': object_array_attack()}, tmp_path / 'obj.pth')
        with pytest.raises(UnsafeCheckpointError, match="'O8'"):
            load_from_local(path)
        after = torch.serialization.get_safe_globals()
        assert set(map(repr, after)) == set(
            map(repr, before + [np.dtype, type(np.dtype('O'))]))
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


# --------------------------------------------------------------------------
# Empty, truncated and foreign files
# --------------------------------------------------------------------------


@pytest.mark.parametrize('zipped', [True, False])
@pytest.mark.parametrize('keep', [0, 1, 100, 0.5, -1])
def test_truncated_or_empty_file_is_a_clear_error(hub_checkpoint, tmp_path,
                                                  zipped, keep):
    full = save(trusted_load(hub_checkpoint), tmp_path / 'full.pth',
                _use_new_zipfile_serialization=zipped)
    data = open(full, 'rb').read()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    path = tmp_path / 'cut.pth'
    path.write_bytes(data[:cut])
    with pytest.raises(CorruptCheckpointError) as info:
        CheckpointLoader.load_checkpoint(str(path))
    message = str(info.value)
    assert str(path) in message
    assert 'truncated or not a PyTorch checkpoint' in message
    if cut == 0:
        assert 'empty' in message
    assert 'weights_only' not in ''.join(traceback.format_exception(
        info.value))


@pytest.mark.slow
@pytest.mark.parametrize('zipped', [True, False])
def test_every_cut_of_a_checkpoint_is_a_clear_error(hub_checkpoint, tmp_path,
                                                    zipped):
    """Cuts inside every part of the file (legacy files can end inside a
    pickled global name: that is reported as truncated, not as unsafe)."""
    full = save(trusted_load(hub_checkpoint), tmp_path / 'full.pth',
                _use_new_zipfile_serialization=zipped)
    data = open(full, 'rb').read()
    path = tmp_path / 'cut.pth'
    for cut in range(0, len(data), 7):
        path.write_bytes(data[:cut])
        with pytest.raises(CorruptCheckpointError, match='truncated'):
            load_from_local(str(path))


def test_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_text('hello, this is not a checkpoint\n')
    with pytest.raises(CorruptCheckpointError,
                       match='truncated or not a PyTorch checkpoint'):
        load_from_local(str(path))

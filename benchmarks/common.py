"""What the benchmark scripts share: the device they report, timing, peak
memory, tables and the JSON they write.

Every figure a script prints sits under a line naming the device it was
measured on (CPU model or GPU name, and the number of threads), and every
JSON row carries the same ``device`` record, so numbers from different
machines are never mixed up. Results go to ``benchmarks/results/<name>.json``
(untracked: ``benchmarks/results/.gitignore``).
"""
import argparse
import json
import os
import os.path as osp
import platform
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

#: The repository root (this file is benchmarks/common.py).
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: Where the scripts write their JSON.
RESULTS_DIR = osp.join(REPO, 'benchmarks', 'results')


def add_common_args(parser: argparse.ArgumentParser,
                    threads: bool = True) -> argparse.ArgumentParser:
    """Adds ``--device``, ``--quick``, ``--out`` (and ``--threads``)."""
    parser.add_argument(
        '--device', default='cpu',
        help='torch device to measure on, e.g. cpu or cuda:0 (default cpu)')
    parser.add_argument(
        '--quick', action='store_true',
        help='tiny sizes and one repeat: a smoke run of a few seconds, '
        'not a measurement')
    parser.add_argument(
        '--out', default=None,
        help='JSON file to write (default benchmarks/results/<script>.json)')
    if threads:
        parser.add_argument(
            '--threads', type=int, default=None,
            help='torch CPU threads (default: torch\'s own choice)')
    return parser


def start_run(args: argparse.Namespace) -> Tuple[torch.device, int]:
    """What every script does with its common options first: checks
    ``--device``, sets ``--threads`` (when the script has it) and resolves
    the repeat count (1 with ``--quick``).

    Returns:
        tuple: The device and the number of timed calls per figure.

    Raises:
        ValueError: a bad device, or a repeat count below 1.
    """
    device = check_device(args.device)
    if getattr(args, 'threads', None) is not None:
        set_threads(args.threads)
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        raise ValueError(f'--repeat must be >= 1, got {repeat}')
    return device, repeat


def check_device(device: str) -> torch.device:
    """``device`` as a ``torch.device``, or a ValueError naming ``--device``
    when it is malformed or not available here."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f'--device {device!r} is not a torch device '
                         f'(e.g. cpu, cuda:0): {e}') from None
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError(f'--device {device}: CUDA is not available on '
                             'this machine; use --device cpu')
        if (dev.index or 0) >= torch.cuda.device_count():
            raise ValueError(
                f'--device {device}: only {torch.cuda.device_count()} CUDA '
                'device(s) visible')
    elif dev.type != 'cpu':
        raise ValueError(f'--device {device}: only cpu and cuda devices '
                         'are supported')
    return dev


def set_threads(threads: Optional[int]) -> None:
    """``torch.set_num_threads(threads)`` when given (> 0 checked)."""
    if threads is None:
        return
    if threads < 1:
        raise ValueError(f'--threads must be >= 1, got {threads}')
    torch.set_num_threads(threads)


def cpu_name() -> str:
    """The CPU model, as ``/proc/cpuinfo`` (or torch's cpuinfo) names it."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    name = torch.cpu.get_capabilities().get('cpu_name')
    return name or platform.processor() or platform.machine()


def device_info(device: torch.device) -> Dict[str, Any]:
    """What a figure was measured on.

    Returns:
        dict: ``device`` (e.g. ``'cpu'``, ``'cuda:0'``), ``name`` (the CPU
        model or the GPU name), ``threads`` (torch's CPU threads), ``torch``
        (its version) and, on a GPU, ``gpu_memory_gib``.
    """
    info = dict(device=str(device), threads=torch.get_num_threads(),
                torch=torch.__version__)
    if device.type == 'cuda':
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name,
                    gpu_memory_gib=round(props.total_memory / 2**30, 1))
    else:
        info.update(name=cpu_name())
    return info


def device_line(info: Dict[str, Any]) -> str:
    """``info`` as one line, e.g. ``device: cpu (AMD EPYC), 1 thread``."""
    threads = info['threads']
    line = (f"device: {info['device']} ({info['name']}), {threads} CPU "
            f"thread{'s' if threads != 1 else ''}, torch {info['torch']}")
    return line


def synchronize(device: torch.device) -> None:
    """Waits for the device's queued work (a no-op on the CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any],
              repeat: int,
              warmup: int = 1,
              device: torch.device = torch.device('cpu'),
              setup: Optional[Callable[[], Any]] = None) -> Dict[str, float]:
    """Times ``fn`` ``repeat`` times after ``warmup`` untimed calls.

    Args:
        fn (callable): The work; called as ``fn()`` or, with ``setup``, as
            ``fn(setup())`` (``setup`` is not timed).
        repeat (int): Timed calls (>= 1).
        warmup (int): Untimed calls first. Defaults to 1.
        device (torch.device): Synchronised around every call.
        setup (callable, optional): Makes a fresh argument for each call.

    Returns:
        dict: ``median_ms``, ``min_ms`` and ``runs``.
    """
    times = []
    for i in range(warmup + repeat):
        arg = setup() if setup is not None else None
        synchronize(device)
        start = time.perf_counter()
        fn(arg) if setup is not None else fn()
        synchronize(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return dict(median_ms=1e3 * statistics.median(times),
                min_ms=1e3 * min(times), runs=repeat)


def peak_memory_bytes(fn: Callable[[], Any], device: torch.device) -> int:
    """The most memory ``fn()`` holds at once above what was allocated
    before it (activations, gradients, workspaces; not the weights).

    CUDA: ``torch.cuda.max_memory_allocated`` after a reset. CPU: the
    allocator's alloc / free records of ``torch.profiler`` (with
    ``profile_memory=True``) summed in time order (tracemalloc does not see
    torch's allocations and ``ru_maxrss`` only ever grows).

    Args:
        fn (callable): The work, e.g. one forward + backward.
        device (torch.device): Where ``fn`` allocates.

    Returns:
        int: Peak bytes above the level at the call.
    """
    if device.type == 'cuda':
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        synchronize(device)
        return int(torch.cuda.max_memory_allocated(device) - base)
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        fn()
    records = sorted(
        (e for e in p.profiler.kineto_results.events()
         if e.name() == '[memory]' and e.device_type().name in (
             'CPU', 'MKLDNN', 'IDEEP')),
        key=lambda e: e.start_ns())
    level = peak = 0
    for e in records:
        level += e.nbytes()
        peak = max(peak, level)
    return int(peak)


def matmul_peak_gmacs(device: torch.device,
                      dtype: torch.dtype,
                      n: int = 2048,
                      repeat: int = 10) -> Dict[str, float]:
    """Multiply-adds per second of an ``n x n`` by ``n x n`` matmul: the
    practical peak a network's throughput is compared with.

    Returns:
        dict: ``n``, ``dtype``, ``median_ms`` and ``gmacs`` (n^3 / time /
        1e9).
    """
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    t = time_call(lambda: a @ b, repeat=repeat, warmup=1, device=device)
    return dict(n=n, dtype=str(dtype).replace('torch.', ''),
                median_ms=t['median_ms'],
                gmacs=n**3 / (t['median_ms'] / 1e3) / 1e9)


def print_table(title: str, info: Dict[str, Any],
                columns: Sequence[Tuple[str, str, str]],
                rows: Sequence[Dict[str, Any]]) -> None:
    """Prints ``rows`` under ``title`` and the device line.

    Args:
        title (str): What the table measures.
        info (dict): :func:`device_info` of the measurement.
        columns (Sequence[tuple]): ``(key, header, format)`` per column,
            e.g. ``('median_ms', 'ms', '.3f')``; a missing or None value
            prints ``-``, a string prints as is.
        rows (Sequence[dict]): The rows.
    """
    cells = [[h for _, h, _ in columns]]
    for row in rows:
        line = []
        for key, _, fmt in columns:
            value = row.get(key)
            if value is None:
                line.append('-')
            elif isinstance(value, str):
                line.append(value)
            else:
                line.append(format(value, fmt))
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    print(f'\n{title}\n{device_line(info)}')
    for i, line in enumerate(cells):
        print('  '.join(c.rjust(w) if i and j else c.ljust(w)
                        for j, (c, w) in enumerate(zip(line, widths))))
        if i == 0:
            print('  '.join('-' * w for w in widths))


def write_results(name: str, payload: Dict[str, Any],
                  out: Optional[str] = None) -> str:
    """Writes ``payload`` as JSON to ``out`` (default
    ``benchmarks/results/<name>.json``) and returns the path."""
    path = out or osp.join(RESULTS_DIR, f'{name}.json')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(payload, f, indent=1)
    print(f'\nwrote {path}')
    return path


def resized_config(node: Any, input_size: Tuple[int, int],
                   heatmap_size: Tuple[int, int]) -> Any:
    """A copy of a config (dict / list tree) with every ``input_size`` and
    ``heatmap_size`` replaced, for a quick run at a tiny resolution (the
    pipeline's ``TopdownAffine``, the targets, the head's decoder)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == 'input_size':
                out[key] = tuple(input_size)
            elif key == 'heatmap_size':
                out[key] = tuple(heatmap_size)
            else:
                out[key] = resized_config(value, input_size, heatmap_size)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(
            resized_config(v, input_size, heatmap_size) for v in node)
    return node


#: A narrow NSRMHead for --quick runs (smoke tests of the scripts, not
#: measurements): no adapter convs, 32 feature channels, one 16-wide conv
#: per later stage.
QUICK_HEAD = dict(adapter_channels=(), feat_channels=32,
                  first_stage_channels=32, stage_channels=16,
                  num_stage_convs=1)


def load_model_config(path: str,
                      input_size: Optional[Tuple[int, int]] = None,
                      heatmap_size: Optional[Tuple[int, int]] = None,
                      quick: bool = False):
    """A config file with its backbone's pretrained weights dropped
    (``model.backbone.init_cfg=None``: nothing to download), optionally
    resized (:func:`resized_config`) and, for ``quick``, with the narrow
    head :data:`QUICK_HEAD`.

    Returns:
        mmengine.Config: The config.
    """
    from mmengine.config import Config
    full = osp.join(REPO, path)
    if not osp.isfile(full):
        raise FileNotFoundError(f'config {path} not found under {REPO}')
    cfg = Config.fromfile(full)
    cfg.model.backbone.init_cfg = None
    if quick:
        cfg.model.head.update(QUICK_HEAD)
    if input_size is not None:
        cfg = Config(
            resized_config(cfg.to_dict(), input_size, heatmap_size),
            filename=full)
    return cfg


def build_model(cfg, device: torch.device) -> torch.nn.Module:
    """``MODELS.build(cfg.model)`` in MMPose's scope, on ``device``."""
    from mmengine.registry import DefaultScope

    from mmpose.registry import MODELS
    from mmpose.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(cfg.model)
    return model.to(device)


def fake_targets(model: torch.nn.Module, inputs: torch.Tensor
                 ) -> Dict[str, Optional[torch.Tensor]]:
    """Random targets shaped like an NSRMHead's outputs for ``inputs``:
    ``heatmaps`` (B, K, H, W) and ``limb_masks`` (B, C, H, W) in [0, 1]
    (None without structure stages) and ``keypoint_weights`` (B, K)."""
    with torch.no_grad():
        structure, pose = model.head.forward(model.extract_feat(inputs))
    gen = torch.Generator(device='cpu').manual_seed(0)
    dev = inputs.device
    heatmaps = torch.rand(pose[-1].shape, generator=gen).to(dev)
    masks = (torch.rand(structure[-1].shape, generator=gen).to(dev)
             if structure else None)
    return dict(heatmaps=heatmaps, limb_masks=masks,
                keypoint_weights=torch.ones(pose[-1].shape[:2], device=dev))


def loss_step(model: torch.nn.Module, inputs: torch.Tensor,
              targets: Dict[str, Optional[torch.Tensor]]) -> torch.Tensor:
    """Forward + NSRM loss + backward of a model with an ``NSRMHead``;
    returns the total loss (detached)."""
    structure, pose = model.head.forward(model.extract_feat(inputs))
    losses = model.head.loss_module(pose, structure, targets['heatmaps'],
                                    targets['limb_masks'],
                                    targets['keypoint_weights'])
    total = sum(losses.values())
    total.backward()
    return total.detach()


def rows_with(info: Dict[str, Any],
              rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``rows`` with the device record added to each (for the JSON)."""
    return [dict(row, device=info) for row in rows]


def write_hand_dataset(root: str, num_samples: int = 1,
                       image_size: Tuple[int, int] = (640, 480)) -> str:
    """Writes a Panoptic-style dataset of one generated photo.

    ``root/imgs/hand.jpg``: a ``(W, H)`` JPEG (quality 95) with a smooth
    textured background and a hand drawn along
    :data:`projects.nsrm.testing.HAND` scaled to about half the image
    height; ``root/annotations/panoptic_hand143_train.json``:
    ``num_samples`` annotations of that hand (all 21 keypoints labelled), in
    the format ``tools/dataset_converters/panoptic_hand143_to_coco.py``
    writes (its own ``convert_entry`` / ``build_coco``).

    Returns:
        str: ``root``.
    """
    import cv2
    import numpy as np

    from projects.nsrm.datasets.converters.panoptic_hand143 import (
        build_coco, convert_entry)
    from projects.nsrm.testing import HAND
    width, height = image_size
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([60 + 80 * xs / width, 90 + 60 * ys / height,
                    140 - 50 * xs / width], axis=-1)
    texture = cv2.resize(
        rng.normal(0, 25, (height // 16, width // 16, 3)).astype(np.float32),
        (width, height), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img + texture, 0, 255).astype(np.uint8)
    scale = 0.5 * height / 31.0  # HAND spans ~31 grid units in height
    xy = (HAND - HAND.mean(axis=0)) * scale + [width / 2, height / 2]
    for finger in range(5):
        chain = [0] + list(range(4 * finger + 1, 4 * finger + 5))
        pts = np.round(xy[chain]).astype(np.int32)
        cv2.polylines(img, [pts], False, (150, 180, 225), 14)
    for x, y in np.round(xy).astype(int):
        cv2.circle(img, (int(x), int(y)), 5, (120, 150, 200), -1)
    os.makedirs(osp.join(root, 'imgs'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    cv2.imwrite(osp.join(root, 'imgs', 'hand.jpg'), img,
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    entry = dict(img_paths='imgs/hand.jpg',
                 joint_self=np.concatenate([xy, np.ones((21, 1))],
                                           axis=1).tolist())
    record = convert_entry(entry, lambda _: (width, height))
    coco = build_coco([(i, record) for i in range(num_samples)], 'train', 0)
    with open(osp.join(root, 'annotations',
                       'panoptic_hand143_train.json'), 'w') as f:
        json.dump(coco, f)
    return root

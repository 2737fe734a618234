"""Write a synthetic hand data set to disk, optionally with worker processes.

Layout written by :func:`generate_synthetic_hands`::

    <out_dir>/images/train/000000.jpg ...
    <out_dir>/images/val/000000.jpg ...
    <out_dir>/annotations/synthetic_hands_train.json
    <out_dir>/annotations/synthetic_hands_val.json
    <out_dir>/meta.json          (written last; marks a complete data set)

``file_name`` in the json is relative to ``<out_dir>/images/``, so MMPose's
``OneHand10KDataset(data_root=out_dir, data_prefix=dict(img='images/'))``
reads the data set directly.

Image ``i`` of split ``s`` (train = 0, val = 1) is drawn from its own
``np.random.default_rng([seed, s, i])``, so the bytes written do not depend
on how the images are shared among workers.
"""
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from .coco import categories, make_annotation, write_json
from .rendering import render_hand
from .validation import check_settings

GENERATOR_NAME = 'nsrm_synthetic_hands'
GENERATOR_VERSION = '1.0'
SPLITS = ('train', 'val')
JPEG_QUALITY = 95

# Workers are fresh interpreters (subprocess: fork + exec, so no forked copy
# of a parent whose OpenCV / OpenMP / CUDA threads may hold locks, and no
# re-import of the caller's __main__ as with multiprocessing's spawn) that
# import this module by its package name. _IMPORT_ROOT is the folder that
# holds the top-level package, put first on the workers' PYTHONPATH.
_IMPORT_ROOT = str(Path(__file__).resolve().parents[__name__.count('.')])
_WORKER_BOOT = ('import sys\n'
                'from importlib import import_module\n'
                'import_module(sys.argv[1])._worker_main(sys.argv[2])\n')
_WORKER_THREAD_ENV = dict(OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1',
                          MKL_NUM_THREADS='1')


def _image_rng(seed, split_id, index):
    """Independent generator of image ``index`` of split ``split_id``."""
    return np.random.default_rng([seed, split_id, index])


def _render_task(out_dir, split, split_id, index, seed, img_size):
    """Render image ``index``, save its JPEG; return (image, annotation)."""
    sample = render_hand(_image_rng(seed, split_id, index), img_size)
    file_name = f'{split}/{index:06d}.jpg'
    path = os.path.join(out_dir, 'images', file_name)
    if not cv2.imwrite(path, sample['image'],
                       [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f'could not write {path}')
    image = {'id': index + 1, 'file_name': file_name, 'width': img_size,
             'height': img_size}
    return image, make_annotation(sample, index + 1, index + 1)


def _render_slice(job):
    """Render ``range(start, stop, step)`` of a split; list of results.

    Args:
        job (dict): ``out_dir``, ``split``, ``split_id``, ``seed``,
            ``img_size``, ``start``, ``stop`` and ``step``.
    """
    return [_render_task(job['out_dir'], job['split'], job['split_id'], i,
                         job['seed'], job['img_size'])
            for i in range(job['start'], job['stop'], job['step'])]


def _worker_main(job_json):
    """Entry point of a worker process: render a slice, pickle the result.

    Args:
        job_json (str): A :func:`_render_slice` job as json, plus
            ``result``: the file the pickled result list is written to.
    """
    cv2.setNumThreads(1)
    job = json.loads(job_json)
    with open(job['result'], 'wb') as f:
        pickle.dump(_render_slice(job), f, protocol=pickle.HIGHEST_PROTOCOL)


def _worker_env():
    """Environment of a worker: single-threaded BLAS/OpenMP, package
    importable."""
    env = dict(os.environ, **_WORKER_THREAD_ENV)
    path = env.get('PYTHONPATH')
    env['PYTHONPATH'] = (_IMPORT_ROOT if not path else
                         os.pathsep.join([_IMPORT_ROOT, path]))
    return env


def _tail(path, lines=20):
    """Last ``lines`` lines of a text file ('' if unreadable)."""
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def _run_workers(jobs):
    """Run each job in its own worker process; results in job order.

    Each job dict needs ``result`` (the pickle file the worker writes); its
    stderr goes to ``result + '.log'``.

    Raises:
        RuntimeError: If any worker exits non-zero; names the failed
            workers, their exit codes and the end of their messages.
    """
    env = _worker_env()
    procs, logs = [], []
    try:
        for job in jobs:
            log = open(job['result'] + '.log', 'wb')
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, '-c', _WORKER_BOOT, __name__,
                 json.dumps(job)], env=env, stdout=subprocess.DEVNULL,
                stderr=log))
        codes = [p.wait() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
    failed = [w for w, code in enumerate(codes) if code]
    if failed:
        details = '\n'.join(
            f'--- worker {w} (exit code {codes[w]}):\n'
            f'{_tail(jobs[w]["result"] + ".log")}' for w in failed)
        raise RuntimeError(
            f'{len(failed)} of {len(jobs)} synthetic hand workers failed '
            f'(exit codes {codes}); run with workers=1 to debug in-process.'
            f'\n{details}')
    out = []
    for job in jobs:
        with open(job['result'], 'rb') as f:
            out.append(pickle.load(f))
    return out


def _render_split(out_dir, split, split_id, count, seed, img_size, workers):
    """Render all images of a split, ``workers`` processes; ordered list."""
    base = dict(out_dir=out_dir, split=split, split_id=split_id, seed=seed,
                img_size=img_size, stop=count)
    workers = min(workers, count)
    if workers <= 1 or not sys.executable:
        return _render_slice(dict(base, start=0, step=1))
    with tempfile.TemporaryDirectory(prefix='synthetic_hands_') as tmp:
        jobs = [dict(base, start=w, step=workers,
                     result=os.path.join(tmp, f'{w}.pkl'))
                for w in range(workers)]
        parts = _run_workers(jobs)
    results = [None] * count
    for w, part in enumerate(parts):
        results[w::workers] = part
    return results


def _remove_stale_images(img_dir, keep):
    """Delete ``NNNNNN.jpg`` files of an earlier, larger generation."""
    for name in os.listdir(img_dir):
        if name.endswith('.jpg') and name[:-4].isdigit() and name not in keep:
            os.remove(os.path.join(img_dir, name))


def _paths(out_dir):
    """Standard file locations below ``out_dir``."""
    out = Path(out_dir)
    return {
        'out_dir': str(out), 'meta': str(out / 'meta.json'),
        'img_dirs': {s: str(out / 'images' / s) for s in SPLITS},
        'ann_files': {s: str(out / 'annotations' /
                             f'synthetic_hands_{s}.json') for s in SPLITS},
    }


def _settings(num_train, num_val, seed, img_size):
    """The meta.json fields that identify a data set."""
    return {'generator': GENERATOR_NAME, 'version': GENERATOR_VERSION,
            'seed': seed, 'num_train': num_train, 'num_val': num_val,
            'img_size': img_size}


def _generate_split(paths, split, split_id, count, seed, img_size, workers):
    """Render one split and write its annotation json."""
    os.makedirs(paths['img_dirs'][split], exist_ok=True)
    results = _render_split(paths['out_dir'], split, split_id, count, seed,
                            img_size, workers)
    _remove_stale_images(paths['img_dirs'][split],
                         {f'{i:06d}.jpg' for i in range(count)})
    coco = {
        'info': {'description': 'NSRM synthetic hands', 'split': split,
                 'generator': GENERATOR_NAME, 'version': GENERATOR_VERSION,
                 'seed': seed, 'img_size': img_size},
        'licenses': [], 'categories': categories(),
        'images': [r[0] for r in results],
        'annotations': [r[1] for r in results],
    }
    write_json(paths['ann_files'][split], coco)


def generate_synthetic_hands(out_dir, num_train=1000, num_val=200, seed=0,
                             img_size=256, workers=None):
    """Generate (or overwrite) a synthetic hand data set.

    Image ``i`` of split ``s`` (train = 0, val = 1) is drawn from
    ``np.random.default_rng([seed, s, i])``, so the output is byte-identical
    whatever ``workers`` is. ``meta.json`` is removed first and written last.

    Args:
        out_dir (str | Path): Output root.
        num_train (int): Number of training images (>= 0).
        num_val (int): Number of validation images (>= 0).
        seed (int): Non-negative base seed.
        img_size (int): Square image side (>= 64).
        workers (int | None): Worker processes (fresh interpreters that
            import only this light package, so they work from any caller,
            forked or not, without importing torch/mmpose); None =
            ``os.cpu_count()``, 1 = render in this process.

    Returns:
        dict: ``out_dir``, ``meta``, ``img_dirs``/``ann_files`` per split,
        ``num_train``, ``num_val``, ``img_size``, ``seed``, ``seconds`` and
        ``generated`` (True).

    Raises:
        ValueError: If a setting is out of range (nothing is written).
        RuntimeError: If a worker process fails.
    """
    num_train, num_val, seed, img_size, workers = check_settings(
        num_train, num_val, seed, img_size, workers)
    workers = workers or os.cpu_count() or 1
    paths = _paths(out_dir)
    os.makedirs(os.path.dirname(paths['ann_files']['train']), exist_ok=True)
    if os.path.exists(paths['meta']):
        os.remove(paths['meta'])
    start = time.perf_counter()
    for split_id, (split, count) in enumerate(zip(SPLITS,
                                                  (num_train, num_val))):
        _generate_split(paths, split, split_id, count, seed, img_size, workers)
    seconds = time.perf_counter() - start
    meta = dict(_settings(num_train, num_val, seed, img_size),
                ann_files={s: os.path.relpath(p, paths['out_dir'])
                           for s, p in paths['ann_files'].items()},
                seconds=round(seconds, 3), workers=workers)
    write_json(paths['meta'], meta)
    return dict(paths, num_train=num_train, num_val=num_val, seed=seed,
                img_size=img_size, seconds=seconds, generated=True)


def _read_meta(path):
    """Parsed meta.json or None when absent / unreadable."""
    try:
        with open(path, encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def ensure_synthetic_hands(out_dir, **kwargs):
    """Generate the data set unless a complete matching one exists.

    A data set is reused when ``meta.json`` exists, records the same
    generator version, seed, counts and image size, and both annotation
    files exist. Accepts the keyword arguments of
    :func:`generate_synthetic_hands`.

    Returns:
        dict: As :func:`generate_synthetic_hands`; ``generated`` is False
        (and ``seconds`` 0) when an existing data set was reused.

    Raises:
        ValueError: On an unknown keyword or a setting out of range.
    """
    unknown = set(kwargs) - {'num_train', 'num_val', 'seed', 'img_size',
                             'workers'}
    if unknown:
        raise ValueError(f'unknown argument(s): {sorted(unknown)}')
    opts = dict(num_train=1000, num_val=200, seed=0, img_size=256,
                workers=None)
    opts.update(kwargs)
    num_train, num_val, seed, img_size, _ = check_settings(**opts)
    paths = _paths(out_dir)
    meta = _read_meta(paths['meta'])
    wanted = _settings(num_train, num_val, seed, img_size)
    complete = meta is not None and all(
        meta.get(k) == v for k, v in wanted.items()) and all(
            os.path.isfile(p) for p in paths['ann_files'].values())
    if complete:
        print(f'[synthetic_hands] reusing complete data set in {out_dir} '
              f'({num_train} train / {num_val} val, {img_size}px, '
              f'seed {seed})')
        return dict(paths, num_train=num_train, num_val=num_val, seed=seed,
                    img_size=img_size, seconds=0.0, generated=False)
    reason = 'no meta.json' if meta is None else 'settings differ'
    print(f'[synthetic_hands] generating {num_train} train / {num_val} val '
          f'images ({img_size}px, seed {seed}) in {out_dir} ({reason})')
    return generate_synthetic_hands(out_dir, **opts)

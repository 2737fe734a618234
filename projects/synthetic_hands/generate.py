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

Two settings choose the data. Both are recorded in ``meta.json``, and in
each annotation file's ``info`` when they are not the defaults (so that the
default settings write the same bytes as generator 1.0 did before the
settings existed); :func:`ensure_synthetic_hands` regenerates when they
differ:

* ``labelling``: ``'onehand10k'`` (hidden keypoints unlabelled) or
  ``'panoptic'`` (occluded keypoints inside the image labelled ``v = 1`` at
  their true position); see :mod:`.coco`. The images are the same in both.
* ``occlusion``: ``'default'`` or ``'hard'``, a key of
  :data:`~.rendering.OCCLUSION_LEVELS`.

``meta.json`` also counts each split's keypoints by state
(``keypoint_counts``: ``visible``, ``occluded`` = hidden inside the image,
``outside`` = outside the image), whatever the labelling.
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

from .coco import LABELLINGS, categories, make_annotation, write_json
from .rendering import OCCLUSION_LEVELS, inside_image, render_hand
from .validation import check_choice, check_settings

GENERATOR_NAME = 'nsrm_synthetic_hands'
GENERATOR_VERSION = '1.0'
SPLITS = ('train', 'val')
JPEG_QUALITY = 95
#: The settings a data set has unless told otherwise; a ``meta.json``
#: written before these settings existed holds these.
DEFAULT_REGIME = {'labelling': 'onehand10k', 'occlusion': 'default'}
#: Keypoint states counted in ``meta.json``'s ``keypoint_counts``.
KEYPOINT_STATES = ('visible', 'occluded', 'outside')

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


def _keypoint_states(sample):
    """Counts of visible / occluded (inside) / outside keypoints, (3,)."""
    vis = sample['visible']
    inside = inside_image(sample['keypoints'], sample['hand_mask'].shape[0])
    return [int(vis.sum()), int((inside & ~vis).sum()), int((~inside).sum())]


def _render_task(out_dir, split, split_id, index, seed, img_size, labelling,
                 occlusion):
    """Render image ``index``, save its JPEG.

    Returns:
        tuple: COCO image entry, COCO annotation and the keypoint counts
        ``[visible, occluded, outside]``.
    """
    sample = render_hand(_image_rng(seed, split_id, index), img_size,
                         occlusion)
    file_name = f'{split}/{index:06d}.jpg'
    path = os.path.join(out_dir, 'images', file_name)
    if not cv2.imwrite(path, sample['image'],
                       [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f'could not write {path}')
    image = {'id': index + 1, 'file_name': file_name, 'width': img_size,
             'height': img_size}
    ann = make_annotation(sample, index + 1, index + 1, labelling)
    return image, ann, _keypoint_states(sample)


def _render_slice(job):
    """Render ``range(start, stop, step)`` of a split; list of results.

    Args:
        job (dict): ``out_dir``, ``split``, ``split_id``, ``seed``,
            ``img_size``, ``labelling``, ``occlusion``, ``start``, ``stop``
            and ``step``.
    """
    return [_render_task(job['out_dir'], job['split'], job['split_id'], i,
                         job['seed'], job['img_size'], job['labelling'],
                         job['occlusion'])
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


def _render_split(out_dir, split, split_id, count, seed, img_size, regime,
                  workers):
    """Render all images of a split, ``workers`` processes; ordered list."""
    base = dict(out_dir=out_dir, split=split, split_id=split_id, seed=seed,
                img_size=img_size, stop=count, **regime)
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


def _settings(num_train, num_val, seed, img_size, regime):
    """The meta.json fields that identify a data set."""
    return {'generator': GENERATOR_NAME, 'version': GENERATOR_VERSION,
            'seed': seed, 'num_train': num_train, 'num_val': num_val,
            'img_size': img_size, **regime}


def check_regime(labelling, occlusion):
    """Validate the labelling regime and occlusion level.

    Args:
        labelling (str): One of :data:`~.coco.LABELLINGS`.
        occlusion (str): A key of :data:`~.rendering.OCCLUSION_LEVELS`.

    Returns:
        dict: ``{'labelling': labelling, 'occlusion': occlusion}``.

    Raises:
        ValueError: Naming the unknown setting and the allowed values.
    """
    return {'labelling': check_choice('labelling', labelling, LABELLINGS),
            'occlusion': check_choice('occlusion', occlusion,
                                      OCCLUSION_LEVELS)}


def default_out_dir(labelling='onehand10k', occlusion='default'):
    """The folder, relative to the repository root, of a data set's
    settings.

    ``data/synthetic_hands`` for the defaults; a non-default setting adds
    its value: ``data/synthetic_hands_panoptic``,
    ``data/synthetic_hands_hard``, ``data/synthetic_hands_panoptic_hard``.
    The dataset configs use the same names.

    Raises:
        ValueError: If a setting is unknown (see :func:`check_regime`).
    """
    regime = check_regime(labelling, occlusion)
    suffix = ''.join(f'_{v}' for k, v in regime.items()
                     if v != DEFAULT_REGIME[k])
    return f'data/synthetic_hands{suffix}'


def _generate_split(paths, split, split_id, count, seed, img_size, regime,
                    workers):
    """Render one split, write its annotation json; keypoint counts."""
    os.makedirs(paths['img_dirs'][split], exist_ok=True)
    results = _render_split(paths['out_dir'], split, split_id, count, seed,
                            img_size, regime, workers)
    _remove_stale_images(paths['img_dirs'][split],
                         {f'{i:06d}.jpg' for i in range(count)})
    info = {'description': 'NSRM synthetic hands', 'split': split,
            'generator': GENERATOR_NAME, 'version': GENERATOR_VERSION,
            'seed': seed, 'img_size': img_size}
    info.update({k: v for k, v in regime.items() if v != DEFAULT_REGIME[k]})
    coco = {
        'info': info,
        'licenses': [], 'categories': categories(),
        'images': [r[0] for r in results],
        'annotations': [r[1] for r in results],
    }
    write_json(paths['ann_files'][split], coco)
    counts = np.array([r[2] for r in results], np.int64).reshape(-1, 3)
    return dict(zip(KEYPOINT_STATES, counts.sum(0).tolist()))


def generate_synthetic_hands(out_dir, num_train=1000, num_val=200, seed=0,
                             img_size=256, workers=None,
                             labelling='onehand10k', occlusion='default'):
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
        labelling (str): ``'onehand10k'`` (hidden keypoints unlabelled) or
            ``'panoptic'`` (occluded keypoints inside the image labelled
            ``v = 1`` at their true position). The images do not depend on
            it.
        occlusion (str): ``'default'`` or ``'hard'`` (more, larger
            occluders; :data:`~.rendering.OCCLUSION_LEVELS`).

    Returns:
        dict: ``out_dir``, ``meta``, ``img_dirs``/``ann_files`` per split,
        ``num_train``, ``num_val``, ``img_size``, ``seed``, ``labelling``,
        ``occlusion``, ``seconds`` and ``generated`` (True).

    Raises:
        ValueError: If a setting is out of range or ``labelling`` /
            ``occlusion`` is unknown (nothing is written).
        RuntimeError: If a worker process fails.
    """
    num_train, num_val, seed, img_size, workers = check_settings(
        num_train, num_val, seed, img_size, workers)
    regime = check_regime(labelling, occlusion)
    workers = workers or os.cpu_count() or 1
    paths = _paths(out_dir)
    os.makedirs(os.path.dirname(paths['ann_files']['train']), exist_ok=True)
    if os.path.exists(paths['meta']):
        os.remove(paths['meta'])
    start = time.perf_counter()
    keypoint_counts = {
        split: _generate_split(paths, split, split_id, count, seed, img_size,
                               regime, workers)
        for split_id, (split, count) in enumerate(zip(SPLITS,
                                                      (num_train, num_val)))
    }
    seconds = time.perf_counter() - start
    meta = dict(_settings(num_train, num_val, seed, img_size, regime),
                ann_files={s: os.path.relpath(p, paths['out_dir'])
                           for s, p in paths['ann_files'].items()},
                keypoint_counts=keypoint_counts,
                seconds=round(seconds, 3), workers=workers)
    write_json(paths['meta'], meta)
    return dict(paths, num_train=num_train, num_val=num_val, seed=seed,
                img_size=img_size, **regime, seconds=seconds, generated=True)


def read_meta(path):
    """Parsed meta.json or None when absent / unreadable.

    A ``meta.json`` written before ``labelling`` / ``occlusion`` existed
    gets their defaults (:data:`DEFAULT_REGIME`): such a set was generated
    exactly as the defaults generate it now.

    Args:
        path (str): The ``meta.json`` file.

    Returns:
        dict | None: The parsed dict, or None.
    """
    try:
        with open(path, encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return {**DEFAULT_REGIME, **meta} if isinstance(meta, dict) else None


def ensure_synthetic_hands(out_dir, **kwargs):
    """Generate the data set unless a complete matching one exists.

    A data set is reused when ``meta.json`` exists, records the same
    generator version, seed, counts, image size, labelling and occlusion,
    and both annotation files exist. Accepts the keyword arguments of
    :func:`generate_synthetic_hands`.

    Returns:
        dict: As :func:`generate_synthetic_hands`; ``generated`` is False
        (and ``seconds`` 0) when an existing data set was reused.

    Raises:
        ValueError: On an unknown keyword or a setting out of range.
    """
    unknown = set(kwargs) - {'num_train', 'num_val', 'seed', 'img_size',
                             'workers', 'labelling', 'occlusion'}
    if unknown:
        raise ValueError(f'unknown argument(s): {sorted(unknown)}')
    opts = dict(num_train=1000, num_val=200, seed=0, img_size=256,
                workers=None, **DEFAULT_REGIME)
    opts.update(kwargs)
    num_train, num_val, seed, img_size, _ = check_settings(
        opts['num_train'], opts['num_val'], opts['seed'], opts['img_size'],
        opts['workers'])
    regime = check_regime(opts['labelling'], opts['occlusion'])
    paths = _paths(out_dir)
    meta = read_meta(paths['meta'])
    wanted = _settings(num_train, num_val, seed, img_size, regime)
    complete = meta is not None and all(
        meta.get(k) == v for k, v in wanted.items()) and all(
            os.path.isfile(p) for p in paths['ann_files'].values())
    what = (f'{num_train} train / {num_val} val, {img_size}px, seed {seed}, '
            f'labelling {regime["labelling"]}, occlusion '
            f'{regime["occlusion"]}')
    if complete:
        print(f'[synthetic_hands] reusing complete data set in {out_dir} '
              f'({what})')
        return dict(paths, num_train=num_train, num_val=num_val, seed=seed,
                    img_size=img_size, **regime, seconds=0.0,
                    generated=False)
    if meta is None:
        reason = 'no meta.json'
    else:
        differ = [k for k, v in wanted.items() if meta.get(k) != v]
        reason = ('settings differ: ' + ', '.join(
            f'{k} {meta.get(k)!r} -> {wanted[k]!r}' for k in differ)
                  if differ else 'annotation file missing')
    print(f'[synthetic_hands] generating {what} in {out_dir} ({reason})')
    return generate_synthetic_hands(out_dir, **opts)

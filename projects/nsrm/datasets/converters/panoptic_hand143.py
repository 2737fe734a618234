"""CMU Panoptic ``hand143_panopticdb`` to COCO-style annotation files.

The raw release (the "Hand Keypoint Dataset" of the CMU Perceptual Computing
Lab, ``hand143_panopticdb.tar``) is a folder ``RAW_DIR`` with::

    hands_v143_14817.json   {"root": [{"img_paths": "imgs/00000001.jpg",
                                       "joint_self": [[x, y, valid] x 21],
                                       ... other fields, ignored}, ...]}
    imgs/*.jpg              14,817 images, one right hand each

``joint_self`` is already in MMPose's hand order (0 wrist, 1-4 thumb, 5-8
index, 9-12 middle, 13-16 ring, 17-20 little finger). The conversion writes
``OUT_DIR/annotations/panoptic_hand143_{train,val,test}.json`` (one image
and one annotation per valid entry) and ``panoptic_hand143_split.json``
(seed, counts, the image ids and file names of each split):

* ``images``: ``file_name`` = ``img_paths`` as given (relative to
  ``RAW_DIR``), ``width`` / ``height`` from the image file's header, ``id``.
* ``annotations``: ``keypoints`` = ``[x, y, 2]`` for ``valid == 1`` and
  ``[0, 0, 0]`` for ``valid == 0`` (unlabelled), ``num_keypoints``, ``bbox``
  = the TIGHT box ``[x, y, w, h]`` of the valid keypoints (min / max, no
  padding: the configs crop ``2.2 x`` its longer side in the pipeline),
  ``area = w * h``, ``category_id`` 1 (``'hand'``), ``iscrowd`` 0.
* ids: image id = annotation id = 1 + the entry's index in ``root``, so an
  entry keeps its id whatever the seed.

Split (over the valid entries, in ``root`` order): with ``n`` of them,
``n_val = n_test = round(n / 10)`` (halves up: ``(n + 5) // 10``) and
``n_train = n - n_val - n_test``; ``p = numpy.random.default_rng(seed)
.permutation(n)``, val = ``p[:n_val]``, test = ``p[n_val:n_val + n_test]``,
train = the rest; each split is written in ``root`` order. For the full
release (n = 14,817) that is 11,853 / 1,482 / 1,482, the paper's counts.

An entry is skipped, and reported with its index in ``root`` and the
reason, when: it is not a dict; ``img_paths`` is missing, not a non-empty
string, absolute, contains a ``..`` component, or repeats an earlier
entry's; ``joint_self`` is not 21 x 3 finite numbers or a ``valid`` flag is
not 0 or 1; fewer than 2 keypoints are valid or their tight box has zero
width or height; the image file is missing or unreadable; a valid keypoint
lies farther outside the image than the image's own size, or the tight box
has no area inside the image (the two rules the NSRM datasets enforce when
they load, see :mod:`projects.nsrm.datasets.checked_coco_style`).

Pure numpy + stdlib (+ Pillow for image headers): this module imports
neither torch nor MMPose, so ``tools/dataset_converters/
panoptic_hand143_to_coco.py`` loads it by path and starts in a blink.
"""
import hashlib
import json
import os
import os.path as osp
import sys
import tempfile
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

#: The raw release's annotation file, inside ``RAW_DIR``.
RAW_JSON = 'hands_v143_14817.json'

#: The keypoints per hand (MMPose hand order).
NUM_KEYPOINTS = 21

#: The splits, in the order they are drawn from the permutation after train.
SPLITS = ('train', 'val', 'test')

#: The output files, inside ``OUT_DIR/annotations``.
ANN_FILE_TEMPLATE = 'panoptic_hand143_{}.json'
SPLIT_FILE = 'panoptic_hand143_split.json'

#: Where to get the release.
DOWNLOAD_HINT = (
    'Get hand143_panopticdb.tar (the CMU Panoptic "Hand Keypoint Dataset") '
    'from http://domedb.perception.cs.cmu.edu/handdb.html and extract it; '
    'see README.md, section "Data: CMU Panoptic hand".')

#: MMPose's Panoptic keypoint names (configs/_base_/datasets/
#: panoptic_hand2d.py), in order.
KEYPOINT_NAMES = ('wrist', ) + tuple(
    f'{finger}{joint}'
    for finger in ('thumb', 'forefinger', 'middle_finger', 'ring_finger',
                   'pinky_finger') for joint in range(1, 5))

#: The 20 limbs as 1-based keypoint pairs (COCO ``skeleton``): for each
#: finger, wrist -> base -> ... -> tip.
SKELETON = tuple((1 if joint == 0 else 4 * finger + joint + 1,
                  4 * finger + joint + 2) for finger in range(5)
                 for joint in range(4))


class MalformedEntry(ValueError):
    """An entry of ``root`` that cannot be converted; the message says why."""


def check_img_path(value: Any) -> str:
    """Checks an entry's ``img_paths``.

    Args:
        value (Any): The value of ``img_paths``.

    Returns:
        str: The path, unchanged (relative to ``RAW_DIR``).

    Raises:
        MalformedEntry: If it is not a non-empty string, is absolute, or has
            a ``..`` component.
    """
    if not isinstance(value, str) or not value.strip():
        raise MalformedEntry("'img_paths' must be a non-empty path relative "
                             f'to the release folder, got {value!r}')
    parts = value.replace('\\', '/').split('/')
    if osp.isabs(value) or value.startswith(('/', '\\')) or (
            len(value) > 1 and value[1] == ':'):
        raise MalformedEntry(
            f"'img_paths' {value!r} is an absolute path; expected a path "
            "relative to the release folder (e.g. 'imgs/00000001.jpg')")
    if '..' in parts:
        raise MalformedEntry(
            f"'img_paths' {value!r} has a '..' component; expected a path "
            "inside the release folder (e.g. 'imgs/00000001.jpg')")
    return value


def _show(values: np.ndarray) -> str:
    """``[nan, 3.5, 1]``: numbers written compactly for a message."""
    return '[' + ', '.join(f'{v:g}' for v in values) + ']'


def parse_joints(value: Any) -> np.ndarray:
    """Reads an entry's ``joint_self``.

    Args:
        value (Any): The value of ``joint_self``: 21 ``[x, y, valid]``.

    Returns:
        np.ndarray: The keypoints, (21, 3) float64 ``[x, y, valid]`` with
        ``valid`` 0 or 1.

    Raises:
        MalformedEntry: If it is not 21 x 3 finite numbers or a ``valid``
            flag is not 0 or 1 (the first offending keypoint is named).
    """
    try:
        joints = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        joints = None
    if isinstance(value, (str, bytes)) or joints is None or (
            joints.shape != (NUM_KEYPOINTS, 3)):
        shape = 'not a numeric array' if joints is None else (
            f'shape {tuple(joints.shape)}')
        raise MalformedEntry(
            f"'joint_self' must be {NUM_KEYPOINTS} x [x, y, valid] numbers, "
            f'got {shape}')
    finite = np.isfinite(joints).all(axis=1)
    if not finite.all():
        k = int(np.argmin(finite))
        raise MalformedEntry(
            f"'joint_self' keypoint {k} is {_show(joints[k])}: not finite")
    flags = joints[:, 2]
    bad = (flags != 0) & (flags != 1)
    if bad.any():
        k = int(np.argmax(bad))
        raise MalformedEntry(
            f"'joint_self' keypoint {k} has valid flag {flags[k]:g}; "
            'expected 0 (unlabelled) or 1 (labelled)')
    return joints


def tight_bbox(joints: np.ndarray) -> np.ndarray:
    """The tight box of the valid keypoints.

    Args:
        joints (np.ndarray): ``[x, y, valid]`` keypoints, (K, 3).

    Returns:
        np.ndarray: ``[x, y, w, h]`` (COCO style), (4,), with ``x, y`` the
        minimum and ``x + w, y + h`` the maximum of the valid keypoints.

    Raises:
        MalformedEntry: If fewer than 2 keypoints are valid or the box has
            zero width or height.
    """
    xy = joints[joints[:, 2] > 0, :2]
    if len(xy) < 2:
        raise MalformedEntry(
            f'{len(xy)} valid keypoint{"" if len(xy) == 1 else "s"}; at '
            'least 2 are needed for a tight box')
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    w, h = hi - lo
    if w <= 0 or h <= 0:
        raise MalformedEntry(
            f'the tight box of the {len(xy)} valid keypoints has zero area '
            f'(w={w:g}, h={h:g})')
    return np.array([lo[0], lo[1], w, h])


def check_inside_image(joints: np.ndarray, bbox: np.ndarray,
                       size: Tuple[int, int]) -> None:
    """Applies the NSRM datasets' two image rules to one hand.

    Args:
        joints (np.ndarray): ``[x, y, valid]`` keypoints, (K, 3).
        bbox (np.ndarray): The tight box ``[x, y, w, h]``, (4,).
        size (tuple[int, int]): The image's ``(W, H)``.

    Raises:
        MalformedEntry: If a valid keypoint lies farther outside the image
            than the image's size (``x < -W``, ``x > 2W``, ``y < -H`` or
            ``y > 2H``), or the box clipped to ``[0, W - 1] x [0, H - 1]``
            (as MMPose clips it) has no area.
    """
    w, h = size
    x, y, v = joints.T
    far = (v > 0) & ((x < -w) | (x > 2 * w) | (y < -h) | (y > 2 * h))
    if far.any():
        k = int(np.argmax(far))
        raise MalformedEntry(
            f'valid keypoint {k} at ({x[k]:g}, {y[k]:g}) lies farther '
            f'outside the {w}x{h} image than the image size')
    x1, x2 = np.clip([bbox[0], bbox[0] + bbox[2]], 0, w - 1)
    y1, y2 = np.clip([bbox[1], bbox[1] + bbox[3]], 0, h - 1)
    if x2 <= x1 or y2 <= y1:
        raise MalformedEntry(
            f'the tight box {_show(bbox)} has no area inside the {w}x{h} '
            'image')


def convert_entry(entry: Any,
                  image_size: Callable[[str], Tuple[int, int]]) -> dict:
    """Converts one entry of ``root`` (not yet given ids).

    Args:
        entry (Any): The raw entry (a dict with ``img_paths`` and
            ``joint_self``).
        image_size (Callable[[str], tuple[int, int]]): Returns ``(W, H)``
            for an ``img_paths`` value; raises ``MalformedEntry`` when the
            file is missing or unreadable. Called only for entries whose
            annotation is valid.

    Returns:
        dict: ``file_name``, ``width``, ``height`` (the image) and
        ``keypoints`` (63 numbers ``[x, y, v]``, ``v`` 2 or ``[0, 0, 0]``),
        ``num_keypoints``, ``bbox`` (4 numbers), ``area`` (the annotation).

    Raises:
        MalformedEntry: When the entry breaks a rule (module docstring).
    """
    if not isinstance(entry, dict):
        raise MalformedEntry(
            f'the entry is a {type(entry).__name__}, not a dict')
    for key in ('img_paths', 'joint_self'):
        if key not in entry:
            raise MalformedEntry(f"'{key}' is missing")
    file_name = check_img_path(entry['img_paths'])
    joints = parse_joints(entry['joint_self'])
    bbox = tight_bbox(joints)
    width, height = image_size(file_name)
    check_inside_image(joints, bbox, (width, height))
    valid = joints[:, 2] > 0
    keypoints = []
    for (x, y, _), labelled in zip(joints.tolist(), valid):
        keypoints += [x, y, 2] if labelled else [0, 0, 0]
    return dict(
        file_name=file_name,
        width=int(width),
        height=int(height),
        keypoints=keypoints,
        num_keypoints=int(valid.sum()),
        bbox=bbox.tolist(),
        area=float(bbox[2] * bbox[3]))


def convert_entries(
    entries: Sequence[Any],
    image_size: Callable[[str], Tuple[int, int]],
    progress: Optional[Callable[[int, int], None]] = None
) -> Tuple[List[Tuple[int, dict]], List[Tuple[int, str]]]:
    """Converts every entry of ``root``, collecting the malformed ones.

    Args:
        entries (Sequence[Any]): The raw ``root`` list.
        image_size (Callable[[str], tuple[int, int]]): As for
            :func:`convert_entry`.
        progress (Callable[[int, int], None], optional): Called as
            ``progress(done, total)`` after each entry.

    Returns:
        tuple[list, list]: ``[(index, record), ...]`` of the valid entries
        (records as :func:`convert_entry` returns them) and ``[(index,
        reason), ...]`` of the skipped ones, both in ``root`` order.
    """
    records, skipped, first_use = [], [], {}
    for index, entry in enumerate(entries):
        try:
            record = convert_entry(entry, image_size)
            earlier = first_use.setdefault(record['file_name'], index)
            if earlier != index:
                raise MalformedEntry(
                    f"'img_paths' {record['file_name']!r} repeats entry "
                    f'{earlier}')
            records.append((index, record))
        except MalformedEntry as err:
            skipped.append((index, str(err)))
        if progress is not None:
            progress(index + 1, len(entries))
    return records, skipped


def split_counts(n: int) -> Dict[str, int]:
    """The 80/10/10 split sizes for ``n`` valid entries.

    ``n_val = n_test = round(n / 10)`` with halves rounded up, i.e.
    ``(n + 5) // 10``; ``n_train`` is the rest.

    Args:
        n (int): The number of valid entries (>= 0).

    Returns:
        dict[str, int]: ``{'train': n_train, 'val': n_val, 'test': n_test}``;
        for ``n = 14817``: 11853 / 1482 / 1482.
    """
    if n < 0:
        raise ValueError(f'split_counts: n must be >= 0, got {n}')
    n_val = n_test = (n + 5) // 10
    return dict(train=n - n_val - n_test, val=n_val, test=n_test)


def split_indices(n: int, seed: int = 0) -> Dict[str, np.ndarray]:
    """Draws the seeded 80/10/10 split of ``n`` valid entries.

    ``p = numpy.random.default_rng(seed).permutation(n)``; val is
    ``p[:n_val]``, test ``p[n_val:n_val + n_test]``, train the rest (sizes
    from :func:`split_counts`).

    Args:
        n (int): The number of valid entries.
        seed (int): The permutation's seed. Defaults to 0.

    Returns:
        dict[str, np.ndarray]: For each split, its positions in ``[0, n)``
        (positions among the valid entries, not raw indices), sorted
        ascending, (n_split,) int64. Together they cover ``[0, n)`` once.
    """
    counts = split_counts(n)
    perm = np.random.default_rng(seed).permutation(n)
    n_val, n_test = counts['val'], counts['test']
    parts = dict(val=perm[:n_val], test=perm[n_val:n_val + n_test],
                 train=perm[n_val + n_test:])
    return {split: np.sort(parts[split]).astype(np.int64) for split in SPLITS}


def coco_categories() -> List[dict]:
    """The one COCO category, ``hand`` (id 1), with MMPose's Panoptic
    keypoint names and the 20-limb skeleton (1-based)."""
    return [dict(supercategory='hand', id=1, name='hand',
                 keypoints=list(KEYPOINT_NAMES),
                 skeleton=[list(pair) for pair in SKELETON])]


def build_coco(records: Sequence[Tuple[int, dict]], split: str,
               seed: int) -> dict:
    """Builds one split's COCO-style annotation file.

    Args:
        records (Sequence[tuple[int, dict]]): ``(index in root, record)``
            for the split's entries (records from :func:`convert_entry`).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        seed (int): The split's seed (recorded in ``info``).

    Returns:
        dict: ``info``, ``images``, ``annotations``, ``categories``; image
        and annotation ids are ``index + 1``.
    """
    images, annotations = [], []
    for index, rec in records:
        ident = index + 1
        images.append(dict(file_name=rec['file_name'], width=rec['width'],
                           height=rec['height'], id=ident))
        annotations.append(dict(
            id=ident, image_id=ident, category_id=1, iscrowd=0,
            num_keypoints=rec['num_keypoints'], keypoints=rec['keypoints'],
            bbox=rec['bbox'], area=rec['area']))
    info = dict(description=f'CMU Panoptic hand143_panopticdb, {split} '
                f'split (seed {seed})', source=RAW_JSON, split=split,
                seed=seed)
    return dict(info=info, images=images, annotations=annotations,
                categories=coco_categories())


def build_split_record(records: Sequence[Tuple[int, dict]],
                       positions: Dict[str, np.ndarray], seed: int,
                       num_entries: int, skipped: Sequence[Tuple[int, str]],
                       raw_sha256: str) -> dict:
    """Builds ``panoptic_hand143_split.json``: how the split was made.

    Args:
        records (Sequence[tuple[int, dict]]): All valid entries, in ``root``
            order.
        positions (dict[str, np.ndarray]): :func:`split_indices` of them.
        seed (int): The seed.
        num_entries (int): The length of ``root``.
        skipped (Sequence[tuple[int, str]]): ``(index, reason)`` of the
            skipped entries.
        raw_sha256 (str): The SHA-256 of the raw json file.

    Returns:
        dict: ``seed``, ``rule``, ``source``, ``source_sha256``,
        ``num_entries``, ``num_valid``, ``counts``, ``skipped`` and, per
        split, ``image_ids`` and ``file_names`` (in ``root`` order).
    """
    splits = {}
    for split in SPLITS:
        chosen = [records[i] for i in positions[split]]
        splits[split] = dict(
            image_ids=[index + 1 for index, _ in chosen],
            file_names=[rec['file_name'] for _, rec in chosen])
    return dict(
        seed=seed,
        rule=('valid entries in root order; n_val = n_test = (n + 5) // 10, '
              'n_train = the rest; p = numpy.random.default_rng(seed)'
              '.permutation(n): val = p[:n_val], test = p[n_val:n_val + '
              'n_test], train = the rest; image id = index in root + 1'),
        source=RAW_JSON,
        source_sha256=raw_sha256,
        num_entries=num_entries,
        num_valid=len(records),
        counts={split: len(positions[split]) for split in SPLITS},
        skipped=[dict(index=index, reason=reason)
                 for index, reason in skipped],
        splits=splits)


def read_image_size(path: str) -> Tuple[int, int]:
    """Reads ``(W, H)`` from an image file's header (Pillow, no decoding).

    Args:
        path (str): The image file.

    Returns:
        tuple[int, int]: ``(W, H)``.

    Raises:
        MalformedEntry: If the file is missing or not a readable image.
    """
    from PIL import Image, UnidentifiedImageError
    if not osp.isfile(path):
        raise MalformedEntry(f'image file not found: {path}')
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise MalformedEntry(
            f'image file unreadable: {path} ({err})') from err
    return int(width), int(height)


def load_raw(raw_json: str) -> Tuple[List[Any], str]:
    """Reads the raw annotation file.

    Args:
        raw_json (str): Path to ``hands_v143_14817.json``.

    Returns:
        tuple[list, str]: The ``root`` list and the file's SHA-256 (hex).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it is not JSON or has no ``root`` list.
    """
    if not osp.isfile(raw_json):
        raise FileNotFoundError(
            f'raw annotation file not found: {raw_json}. {DOWNLOAD_HINT}')
    with open(raw_json, 'rb') as f:
        data = f.read()
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{raw_json} is not valid JSON: {err}') from err
    if not isinstance(raw, dict) or not isinstance(raw.get('root'), list):
        found = (f'keys {sorted(raw)[:10]}' if isinstance(raw, dict) else
                 f'a {type(raw).__name__}')
        raise ValueError(
            f'{raw_json} has no "root" list (found {found}); expected '
            '{"root": [{"img_paths": ..., "joint_self": ...}, ...]} as in '
            'the hand143_panopticdb release')
    return raw['root'], hashlib.sha256(data).hexdigest()


def output_paths(out_dir: str) -> Dict[str, str]:
    """The files a conversion writes: each split's and the split record.

    Args:
        out_dir (str): ``OUT_DIR``.

    Returns:
        dict[str, str]: ``{'train': ..., 'val': ..., 'test': ...,
        'split': ...}``, all in ``OUT_DIR/annotations``.
    """
    ann_dir = osp.join(out_dir, 'annotations')
    paths = {split: osp.join(ann_dir, ANN_FILE_TEMPLATE.format(split))
             for split in SPLITS}
    paths['split'] = osp.join(ann_dir, SPLIT_FILE)
    return paths


def _dump_to_temp(path: str, content: Any) -> str:
    """Writes ``content`` as JSON to a new temporary file beside ``path``.

    Returns:
        str: The temporary file's path.
    """
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.',
                               suffix='.tmp', dir=osp.dirname(path))
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(content, f)
    except BaseException:
        os.remove(tmp)
        raise
    return tmp


def write_json_files(contents: Dict[str, Any]) -> None:
    """Writes several JSON files all or nothing.

    Each file is first written to a temporary file in its own folder; only
    when all of them are complete are they renamed (``os.replace``) over
    their targets. If writing fails, the temporary files are removed and no
    target is touched.

    Args:
        contents (dict[str, Any]): ``{path: json-able content}``.
    """
    umask = os.umask(0)
    os.umask(umask)
    temps = {}
    try:
        for path, content in contents.items():
            temps[path] = _dump_to_temp(path, content)
            # mkstemp makes the file private (0600): give it the mode a
            # plain open() would
            os.chmod(temps[path], 0o666 & ~umask)
    except BaseException:
        for tmp in temps.values():
            os.remove(tmp)
        raise
    for path, tmp in temps.items():
        os.replace(tmp, path)


class _Progress:
    """``converted i/N entries`` on a stream: every 5% (at least 500
    entries apart) and at the end."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, done: int, total: int) -> None:
        step = max(500, total // 20)
        if done % step == 0 or done == total:
            print(f'converted {done}/{total} entries', file=self.stream,
                  flush=True)


def convert_panoptic_hand143(root: str,
                             out_dir: Optional[str] = None,
                             seed: int = 0,
                             force: bool = False,
                             log: Optional[Callable[[str], None]] = print,
                             progress: bool = True) -> dict:
    """Converts the raw release in ``root`` (module docstring) and writes
    the split files.

    Args:
        root (str): ``RAW_DIR``, the folder holding ``hands_v143_14817.json``
            and ``imgs/``.
        out_dir (str, optional): ``OUT_DIR``; the files go to
            ``OUT_DIR/annotations``. Defaults to ``root`` (the README's
            layout, so that ``file_name`` is relative to the data root).
        seed (int): The split's seed. Defaults to 0.
        force (bool): Overwrite existing output files. Defaults to False.
        log (Callable[[str], None], optional): Receives the report lines
            (each skipped entry, the counts, the files). Defaults to
            ``print``; None for silence.
        progress (bool): Count the converted entries on stderr. Defaults
            to True.

    Returns:
        dict: ``counts`` (per split), ``num_entries``, ``skipped``
        (``[(index, reason), ...]``) and ``paths`` (:func:`output_paths`).

    Raises:
        FileNotFoundError: If ``root`` or its raw json is missing.
        FileExistsError: If an output file exists and ``force`` is False
            (nothing is written).
        ValueError: If the raw json is malformed or has no valid entry.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'raw release folder not found: {root}. {DOWNLOAD_HINT}')
    out_dir = root if out_dir is None else out_dir
    paths = output_paths(out_dir)
    existing = [p for p in paths.values() if osp.exists(p)]
    if existing and not force:
        more = (f' (and {len(existing) - 1} more output files)'
                if len(existing) > 1 else '')
        raise FileExistsError(
            f'{existing[0]} already exists{more}; pass --force (force=True) '
            'to overwrite')
    raw_json = osp.join(root, RAW_JSON)
    entries, sha256 = load_raw(raw_json)

    def image_size(file_name: str) -> Tuple[int, int]:
        return read_image_size(osp.join(root, file_name))

    counter = _Progress(sys.stderr) if progress else None
    records, skipped = convert_entries(entries, image_size, counter)
    say = log or (lambda line: None)
    for index, reason in skipped:
        say(f'skipped entry {index}: {reason}')
    if not records:
        raise ValueError(
            f'no valid entry in {raw_json} ({len(entries)} entries, all '
            'skipped)')
    positions = split_indices(len(records), seed)
    contents = {
        paths[split]: build_coco([records[i] for i in positions[split]],
                                 split, seed)
        for split in SPLITS
    }
    contents[paths['split']] = build_split_record(
        records, positions, seed, len(entries), skipped, sha256)
    os.makedirs(osp.dirname(paths['split']), exist_ok=True)
    write_json_files(contents)
    counts = {split: len(positions[split]) for split in SPLITS}
    say(f'converted {len(records)} of {len(entries)} entries '
        f'({len(skipped)} skipped); split (seed {seed}): ' +
        ', '.join(f'{split} {counts[split]}' for split in SPLITS))
    for key in (*SPLITS, 'split'):
        say(f'wrote {paths[key]}')
    return dict(counts=counts, num_entries=len(entries), skipped=skipped,
                paths=paths)

"""Annotation checks for MMPose's COCO-style datasets.

:class:`CheckedCocoStyleMixin` adds to MMPose's own dataset (same metainfo,
same parsing) the checks MMPose leaves out, so that no bad annotation trains
silently. When the dataset loads, the mixin reads the annotation file once
and checks it with the pure functions of this module (json dicts in, a list
of :class:`AnnotationProblem` out) before MMPose parses it:

============================  ==============================================
rule                          an entry breaks it when
============================  ==============================================
``not_coco``                  the file is not a dict with ``images`` and
                              ``annotations`` lists (fatal)
``missing_id``                an image has no ``id``, or an annotation no
                              ``id`` or ``image_id`` (fatal)
``duplicate_image_id``        two image entries share an ``id``: xtcocotools
                              keeps the last one, so the first image's
                              annotations would be paired with the second
                              image's file (fatal)
``bad_image_size``            ``width`` or ``height`` is missing, non-finite
                              or not positive (fatal)
``duplicate_annotation_id``   two annotations share an ``id``: xtcocotools
                              keeps the last one and hands it out for both
``image_not_found``           ``image_id`` has no image entry (xtcocotools
                              never reads such an annotation)
``keypoint_count``            ``keypoints`` is not ``3 * K`` numbers
                              (``[x, y, v]`` for each of the K keypoints)
``keypoints_non_finite``      any keypoint value (labelled or not) is NaN or
                              infinite (``null`` in the json reads as NaN)
``negative_visibility``       a visibility flag ``v`` is below 0 (MMPose
                              would use it as a negative loss weight)
``keypoints_far_outside``     a labelled keypoint (``v > 0``) lies farther
                              outside the image than the image's own size:
                              ``x < -W`` or ``x > 2W`` or ``y < -H`` or
                              ``y > 2H`` for a ``W x H`` image
``bbox_invalid``              ``bbox`` is not 4 finite numbers
``bbox_no_area``              the box clipped to the image the way MMPose
                              clips it (``[0, W - 1] x [0, H - 1]``) has no
                              width or no height (MMPose would drop it)
============================  ==============================================

``keypoints`` and ``bbox`` are checked where present (MMPose ignores an
annotation without them), all annotations at once as arrays (15k annotations
take about 0.1 s). Unlabelled keypoints written as ``[0, 0, 0]``
(OneHand10K) pass, and so do labelled keypoints a little outside the image
(within the image's size).
Fatal problems always raise a ``ValueError``. The others raise too, unless
the dataset is built with ``skip_invalid_annotations=True``: then the
annotations that break them are dropped and their count is logged as a
warning. After MMPose's own filtering a dataset with no instance left raises
a ``ValueError`` (instead of NumPy's ``need at least one array to
concatenate``), and image files that do not exist raise a
``FileNotFoundError`` when the dataset loads, before any dataloader worker
starts. A missing ``data_root`` or annotation file raises a
``FileNotFoundError`` that says where the data is expected and how to get it
(README.md, section "Data").
"""
import json
import logging
import math
import os.path as osp
from collections import defaultdict
from typing import (Any, Callable, Dict, Iterable, List, NamedTuple, Optional,
                    Sequence, Tuple)

import numpy as np
from mmengine.logging import print_log

#: The rules in the order messages list them, each with the heading of its
#: group in a message (followed by the count).
RULES: Dict[str, str] = {
    'not_coco': 'not a COCO-style annotation file',
    'missing_id': 'entries without an id',
    'duplicate_image_id': 'image ids used by more than one image entry',
    'bad_image_size': 'image entries without a positive finite width and '
                      'height',
    'duplicate_annotation_id': 'annotation ids used by more than one '
                               'annotation',
    'image_not_found': 'annotations whose image_id has no entry in "images"',
    'keypoint_count': 'annotations with the wrong number of keypoint values',
    'keypoints_non_finite': 'annotations with a non-finite keypoint value '
                            '(NaN or inf)',
    'negative_visibility': 'annotations with a negative visibility flag v',
    'keypoints_far_outside': (
        'annotations with a labelled keypoint (v > 0) farther outside the '
        "image than the image's size (x < -W, x > 2W, y < -H or y > 2H)"),
    'bbox_invalid': 'annotations whose bbox is not 4 finite numbers '
                    '[x, y, w, h]',
    'bbox_no_area': ('annotations whose bbox has no area inside the image '
                     '(clipped to [0, W - 1] x [0, H - 1] as MMPose does)'),
}

#: Rules that ``skip_invalid_annotations`` cannot skip: they break the
#: image index or the file itself, not one annotation.
FATAL_RULES = frozenset(
    ['not_coco', 'missing_id', 'duplicate_image_id', 'bad_image_size'])

#: How many offending entries a message lists before "... and N more".
MAX_LISTED = 10


class AnnotationProblem(NamedTuple):
    """One broken rule of one entry of a COCO-style annotation file.

    Attributes:
        rule (str): A key of :data:`RULES`.
        ann_id (Any): The annotation's id; ``None`` for an image entry or an
            annotation without an id.
        detail (str): The entry and what is wrong with it, e.g.
            ``'annotation id 3 (image id 3): keypoint 5 is [nan, 40, 2]'``.
    """

    rule: str
    ann_id: Any
    detail: str

    @property
    def fatal(self) -> bool:
        """Whether skipping annotations cannot repair the problem."""
        return self.rule in FATAL_RULES


def _num(value: float) -> str:
    """Formats a number compactly for a message (``12``, ``1e+30``)."""
    return f'{value:g}'


def image_size(image: dict) -> Optional[Tuple[float, float]]:
    """Returns ``(width, height)`` of an image entry, or None if unusable.

    Args:
        image (dict): An entry of the file's ``images`` list.

    Returns:
        tuple | None: Positive finite ``(W, H)``, or None.
    """
    size = (image.get('width'), image.get('height'))
    try:
        w, h = (float(v) for v in size)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        return None
    return w, h


def stack_rows(rows: Sequence[Any], width: int) -> Tuple[np.ndarray,
                                                         np.ndarray]:
    """Stacks json lists of numbers into one float array.

    ``null`` (None) reads as NaN, as in MMPose. A nested row (e.g.
    ``[[x, y, v], ...]``) is flattened, as MMPose's reshape does.

    Args:
        rows (Sequence[Any]): N json values, each meant to be ``width``
            numbers.
        width (int): The expected count of numbers per row.

    Returns:
        tuple[np.ndarray, np.ndarray]: The values, (N, width), NaN in the
        rows that are not ``width`` numbers; and ``ok``, (N,) bool, False for
        those rows.
    """
    try:
        values = np.array(rows, dtype=np.float64)
        if values.shape == (len(rows), width):
            return values, np.ones(len(rows), dtype=bool)
    except (TypeError, ValueError):
        pass
    values = np.full((len(rows), width), np.nan)
    ok = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        try:
            flat = np.asarray(row, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            continue
        if flat.size == width:
            values[i], ok[i] = flat, True
    return values, ok


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True of each row of an (N, K) mask, -1 if none."""
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)


def first_bad_keypoints(keypoints: np.ndarray,
                        sizes: np.ndarray) -> Dict[str, np.ndarray]:
    """Finds, for each annotation, the first keypoint that breaks a rule.

    Symbols: N annotations, K keypoints, an image of ``W x H`` pixels.

    Args:
        keypoints (np.ndarray): ``[x, y, v]`` per keypoint, (N, K, 3).
        sizes (np.ndarray): ``[W, H]`` of each annotation's image, (N, 2);
            NaN where unknown, which skips ``keypoints_far_outside``.

    Returns:
        dict[str, np.ndarray]: For ``keypoints_non_finite`` (any of x, y, v
        is NaN or inf, labelled or not), ``negative_visibility`` (v < 0) and
        ``keypoints_far_outside`` (v > 0 and x < -W, x > 2W, y < -H or
        y > 2H): the (N,) index of the first offending keypoint, -1 where
        there is none.
    """
    x, y, v = keypoints[..., 0], keypoints[..., 1], keypoints[..., 2]
    w, h = sizes[:, :1], sizes[:, 1:]
    finite = np.isfinite(keypoints).all(axis=2)
    with np.errstate(invalid='ignore'):  # NaN compares False: no flag
        negative = v < 0
        far = finite & (v > 0) & ((x < -w) | (x > 2 * w)
                                  | (y < -h) | (y > 2 * h))
    return {
        'keypoints_non_finite': _first_true(~finite),
        'negative_visibility': _first_true(negative),
        'keypoints_far_outside': _first_true(far),
    }


def bboxes_without_area(bboxes: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Which boxes have no area inside their image, clipped as MMPose does.

    MMPose (``BaseCocoStyleDataset.parse_data_info``) clips the corners of
    ``[x, y, w, h]`` to ``[0, W - 1] x [0, H - 1]`` and later drops a box
    whose clipped width or height is not positive.

    Args:
        bboxes (np.ndarray): Finite ``[x, y, w, h]`` boxes, (N, 4).
        sizes (np.ndarray): ``[W, H]`` of each box's image, (N, 2); NaN where
            unknown (never flagged).

    Returns:
        np.ndarray: (N,) bool, True for a box without area.
    """
    x, y, bw, bh = bboxes.T
    right, bottom = sizes[:, 0] - 1, sizes[:, 1] - 1
    with np.errstate(invalid='ignore'):
        x1, x2 = np.clip(x, 0, right), np.clip(x + bw, 0, right)
        y1, y2 = np.clip(y, 0, bottom), np.clip(y + bh, 0, bottom)
        return (x2 <= x1) | (y2 <= y1)


def _show(values: np.ndarray) -> str:
    """Writes numbers as a compact json-like list: ``[nan, 10, 2]``."""
    return '[' + ', '.join(_num(v) for v in values) + ']'


def _count_message(value: Any, num_keypoints: int) -> str:
    """Says how a ``keypoints`` value misses ``3 * K`` numbers."""
    expected = 3 * num_keypoints
    tail = f'expected {expected} ({num_keypoints} keypoints x [x, y, v])'
    try:
        size = np.asarray(value, dtype=np.float64).size
    except (TypeError, ValueError):
        return f'has keypoints that are not a list of numbers; {tail}'
    return f'has {size} keypoint values; {tail}'


def _keypoint_findings(rows: Sequence[Any], sizes: np.ndarray,
                       num_keypoints: int) -> Dict[int, List[Tuple[str, str]]]:
    """``{row: [(rule, what), ...]}`` for the ``keypoints`` rows that fail."""
    values, ok = stack_rows(rows, 3 * num_keypoints)
    kpts = values.reshape(len(rows), num_keypoints, 3)
    firsts = first_bad_keypoints(kpts, sizes)
    findings = defaultdict(list)
    for i in np.flatnonzero(~ok):
        findings[i].append(
            ('keypoint_count', _count_message(rows[i], num_keypoints)))
    for rule, first in firsts.items():
        for i in np.flatnonzero(ok & (first >= 0)):
            k = int(first[i])
            if rule == 'keypoints_far_outside':
                w, h = sizes[i]
                what = (f'labelled keypoint {k} is {_show(kpts[i, k])} in a '
                        f'{_num(w)}x{_num(h)} image')
            else:
                what = f'keypoint {k} is {_show(kpts[i, k])}'
            findings[i].append((rule, what))
    return findings


def _bbox_findings(rows: Sequence[Any],
                   sizes: np.ndarray) -> Dict[int, List[Tuple[str, str]]]:
    """``{row: [(rule, what)]}`` for the ``bbox`` rows that fail."""
    boxes, ok = stack_rows(rows, 4)
    ok &= np.isfinite(boxes).all(axis=1)
    no_area = np.zeros(len(rows), dtype=bool)
    no_area[ok] = bboxes_without_area(boxes[ok], sizes[ok])
    findings = {}
    for i in np.flatnonzero(~ok):
        findings[i] = [('bbox_invalid', f'has bbox {rows[i]!r}')]
    for i in np.flatnonzero(no_area):
        w, h = sizes[i]
        findings[i] = [('bbox_no_area', f'has bbox {_show(boxes[i])} in a '
                        f'{_num(w)}x{_num(h)} image')]
    return findings


def _size_array(size: Optional[Tuple[float, float]]) -> np.ndarray:
    """``[[W, H]]``, or ``[[nan, nan]]`` for an unknown size."""
    return np.array([size if size else (np.nan, np.nan)], dtype=np.float64)


def check_keypoints(keypoints: Any, num_keypoints: int,
                    size: Optional[Tuple[float, float]]
                    ) -> List[Tuple[str, str]]:
    """Checks one annotation's ``keypoints`` list.

    Args:
        keypoints (Any): The annotation's ``keypoints``: ``3 * K`` numbers
            ``[x1, y1, v1, x2, ...]`` (nested ``[[x, y, v], ...]`` also
            passes, as MMPose reshapes it the same way).
        num_keypoints (int): K, the dataset's keypoint count.
        size (tuple, optional): The image's ``(W, H)``; None skips the
            distance rule.

    Returns:
        list[tuple[str, str]]: ``(rule, what)`` for each broken rule, at most
        one per rule, ``what`` naming the first offending keypoint (0-based).
    """
    return _keypoint_findings([keypoints], _size_array(size),
                              num_keypoints).get(0, [])


def check_bbox(bbox: Any,
               size: Optional[Tuple[float, float]]) -> List[Tuple[str, str]]:
    """Checks one annotation's ``bbox`` (``[x, y, w, h]``, COCO style).

    Args:
        bbox (Any): The annotation's ``bbox``.
        size (tuple, optional): The image's ``(W, H)``; None skips the
            area rule.

    Returns:
        list[tuple[str, str]]: ``(rule, what)``, empty when the box is fine.
    """
    return _bbox_findings([bbox], _size_array(size)).get(0, [])


def check_images(images: Sequence[dict]) -> List[AnnotationProblem]:
    """Checks the ``images`` list: ids present and unique, usable sizes.

    Args:
        images (Sequence[dict]): The file's ``images``.

    Returns:
        list[AnnotationProblem]: The problems, all fatal.
    """
    problems = []
    files_by_id = defaultdict(list)
    for index, image in enumerate(images):
        if 'id' not in image:
            problems.append(AnnotationProblem(
                'missing_id', None, f'image #{index} (0-based position in '
                f'"images", file_name {image.get("file_name")!r}) has no id'))
            continue
        files_by_id[image['id']].append(image.get('file_name'))
        if image_size(image) is None:
            problems.append(AnnotationProblem(
                'bad_image_size', None,
                f'image id {image["id"]} ({image.get("file_name")!r}) has '
                f'width={image.get("width")!r}, '
                f'height={image.get("height")!r}'))
    return problems + _duplicates(
        files_by_id, 'duplicate_image_id', 'image entries', 'file names',
        repr, with_id=False)


def _duplicates(owners_by_id: Dict[Any, list], rule: str, what: str,
                owners: str, show: Callable, with_id: bool
                ) -> List[AnnotationProblem]:
    """One problem per id used more than once: ``owners_by_id[id]`` lists
    what uses it (file names or image ids), shown with ``show``."""
    return [
        AnnotationProblem(
            rule, key if with_id else None,
            f'{"annotation" if with_id else "image"} id {key} is used by '
            f'{len(used)} {what} ({owners} {", ".join(map(show, used))})')
        for key, used in owners_by_id.items() if len(used) > 1
    ]


def check_annotations(annotations: Sequence[dict], images: Sequence[dict],
                      num_keypoints: int) -> List[AnnotationProblem]:
    """Checks the ``annotations`` list against the images and keypoint count.

    Only the fields MMPose reads are checked: ``keypoints`` when present,
    ``bbox`` when present (MMPose ignores an annotation without them). The
    keypoints and boxes of all annotations are checked as one array each.

    Args:
        annotations (Sequence[dict]): The file's ``annotations``.
        images (Sequence[dict]): The file's ``images`` (for sizes and ids).
        num_keypoints (int): K, the dataset's keypoint count.

    Returns:
        list[AnnotationProblem]: The problems, one per annotation and rule,
        in file order within each rule.
    """
    sizes = {image['id']: image_size(image)
             for image in images if 'id' in image}
    problems = []
    images_by_ann_id = defaultdict(list)
    checked, checked_sizes = [], []  # the annotations with both ids
    for index, ann in enumerate(annotations):
        missing = [key for key in ('id', 'image_id') if key not in ann]
        if missing:
            problems.append(AnnotationProblem(
                'missing_id', None, f'annotation #{index} (0-based position '
                f'in "annotations") has no {" and no ".join(missing)}'))
            continue
        ann_id, img_id = ann['id'], ann['image_id']
        images_by_ann_id[ann_id].append(img_id)
        if img_id not in sizes:
            problems.append(AnnotationProblem(
                'image_not_found', ann_id,
                f'annotation id {ann_id} refers to image id {img_id}, which '
                'has no entry in "images"'))
        checked.append(ann)
        checked_sizes.append(sizes.get(img_id) or (np.nan, np.nan))
    all_sizes = np.array(checked_sizes, dtype=np.float64).reshape(-1, 2)

    for key in ('keypoints', 'bbox'):
        has_key = [i for i, ann in enumerate(checked) if key in ann]
        rows = [checked[i][key] for i in has_key]
        wh = all_sizes[has_key]
        findings = (_keypoint_findings(rows, wh, num_keypoints)
                    if key == 'keypoints' else _bbox_findings(rows, wh))
        for row in sorted(findings):
            ann = checked[has_key[row]]
            where = f'annotation id {ann["id"]} (image id {ann["image_id"]})'
            problems += [
                AnnotationProblem(rule, ann['id'], f'{where} {what}'
                                  if rule == 'keypoint_count' else
                                  f'{where}: {what}')
                for rule, what in findings[row]
            ]
    return problems + _duplicates(
        images_by_ann_id, 'duplicate_annotation_id', 'annotations',
        'image ids', str, with_id=True)


def check_coco_annotations(coco: Any,
                           num_keypoints: int) -> List[AnnotationProblem]:
    """Checks a whole COCO-style annotation file (its parsed json).

    Args:
        coco (Any): The parsed json: a dict with ``images`` and
            ``annotations`` lists.
        num_keypoints (int): K, the dataset's keypoint count.

    Returns:
        list[AnnotationProblem]: Every problem found; empty when the file is
        fine. See the module docstring for the rules.
    """
    if not isinstance(coco, dict) or not all(
            isinstance(coco.get(key, []), list)
            for key in ('images', 'annotations')):
        return [AnnotationProblem(
            'not_coco', None, 'the file is not a dict with "images" and '
            '"annotations" lists')]
    images = [x for x in coco.get('images', []) if isinstance(x, dict)]
    annotations = [x for x in coco.get('annotations', [])
                   if isinstance(x, dict)]
    if (len(images) != len(coco.get('images', []))
            or len(annotations) != len(coco.get('annotations', []))):
        return [AnnotationProblem(
            'not_coco', None, '"images" and "annotations" hold entries '
            'that are not dicts')]
    return (check_images(images)
            + check_annotations(annotations, images, num_keypoints))


def format_problems(problems: Sequence[AnnotationProblem],
                    max_listed: int = MAX_LISTED) -> str:
    """Lists problems grouped by rule, with a count and the first entries.

    Args:
        problems (Sequence[AnnotationProblem]): The problems to list.
        max_listed (int): Entries listed per rule before "... and N more".
            Defaults to :data:`MAX_LISTED`.

    Returns:
        str: One line per broken rule, e.g. ``"  - annotations with a
        non-finite keypoint value (NaN or inf) (2): annotation id 3 (image
        id 3): keypoint 5 is [nan, 40, 2]; annotation id 7 ..."``.
    """
    by_rule = defaultdict(list)
    for problem in problems:
        by_rule[problem.rule].append(problem.detail)
    lines = []
    for rule, heading in RULES.items():
        details = by_rule.get(rule, [])
        n = len(details)
        if n:
            more = (f'; ... and {n - max_listed} more'
                    if n > max_listed else '')
            lines.append(f'  - {heading} ({n}): '
                         f'{"; ".join(details[:max_listed])}{more}')
    return '\n'.join(lines)


def find_missing_files(paths: Iterable[str]) -> List[str]:
    """Returns the paths that are not existing files, in their first order.

    Paths with a URL scheme (``s3://...``) are not checked.

    Args:
        paths (Iterable[str]): File paths, repeats allowed.

    Returns:
        list[str]: The missing paths, each once.
    """
    missing, seen = [], set()
    for path in paths:
        if path in seen or '://' in path:
            continue
        seen.add(path)
        if not osp.isfile(path):
            missing.append(path)
    return missing


class CheckedCocoStyleMixin:
    """Checks a ``BaseCocoStyleDataset`` subclass's annotations when it loads.

    Mix it in first: ``class MyDataset(CheckedCocoStyleMixin,
    OneHand10KDataset)``. Subclasses set ``DATA_HINT`` to the command or
    README section that prepares their data. The rules are listed in the
    module docstring.

    Args:
        *args: Passed to the dataset (``ann_file``, ``data_mode``, ...).
        skip_invalid_annotations (bool): Drop the annotations that break a
            rule (e.g. NaN or far-away labelled keypoints, empty boxes,
            duplicate annotation ids) with a warning that gives their count
            and ids, instead of raising a ``ValueError``. Problems with the
            image entries (duplicate image ids, no size) and missing image
            files still raise. Settable from a config, e.g. ``--cfg-options
            train_dataloader.dataset.skip_invalid_annotations=True``.
            Defaults to False.
        **kwargs: Passed to the dataset.
    """

    DATA_HINT = 'See README.md, section "Data".'

    def __init__(self,
                 *args,
                 skip_invalid_annotations: bool = False,
                 **kwargs) -> None:
        self.skip_invalid_annotations = skip_invalid_annotations
        self._skipped_ann_ids: frozenset = frozenset()
        self._file_counts: Optional[Tuple[int, int, int]] = None
        super().__init__(*args, **kwargs)

    def _check_ann_file_exists(self) -> None:
        """Raises a ``FileNotFoundError`` that says where data is expected."""
        if osp.isfile(self.ann_file):
            return
        where = (f"data_root='{self.data_root}'"
                 if self.data_root else 'no data_root')
        root_note = ('' if not self.data_root or osp.isdir(self.data_root)
                     else f' The data_root folder {self.data_root} does '
                     'not exist either.')
        raise FileNotFoundError(
            f'{type(self).__name__}: annotation file not found: '
            f'{self.ann_file} ({where}).{root_note} {self.DATA_HINT}')

    def _read_and_check_ann_file(self) -> None:
        """Reads the annotation file once and applies :data:`RULES`.

        Raises the ``ValueError`` or, with ``skip_invalid_annotations``,
        records the ids to skip and logs the warning.
        """
        name = type(self).__name__
        try:
            with open(self.ann_file) as f:
                coco = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(
                f'{name}: {self.ann_file} is not valid JSON: {err}') from err
        problems = check_coco_annotations(coco,
                                          self.metainfo['num_keypoints'])
        num_ann = len(coco.get('annotations', [])) if isinstance(
            coco, dict) else 0
        num_img = len(coco.get('images', [])) if isinstance(coco, dict) else 0
        self._file_counts = (num_img, num_ann, 0)
        if not problems:
            return
        listing = format_problems(problems)
        fatal = any(p.fatal for p in problems)
        if fatal or not self.skip_invalid_annotations:
            if fatal:
                advice = ('Fix the file: problems with the file or its image '
                          'entries cannot be skipped.')
            else:
                advice = (
                    'Fix the file, or set skip_invalid_annotations=True in '
                    "the dataset's config (e.g. --cfg-options "
                    'train_dataloader.dataset.skip_invalid_annotations=True) '
                    'to drop these annotations with a warning.')
            raise ValueError(f'{name}: invalid annotations in '
                             f'{self.ann_file}:\n{listing}\n{advice}')
        self._skipped_ann_ids = frozenset(p.ann_id for p in problems)
        # every annotation sharing a skipped id goes (duplicates included)
        skipped = sum(ann.get('id') in self._skipped_ann_ids
                      for ann in coco['annotations'])
        self._file_counts = (num_img, num_ann, skipped)
        print_log(
            f'{name}: skipping {skipped} of {num_ann} annotations in '
            f'{self.ann_file} (skip_invalid_annotations=True):\n{listing}',
            logger='current', level=logging.WARNING)

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Checks the file, lets MMPose read it, then checks the images.

        Returns:
            tuple[list[dict], list[dict]]: MMPose's instance and image lists.
        """
        self._check_ann_file_exists()
        self._read_and_check_ann_file()
        instance_list, image_list = super()._load_annotations()
        paths = [info['img_path'] for info in instance_list]
        missing = find_missing_files(paths)
        if missing:
            listed = ', '.join(missing[:MAX_LISTED])
            more = (f' ... and {len(missing) - MAX_LISTED} more'
                    if len(missing) > MAX_LISTED else '')
            raise FileNotFoundError(
                f'{type(self).__name__}: {len(missing)} of '
                f'{len(set(paths))} image files that {self.ann_file} refers '
                f'to are missing: {listed}{more} (images are read from '
                f"data_prefix img='{self.data_prefix.get('img')}'). "
                f'{self.DATA_HINT}')
        return instance_list, image_list

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Drops the skipped annotations, then lets MMPose parse the rest."""
        if raw_data_info['raw_ann_info'].get('id') in self._skipped_ann_ids:
            return None
        return super().parse_data_info(raw_data_info)

    def filter_data(self) -> List[dict]:
        """Lets MMPose filter, then raises if no instance is left."""
        data_list = super().filter_data()
        if data_list:
            return data_list
        counts = ''
        if self._file_counts is not None:
            num_img, num_ann, skipped = self._file_counts
            counts = (f' The file has {num_img} images and {num_ann} '
                      'annotations' + (f', {skipped} of them skipped as '
                                       'invalid' if skipped else '') + '.')
        raise ValueError(
            f'{type(self).__name__}: no usable annotation in '
            f'{self.ann_file} (data_mode={self.data_mode!r}).{counts} MMPose '
            'keeps an annotation only when it has "bbox" and "keypoints", '
            'iscrowd 0, num_keypoints (given, or counted from the non-zero '
            'keypoints) above 0, a positive keypoint coordinate and a box '
            'with area inside the image.')

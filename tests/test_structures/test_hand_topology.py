"""Tests of the hand topology: the one owner of limbs, groups and channels."""
import ast
import os.path as osp

import pytest

from projects.nsrm.structures.hand_topology import (CHANNEL_NAMES,
                                                    GROUP_MODES,
                                                    HAND_G6_GROUPS,
                                                    HAND_LIMBS,
                                                    channel_members,
                                                    channel_names,
                                                    channel_slices,
                                                    num_mask_channels)
from projects.nsrm.testing import REPO


def test_limbs_are_the_onehand10k_skeleton():
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/onehand10k.py'))
    assert [tuple(link) for link in meta['skeleton_links']] == list(
        HAND_LIMBS)
    assert len(HAND_LIMBS) == 20


def test_g6_groups_partition_the_limbs_finger_by_finger():
    flat = sorted(i for g in HAND_G6_GROUPS for i in g)
    assert flat == list(range(20))  # every limb in exactly one group
    # fingers: the three limbs past the base; palm: the wrist limbs
    for f, group in enumerate(HAND_G6_GROUPS[:5]):
        assert [HAND_LIMBS[i] for i in group] == [
            (4 * f + 1, 4 * f + 2), (4 * f + 2, 4 * f + 3),
            (4 * f + 3, 4 * f + 4)]
    assert all(HAND_LIMBS[i][0] == 0 for i in HAND_G6_GROUPS[5])


def test_channel_slices_and_counts():
    assert channel_slices('G1') == dict(g1=slice(0, 1))
    assert channel_slices('G6') == dict(g6=slice(0, 6))
    assert channel_slices('G1&6') == dict(g1=slice(0, 1), g6=slice(1, 7))
    assert [num_mask_channels(g) for g in GROUP_MODES] == [1, 6, 7]
    assert channel_names('G1&6') == CHANNEL_NAMES == (
        'G1', 'thumb', 'index', 'middle', 'ring', 'little', 'palm')
    assert channel_names('G6') == CHANNEL_NAMES[1:]
    assert channel_names('G1') == ('G1', )
    with pytest.raises(ValueError, match="groups must be one of.*'G2'"):
        channel_slices('G2')


def test_channel_members_follow_the_channel_order():
    members = channel_members('G1&6', 20)
    assert members[0] == tuple(range(20))
    assert members[1:] == HAND_G6_GROUPS
    assert channel_members('G1', 20) == (tuple(range(20)), )
    assert channel_members('G6', 20) == HAND_G6_GROUPS
    with pytest.raises(ValueError, match='exactly 6 groups'):
        channel_members('G6', 20, HAND_G6_GROUPS[:5])
    with pytest.raises(ValueError, match=r'limb_groups\[5\].*\[20\]'):
        channel_members('G1&6', 20, HAND_G6_GROUPS[:5] + ((0, 20), ))


def imported_modules(path):
    """Top-level names of every module a source file imports."""
    tree = ast.parse(open(osp.join(REPO, path)).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add('.' * node.level + (node.module or '').split('.')[0])
    return names


def test_topology_and_limb_maths_import_neither_torch_nor_mmpose():
    assert imported_modules('projects/nsrm/structures/hand_topology.py') == {
        'typing'}
    assert imported_modules('projects/nsrm/codecs/utils/limb_masks.py') == {
        'functools', 'numbers', 'typing', 'numpy', '...structures'}

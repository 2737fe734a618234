"""The hand's limbs, the G6 groups and the structure-channel order of NSRM.

The one place these facts live: the limb masks, ``LimbMaskTarget``,
``NSRMHead`` and ``NSRMLoss`` all read them from here. Pure Python, no numpy,
torch or mmpose import.

Keypoints follow MMPose's 21-point hand order: 0 wrist, 1-4 thumb, 5-8 index,
9-12 middle, 13-16 ring and 17-20 little finger, base to tip.

Structure channels, by composition mode (paper Sec. 3.2)::

    'G1'    [G1]                                        C = 1
    'G6'    [thumb, index, middle, ring, little, palm]  C = 6
    'G1&6'  [G1, thumb, index, middle, ring, little, palm]   C = 7

G1 is the whole hand (every limb); each G6 channel is one finger's three
limbs, or the palm's five wrist-to-finger-base limbs.
"""
from typing import Dict, Sequence, Tuple

#: The 20 directed hand limbs (start, end) over the 21 keypoints. Identical
#: to ``skeleton_links`` of MMPose's ``onehand10k`` metainfo.
HAND_LIMBS: Tuple[Tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (0, 9), (9, 10), (10, 11), (11, 12),
    (0, 13), (13, 14), (14, 15), (15, 16),
    (0, 17), (17, 18), (18, 19), (19, 20),
)  # yapf: disable

#: The six G6 groups as tuples of LIMB indices into :data:`HAND_LIMBS`, in
#: channel order: thumb, index, middle, ring, little finger, palm.
HAND_G6_GROUPS: Tuple[Tuple[int, ...], ...] = (
    (1, 2, 3),
    (5, 6, 7),
    (9, 10, 11),
    (13, 14, 15),
    (17, 18, 19),
    (0, 4, 8, 12, 16),
)

#: Names of the structure channels of ``'G1&6'``, in channel order.
CHANNEL_NAMES: Tuple[str, ...] = ('G1', 'thumb', 'index', 'middle', 'ring',
                                  'little', 'palm')

#: Supported composition modes.
GROUP_MODES: Tuple[str, ...] = ('G1', 'G6', 'G1&6')

_NUM_G6 = len(HAND_G6_GROUPS)


def validate_groups(groups: str) -> str:
    """Check ``groups`` is one of :data:`GROUP_MODES`.

    Raises:
        ValueError: naming ``groups`` if unknown.
    """
    if not isinstance(groups, str) or groups not in GROUP_MODES:
        raise ValueError(f'groups must be one of {GROUP_MODES}, '
                         f'got {groups!r}')
    return groups


def channel_slices(groups: str) -> Dict[str, slice]:
    """Channel slices of the G1 and G6 terms of a composition mode.

    Args:
        groups (str): ``'G1'``, ``'G6'`` or ``'G1&6'``.

    Returns:
        Dict[str, slice]: ``{'g1': slice(0, 1)}`` for ``'G1'``,
        ``{'g6': slice(0, 6)}`` for ``'G6'`` and ``{'g1': slice(0, 1),
        'g6': slice(1, 7)}`` for ``'G1&6'``, in channel order.
    """
    validate_groups(groups)
    slices, start = {}, 0
    if groups in ('G1', 'G1&6'):
        slices['g1'] = slice(start, start + 1)
        start += 1
    if groups in ('G6', 'G1&6'):
        slices['g6'] = slice(start, start + _NUM_G6)
    return slices


def num_mask_channels(groups: str) -> int:
    """Number of structure channels: 1 (G1), 6 (G6) or 7 (G1&6)."""
    return max(s.stop for s in channel_slices(groups).values())


def channel_names(groups: str) -> Tuple[str, ...]:
    """Names of the structure channels of ``groups``, in channel order."""
    g6 = CHANNEL_NAMES[1:]
    names = {'G1': CHANNEL_NAMES[:1], 'G6': g6, 'G1&6': CHANNEL_NAMES}
    return names[validate_groups(groups)]


def validate_limb_groups(limb_groups: Sequence[Sequence[int]],
                         num_limbs: int,
                         groups: str = 'G1&6') -> Tuple[Tuple[int, ...], ...]:
    """Check G6 limb groups (tuples of LIMB indices).

    Only checked when ``groups`` uses G6 (``'G6'`` or ``'G1&6'``); for
    ``'G1'`` the groups are irrelevant and returned as an empty tuple.

    Args:
        limb_groups (Sequence[Sequence[int]]): Six sequences of limb indices.
        num_limbs (int): ``L``, the number of limbs.
        groups (str): Composition mode.

    Returns:
        Tuple[Tuple[int, ...], ...]: The groups as tuples of ints.

    Raises:
        ValueError: naming ``limb_groups`` if there are not exactly six
            groups or an index is outside ``[0, L)``.
    """
    validate_groups(groups)
    if groups == 'G1':
        return ()
    try:
        out = tuple(
            tuple(int(i) for i in g) if not isinstance(g, (str, bytes)) else
            None for g in limb_groups)
    except (TypeError, ValueError):
        raise ValueError('limb_groups must be a sequence of sequences of '
                         f'limb indices, got {limb_groups!r}') from None
    if any(g is None for g in out):
        raise ValueError('limb_groups must be a sequence of sequences of '
                         f'limb indices, got {limb_groups!r}')
    if len(out) != _NUM_G6:
        raise ValueError(f'limb_groups must hold exactly {_NUM_G6} groups '
                         f'for groups={groups!r}, got {len(out)}')
    for gi, g in enumerate(out):
        bad = [i for i in g if i < 0 or i >= num_limbs]
        if bad:
            raise ValueError(f'limb_groups[{gi}] references limb indices out '
                             f'of range [0, {num_limbs}): {bad}')
    return out


def channel_members(groups: str, num_limbs: int,
                    limb_groups: Sequence[Sequence[int]] = HAND_G6_GROUPS
                    ) -> Tuple[Tuple[int, ...], ...]:
    """Limb indices composed into each structure channel, in channel order.

    Args:
        groups (str): ``'G1'``, ``'G6'`` or ``'G1&6'``.
        num_limbs (int): ``L``; G1 holds all of ``range(L)``.
        limb_groups (Sequence[Sequence[int]]): The six G6 groups of limb
            indices. Defaults to :data:`HAND_G6_GROUPS`.

    Returns:
        Tuple[Tuple[int, ...], ...]: One tuple of limb indices per channel
        (``num_mask_channels(groups)`` of them).
    """
    limb_groups = validate_limb_groups(limb_groups, num_limbs, groups)
    members = []
    if 'g1' in channel_slices(groups):
        members.append(tuple(range(num_limbs)))
    members.extend(limb_groups)
    return tuple(members)

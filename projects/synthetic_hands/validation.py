"""Argument checks shared by the renderer and the data-set writer.

Every check raises a ``ValueError`` that names the argument and the allowed
range, so a wrong command-line value stops with a clear message.
"""
import numpy as np

#: Smallest and largest square image side in pixels.
MIN_IMG_SIZE = 64
MAX_IMG_SIZE = 4096


def check_int(name, value, minimum, maximum=None):
    """Return ``value`` as an int if it is an integer in the allowed range.

    Args:
        name (str): Argument name used in the error message.
        value (object): Value to check; ``bool`` is rejected.
        minimum (int): Smallest allowed value.
        maximum (int | None): Largest allowed value, None = unbounded.

    Returns:
        int: ``value`` as a plain Python int.

    Raises:
        ValueError: If ``value`` is not an integer or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f'{name} must be an integer, got {value!r}')
    if value < minimum or (maximum is not None and value > maximum):
        upper = '' if maximum is None else f' and <= {maximum}'
        raise ValueError(f'{name} must be >= {minimum}{upper}, got {value}')
    return int(value)


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``.

    Args:
        name (str): Argument name used in the error message.
        value (object): Value to check.
        choices (Iterable[str]): Allowed values (a dict: its keys).

    Returns:
        str: ``value``.

    Raises:
        ValueError: If ``value`` is not one of ``choices``; the message lists
            them.
    """
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        allowed = ', '.join(repr(c) for c in choices)
        raise ValueError(f'{name} must be one of {allowed}, got {value!r}')
    return value


def check_img_size(img_size):
    """Return ``img_size`` as an int in ``[MIN_IMG_SIZE, MAX_IMG_SIZE]``.

    Raises:
        ValueError: If it is not an integer in that range.
    """
    return check_int('img_size', img_size, MIN_IMG_SIZE, MAX_IMG_SIZE)


def check_settings(num_train, num_val, seed, img_size, workers):
    """Validate the data-set generation settings.

    Args:
        num_train (int): Number of training images, >= 0.
        num_val (int): Number of validation images, >= 0; the two counts
            must not both be 0.
        seed (int): Base seed, >= 0.
        img_size (int): Square image side, see :func:`check_img_size`.
        workers (int | None): Worker processes, >= 1, or None.

    Returns:
        tuple: ``(num_train, num_val, seed, img_size, workers)`` as plain
        ints (``workers`` stays None when it was None).

    Raises:
        ValueError: Naming the first argument that is out of range.
    """
    num_train = check_int('num_train', num_train, 0)
    num_val = check_int('num_val', num_val, 0)
    if num_train + num_val == 0:
        raise ValueError('num_train + num_val must be > 0')
    seed = check_int('seed', seed, 0)
    img_size = check_img_size(img_size)
    if workers is not None:
        workers = check_int('workers', workers, 1)
    return num_train, num_val, seed, img_size, workers

"""Parameters and FLOPs of a top-down model's feature extractor and head,
counted the way MMPose's ``tools/analysis_tools/get_flops.py`` counts them.

The add-on configs (``configs/nsrm_addon/``) state these numbers in their
headers and keep the NSRM head at most half the backbone's FLOPs; the tests
measure them with :func:`backbone_and_head_cost`.
"""
import copy
from typing import Dict, Sequence, Union

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmpose.registry import MODELS
from mmpose.utils import register_all_modules


def _checked_input_size(input_size: Sequence[int]) -> tuple:
    """``input_size`` as ``(w, h)`` ints, or a ValueError naming it."""
    try:
        w, h = (int(s) for s in input_size)
        ok = [w, h] == list(input_size) and w > 0 and h > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError('input_size must be two positive integers (w, h), '
                         f'e.g. (256, 256), got {input_size!r}')
    return w, h


def backbone_and_head_cost(cfg: Union[Config, str],
                           input_size: Sequence[int] = (256, 256)
                           ) -> Dict[str, int]:
    """Parameters and FLOPs of the feature extractor and of the head of the
    top-down model a config builds.

    Counted as MMPose's ``get_flops.py`` does: MMEngine's
    :class:`~mmengine.analysis.FlopAnalyzer` traces ``model._forward`` (the
    backbone, the neck and ``head.forward``; no flip test, no decoding) on
    one (1, 3, h, w) input. One fused multiply-add counts as one FLOP and
    element-wise additions are not counted (fvcore's convention, the one
    MMPose's tables use). Parameters are MMEngine's ``parameter_count``.
    The model is built without its ``init_cfg`` weights (nothing is
    downloaded); ``cfg`` is not modified.

    Args:
        cfg (Config | str): A config (or its path) whose ``model`` is a
            top-down estimator with a ``head`` (and optionally a ``neck``).
        input_size (Sequence[int]): The model input ``(w, h)``. Defaults to
            ``(256, 256)``.

    Returns:
        dict[str, int]: ``backbone_params``, ``backbone_flops`` (everything
        ``extract_feat`` runs: the backbone and the neck), ``head_params``,
        ``head_flops`` (everything after ``extract_feat``: the head,
        including its functional calls such as a bilinear resize, which
        counts 4 FLOPs per output element), ``total_params`` and
        ``total_flops``.

    Raises:
        ValueError: ``input_size`` is not two positive integers, or the
            config's ``model`` has no ``backbone`` or ``head``.
    """
    w, h = _checked_input_size(input_size)
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    model_cfg = copy.deepcopy(cfg.get('model', None))
    if not model_cfg or 'backbone' not in model_cfg or 'head' not in \
            model_cfg:
        raise ValueError('backbone_and_head_cost needs a config whose '
                         '`model` has a `backbone` and a `head` (a top-down '
                         f'estimator), got model={model_cfg!r}')
    model_cfg['backbone'].pop('init_cfg', None)
    register_all_modules(init_default_scope=False)
    # MMPose's scope for the modules the model builds itself (e.g. its data
    # preprocessor), as mmpose.apis.init_model sets, without changing the
    # process's default scope
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpose')):
        model = MODELS.build(model_cfg).eval()
    # get_flops.py's way of tracing the network without data samples
    model.forward = model._forward

    analyzer = FlopAnalyzer(model, (torch.zeros(1, 3, h, w), ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    params = parameter_count(model)
    extractor = ['backbone'] + (['neck'] if model.with_neck else [])
    backbone_flops = sum(analyzer.total(name) for name in extractor)
    return dict(
        backbone_params=sum(params[name] for name in extractor),
        backbone_flops=backbone_flops,
        head_params=params['head'],
        # what runs after extract_feat; the tracer files functional calls
        # such as the head's F.interpolate under no module
        head_flops=analyzer.total() - backbone_flops,
        total_params=params[''],
        total_flops=analyzer.total())

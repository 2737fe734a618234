"""ONNX export of a top-down MMPose model (NSRM, CPM or a plain heatmap
head), with the metadata that makes the file self-describing.

The exported graph is the network only, from the normalised crop to the
maps::

    input       (N, 3, h_in, w_in) float32   normalised crop (BGR->RGB,
                                             (x - mean) / std as the
                                             model's data preprocessor)
    heatmaps    (N, K, H, W)       float32   the head's last pose stage
    limb_masks  (N, C, H, W)       float32   sigmoid of the last structure
                                             stage (NSRM heads only)

with a dynamic batch axis N. Everything else a runtime needs to turn an
image and boxes into keypoints (crop, normalisation, flip test, codec) is
written as JSON strings in the file's ``metadata_props``
(:data:`METADATA_KEYS`); :func:`parse_metadata` reads them back and
:class:`~projects.nsrm.deploy.onnx_inference.OnnxPoseModel` uses them.

The exporter is PyTorch's TorchScript-based one (``torch.onnx.export(...,
dynamo=False)``): it needs ``onnx`` but not ``onnxscript``, exports the
CPU configs' models in under a second (VGG-19 / HRNet-W18 / ResNet-50 NSRM:
10-40 s on one core) and matches PyTorch to ~1e-7. ``dynamo=True``
(``torch.export`` + ``onnxscript``) is an option; it gives the same numbers,
4-30x slower to export (HRNet-W18: 140 s). ``onnx`` and
``onnxruntime`` are imported inside the functions that need them, so
importing this module needs neither.
"""
import inspect
import json
import os
import os.path as osp
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from mmpose.datasets.transforms import GetBBoxCenterScale, TopdownAffine

from ..datasets.transforms.fast_pack_pose_inputs import PACK_TRANSFORMS
from ..structures.hand_topology import channel_names

#: Name of the graph's input.
INPUT_NAME = 'input'

#: Names of the graph's outputs, in order (``limb_masks`` only for heads
#: with structure stages).
OUTPUT_NAMES = ('heatmaps', 'limb_masks')

#: Version of the metadata layout below.
FORMAT_VERSION = 1

#: The ``metadata_props`` an exported file carries (each value a JSON
#: string) and what they hold.
METADATA_KEYS = {
    'nsrm_onnx_format': 'version of this metadata layout (int)',
    'input_name': 'name of the graph input ("input")',
    'output_names': 'names of the graph outputs, in order',
    'input_size': 'model input (crop) size [w, h]',
    'heatmap_size': 'output grid size [W, H]',
    'mean': 'per-channel mean subtracted after the channel swap (3 floats)',
    'std': 'per-channel std divided by (3 floats)',
    'bgr_to_rgb': 'swap the channels of a BGR image first (bool)',
    'pipeline': 'the test pipeline transforms that make the crop (dicts '
    'for mmpose TRANSFORMS: GetBBoxCenterScale + TopdownAffine, or '
    'WholeImageResize)',
    'bbox_padding': 'GetBBoxCenterScale padding (null: whole image)',
    'use_udp': 'TopdownAffine use_udp (null: whole image)',
    'codec': 'the head decoder config (mmpose KEYPOINT_CODECS), with the '
    'exported input_size / heatmap_size',
    'flip_test': 'average with the horizontally flipped crop (bool)',
    'flip_mode': 'flip_heatmaps mode of the flip test',
    'shift_heatmap': 'shift the flipped maps by one pixel (bool)',
    'flip_indices': 'keypoint index of each keypoint\'s mirror (K ints)',
    'num_keypoints': 'K',
    'keypoint_names': 'K names (dataset metainfo), may be empty',
    'structure_groups': 'limb grouping of limb_masks (G1, G6, G1&6) or null',
    'structure_channels': 'names of the limb_masks channels (C), or []',
    'dataset_name': 'dataset_meta dataset_name, or ""',
    'source_config': 'file name of the config the model was built from',
    'exporter': 'how the file was made (torch version, exporter)',
}

#: Test-pipeline transforms that build the model input from an image and a
#: box; OnnxPoseModel runs them (from mmpose / projects.nsrm TRANSFORMS).
CROP_TRANSFORMS = ('GetBBoxCenterScale', 'TopdownAffine', 'WholeImageResize')

#: Test-pipeline transforms that do not change the model input at inference
#: (loading, targets, packing): skipped.
SKIPPED_TRANSFORMS = ('LoadImage', 'GenerateTarget', 'LimbMaskTarget',
                      'LoadHandMask', 'HandMaskTarget', *PACK_TRANSFORMS)

INSTALL_HINT = ('pip install onnx onnxruntime (the versions pinned in '
                'requirements/runtime.txt)')


def import_onnx_package(name: str):
    """Imports ``onnx`` or ``onnxruntime`` with a clear error when missing.

    Args:
        name (str): ``'onnx'``, ``'onnxruntime'`` or ``'onnxscript'``.

    Returns:
        module: The imported package.
    """
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f'ONNX export / inference needs the {name!r} package, which is '
            f'not installed ({err}): {INSTALL_HINT}') from err


def _type_name(cfg: dict) -> str:
    """``cfg['type']`` as a string (a class is given by its name)."""
    t = cfg.get('type', None)
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def _plain(obj: Any) -> Any:
    """``obj`` as plain JSON types (ConfigDict -> dict, tuple/array ->
    list, class -> its name)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, type):
        return obj.__name__
    return obj


def _default(cls: type, arg: str) -> Any:
    """Default value of ``cls.__init__``'s argument ``arg``."""
    return inspect.signature(cls.__init__).parameters[arg].default


class PoseOnnxWrapper(nn.Module):
    """The exportable network of a top-down pose estimator: backbone (+neck)
    and head, from the normalised crop to the maps.

    Works for :class:`~projects.nsrm.models.NSRMHead` (``forward`` returns
    ``(structure_outs, pose_outs)``), for MMPose's multi-stage heads that
    return a list of heatmaps (e.g. ``CPMHead``: the last is used) and for
    plain heatmap heads that return one tensor (e.g. ``HeatmapHead``).

    Args:
        model (nn.Module): A built ``TopdownPoseEstimator`` with a head,
            in eval mode.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        if not (hasattr(model, 'extract_feat')
                and getattr(model, 'head', None) is not None):
            raise ValueError(
                'PoseOnnxWrapper needs a top-down pose estimator with a head '
                '(mmpose TopdownPoseEstimator, e.g. from '
                f'mmpose.apis.init_model), got {type(model).__name__}')
        self.model = model

    @property
    def has_limb_masks(self) -> bool:
        """Whether the head has structure stages (an ``limb_masks``
        output)."""
        return getattr(self.model.head, 'num_structure_stages', 0) > 0

    @property
    def output_names(self) -> Tuple[str, ...]:
        """``('heatmaps', 'limb_masks')`` or ``('heatmaps',)``."""
        return OUTPUT_NAMES if self.has_limb_masks else OUTPUT_NAMES[:1]

    def forward(self, input: Tensor) -> Tuple[Tensor, ...]:
        """Runs the network.

        Args:
            input (Tensor): Normalised crops in shape (N, 3, h_in, w_in).

        Returns:
            Tuple[Tensor, ...]: ``heatmaps`` (N, K, H, W) and, with structure
            stages, ``limb_masks`` (N, C, H, W) in [0, 1].
        """
        outs = self.model.head.forward(self.model.extract_feat(input))
        if (isinstance(outs, tuple) and len(outs) == 2
                and all(isinstance(o, (list, tuple)) for o in outs)):
            structure_outs, pose_outs = outs  # NSRMHead
            if structure_outs:
                return pose_outs[-1], structure_outs[-1].sigmoid()
            return (pose_outs[-1], )
        if isinstance(outs, (list, tuple)):  # multi-stage heads (CPMHead)
            return (outs[-1], )
        if isinstance(outs, Tensor):
            return (outs, )
        raise TypeError(
            f'{type(self.model.head).__name__}.forward returned '
            f'{type(outs).__name__}; PoseOnnxWrapper exports heads whose '
            'forward returns heatmaps (a tensor, a list of stages, or '
            "NSRMHead's (structure_outs, pose_outs))")


def crop_pipeline(cfg, input_size: Optional[Sequence[int]] = None
                  ) -> List[dict]:
    """The crop transforms of a config's test pipeline, with defaults
    filled in.

    Args:
        cfg (Config): The model's config (``test_dataloader.dataset.
            pipeline`` is read).
        input_size (Sequence[int], optional): ``(w, h)`` replacing the
            ``input_size`` of ``TopdownAffine`` / ``WholeImageResize``.

    Returns:
        List[dict]: Plain transform dicts, e.g. ``[{'type':
        'GetBBoxCenterScale', 'padding': 1.25}, {'type': 'TopdownAffine',
        'input_size': [128, 128], 'use_udp': False}]``.
    """
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except (AttributeError, KeyError) as err:
        raise ValueError(
            'the config has no test_dataloader.dataset.pipeline; export '
            'needs it to record how the model input is cropped') from err
    steps = []
    for step in pipeline:
        name = _type_name(step)
        if name in SKIPPED_TRANSFORMS:
            continue
        if name not in CROP_TRANSFORMS:
            raise ValueError(
                f'test_dataloader.dataset.pipeline: transform {name!r} is '
                'not reproduced by OnnxPoseModel, which supports crops made '
                f'by {CROP_TRANSFORMS} (skipping {SKIPPED_TRANSFORMS})')
        step = _plain(dict(step))
        step['type'] = name
        if name == 'GetBBoxCenterScale':
            step.setdefault('padding',
                            _default(GetBBoxCenterScale, 'padding'))
        if name == 'TopdownAffine':
            step.setdefault('use_udp', _default(TopdownAffine, 'use_udp'))
        if name != 'GetBBoxCenterScale' and input_size is not None:
            step['input_size'] = [int(s) for s in input_size]
        steps.append(step)
    names = [s['type'] for s in steps]
    if names not in (['GetBBoxCenterScale', 'TopdownAffine'],
                     ['WholeImageResize']):
        raise ValueError(
            'test_dataloader.dataset.pipeline: expected GetBBoxCenterScale '
            'then TopdownAffine (a top-down crop) or WholeImageResize, got '
            f'{names}')
    return steps


def _model_cfg(model: nn.Module):
    """``model.cfg``, with a clear error when it is not set."""
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError(
            'export needs the model config as model.cfg (build the model '
            'with mmpose.apis.init_model, or set model.cfg = Config)')
    return cfg


def deploy_metadata(model: nn.Module, input_size: Sequence[int],
                    heatmap_shape: Sequence[int],
                    exporter: str = 'torch.onnx.export') -> Dict[str, str]:
    """The ``metadata_props`` of an exported model (:data:`METADATA_KEYS`).

    Args:
        model (nn.Module): A ``TopdownPoseEstimator`` with ``cfg`` (its
            config, as ``mmpose.apis.init_model`` sets it) and
            ``dataset_meta``.
        input_size (Sequence[int]): Exported input size ``(w, h)``.
        heatmap_shape (Sequence[int]): Shape ``(K, H, W)`` of one sample's
            ``heatmaps`` output.
        exporter (str): How the file is made, recorded as ``exporter``.

    Returns:
        Dict[str, str]: Key -> JSON string.
    """
    cfg = _model_cfg(model)
    head = model.head
    num_keypoints, heatmap_size = int(heatmap_shape[0]), (
        int(heatmap_shape[2]), int(heatmap_shape[1]))
    decoder = cfg.model.get('head', {}).get('decoder', None)
    if decoder is None or 'heatmap_size' not in decoder:
        raise ValueError(
            'model.head.decoder: export needs the heatmap codec of the head '
            f'(a dict with input_size and heatmap_size), got {decoder}')
    codec = _plain(dict(decoder))
    codec['type'] = _type_name(decoder)
    codec['input_size'] = [int(s) for s in input_size]
    codec['heatmap_size'] = [int(s) for s in heatmap_size]

    pre = model.data_preprocessor
    if getattr(pre, '_enable_normalize', False):
        # float32 buffers, written as their shortest float32 str
        mean = [float(str(np.float32(v))) for v in pre.mean.flatten()]
        std = [float(str(np.float32(v))) for v in pre.std.flatten()]
    else:
        mean, std = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]

    test_cfg = dict(model.test_cfg or {})
    meta = dict(getattr(model, 'dataset_meta', None) or {})
    flip_indices = _plain(meta.get('flip_indices', []))
    flip_test = bool(test_cfg.get('flip_test', False))
    if flip_test and len(flip_indices) != num_keypoints:
        raise ValueError(
            'model.test_cfg.flip_test is True but model.dataset_meta has '
            f'{len(flip_indices)} flip_indices for {num_keypoints} heatmaps')
    id2name = meta.get('keypoint_id2name', {}) or {}
    groups = None
    if getattr(head, 'num_structure_stages', 0) > 0:
        groups = head.groups
    steps = crop_pipeline(cfg, input_size)
    crop = {s['type']: s for s in steps}
    values = dict(
        nsrm_onnx_format=FORMAT_VERSION,
        input_name=INPUT_NAME,
        output_names=list(OUTPUT_NAMES if groups else OUTPUT_NAMES[:1]),
        input_size=[int(s) for s in input_size],
        heatmap_size=list(heatmap_size),
        mean=mean,
        std=std,
        bgr_to_rgb=bool(getattr(pre, '_channel_conversion', False)),
        pipeline=steps,
        bbox_padding=crop.get('GetBBoxCenterScale', {}).get('padding'),
        use_udp=crop.get('TopdownAffine', {}).get('use_udp'),
        codec=codec,
        flip_test=flip_test,
        flip_mode=test_cfg.get('flip_mode', 'heatmap'),
        shift_heatmap=bool(test_cfg.get('shift_heatmap', False)),
        flip_indices=flip_indices,
        num_keypoints=num_keypoints,
        keypoint_names=[id2name[i] for i in sorted(id2name)],
        structure_groups=groups,
        structure_channels=list(channel_names(groups)) if groups else [],
        dataset_name=meta.get('dataset_name', '') or '',
        source_config=osp.basename(getattr(cfg, 'filename', '') or ''),
        exporter=f'torch {torch.__version__} {exporter}',
    )
    return {k: json.dumps(_plain(v)) for k, v in values.items()}


def parse_metadata(props: Dict[str, str], source: str = 'model'
                   ) -> Dict[str, Any]:
    """Parses the ``metadata_props`` written by :func:`export_onnx`.

    Args:
        props (Dict[str, str]): Key -> JSON string (e.g. onnxruntime's
            ``get_modelmeta().custom_metadata_map``).
        source (str): The file, named in errors.

    Returns:
        Dict[str, Any]: Key -> value, every key of :data:`METADATA_KEYS`.
    """
    missing = [k for k in METADATA_KEYS if k not in props]
    if missing:
        raise ValueError(
            f'{source}: metadata {missing} missing; export the model with '
            'projects.nsrm.deploy.export_onnx (tools/deploy/export_onnx.py)')
    out = {}
    for key in METADATA_KEYS:
        try:
            out[key] = json.loads(props[key])
        except json.JSONDecodeError as err:
            raise ValueError(f'{source}: metadata {key!r} is not JSON: '
                             f'{props[key]!r}') from err
    if out['nsrm_onnx_format'] != FORMAT_VERSION:
        raise ValueError(
            f'{source}: metadata format {out["nsrm_onnx_format"]}, this '
            f'code reads format {FORMAT_VERSION}; re-export the model')
    return out


def read_metadata(path: str) -> Dict[str, Any]:
    """The parsed metadata of an exported file (needs ``onnxruntime``)."""
    ort = import_onnx_package('onnxruntime')
    if not osp.isfile(path):
        raise FileNotFoundError(f'ONNX file not found: {path}')
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return parse_metadata(sess.get_modelmeta().custom_metadata_map, path)


def _fix_output_shapes(graph, shapes: Dict[str, Sequence[int]]) -> None:
    """Writes the static (C, H, W) of each output into the graph (the
    TorchScript exporter leaves them symbolic behind a dynamic batch)."""
    for value in graph.output:
        dims = value.type.tensor_type.shape.dim
        for dim, size in zip(list(dims)[1:], shapes[value.name][1:]):
            dim.Clear()
            dim.dim_value = int(size)


def export_onnx(model: nn.Module,
                path: str,
                input_size: Optional[Sequence[int]] = None,
                opset: int = 17,
                dynamo: bool = False) -> Dict[str, str]:
    """Exports a top-down pose estimator to an ONNX file with metadata.

    Args:
        model (nn.Module): A ``TopdownPoseEstimator`` built by
            ``mmpose.apis.init_model`` (``cfg`` and ``dataset_meta`` set),
            on any device; it is put in eval mode.
        path (str): The ``.onnx`` file to write (folders are created).
        input_size (Sequence[int], optional): Input size ``(w, h)``.
            Defaults to the test pipeline's ``TopdownAffine`` /
            ``WholeImageResize`` input size.
        opset (int): ONNX opset version. Defaults to 17.
        dynamo (bool): Use the ``torch.export``-based exporter (needs
            ``onnxscript``) instead of the TorchScript one. Defaults to
            False.

    Returns:
        Dict[str, str]: The metadata written (key -> JSON string).
    """
    onnx = import_onnx_package('onnx')
    if dynamo:
        import_onnx_package('onnxscript')
    wrapper = PoseOnnxWrapper(model).eval()
    if input_size is None:
        crop = crop_pipeline(_model_cfg(model))
        input_size = crop[-1]['input_size']
    input_size = [int(s) for s in input_size]
    if len(input_size) != 2 or min(input_size) < 1:
        raise ValueError(f'input_size must be (w, h) > 0, got {input_size}')
    w, h = input_size
    device = next(model.parameters()).device
    # batch 2: the dynamo exporter specialises a batch of 1
    dummy = torch.zeros(2, 3, h, w, device=device)
    with torch.no_grad():
        outs = wrapper(dummy)
    names = wrapper.output_names
    shapes = {n: tuple(o.shape) for n, o in zip(names, outs)}
    metadata = deploy_metadata(
        model, input_size, outs[0].shape[1:],
        f'torch.onnx.export(dynamo={dynamo}, opset_version={opset})')

    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated but kept on purpose (see the
        # module docstring); its tracer warns on NSRMHead's shape check,
        # which is constant for the fixed input size (check_parity verifies)
        warnings.filterwarnings('ignore', category=DeprecationWarning,
                                message='You are using the legacy')
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        kwargs = dict(dynamic_shapes=({0: torch.export.Dim('batch')}, )) \
            if dynamo else dict(dynamic_axes={
                n: {0: 'batch'} for n in (INPUT_NAME, *names)})
        torch.onnx.export(wrapper, (dummy, ), path, input_names=[INPUT_NAME],
                          output_names=list(names), opset_version=opset,
                          dynamo=dynamo, external_data=False, **kwargs)
    proto = onnx.load(path)
    _fix_output_shapes(proto.graph, shapes)
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = ('Top-down pose model exported by projects.nsrm.'
                        'deploy; metadata_props describe pre/post-processing')
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    return metadata


def check_parity(model: nn.Module, path: str, num: int = 2,
                 seed: int = 0) -> Dict[str, float]:
    """Max abs difference between PyTorch and ONNX Runtime (CPU) outputs.

    Args:
        model (nn.Module): The exported ``TopdownPoseEstimator`` (any
            device; TF32 is turned off for the reference on CUDA).
        path (str): Its ``.onnx`` file from :func:`export_onnx`.
        num (int): Batch size of the random input. Defaults to 2.
        seed (int): Seed of the input, standard normal in shape
            (num, 3, h_in, w_in). Defaults to 0.

    Returns:
        Dict[str, float]: Output name -> max |PyTorch - ONNX Runtime|.
    """
    ort = import_onnx_package('onnxruntime')
    if num < 1:
        raise ValueError(f'num must be >= 1, got {num}')
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    meta = parse_metadata(sess.get_modelmeta().custom_metadata_map, path)
    w, h = meta['input_size']
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(num, 3, h, w, generator=gen)
    wrapper = PoseOnnxWrapper(model).eval()
    device = next(model.parameters()).device
    tf32 = (torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        with torch.no_grad():
            ref = [o.float().cpu().numpy() for o in wrapper(x.to(device))]
    finally:
        (torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = tf32
    names = [o.name for o in sess.get_outputs()]
    if tuple(names) != wrapper.output_names:
        raise ValueError(f'{path}: outputs {names}, the model gives '
                         f'{list(wrapper.output_names)}')
    got = sess.run(names, {INPUT_NAME: x.numpy()})
    return {
        n: float(np.abs(r.astype(np.float64) - g).max())
        for n, r, g in zip(names, ref, got)
    }

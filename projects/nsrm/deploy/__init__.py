"""Deployment: ONNX export of a top-down model with self-describing metadata
and ONNX Runtime inference with MMPose's pre- and post-processing.

``onnx`` / ``onnxruntime`` are imported only when a function needs them
(``pip install onnx onnxruntime``, pinned in requirements/runtime.txt).
"""
from .onnx_export import (METADATA_KEYS, PoseOnnxWrapper, check_parity,
                          export_onnx, parse_metadata, read_metadata)
from .onnx_inference import OnnxPoseModel

__all__ = [
    'METADATA_KEYS', 'OnnxPoseModel', 'PoseOnnxWrapper', 'check_parity',
    'export_onnx', 'parse_metadata', 'read_metadata'
]

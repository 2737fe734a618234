"""Exports a top-down pose checkpoint (NSRM, CPM or a heatmap baseline) to
ONNX and checks it against PyTorch.

Writes FILE.onnx: input ``input`` (N, 3, h, w), the normalised crop;
outputs ``heatmaps`` (N, K, H, W) and, for NSRM, ``limb_masks`` (N, C, H, W)
(sigmoid of the last structure stage); dynamic batch; the crop,
normalisation, flip test, codec, structure channels and dataset written in
the file's metadata (``projects/nsrm/deploy/onnx_export.py``). Then runs
PyTorch and ONNX Runtime (CPU) on the same seeded random input, prints the
max abs difference of every output and exits with 1 if one is >= 1e-4.

Example::

    python tools/deploy/export_onnx.py \
        configs/nsrm/lpm_g1g6_synthetic_cpu.py \
        work_dirs/lpm_g1g6_synthetic_cpu/epoch_12.pth \
        --out work_dirs/lpm_g1g6_synthetic_cpu/lpm_g1g6.onnx

Run it with ``projects.nsrm.deploy.OnnxPoseModel(FILE).predict(image,
bboxes)``. Needs ``onnx`` and ``onnxruntime`` (requirements/runtime.txt).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

#: Max abs difference (PyTorch vs ONNX Runtime) above which the export
#: fails.
TOLERANCE = 1e-4


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a top-down pose model to ONNX (with metadata) '
        'and check it against PyTorch with ONNX Runtime.')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--out', required=True, help='the .onnx to write')
    parser.add_argument(
        '--input-size', type=int, nargs=2, metavar=('W', 'H'),
        help='model input size (default: the test pipeline\'s '
        'TopdownAffine input_size)')
    parser.add_argument('--opset', type=int, default=17,
                        help='ONNX opset version (default: 17)')
    parser.add_argument('--device', default='cpu',
                        help='device of the PyTorch model, e.g. cpu or '
                        'cuda:0 (default: cpu)')
    parser.add_argument(
        '--dynamo', action='store_true',
        help='use the torch.export-based exporter (needs onnxscript) '
        'instead of the TorchScript one')
    return parser.parse_args(argv)


def check_inputs(args: argparse.Namespace) -> None:
    """Clear errors for missing files, packages and devices, before any
    model is built."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint file not found: {args.checkpoint}')
    if not args.out.endswith('.onnx'):
        raise ValueError(f'--out: {args.out} must be a .onnx file')
    if args.input_size is not None and min(args.input_size) < 1:
        raise ValueError(f'--input-size: {args.input_size} must be > 0')
    from projects.nsrm.deploy.onnx_export import import_onnx_package
    import_onnx_package('onnx')
    import_onnx_package('onnxruntime')
    if args.dynamo:
        import_onnx_package('onnxscript')
    import torch
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError(f'--device {args.device}: CUDA is not available '
                           'here; use --device cpu')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_inputs(args)
    except (FileNotFoundError, ImportError, RuntimeError, ValueError) as err:
        print(f'export_onnx.py: error: {err}', file=sys.stderr)
        return 1

    import projects.nsrm  # noqa: F401  registers modules, safe checkpoints
    from mmpose.apis import init_model
    from projects.nsrm.deploy.onnx_export import (check_parity, export_onnx,
                                                  parse_metadata)
    from projects.nsrm.utils.runner_setup import silence_known_warnings

    silence_known_warnings()
    model = init_model(args.config, args.checkpoint, device=args.device)
    try:
        meta = export_onnx(model, args.out, input_size=args.input_size,
                           opset=args.opset, dynamo=args.dynamo)
    except ValueError as err:
        print(f'export_onnx.py: error: {err}', file=sys.stderr)
        return 1
    meta = parse_metadata(meta, args.out)
    print(f'Saved {args.out}: outputs {meta["output_names"]}, input size '
          f'{meta["input_size"]}, structure channels '
          f'{meta["structure_channels"]}, codec {meta["codec"]}')
    diffs = check_parity(model, args.out)
    for name, diff in diffs.items():
        print(f'{name}: max |PyTorch - ONNX Runtime| = {diff:.3e}')
    bad = {n: d for n, d in diffs.items() if not d < TOLERANCE}
    if bad:
        print(f'export_onnx.py: error: {args.out} differs from PyTorch by '
              f'{bad} (>= {TOLERANCE:g}); do not deploy it', file=sys.stderr)
        return 1
    print(f'Parity OK (< {TOLERANCE:g})')
    return 0


if __name__ == '__main__':
    sys.exit(main())

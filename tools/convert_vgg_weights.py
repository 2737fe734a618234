"""Converts ImageNet VGG weights (torchvision or MMPretrain) for MMPose.

Example (torchvision's ImageNet VGG-19 file, downloaded by hand):
    python tools/convert_vgg_weights.py vgg19-dcbb9e9d.pth \
        checkpoints/vgg19_imagenet_mmpose.pth

The output is a plain ``{'state_dict': ...}`` file for the backbone's
``init_cfg=dict(type='Pretrained', checkpoint=...)``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from projects.nsrm.utils.vgg_weights import \
    convert_vgg_state_dict  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='torchvision or MMPretrain VGG weights')
    parser.add_argument('dst', help='output file for MMPose VGG')
    parser.add_argument('--depth', type=int, default=19)
    args = parser.parse_args()
    if not osp.isfile(args.src):
        parser.error(f'weights file not found: {args.src}')
    src = torch.load(args.src, map_location='cpu', weights_only=True)
    state_dict = convert_vgg_state_dict(src, depth=args.depth)
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save({'state_dict': state_dict}, args.dst)
    print(f'wrote {len(state_dict)} tensors '
          f'({len(state_dict) // 2} convolutions) to {args.dst}')


if __name__ == '__main__':
    main()

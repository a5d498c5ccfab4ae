"""Segment your own images with an FCN config and checkpoint.

Writes, under --out-dir, labels/<name>.png (palette PNG: pixel value = class index,
colours from the checkpoint's dataset_meta or the config's dataset) and
overlays/<name>.png (the colours blended over the image). Folders are searched
recursively for .jpg .jpeg .png .bmp .tif .tiff.

The config's data_preprocessor must match where the weights came from:
  Caffe-derived (tools/convert_weights.py from .caffemodel or pytorch-fcn):
      BGR 0-255, mean (104.00699, 116.66877, 122.67892), std 1, bgr_to_rgb=False
      -> data_preprocessor=dict(type='FCNDataPreProcessor', weights='caffe')
  torchvision VGG16 based: RGB, ImageNet mean/std
      -> data_preprocessor=dict(type='FCNDataPreProcessor', weights='torchvision')

Example:
  python -m mmseg_fcn_classic.tools.infer configs/fcn8s_vgg16_voc.py fcn8s_voc.pth photos/ \\
      --out-dir out --device cpu --timing
"""
import argparse
import sys
from typing import List, Optional

import torch
from mmengine.config import DictAction

from ..apis import init_model, run_inference
from .common import add_malloc_arg, keep_freed_memory


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint (e.g. from convert_weights.py)')
    parser.add_argument('inputs', nargs='+', help='image files and/or folders')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--device', default=None,
                        help="e.g. 'cpu' or 'cuda:0' (default: cuda:0 if available)")
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='colour weight in the overlays, 0-1 (default 0.5)')
    parser.add_argument('--timing', action='store_true',
                        help='print the model time of every image')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    add_malloc_arg(parser, default=True)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    if device == 'cpu':
        keep_freed_memory(args.keep_freed_memory)
    try:
        model = init_model(args.config, args.checkpoint, device=device,
                               cfg_options=args.cfg_options)
        records = run_inference(model, args.inputs, args.out_dir, opacity=args.opacity,
                                timing=args.timing, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {len(records)} label and overlay PNGs under {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

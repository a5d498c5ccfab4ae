"""Segment your own images with an FCN config and checkpoint.

Writes, under --out-dir, labels/<name>.png (palette PNG: pixel value = class index,
colours from the checkpoint's dataset_meta or the config's dataset) and
overlays/<name>.png (the colours blended over the image). Folders are searched
recursively for .jpg .jpeg .png .bmp .tif .tiff.

The config's data_preprocessor must match where the weights came from:
  Caffe-derived (mmseg-fcn-convert-weights from .caffemodel or pytorch-fcn):
      BGR 0-255, mean (104.00699, 116.66877, 122.67892), std 1, bgr_to_rgb=False
      -> data_preprocessor=dict(type='FCNDataPreProcessor', weights='caffe')
  torchvision VGG16 based: RGB, ImageNet mean/std
      -> data_preprocessor=dict(type='FCNDataPreProcessor', weights='torchvision')

Multi-modal models (NYUDv2 colour + HHA / depth; the config's data_preprocessor is
MultiModalDataPreProcessor) read several images per sample: the inputs are the
first modality's images (colour; HHA for the HHA-only net) and --hha DIR / --depth
DIR give the folders of the other modalities' images, matched by file name (same
relative path and name; any image suffix, the input's own first). HHA images are
8-bit 3-channel PNGs used in file channel order, depth images 16-bit PNGs in
millimetres (a depth of 0 is an error unless the config's loader has depth_fill).

A multi-head model (SIFT Flow's semantic + geometric net) is segmented with its
primary head (the semantic labels); --head NAME (e.g. --head geo) writes that
head's labels and overlays instead, in its own colours.

The checkpoint must fit the model (a missing, unexpected or mis-sized tensor is an
error naming it; --non-strict loads only what fits). An image that cannot be read,
or is larger than --max-pixels, is reported and skipped; the others are segmented,
and the exit status is 1 if any image failed.

CONFIG is a file or a shipped config by name.

Example (python -m mmseg_fcn_classic.tools.infer works too; from a clone,
python tools/infer.py):
  mmseg-fcn-infer fcn8s_vgg16_voc fcn8s_voc.pth photos/ --out-dir out --device cpu
  mmseg-fcn-infer fcn32s_vgg16_nyud-color-hha nyud_color_hha.pth \\
      data/nyud/data/images --hha data/nyud/data/hha --out-dir out
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
from typing import List, Optional, Tuple

import torch
from mmengine.config import DictAction

from ..apis import init_model, run_inference
from ..apis.inference import MAX_PIXELS
from ..engine.policy import CheckpointReadError, CheckpointRefusedError
from ..models.utils.modalities import MODALITIES
from ..utils.config import resolve_config
from .common import CONFIG_HELP, add_malloc_arg, keep_freed_memory


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help=CONFIG_HELP)
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
    parser.add_argument('--non-strict', action='store_true',
                        help='load a checkpoint that does not fit the model (only the '
                        'tensors that fit; the rest keep their initialisation)')
    parser.add_argument('--max-pixels', type=int, default=MAX_PIXELS,
                        help='refuse images with more pixels (width x height); 0: no '
                        f'limit (default {MAX_PIXELS})')
    for modality, spec in MODALITIES.items():
        parser.add_argument(f'--{modality}', metavar='DIR', default=None,
                            help=f'multi-modal models: folder of the {modality} images '
                            f'({spec.stored_as}) matching the inputs by name')
    parser.add_argument('--head', default=None,
                        help="segment with this head of a multi-head model, e.g. "
                        "'geo' (default: the primary head)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    add_malloc_arg(parser, default=True)
    return parser.parse_args(argv)


def check_out_dir(out_dir: str) -> None:
    """Make sure ``out_dir`` is (or can become) a writable folder.

    Raises:
        ValueError: It is a file, cannot be created or cannot be written; the
            message names it.
    """
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise ValueError(f'--out-dir {out_dir!r} exists and is not a folder')
    try:
        os.makedirs(out_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as e:
        raise ValueError(f'--out-dir {out_dir!r} is not a writable folder: '
                         f'{e.strerror or e}') from None


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    if device == 'cpu':
        keep_freed_memory(args.keep_freed_memory)
    failures: List[Tuple[str, str]] = []
    try:
        check_out_dir(args.out_dir)
        modality_dirs = {m: getattr(args, m) for m in MODALITIES
                         if getattr(args, m) is not None}
        model = init_model(resolve_config(args.config), args.checkpoint, device=device,
                           cfg_options=args.cfg_options, strict=not args.non_strict)
        records = run_inference(model, args.inputs, args.out_dir, opacity=args.opacity,
                                timing=args.timing, progress=not args.no_progress,
                                max_pixels=args.max_pixels, errors=failures,
                                head=args.head, modality_dirs=modality_dirs)
    except (FileNotFoundError, ValueError, CheckpointReadError,
            CheckpointRefusedError, ImportError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {len(records)} label and overlay PNGs under {args.out_dir}')
    if failures:
        total = len(records) + len(failures)
        print(f'error: {len(failures)} of {total} images failed:', file=sys.stderr)
        for path, message in failures:
            print(f'  {path}: {message}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

r"""Convert original FCN, VGG16 and AlexNet weights into our checkpoints.

Sources (the format is detected from the file unless --format is given):

  caffe        .caffemodel: VGG_ILSVRC_16_layers (backbone), fcn32s-heavy-pascal,
               fcn16s-heavy-pascal, fcn8s-heavy-pascal, fcn8s-atonce-pascal,
               pascalcontext-fcn{32,16,8}s-heavy, fcn-alexnet-pascal (FCN-AlexNet),
               bvlc_alexnet / bvlc_reference_caffenet (AlexNet backbone),
               siftflow-fcn{32,16,8}s-heavy (two heads: semantic, geometric),
               nyud-fcn32s-{color,hha,color-hha}-heavy (NYUDv2: the classes and
               modalities are recorded; color-hha's two trunks load into
               LateFusionVGG16FC / LateFusionFCNHead)
  pytorch-fcn  wkentaro/pytorch-fcn .pth: a bare state dict (fcn8s_from_caffe.pth)
               or a Trainer checkpoint with 'model_state_dict'
  torchvision  torchvision vgg16 .pth (features.*, classifier.*) -> backbone

A whole FCN gives a checkpoint for `mmseg.apis.init_model(config, DST)` or
`mmseg-fcn-test CONFIG DST` (keys backbone.* / decode_head.*); a VGG16 or AlexNet gives
backbone weights for `model.backbone.init_cfg=dict(type='Pretrained', checkpoint=DST)`.

Class order: the released nets output their dataset layer's classes (VOC's 21;
PASCAL-Context's 60 in classes-59.txt order: background, the VOC classes, bag ...
wood). `--config CONFIG` reorders the score and upsampling channels by class name
to the classes of the config's dataset (e.g. mmseg's alphabetical
PascalContextDataset); names that do not match are an error listing them.

Input convention of the weights (set the config's data_preprocessor to match):
  caffe, pytorch-fcn  BGR 0-255, mean (104.00699, 116.66877, 122.67892), std 1,
                      bgr_to_rgb=False  -> FCNDataPreProcessor(weights='caffe')
  torchvision         RGB, mean (123.675, 116.28, 103.53), std (58.395, 57.12,
                      57.375), bgr_to_rgb=True
                      -> FCNDataPreProcessor(weights='torchvision')

Example (python -m mmseg_fcn_classic.tools.convert_weights works too; from a
clone, python tools/convert_weights.py):
  mmseg-fcn-convert-weights VGG_ILSVRC_16_layers.caffemodel checkpoints/vgg16_caffe.pth
  mmseg-fcn-convert-weights fcn8s-heavy-pascal.caffemodel fcn8s_voc.pth
  mmseg-fcn-convert-weights fcn8s-atonce.pth out.pth --variant 8s-atonce
  mmseg-fcn-convert-weights pascalcontext-fcn8s-heavy.caffemodel out.pth \
      --config configs/fcn8s_vgg16_pascal-context_mmseg.py
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import torch

from ..converters.api import FORMATS, ConversionError, convert_file, format_report
from ..converters.pytorch_fcn import VARIANTS


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='source weights (.caffemodel or .pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument('--format', choices=FORMATS, default=None,
                        help='source format (default: detected from the file)')
    parser.add_argument('--variant', default=None, choices=VARIANTS,
                        help='FCN variant (default: detected from the layer names; '
                        'pytorch-fcn FCN8sAtOnce files need 8s-atonce unless their '
                        "name contains 'atonce')")
    parser.add_argument('--config', default=None,
                        help="reorder the class channels by name to this config's "
                        'dataset classes (default: keep the source order)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        checkpoint, report = convert_file(args.src, args.format, args.variant,
                                          config=args.config)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(checkpoint, args.dst)
    print(format_report(report, args.dst))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Export a trained segmentor to ONNX or to a ``torch.export`` program.

The exported graph is the network alone: a normalised image (1, 3, H, W) float32
in, logits (1, num_classes, H, W) out, at the input's size (argmax over dim 1 gives
the labels). A multi-head model (SIFT Flow's semantic + geometric net) has one
output per head: 'logits' for the primary head, '<head>_logits' for the others
('geo_logits'), each head's classes and palette in the metadata under 'heads'. With --dynamic, height and width are dynamic and the crops stay exact
for every size down to 1x1; without it the graph takes --shape only. The
config's test pipeline (resizing, if any) is not part of it.

A multi-modal model (NYUDv2 RGB-D; data_preprocessor MultiModalDataPreProcessor)
takes one normalised input per modality, named after it: color (1, 3, H, W), hha
(1, 3, H, W), depth (1, 1, H, W); the metadata key 'modalities' gives each one's
convention (channel_order, transform 'log' for depth, mean, std).

The file carries the input convention of the config's data preprocessor (images
read BGR 0-255; channel_order 'bgr' or 'rgb'; then (pixel - mean) / std), plus
num_classes, classes and palette:
  onnx              the model's metadata_props, each value JSON
                    (mmseg-fcn-infer-onnx reads them; no mmseg needed)
  exported-program  the extra file 'input_convention.json' of torch.export.save;
                    mmseg_fcn_classic.apis.deploy.load_exported_program reads it

CONFIG is a file or a shipped config by name. Needs the ONNX packages:
pip install 'mmseg_fcn_classic[export]'.

Example (python -m mmseg_fcn_classic.tools.export works too; from a clone,
python tools/export.py):
  mmseg-fcn-export fcn8s_vgg16_voc fcn8s_voc.pth --format onnx --dynamic \\
      --out fcn8s_voc.onnx
  mmseg-fcn-infer-onnx fcn8s_voc.onnx photos/ --out-dir out
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import DictAction

from ..utils.config import resolve_config
from .common import CONFIG_HELP

FORMATS = ('onnx', 'exported-program')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--format', choices=FORMATS, default='onnx',
                        help='output format (default: onnx)')
    parser.add_argument('--out', required=True,
                        help='output file (e.g. model.onnx, model.pt2)')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic height and width (else the graph takes --shape)')
    parser.add_argument('--shape', type=int, nargs=2, default=(375, 500),
                        metavar=('H', 'W'),
                        help='input height and width to export with (default 375 500)')
    parser.add_argument('--opset', type=int, default=None,
                        help="ONNX opset (default: the exporter's)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from ..apis import init_model
    from ..apis.deploy import (export_program, input_convention,
                               require_onnx_packages, save_exported_program,
                               save_onnx)
    if args.format == 'onnx':
        try:  # before the model is built
            require_onnx_packages()
        except ImportError as e:
            print(f'error: {e}', file=sys.stderr)
            return 1
    try:
        model = init_model(resolve_config(args.config), args.checkpoint, device='cpu',
                           cfg_options=args.cfg_options)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    convention = input_convention(model)
    program = export_program(model, args.shape, dynamic=args.dynamic)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    if args.format == 'onnx':
        save_onnx(program, args.out, convention, opset_version=args.opset)
    else:
        save_exported_program(program, args.out, convention)
    shape = 'H x W dynamic' if args.dynamic else f'{args.shape[0]} x {args.shape[1]} only'
    summary = {k: convention[k] for k in ('channel_order', 'mean', 'std')}
    inputs = ', '.join(f'{m["name"]} (1, {m["channels"]}, {shape})'
                       for m in convention['modalities']) if isinstance(
                           convention['input'], list) else f'input (1, 3, {shape})'
    outputs = [f'{convention["output"]} ({convention.get("num_classes")} classes)']
    outputs += [f'{head["output"]} ({head["num_classes"]} classes)'
                for head in convention.get('heads', {}).values()]
    print(f'wrote {args.out} ({args.format}, {inputs}, output '
          f'{", ".join(outputs)}); input convention: {json.dumps(summary)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

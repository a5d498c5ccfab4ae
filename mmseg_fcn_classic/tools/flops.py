"""Count the FLOPs and parameters of a config's model at one input size.

mmseg 1.2.2's tools/analysis_tools/get_flops.py fails with mmengine 0.10.7 (it
passes both input_shape and inputs to get_model_complexity_info). This tool counts
with torch's FlopCounterMode: every convolution, transposed convolution and matrix
product the network's forward (backbone and decode head, as mode='tensor' runs them)
executes, at the operator level, so the unfold + GEMM of fc6/fc7 and the depthwise
fast path of the frozen bilinear upsampling count as what they compute. The data
preprocessor (a subtraction and a division per pixel) is not counted.

Reported: multiply-accumulates (GMACs; what mmseg's and mmengine's tables call
"Flops") and FLOPs = 2 x MACs, per top-level module and in total, plus the
parameters (trainable and frozen).

Example (python -m mmseg_fcn_classic.tools.flops works too; from a clone,
python tools/flops.py):
  mmseg-fcn-flops fcn8s_vgg16_voc --shape 500 500
"""
import argparse
import sys
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from ..utils.config import resolve_config
from .common import CONFIG_HELP


def count_flops(model: nn.Module, shape: Sequence[int]) -> Dict[str, object]:
    """FLOPs of one forward of a segmentor on a ``(1, 3, H, W)`` input.

    Args:
        model (nn.Module): An mmseg segmentor (``model(x, mode='tensor')``).
        shape (Sequence[int]): ``(H, W)``.

    Returns:
        dict: ``flops`` (int, 2 per multiply-accumulate), ``macs``,
        ``by_module`` (FLOPs per top-level child, e.g. ``backbone``,
        ``decode_head``), ``params`` and ``trainable_params``.
    """
    from torch.utils.flop_counter import FlopCounterMode
    model = model.eval()
    x = torch.zeros(1, 3, *shape)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x, mode='tensor')
    per_module = counter.get_flop_counts()
    root = type(model).__name__
    total = int(counter.get_total_flops())
    by_module = {}
    for name, _ in model.named_children():
        # modules called directly (mmseg calls decode_head.forward) have no entry
        # of their own: sum their outermost counted submodules
        prefix = f'{root}.{name}'
        keys = [k for k in per_module if k == prefix or k.startswith(prefix + '.')]
        outer = [k for k in keys if not any(k.startswith(o + '.') for o in keys)]
        flops = sum(sum(per_module[k].values()) for k in outer)
        if flops:
            by_module[name] = int(flops)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return dict(flops=total, macs=total // 2, by_module=by_module, params=params,
                trainable_params=trainable)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='mmseg-fcn-flops', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('--shape', type=int, nargs=2, default=(500, 500),
                        metavar=('H', 'W'),
                        help='input height and width (default 500 500, the largest '
                        'PASCAL VOC image side)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        path = resolve_config(args.config)
    except FileNotFoundError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    cfg = Config.fromfile(path)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)  # no init_weights: nothing is loaded
    result = count_flops(model, args.shape)
    h, w = args.shape
    print(f'{path}\ninput (1, 3, {h}, {w})')
    for name, flops in result['by_module'].items():
        print(f'  {name:<14} {flops / 2e9:10.2f} GMACs  {flops / 1e9:10.2f} GFLOPs')
    print(f'  {"total":<14} {result["macs"] / 1e9:10.2f} GMACs  '
          f'{result["flops"] / 1e9:10.2f} GFLOPs')
    print(f'params: {result["params"] / 1e6:.2f} M '
          f'({result["trainable_params"] / 1e6:.2f} M trainable)')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Test (and evaluate) a segmentor with mmseg's runner; the plugin is imported.

Same command line as mmsegmentation's ``tools/test.py``, except that a checkpoint
that does not fit the model (missing, unexpected or mis-sized tensors) is an error
naming them; ``--non-strict`` loads only the tensors that fit. Without CUDA,
``--launcher pytorch`` evaluates on CPU with a gloo process group, and glibc keeps
freed memory (no page faults per image; ``--no-keep-freed-memory`` turns it off).
"""
import argparse
from typing import List, Optional

from mmengine.config import Config
from mmengine.runner import Runner

# absolute imports: `mim test` runs this file as a script (it looks for
# <package>/tools/test.py before .mim/tools/test.py)
from mmseg_fcn_classic.tools.common import (CONFIG_HELP, add_malloc_arg, add_runner_args,
                                            keep_freed_memory, load_config)
from mmseg_fcn_classic.utils.dist import setup_cpu_distributed


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='MMSeg test (and eval) a model')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='checkpoint file (trusted://PATH to fully '
                        'unpickle a file you produced yourself)')
    parser.add_argument('--out', help='dir to save output predictions (label pngs)')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='dir where painted overlays of every '
                        'image are saved (in <dir>/vis_data/vis_image/)')
    parser.add_argument('--wait-time', type=float, default=2, help='show interval (s)')
    parser.add_argument('--tta', action='store_true', help='test time augmentation')
    parser.add_argument('--non-strict', action='store_true',
                        help='load a checkpoint that does not fit the model (only the '
                        'tensors that fit; the rest keep their initialisation)')
    add_runner_args(parser)
    add_malloc_arg(parser, default=True)
    return parser.parse_args(argv)


def trigger_visualization_hook(cfg: Config, args: argparse.Namespace) -> Config:
    """Draw every test image (``--show`` / ``--show-dir``)."""
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise RuntimeError(
            'VisualizationHook must be in default_hooks to use --show or --show-dir: '
            "visualization=dict(type='FCNSegVisualizationHook')")
    hooks.visualization.draw = True
    hooks.visualization.interval = 1  # every image, not mmseg's every 50th
    if args.show:
        hooks.visualization.show = True
        hooks.visualization.wait_time = args.wait_time
    if args.show_dir:
        cfg.visualizer.save_dir = args.show_dir
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
        dict(type='CheckpointFitHook', strict=not args.non_strict)]
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        if cfg.test_evaluator.get('type') in ('IoUMetric', 'FCNMetric'):
            cfg.test_evaluator['keep_results'] = True
    setup_cpu_distributed(cfg, args.launcher)
    keep_freed_memory(args.keep_freed_memory)
    Runner.from_cfg(cfg).test()


if __name__ == '__main__':
    main()

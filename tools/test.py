"""Test (and evaluate) a segmentor with mmseg's runner; the plugin is imported.

Same command line as mmsegmentation's ``tools/test.py``. Without CUDA,
``--launcher pytorch`` evaluates on CPU with a gloo process group, and glibc is
told to keep freed memory (no page faults per image: FCN-8s inference at 83-92% of
the CPU's fp32 GEMM peak in three benchmark runs, against 69-76% without; see
``docs/benchmarks.md``); ``--no-malloc-tuning`` turns that off.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmseg_fcn_classic  # noqa: E402,F401  (registers the plugin)
from mmseg_fcn_classic.compat import setup_cpu_distributed  # noqa: E402
from mmseg_fcn_classic.models.optimize import tune_glibc_malloc  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file (trusted://PATH to fully '
                        'unpickle a file you produced yourself)')
    parser.add_argument('--work-dir', help='dir for the evaluation results (json)')
    parser.add_argument('--out', help='dir to save output predictions (label pngs)')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='dir where painted overlays of every '
                        'image are saved (in <dir>/vis_data/vis_image/)')
    parser.add_argument('--wait-time', type=float, default=2, help='show interval (s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test time augmentation')
    parser.add_argument('--no-malloc-tuning', action='store_true',
                        help='on the CPU, leave glibc free to unmap freed tensors '
                        '(default: keep them, see docs/benchmarks.md)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config, args: argparse.Namespace) -> Config:
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise RuntimeError('VisualizationHook must be in default_hooks to use --show or '
                           "--show-dir: visualization=dict(type='SegVisualizationHook')")
    hooks.visualization.draw = True
    hooks.visualization.interval = 1  # every image, not mmseg's every 50th
    if args.show:
        hooks.visualization.show = True
        hooks.visualization.wait_time = args.wait_time
    if args.show_dir:
        cfg.visualizer.save_dir = args.show_dir
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        if cfg.test_evaluator.get('type') == 'IoUMetric':
            cfg.test_evaluator['keep_results'] = True
    setup_cpu_distributed(cfg, args.launcher)
    if not torch.cuda.is_available() and not args.no_malloc_tuning:
        kept = tune_glibc_malloc()  # no page faults per image; docs/benchmarks.md
        print_log(f'CPU: glibc keeps freed memory: {kept} (--no-malloc-tuning '
                  'turns this off)', logger='current')
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()

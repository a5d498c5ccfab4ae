"""Train a segmentor with mmseg's runner; the plugin is imported, configs need nothing else.

Same command line as mmsegmentation's ``tools/train.py``, plus:

* ``--resume`` optionally takes a checkpoint (``--resume PATH``); bare ``--resume``
  continues from the latest checkpoint in the work dir, or, when there is none yet,
  starts the stage normally (from ``load_from``, e.g. the previous FCN stage).
* Without CUDA, ``--launcher pytorch`` trains on CPU with a gloo process group
  (see :func:`mmseg_fcn_classic.compat.setup_cpu_distributed`).
* ``--keep-freed-memory`` (CPU): glibc keeps freed tensors for reuse instead of
  unmapping them, which removes about a million page faults per 500x375 FCN-8s
  step: faster steps for a higher resident peak (``docs/benchmarks.md``).
"""
import argparse
import logging
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner, find_latest_checkpoint  # noqa: E402

import mmseg_fcn_classic  # noqa: E402,F401  (registers the plugin)
from mmseg.registry import RUNNERS  # noqa: E402
from mmseg_fcn_classic.compat import setup_cpu_distributed  # noqa: E402
from mmseg_fcn_classic.models.optimize import tune_glibc_malloc  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto', default=None,
        help='resume from this checkpoint; with no value, from the latest '
        'checkpoint in the work dir (a fresh stage starts normally)')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, e.g. train_cfg.max_iters=10')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch.distributed.launch passes `--local-rank` (torch>=2.0) or `--local_rank`.
    parser.add_argument(
        '--keep-freed-memory', action='store_true',
        help='CPU: let glibc keep freed tensors for reuse (faster steps, higher '
        'resident peak; see docs/benchmarks.md)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def resolve_work_dir(cfg: Config, config_path: str, work_dir=None) -> str:
    """CLI > ``work_dir`` in the config > ``./work_dirs/<config name>``."""
    if work_dir is not None:
        return work_dir
    if cfg.get('work_dir', None) is not None:
        return cfg.work_dir
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def apply_resume(cfg: Config, resume) -> None:
    """Set ``cfg.resume``/``cfg.load_from`` for ``--resume [PATH]``.

    mmengine resumes from ``load_from`` whenever it is set, which for a staged config
    is the *previous* stage's checkpoint. So a bare ``--resume`` picks the latest
    checkpoint of this work dir explicitly, and starts normally if there is none.
    """
    if resume is None:
        cfg.resume = False
    elif resume != 'auto':
        cfg.resume, cfg.load_from = True, resume
    else:
        latest = find_latest_checkpoint(cfg.work_dir)
        if latest is not None:
            cfg.resume, cfg.load_from = True, latest
        else:
            print_log(f'--resume: no checkpoint in {cfg.work_dir} yet; starting the '
                      'run from the beginning.', logger='current', level=logging.WARNING)
            cfg.resume = False


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = resolve_work_dir(cfg, args.config, args.work_dir)

    if args.amp:
        if cfg.optim_wrapper.type == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      logger='current', level=logging.WARNING)
        else:
            assert cfg.optim_wrapper.type == 'OptimWrapper', (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper` but got {cfg.optim_wrapper.type}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    apply_resume(cfg, args.resume)
    setup_cpu_distributed(cfg, args.launcher)
    if args.keep_freed_memory and not torch.cuda.is_available():
        kept = tune_glibc_malloc()
        print_log(f'--keep-freed-memory: glibc keeps freed memory: {kept}',
                  logger='current')

    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()

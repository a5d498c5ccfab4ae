"""Train a segmentor with mmseg's runner; the plugin is imported, configs need nothing.

Same command line as mmsegmentation's ``tools/train.py``, plus:

* ``--resume`` optionally takes a checkpoint (``--resume PATH``); bare ``--resume``
  continues from the latest checkpoint in the work dir (``last_checkpoint``, read
  as a plain local path; if it is damaged, the newest checkpoint that loads), or,
  when there is none yet, starts the stage normally (from ``load_from``, e.g. the
  previous FCN stage).
* Without CUDA, ``--launcher pytorch`` trains on CPU with a gloo process group
  (see :func:`mmseg_fcn_classic.utils.dist.setup_cpu_distributed`).
* ``--keep-freed-memory`` (CPU): glibc keeps freed tensors for reuse.
"""
import argparse
import logging
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from ..engine.resume import select_resume_checkpoint
from ..utils.dist import setup_cpu_distributed
from .common import add_malloc_arg, add_runner_args, keep_freed_memory, load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto', default=None,
        help='resume from this checkpoint; with no value, from the latest '
        'checkpoint in the work dir (a fresh stage starts normally)')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training')
    add_runner_args(parser)
    add_malloc_arg(parser, default=False)
    return parser.parse_args(argv)


def apply_amp(cfg: Config) -> None:
    """Switch the config's optimizer wrapper to ``AmpOptimWrapper``."""
    if cfg.optim_wrapper.type == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.',
                  logger='current', level=logging.WARNING)
        return
    assert cfg.optim_wrapper.type == 'OptimWrapper', (
        '`--amp` is only supported when the optimizer wrapper type is '
        f'`OptimWrapper` but got {cfg.optim_wrapper.type}.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def apply_resume(cfg: Config, resume: Optional[str]) -> None:
    """Set ``cfg.resume``/``cfg.load_from`` for ``--resume [PATH]``.

    mmengine resumes from ``load_from`` whenever it is set, which for a staged config
    is the *previous* stage's checkpoint. So a bare ``--resume`` picks this work
    dir's checkpoint explicitly (:func:`~mmseg_fcn_classic.engine.resume.
    select_resume_checkpoint`: the one ``last_checkpoint`` names, read as a plain
    local path, else the newest one that loads, with a warning naming each file
    skipped) and starts normally if there is none. ``--resume PATH`` is typed by the
    user, so its scheme (e.g. ``trusted://``) is honoured.
    """
    if resume is None:
        cfg.resume = False
    elif resume != 'auto':
        cfg.resume, cfg.load_from = True, resume
    else:
        latest = select_resume_checkpoint(cfg.work_dir)
        if latest is not None:
            cfg.resume, cfg.load_from = True, latest
        else:
            print_log(f'--resume: no checkpoint in {cfg.work_dir} yet; starting the '
                      'run from the beginning.', logger='current', level=logging.WARNING)
            cfg.resume = False


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args)
    if args.amp:
        apply_amp(cfg)
    apply_resume(cfg, args.resume)
    setup_cpu_distributed(cfg, args.launcher)
    keep_freed_memory(args.keep_freed_memory)
    if 'runner_type' in cfg:
        from mmseg.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()

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
* ``--amp`` takes a dtype: ``--amp bf16`` (no loss scaling) or ``--amp fp16``
  (dynamic loss scaling); bare ``--amp`` picks bf16 where the GPU supports it.
"""
import argparse
import logging
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from ..engine.resume import select_resume_checkpoint
from ..utils.dist import setup_cpu_distributed
from .common import add_malloc_arg, add_runner_args, keep_freed_memory, load_config


#: ``--amp`` choices, and the autocast dtype each sets.
AMP_CHOICES = ('auto', 'bf16', 'fp16')
AMP_DTYPES = {'bf16': 'bfloat16', 'fp16': 'float16'}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto', default=None,
        help='resume from this checkpoint; with no value, from the latest '
        'checkpoint in the work dir (a fresh stage starts normally)')
    parser.add_argument(
        '--amp', nargs='?', const='auto', default=None, choices=AMP_CHOICES,
        help='automatic mixed precision on the GPU: bf16 (no loss scaling) or fp16 '
        '(dynamic loss scaling); bare --amp takes bf16 where the GPU supports it, '
        'else fp16')
    add_runner_args(parser)
    add_malloc_arg(parser, default=False)
    return parser.parse_args(argv)


def resolve_amp_dtype(choice: str, bf16_supported: Optional[bool] = None) -> str:
    """``'bf16'`` or ``'fp16'`` for ``--amp [auto|bf16|fp16]``.

    Args:
        choice (str): ``'auto'``, ``'bf16'`` or ``'fp16'``.
        bf16_supported (bool, optional): Whether the GPU computes in bfloat16.
            Defaults to asking CUDA (False without CUDA).

    Returns:
        str: ``'auto'`` resolved: bf16 where supported, else fp16.

    Raises:
        ValueError: ``'bf16'`` on a CUDA GPU without bfloat16 support.

    Example:
        >>> resolve_amp_dtype('auto', bf16_supported=True)
        'bf16'
        >>> resolve_amp_dtype('auto', bf16_supported=False)
        'fp16'
    """
    if bf16_supported is None:
        bf16_supported = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if choice == 'auto':
        return 'bf16' if bf16_supported else 'fp16'
    if choice == 'bf16' and torch.cuda.is_available() and not bf16_supported:
        raise ValueError('--amp bf16: this GPU does not compute in bfloat16; '
                         'use --amp fp16')
    return choice


def apply_amp(cfg: Config, dtype: str = 'fp16') -> None:
    """Switch the config's optimizer wrapper to ``AmpOptimWrapper`` with ``dtype``.

    fp16 gets mmseg's dynamic loss scaling (float16 gradients underflow without
    it); bf16 has float32's range and gets none (a disabled ``GradScaler``: no
    inf checks, so no host sync per step). A config that already uses
    ``AmpOptimWrapper`` keeps its settings unless ``dtype`` is given explicitly.

    Args:
        cfg (Config): Changed in place.
        dtype (str): ``'bf16'``, ``'fp16'`` or ``'auto'`` (see
            :func:`resolve_amp_dtype`). Defaults to ``'fp16'``.
    """
    explicit = dtype != 'auto'
    dtype = resolve_amp_dtype(dtype)
    if cfg.optim_wrapper.type == 'AmpOptimWrapper' and not explicit:
        print_log('AMP training is already enabled in your config.',
                  logger='current', level=logging.WARNING)
        return
    assert cfg.optim_wrapper.type in ('OptimWrapper', 'AmpOptimWrapper'), (
        '`--amp` is only supported when the optimizer wrapper type is '
        f'`OptimWrapper` but got {cfg.optim_wrapper.type}.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.dtype = AMP_DTYPES[dtype]
    cfg.optim_wrapper.loss_scale = 'dynamic' if dtype == 'fp16' else dict(enabled=False)
    print_log(f'--amp: {dtype} autocast, '
              f'{"dynamic loss scaling" if dtype == "fp16" else "no loss scaling"}',
              logger='current')


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
    if args.amp is not None:
        apply_amp(cfg, args.amp)
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

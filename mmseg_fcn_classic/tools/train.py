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
* Every run saves atomically: a config that names mmengine's ``CheckpointHook``
  (mmseg's ``default_runtime.py`` does) gets ``AtomicCheckpointHook`` with the same
  options, said once in the log (:func:`upgrade_checkpoint_hooks`).
* The work dir is locked before anything reads or writes it (rank 0 holds it,
  :mod:`mmseg_fcn_classic.engine.work_dir_lock`): a second run on a work dir in use
  stops at once, naming the dir and the live run.
"""
import argparse
import logging
import os
import sys
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.runner import Runner

from ..engine.hooks import AtomicCheckpointHook
from ..engine.resume import select_resume_checkpoint
from ..engine.work_dir_lock import WorkDirLockedError, lock_work_dir
from ..utils.dist import setup_cpu_distributed
from .common import add_malloc_arg, add_runner_args, keep_freed_memory, load_config

#: The environment variable each launcher sets to the process's global rank.
RANK_ENV = {'pytorch': 'RANK', 'slurm': 'SLURM_PROCID', 'mpi': 'OMPI_COMM_WORLD_RANK'}


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


def launcher_rank(launcher: str) -> int:
    """This process's global rank, from the launcher's environment (before the
    process group exists).

    Example:
        >>> launcher_rank('none')
        0
    """
    value = os.environ.get(RANK_ENV.get(launcher, ''), '0')
    return int(value) if value.isdigit() else 0


def _hook_class(hook_type) -> Optional[type]:
    from mmseg.registry import HOOKS
    if isinstance(hook_type, type):
        return hook_type
    try:
        return HOOKS.get(hook_type) if isinstance(hook_type, str) else None
    except Exception:  # noqa: BLE001  (the runner reports unknown types itself)
        return None


def upgrade_checkpoint_hooks(cfg: Config) -> List[Tuple[int, str]]:
    """Give the run atomic checkpoints: mmengine's ``CheckpointHook`` becomes
    ``AtomicCheckpointHook`` with the same options.

    mmengine's hook deletes the oldest checkpoint before writing the new one, in
    place, so a kill during a save can leave nothing to resume (with
    ``max_keep_ckpts=1``). ``AtomicCheckpointHook`` takes every one of its options
    and writes the same files, atomically and in a safe order. Other subclasses of
    ``CheckpointHook`` are kept, with a warning.

    Args:
        cfg (Config): Changed in place (``default_hooks.checkpoint`` and
            ``custom_hooks``).

    Returns:
        list[tuple[int, str]]: A log level and line per hook changed or kept.
    """
    from ..registry import SCOPE
    name = (AtomicCheckpointHook.__name__ if cfg.get('default_scope') in ('mmseg', SCOPE)
            else f'mmseg.{AtomicCheckpointHook.__name__}')
    found = [('default_hooks.checkpoint', (cfg.get('default_hooks') or {}).get(
        'checkpoint'))]
    found += [(f'custom_hooks[{i}]', hook)
              for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    notes = []
    for where, hook in found:
        if not isinstance(hook, dict):
            continue
        cls = _hook_class(hook.get('type'))
        if cls is CheckpointHook:
            hook['type'] = name
            notes.append((logging.INFO, f'{where}: mmengine\'s CheckpointHook runs as '
                         'AtomicCheckpointHook with the same options (atomic saves; '
                         'old checkpoints are removed only after the new one is '
                         'complete)'))
        elif (cls is not None and issubclass(cls, CheckpointHook)
              and not issubclass(cls, AtomicCheckpointHook)):
            notes.append((logging.WARNING, f'{where}: {cls.__name__} is kept as it is: '
                          'its saves are not atomic, and a kill during a save may '
                          'leave nothing to resume'))
    return notes


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cfg = load_config(args)
    lock = None
    if launcher_rank(args.launcher) == 0:
        try:
            lock = lock_work_dir(cfg.work_dir)
        except WorkDirLockedError as err:
            print(f'error: {err}', file=sys.stderr)
            return 1
    upgrades = upgrade_checkpoint_hooks(cfg)
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
    if lock is not None:
        runner.logger.info(f'work dir lock: {lock.path} (this process, rank 0)')
    for level, note in upgrades:
        runner.logger.log(level, note)
    runner.train()
    return 0


if __name__ == '__main__':
    main()

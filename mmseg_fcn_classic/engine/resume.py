"""What a bare ``--resume`` continues from, and whether a checkpoint can resume a run.

``WORK_DIR/last_checkpoint`` names the checkpoint to continue from. It is read as
data (:func:`~.checkpoint.find_resume_checkpoint`): a loader scheme in it is an
error, and when it is missing, empty, garbled or names a file that does not load,
the newest ``iter_N.pth`` / ``epoch_N.pth`` of the work dir that loads is used
instead, every skipped file being reported with the reason.
"""
import logging
import os.path as osp
from typing import Any, Optional

import torch

from .checkpoint import CHECKPOINT_NAME, RUNNER_KEYS, find_resume_checkpoint


class ResumeError(RuntimeError):
    """A checkpoint that cannot resume this run; the message names it."""


def optimizer_mismatch(saved: Any, optimizer: torch.optim.Optimizer) -> Optional[str]:
    """How a saved optimizer state differs from ``optimizer``'s, or None.

    Hyperparameters that ``optimizer`` fills in itself when loading an older state
    (torch's ``__setstate__`` defaults) do not count as missing.

    Args:
        saved: ``checkpoint['optimizer']``.
        optimizer (torch.optim.Optimizer): This run's optimizer.

    Returns:
        str | None: The difference, in words.
    """
    groups = saved.get('param_groups') if isinstance(saved, dict) else None
    if not isinstance(groups, list):
        return 'its optimizer state has no param_groups'
    if len(groups) != len(optimizer.param_groups):
        return (f'its optimizer has {len(groups)} parameter groups, this run\'s '
                f'{type(optimizer).__name__} has {len(optimizer.param_groups)}')
    probe = [dict({k: v for k, v in g.items() if k != 'params'}, params=[])
             for g in groups]
    try:  # let the optimizer fill its version defaults, as load_state_dict does
        shadow = object.__new__(type(optimizer))
        shadow.__setstate__({'defaults': dict(optimizer.defaults), 'state': {},
                             'param_groups': probe})
        probe = shadow.param_groups
    except Exception:  # noqa: BLE001  (an optimizer without a usual __setstate__)
        pass
    for i, (old, new) in enumerate(zip(probe, optimizer.param_groups)):
        lacking = sorted(set(new) - set(old) - {'params'})
        if lacking:
            has = sorted(set(old) - {'params'})
            return (f'its optimizer settings lack {", ".join(lacking)} (it has '
                    f'{", ".join(has)}): it was saved by a different optimizer than '
                    f"this run's {type(optimizer).__name__}")
        if len(groups[i].get('params', ())) != len(new['params']):
            return (f'its optimizer\'s parameter group {i} has '
                    f'{len(groups[i].get("params", ()))} parameters, this run\'s has '
                    f'{len(new["params"])} (a different model?)')
    return None


def check_resumable(checkpoint: Any, name: str, optimizer=None) -> None:
    """Raise :class:`ResumeError` if ``checkpoint`` cannot resume this run.

    Args:
        checkpoint: The loaded checkpoint.
        name (str): Its file, named in the error.
        optimizer (torch.optim.Optimizer, optional): This run's optimizer, to
            compare with the saved state. Defaults to None (not compared).

    Raises:
        ResumeError: Says which checkpoint, what it lacks and what to do.
    """
    start_over = (f'To start training from its weights instead, use '
                  f'load_from={name} without --resume (iteration, optimizer state '
                  'and schedule then start afresh).')
    if not isinstance(checkpoint, dict):
        raise ResumeError(f'cannot resume from {name}: it holds a '
                          f'{type(checkpoint).__name__}, not a checkpoint. {start_over}')
    missing = [k for k in RUNNER_KEYS if k not in checkpoint]
    if missing:
        kind = ('a bare state dict' if 'state_dict' not in checkpoint
                else 'not a checkpoint written by the runner')
        raise ResumeError(
            f'cannot resume from {name}: it is {kind} and lacks '
            f'{", ".join(missing)} (resuming needs the iteration in meta, the '
            f'optimizer state and the message hub). {start_over}')
    meta = checkpoint['meta']
    if not isinstance(meta, dict) or not {'iter', 'epoch'} <= set(meta):
        raise ResumeError(f'cannot resume from {name}: its meta lacks the iteration '
                          f'and epoch to continue from. {start_over}')
    if optimizer is not None and 'optimizer' in checkpoint:
        problem = optimizer_mismatch(checkpoint['optimizer'], optimizer)
        if problem:
            raise ResumeError(
                f'cannot resume from {name}: {problem}. Resuming continues the same '
                f'optimizer. {start_over}')


def select_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint a bare ``--resume`` uses; logs a warning naming each skipped file.

    Args:
        work_dir (str): The work dir.

    Returns:
        str | None: A plain local path, or None when the work dir has no
        checkpoint yet (the run starts from the beginning).

    Raises:
        UntrustedPathError: ``last_checkpoint`` names a loader scheme.
        ResumeError: There are checkpoint files, but none loads.
    """
    from mmengine.logging import print_log
    path, skipped = find_resume_checkpoint(work_dir)
    report = '\n'.join(f'  {file}: {reason}' for file, reason in skipped)
    damaged = [f for f, _ in skipped
               if CHECKPOINT_NAME.match(osp.basename(f)) and osp.exists(f)]
    if path is None and damaged:
        raise ResumeError(
            f'--resume: no checkpoint in {work_dir} loads:\n{report}\nMove the '
            'damaged files away (or pass --resume PATH), or train without --resume '
            'to start over.')
    if skipped:
        target = path or 'the beginning (no checkpoint to resume)'
        print_log(f'--resume: skipped these files in {work_dir}:\n{report}\n'
                  f'resuming from {target}', logger='current', level=logging.WARNING)
    return path

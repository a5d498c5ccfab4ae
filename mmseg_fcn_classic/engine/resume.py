"""What a bare ``--resume`` continues from, and whether a checkpoint can resume a run.

``WORK_DIR/last_checkpoint`` names the checkpoint to continue from. It is read as
data (:func:`find_resume_checkpoint`): a loader scheme in it is an
error, and when it is missing, empty, garbled or names a file that does not load,
the newest ``iter_N.pth`` / ``epoch_N.pth`` of the work dir that loads is used
instead, every skipped file being reported with the reason.
"""
import logging
import os
import os.path as osp
import re
from typing import Any, List, Optional, Tuple

import torch

from .policy import load_checkpoint_file, plain_local_path

#: Checkpoint files the runner writes (CheckpointHook's default names).
CHECKPOINT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')
#: Parts of a checkpoint ``Runner.resume`` needs.
RUNNER_KEYS = ('meta', 'state_dict', 'message_hub')
#: ``last_checkpoint`` holds one path; anything longer is not one.
MAX_POINTER_BYTES = 4096

Skipped = List[Tuple[str, str]]


def read_pointer(path: str) -> Tuple[Optional[str], Optional[str]]:
    """Read a ``last_checkpoint`` file.

    Args:
        path (str): The file.

    Returns:
        tuple: ``(text, None)``, or ``(None, why it is unusable)``.
    """
    with open(path, 'rb') as f:
        data = f.read(MAX_POINTER_BYTES + 1)
    if len(data) > MAX_POINTER_BYTES:
        return None, f'garbled (over {MAX_POINTER_BYTES} bytes; it holds one path)'
    try:
        text = data.decode('utf-8').strip()
    except UnicodeDecodeError:
        return None, 'garbled (not UTF-8 text)'
    if not text:
        return None, 'empty (0 bytes)' if not data else 'empty (only whitespace)'
    if any(ord(c) < 32 for c in text):
        return None, f'garbled (control characters in {text[:80]!r})'
    return text, None


def checkpoint_problem(path: str, require_runner_checkpoint: bool = True
                       ) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or None if it loads.

    The file goes through the loading policy with its tensors memory-mapped, so
    the check costs little more than reading the pickle.

    Args:
        path (str): A checkpoint file.
        require_runner_checkpoint (bool): Also require the parts ``Runner.resume``
            needs (:data:`RUNNER_KEYS`). Defaults to True.

    Returns:
        str | None: The reason, e.g. ``'is empty (0 bytes)'``.
    """
    if not osp.isfile(path):
        return 'does not exist'
    if osp.getsize(path) == 0:
        return 'is empty (0 bytes)'
    try:
        checkpoint = load_checkpoint_file(path, map_location='cpu', mmap=True)
    except Exception as err:  # noqa: BLE001  (any file that fails is skipped, named)
        return f'does not load ({err})'
    if require_runner_checkpoint:
        missing = [k for k in RUNNER_KEYS
                   if not isinstance(checkpoint, dict) or k not in checkpoint]
        if missing:
            return f'is not a checkpoint written by the runner (no {", ".join(missing)})'
        meta = checkpoint['meta']
        if not (isinstance(meta, dict) and all(type(meta.get(k)) is int
                                               for k in ('iter', 'epoch'))):
            return 'has no iteration and epoch to continue from in its meta'
        if not isinstance(checkpoint['message_hub'], dict):
            return 'has a malformed message hub'
    return None


def _step(path: str) -> Tuple[int, float]:
    return int(CHECKPOINT_NAME.match(osp.basename(path)).group(1)), osp.getmtime(path)


def checkpoint_files(work_dir: str) -> List[str]:
    """The runner's checkpoint files in ``work_dir``, newest (highest step) first."""
    if not osp.isdir(work_dir):
        return []
    found = [osp.join(work_dir, n) for n in os.listdir(work_dir)
             if CHECKPOINT_NAME.match(n) and osp.isfile(osp.join(work_dir, n))]
    return sorted(found, key=_step, reverse=True)


def find_resume_checkpoint(work_dir: str, require_runner_checkpoint: bool = True
                           ) -> Tuple[Optional[str], Skipped]:
    """Return the checkpoint a bare ``--resume`` continues from.

    That is the one ``last_checkpoint`` names, if it loads; otherwise the newest
    checkpoint file of ``work_dir`` that loads.

    Args:
        work_dir (str): The work dir.
        require_runner_checkpoint (bool): See :func:`checkpoint_problem`.

    Returns:
        tuple: The checkpoint (or None), and ``(file, reason)`` for every file
        skipped on the way.

    Raises:
        UntrustedPathError: ``last_checkpoint`` names a loader scheme.
    """
    skipped: Skipped = []
    last = osp.join(work_dir, 'last_checkpoint')
    tried = set()
    if osp.isfile(last):
        text, problem = read_pointer(last)
        if problem:
            skipped.append((last, problem))
        else:
            named = plain_local_path(text, last)
            moved = osp.join(work_dir, osp.basename(named))
            if not osp.isfile(named) and osp.isfile(moved):
                named = moved  # the work dir was moved or copied
            problem = checkpoint_problem(named, require_runner_checkpoint)
            if problem is None:
                return named, skipped
            skipped.append((named, f'(named in {last}) {problem}'))
            tried.add(osp.realpath(named))
    files = [p for p in checkpoint_files(work_dir) if osp.realpath(p) not in tried]
    if files and not osp.isfile(last):
        skipped.append((last, 'does not exist'))
    for path in files:
        problem = checkpoint_problem(path, require_runner_checkpoint)
        if problem is None:
            return path, skipped
        skipped.append((path, problem))
    return None, skipped


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

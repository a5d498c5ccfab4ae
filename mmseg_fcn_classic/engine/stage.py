"""``stage://WORK_DIR``: the final checkpoint of a finished training stage.

Staged training: ``load_from='stage://work_dirs/fcn32s_vgg16_voc'`` loads the
*final* checkpoint of a previous stage's work dir, the one its
``last_checkpoint`` names (read as a plain local path), which must have reached
that stage's ``max_iters`` (:func:`stage_progress`: both numbers are read as data
from the checkpoint; its stored config is never parsed).
"""
import logging
import os.path as osp
from typing import Any, Optional, Tuple

from mmengine.logging import print_log

from ..utils.commands import tool_command
from .policy import CheckpointRefusedError, Location, load_checkpoint_file
from .resume import find_resume_checkpoint

STAGE_PREFIX = 'stage://'


def stage_progress(checkpoint: Any) -> Tuple[Optional[int], Optional[int]]:
    """``(iteration, max_iters)`` of a runner checkpoint, read as data.

    The iteration is ``meta['iter']``; ``max_iters`` is what mmengine's
    ``RuntimeInfoHook`` records in the message hub (``runtime_info['max_iters']``)
    when training starts. The stored config is never parsed.

    Args:
        checkpoint: A loaded checkpoint.

    Returns:
        tuple: Each value, or None where the checkpoint does not hold it as an
        integer (converted weights hold neither).

    Example:
        >>> stage_progress({'meta': {'iter': 4},
        ...                 'message_hub': {'runtime_info': {'max_iters': 8}}})
        (4, 8)
    """
    def integer(container: Any, key: str) -> Optional[int]:
        value = container.get(key) if isinstance(container, dict) else None
        return value if type(value) is int else None

    if not isinstance(checkpoint, dict):
        return None, None
    hub = checkpoint.get('message_hub')
    info = hub.get('runtime_info') if isinstance(hub, dict) else None
    return integer(checkpoint.get('meta'), 'iter'), integer(info, 'max_iters')


def resolve_stage_checkpoint(work_dir: str) -> str:
    """Return the final checkpoint of a finished training stage.

    Args:
        work_dir (str): The previous stage's work dir (optionally ``stage://``-prefixed).

    Returns:
        str: Path of the checkpoint named in ``<work_dir>/last_checkpoint`` (a
        plain local path), or of the newest loadable checkpoint when that file
        is damaged (with a warning).

    Raises:
        FileNotFoundError: If the work dir or its checkpoint is missing.
        UntrustedPathError: If ``last_checkpoint`` names a loader scheme.
    """
    if work_dir.startswith(STAGE_PREFIX):
        work_dir = work_dir[len(STAGE_PREFIX):]
    train = tool_command('train', 'STAGE_CONFIG --work-dir WORK_DIR')
    hint = ('Train the previous stage first: run the stages one after the other '
            f'({train}; from a clone, tools/train_staged.sh runs them all in '
            'order), or point load_from at its work dir: '
            '--cfg-options load_from=stage://PATH/TO/WORK_DIR')
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise FileNotFoundError(
            f'previous stage has no checkpoint: {last!r} does not exist. {hint}')
    ckpt, skipped = find_resume_checkpoint(work_dir, require_runner_checkpoint=False)
    for path, reason in skipped:
        print_log(f'{STAGE_PREFIX}{work_dir}: skipped {path}: {reason}',
                  logger='current', level=logging.WARNING)
    if ckpt is None:
        raise FileNotFoundError(
            f'previous stage checkpoint (named in {last!r}) is missing or unreadable: '
            + '; '.join(f'{p}: {r}' for p, r in skipped) + f'. {hint}')
    return ckpt


def load_stage_checkpoint(filename: str, map_location: Location = None) -> Any:
    """``stage://WORK_DIR``: the final checkpoint of a finished stage, loaded safely."""
    ckpt_path = resolve_stage_checkpoint(filename)
    checkpoint = load_checkpoint_file(ckpt_path, map_location)
    step, max_iters = stage_progress(checkpoint)
    if step is not None and max_iters is not None and step < max_iters:
        work_dir = filename[len(STAGE_PREFIX):]
        raise RuntimeError(
            f'previous stage in {work_dir!r} is unfinished: its latest checkpoint '
            f'{ckpt_path!r} is at iteration {step} of {max_iters}. Finish it: '
            f'{tool_command("train", f"STAGE_CONFIG --work-dir {work_dir} --resume")} '
            '(from a clone: python tools/train.py ...; tools/train_staged.sh resumes '
            'it).')
    print_log(f'{filename} -> {ckpt_path} (iteration {step})',
              logger='current')
    return checkpoint


def stage_finished(work_dir: str) -> bool:
    """Whether ``work_dir`` holds a final checkpoint that reached its ``max_iters``.

    Args:
        work_dir (str): A stage's work dir.

    Returns:
        bool: True if :func:`load_stage_checkpoint` would succeed.
    """
    try:
        load_stage_checkpoint(STAGE_PREFIX + work_dir, map_location='cpu')
    except (FileNotFoundError, RuntimeError, CheckpointRefusedError):
        return False
    return True

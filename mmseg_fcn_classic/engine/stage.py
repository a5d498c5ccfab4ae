"""``stage://WORK_DIR``: the final checkpoint of a finished training stage.

Staged training: ``load_from='stage://work_dirs/fcn32s_vgg16_voc'`` loads the
*final* checkpoint of a previous stage's work dir, the one its
``last_checkpoint`` names (read as a plain local path), which must have reached
that stage's ``max_iters``.
"""
import logging
import os.path as osp
import re
from typing import Any, Optional

from mmengine.logging import print_log

from .policy import Location, load_checkpoint_file
from .resume import find_resume_checkpoint

STAGE_PREFIX = 'stage://'


def _max_iters_from_cfg_text(text: str) -> Optional[int]:
    """Read ``train_cfg.max_iters`` from a checkpoint's ``meta['cfg']`` text (as data)."""
    match = re.search(r'^train_cfg\s*=\s*dict\((.*?)\)\s*$', text, re.M | re.S)
    if match is None:
        return None
    found = re.search(r'max_iters\s*=\s*(\d+)', match.group(1))
    return int(found.group(1)) if found else None


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
    hint = ('Train the previous stage first (tools/train_staged.sh runs all stages in '
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
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    max_iters = _max_iters_from_cfg_text(meta.get('cfg', '') or '')
    if max_iters is not None and meta.get('iter', max_iters) < max_iters:
        raise RuntimeError(
            f'previous stage in {filename[len(STAGE_PREFIX):]!r} is unfinished: its '
            f'latest checkpoint {ckpt_path!r} is at iteration {meta["iter"]} of '
            f'{max_iters}. Finish it with tools/train.py <its config> --resume.')
    print_log(f'{filename} -> {ckpt_path} (iteration {meta.get("iter")})',
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
    except (FileNotFoundError, RuntimeError):
        return False
    return True

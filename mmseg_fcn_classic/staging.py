"""Staged training: each FCN stage starts from the previous stage's final weights.

``load_from='stage://work_dirs/fcn32s_vgg16_voc'`` (a checkpoint loader scheme
registered with mmengine's ``CheckpointLoader``) loads the *final* checkpoint of a
previous stage's work dir: the checkpoint named in its ``last_checkpoint``, which must
have reached that stage's ``max_iters``. FCN-16s thus starts from FCN-32s and FCN-8s
from FCN-16s with no file edits; layers the new stage adds (``score_pool4``,
``score_pool3``) keep their zero initialisation. A missing or unfinished stage is a
clear error.
"""
import os.path as osp
import re
from typing import Any, Optional

from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from .compat import load_checkpoint_file

STAGE_PREFIX = 'stage://'


def _max_iters_from_cfg_text(text: str) -> Optional[int]:
    """Read ``train_cfg.max_iters`` from a checkpoint's ``meta['cfg']`` text."""
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
        str: Path of the checkpoint named in ``<work_dir>/last_checkpoint``.

    Raises:
        FileNotFoundError: If the work dir or its checkpoint is missing.
        RuntimeError: If the stage stopped before its ``max_iters``.
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
    with open(last) as f:
        ckpt = f.read().strip()
    if not osp.isabs(ckpt) and not osp.isfile(ckpt):
        ckpt = osp.join(work_dir, osp.basename(ckpt))
    if not osp.isfile(ckpt):
        raise FileNotFoundError(
            f'previous stage checkpoint {ckpt!r} (named in {last!r}) is missing. {hint}')
    return ckpt


def load_stage_checkpoint(filename: str, map_location=None) -> Any:
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


CheckpointLoader.register_scheme(
    prefixes=STAGE_PREFIX, loader=load_stage_checkpoint, force=True)

"""Checkpoint loading for every loader scheme mmengine knows, and staged training.

Loading (torch>=2.6 with mmengine 0.10.7)
-----------------------------------------
torch>=2.6 defaults to ``torch.load(weights_only=True)``, and mmengine 0.10.7 does not
pass the argument, so ``resume``, ``load_from`` and ``init_model`` fail on the
checkpoints mmengine's own runner writes: their ``message_hub`` holds
:class:`~mmengine.logging.HistoryBuffer` objects and numpy arrays.

Instead of turning full unpickling on, this module re-registers mmengine's local
checkpoint loader scheme (``CheckpointLoader.register_scheme``, the extension point
mmengine provides) with a loader that:

* always unpickles with ``weights_only=True``: a plain state-dict file loads
  exactly as torch intends;
* allows, on top of torch's default types, only the data types mmengine's runner
  puts in its checkpoints (``HistoryBuffer``, numpy arrays, dtypes and scalars);
* refuses everything else with an error that names the file and the offending
  globals. ``trusted://PATH`` unpickles that one file fully, as in torch<2.6; only
  for files you produced yourself.

Staged training
---------------
``load_from='stage://work_dirs/fcn32s_vgg16_voc'`` loads the *final* checkpoint of
a previous stage's work dir: the one named in its ``last_checkpoint``, which must
have reached that stage's ``max_iters``. A missing or unfinished stage is an error.
"""
import os.path as osp
import pickle
import re
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

TRUSTED_PREFIX = 'trusted://'
STAGE_PREFIX = 'stage://'


def runner_checkpoint_globals() -> List[Any]:
    """Return the non-torch types found inside checkpoints mmengine's runner writes.

    These are plain data containers: allowing them lets ``weights_only=True``
    rebuild them without allowing arbitrary callables.

    Returns:
        list: Classes and reconstruction functions for :func:`torch.serialization.
        safe_globals`.
    """
    from numpy._core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in np.sctypeDict.values()]
    return [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar,
            *sorted(set(dtype_classes), key=str),
            (history_buffer_getattr, 'builtins.getattr')]


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """The only ``getattr`` a checkpoint may call while unpickling.

    A :class:`~mmengine.logging.HistoryBuffer` pickles its ``statistics_methods``
    as ``getattr(HistoryBuffer, 'mean')`` and so on. Allowing ``builtins.getattr`` itself
    would let a file reach arbitrary attributes, so it is replaced by this function,
    which only returns a HistoryBuffer's registered statistics methods.

    Args:
        obj: The object the checkpoint asks an attribute of.
        name (str): The attribute name.

    Returns:
        The statistics method.

    Raises:
        pickle.UnpicklingError: For anything else.
    """
    # the built-in statistics are registered lazily, by the first HistoryBuffer()
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({type(obj).__name__}, {name!r}), which is not '
        'allowed outside HistoryBuffer statistics')


def load_checkpoint_file(filename: str,
                         map_location: Optional[Union[str, Callable]] = None,
                         trusted: bool = False) -> Any:
    """Load a local checkpoint, safely unless ``trusted``.

    Args:
        filename (str): Path of the checkpoint, optionally prefixed with
            ``trusted://`` (equivalent to ``trusted=True``).
        map_location (str | callable, optional): As for :func:`torch.load`.
            Defaults to None.
        trusted (bool): Unpickle fully (``weights_only=False``). Only for files you
            produced yourself. Defaults to False.

    Returns:
        Any: The unpickled checkpoint, usually a dict.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        pickle.UnpicklingError: If the file needs types outside the allowlist and
            was not marked trusted; the message names the file and the types.
        RuntimeError: If the file is truncated or not a ``torch.save`` file; the
            message names it.
    """
    if filename.startswith(TRUSTED_PREFIX):
        filename, trusted = filename[len(TRUSTED_PREFIX):], True
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename!r} does not exist')
    try:
        if trusted:
            return torch.load(filename, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(runner_checkpoint_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if trusted:
            raise
        raise pickle.UnpicklingError(
            f'Refusing to fully unpickle checkpoint {filename!r}: it contains '
            f'objects outside the weights-only allowlist ({_unsafe_globals(filename)}). '
            'Unpickling can run arbitrary code. If you produced this file yourself, '
            f"load it as '{TRUSTED_PREFIX}{filename}'.") from err
    except (RuntimeError, EOFError, KeyError, ValueError) as err:
        # truncated or not a torch file: torch's own message does not name it
        raise RuntimeError(
            f'cannot read checkpoint {filename!r}: not a complete torch.save file '
            f'({type(err).__name__}: {err})') from err


def _unsafe_globals(filename: str) -> str:
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # noqa: BLE001  (best effort for the message only)
        return 'unknown globals'
    allowed = {g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
               for g in runner_checkpoint_globals()}
    return ', '.join(n for n in names if n not in allowed) or 'unknown globals'


def load_from_local_safe(filename: str, map_location=None) -> Any:
    return load_checkpoint_file(filename, map_location)


def load_from_trusted(filename: str, map_location=None) -> Any:
    return load_checkpoint_file(filename, map_location, trusted=True)


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


def register_checkpoint_loaders() -> None:
    """Register the loader schemes: safe local files, ``trusted://``, ``stage://``."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    CheckpointLoader.register_scheme(
        prefixes=TRUSTED_PREFIX, loader=load_from_trusted, force=True)
    CheckpointLoader.register_scheme(
        prefixes=STAGE_PREFIX, loader=load_stage_checkpoint, force=True)


register_checkpoint_loaders()

"""Load a checkpoint's weights into a model, failing when they do not fit it.

mmengine loads weights non-strictly: a missing, unexpected or mis-sized tensor only
logs a warning, so an unrelated file "works" with random weights. For inference and
testing that is never what the user wants, so :func:`check_fit` names every
mismatch and fails unless partial loading was asked for.
"""
import logging
import re
from typing import Any, Dict, List, Mapping, Optional

import torch
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper

#: Keys listed per kind of mismatch in an error.
MAX_LISTED = 10
#: Buffers mmengine itself does not require (BN's counters).
IGNORED_MISSING = ('num_batches_tracked', )


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights do not fit the model; the message names them."""


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside DDP / TTA wrappers (what mmengine loads weights into)."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def checkpoint_state_dict(checkpoint: Any, name: str) -> Dict[str, Any]:
    """The state dict in a loaded checkpoint, as mmengine reads it.

    ``checkpoint['state_dict']`` if present, else the checkpoint itself, with DDP's
    ``module.`` prefix removed.

    Args:
        checkpoint: A loaded checkpoint.
        name (str): Its file, named in the error.

    Returns:
        dict: Key -> tensor.

    Raises:
        CheckpointMismatchError: There is no dict of weights.
    """
    state_dict = checkpoint
    if isinstance(checkpoint, Mapping) and 'state_dict' in checkpoint:
        state_dict = checkpoint['state_dict']
    if not isinstance(state_dict, Mapping):
        raise CheckpointMismatchError(
            f'checkpoint {name} holds a {type(state_dict).__name__}, not a state dict')
    return {re.sub(r'^module\.', '', k): v for k, v in state_dict.items()}


def state_dict_mismatch(model_state: Mapping[str, Any],
                        loaded: Mapping[str, Any]) -> Dict[str, List[str]]:
    """Compare a model's state dict with loaded weights.

    Args:
        model_state (Mapping): The model's ``state_dict()``.
        loaded (Mapping): The checkpoint's state dict.

    Returns:
        dict: ``missing`` (model keys without weights), ``unexpected`` (weights the
        model has no place for), ``mis-sized`` (``'key: checkpoint (a, b) vs model
        (c, d)'``); empty lists when everything fits.

    Example:
        >>> model = {'w': torch.zeros(2, 3), 'b': torch.zeros(2)}
        >>> found = state_dict_mismatch(
        ...     model, {'w': torch.zeros(3, 3), 'x': torch.zeros(1)})
        >>> found['missing'], found['unexpected'], found['mis-sized']
        (['b'], ['x'], ['w: checkpoint (3, 3) vs model (2, 3)'])
    """
    missing = [k for k in model_state if k not in loaded
               and not k.endswith(IGNORED_MISSING)]
    unexpected = [k for k in loaded if k not in model_state]
    mis_sized = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(model_state[k].shape)}'
        for k, v in loaded.items()
        if k in model_state and hasattr(v, 'shape')
        and tuple(v.shape) != tuple(model_state[k].shape)
    ]
    return {'missing': missing, 'unexpected': unexpected, 'mis-sized': mis_sized}


def format_mismatch(mismatch: Dict[str, List[str]],
                    max_listed: int = MAX_LISTED) -> str:
    """One line per kind of mismatch, listing up to ``max_listed`` keys."""
    lines = []
    for kind, keys in mismatch.items():
        if keys:
            shown = ', '.join(keys[:max_listed])
            more = f', ... ({len(keys)} in total)' if len(keys) > max_listed else ''
            lines.append(f'  {len(keys)} {kind}: {shown}{more}')
    return '\n'.join(lines)


def check_fit(model: torch.nn.Module, checkpoint: Any, name: str, strict: bool = True,
              hint: str = 'pass --non-strict to load only the tensors that fit') -> None:
    """Raise (or, non-strict, warn) when a checkpoint does not fit ``model``.

    Args:
        model (nn.Module): The model (wrappers are looked through).
        checkpoint: The loaded checkpoint.
        name (str): Its file, named in the message.
        strict (bool): Raise on any mismatch; else log it. Defaults to True.
        hint (str): How to allow a partial load.

    Raises:
        CheckpointMismatchError: A strict mismatch, listing the keys.
    """
    loaded = checkpoint_state_dict(checkpoint, name)
    mismatch = state_dict_mismatch(unwrap_model(model).state_dict(), loaded)
    if not any(mismatch.values()):
        return
    message = f'checkpoint {name} does not fit the model:\n{format_mismatch(mismatch)}'
    if strict:
        raise CheckpointMismatchError(f'{message}\nCheck the config and checkpoint '
                                      f'belong together, or {hint}.')
    print_log(f'{message}\nloading only the tensors that fit (partial load)',
              logger='current', level=logging.WARNING)


def load_model_weights(model: torch.nn.Module, filename: str, strict: bool = True,
                       map_location: Optional[str] = 'cpu') -> Any:
    """Load ``filename`` (through the loader schemes) into ``model``, checking the fit.

    Args:
        model (nn.Module): The model.
        filename (str): Checkpoint path or URL.
        strict (bool): See :func:`check_fit`. Defaults to True.
        map_location (str, optional): Defaults to ``'cpu'``.

    Returns:
        The loaded checkpoint.
    """
    from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    check_fit(model, checkpoint, filename, strict=strict)
    _load_checkpoint_to_model(unwrap_model(model), checkpoint, strict=False)
    return checkpoint

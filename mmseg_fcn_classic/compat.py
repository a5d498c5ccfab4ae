"""The few fixes our pinned stack needs: checkpoint loading and CPU distributed runs.

Checkpoint loading (torch>=2.6 with mmengine 0.10.7)
----------------------------------------------------
torch>=2.6 defaults to ``torch.load(weights_only=True)``, and mmengine 0.10.7 does not
pass the argument, so ``resume``, ``load_from`` and ``init_model`` fail on the
checkpoints mmengine's own runner writes: their ``message_hub`` holds
:class:`~mmengine.logging.HistoryBuffer` objects and numpy arrays.

Instead of turning full unpickling on, this module re-registers mmengine's *local*
checkpoint loader scheme (``CheckpointLoader.register_scheme``, the extension point
mmengine provides) with a loader that:

* always unpickles with ``weights_only=True``: a plain state-dict file (converted VGG16
  weights, released FCN weights) loads exactly as torch intends;
* allows, on top of torch's default tensor/container types, only the handful of
  *data* types mmengine's runner puts in its checkpoints (``HistoryBuffer``, numpy
  arrays, dtypes and scalars), so a runner checkpoint resumes without executing any
  code from the file;
* refuses everything else with an error that names the file and the offending globals,
  and says how to opt in: prefix the path with ``trusted://`` (for example
  ``load_from='trusted://work_dirs/old.pth'`` or ``tools/train.py --resume
  trusted://work_dirs/old.pth``) to unpickle that one file fully, as in torch<2.6.
  Only do that for files you produced yourself: unpickling can run arbitrary code.

Shipped configs
---------------
The configs ship inside the package (``mmseg_fcn_classic/.mim/configs``). mmengine
0.10.7 resolves ``package::path`` config bases only for packages in its own
``MODULE2PACKAGE`` table, so :func:`register_config_package` adds this package there:
a user's config can then say
``_base_ = ['mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py']`` (mmengine requires a
``dir/file`` path after ``::``). :func:`config_path` gives any shipped config's path.

CPU distributed training
------------------------
mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its DDP wrapper
passes ``device_ids=[local_rank]``; both fail without CUDA. :func:`setup_cpu_distributed`
initialises a gloo process group itself (mmengine then skips its own ``init_dist``),
sets ``model_wrapper_cfg.device_ids=None`` and turns SyncBN into BN in the config.
"""
import copy
import os
import os.path as osp
import pickle
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

TRUSTED_PREFIX = 'trusted://'


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


def register_checkpoint_loaders() -> None:
    """Register the loader schemes for safe local files and ``trusted://``."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    CheckpointLoader.register_scheme(
        prefixes=TRUSTED_PREFIX, loader=load_from_trusted, force=True)


def config_path(name: str) -> str:
    """Absolute path of a config shipped with the package.

    Args:
        name (str): Path relative to ``configs/``, e.g. ``'fcn8s_vgg16_voc.py'``.

    Returns:
        str: The file's path (in the source tree or the installed package).

    Raises:
        FileNotFoundError: If there is no such shipped config.
    """
    here = osp.dirname(osp.abspath(__file__))
    for root in (osp.join(here, '.mim', 'configs'), osp.join(here, '..', 'configs')):
        path = osp.normpath(osp.join(root, name))
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'no shipped config {name!r} in mmseg_fcn_classic')


def register_config_package() -> None:
    """Let mmengine resolve ``mmseg_fcn_classic::<dir>/<file>.py`` config bases."""
    from mmengine.config import utils as config_utils
    config_utils.MODULE2PACKAGE.setdefault('mmseg_fcn_classic', 'mmseg_fcn_classic')


def syncbn_to_bn(cfg: Any) -> Any:
    """Return a copy of a config (sub)tree with every ``SyncBN`` norm made ``BN``.

    Args:
        cfg: A config, dict, list or leaf value.

    Returns:
        The same structure with ``type='SyncBN'`` replaced by ``type='BN'``.

    Example:
        >>> syncbn_to_bn(dict(norm_cfg=dict(type='SyncBN', requires_grad=True)))
        {'norm_cfg': {'type': 'BN', 'requires_grad': True}}
    """
    if isinstance(cfg, dict):
        out = copy.copy(cfg)
        for key, value in cfg.items():
            out[key] = syncbn_to_bn(value)
        if out.get('type') == 'SyncBN':
            out['type'] = 'BN'
        return out
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(syncbn_to_bn(v) for v in cfg)
    return cfg


def setup_cpu_distributed(cfg: Any, launcher: str) -> Any:
    """Prepare a config and the process group for a distributed run without CUDA.

    Does nothing when ``launcher`` is ``'none'`` or CUDA is available: there the
    usual NCCL path and device ids apply.

    Args:
        cfg (mmengine.Config): The training or test config, changed in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        The config.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    if launcher != 'pytorch':
        raise RuntimeError(
            f'CPU-only distributed runs support the pytorch launcher (torchrun, '
            f'tools/dist_train.sh), not {launcher!r}.')
    if not torch_dist.is_initialized():
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {}
        if timeout is not None:
            import datetime
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        torch_dist.init_process_group(backend='gloo', **kwargs)
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    cfg.model = syncbn_to_bn(cfg.model)
    if 'OMP_NUM_THREADS' not in os.environ:
        local = int(os.environ.get('LOCAL_WORLD_SIZE', '1'))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))
    return cfg


register_checkpoint_loaders()
register_config_package()

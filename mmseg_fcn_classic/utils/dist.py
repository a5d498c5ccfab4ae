"""Distributed runs without CUDA.

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its DDP wrapper
passes ``device_ids=[local_rank]``; both fail without CUDA. :func:`setup_cpu_distributed`
initialises a gloo process group itself (mmengine then skips its own ``init_dist``),
sets ``model_wrapper_cfg.device_ids=None`` and turns SyncBN into BN in the config.
"""
import copy
import os
from typing import Any

import torch
import torch.distributed as torch_dist


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
            f'or tools/dist_train.sh in a clone), not {launcher!r}.')
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

"""Every loader scheme of mmengine's ``CheckpointLoader``, under one policy.

This module re-registers every scheme of mmengine's ``CheckpointLoader`` (the
extension point mmengine provides) so that each one fetches or opens the bytes its
own way and then loads them under the policy of :mod:`.policy`: local files,
``http(s)://`` (downloaded into torch's hub cache, as mmengine does),
``torchvision://`` / ``modelzoo://``, ``open-mmlab://`` / ``openmmlab://``,
``mmcls://`` (names resolved with mmengine's own tables), ``pavi://``, ``s3://`` /
``petrel://`` (mmengine's file backends). It adds ``trusted://PATH`` (full
unpickling of a file the user names) and ``stage://WORK_DIR`` (:mod:`.stage`).

Schemes registered by other packages before this module is imported are wrapped
too (torch is forced to ``weights_only=True`` while they load); schemes registered
later are not seen.
"""
import contextlib
import logging
import os
import os.path as osp
import pickle
from typing import Any, Callable, Dict, Iterator, Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.runner import checkpoint as mm_ckpt
from mmengine.runner.checkpoint import CheckpointLoader

from .policy import (TRUSTED_PREFIX, CheckpointReadError, CheckpointRefusedError,
                     Location, check_loaded_content, load_checkpoint_bytes,
                     load_checkpoint_file, refuse_caffe_model,
                     runner_checkpoint_globals)
from .stored_config import neutralise_stored_configs
from .stage import STAGE_PREFIX, load_stage_checkpoint


def load_from_local_safe(filename: str, map_location: Location = None) -> Any:
    """The local scheme (``''``): see :func:`load_checkpoint_file`."""
    return load_checkpoint_file(filename, map_location)


def load_from_trusted(filename: str, map_location: Location = None) -> Any:
    """``trusted://PATH``: unpickle one local file fully, as torch<2.6 did."""
    return load_checkpoint_file(filename[len(TRUSTED_PREFIX):], map_location,
                                trusted=True)


def download_to_cache(url: str, model_dir: Optional[str] = None,
                      progress: bool = False) -> str:
    """Download ``url`` into torch's hub cache (as mmengine's ``load_url``); reuse it.

    Args:
        url (str): ``http(s)://`` URL.
        model_dir (str, optional): Cache folder. Defaults to
            ``<torch.hub.get_dir()>/checkpoints``.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        str: The cached file.
    """
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    filename = osp.basename(urlparse(url).path)
    if not filename:
        raise ValueError(f'cannot load checkpoint {url!r}: the URL names no file')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir, filename)
    if not osp.exists(cached):
        print_log(f'Downloading {url} to {cached}', logger='current')
        torch.hub.download_url_to_file(url, cached, None, progress=progress)
    return cached


def load_from_http_safe(filename: str, map_location: Location = None,
                        model_dir: Optional[str] = None) -> Any:
    """``http(s)://``: download (local rank 0 first, as mmengine does); the policy.
    A Caffe model (``.caffemodel``) is refused before anything is downloaded."""
    refuse_caffe_model(filename)
    rank, world_size = get_dist_info()
    if rank == 0:
        cached = download_to_cache(filename, model_dir, progress=os.isatty(0))
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            cached = download_to_cache(filename, model_dir)
    return load_checkpoint_file(cached, map_location,
                                source=f'{filename} (downloaded to {cached})')


def _model_url(table: Dict[str, str], name: str, scheme: str) -> str:
    if name not in table:
        raise KeyError(f'{scheme}{name}: unknown model name; known: '
                       f'{", ".join(sorted(table)[:20])}, ...')
    return table[name]


def load_from_torchvision_safe(filename: str, map_location: Location = None) -> Any:
    """``torchvision://NAME`` / ``modelzoo://NAME``: torchvision's URL, then http."""
    try:
        import torchvision  # noqa: F401
    except Exception as err:  # noqa: BLE001  (a CUDA wheel on a CPU torch raises)
        raise ImportError(
            f'{filename} needs torchvision, which is optional: install the '
            "[torchvision] extra (pip install 'mmseg_fcn_classic[torchvision]'), or "
            'convert the weights once with tools/convert_weights.py and load the '
            f'file ({type(err).__name__}: {err})') from err
    scheme, name = filename.split('://', 1)
    if scheme == 'modelzoo':
        print_log('The URL scheme of "modelzoo://" is deprecated, please use '
                  '"torchvision://" instead', logger='current', level=logging.WARNING)
    url = _model_url(mm_ckpt.get_torchvision_models(), name, scheme + '://')
    return load_from_http_safe(url, map_location)


def load_from_openmmlab_safe(filename: str, map_location: Location = None) -> Any:
    """``open-mmlab://NAME`` / ``openmmlab://NAME``: mmengine's tables; the policy."""
    scheme, name = filename.split('://', 1)
    deprecated = mm_ckpt.get_deprecated_model_names()
    if name in deprecated:
        print_log(f'{scheme}://{name} is deprecated in favor of '
                  f'{scheme}://{deprecated[name]}', logger='current',
                  level=logging.WARNING)
        name = deprecated[name]
    url = _model_url(mm_ckpt.get_external_models(), name, scheme + '://')
    if url.startswith(('http://', 'https://')):
        return load_from_http_safe(url, map_location)
    # a path from mmengine's table: under MMENGINE_HOME, never a scheme
    path = osp.join(mm_ckpt._get_mmengine_home(), url)
    return load_checkpoint_file(path, map_location, source=f'{filename} ({path})')


def load_from_mmcls_safe(filename: str, map_location: Location = None) -> Any:
    """``mmcls://NAME``: mmengine's table, http, then the backbone keys."""
    url = _model_url(mm_ckpt.get_mmcls_models(), filename[len('mmcls://'):], 'mmcls://')
    return mm_ckpt._process_mmcls_checkpoint(load_from_http_safe(url, map_location))


def load_from_pavi_safe(filename: str, map_location: Location = None) -> Any:
    """``pavi://PATH``: download from modelcloud into a temporary folder; the policy."""
    import tempfile
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError('Please install pavi to load checkpoint from modelcloud.')
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as tmp_dir:
        downloaded = osp.join(tmp_dir, osp.basename(str(model.name)))
        model.download(downloaded)
        return load_checkpoint_file(downloaded, map_location, source=filename)


def load_from_ceph_safe(filename: str, map_location: Location = None,
                        backend: str = 'petrel') -> Any:
    """``s3://`` / ``petrel://``: mmengine's file backend reads the bytes; the policy."""
    from mmengine.fileio import get_file_backend
    file_backend = get_file_backend(filename, backend_args={'backend': backend})
    return load_checkpoint_bytes(file_backend.get(filename), filename, map_location)


@contextlib.contextmanager
def _forced_weights_only() -> Iterator[None]:
    """Make every ``torch.load`` in the block use ``weights_only=True`` and the
    allowlist (torch's ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` switch)."""
    key = 'TORCH_FORCE_WEIGHTS_ONLY_LOAD'
    old = os.environ.get(key)
    os.environ[key] = '1'
    try:
        with torch.serialization.safe_globals(runner_checkpoint_globals()):
            yield
    finally:
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def wrap_foreign_loader(loader: Callable) -> Callable:
    """Put a scheme registered by another package under the policy.

    Its fetch is kept; every ``torch.load`` it makes is forced to
    ``weights_only=True`` with the allowlist, the loaded arrays are bounded
    (:func:`~.policy.check_loaded_content`, with no file size to go by) and the
    stored configs are replaced (:mod:`.stored_config`).

    Args:
        loader (callable): ``loader(filename, map_location)``.

    Returns:
        callable: The wrapped loader.
    """
    def load_from_foreign_safe(filename: str, map_location: Location = None) -> Any:
        try:
            with _forced_weights_only():
                checkpoint = loader(filename, map_location)
        except pickle.UnpicklingError as err:
            raise CheckpointRefusedError(
                f'Refusing to fully unpickle checkpoint {filename!r}: it contains '
                f'objects outside the weights-only allowlist ({err}).') from err
        except (OSError, ImportError):
            raise  # the fetch's own errors
        except Exception as err:  # noqa: BLE001  (named, like every failed load)
            raise CheckpointReadError(
                f'cannot read checkpoint {filename!r}: {type(err).__name__}: '
                f'{str(err)[:500]}') from err
        check_loaded_content(checkpoint, filename)
        return neutralise_stored_configs(checkpoint, filename)

    load_from_foreign_safe.wrapped = loader
    return load_from_foreign_safe


#: mmengine's loader functions and their replacements under the policy.
SAFE_REPLACEMENTS = {
    mm_ckpt.load_from_local: load_from_local_safe,
    mm_ckpt.load_from_http: load_from_http_safe,
    mm_ckpt.load_from_torchvision: load_from_torchvision_safe,
    mm_ckpt.load_from_openmmlab: load_from_openmmlab_safe,
    mm_ckpt.load_from_mmcls: load_from_mmcls_safe,
    mm_ckpt.load_from_pavi: load_from_pavi_safe,
    mm_ckpt.load_from_ceph: load_from_ceph_safe,
}


def register_checkpoint_loaders() -> None:
    """Put every registered scheme under the policy; add ``trusted://`` and ``stage://``."""
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if getattr(loader, '__module__', '').startswith(__package__ + '.'):
            continue  # already ours
        safe = SAFE_REPLACEMENTS.get(loader) or wrap_foreign_loader(loader)
        CheckpointLoader.register_scheme(prefixes=prefix, loader=safe, force=True)
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    CheckpointLoader.register_scheme(
        prefixes=TRUSTED_PREFIX, loader=load_from_trusted, force=True)
    CheckpointLoader.register_scheme(
        prefixes=STAGE_PREFIX, loader=load_stage_checkpoint, force=True)


register_checkpoint_loaders()

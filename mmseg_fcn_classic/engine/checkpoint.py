"""Checkpoint loading: one policy for every loader scheme, and staged training.

torch>=2.6 defaults to ``torch.load(weights_only=True)``, but mmengine 0.10.7 does
not pass the argument, and its URL loaders end in torch functions that still
unpickle fully (``torch.hub.load_state_dict_from_url`` defaults to
``weights_only=False``). Unpickling can run any code the file names.

This module re-registers every scheme of mmengine's ``CheckpointLoader`` (the
extension point mmengine provides) so that all of them follow one policy:

1. fetch or open the bytes: local files, ``http(s)://`` (downloaded into torch's
   hub cache, as mmengine does), ``torchvision://`` / ``modelzoo://``,
   ``open-mmlab://`` / ``openmmlab://``, ``mmcls://`` (names resolved with
   mmengine's own tables), ``pavi://``, ``s3://`` / ``petrel://`` (mmengine's file
   backends);
2. refuse a zip whose declared uncompressed size exceeds
   :data:`MAX_INFLATION` times the file's size (a "zip bomb");
3. unpickle with ``weights_only=True`` plus an allowlist of the plain-data types
   mmengine's runner stores (``HistoryBuffer``, numpy arrays, dtypes, scalars);
4. refuse a stored config (``meta['cfg']``, ``meta['config']``,
   ``message_hub['runtime_info']['cfg']``) that is not plain data: mmengine
   executes those strings (``Runner.resume``, ``MMSegInferencer(model=None)``);
5. anything else is refused with :class:`CheckpointRefusedError`, naming the
   file (or URL) and the offending globals or statement.

Only ``trusted://PATH`` unpickles fully, and only when the user typed it (command
line, or a config they wrote): a path read from a file (``last_checkpoint``, a
``stage://`` work dir, a checkpoint's message hub) must be a plain local path,
see :func:`plain_local_path`; :func:`find_resume_checkpoint` reads a work dir
that way. Schemes registered by other packages before this
module is imported are wrapped too (torch is forced to ``weights_only=True``
while they load); schemes registered later are not seen.

Staged training: ``load_from='stage://work_dirs/fcn32s_vgg16_voc'`` loads the
*final* checkpoint of a previous stage's work dir, the one its
``last_checkpoint`` names, which must have reached that stage's ``max_iters``.
"""
import ast
import contextlib
import io
import logging
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import (Any, BinaryIO, Callable, Dict, Iterator, List, Optional, Tuple,
                    Union)
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import checkpoint as mm_ckpt
from mmengine.runner.checkpoint import CheckpointLoader

TRUSTED_PREFIX = 'trusted://'
STAGE_PREFIX = 'stage://'

#: Environment variable that raises :data:`MAX_INFLATION`.
MAX_INFLATION_ENV = 'MMSEG_FCN_MAX_CHECKPOINT_INFLATION'
#: Largest allowed ratio of a zip checkpoint's declared uncompressed size to its
#: size on disk. ``torch.save`` stores entries uncompressed (ratio about 1), so
#: only a re-compressed file comes near it; raise it with the environment
#: variable :data:`MAX_INFLATION_ENV` (e.g. ``=100``).
MAX_INFLATION = 10.0

#: Files the shipped configs name, and what they are converted from.
KNOWN_SOURCES = {
    'vgg16_caffe.pth': ('VGG_ILSVRC_16_layers.caffemodel', 'the ImageNet VGG16 of '
                        'the Caffe model zoo, which the FCN reference starts from'),
}

Location = Union[str, Callable, None]
#: Checkpoint files the runner writes (CheckpointHook's default names).
CHECKPOINT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')
#: Parts of a checkpoint ``Runner.resume`` needs.
RUNNER_KEYS = ('meta', 'state_dict', 'message_hub')
#: ``last_checkpoint`` holds one path; anything longer is not one.
MAX_POINTER_BYTES = 4096

Skipped = List[Tuple[str, str]]


class CheckpointRefusedError(pickle.UnpicklingError):
    """A checkpoint the safe policy will not load; the message names the file."""


class CheckpointReadError(RuntimeError):
    """A checkpoint that is truncated, corrupt or not a torch file; names it."""


class UntrustedPathError(ValueError):
    """A loader scheme in a path that was read from a file, not typed by the user."""


# ---------------------------------------------------------------- allowlist


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


def _unsafe_globals(f: Union[str, BinaryIO]) -> str:
    try:
        if not isinstance(f, str):
            f.seek(0)
        names = torch.serialization.get_unsafe_globals_in_checkpoint(f)
    except Exception:  # noqa: BLE001  (best effort for the message only)
        return 'unknown globals'
    allowed = {g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
               for g in runner_checkpoint_globals()}
    return ', '.join(n for n in names if n not in allowed) or 'unknown globals'


# ---------------------------------------------------------------- zip size


def max_inflation() -> float:
    """:data:`MAX_INFLATION`, or the value of the :data:`MAX_INFLATION_ENV` variable."""
    value = os.environ.get(MAX_INFLATION_ENV)
    if not value:
        return MAX_INFLATION
    try:
        return float(value)
    except ValueError:
        raise ValueError(f'{MAX_INFLATION_ENV}={value!r} is not a number') from None


def check_zip_inflation(f: Union[str, BinaryIO], name: str,
                        limit: Optional[float] = None) -> None:
    """Refuse a zip checkpoint that declares far more data than it holds.

    Only the central directory is read (the declared uncompressed sizes), before
    torch allocates anything. Files that are not zips (torch's legacy format) pass.

    Args:
        f (str | file): The checkpoint file or an open binary file.
        name (str): What the error names (the path or URL).
        limit (float, optional): Largest ratio of declared to actual size.
            Defaults to :func:`max_inflation`.

    Raises:
        CheckpointRefusedError: The declared size exceeds the limit.
        CheckpointReadError: The zip directory is corrupt.
    """
    limit = max_inflation() if limit is None else limit
    if isinstance(f, str):
        size = os.path.getsize(f)
    else:
        size = f.seek(0, io.SEEK_END)
        f.seek(0)
    if not zipfile.is_zipfile(f):
        return
    try:
        with zipfile.ZipFile(f) as zf:
            declared = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise CheckpointReadError(f'cannot read checkpoint {name!r}: corrupt zip '
                                  f'directory ({err})') from err
    finally:
        if not isinstance(f, str):
            f.seek(0)
    if declared > limit * max(size, 1):
        raise CheckpointRefusedError(
            f'Refusing checkpoint {name!r}: its zip directory declares {declared:,} '
            f'bytes of content in a {size:,}-byte file ({declared / max(size, 1):.0f}x; '
            f'the limit is {limit:g}x). torch.save does not compress, so this file '
            'would inflate in memory when loaded. If you expect that, raise the limit: '
            f'{MAX_INFLATION_ENV}={int(declared / max(size, 1)) + 1}.')


# ---------------------------------------------------------------- stored configs

_DATA_CALLS = frozenset({'dict', 'list', 'tuple', 'set'})
_DATA_NAMES = frozenset({'inf', 'nan'})
_DATA_NODES = (ast.Module, ast.Assign, ast.Name, ast.Load, ast.Store, ast.Constant,
               ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Call, ast.keyword,
               ast.UnaryOp, ast.USub, ast.UAdd)
#: Config keys that make mmengine read further files when it parses the text.
_EXECUTING_KEYS = frozenset({'_base_'})


def stored_config_problem(text: str) -> Optional[str]:
    """Why a config stored in a checkpoint is not plain data, or None if it is.

    mmengine's ``pretty_text`` (what the runner stores) is a list of
    ``key = value`` lines whose values are literals and ``dict(...)`` calls. Any
    other statement (an import, another call, an attribute) would run when
    mmengine parses the text again.

    Args:
        text (str): The stored config.

    Returns:
        str | None: The first offending construct, with its line.

    Example:
        >>> stored_config_problem("model = dict(type='X', widths=(4, 8))") is None
        True
        >>> stored_config_problem("import os")
        'line 1: Import'
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        return f'not Python ({err.msg}, line {err.lineno})'
    for node in ast.walk(tree):
        line = f'line {getattr(node, "lineno", "?")}'
        if not isinstance(node, _DATA_NODES):
            return f'{line}: {type(node).__name__}'
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in _DATA_CALLS):
            return f'{line}: call of {ast.unparse(node.func)}'
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and (
                node.id in _DATA_CALLS | _DATA_NAMES | _EXECUTING_KEYS):
            return f'{line}: assignment to {node.id}'
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and (
                node.id not in _DATA_CALLS | _DATA_NAMES):
            return f'{line}: reference to {node.id}'
        if isinstance(node, ast.Assign) and not all(
                isinstance(t, ast.Name) for t in node.targets):
            return f'{line}: assignment to {ast.unparse(node.targets[0])}'
    return None


def _stored_configs(checkpoint: Any) -> Iterator[tuple]:
    if not isinstance(checkpoint, dict):
        return
    meta = checkpoint.get('meta')
    if isinstance(meta, dict):
        for key in ('cfg', 'config'):
            if key in meta:
                yield f"meta['{key}']", meta[key]
    hub = checkpoint.get('message_hub')
    info = hub.get('runtime_info') if isinstance(hub, dict) else None
    if isinstance(info, dict) and 'cfg' in info:
        yield "message_hub['runtime_info']['cfg']", info['cfg']


def _trusted_hint(local: Optional[str]) -> str:
    if local is None:
        return ('If you produced this file yourself, copy it to a local file and load '
                f"that as '{TRUSTED_PREFIX}PATH'.")
    return f"If you produced this file yourself, load it as '{TRUSTED_PREFIX}{local}'."


def check_stored_configs(checkpoint: Any, name: str,
                         local: Optional[str] = None) -> None:
    """Refuse a checkpoint whose stored config is code rather than data.

    Args:
        checkpoint: A loaded checkpoint.
        name (str): What the error names.
        local (str, optional): The local file, for the ``trusted://`` hint.

    Raises:
        CheckpointRefusedError: A stored config is not plain data.
    """
    for where, text in _stored_configs(checkpoint):
        problem = (stored_config_problem(text) if isinstance(text, str) else
                   f'a {type(text).__name__}, not text')
        if problem:
            raise CheckpointRefusedError(
                f'Refusing checkpoint {name!r}: its stored config {where} is not '
                f'plain data ({problem}). mmengine executes stored configs '
                f'(Runner.resume, MMSegInferencer(model=None)). {_trusted_hint(local)}')


# ---------------------------------------------------------------- the policy


def missing_checkpoint_message(filename: str) -> str:
    """Say which file is missing and how to make it with tools/convert_weights.py.

    Example:
        >>> print(missing_checkpoint_message('checkpoints/x.pth'))  # doctest: +ELLIPSIS
        checkpoint file 'checkpoints/x.pth' does not exist. If it is ...
    """
    known = KNOWN_SOURCES.get(osp.basename(filename))
    if known:
        src, what = known
        return (f'checkpoint file {filename!r} does not exist. It is converted from '
                f'{src} ({what}): obtain that file, then run\n'
                f'  python tools/convert_weights.py {src} {filename}')
    return (f'checkpoint file {filename!r} does not exist. If it is converted weights, '
            'make it from the original file (a Caffe .caffemodel, a pytorch-fcn .pth '
            'or a torchvision VGG16 state dict) with\n'
            f'  python tools/convert_weights.py SRC {filename}')


def _torch_load(f: Union[str, BinaryIO], name: str, map_location: Location,
                trusted: bool, mmap: bool = False) -> Any:
    """Steps 3-5 of the policy for a local file (a path) or bytes (a file object)."""
    local = f if isinstance(f, str) else None
    try:
        if trusted:
            return torch.load(f, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(runner_checkpoint_globals()):
            checkpoint = torch.load(f, map_location=map_location, weights_only=True,
                                    mmap=mmap or None)
    except pickle.UnpicklingError as err:
        if trusted:
            raise
        raise CheckpointRefusedError(
            f'Refusing to fully unpickle checkpoint {name!r}: it contains objects '
            f'outside the weights-only allowlist ({_unsafe_globals(f)}). Unpickling '
            f'can run arbitrary code. {_trusted_hint(local)}') from err
    except (RuntimeError, EOFError, KeyError, ValueError, OSError) as err:
        # truncated or not a torch file: torch's own message does not name it
        raise CheckpointReadError(
            f'cannot read checkpoint {name!r}: not a complete torch.save file '
            f'({type(err).__name__}: {err})') from err
    check_stored_configs(checkpoint, name, local)
    return checkpoint


def load_checkpoint_file(filename: str, map_location: Location = None,
                         trusted: bool = False, source: Optional[str] = None,
                         mmap: bool = False) -> Any:
    """Load a local checkpoint file under the policy (safely unless ``trusted``).

    ``filename`` is always a plain path: no scheme in it is interpreted.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str | callable, optional): As for :func:`torch.load`.
            Defaults to None.
        trusted (bool): Unpickle fully (``weights_only=False``). Only for files you
            produced yourself. Defaults to False.
        source (str, optional): What errors name instead of ``filename`` (the URL
            it was downloaded from). Defaults to None.
        mmap (bool): Map the tensors instead of reading them (a cheap probe).
            Defaults to False.

    Returns:
        Any: The unpickled checkpoint, usually a dict.

    Raises:
        FileNotFoundError: ``filename`` does not exist; says how to make it.
        CheckpointRefusedError: Types outside the allowlist, a zip bomb or a stored
            config that is code; the message names the file.
        CheckpointReadError: The file is truncated or not a ``torch.save`` file.
    """
    path = osp.expanduser(filename)
    name = source or filename
    if not osp.isfile(path):
        raise FileNotFoundError(missing_checkpoint_message(name))
    if not trusted:
        check_zip_inflation(path, name)
    return _torch_load(path, name, map_location, trusted, mmap=mmap)


def load_checkpoint_bytes(data: bytes, name: str,
                          map_location: Location = None) -> Any:
    """Load a checkpoint held in memory (a storage backend's bytes) safely.

    Args:
        data (bytes): The file's content.
        name (str): What errors name (the URI).
        map_location (str | callable, optional): As for :func:`torch.load`.

    Returns:
        Any: The unpickled checkpoint.
    """
    with io.BytesIO(data) as f:
        check_zip_inflation(f, name)
        return _torch_load(f, name, map_location, trusted=False)


# ---------------------------------------------------------------- paths from files


def scheme_of(path: str) -> Optional[str]:
    """The loader scheme a path would be dispatched to, or None for a plain path.

    Example:
        >>> scheme_of('work_dirs/x/iter_4.pth') is None
        True
        >>> scheme_of('trusted:///tmp/x.pth')
        'trusted://'
    """
    loader = CheckpointLoader._get_checkpoint_loader(path)
    for prefix, candidate in CheckpointLoader._schemes.items():
        if prefix and candidate is loader and re.match(prefix, path):
            return prefix
    if '://' in path:  # mmengine's file backends read any 'x://' as a scheme
        return path.split('://', 1)[0] + '://'
    return None


def plain_local_path(text: str, source: str) -> str:
    """Check a path read from a file: it must be a plain local path.

    Loader schemes (``trusted://`` above all) are honoured only when the user
    typed them; a file in a work dir must not be able to switch full unpickling
    on, or send a load to the network.

    Args:
        text (str): The path as read.
        source (str): The file it was read from, named in the error.

    Returns:
        str: ``text``.

    Raises:
        UntrustedPathError: ``text`` carries a scheme.
    """
    scheme = scheme_of(text)
    if scheme is not None:
        raise UntrustedPathError(
            f'{source} names {text!r}, which uses the loader scheme {scheme!r}. A path '
            'read from a file must be a plain local path: schemes such as '
            f'{TRUSTED_PREFIX} are honoured only when you type them (command line or '
            'your own config). Check where this file came from; to use that '
            f'checkpoint anyway, pass it explicitly, e.g. --resume {text}.')
    return text


# ---------------------------------------------------------------- the schemes


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
    """``http(s)://``: download (local rank 0 first, as mmengine does); the policy."""
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
    ``weights_only=True`` with the allowlist, and stored configs are checked.

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
        check_stored_configs(checkpoint, filename)
        return checkpoint

    load_from_foreign_safe.wrapped = loader
    return load_from_foreign_safe


# ---------------------------------------------------------------- work dirs


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
    except (CheckpointRefusedError, RuntimeError, OSError) as err:
        return f'does not load ({err})'
    if require_runner_checkpoint:
        missing = [k for k in RUNNER_KEYS
                   if not isinstance(checkpoint, dict) or k not in checkpoint]
        if missing:
            return f'is not a checkpoint written by the runner (no {", ".join(missing)})'
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


# ---------------------------------------------------------------- staged training


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


# ---------------------------------------------------------------- registration

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
        if getattr(loader, '__module__', None) == __name__:
            continue  # already ours
        safe = SAFE_REPLACEMENTS.get(loader) or wrap_foreign_loader(loader)
        CheckpointLoader.register_scheme(prefixes=prefix, loader=safe, force=True)
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    CheckpointLoader.register_scheme(
        prefixes=TRUSTED_PREFIX, loader=load_from_trusted, force=True)
    CheckpointLoader.register_scheme(
        prefixes=STAGE_PREFIX, loader=load_stage_checkpoint, force=True)


register_checkpoint_loaders()

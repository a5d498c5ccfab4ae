"""The unpickling policy every checkpoint load goes through (except ``trusted://``).

torch>=2.6 defaults to ``torch.load(weights_only=True)``, but mmengine 0.10.7 does
not pass the argument, and its URL loaders end in torch functions that still
unpickle fully (``torch.hub.load_state_dict_from_url`` defaults to
``weights_only=False``). Unpickling can run any code the file names. So, for the
bytes of a local file or a fetched file (:mod:`.schemes` fetches them):

1. refuse a zip whose declared uncompressed size exceeds :data:`MAX_INFLATION`
   times the file's size (a "zip bomb");
2. unpickle with ``weights_only=True`` plus an allowlist of the plain-data types
   mmengine's runner stores (``HistoryBuffer``, numpy arrays, dtypes, scalars);
3. refuse a stored config (``meta['cfg']``, ``meta['config']``,
   ``message_hub['runtime_info']['cfg']``) that is not plain data: mmengine
   executes those strings (``Runner.resume``, ``MMSegInferencer(model=None)``);
4. anything else is refused with :class:`CheckpointRefusedError`, naming the
   file (or URL) and the offending globals or statement.

Only ``trusted://PATH`` unpickles fully, and only when the user typed it (command
line, or a config they wrote): a path read from a file (``last_checkpoint``, a
``stage://`` work dir, a checkpoint's message hub) must be a plain local path,
see :func:`plain_local_path`.
"""
import ast
import io
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import Any, BinaryIO, Callable, Iterator, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

TRUSTED_PREFIX = 'trusted://'

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

#: What ``torch.load`` takes as ``map_location``.
Location = Union[str, Callable, None]


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

"""The unpickling policy every checkpoint load goes through (except ``trusted://``).

torch>=2.6 defaults to ``torch.load(weights_only=True)``, but mmengine 0.10.7 does
not pass the argument, and its URL loaders end in torch functions that still
unpickle fully (``torch.hub.load_state_dict_from_url`` defaults to
``weights_only=False``). Unpickling can run any code the file names. So, for the
bytes of a local file or a fetched file (:mod:`.schemes` fetches them):

1. refuse a zip whose declared uncompressed size exceeds :data:`MAX_INFLATION`
   times the file's size (a "zip bomb"), and a file in torch's legacy format whose
   storages declare more bytes than the file holds, before anything is allocated;
2. unpickle with ``weights_only=True`` plus an allowlist of the plain-data types
   mmengine's runner stores (numpy arrays, dtypes, scalars, and ``HistoryBuffer``,
   rebuilt without touching its class-level state);
3. refuse an array or tensor with more elements, or bytes, than the file could
   hold, and an object array;
4. replace every stored config with a notice that runs nothing
   (:mod:`.stored_config`): mmengine would parse and build it;
5. anything else is refused with :class:`CheckpointRefusedError`, and a file that
   fails to load in any other way raises :class:`CheckpointReadError`; both name
   the file (or URL).

Only ``trusted://PATH`` unpickles fully, and only when the user typed it (command
line, or a config they wrote): a path read from a file (``last_checkpoint``, a
``stage://`` work dir, a checkpoint's message hub) must be a plain local path,
see :func:`plain_local_path`.
"""
import contextlib
import io
import os
import os.path as osp
import pickle
import re
import tarfile
import zipfile
from typing import Any, BinaryIO, Callable, Dict, List, Optional, Union
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from ..utils.commands import tool_command
from ..utils.config import configs_with_weights
from .stored_config import neutralise_stored_configs

TRUSTED_PREFIX = 'trusted://'

#: Environment variable that raises :data:`MAX_INFLATION`.
MAX_INFLATION_ENV = 'MMSEG_FCN_MAX_CHECKPOINT_INFLATION'
#: Largest allowed ratio of a zip checkpoint's declared uncompressed size to its
#: size on disk. ``torch.save`` stores entries uncompressed (ratio about 1), so
#: only a re-compressed file comes near it; raise it with the environment
#: variable :data:`MAX_INFLATION_ENV` (e.g. ``=100``).
MAX_INFLATION = 10.0
#: Largest array or tensor (elements, and bytes) a checkpoint of unknown size may
#: hold: only schemes of other packages hand over a checkpoint without its bytes.
MAX_ELEMENTS_UNKNOWN_SIZE = 1 << 31
#: The statistics a ``HistoryBuffer`` in a checkpoint may name (mmengine's own).
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

#: Files the shipped configs name, and what they are converted from.
KNOWN_SOURCES = {
    'vgg16_caffe.pth': ('VGG_ILSVRC_16_layers.caffemodel', 'the ImageNet VGG16 of '
                        'the Caffe model zoo, which the FCN reference starts from'),
}

#: The file name suffix of Caffe models, which load only after conversion.
CAFFE_SUFFIX = '.caffemodel'

#: What ``torch.load`` takes as ``map_location``.
Location = Union[str, Callable, None]


class CheckpointRefusedError(pickle.UnpicklingError):
    """A checkpoint the safe policy will not load; the message names the file."""


class CheckpointReadError(RuntimeError):
    """A checkpoint that is truncated, corrupt or malformed; names it."""


class UntrustedPathError(ValueError):
    """A loader scheme in a path that was read from a file, not typed by the user."""


# ---------------------------------------------------------------- allowlist


class _HistoryBufferState(HistoryBuffer):
    """What a checkpoint's ``HistoryBuffer`` is unpickled as, then turned into.

    mmengine's ``HistoryBuffer.__setstate__`` merges the file's
    ``statistics_methods`` into a dictionary shared by the whole class, so a file
    could remap ``mean`` for every buffer of the process. This class is allowlisted
    under ``HistoryBuffer``'s name instead: its ``__setstate__`` checks the state,
    keeps only the data (``max_length`` and the two history arrays), ignores the
    file's statistics methods and then becomes a plain ``HistoryBuffer``.
    """

    def __init__(self, *args, **kwargs) -> None:
        raise pickle.UnpicklingError(
            'a HistoryBuffer in a checkpoint must be rebuilt from its state, not '
            'constructed with arguments')

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(
                f'HistoryBuffer state is a {type(state).__name__}, not a dict')
        max_length = state.get('max_length')
        if type(max_length) is not int or max_length < 1:
            raise pickle.UnpicklingError(
                f'HistoryBuffer max_length {max_length!r} is not a positive integer')
        history = [state.get('_log_history'), state.get('_count_history')]
        for array in history:
            if not (isinstance(array, np.ndarray) and array.ndim == 1
                    and array.dtype.kind in 'biuf'):
                raise pickle.UnpicklingError(
                    'HistoryBuffer history is not a 1-d numeric array: '
                    f'{type(array).__name__}')
        if len(history[0]) != len(history[1]):
            raise pickle.UnpicklingError('HistoryBuffer histories differ in length')
        self.__dict__.update(max_length=max_length, _log_history=history[0],
                             _count_history=history[1])
        self.__class__ = HistoryBuffer


def runner_checkpoint_globals() -> List[Any]:
    """Return the non-torch types found inside checkpoints mmengine's runner writes.

    These are plain data containers: allowing them lets ``weights_only=True``
    rebuild them without allowing arbitrary callables. ``HistoryBuffer`` and
    ``getattr`` are replaced by checked stand-ins registered under their names.

    Returns:
        list: Classes and reconstruction functions for :func:`torch.serialization.
        safe_globals`.
    """
    from numpy._core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in np.sctypeDict.values()]
    buffer_name = f'{HistoryBuffer.__module__}.{HistoryBuffer.__qualname__}'
    return [np.ndarray, np.dtype, _reconstruct, scalar,
            *sorted(set(dtype_classes), key=str),
            (_HistoryBufferState, buffer_name),
            (history_buffer_getattr, 'builtins.getattr')]


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """The only ``getattr`` a checkpoint may call while unpickling.

    A :class:`~mmengine.logging.HistoryBuffer` pickles its ``statistics_methods``
    as ``getattr(HistoryBuffer, 'mean')`` and so on. Allowing ``builtins.getattr``
    itself would let a file reach arbitrary attributes, so it is replaced by this
    function, which only returns mmengine's own statistics methods
    (:data:`HISTORY_BUFFER_STATISTICS`, a fixed list: nothing a file or the process
    registers widens it).

    Args:
        obj: The object the checkpoint asks an attribute of.
        name (str): The attribute name.

    Returns:
        The statistics method.

    Raises:
        pickle.UnpicklingError: For anything else.
    """
    if (obj is HistoryBuffer or obj is _HistoryBufferState) and \
            type(name) is str and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    shown = ('HistoryBuffer' if obj is _HistoryBufferState else
             getattr(obj, '__name__', type(obj).__name__))
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({shown}, {name!r}), which is not allowed: only '
        'HistoryBuffer statistics '
        f'({", ".join(HISTORY_BUFFER_STATISTICS)})')


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


def _trusted_hint(local: Optional[str]) -> str:
    if local is None:
        return ('If you produced this file yourself, copy it to a local file and load '
                f"that as '{TRUSTED_PREFIX}PATH'.")
    return f"If you produced this file yourself, load it as '{TRUSTED_PREFIX}{local}'."


# ---------------------------------------------------------------- sizes


def max_inflation() -> float:
    """:data:`MAX_INFLATION`, or the value of the :data:`MAX_INFLATION_ENV` variable."""
    value = os.environ.get(MAX_INFLATION_ENV)
    if not value:
        return MAX_INFLATION
    try:
        return float(value)
    except ValueError:
        raise ValueError(f'{MAX_INFLATION_ENV}={value!r} is not a number') from None


def _file_size(f: Union[str, BinaryIO]) -> int:
    if isinstance(f, str):
        return os.path.getsize(f)
    size = f.seek(0, io.SEEK_END)
    f.seek(0)
    return size


def check_zip_inflation(f: Union[str, BinaryIO], name: str,
                        limit: Optional[float] = None) -> None:
    """Refuse a zip checkpoint that declares far more data than it holds.

    Only the central directory is read (the declared uncompressed sizes), before
    torch allocates anything. Files that are not zips (torch's legacy format) pass:
    :func:`check_legacy_storages` bounds those.

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
    size = _file_size(f)
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


def _is_legacy(f: BinaryIO) -> bool:
    """Whether ``f`` is in torch's legacy (pickle stream) format: neither a zip nor
    what ``torch.load`` would open as a tar file (the older format)."""
    try:
        if zipfile.is_zipfile(f):
            return False
        f.seek(0)
        try:
            with tarfile.open(fileobj=f, mode='r:', format=tarfile.PAX_FORMAT):
                return False
        except tarfile.TarError:
            return True
    finally:
        f.seek(0)


def legacy_storage_bytes(f: BinaryIO) -> int:
    """The bytes the storages of a legacy-format torch file declare.

    torch's legacy format is a stream of pickles (magic number, protocol, system
    info, the object, the storage keys) followed by each storage's bytes. torch
    allocates every storage the object pickle declares while unpickling it, before
    reading any data, so a small file can declare terabytes. This reads the object
    pickle with the same weights-only allowlist, giving each storage a ``meta``
    device stand-in that allocates nothing.

    Args:
        f (file): The open file, at any position (read from the start).

    Returns:
        int: The sum of the declared storage sizes (0 for a file that does not
        start with torch's magic number).

    Raises:
        pickle.UnpicklingError: A global outside the allowlist, or a persistent id
            that is not a storage.
    """
    from torch import _weights_only_unpickler as wo
    declared: Dict[Any, int] = {}

    def persistent_load(saved_id: Any) -> Any:
        if not (isinstance(saved_id, tuple) and len(saved_id) == 6
                and saved_id[0] in ('storage', b'storage')):
            raise pickle.UnpicklingError(f'unexpected persistent id {saved_id!r:.80}')
        _, storage_type, key, _, numel, _ = saved_id
        dtype = storage_type.dtype
        if type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError(f'storage size {numel!r:.40} is not a count')
        nbytes = numel * torch._utils._element_size(dtype)
        declared[str(key)] = max(declared.get(str(key), 0), nbytes)
        stand_in = torch.UntypedStorage(nbytes, device='meta')
        return torch.storage.TypedStorage(wrap_storage=stand_in, dtype=dtype,
                                          _internal=True)

    f.seek(0)
    try:
        magic = wo.Unpickler(f, encoding='utf-8').load()
    except Exception:  # noqa: BLE001  (not a torch file: torch.load says so)
        magic = None
    if magic != torch.serialization.MAGIC_NUMBER:
        f.seek(0)
        return 0
    with torch.serialization.safe_globals(runner_checkpoint_globals()):
        for _ in range(2):  # protocol version, system info
            wo.Unpickler(f, encoding='utf-8').load()
        unpickler = wo.Unpickler(f, encoding='utf-8')
        unpickler.persistent_load = persistent_load
        unpickler.load()
    f.seek(0)
    return sum(declared.values())


def check_legacy_storages(f: BinaryIO, name: str) -> None:
    """Refuse a legacy-format file whose storages declare more bytes than it holds.

    Zips and tar files pass (see :func:`check_zip_inflation`; torch refuses tar
    files under ``weights_only``).

    Args:
        f (file): The open checkpoint.
        name (str): What the error names.

    Raises:
        CheckpointRefusedError: The declared storages do not fit in the file.
    """
    if not _is_legacy(f):
        return
    size = _file_size(f)
    declared = legacy_storage_bytes(f)
    if declared > size:
        raise CheckpointRefusedError(
            f'Refusing checkpoint {name!r}: its storages declare {declared:,} bytes in '
            f'a {size:,}-byte file. torch\'s legacy format stores every storage in the '
            'file, so this one is damaged or hostile, and loading it would reserve '
            'that memory.')


def _content_problem(obj: Any, max_elements: int) -> Optional[str]:
    if isinstance(obj, torch.Tensor):
        count, nbytes = obj.numel(), obj.numel() * obj.element_size()
        what = f'a tensor of shape {tuple(obj.shape)}'
    else:
        if obj.dtype.hasobject:
            return f'an array of Python objects (dtype {obj.dtype})'
        count, nbytes = obj.size, obj.size * obj.dtype.itemsize
        what = f'an array of shape {obj.shape} and dtype {obj.dtype}'
    if count > max_elements or nbytes > max_elements:
        return (f'{what}: {count:,} elements of {nbytes:,} bytes, more than the file '
                f'can hold (at most {max_elements:,})')
    return None


def check_loaded_content(checkpoint: Any, name: str,
                         max_elements: int = MAX_ELEMENTS_UNKNOWN_SIZE) -> None:
    """Refuse a loaded checkpoint holding an array that no real checkpoint holds.

    Every numpy array and tensor, anywhere in the checkpoint (HistoryBuffers
    included), must have at most ``max_elements`` elements and bytes: its data is
    stored in the file, so more cannot be genuine. A zero-size dtype (``np.dtype([])``)
    lets a few bytes declare 10^15 elements, which later copies iterate over for
    hours; object arrays are refused too.

    Args:
        checkpoint: The loaded checkpoint.
        name (str): What the error names.
        max_elements (int): The bound; the file's size times
            :func:`max_inflation` where the size is known.

    Raises:
        CheckpointRefusedError: Names the file and the array.
    """
    stack, seen = [checkpoint], set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, (torch.Tensor, np.ndarray)):
            problem = _content_problem(obj, max_elements)
        elif isinstance(obj, _HistoryBufferState):
            problem = 'a HistoryBuffer without its state'
        else:
            problem = None
            if id(obj) in seen:
                continue
            if isinstance(obj, HistoryBuffer):
                seen.add(id(obj))
                stack.extend(vars(obj).values())
            elif isinstance(obj, dict):
                seen.add(id(obj))
                stack.extend(obj.keys())
                stack.extend(obj.values())
            elif isinstance(obj, (list, tuple, set, frozenset)):
                seen.add(id(obj))
                stack.extend(obj)
        if problem:
            raise CheckpointRefusedError(
                f'Refusing checkpoint {name!r}: it holds {problem}. No checkpoint '
                'written by torch or mmengine does; the file is damaged or hostile.')


# ---------------------------------------------------------------- loading


def missing_checkpoint_message(filename: str) -> str:
    """Say which file is missing and how to make it: the converter's command where
    the package is installed (:func:`~mmseg_fcn_classic.utils.commands.tool_command`),
    then a clone's.

    Example:
        >>> print(missing_checkpoint_message('checkpoints/x.pth'))  # doctest: +ELLIPSIS
        checkpoint file 'checkpoints/x.pth' does not exist. If it is ...
    """
    known = KNOWN_SOURCES.get(osp.basename(filename))
    src, intro = ('SRC', 'If it is converted weights, make it from the original file '
                  '(a Caffe .caffemodel, a pytorch-fcn .pth or a torchvision VGG16 '
                  'state dict) with')
    if known:
        src, what = known
        intro = (f'It is converted from {src} ({what}): obtain that file, then run')
    return (f'checkpoint file {filename!r} does not exist. {intro}\n'
            f'  {tool_command("convert_weights", f"{src} {filename}")}\n'
            f'(from a clone: python tools/convert_weights.py {src} {filename})')


def caffe_model_message(location: str) -> Optional[str]:
    """What to do instead of loading a Caffe model as a checkpoint, or None.

    The released FCNs are Caffe models (the metafile's ``Weights``, so that ``mim
    download`` fetches them); they load only after conversion. An ``http(s)://``
    URL or a local path whose file name ends in ``.caffemodel`` is one.

    Args:
        location (str): A checkpoint URL or path.

    Returns:
        str | None: The message that names ``location`` and the commands that
        download (for a URL) and convert it; None if it is no Caffe model.

    Example:
        >>> print(caffe_model_message('http://x.org/fcn8s-heavy-pascal.caffemodel'))
        ... # doctest: +ELLIPSIS
        'http://x.org/fcn8s-heavy-pascal.caffemodel' is a Caffe model ... was downloaded. ...
          ... fcn8s-heavy-pascal.caffemodel fcn8s-heavy-pascal.pth
        and pass fcn8s-heavy-pascal.pth as the checkpoint (...).
        >>> caffe_model_message('checkpoints/fcn8s_voc.pth') is None
        True
    """
    is_url = location.startswith(('http://', 'https://'))
    path = urlparse(location).path if is_url else location
    if not path.lower().endswith(CAFFE_SUFFIX):
        return None
    caffemodel = osp.basename(path) if is_url else path
    converted = caffemodel[:-len(CAFFE_SUFFIX)] + '.pth'
    head = (f'{location!r} is a Caffe model ({CAFFE_SUFFIX}), which loads only after '
            'conversion to a PyTorch checkpoint')
    if is_url:
        configs = configs_with_weights(location)
        mim = (f'mim download mmseg_fcn_classic --config {configs[0]} --dest DIR'
               if configs else None)
        head += ('; nothing was downloaded. Download it by hand'
                 + (f' (or: {mim})' if mim else '') + ', then convert it once')
    else:
        head += ': convert it once'
    return (f'{head}:\n  {tool_command("convert_weights", f"{caffemodel} {converted}")}'
            f'\nand pass {converted} as the checkpoint (weights=, load_from, the '
            'checkpoint argument of the tools).')


def refuse_caffe_model(location: str) -> None:
    """Raise :class:`CheckpointRefusedError` for a Caffe model
    (:func:`caffe_model_message`), before anything is fetched or read."""
    message = caffe_model_message(location)
    if message:
        raise CheckpointRefusedError(message)


def _unpickler_reason(err: BaseException) -> str:
    """torch's weights-only unpickler's own reason, without its advice."""
    text = str(err)
    marker = 'WeightsUnpickler error: '
    if marker in text:
        text = text.split(marker, 1)[1].lstrip().split('\n\n', 1)[0]
    return text.split(' was not an allowed global')[0].strip()[:300]


def _torch_load(f: Union[str, BinaryIO], name: str, map_location: Location,
                trusted: bool, mmap: bool = False,
                keep_stored_configs: bool = False) -> Any:
    """The policy for a local file (a path) or bytes (a file object)."""
    local = f if isinstance(f, str) else None
    if trusted:
        return torch.load(f, map_location=map_location, weights_only=False)
    try:
        with (open(local, 'rb') if local else contextlib.nullcontext(f)) as fh:
            size = _file_size(fh)
            check_zip_inflation(fh, name)
            check_legacy_storages(fh, name)
            mmap = mmap and local is not None and zipfile.is_zipfile(fh)
            fh.seek(0)
            with torch.serialization.safe_globals(runner_checkpoint_globals()):
                checkpoint = torch.load(local or fh, map_location=map_location,
                                        weights_only=True, mmap=mmap or None)
        check_loaded_content(checkpoint, name, int(max(size, 1) * max_inflation()))
    except (CheckpointRefusedError, CheckpointReadError):
        raise
    except pickle.UnpicklingError as err:
        unsafe = _unsafe_globals(f)
        what = (f'it contains objects outside the weights-only allowlist ({unsafe})'
                if unsafe != 'unknown globals' else _unpickler_reason(err))
        raise CheckpointRefusedError(
            f'Refusing to fully unpickle checkpoint {name!r}: {what}. Unpickling can '
            f'run arbitrary code. {_trusted_hint(local)}') from err
    except Exception as err:  # noqa: BLE001  (torch and the allowed types raise anything)
        # truncated, not a torch file, or hostile arguments to the allowed types:
        # the original message does not name the file
        raise CheckpointReadError(
            f'cannot read checkpoint {name!r}: not a complete and valid torch.save '
            f'file ({type(err).__name__}: {str(err)[:500]})') from err
    if not keep_stored_configs:
        neutralise_stored_configs(checkpoint, name)
    return checkpoint


def load_checkpoint_file(filename: str, map_location: Location = None,
                         trusted: bool = False, source: Optional[str] = None,
                         mmap: bool = False, keep_stored_configs: bool = False) -> Any:
    """Load a local checkpoint file under the policy (safely unless ``trusted``).

    ``filename`` is always a plain path: no scheme in it is interpreted.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str | callable, optional): As for :func:`torch.load`.
            Defaults to None.
        trusted (bool): Unpickle fully (``weights_only=False``) and keep the stored
            configs. Only for files you produced yourself. Defaults to False.
        source (str, optional): What errors name instead of ``filename`` (the URL
            it was downloaded from). Defaults to None.
        mmap (bool): Map the tensors instead of reading them (a cheap probe; zip
            files only). Defaults to False.
        keep_stored_configs (bool): Return the stored configs as they are, for
            code that only reads them as data (never give such a checkpoint to
            mmengine). Defaults to False: each is replaced with
            :func:`~.stored_config.stored_config_notice`.

    Returns:
        Any: The unpickled checkpoint, usually a dict.

    Raises:
        FileNotFoundError: ``filename`` does not exist; says how to make it.
        CheckpointRefusedError: Types outside the allowlist, a zip bomb or
            impossible arrays; the message names the file.
        CheckpointReadError: The file fails to load in any other way (truncated,
            not a ``torch.save`` file, malformed content); names it.
    """
    path = osp.expanduser(filename)
    name = source or filename
    if source is None:
        refuse_caffe_model(filename)
    if not osp.isfile(path):
        raise FileNotFoundError(missing_checkpoint_message(name))
    return _torch_load(path, name, map_location, trusted, mmap=mmap,
                       keep_stored_configs=keep_stored_configs)


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

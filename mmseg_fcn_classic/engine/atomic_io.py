"""Atomic local writes, and the ``atomic_local`` mmengine file backend that uses them.

A file written with :func:`atomic_write` is either complete or absent: the bytes go
to a hidden temporary file in the same folder (:func:`temp_path`), are flushed and
fsynced, and the temporary file is renamed over the target with ``os.replace``
(atomic on POSIX); the folder is fsynced so the rename survives a power cut. A
process killed mid-write leaves only the temporary file, which
:func:`remove_stale_temp_files` deletes later (never one of a live process). A
failed write (a full disk) removes its temporary file and raises an ``OSError``
naming the target, which keeps its previous content.

:class:`AtomicLocalBackend` is mmengine's ``LocalBackend`` with atomic ``put`` and
``put_text``. mmengine's ``save_checkpoint`` writes through
``get_file_backend(filename, backend_args)``, so ``backend_args=dict(backend=
'atomic_local')`` makes every checkpoint save atomic.
"""
import os
import os.path as osp
import re
from pathlib import Path
from typing import BinaryIO, Callable, List, Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend

#: Name the backend is registered under.
BACKEND_NAME = 'atomic_local'
#: Bytes per ``write`` call.
CHUNK_BYTES = 16 << 20
_TEMP_NAME = re.compile(r'^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$')


def temp_path(path: str) -> str:
    """The temporary file :func:`atomic_write` writes ``path`` through.

    Example:
        >>> import os
        >>> temp_path('work/iter_8.pth') == f'work/.iter_8.pth.tmp-{os.getpid()}'
        True
    """
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}.tmp-{os.getpid()}')


def fsync_dir(folder: str) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the OS allows."""
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` so that it is either complete or untouched.

    Args:
        path (str): The target file.
        write (callable): Writes the content to the binary file it is given.

    Raises:
        OSError: Writing failed (a full disk, ...): the same ``errno``, with a
            message naming ``path`` and saying that it was left as it was.
    """
    tmp = temp_path(path)
    try:
        with open(tmp, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            state = ('its previous content is intact' if osp.exists(path) else
                     'it was not created')
            raise OSError(err.errno, f'{err.strerror or err}: could not write {path} '
                          f'(the partial temporary file was removed; {state})',
                          path) from err
        raise
    fsync_dir(osp.dirname(path))


def atomic_write_bytes(path: str, data: Union[bytes, bytearray, memoryview]) -> None:
    """:func:`atomic_write` of ``data``."""
    atomic_write(path, lambda f: f.write(data))


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (any user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user
    except OSError:
        return False
    return True


def remove_stale_temp_files(folder: str) -> List[str]:
    """Delete the temporary files that interrupted atomic writes left in ``folder``.

    A temporary file is named after the process writing it (:func:`temp_path`);
    one whose process is still running (another run writing into this folder) is
    left alone. Only this machine's processes can be seen: the work dir lock
    (:mod:`.work_dir_lock`) keeps runs on other machines out of the folder.

    Args:
        folder (str): The folder.

    Returns:
        list[str]: The files removed.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in sorted(os.listdir(folder)):
        match = _TEMP_NAME.match(name)
        if not match:
            continue
        pid = int(match.group('pid'))
        if pid != os.getpid() and process_alive(pid):
            continue  # a live process is writing it
        path = osp.join(folder, name)
        try:
            os.remove(path)
        except OSError:
            continue
        removed.append(path)
    return removed


@register_backend(BACKEND_NAME, force=True)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose ``put`` / ``put_text`` are atomic."""

    def write_bytes(self, f: BinaryIO, data: Union[bytes, memoryview]) -> None:
        """Write ``data`` into the open temporary file ``f``, in chunks."""
        view = memoryview(data)
        for start in range(0, len(view), CHUNK_BYTES):
            f.write(view[start:start + CHUNK_BYTES])

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically (creating its folder)."""
        filepath = str(filepath)
        mmengine.mkdir_or_exist(osp.dirname(filepath))
        atomic_write(filepath, lambda f: self.write_bytes(f, obj))

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (creating its folder)."""
        self.put(obj.encode(encoding), filepath)

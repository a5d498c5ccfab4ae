"""One training run per work dir: a lock file that the kernel releases when its
holder dies.

Two runs on one work dir overwrite each other's checkpoints and ``last_checkpoint``
(a common slip: the same command started twice). :func:`lock_work_dir` takes an
exclusive ``flock`` on ``WORK_DIR/.train.lock`` and writes who holds it (process,
machine, command, start time) into the file. A second run fails at once with
:class:`WorkDirLockedError`, naming the work dir and the live holder. The kernel
drops a ``flock`` when its process ends however it ends (``kill -9`` included), so a
lock file left by a dead run is simply taken over, with a warning naming the run
that left it. A clean exit removes the file.

In a distributed run only rank 0 holds the lock (the work dir is one folder for
all ranks, on shared storage for several machines). Where the file system does not
support ``flock`` (some network mounts), the run goes on with a warning.
"""
import atexit
import errno
import fcntl
import json
import logging
import os
import os.path as osp
import socket
import sys
import time
from typing import Dict, Optional

#: The lock file in the work dir.
LOCK_NAME = '.train.lock'


class WorkDirLockedError(RuntimeError):
    """Another live run holds the work dir; the message names the dir and the run."""


def _describe(holder: dict) -> str:
    """``pid 123 on host h (cmd ...), started 2024-01-01 12:00:00``."""
    if not holder:
        return 'a process that left no details'
    text = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    if holder.get('command'):
        text += f" ({str(holder['command'])[:300]})"
    if isinstance(holder.get('started'), (int, float)):
        text += ', started ' + time.strftime('%Y-%m-%d %H:%M:%S',
                                             time.localtime(holder['started']))
    return text


def _read_holder(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 1 << 16)
        holder = json.loads(data.decode('utf-8')) if data.strip() else {}
    except (OSError, ValueError):
        return {'pid': '?', 'command': 'unreadable lock file'}
    return holder if isinstance(holder, dict) else {}


class WorkDirLock:
    """An exclusive, process-lifetime lock on one work dir.

    Args:
        work_dir (str): The work dir (created if missing).
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.fd: Optional[int] = None
        #: What the lock file said when it was taken over from a dead run.
        self.stale: Optional[dict] = None

    def acquire(self) -> 'WorkDirLock':
        """Take the lock; returns ``self``.

        Raises:
            WorkDirLockedError: A live process holds it.
            OSError: The lock file cannot be created (the folder is not writable)
                or locked (``errno`` ``ENOLCK`` / ``EOPNOTSUPP`` where the file
                system has no ``flock``).
        """
        os.makedirs(self.work_dir, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise WorkDirLockedError(
                    f'work dir {self.work_dir!r} is in use by another training run: '
                    f'{_describe(holder)}. Two runs on one work dir overwrite each '
                    "other's checkpoints. Wait for that run to end (or stop it), or "
                    'pass another --work-dir.') from None
            except BaseException:
                os.close(fd)
                raise
            try:  # the holder we waited out may have removed the file meanwhile
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        holder = _read_holder(fd)
        self.stale = holder or None
        info = dict(pid=os.getpid(), host=socket.gethostname(),
                    command=' '.join(sys.argv), started=time.time())
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode('utf-8'), 0)
        os.fsync(fd)
        self.fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        if self.fd is None:
            return
        try:
            if os.fstat(self.fd).st_ino == os.stat(self.path).st_ino:
                os.remove(self.path)
        except OSError:
            pass
        os.close(self.fd)  # drops the flock
        self.fd = None


#: The locks this process holds, by real path of the work dir.
_HELD: Dict[str, WorkDirLock] = {}


def _release_all() -> None:
    for lock in list(_HELD.values()):
        lock.release()
    _HELD.clear()


def _forget_in_child() -> None:
    """A forked child (a data loader worker) closes its copies of the lock files
    without unlocking or removing them: the lock stays with the parent."""
    for lock in _HELD.values():
        if lock.fd is not None:
            try:
                os.close(lock.fd)
            except OSError:
                pass
            lock.fd = None
    _HELD.clear()


atexit.register(_release_all)
os.register_at_fork(after_in_child=_forget_in_child)


def lock_work_dir(work_dir: str, logger: Optional[logging.Logger] = None
                  ) -> Optional[WorkDirLock]:
    """Hold ``work_dir`` for this process until it exits (no-op if already held).

    Args:
        work_dir (str): The work dir.
        logger (logging.Logger, optional): Gets the warnings. Defaults to mmengine's
            current logger.

    Returns:
        WorkDirLock | None: The lock; None where the file system cannot lock
        (warned).

    Raises:
        WorkDirLockedError: Another live run holds the work dir.
    """
    from mmengine.logging import print_log

    def warn(message: str) -> None:
        if logger is not None:
            logger.warning(message)
        else:
            print_log(message, logger='current', level=logging.WARNING)

    key = osp.realpath(work_dir)
    if key in _HELD:
        return _HELD[key]
    lock = WorkDirLock(work_dir)
    try:
        lock.acquire()
    except OSError as err:
        if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS,
                             errno.EINVAL):
            raise
        warn(f'cannot lock work dir {work_dir!r} ({err.strerror}): a second run '
             'started on it would not be stopped.')
        return None
    if lock.stale is not None:
        warn(f'work dir {work_dir!r}: took over the lock left by a run that is no '
             f'longer running: {_describe(lock.stale)}.')
    _HELD[key] = lock
    return lock


def release_work_dir(work_dir: str) -> None:
    """Release the lock :func:`lock_work_dir` took on ``work_dir``, if any."""
    lock = _HELD.pop(osp.realpath(work_dir), None)
    if lock is not None:
        lock.release()

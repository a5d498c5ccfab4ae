"""One run per work dir: a live holder stops a second run, a dead one's lock is
taken over with a warning, data loader workers neither release nor remove it."""
import fcntl
import json
import logging
import os
import subprocess
import sys

import pytest

from mmseg_fcn_classic.engine.work_dir_lock import (LOCK_NAME, WorkDirLock,
                                                    WorkDirLockedError, _release_all,
                                                    lock_work_dir, release_work_dir)

#: Holds the lock file (as a run does) until its stdin closes.
HOLDER = '''
import fcntl, json, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps(dict(pid=os.getpid(), host='node7', command='train.py a.py',
                             started=0)).encode())
print('locked', flush=True)
sys.stdin.read()
'''


class Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _held_elsewhere(path) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_live_holder_stops_a_second_run(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, str(work / LOCK_NAME)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'locked\n'
        with pytest.raises(WorkDirLockedError) as err:
            lock_work_dir(str(work))
        message = str(err.value)
        assert f"work dir '{work}' is in use by another training run: pid " \
            f'{holder.pid} on host node7 (train.py a.py)' in message
        assert 'pass another --work-dir' in message
    finally:
        holder.communicate('')
    lock = lock_work_dir(str(work))  # the holder ended: free
    try:
        assert json.loads((work / LOCK_NAME).read_text())['pid'] == os.getpid()
        assert lock_work_dir(str(work)) is lock  # held once per process
    finally:
        release_work_dir(str(work))
    assert not (work / LOCK_NAME).exists()


def test_a_dead_runs_lock_is_taken_over_with_a_warning(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / LOCK_NAME).write_text(json.dumps(dict(pid=999999, host='node3',
                                                  command='train.py b.py')))
    warnings = Warnings()
    logger = logging.getLogger('test_work_dir_lock')
    logger.addHandler(warnings)
    try:
        lock_work_dir(str(work), logger)
        assert warnings.messages == [
            f"work dir '{work}': took over the lock left by a run that is no longer "
            'running: pid 999999 on host node3 (train.py b.py).']
        assert _held_elsewhere(work / LOCK_NAME)
    finally:
        logger.removeHandler(warnings)
        release_work_dir(str(work))


def test_a_forked_worker_neither_releases_nor_removes_the_lock(tmp_path):
    work = tmp_path / 'work'
    lock_work_dir(str(work))
    try:
        pid = os.fork()
        if pid == 0:  # a data loader worker exiting as Python exits
            _release_all()
            os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0
        assert (work / LOCK_NAME).exists() and _held_elsewhere(work / LOCK_NAME)
    finally:
        release_work_dir(str(work))


def test_lock_object_roundtrip(tmp_path):
    lock = WorkDirLock(str(tmp_path / 'new' / 'dir')).acquire()
    assert lock.stale is None and _held_elsewhere(lock.path)
    lock.release()
    lock.release()
    assert not os.path.exists(lock.path)

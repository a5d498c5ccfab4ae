"""Atomic writes: a failed write names the file and leaves the old one intact;
only temporary files of dead processes are cleaned up."""
import errno
import os
import subprocess
import sys

import pytest

from mmseg_fcn_classic.engine.atomic_io import (atomic_write, atomic_write_bytes,
                                                remove_stale_temp_files, temp_path)


def _disk_full(f):
    f.write(b'half of it')
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_names_the_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / 'iter_8.pth'
    atomic_write_bytes(str(target), b'previous')
    with pytest.raises(OSError) as err:
        atomic_write(str(target), _disk_full)
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(target)
    assert f'No space left on device: could not write {target}' in str(err.value)
    assert 'its previous content is intact' in str(err.value)
    assert target.read_bytes() == b'previous'
    assert os.listdir(tmp_path) == ['iter_8.pth']  # the temporary file is gone
    with pytest.raises(OSError, match='it was not created'):
        atomic_write(str(tmp_path / 'new.pth'), _disk_full)


def test_temp_files_of_live_processes_are_kept(tmp_path):
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                              capture_output=True, text=True).stdout.strip()
        live = tmp_path / f'.iter_4.pth.tmp-{sleeper.pid}'
        stale = tmp_path / f'.iter_2.pth.tmp-{dead}'
        own = tmp_path / os.path.basename(temp_path(str(tmp_path / 'x.pth')))
        for path in (live, stale, own):
            path.write_bytes(b'partial')
        removed = remove_stale_temp_files(str(tmp_path))
        assert sorted(removed) == sorted([str(stale), str(own)])
        assert live.exists()
    finally:
        sleeper.kill()
        sleeper.wait()

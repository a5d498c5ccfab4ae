"""Test-only pauses, so that a test can SIGKILL a training process at a known phase.

Imported by the training process (``custom_imports``). ``FCN_TEST_PAUSE`` names the
phase as ``PHASE:NAME:NTH`` (pause at the NTH time NAME gets there) and
``FCN_TEST_ANNOUNCE`` the file created once the process is paused; the process
then sleeps until the test kills it, or until the file ``FCN_TEST_CONTINUE`` names
appears. Without ``FCN_TEST_PAUSE`` nothing changes.

Phases (writes are the production ones, :class:`AtomicLocalBackend`'s):

* ``mid-write:iter_4.pth:1``: half of the checkpoint is in its temporary file;
* ``mid-write:last_checkpoint:1``: the same, for ``last_checkpoint``;
* ``before-remove:iter_2.pth:1``: the new checkpoint and ``last_checkpoint`` are
  written, the outdated checkpoint is not removed yet;
* ``mid-iter:5:1``: inside the forward pass (the backbone's) of training
  iteration 5.
"""
import os
import time
from collections import Counter

from mmengine.fileio import register_backend
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmseg_fcn_classic.engine.atomic_io import AtomicLocalBackend

_SEEN = Counter()


def _pause_here(phase: str, name: str) -> bool:
    spec = os.environ.get('FCN_TEST_PAUSE')
    if not spec:
        return False
    want_phase, want_name, nth = spec.split(':')
    if (phase, name) != (want_phase, want_name):
        return False
    _SEEN[phase, name] += 1
    return _SEEN[phase, name] == int(nth)


def _announce_and_wait() -> None:
    path = os.environ['FCN_TEST_ANNOUNCE']
    with open(path + '.tmp', 'w') as f:
        f.write(str(os.getpid()))
    os.replace(path + '.tmp', path)
    resume = os.environ.get('FCN_TEST_CONTINUE')
    while not (resume and os.path.exists(resume)):  # until SIGKILL, or told to go on
        time.sleep(0.1)


def _target(temp_file: str) -> str:
    """``iter_4.pth`` for the temporary file ``.iter_4.pth.tmp-<pid>``."""
    return os.path.basename(temp_file)[1:].rsplit('.tmp-', 1)[0]


@register_backend('pausing_atomic_local', force=True)
class PausingBackend(AtomicLocalBackend):

    def write_bytes(self, f, data) -> None:
        if _pause_here('mid-write', _target(f.name)):
            half = max(1, len(data) // 2)
            super().write_bytes(f, memoryview(data)[:half])
            f.flush()
            _announce_and_wait()
            data = memoryview(data)[half:]  # told to go on: the rest
        super().write_bytes(f, data)

    def remove(self, filepath) -> None:
        if _pause_here('before-remove', os.path.basename(str(filepath))):
            _announce_and_wait()
        super().remove(filepath)


@HOOKS.register_module()
class PauseMidIterationHook(Hook):
    """Pauses inside the backbone's forward pass of one training iteration."""

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if _pause_here('mid-iter', str(runner.iter + 1)):
            model = getattr(runner.model, 'module', runner.model)
            model.backbone.register_forward_pre_hook(
                lambda *args: _announce_and_wait())

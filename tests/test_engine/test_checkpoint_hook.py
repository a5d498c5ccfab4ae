"""AtomicCheckpointHook: mmengine's files and options, written atomically and in an
order where a kill at any moment leaves a resumable checkpoint."""
import errno
import logging
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.fileio.backends import backends as file_backends
from mmengine.fileio.backends import register_backend
from mmengine.hooks import CheckpointHook, Hook

from mmseg_fcn_classic.engine.atomic_io import (AtomicLocalBackend, atomic_write_bytes,
                                                temp_path)
from mmseg_fcn_classic.engine.policy import UntrustedPathError
from mmseg_fcn_classic.engine.hooks import AtomicCheckpointHook
from mmseg_fcn_classic.engine.resume import ResumeError
from mmseg_fcn_classic.engine.work_dir_lock import release_work_dir

from tests.conftest import logged
from .toy import ToyMetric, toy_runner


def _files(folder):
    """Checkpoint files, temporary files and last_checkpoint (published files'
    content hashes replaced: the checkpoints hold the time they were saved)."""
    return sorted(re.sub(r'-[0-9a-f]{8}\.pth$', '-HASH.pth', n)
                  for n in os.listdir(folder)
                  if n.endswith('.pth') or n == 'last_checkpoint' or n.startswith('.'))


@pytest.mark.parametrize('options', [
    dict(interval=2, by_epoch=False),
    dict(interval=2, by_epoch=False, max_keep_ckpts=1),
    dict(interval=4, by_epoch=False, max_keep_ckpts=2, save_last=True),
    dict(interval=4, by_epoch=False, save_last=False),
    dict(interval=2, by_epoch=False, max_keep_ckpts=1, save_best='acc',
         rule='greater'),
    dict(interval=2, by_epoch=False, save_best='auto', published_keys=['meta',
                                                                       'state_dict']),
    dict(interval=1, by_epoch=True, max_keep_ckpts=2, save_best='acc'),
], ids=['every2', 'keep1', 'keep2-last', 'no-last', 'best-keep1', 'best-publish',
        'epochs'])
def test_same_files_as_mmengine(tmp_path, options):
    """Every CheckpointHook option gives the same checkpoints and last_checkpoint."""
    by_epoch = options['by_epoch']
    ToyMetric.calls = 0
    ours = toy_runner(tmp_path / 'ours', dict(type=AtomicCheckpointHook, **options),
                      max_iters=3 if by_epoch else 6, by_epoch=by_epoch)
    ours.train()
    ToyMetric.calls = 0
    theirs = toy_runner(tmp_path / 'theirs', dict(type=CheckpointHook, **options),
                        max_iters=3 if by_epoch else 6, by_epoch=by_epoch)
    theirs.train()
    assert _files(tmp_path / 'ours') == _files(tmp_path / 'theirs')
    assert (osp.basename((tmp_path / 'ours' / 'last_checkpoint').read_text()) ==
            osp.basename((tmp_path / 'theirs' / 'last_checkpoint').read_text()))
    last = torch.load((tmp_path / 'ours' / 'last_checkpoint').read_text(),
                      weights_only=False)
    expected = torch.load((tmp_path / 'theirs' / 'last_checkpoint').read_text(),
                          weights_only=False)
    ids = last['message_hub']['runtime_info'].get('keep_ckpt_ids')
    expected_ids = expected['message_hub']['runtime_info'].get('keep_ckpt_ids')
    # ours also lists the checkpoint it removes right after the save (see below)
    assert ids == expected_ids or ids[-len(expected_ids):] == expected_ids
    for key, value in expected['state_dict'].items():
        assert torch.equal(last['state_dict'][key], value), key
    published = [n for n in os.listdir(tmp_path / 'ours')
                 if re.search(r'-[0-9a-f]{8}\.pth$', n)]
    assert bool(published) == ('published_keys' in options)
    for name in published:  # a published copy keeps the run's config
        checkpoint = torch.load(tmp_path / 'ours' / name, weights_only=False)
        assert checkpoint['meta']['cfg'] == last['meta']['cfg'], name


class SpyBackend(AtomicLocalBackend):
    """Records, in order, every file written and removed."""
    log = []

    def put(self, obj, filepath):
        super().put(obj, filepath)
        assert not osp.exists(temp_path(str(filepath)))
        SpyBackend.log.append(('put', osp.basename(filepath)))

    def remove(self, filepath):
        SpyBackend.log.append(('remove', osp.basename(filepath)))
        super().remove(filepath)


class CountSaves(Hook):
    def __init__(self):
        self.saved = 0

    def before_save_checkpoint(self, runner, checkpoint):
        self.saved += 1
        checkpoint['counted'] = self.saved


@pytest.fixture
def spy(monkeypatch):
    monkeypatch.setitem(file_backends, 'spy', SpyBackend)
    register_backend('spy', SpyBackend, force=True)
    SpyBackend.log = []
    return SpyBackend.log


def test_prunes_only_after_the_new_checkpoint_and_last_checkpoint(tmp_path, spy):
    counter = CountSaves()
    ToyMetric.calls = 0
    runner = toy_runner(tmp_path, dict(
        type=AtomicCheckpointHook, interval=2, by_epoch=False, max_keep_ckpts=1,
        save_best='acc', backend_args=dict(backend='spy')), custom_hooks=[counter])
    runner.train()
    # the runner's own save path ran (before_save_checkpoint hooks) for every save
    assert counter.saved == sum(op == 'put' and n.endswith('.pth') for op, n in spy)
    assert torch.load(tmp_path / 'iter_6.pth', weights_only=False)['counted'] > 0
    for i, (op, name) in enumerate(spy):
        if op != 'remove':
            continue
        written = [n for o, n in spy[:i] if o == 'put']
        if name.startswith('iter_'):  # the newer checkpoint and pointer came first
            step = int(name[5:-4])
            assert f'iter_{step + 2}.pth' in written, spy
            assert written[-1] == 'last_checkpoint', spy
        else:  # the previous best: removed after the new best was written
            newer = [n for n in written if n.startswith('best_') and n != name]
            assert newer, spy
    assert ('remove', 'iter_2.pth') in spy and ('remove', 'best_acc_iter_2.pth') in spy
    assert _files(tmp_path) == ['best_acc_iter_6.pth', 'iter_6.pth', 'last_checkpoint']


def test_kill_before_prune_leaves_no_orphan(tmp_path):
    """The new checkpoint lists the outdated one it is about to remove, so a run
    resumed after a kill between save and removal removes it."""
    ToyMetric.calls = 0
    toy_runner(tmp_path, dict(type=AtomicCheckpointHook, interval=2, by_epoch=False,
                              max_keep_ckpts=1), max_iters=4).train()
    iter_4 = torch.load(tmp_path / 'iter_4.pth', weights_only=False)
    assert iter_4['message_hub']['runtime_info']['keep_ckpt_ids'] == [2, 4]
    torch.save(iter_4, tmp_path / 'iter_2.pth')  # as if the removal never happened
    toy_runner(tmp_path, dict(type=AtomicCheckpointHook, interval=2, by_epoch=False,
                              max_keep_ckpts=1), max_iters=6, resume=True).train()
    assert _files(tmp_path) == ['iter_6.pth', 'last_checkpoint']


def test_writes_are_atomic(tmp_path):
    target = tmp_path / 'f.bin'
    target.write_bytes(b'old content')

    def failing_write(f):
        f.write(b'half of the new')
        raise KeyboardInterrupt  # e.g. killed mid-write

    from mmseg_fcn_classic.engine.atomic_io import atomic_write
    with pytest.raises(KeyboardInterrupt):
        atomic_write(str(target), failing_write)
    assert target.read_bytes() == b'old content'
    assert os.listdir(tmp_path) == ['f.bin']
    atomic_write_bytes(str(target), b'new')
    assert target.read_bytes() == b'new' and os.listdir(tmp_path) == ['f.bin']


def test_stale_temp_files_are_removed(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    stale = tmp_path / '.iter_4.pth.tmp-12345'
    stale.write_bytes(b'half a checkpoint')
    keep = tmp_path / '.hidden_user_file'
    keep.write_text('mine')
    toy_runner(tmp_path, dict(type=AtomicCheckpointHook, interval=2, by_epoch=False),
               max_iters=2).train()
    assert not stale.exists() and keep.exists()


def _trained(tmp_path, **options):
    ToyMetric.calls = 0
    toy_runner(tmp_path, dict(type=AtomicCheckpointHook, by_epoch=False, **options),
               max_iters=4).train()
    return tmp_path / 'iter_4.pth'


def test_resume_from_a_bare_state_dict_names_the_file(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'linear1.weight': torch.zeros(4, 2)}, path)
    runner = toy_runner(tmp_path / 'w', dict(type=AtomicCheckpointHook, interval=2,
                                             by_epoch=False),
                        resume=True, load_from=str(path))
    with pytest.raises(ResumeError) as err:
        runner.train()
    message = str(err.value)
    assert str(path) in message and 'bare state dict' in message
    assert 'meta' in message and f'load_from={path} without --resume' in message


def test_resume_with_another_optimizer_names_the_file(tmp_path):
    ckpt = _trained(tmp_path / 'adam', interval=2)
    runner = toy_runner(tmp_path / 'sgd', dict(type=AtomicCheckpointHook, interval=2,
                                               by_epoch=False), max_iters=6,
                        optimizer=dict(type='Adam', lr=0.01),
                        resume=True, load_from=str(ckpt))
    with pytest.raises(ResumeError) as err:
        runner.train()
    message = str(err.value)
    assert str(ckpt) in message and 'Adam' in message
    assert 'momentum' in message and 'different optimizer' in message


def test_runner_auto_resume_reads_last_checkpoint_as_a_plain_path(tmp_path, evil):
    """Runner(resume=True, load_from=None): mmengine would load the text of
    last_checkpoint with any scheme in it."""
    _trained(tmp_path, interval=2)
    (tmp_path / 'last_checkpoint').write_text(f'trusted://{evil()}')
    runner = toy_runner(tmp_path, dict(type=AtomicCheckpointHook, interval=2,
                                       by_epoch=False), max_iters=6, resume=True)
    with pytest.raises(UntrustedPathError, match=str(tmp_path / 'last_checkpoint')):
        runner.train()
    (tmp_path / 'last_checkpoint').write_bytes(b'\xff\xfe garbage')
    runner = toy_runner(tmp_path, dict(type=AtomicCheckpointHook, interval=2,
                                       by_epoch=False), max_iters=6, resume=True)
    runner.train()  # falls back to the newest checkpoint that loads
    assert runner.iter == 6
    assert torch.load(tmp_path / 'iter_6.pth', weights_only=False)['meta']['iter'] == 6


@pytest.mark.parametrize('key', ['best_ckpt', 'last_ckpt'])
def test_message_hub_paths_must_be_plain(tmp_path, key):
    ckpt = _trained(tmp_path / 'a', interval=2, save_best='acc')
    data = torch.load(ckpt, weights_only=False)
    data['message_hub']['runtime_info'][key] = 'trusted:///somewhere/x.pth'
    torch.save(data, ckpt)
    runner = toy_runner(tmp_path / 'b', dict(
        type=AtomicCheckpointHook, interval=2, by_epoch=False, save_best='acc'),
        max_iters=6, resume=True, load_from=str(ckpt))
    with pytest.raises(UntrustedPathError, match=rf"{ckpt}.*\['{key}'\]"):
        runner.train()


def test_previous_best_is_only_removed_from_the_hook_folder(tmp_path):
    """A resumed message hub naming a file elsewhere cannot make the hook delete it."""
    victim = tmp_path / 'precious' / 'best_acc_iter_2.pth'
    victim.parent.mkdir()
    victim.write_text('not a checkpoint: someone else\'s file')
    ckpt = _trained(tmp_path / 'a', interval=2, save_best='acc')
    data = torch.load(ckpt, weights_only=False)
    data['message_hub']['runtime_info']['best_ckpt'] = str(victim)
    data['message_hub']['runtime_info']['best_score'] = 0.0
    torch.save(data, ckpt)
    ToyMetric.calls = 5
    toy_runner(tmp_path / 'a', dict(type=AtomicCheckpointHook, interval=2,
                                    by_epoch=False, save_best='acc'),
               max_iters=6, resume=True, load_from=str(ckpt)).train()
    assert victim.exists()
    assert (tmp_path / 'a' / 'best_acc_iter_6.pth').exists()


class FullDiskBackend(AtomicLocalBackend):
    """The disk fills up while iter_4.pth is written."""

    def write_bytes(self, f, data):
        if osp.basename(f.name).startswith('.iter_4.pth.tmp-'):
            f.write(bytes(memoryview(data)[:1000]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write_bytes(f, data)


def test_full_disk_names_the_checkpoint_and_what_is_intact(tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import _load_checkpoint
    monkeypatch.setitem(file_backends, 'full_disk', FullDiskBackend)
    register_backend('full_disk', FullDiskBackend, force=True)
    runner = toy_runner(tmp_path, dict(type=AtomicCheckpointHook, interval=2,
                                       by_epoch=False, max_keep_ckpts=1,
                                       backend_args=dict(backend='full_disk')))
    with pytest.raises(OSError) as err:
        runner.train()
    previous, failed = str(tmp_path / 'iter_2.pth'), str(tmp_path / 'iter_4.pth')
    assert err.value.errno == errno.ENOSPC and err.value.filename == failed
    assert (f'No space left on device: could not save checkpoint {failed}; nothing was '
            f'replaced or removed: the previous checkpoint {previous} is intact and '
            'last_checkpoint still names it') in str(err.value)
    assert (tmp_path / 'last_checkpoint').read_text() == previous
    # the crashed run still holds its work dir until the process ends
    assert _files(tmp_path) == ['.train.lock', 'iter_2.pth', 'last_checkpoint']
    assert _load_checkpoint(previous)['meta']['iter'] == 2
    release_work_dir(str(tmp_path))


FILE_CLIENT = ('"FileClient" will be deprecated in future',
               '"HardDiskBackend" is the alias of "LocalBackend"')


def _warnings(runner):
    """Which of FILE_CLIENT the runner's logger printed while training, in order."""
    with logged(runner.logger) as log:
        runner.train()
    return [p for m in log.messages(logging.WARNING) for p in FILE_CLIENT
            if m.startswith(p)]


@pytest.mark.parametrize('hook', [AtomicCheckpointHook, CheckpointHook])
def test_no_file_client_deprecations_for_the_unused_file_client(tmp_path, hook):
    """Without file_client_args, mmengine builds a FileClient it does not use in
    before_train and in every save (the last, the best and the published one); its
    "disk" backend is built once per process, so HardDiskBackend's note may be
    gone already."""
    ToyMetric.calls = 0
    runner = toy_runner(tmp_path, dict(type=hook, interval=2, by_epoch=False,
                                       save_best='acc', published_keys=['state_dict']),
                        max_iters=4)
    found = _warnings(runner)
    if hook is AtomicCheckpointHook:
        assert found == []
    else:  # mmengine's own: before_train, 2 + 2 saves and the published copies
        assert found.count(FILE_CLIENT[0]) >= 5, found
    assert (tmp_path / 'best_acc_iter_4.pth').is_file()


def test_file_client_args_are_the_users_to_replace(tmp_path):
    runner = toy_runner(tmp_path, dict(type=AtomicCheckpointHook, interval=2,
                                       by_epoch=False,
                                       file_client_args=dict(backend='disk')),
                        max_iters=2)
    assert FILE_CLIENT[0] in _warnings(runner)

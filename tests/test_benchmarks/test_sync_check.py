"""The host-sync check: where a synchronising call came from, the recorder, and the
window around one training step (on the CPU only the code path runs)."""
import json
import traceback
import warnings

from benchmarks.sync_check import SYNC_MESSAGE, SyncRecorder, main, sync_site
from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config


def _frame(filename, lineno, name):
    return traceback.FrameSummary(filename, lineno, name)


def test_sync_site_is_the_innermost_caller_outside_torch():
    stack = [_frame('/repo/train.py', 1, 'main'),
             _frame('/site-packages/mmseg/models/losses/accuracy.py', 49, 'accuracy'),
             _frame('/site-packages/torch/_tensor.py', 30, 'wrapped'),
             _frame('/usr/lib/python3.11/warnings.py', 10, '_showwarnmsg')]
    assert sync_site(stack) == ('/site-packages/mmseg/models/losses/accuracy.py:49 '
                                'in accuracy')
    assert sync_site(stack[2:]) == '?'


def _asks_for_a_sync():
    warnings.warn(f'{SYNC_MESSAGE} (Triggered internally at CUDAFunctions.h:87.)')


def test_recorder_keeps_every_sync_warning_with_its_caller():
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter('always')
        with SyncRecorder() as rec:
            _asks_for_a_sync()
            _asks_for_a_sync()  # every one, not once per line
            warnings.warn('something else')
    assert len(rec.syncs) == 2
    assert rec.syncs[0]['site'].endswith('in _asks_for_a_sync')
    assert rec.syncs[0]['thread'] == 'MainThread'
    assert any('_asks_for_a_sync' in f for f in rec.syncs[0]['stack'])
    assert [str(w.message) for w in outside] == ['something else']


def test_cpu_run_checks_the_code_path(tmp_path):
    data = make_tiny_data(str(tmp_path / 'data'), n_train=4)
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), data)
    out = tmp_path / 'sync.json'
    assert main([cfg, '--warmup', '1', '--work-dir', str(tmp_path / 'work'),
                 '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    assert result['device'] == 'cpu' and result['checked'] is False
    assert 'code path only' in result['reason']
    # the windows opened and closed around iterations 1 ('warn') and 2 ('error')
    assert result['windows'] == [dict(iter=1, mode='warn', closed=True),
                                 dict(iter=2, mode='error', closed=True)]
    assert result['syncs'] == [] and result['zero_syncs'] is False
    assert result['optim_wrapper'] == 'OptimWrapper'
    # no validation, no checkpoint
    assert not list((tmp_path / 'work').rglob('*.pth'))

"""Which checkpoint a bare --resume picks when the work dir is damaged."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from mmseg_fcn_classic.engine.policy import UntrustedPathError
from mmseg_fcn_classic.engine.resume import (ResumeError, check_resumable,
                                             find_resume_checkpoint,
                                             optimizer_mismatch,
                                             select_resume_checkpoint)


def _runner_ckpt(path, step):
    torch.save({'meta': {'iter': step, 'epoch': 0}, 'state_dict': {'w': torch.ones(3)},
                'message_hub': {'runtime_info': {}}}, path)
    return str(path)


@pytest.fixture
def work(tmp_path):
    for step in (2, 4, 6):
        _runner_ckpt(tmp_path / f'iter_{step}.pth', step)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_6.pth'))
    return tmp_path


def test_last_checkpoint_is_used_when_it_loads(work):
    assert find_resume_checkpoint(str(work)) == (str(work / 'iter_6.pth'), [])


@pytest.mark.parametrize('damage, reason', [
    ('empty', 'empty (0 bytes)'),
    ('blank', 'empty (only whitespace)'),
    ('binary', 'garbled (not UTF-8 text)'),
    ('control', 'garbled (control characters'),
    ('missing target', 'does not exist'),
    ('no pointer', 'does not exist'),
])
def test_damaged_last_checkpoint_falls_back(work, damage, reason):
    last = work / 'last_checkpoint'
    content = {'empty': b'', 'blank': b'  \n', 'binary': b'\xff\xfe\x00\x01',
               'control': b'iter_6.pth\x00\x00', 'missing target':
               str(work / 'iter_8.pth').encode()}.get(damage)
    if content is None:
        last.unlink()
    else:
        last.write_bytes(content)
    path, skipped = find_resume_checkpoint(str(work))
    assert path == str(work / 'iter_6.pth')
    assert len(skipped) == 1 and reason in skipped[0][1], skipped


@pytest.mark.parametrize('damage, reason', [
    ('zero', 'is empty (0 bytes)'),
    ('truncated', 'does not load'),
    ('state dict', 'not a checkpoint written by the runner (no meta, message_hub)'),
])
def test_newest_damaged_checkpoint_is_skipped(work, damage, reason):
    newest = work / 'iter_6.pth'
    data = newest.read_bytes()
    if damage == 'zero':
        newest.write_bytes(b'')
    elif damage == 'truncated':
        newest.write_bytes(data[:len(data) // 3])
    else:
        torch.save({'state_dict': {'w': torch.ones(3)}}, newest)
    path, skipped = find_resume_checkpoint(str(work))
    assert path == str(work / 'iter_4.pth')
    assert skipped[0][0] == str(newest) and reason in skipped[0][1], skipped


def test_warning_names_every_skipped_file(work):
    (work / 'last_checkpoint').write_text('')
    (work / 'iter_6.pth').write_bytes(b'')
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        assert select_resume_checkpoint(str(work)) == str(work / 'iter_4.pth')
    finally:
        logger.removeHandler(handler)
    text = '\n'.join(r.getMessage() for r in records)
    assert f"{work / 'last_checkpoint'}: empty (0 bytes)" in text
    assert f"{work / 'iter_6.pth'}: is empty (0 bytes)" in text
    assert f"resuming from {work / 'iter_4.pth'}" in text


def test_nothing_loads_is_an_error(work):
    for step in (2, 4, 6):
        (work / f'iter_{step}.pth').write_bytes(b'garbage')
    with pytest.raises(ResumeError) as err:
        select_resume_checkpoint(str(work))
    for step in (2, 4, 6):
        assert str(work / f'iter_{step}.pth') in str(err.value)


def test_fresh_work_dir_starts_over(tmp_path):
    assert select_resume_checkpoint(str(tmp_path)) is None
    assert select_resume_checkpoint(str(tmp_path / 'absent')) is None


@pytest.mark.parametrize('pointer', ['trusted://{}', 'http://127.0.0.1:1/x.pth',
                                     'stage://{}'])
def test_scheme_in_last_checkpoint_is_an_error(work, pointer):
    (work / 'last_checkpoint').write_text(pointer.format(work / 'iter_6.pth'))
    with pytest.raises(UntrustedPathError, match=str(work / 'last_checkpoint')):
        find_resume_checkpoint(str(work))


def test_moved_work_dir(tmp_path, work):
    (work / 'last_checkpoint').write_text('/gone/elsewhere/iter_4.pth')
    assert find_resume_checkpoint(str(work))[0] == str(work / 'iter_4.pth')


def test_check_resumable():
    sgd = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1, momentum=0.9)
    good = {'meta': {'iter': 2, 'epoch': 0}, 'state_dict': {}, 'message_hub': {},
            'optimizer': sgd.state_dict()}
    check_resumable(good, 'a.pth', sgd)
    with pytest.raises(ResumeError, match=r'a\.pth: it is a bare state dict'):
        check_resumable({'w': torch.ones(1)}, 'a.pth')
    with pytest.raises(ResumeError, match=r"meta lacks the iteration"):
        check_resumable(dict(good, meta={}), 'a.pth')
    adam = torch.optim.Adam([torch.nn.Parameter(torch.ones(1))])
    assert 'momentum' in optimizer_mismatch(adam.state_dict(), sgd)
    two = torch.optim.SGD([{'params': [torch.nn.Parameter(torch.ones(1))]},
                           {'params': [torch.nn.Parameter(torch.ones(1))]}], lr=1)
    assert '2 parameter groups' in optimizer_mismatch(two.state_dict(), sgd)
    assert optimizer_mismatch(sgd.state_dict(), sgd) is None


@pytest.mark.parametrize('payload', ['zero_size_array', 'object_flag_dtype',
                                     'negative_shape', 'legacy_storage_bomb'])
def test_bare_resume_falls_back_past_any_unloadable_file(work, payload):
    """Issue 20: last_checkpoint names a hostile file; the scan skips it, naming it
    and why, and continues from the newest checkpoint that loads."""
    from . import pickles
    newest = work / 'iter_8.pth'
    getattr(pickles, payload)(newest)
    (work / 'last_checkpoint').write_text(str(newest))
    path, skipped = find_resume_checkpoint(str(work))
    assert path == str(work / 'iter_6.pth')
    assert skipped[0][0] == str(newest) and 'does not load' in skipped[0][1]
    assert str(newest) in skipped[0][1]  # the loader's own message names it too


def test_checkpoint_without_iteration_is_skipped(work):
    torch.save({'meta': {'iter': 'x'}, 'state_dict': {}, 'message_hub': {}},
               work / 'iter_8.pth')
    (work / 'last_checkpoint').write_text(str(work / 'iter_8.pth'))
    path, skipped = find_resume_checkpoint(str(work))
    assert path == str(work / 'iter_6.pth')
    assert 'no iteration and epoch' in skipped[-1][1]

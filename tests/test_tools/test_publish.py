"""mmseg-fcn-publish: a runner checkpoint becomes weights + meta, loadable weights-only."""
import pickle
import re

import pytest
import torch
from mmengine.logging import MessageHub

from mmseg_fcn_classic.tools.publish import main


def _runner_checkpoint(path):
    """What mmengine's runner saves: weights, meta, optimizer, message hub."""
    model = torch.nn.Conv2d(3, 2, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3, 4, 4)).sum().backward()
    optimizer.step()
    hub = MessageHub.get_instance('test_publish')
    hub.update_scalar('train/loss', 0.5)
    meta = dict(iter=2, dataset_meta=dict(classes=('a', 'b')), cfg='x = 1\n')
    torch.save(dict(meta=meta, state_dict=model.state_dict(),
                    optimizer=optimizer.state_dict(), message_hub=hub.state_dict(),
                    param_schedulers=[]), path)
    return model.state_dict(), meta


def test_publish_keeps_weights_and_meta_and_loads_weights_only(tmp_path, capsys):
    src = tmp_path / 'iter_2.pth'
    state, meta = _runner_checkpoint(src)
    # the runner's file holds a HistoryBuffer: torch >= 2.6's bare torch.load (as in
    # mmseg's publish_model.py) refuses it; the plugin's policy allows it
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(src)
    assert main([str(src), str(tmp_path / 'out' / 'fcn.pth')]) == 0
    out = capsys.readouterr().out
    (final, sha) = re.search(r'wrote (\S+) \(sha256 ([0-9a-f]{64})\)', out).groups()
    assert re.fullmatch(re.escape(str(tmp_path / 'out' / 'fcn-')) + sha[:8] + r'\.pth',
                        final)
    assert 'dropped message_hub, optimizer, param_schedulers' in out
    published = torch.load(final, weights_only=True)  # plain torch, no allowlist
    assert sorted(published) == ['meta', 'state_dict']
    assert published['meta'] == meta
    for key, value in state.items():
        assert torch.equal(published['state_dict'][key], value)


def test_publish_names_a_file_it_refuses(tmp_path, capsys):
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': print}, evil)
    assert main([str(evil), str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert 'evil.pth' in err and 'Refusing' in err
    assert not list(tmp_path.glob('out*'))

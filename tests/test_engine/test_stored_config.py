"""Configs stored in checkpoints are never parsed or built (engine/stored_config.py).

Issue 20's payloads, through mmengine's and mmseg's own readers of stored configs
(``MMSegInferencer(model=None)``, ``Runner.resume``, ``init_model`` with a config
read from a checkpoint) and with a metafile name: each control first shows that
the payload runs when the file is trusted, then the same file, loaded normally,
never writes the marker.
"""
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint

import mmseg_fcn_classic  # noqa: F401  (registers the loader schemes)
from mmseg_fcn_classic.engine.stored_config import (StoredConfigError,
                                                    stored_config_notice)

from . import pickles
from .toy import toy_runner

#: A stored config of 200,000 unary minus signs (our old plain-data check ran out
#: of memory parsing it).
MINUS_SIGNS = 'x = ' + '-' * 200_000 + '1\n'


def _hostile(path, marker, **slots):
    """A checkpoint of ``state_dict`` whose stored configs are issue 20's payload."""
    cfg = pickles.OS_SYSTEM_CONFIG.format(marker=marker)
    torch.save({'meta': dict(dict(cfg=cfg, iter=1, epoch=0), **slots.get('meta', {})),
                'state_dict': slots.get('state_dict', {'w': torch.ones(1)}),
                'message_hub': {'runtime_info': {'cfg': cfg}, 'log_scalars': {},
                                'resumed_keys': {}}}, path)
    return str(path)


def test_notice_parses_to_nothing_and_its_model_explains():
    from mmseg.registry import MODELS
    cfg = Config.fromstring(stored_config_notice('work/iter_8.pth'), '.py')
    assert set(cfg.keys()) == {'model'}
    with pytest.raises(StoredConfigError) as err:
        MODELS.build(cfg.model)
    message = str(err.value)
    assert 'checkpoint work/iter_8.pth: the config stored in it is not used' in message
    assert "MMSegInferencer(model='path/to/config.py'" in message
    assert "load it as 'trusted://work/iter_8.pth'" in message


@pytest.mark.parametrize('text', [
    pickles.OS_SYSTEM_CONFIG.format(marker='/tmp/never'),
    pickles.CUSTOM_IMPORTS_CONFIG,
    MINUS_SIGNS,
    {'model': 'not even text'},
], ids=['os.system', 'custom_imports', 'minus-signs', 'dict'])
def test_every_stored_config_is_replaced(tmp_path, text):
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'meta': {'cfg': text, 'config': text, 'iter': 1},
                'state_dict': {'w': torch.ones(1)},
                'message_hub': {'runtime_info': {'cfg': text}}}, path)
    loaded = _load_checkpoint(path)
    notice = stored_config_notice(path)
    assert loaded['meta']['cfg'] == loaded['meta']['config'] == notice
    assert loaded['message_hub']['runtime_info']['cfg'] == notice
    assert loaded['meta']['iter'] == 1 and torch.equal(loaded['state_dict']['w'],
                                                       torch.ones(1))
    trusted = _load_checkpoint('trusted://' + path)  # typed: the file as it is
    assert trusted['meta']['cfg'] == text


def test_inferencer_with_model_none_never_builds_the_stored_config(tmp_path, marker):
    from mmseg.apis import MMSegInferencer
    control = tmp_path / 'CONTROL'
    live = _hostile(tmp_path / 'control.pth', control)
    with pytest.raises(Exception):  # os.system ran, then its int is no model
        MMSegInferencer(model=None, weights='trusted://' + live, device='cpu')
    assert control.exists(), 'the payload is live'
    path = _hostile(tmp_path / 'ckpt.pth', marker)
    with pytest.raises(StoredConfigError) as err:
        MMSegInferencer(model=None, weights=path, device='cpu')
    assert f'checkpoint {path}: the config stored in it is not used' in str(err.value)
    assert f"MMSegInferencer(model='fcn8s_vgg16_voc', weights='{path}'" in str(err.value)


def test_init_model_with_a_config_read_from_a_checkpoint(tmp_path, marker):
    from mmseg.apis import init_model

    from mmseg_fcn_classic.apis import init_model as our_init_model
    path = _hostile(tmp_path / 'ckpt.pth', marker)
    for where in (('meta', 'cfg'), ('message_hub', 'runtime_info', 'cfg')):
        text = _load_checkpoint(path)
        for key in where:
            text = text[key]
        cfg = Config.fromstring(text, '.py')
        for build in (init_model, our_init_model):
            with pytest.raises(StoredConfigError, match=f'checkpoint {path}'):
                build(cfg, path, device='cpu')


def test_inferencer_by_metafile_name_loads_weights_but_no_stored_config(
        tmp_path, marker):
    """Our genuine weights with a hostile stored config, by metafile name."""
    import numpy as np
    from mmseg.apis import MMSegInferencer
    from mmseg.apis import init_model as mmseg_init_model

    from mmseg_fcn_classic.utils.config import config_path
    model = mmseg_init_model(config_path('fcn8s_vgg16_demo.py'), device='cpu')
    path = _hostile(tmp_path / 'demo.pth', marker, state_dict=model.state_dict())
    inferencer = MMSegInferencer('fcn8s_vgg16_demo', weights=path, device='cpu',
                                 scope='mmseg_fcn_classic')
    image = np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    assert inferencer(image)['predictions'].shape == (40, 48)
    weights = inferencer.model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(weights[key], value), key


def test_runner_resume_never_honours_custom_imports_from_the_file(
        tmp_path, marker, monkeypatch):
    """Runner.resume parses meta['config'] (for a GPU count), which imported any
    module the file named."""
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'rt_evil.py').write_text(pickles.RT_EVIL.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(site))
    try:
        Config.fromstring(pickles.CUSTOM_IMPORTS_CONFIG, '.py')  # the control
        assert marker.exists(), 'the payload is live'
        marker.unlink()
        del sys.modules['rt_evil']
        first = toy_runner(tmp_path / 'run', dict(type='AtomicCheckpointHook',
                                                 interval=2, by_epoch=False),
                           max_iters=2)
        first.train()
        ckpt = tmp_path / 'run' / 'iter_2.pth'
        checkpoint = torch.load(ckpt, weights_only=False)
        checkpoint['meta']['config'] = pickles.CUSTOM_IMPORTS_CONFIG
        checkpoint['meta']['cfg'] = pickles.OS_SYSTEM_CONFIG.format(marker=marker)
        torch.save(checkpoint, ckpt)
        second = toy_runner(tmp_path / 'run', dict(type='AtomicCheckpointHook',
                                                  interval=2, by_epoch=False),
                            max_iters=4)
        second.resume(str(ckpt))
        assert second.iter == 2
        assert 'rt_evil' not in sys.modules
    finally:
        sys.modules.pop('rt_evil', None)

"""FCNSegVisualizationHook: mmseg's SegVisualizationHook, silent while off."""
import warnings

import pytest
from mmengine.registry import init_default_scope
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS

from mmseg_fcn_classic.engine import FCNSegVisualizationHook
from mmseg_fcn_classic.visualization import FCNSegLocalVisualizer


@pytest.fixture
def visualizer(visualizer_name, tmp_path):
    return FCNSegLocalVisualizer.get_instance(visualizer_name, save_dir=str(tmp_path))


def _build(cfg):
    init_default_scope('mmseg')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        hook = HOOKS.build(cfg)
    return hook, [str(w.message) for w in caught]


@pytest.mark.parametrize('cfg', [dict(), dict(draw=False, interval=5)])
def test_off_builds_without_warning(visualizer, cfg):
    hook, shown = _build(dict(type='FCNSegVisualizationHook', **cfg))
    assert isinstance(hook, SegVisualizationHook) and hook.draw is False
    assert hook.interval == cfg.get('interval', 50)
    assert shown == []
    # mmseg's own warns in the same place
    _, theirs = _build(dict(type='SegVisualizationHook', **cfg))
    assert len(theirs) == 1 and theirs[0].startswith('The draw is False')


def test_on_is_mmsegs_hook_and_its_other_warnings_stay(visualizer):
    # what --show-dir / --show set (ours and mmseg's stock test.py)
    hook, shown = _build(dict(type='FCNSegVisualizationHook', draw=True, interval=1))
    assert (hook.draw, hook.interval, shown) == (True, 1, [])
    hook, shown = _build(dict(type='FCNSegVisualizationHook', draw=True, show=True))
    assert len(shown) == 1 and shown[0].startswith('The show is True')


def test_registered():
    assert HOOKS.get('FCNSegVisualizationHook') is FCNSegVisualizationHook

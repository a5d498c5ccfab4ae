"""FCNSegLocalVisualizer: mmseg's stock browse_dataset.py on our datasets."""
import os
import os.path as osp
import runpy
import sys

import cv2
import mmseg
import numpy as np
import pytest
from mmengine.config import Config

from mmseg_fcn_classic.testing.synthetic import make_voc_sbd_tree
from mmseg_fcn_classic.utils.config import config_path

BROWSE = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'analysis_tools',
                  'browse_dataset.py')


def _browse(config, out_dir, monkeypatch):
    """Run mmseg's stock ``browse_dataset.py`` in this process."""
    monkeypatch.setattr(sys, 'argv', [BROWSE, config, '--not-show',
                                      '--output-dir', str(out_dir)])
    runpy.run_path(BROWSE, run_name='__main__')


@pytest.mark.parametrize('visualizer, works', [('FCNSegLocalVisualizer', True),
                                               ('SegLocalVisualizer', False)])
def test_stock_browse_dataset_on_voc_sbd(tmp_path, monkeypatch, visualizer_name,
                                         visualizer, works):
    root = str(tmp_path / 'voc_sbd')
    make_voc_sbd_tree(root, voc_train=('2007_000032', ), voc_val=('2007_000033', ),
                      sbd_train=('2008_000002', ), sbd_val=('2008_000003', ))
    cfg = Config.fromfile(config_path('fcn8s_vgg16_voc.py'))
    assert cfg.visualizer.type == 'FCNSegLocalVisualizer'  # the shipped configs'
    cfg.train_dataloader.dataset.update(data_root=root, split='trainaug')
    cfg.visualizer.update(type=visualizer, name=visualizer_name)
    cfg.dump(str(tmp_path / 'voc.py'))
    out = tmp_path / 'browse'
    if not works:  # mmseg's own visualizer: OpenCV refuses the strided image
        with pytest.raises(cv2.error, match='Layout of the output array'):
            _browse(str(tmp_path / 'voc.py'), out, monkeypatch)
        return
    _browse(str(tmp_path / 'voc.py'), out, monkeypatch)
    drawn = sorted(os.listdir(out))
    # trainaug: a VOC png, SBD .mat files
    assert drawn == ['2007_000032.jpg', '2008_000002.jpg', '2008_000003.jpg']
    img = cv2.imread(str(out / drawn[1]))
    assert img.ndim == 3 and img.std() > 0


def test_without_save_dir_the_backend_is_left_out_silently(visualizer_name, tmp_path):
    """As MMSegInferencer builds the config's visualizer: no save_dir."""
    import warnings

    from mmseg.visualization import SegLocalVisualizer

    from mmseg_fcn_classic.visualization import FCNSegLocalVisualizer
    shown = {}
    for cls, save_dir in ((FCNSegLocalVisualizer, None), (SegLocalVisualizer, None),
                          (FCNSegLocalVisualizer, str(tmp_path))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            vis = cls(name=f'{visualizer_name}_{cls.__name__}_{save_dir is None}',
                      vis_backends=[dict(type='LocalVisBackend')], save_dir=save_dir)
        shown[cls.__name__, save_dir is None] = (
            [str(w.message) for w in caught], list(vis._vis_backends))
    assert shown['FCNSegLocalVisualizer', True] == ([], [])
    (theirs, ), backends_left = shown['SegLocalVisualizer', True]
    assert 'please provide the `save_dir` argument' in theirs and backends_left == []
    assert shown['FCNSegLocalVisualizer', False] == ([], ['LocalVisBackend'])

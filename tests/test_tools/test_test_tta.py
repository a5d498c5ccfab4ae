"""tools/test.py --tta: the configs' tta_pipeline (6 scales x flip) through SegTTAModel."""
import glob
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from PIL import Image

from mmseg_fcn_classic.tools import test as test_tool
from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config


def test_tta_evaluates_every_test_image(tmp_path, visualizer_name):
    data = make_tiny_data(str(tmp_path / 'polyps'), n_train=1)
    cfg_path = write_tiny_config(str(tmp_path / 'tiny.py'), data)
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, ckpt)

    out = tmp_path / 'preds'
    work = tmp_path / 'work'
    test_tool.main([cfg_path, ckpt, '--tta', '--out', str(out),
                    '--work-dir', str(work), '--no-keep-freed-memory',
                    '--cfg-options', f'visualizer.name={visualizer_name}'])

    frames = sorted(glob.glob(osp.join(data, 'test', 'images', '*.bmp')))
    preds = sorted(glob.glob(str(out / '*.png')))
    assert [osp.basename(p)[:-4] for p in preds] == \
        [osp.basename(f)[:-4] for f in frames]
    for frame, pred in zip(frames, preds):  # merged at each frame's own size
        assert np.asarray(Image.open(pred)).shape == \
            np.asarray(Image.open(frame)).shape[:2]
    logs = glob.glob(str(work / '*' / '*.log'))
    assert any('Iter(test)' in open(p).read() and 'mIoU' in open(p).read()
               for p in logs)

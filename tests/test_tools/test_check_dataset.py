import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmseg_fcn_classic.testing.synthetic import make_polyps912_tree, make_voc_sbd_tree
from mmseg_fcn_classic.tools import check_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'check_dataset.py')

CONFIG = """
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]
train_dataloader = dict(dataset=dict(
    type='{type}', data_root='{root}', split='{train}', pipeline=pipeline))
val_dataloader = dict(dataset=dict(
    type='{type}', data_root='{root}', split='{val}', pipeline=pipeline))
"""


@pytest.fixture(scope='module')
def tool():
    return check_dataset


def write_config(path, root, type_='Polyps912Dataset', train='train',
                 val='valid'):
    path.write_text(CONFIG.format(type=type_, root=root, train=train, val=val))
    return str(path)


def test_clean_dataset(tool, tmp_path, capsys):
    make_polyps912_tree(str(tmp_path / 'data'), counts=(3, 2, 0))
    cfg = write_config(tmp_path / 'cfg.py', tmp_path / 'data')
    assert tool.main([cfg, '--no-progress']) == 0
    out = capsys.readouterr().out
    assert 'scanned 3 samples: 0 problem(s)' in out
    assert 'background' in out and 'polyp' in out and 'OK' in out
    assert tool.main([cfg, '--split', 'val', '--no-progress']) == 0
    assert 'scanned 2 samples' in capsys.readouterr().out


def test_all_problems_reported(tool, tmp_path, capsys):
    make_polyps912_tree(str(tmp_path / 'data'), counts=(6, 0, 0))
    train = tmp_path / 'data' / 'train'
    os.remove(train / 'masks2' / '1.tif')
    os.remove(train / 'masks2' / '2.tif')
    (train / 'images' / '3.bmp').write_bytes(b'not an image')
    seg = np.array(Image.open(train / 'masks2' / '4.tif'))
    seg[5, 5] = 42
    Image.fromarray(seg).save(train / 'masks2' / '4.tif')
    cfg = write_config(tmp_path / 'cfg.py', tmp_path / 'data')
    assert tool.main([cfg, '--no-progress']) == 1
    out = capsys.readouterr().out
    assert 'image without mask: 2' in out
    assert 'unreadable image: 1' in out
    assert 'invalid label values: 1' in out
    assert '4 problem(s)' in out and 'FAILED' in out
    for name in ('1.bmp', '2.bmp', '3.bmp', '4.tif'):
        assert name in out


def test_cfg_options_and_missing_root(tool, tmp_path, capsys):
    make_polyps912_tree(str(tmp_path / 'data'), counts=(2, 0, 0))
    cfg = write_config(tmp_path / 'cfg.py', tmp_path / 'elsewhere')
    assert tool.main([cfg, '--no-progress']) == 1
    out = capsys.readouterr().out
    assert 'missing data_root folder' in out and 'expected layout' in out
    assert tool.main([
        cfg, '--no-progress', '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path / "data"}'
    ]) == 0


def test_voc_sbd_plain_loader_is_flagged(tool, tmp_path, capsys):
    make_voc_sbd_tree(str(tmp_path / 'data'))
    cfg = write_config(tmp_path / 'cfg.py', tmp_path / 'data',
                       'PascalVOCSBDDataset', 'trainaug', 'val')
    assert tool.main([cfg, '--no-progress']) == 1
    assert 'LoadFCNAnnotations' in capsys.readouterr().out
    assert tool.main([cfg, '--split', 'val', '--no-progress']) == 0


def test_command_line(tmp_path):
    """The real entry point: the plugin is imported by the tool, not the config;
    problems give a non-zero exit code."""
    make_polyps912_tree(str(tmp_path / 'data'), counts=(2, 1, 0))
    cfg = write_config(tmp_path / 'cfg.py', tmp_path / 'data')
    os.remove(tmp_path / 'data' / 'valid' / 'images' / '3.bmp')
    run = subprocess.run([sys.executable, TOOL, cfg, '--split', 'val'],
                         cwd=str(tmp_path), capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'mask without image: 1' in run.stdout
    assert 'per-class pixel frequencies' in run.stdout

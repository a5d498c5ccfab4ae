"""The embedded demo, at reduced size, truly learns polyps."""
import os.path as osp

from mmseg_fcn_classic.testing.synthetic import make_demo_dataset
from mmseg_fcn_classic.tools import demo
from tests.conftest import shown_warnings

#: Polyp IoU (%) the reduced demo must beat; predicting all background scores 0.
POLYP_IOU_THRESHOLD = 40.0


def test_demo_learns_polyps(tmp_path, visualizer_name):
    root = str(tmp_path / 'data')
    make_demo_dataset(root, counts={'train': 40, 'valid': 6, 'test': 8},
                      size_range=(72, 96), seed=3)
    (tmp_path / 'data' / '.complete').write_text('seed=3\n')
    work = str(tmp_path / 'work')
    with shown_warnings() as caught:  # the main job of `make demo` warns of nothing
        metrics = demo.run([
            '--data-root', root, '--work-dir', work, '--cfg-options',
            'train_cfg.max_iters=150', 'train_cfg.val_interval=150',
            'default_hooks.checkpoint.interval=150', 'default_hooks.logger.interval=50',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
            f'visualizer.name={visualizer_name}'
        ])
    assert [str(w.message) for w in caught] == []
    assert metrics['IoU.polyp'] > POLYP_IOU_THRESHOLD, metrics
    assert osp.isfile(osp.join(work, 'learning_curve.png'))
    overlays = list((tmp_path / 'work' / 'test_overlays').rglob('*.png'))
    assert len(overlays) == 8

"""The VOC configs' loader settings (4 workers, persistent, pinned) run on CPU."""
import warnings

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmseg_fcn_classic  # noqa: F401  (registers the dataset)
from mmseg_fcn_classic.testing.synthetic import make_voc_sbd_tree
from mmseg_fcn_classic.utils.config import config_path


def test_voc_loaders_feed_batches_on_cpu(tmp_path):
    make_voc_sbd_tree(str(tmp_path), sizes=((37, 50), (50, 37)))
    cfg = Config.fromfile(config_path('_base_/datasets/voc_sbd.py'))
    for name in ('train_dataloader', 'val_dataloader'):
        loader_cfg = cfg[name]
        assert loader_cfg.num_workers >= 4 and loader_cfg.persistent_workers
        assert loader_cfg.pin_memory
        loader_cfg.dataset.data_root = str(tmp_path)
        if name == 'val_dataloader':
            loader_cfg.dataset.split = 'val'
        init_default_scope('mmseg')
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            batches = [batch for batch, _ in zip(loader, range(3))]
        assert len(batches) == 3
        for batch in batches:
            (img, ), (sample, ) = batch['inputs'], batch['data_samples']
            assert img.dtype == torch.uint8 and img.shape[0] == 3
            assert sample.gt_sem_seg.shape == img.shape[1:]
        if not torch.cuda.is_available():  # pinning is skipped, with a warning
            assert any('pin_memory' in str(w.message) for w in caught)
        del loader, batches

"""Tiny configs for runner-level tests, written next to a tiny synthetic polyps tree."""
import os.path as osp
import textwrap

from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs
from mmseg_fcn_classic.testing.synthetic import make_demo_dataset

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(REPO, 'configs', 'fcn8s_vgg16_demo.py')

TINY_MODEL = dict(widths=(4, 8, 8, 16, 16), fc_channels=16)


def make_tiny_data(root: str, n_train: int = 8) -> str:
    """A small polyps912-layout tree (train/valid/test) of 40-56 px frames."""
    return make_demo_dataset(
        root, counts={'train': n_train, 'valid': 2, 'test': 2},
        size_range=(40, 56), seed=1)


def write_tiny_config(path: str, data_root: str, max_iters: int = 4,
                      ckpt_interval: int = 2, skips=('pool4', 'pool3'),
                      load_from=None, probe: bool = True, extra: str = '',
                      base: str = DEMO_CONFIG) -> str:
    """Write a config that inherits the demo config and shrinks it.

    Args:
        path (str): Where to write the config.
        data_root (str): Dataset root in the polyps912 layout.
        max_iters (int): Training iterations.
        ckpt_interval (int): Checkpoint interval.
        skips (tuple): Head skips, i.e. the FCN variant.
        load_from (str, optional): Checkpoint or ``stage://`` dir to start from.
        probe (bool): Add tests/probe_hook.py's ProbeHook.
        extra (str): Python appended verbatim.
        base (str): Config to inherit.

    Returns:
        str: ``path``.
    """
    head = head_inputs(skips, **TINY_MODEL)
    hooks = ("[dict(type='ExactResumeHook'), dict(type='ProbeHook')]" if probe
             else "[dict(type='ExactResumeHook')]")
    imports = "['mmseg_fcn_classic', 'tests.probe_hook']" if probe else "['mmseg_fcn_classic']"
    text = f'''
    _base_ = [{base!r}]
    custom_imports = dict(imports={imports}, allow_failed_imports=False)
    custom_hooks = {hooks}
    data_root = {data_root!r}
    model = dict(
        backbone=dict(widths={TINY_MODEL['widths']!r}, fc_channels={TINY_MODEL['fc_channels']}),
        decode_head={head!r})
    crop_size = (32, 32)
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadFCNAnnotations'),
        dict(type='RandomCrop', crop_size=crop_size),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackSegInputs'),
    ]
    train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                            dataset=dict(data_root=data_root, pipeline=train_pipeline))
    val_dataloader = dict(num_workers=0, persistent_workers=False,
                          dataset=dict(data_root=data_root))
    test_dataloader = val_dataloader
    train_cfg = dict(max_iters={max_iters}, val_interval=1000)
    default_hooks = dict(
        logger=dict(interval=1),
        checkpoint=dict(interval={ckpt_interval}, save_best=None, max_keep_ckpts=-1),
        visualization=dict(draw=False))
    load_from = {load_from!r}
    randomness = dict(seed=0)
    '''
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text) + extra)
    return path

"""Narrow FCNs for tests and smoke runs: the real geometry at a fraction of the width.

The head's inputs always come from :func:`..models.utils.fcn_spec.head_inputs`.
Also here: random weights for such models (:func:`randomize_`), their logits and a
tolerance to compare them (:func:`logits`, :func:`close`), and a tiny
training config next to a tiny demo-data tree (:func:`write_tiny_config`).
"""
import textwrap
from typing import Optional, Sequence, Tuple

import torch
from mmengine.config import Config, ConfigDict

from ..models.utils import fcn_spec
from ..utils.config import config_path
from .synthetic import make_demo_dataset

#: A narrow VGG16FC that keeps the real geometry: fast enough for many sizes.
WIDTHS = (4, 8, 8, 16, 16)
FC_CHANNELS = 16
#: The benchmark's ``--quick`` models: narrow, but with some arithmetic to time.
QUICK_WIDTHS = (8, 16, 32, 64, 64)
QUICK_FC_CHANNELS = 128
#: Relative tolerance of :func:`close`.
TOL = 1e-4


def narrow_model(model: dict, widths: Sequence[int] = WIDTHS,
                 fc_channels: int = FC_CHANNELS) -> dict:
    """Narrow a segmentor config's ``VGG16FC`` (or ``AlexNetFC``) in place and match
    its heads' inputs.

    Args:
        model (dict): A segmentor config with ``backbone`` and ``decode_head``.
        widths (Sequence[int]): Conv block widths. Defaults to :data:`WIDTHS`.
        fc_channels (int): fc6 / fc7 width. Defaults to :data:`FC_CHANNELS`.

    Returns:
        dict: ``model``.

    Example:
        >>> cfg = narrow_model(dict(backbone={}, decode_head=dict(skips=('pool4',))))
        >>> cfg['decode_head']['in_channels'], cfg['decode_head']['in_index']
        ((16, 16), (1, 2))
    """
    model['backbone'].update(widths=tuple(widths), fc_channels=fc_channels)
    heads = model['decode_head']
    # a MultiHeadEncoderDecoder's decode_head is a dict of heads by name
    for head in (heads.values() if model.get('type') == 'MultiHeadEncoderDecoder'
                 else [heads]):
        if model['backbone'].get('type') == 'AlexNetFC':  # its head reads fc7 alone
            head.update(in_channels=fc_channels, in_index=0)
            continue
        skips = head.get('skips', fcn_spec.SKIPS)
        head.update(fcn_spec.head_inputs(skips, widths, fc_channels))
    return model


def shipped_model_config(name: str, widths: Optional[Sequence[int]] = None,
                         fc_channels: Optional[int] = None) -> Tuple[ConfigDict, dict]:
    """The model and optim_wrapper configs of a shipped config, without weights.

    The backbone's ``Pretrained`` init is dropped; ``widths`` / ``fc_channels``
    narrow the model (:func:`narrow_model`; the other one keeps VGG16's value).

    Args:
        name (str): Config path relative to ``configs/``, e.g.
            ``'fcn8s_vgg16_voc.py'``.
        widths (Sequence[int], optional): Conv block widths.
        fc_channels (int, optional): fc6 / fc7 width.

    Returns:
        tuple[ConfigDict, dict]: ``model`` (a ConfigDict, as the runner gets it)
        and ``optim_wrapper``.
    """
    cfg = Config.fromfile(config_path(name))
    model = cfg.model
    model.backbone.init_cfg = None
    if widths is not None or fc_channels is not None:
        narrow_model(model, widths or fcn_spec.DEFAULT_WIDTHS,
                     fc_channels or fcn_spec.DEFAULT_FC_CHANNELS)
    return model, cfg.optim_wrapper.to_dict()


def build_shipped(name: str = 'fcn8s_vgg16_voc.py', widths: Sequence[int] = WIDTHS,
                  fc_channels: int = FC_CHANNELS) -> torch.nn.Module:
    """Build a shipped config's segmentor through mmseg's registry, narrow.

    Args:
        name (str): Config path relative to ``configs/``. Defaults to
            ``'fcn8s_vgg16_voc.py'``.
        widths (Sequence[int]): Defaults to :data:`WIDTHS`.
        fc_channels (int): Defaults to :data:`FC_CHANNELS`.

    Returns:
        nn.Module: The ``EncoderDecoder``, with the configs' initial weights.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmseg_fcn_classic  # noqa: F401  (registers the components)
    init_default_scope('mmseg')
    return MODELS.build(shipped_model_config(name, widths, fc_channels)[0])


def randomize_(module: torch.nn.Module, seed: int = 0, upscore: str = 'random') -> None:
    """Fill every parameter with non-zero random values (He-scaled weights).

    Freshly built FCNs have zero score layers (the reference init), so their logits
    are all zero; random values make comparisons of outputs meaningful.

    Args:
        module (nn.Module): Modified in place.
        seed (int): Seed of the values. Defaults to 0.
        upscore (str): ``'random'``: dense random upsampling weights too;
            ``'bilinear'``: leave them at the (diagonal) reference init.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if 'upscore' in name and upscore == 'bilinear':
                continue
            fan_in = param[0].numel() if param.dim() > 1 else 1
            std = (2.0 / fan_in)**0.5 if param.dim() > 1 else 0.1
            param.copy_(torch.randn(param.shape, generator=gen) * std)


def make_tiny_data(root: str, n_train: int = 8) -> str:
    """A small demo-data tree (polyps912 layout; train/valid/test) of 40-56 px frames."""
    return make_demo_dataset(
        root, counts={'train': n_train, 'valid': 2, 'test': 2},
        size_range=(40, 56), seed=1)


def write_tiny_config(path: str, data_root: str, max_iters: int = 4,
                      ckpt_interval: int = 2, skips: Sequence[str] = ('pool4', 'pool3'),
                      load_from: Optional[str] = None,
                      custom_hooks: Sequence[str] = (),
                      custom_imports: Sequence[str] = (), extra: str = '',
                      base: Optional[str] = None) -> str:
    """Write a config that inherits the demo config and shrinks it.

    The model is narrow (:data:`WIDTHS`, :data:`FC_CHANNELS`), training runs on
    32x32 crops in batches of 2 without loader workers, with ``ExactResumeHook``.

    Args:
        path (str): Where to write the config.
        data_root (str): Dataset root in the polyps912 layout.
        max_iters (int): Training iterations. Defaults to 4.
        ckpt_interval (int): Checkpoint interval. Defaults to 2.
        skips (Sequence[str]): Head skips, i.e. the FCN variant. Defaults to
            FCN-8s's.
        load_from (str, optional): Checkpoint or ``stage://`` dir to start from.
        custom_hooks (Sequence[str]): More hook types, after ``ExactResumeHook``.
        custom_imports (Sequence[str]): More modules to import (where those hooks
            are registered), after ``mmseg_fcn_classic``.
        extra (str): Python appended verbatim.
        base (str, optional): Config to inherit. Defaults to the shipped
            ``fcn8s_vgg16_demo.py``.

    Returns:
        str: ``path``.
    """
    base = base or config_path('fcn8s_vgg16_demo.py')
    head = fcn_spec.head_inputs(skips, WIDTHS, FC_CHANNELS)
    hooks = [dict(type=t) for t in ('ExactResumeHook', *custom_hooks)]
    imports = ['mmseg_fcn_classic', *custom_imports]
    text = f'''
    _base_ = [{base!r}]
    custom_imports = dict(imports={imports!r}, allow_failed_imports=False)
    custom_hooks = {hooks!r}
    data_root = {data_root!r}
    model = dict(
        backbone=dict(widths={WIDTHS!r}, fc_channels={FC_CHANNELS}),
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


def close(a: torch.Tensor, b: torch.Tensor, tol: float = TOL) -> bool:
    """Whether ``a`` equals ``b`` within ``tol`` of ``b``'s magnitude (absolute below 1)."""
    return (a - b).abs().max().item() <= tol * max(1.0, b.abs().max().item())


def logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A segmentor's logits for a batch ``x`` of normalised, unpadded images."""
    metas = [dict(img_shape=tuple(x.shape[-2:]), ori_shape=tuple(x.shape[-2:]),
                  pad_shape=tuple(x.shape[-2:]))] * x.shape[0]
    return model.encode_decode(x, metas)

"""Convert a weight file of any supported format into a checkpoint for our models.

Formats: ``caffe`` (``.caffemodel``), ``pytorch-fcn`` (a state dict or Trainer
checkpoint of wkentaro/pytorch-fcn) and ``torchvision`` (a VGG16 state dict).
:func:`detect_format` tells them apart; :func:`convert_file` converts.
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import torch

from ..engine.policy import load_checkpoint_file
from ..models.data_preprocessor import PIXEL_CONVENTIONS
from ..models.utils import fcn_spec
from ..utils.commands import tool_command
from .caffe import CaffeFormatError, convert_caffe, is_caffemodel
from .classes import (ClassMismatchError, class_permutation, config_dataset_meta,
                      permute_head_classes, released_dataset_meta)
from .nyud import nyud_metadata
from .pytorch_fcn import (ARCH_NAMES, convert_pytorch_fcn,
                          convert_reference_state_dict, unwrap_state_dict)
from .torchvision import convert_torchvision_vgg16

FORMATS = ('caffe', 'pytorch-fcn', 'torchvision')
#: Which input convention (FCNDataPreProcessor ``weights``) each format expects.
CONVENTION_OF_FORMAT = {'caffe': 'caffe', 'pytorch-fcn': 'caffe',
                        'torchvision': 'torchvision'}


class ConversionError(Exception):
    """A source file that cannot be converted; the message names the file."""


def _is_torch_file(path: str) -> bool:
    with open(path, 'rb') as f:
        head = f.read(4)
    return head.startswith(b'PK\x03\x04') or (head[:1] == b'\x80' and
                                              head[1:2] in b'\x02\x03\x04\x05')


def load_torch_source(path: str) -> Any:
    """Load a ``.pth`` with ``weights_only=True`` (numpy scalars allowed)."""
    try:
        return load_checkpoint_file(path, map_location='cpu')
    except Exception as e:  # noqa: BLE001  (torch raises many kinds here)
        raise ConversionError(f'{path}: cannot be read as a PyTorch file '
                              f'({type(e).__name__}: {e})') from None


def detect_format(path: str, obj: Any = None) -> str:
    """Tell ``caffe`` / ``pytorch-fcn`` / ``torchvision`` from a file.

    Args:
        path (str): The source file.
        obj (Any, optional): Its loaded content if already loaded (torch files).

    Returns:
        str: One of :data:`FORMATS`.
    """
    if obj is None:
        if not _is_torch_file(path):
            if is_caffemodel(path):
                return 'caffe'
            raise ConversionError(f'{path}: unknown format: neither a PyTorch file '
                                  f'nor a Caffe NetParameter')
        obj = load_torch_source(path)
    if not isinstance(obj, dict):
        raise ConversionError(f'{path}: unknown format: holds a '
                              f'{type(obj).__name__}, not a state dict')
    state_dict, _ = unwrap_state_dict(obj)
    if 'features.0.weight' in state_dict:
        return 'torchvision'
    if 'conv1_1.weight' in state_dict:
        return 'pytorch-fcn'
    sample = ', '.join(list(state_dict)[:4]) or 'no tensors'
    raise ConversionError(f'{path}: unknown format: expected torchvision '
                          f"('features.0.weight') or reference ('conv1_1.weight') "
                          f'keys, found {sample}')


def convert_file(src: str, fmt: Optional[str] = None,
                 variant: Optional[str] = None,
                 config: Optional[str] = None) -> Tuple[Dict[str, Any], dict]:
    """Convert ``src`` into a checkpoint dict ready for :func:`torch.save`.

    A whole FCN records its classes as ``meta['dataset_meta']`` where they are
    known (the released nets': VOC's 21, PASCAL-Context's 60). With ``config``,
    the head's class channels are reordered by class name to the classes of the
    config's dataset (:func:`~.classes.class_permutation`), and those become
    ``dataset_meta``.

    Args:
        src (str): Source weights.
        fmt (str, optional): One of :data:`FORMATS`; detected when None.
        variant (str, optional): ``32s`` / ``16s`` / ``8s`` / ``8s-atonce`` /
            ``alexnet-32s`` / ``vgg16`` / ``alexnet``; detected when None.
        config (str, optional): A config whose dataset's class order the
            weights should follow. Defaults to None (the source's order).

    Returns:
        tuple[dict, dict]: ``{'state_dict': ..., 'meta': ...}`` holding only
        tensors and plain Python types, and the converter's report.
    """
    if not osp.isfile(src):
        raise ConversionError(f'{src}: no such file')
    obj = None
    if fmt is None:
        if _is_torch_file(src):
            obj = load_torch_source(src)
        fmt = detect_format(src, obj)
    elif fmt != 'caffe':
        obj = load_torch_source(src)
    try:
        if fmt == 'caffe':
            state_dict, report = convert_caffe(src, variant=variant)
        elif fmt == 'pytorch-fcn':
            if variant is None and 'atonce' in osp.basename(src).lower():
                variant = '8s-atonce'
            state_dict, report = convert_pytorch_fcn(obj, variant=variant)
        else:
            if variant not in (None, 'vgg16'):
                raise ValueError(f'a torchvision VGG16 is a backbone; variant '
                                 f'{variant!r} does not apply')
            state_dict, tv_report = convert_torchvision_vgg16(unwrap_state_dict(obj)[0])
            # check: every layer there, shapes chaining
            convert_reference_state_dict(state_dict, 'vgg16')
            report = torchvision_report(state_dict, tv_report)
    except CaffeFormatError as e:
        raise ConversionError(str(e)) from None
    except (ValueError, KeyError) as e:
        raise ConversionError(f'{src}: {e}') from None

    convention = CONVENTION_OF_FORMAT[fmt]
    pixels = PIXEL_CONVENTIONS[convention]
    meta: Dict[str, Any] = {
        'converted_from': osp.abspath(src),
        'source_format': fmt,
        'variant': report['variant'],
        'input_convention': dict(weights=convention, mean=list(pixels['mean']),
                                 std=list(pixels['std']),
                                 bgr_to_rgb=bool(pixels['bgr_to_rgb'])),
    }
    report['input_convention'] = meta['input_convention']
    heads = report.get('heads')
    score = state_dict.get('decode_head.score_fr.weight')
    released = None
    if heads:
        meta.update(multi_head_meta(state_dict, heads))
        if 'dataset_meta' in meta:
            report['notes'].append(
                f"heads {', '.join(f'{h} ({n} classes)' for h, n in meta['heads'].items())}"
                f": recorded the {meta['dataset']} classes and palettes as dataset_meta")
    elif score is not None:
        meta['num_classes'] = int(score.shape[0])
        released = released_dataset_meta(meta['num_classes'])
    nyud = nyud_metadata(state_dict, src)
    if nyud is not None:  # 40 classes: NYUDv2, one trunk or two (late fusion)
        meta['num_classes'] = nyud['num_classes']
        released = released_dataset_meta(meta['num_classes'])
        if nyud['input_convention'] is not None:
            meta['input_convention'] = nyud['input_convention']
            report['input_convention'] = nyud['input_convention']
        report['notes'].extend(nyud['notes'])
    if config is not None:
        state_dict = _reorder_classes(src, state_dict, released, config, meta,
                                      report)
    elif released is not None:
        name, meta['dataset_meta'] = released
        report['notes'].append(f"{meta['num_classes']} classes: recorded the "
                               f'{name} classes and palette as dataset_meta')
    checkpoint = {'state_dict': {k: v.contiguous() for k, v in state_dict.items()},
                  'meta': meta}
    return checkpoint, report


def _reorder_classes(src: str, state_dict: Dict[str, torch.Tensor],
                     released: Optional[Tuple[str, dict]], config: str, meta: dict,
                     report: dict) -> Dict[str, torch.Tensor]:
    """``--config``: the head's channels in the order of the config's classes."""
    if report.get('heads'):
        raise ConversionError(f"{src}: --config reorders the classes of a one-head "
                              f"FCN; this net has the heads {report['heads']}")
    if 'num_classes' not in meta:
        raise ConversionError(f'{src}: --config reorders the class channels of a '
                              f"whole FCN; these are {report['variant']} backbone "
                              'weights without classes')
    if released is None:
        raise ConversionError(
            f"{src}: the names of its {meta['num_classes']} classes are unknown "
            '(no released net has that many outputs), so --config cannot match '
            "them to the config's classes")
    name, source_meta = released
    try:
        target_meta, dataset = config_dataset_meta(config)
        perm = class_permutation(source_meta['classes'], target_meta['classes'])
        state_dict, permuted = permute_head_classes(state_dict, perm)
    except ClassMismatchError as e:
        raise ConversionError(f'{src}: its {name} classes do not match the classes '
                              f'of {config} ({len(target_meta["classes"])}): {e}'
                              ) from None
    except (ValueError, OSError, SyntaxError) as e:
        raise ConversionError(f'{config}: {e}') from None
    meta['dataset_meta'] = target_meta
    meta['classes_reordered_from'] = list(source_meta['classes'])
    moved = sum(i != j for i, j in enumerate(perm))
    report['notes'].append(
        f"reordered the {len(perm)} classes from the {name} order to {dataset}'s of "
        f'{config} ({moved} moved; {len(permuted)} tensors: '
        f"{', '.join(permuted)}); recorded its classes as dataset_meta")
    report['class_permutation'] = list(perm)
    return state_dict


#: Datasets of the multi-head reference nets, by their heads and class counts.
MULTI_HEAD_DATASETS = {(('sem', 33), ('geo', 3)): 'SIFT Flow'}


def multi_head_meta(state_dict: Dict[str, torch.Tensor],
                    heads: List[str]) -> Dict[str, Any]:
    """Checkpoint meta of a multi-head net: ``num_classes`` (the primary head's),
    ``heads`` (classes per head) and, for a known dataset, its ``dataset_meta``
    with ``classes`` / ``palette`` and ``<head>_classes`` / ``<head>_palette``."""
    counts = {h: int(state_dict[f'decode_head.{h}.score_fr.weight'].shape[0])
              for h in heads}
    meta: Dict[str, Any] = dict(num_classes=counts[heads[0]], heads=counts)
    dataset = MULTI_HEAD_DATASETS.get(tuple(counts.items()))
    if dataset == 'SIFT Flow':
        from ..datasets.siftflow import SiftFlowDataset
        meta['dataset'] = dataset
        meta['dataset_meta'] = {
            k: [list(v) if isinstance(v, (list, tuple)) else v for v in values]
            for k, values in SiftFlowDataset.METAINFO.items()}
    return meta


def torchvision_report(state_dict: Dict[str, torch.Tensor], tv_report: dict) -> dict:
    """Bring :func:`convert_torchvision_vgg16`'s report into the common layout."""
    return {
        'format': 'torchvision',
        'variant': 'vgg16',
        'mapped': [[src, dst, list(state_dict[dst].shape)]
                   for src, dst in tv_report.get('mapped', {}).items()],
        'reshaped': [[src, list(old), list(new)]
                     for src, (old, new) in tv_report.get('reshaped', {}).items()],
        'dropped': [[src, 'VGG16 ImageNet classifier (fc8)' if src.startswith(
            'classifier.6.') else 'not part of the VGG16 backbone']
                    for src in tv_report.get('dropped', [])],
        'notes': [],
    }


def format_report(report: dict, dst: str) -> str:
    """Render a conversion report for the terminal."""
    what = _net_name(report['variant'])
    if report.get('heads'):
        what += f", heads {', '.join(report['heads'])}"
    lines: List[str] = [f"converted {report.get('format')} weights ({what})"]
    for src, dst_key, shape in report.get('mapped', []):
        lines.append(f'  mapped   {src} -> {dst_key} {tuple(shape)}')
    for name, before, after in report.get('reshaped', []):
        lines.append(f'  reshaped {name}: {tuple(before)} -> {tuple(after)}')
    for name, reason in report.get('dropped', []):
        lines.append(f'  dropped  {name} ({reason})')
    for note in report.get('notes', []):
        lines.append(f'  note: {note}')
    conv = report['input_convention']
    if conv.get('modalities'):  # NYUDv2: stacked modalities
        lines.append(
            f"input convention: modalities {tuple(conv['modalities'])}, per-channel "
            f"mean {tuple(conv['mean'])}, std 1 -> data_preprocessor=dict(type="
            f"'MultiModalDataPreProcessor', modalities={tuple(conv['modalities'])})")
    else:
        lines.append(
            f"input convention: {'RGB' if conv['bgr_to_rgb'] else 'BGR'} 0-255, "
            f"mean {tuple(conv['mean'])}, std {tuple(conv['std'])}, "
            f"bgr_to_rgb={conv['bgr_to_rgb']} -> "
            f"data_preprocessor=dict(type='FCNDataPreProcessor', "
            f"weights='{conv['weights']}')")
    if report['variant'] in fcn_spec.BACKBONE_VARIANTS:
        lines.append(f"saved {dst}: use it as model.backbone.init_cfg=dict("
                     f"type='Pretrained', checkpoint='{dst}')")
    else:
        config = ('fcn32s_alexnet' if report['variant'] == 'alexnet-32s' else
                  f'fcn{report["variant"]}')
        lines.append(f'saved {dst}: load it with init_model(<{config} config>, '
                     f'{dst!r}) or {tool_command("test", "CONFIG " + dst)}')
    return '\n'.join(lines)


def _net_name(variant: str) -> str:
    """``'vgg16'`` -> ``'VGG16 backbone'``, ``'alexnet-32s'`` -> ``'FCN-AlexNet'``,
    ``'8s'`` -> ``'FCN-8s'``."""
    if variant in fcn_spec.BACKBONE_VARIANTS:
        return f'{ARCH_NAMES[fcn_spec.BACKBONE_VARIANTS[variant]]} backbone'
    arch = fcn_spec.VARIANTS[variant].backbone if variant in fcn_spec.VARIANTS \
        else 'vgg16'
    if arch != 'vgg16':
        return f'FCN-{ARCH_NAMES[arch]}'
    return f'FCN-{variant}'

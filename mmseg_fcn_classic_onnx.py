"""Segment images with an ONNX file of ``mmseg-fcn-export``, without mmseg or torch.

Installed as ``mmseg-fcn-infer-onnx`` (also ``python -m mmseg_fcn_classic_onnx``;
from a clone, ``python tools/infer_onnx.py``). Needs only numpy, Pillow and
onnxruntime: this module sits outside the ``mmseg_fcn_classic`` package, whose
import registers components with mmseg and so imports torch.

The input convention (channel order, mean, std) and the classes / palette come from
the model's metadata_props, which the exporter writes (each value JSON). They are
checked before any image is read: a file whose metadata is missing, not JSON, too
large or deeply nested, or describes no usable convention (e.g. a std of 0) is
refused, naming the file and the key. For each image, writes
<out-dir>/<name>.png: a palette PNG whose pixel values are the class indices.
A multi-head export (SIFT Flow's semantic + geometric net: metadata 'heads') also
gives <out-dir>/<name>_<head>.png per other head (<name>_geo.png), in its colours.
A multi-modal model (NYUDv2 colour + HHA or depth: one input per modality, metadata
'modalities') takes the first modality's images as inputs and the others from
--hha DIR / --depth DIR, matched by file name (same relative path and name; any image
suffix, the input's own first); the metadata says how each is prepared (HHA in the
PNG's channel order, depth as the natural log of the 16-bit value).
An image that cannot be read, or has more pixels than --max-pixels (checked from
its header, before decoding), is reported and skipped; the others are segmented,
and the exit status is 1 if any image failed.

Example:
  mmseg-fcn-infer-onnx fcn8s_voc.onnx photo.jpg photos/ --out-dir out
  mmseg-fcn-infer-onnx nyud_color_hha.onnx nyud/data/images --hha nyud/data/hha \\
      --out-dir out
"""
import argparse
import json
import math
import os
import os.path as osp
import re
import sys
import warnings
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageOps

IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
#: Metadata keys that must be there, and the others this tool reads.
REQUIRED = ('mean', 'std', 'channel_order', 'input', 'output')
OPTIONAL = ('pixel_range', 'layout', 'num_classes', 'classes', 'palette', 'heads',
            'modalities')
#: The modalities a multi-modal model may read (``--<name> DIR``), see
#: :func:`parse_modalities`.
MODALITY_NAMES = ('color', 'hha', 'depth')
#: Longest metadata value read (characters); a class list of 256 long names fits.
MAX_META_CHARS = 1 << 20
#: A palette PNG holds class indices 0-255.
MAX_CLASSES = 256
#: Most heads of a multi-head export read (metadata ``heads``).
MAX_HEADS = 16
#: Default pixel limit (width x height), as ``mmseg-fcn-infer``'s.
MAX_PIXELS = 4096 * 4096


class ConventionError(ValueError):
    """The model file's metadata describes no usable input convention."""


def _number_list(value: Any, key: str, where: str, count: int = 3) -> List[float]:
    if (not isinstance(value, list) or len(value) != count or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in value)):
        raise ConventionError(f'{where}: metadata {key!r} must be a list of {count} '
                              f'finite numbers (one per channel), got {_short(value)}')
    return [float(v) for v in value]


def parse_modalities(value: Any, where: str = 'model') -> List[Dict[str, Any]]:
    """Check the ``modalities`` metadata of a multi-modal model.

    Each entry: ``name`` (one of :data:`MODALITY_NAMES`), ``channels`` (3 or 1),
    ``channel_order`` (``'bgr'`` / ``'rgb'`` for 3 channels, None for 1),
    ``transform`` (None or ``'log'``) and ``mean`` / ``std`` (``channels`` finite
    numbers, std > 0).

    Raises:
        ConventionError: Naming ``where`` and what is wrong.

    Example:
        >>> parse_modalities([dict(name='depth', channels=1, channel_order=None,
        ...                        transform='log', mean=[7.844], std=[1])])[0]['std']
        [1.0]
    """
    if not isinstance(value, list) or not value:
        raise ConventionError(f'{where}: metadata \'modalities\' must be a non-empty '
                              f'list, got {_short(value)}')
    out = []
    for item in value:
        key = f"modalities[{len(out)}]"
        if not isinstance(item, dict) or item.get('name') not in MODALITY_NAMES:
            raise ConventionError(f'{where}: metadata {key!r} must be a dict naming one '
                                  f'of {MODALITY_NAMES}, got {_short(item)}')
        channels = item.get('channels')
        order = item.get('channel_order')
        if (channels, order) not in ((3, 'bgr'), (3, 'rgb'), (1, None)) or \
                item.get('transform') not in (None, 'log'):
            raise ConventionError(f'{where}: metadata {key!r}: channels 3 with '
                                  'channel_order "bgr" or "rgb", or 1 without, and '
                                  f'transform null or "log"; got {_short(item)}')
        mean = _number_list(item.get('mean'), f'{key}.mean', where, channels)
        std = _number_list(item.get('std'), f'{key}.std', where, channels)
        if not all(v > 0 for v in std):
            raise ConventionError(f'{where}: metadata {key!r}: std must be positive, '
                                  f'got {std}')
        out.append(dict(item, mean=mean, std=std))
    names = [m['name'] for m in out]
    if len(set(names)) != len(names):
        raise ConventionError(f'{where}: metadata \'modalities\' names a modality '
                              f'twice: {names}')
    return out


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


def parse_convention(meta: Dict[str, str], where: str = 'model') -> Dict[str, Any]:
    """Read and check the input convention in an ONNX model's metadata.

    Args:
        meta (dict): ``metadata_props`` (key to JSON text).
        where (str): The model file, for messages. Defaults to ``'model'``.

    Returns:
        dict: The values of :data:`REQUIRED` and the :data:`OPTIONAL` keys present.

    Raises:
        ConventionError: A key is missing, is not JSON (or nested too deeply to
            parse), is longer than :data:`MAX_META_CHARS`, or has a value no
            image can be prepared with; the message names ``where`` and the key.

    Example:
        >>> meta = dict(mean='[104, 117, 123]', std='[1, 1, 1]',
        ...             channel_order='"bgr"', input='"image"', output='"logits"')
        >>> parse_convention(meta)['std']
        [1.0, 1.0, 1.0]
        >>> try:
        ...     parse_convention(dict(meta, std='[1, 0, 1]'), 'm.onnx')
        ... except ConventionError as e:
        ...     print(str(e)[:44])
        m.onnx: metadata 'std' must be positive (a s
    """
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ConventionError(f'{where}: no input convention in its metadata (missing '
                              f'{missing}); export it with mmseg-fcn-export')
    conv: Dict[str, Any] = {}
    for key in REQUIRED + OPTIONAL:
        if key not in meta:
            continue
        text = meta[key]
        if len(text) > MAX_META_CHARS:
            raise ConventionError(f'{where}: metadata {key!r} is {len(text):,} '
                                  f'characters long (at most {MAX_META_CHARS:,})')
        try:
            conv[key] = json.loads(text)
        except RecursionError:
            raise ConventionError(f'{where}: metadata {key!r} is nested too deeply '
                                  'to read') from None
        except ValueError as e:
            raise ConventionError(f'{where}: metadata {key!r} is not JSON: {e}') from None

    if isinstance(conv['input'], list):  # one input per modality (NYUDv2 RGB-D)
        conv['modalities'] = parse_modalities(conv.get('modalities'), where)
        if conv['input'] != [m['name'] for m in conv['modalities']]:
            raise ConventionError(f'{where}: metadata \'input\' {_short(conv["input"])} '
                                  'must list the modalities\' names in order')
    else:
        conv['mean'] = _number_list(conv['mean'], 'mean', where)
        conv['std'] = _number_list(conv['std'], 'std', where)
        if not all(s > 0 for s in conv['std']):
            raise ConventionError(f'{where}: metadata \'std\' must be positive (a std '
                                  f'of 0 divides by zero), got {conv["std"]}')
        if conv['channel_order'] not in ('bgr', 'rgb'):
            raise ConventionError(f'{where}: metadata \'channel_order\' must be "bgr" '
                                  f'or "rgb", got {_short(conv["channel_order"])}')
        if not isinstance(conv['input'], str) or not conv['input']:
            raise ConventionError(f'{where}: metadata \'input\' must name a tensor of '
                                  f'the graph, got {_short(conv["input"])}')
    if not isinstance(conv['output'], str) or not conv['output']:
        raise ConventionError(f'{where}: metadata \'output\' must name a tensor of '
                              f'the graph, got {_short(conv["output"])}')
    for key, expected in (('pixel_range', '0-255'), ('layout', 'NCHW')):
        if key in conv and conv[key] != expected:
            raise ConventionError(f'{where}: metadata {key!r} is {_short(conv[key])}; '
                                  f'this tool feeds {expected!r}')
    _check_labels(conv, where, '')
    if 'heads' in conv:
        _check_heads(conv['heads'], where)
    return conv


def _check_labels(conv: Dict[str, Any], where: str, prefix: str) -> None:
    """Check ``num_classes``, ``classes`` and ``palette`` of the convention or of
    one head (``prefix`` names it in the messages)."""
    num = conv.get('num_classes')
    if num is not None and (not isinstance(num, int) or isinstance(num, bool)
                            or not 1 <= num <= MAX_CLASSES):
        raise ConventionError(f'{where}: metadata \'{prefix}num_classes\' must be an '
                              f'integer 1-{MAX_CLASSES}, got {_short(num)}')
    classes = conv.get('classes')
    if classes is not None and (not isinstance(classes, list) or not all(
            isinstance(c, str) for c in classes) or len(classes) > MAX_CLASSES):
        raise ConventionError(f'{where}: metadata \'{prefix}classes\' must be a list '
                              f'of at most {MAX_CLASSES} names, got {_short(classes)}')
    palette = conv.get('palette')
    if palette is not None and (not isinstance(palette, list)
                                or len(palette) > MAX_CLASSES
                                or not all(_is_colour(c) for c in palette)):
        raise ConventionError(f'{where}: metadata \'{prefix}palette\' must be a list '
                              f'of at most {MAX_CLASSES} [r, g, b] colours of 0-255, '
                              f'got {_short(palette)}')


def _check_heads(heads: Any, where: str) -> None:
    """Check metadata ``heads``: per other head its ``output`` and labels."""
    if not isinstance(heads, dict) or len(heads) > MAX_HEADS:
        raise ConventionError(f'{where}: metadata \'heads\' must map at most '
                              f'{MAX_HEADS} head names to their outputs, got '
                              f'{_short(heads)}')
    for name, head in heads.items():
        if not re.fullmatch(r'[A-Za-z][A-Za-z0-9]*', name):
            raise ConventionError(f'{where}: metadata \'heads\' names a head '
                                  f'{_short(name)}; expected letters and digits')
        if not isinstance(head, dict) or not isinstance(head.get('output'), str) \
                or not head['output']:
            raise ConventionError(f'{where}: metadata \'heads.{name}\' must name its '
                                  f'output tensor, got {_short(head)}')
        _check_labels(head, where, f'heads.{name}.')


def _is_colour(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 3 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value))


def read_convention(session, path: str = 'model') -> Dict[str, Any]:
    """The checked input convention of an ``onnxruntime.InferenceSession``.

    Raises:
        ConventionError: See :func:`parse_convention`; also when the graph has no
            input or output of the names the metadata gives.
    """
    conv = parse_convention(session.get_modelmeta().custom_metadata_map, path)
    for key, tensors in (('input', session.get_inputs()),
                         ('output', session.get_outputs())):
        names = [t.name for t in tensors]
        wanted = conv[key] if isinstance(conv[key], list) else [conv[key]]
        if not set(wanted) <= set(names):
            raise ConventionError(f'{path}: metadata {key!r} names {conv[key]!r}, but '
                                  f'the graph\'s {key}s are {names}')
    outputs = [t.name for t in session.get_outputs()]
    for name, head in conv.get('heads', {}).items():
        if head['output'] not in outputs:
            raise ConventionError(f'{path}: metadata \'heads.{name}\' names output '
                                  f'{head["output"]!r}, but the graph\'s outputs are '
                                  f'{outputs}')
    return conv


def read_rgb(path: str, max_pixels: Optional[int] = MAX_PIXELS) -> np.ndarray:
    """An image file as RGB uint8 ``(H, W, 3)``, EXIF orientation applied (as
    OpenCV / mmcv read it).

    Args:
        path (str): The image.
        max_pixels (int, optional): Refuse images with more pixels, from the
            header, before decoding; it replaces PIL's own decompression-bomb
            limit. None or 0: PIL's ``Image.MAX_IMAGE_PIXELS`` alone (``main``
            lifts that too for ``--max-pixels 0``).

    Raises:
        ValueError: The file is not a readable image, or too large; names it.
    """
    pil_limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            if max_pixels:  # ours, checked below, replaces PIL's
                Image.MAX_IMAGE_PIXELS = None
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            img = Image.open(path)
    except Exception as e:  # noqa: BLE001  (PIL raises many kinds for foreign files)
        raise ValueError(f'cannot read image {path!r}: {e}') from None
    finally:
        Image.MAX_IMAGE_PIXELS = pil_limit
    with img:
        width, height = img.size
        if max_pixels and width * height > max_pixels:
            raise ValueError(
                f'image {path!r} is {width}x{height} = {width * height:,} pixels, '
                f'above the limit of {max_pixels:,} (--max-pixels; 0: no limit)')
        try:
            return np.asarray(ImageOps.exif_transpose(img).convert('RGB'))
        except Exception as e:  # noqa: BLE001  (decoders raise various errors)
            raise ValueError(f'cannot read image {path!r}: {e}') from None


def preprocess(rgb: np.ndarray, convention: dict) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)`` to the network input ``(1, 3, H, W)`` float32."""
    pixels = rgb[..., ::-1] if convention['channel_order'] == 'bgr' else rgb
    mean = np.asarray(convention['mean'], np.float32)
    std = np.asarray(convention['std'], np.float32)
    x = (pixels.astype(np.float32) - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def segment(session, rgb: np.ndarray, convention: dict,
            where: str = 'model') -> Tuple[np.ndarray, np.ndarray]:
    """Logits ``(1, C, H, W)`` and labels ``(H, W)`` of one RGB image.

    Raises:
        ValueError: The graph failed, or gave logits of another shape; names
            ``where`` (the model file).
    """
    try:
        logits = session.run([convention['output']],
                             {convention['input']: preprocess(rgb, convention)})[0]
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own types)
        raise ValueError(f'{where} failed on a {rgb.shape[1]}x{rgb.shape[0]} image: '
                         f'{e}') from None
    _check_logits(logits, convention, rgb.shape[:2], where)
    return logits, logits[0].argmax(0)


def _check_logits(logits, entry: dict, size: Tuple[int, int], where: str) -> None:
    """Raise unless ``logits`` is ``(1, C, H, W)`` for an image of ``size``, with
    ``C`` the ``num_classes`` of the metadata ``entry`` where it gives one."""
    num = entry.get('num_classes')
    if (getattr(logits, 'ndim', 0) != 4 or logits.shape[0] != 1
            or tuple(logits.shape[2:]) != tuple(size)
            or (num is not None and logits.shape[1] != num)):
        raise ValueError(f'{where}: output {entry["output"]!r} has shape '
                         f'{getattr(logits, "shape", None)}, not (1, '
                         f'{num or "C"}, {size[0]}, {size[1]})')


def read_modality(path: str, modality: dict,
                  max_pixels: Optional[int] = MAX_PIXELS) -> np.ndarray:
    """One modality's image as its network input ``(1, C, H, W)`` float32:
    ``(transform(value) - mean) / std``, 3 channels in the modality's order.

    Raises:
        ValueError: The file cannot be read, is not a single-channel integer image
            where one is needed, or has a value the transform cannot take (depth 0
            under ``log``); names the file.
    """
    if modality['channels'] == 3:
        rgb = read_rgb(path, max_pixels)  # the file's channel order
        x = (rgb[..., ::-1] if modality['channel_order'] == 'bgr' else rgb)
        x = x.astype(np.float32)
    else:
        try:
            with Image.open(path) as img:
                if max_pixels and img.size[0] * img.size[1] > max_pixels:
                    raise ValueError(f'image {path!r} is {img.size[0]}x{img.size[1]}, '
                                     f'above the limit of {max_pixels:,} (--max-pixels)')
                x = np.asarray(img)
        except OSError as e:
            raise ValueError(f'cannot read image {path!r}: {e}') from None
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f'{path}: a {modality["name"]} image must have one integer '
                             f'channel ({modality.get("stored_as", "")}), got shape '
                             f'{x.shape} {x.dtype}')
        x = x.astype(np.float32)[..., None]
    if modality['transform'] == 'log':
        zeros = int(np.count_nonzero(x <= 0))
        if zeros:
            raise ValueError(f'{path}: {zeros} pixels have {modality["name"]} 0 (no '
                             'measurement); its log would be -inf: fill them first')
        x = np.log(x)
    x = (x - np.asarray(modality['mean'], np.float32)) / np.asarray(modality['std'],
                                                                   np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def modality_inputs(path: str, name: str, convention: dict, dirs: Dict[str, str],
                    max_pixels: Optional[int] = MAX_PIXELS) -> Dict[str, np.ndarray]:
    """The inputs of a multi-modal model for one image: ``path`` is the first
    modality's file, each other one the file of the same name under its folder.

    Raises:
        ValueError: A file is missing or ambiguous, unreadable, or of another size
            than the first modality's; names the files.
    """
    feeds: Dict[str, np.ndarray] = {}
    first = None
    for k, modality in enumerate(convention['modalities']):
        file = path
        if k:
            folder = dirs[modality['name']]
            own = osp.join(folder, name + osp.splitext(path)[1])
            found = [own] if osp.isfile(own) else [
                osp.join(folder, name + s) for s in IMG_SUFFIXES
                if osp.isfile(osp.join(folder, name + s))]
            if len(found) != 1:
                raise ValueError(f'{path}: {"no" if not found else "more than one"} '
                                 f'{modality["name"]} image named {name} in {folder!r}'
                                 + (f': {found}' if found else ''))
            file = found[0]
        x = read_modality(file, modality, max_pixels)
        if first is None:
            first = (file, x.shape[2:])
        elif x.shape[2:] != first[1]:
            raise ValueError(f'{file} is {x.shape[2]}x{x.shape[3]} (HxW) but {first[0]} '
                             f'is {first[1][0]}x{first[1][1]}')
        feeds[modality['name']] = x
    return feeds


def segment_modalities(session, feeds: Dict[str, np.ndarray], convention: dict,
                       where: str = 'model') -> np.ndarray:
    """Labels ``(H, W)`` of a multi-modal model for its inputs ``feeds``."""
    size = next(iter(feeds.values())).shape[2:]
    try:
        logits = session.run([convention['output']], feeds)[0]
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own types)
        raise ValueError(f'{where} failed on a {size[1]}x{size[0]} image: {e}') from None
    _check_logits(logits, convention, size, where)
    return logits[0].argmax(0)


def segment_heads(session, rgb: np.ndarray, convention: dict,
                  where: str = 'model') -> Dict[Optional[str], np.ndarray]:
    """Labels ``(H, W)`` of every head of one RGB image: None for the primary
    (``output``), then each of metadata ``heads`` by name; one run of the graph.

    Raises:
        ValueError: The graph failed, or an output has another shape; names
            ``where`` (the model file).
    """
    heads = convention.get('heads', {})
    names = [None] + list(heads)
    entries = [convention] + [heads[n] for n in heads]
    try:
        outputs = session.run([e['output'] for e in entries],
                              {convention['input']: preprocess(rgb, convention)})
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own types)
        raise ValueError(f'{where} failed on a {rgb.shape[1]}x{rgb.shape[0]} image: '
                         f'{e}') from None
    labels = {}
    for name, entry, logits in zip(names, entries, outputs):
        _check_logits(logits, entry, rgb.shape[:2], where)
        labels[name] = logits[0].argmax(0)
    return labels


def label_png(labels: np.ndarray, palette: Optional[List[List[int]]]) -> Image.Image:
    """A palette PNG image whose pixel values are the class indices."""
    if labels.max(initial=0) > 255:
        raise ValueError('more than 256 classes do not fit a palette PNG')
    img = Image.fromarray(labels.astype(np.uint8))
    flat = [int(v) for color in (palette or []) for v in color][:768]
    img.putpalette(flat + [0] * (768 - len(flat)))  # 'L' becomes 'P'
    return img


def collect(inputs: List[str]) -> List[Tuple[str, str]]:
    """``(path, output name)`` of the images named by files and folders."""
    found = []
    for item in inputs:
        if osp.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for name in sorted(files):
                    if name.lower().endswith(IMG_SUFFIXES):
                        path = osp.join(root, name)
                        found.append((path, osp.splitext(osp.relpath(path, item))[0]))
        elif osp.isfile(item):
            found.append((item, osp.splitext(osp.basename(item))[0]))
        else:
            raise ValueError(f'input {item!r} does not exist')
    if not found:
        raise ValueError(f'no images ({", ".join(IMG_SUFFIXES)}) in {inputs}')
    return found


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='mmseg-fcn-infer-onnx', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', help='ONNX file from mmseg-fcn-export')
    parser.add_argument('inputs', nargs='+', help='image files and/or folders')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--max-pixels', type=int, default=MAX_PIXELS,
                        help='refuse images with more pixels (width x height); 0: no '
                        f'limit (default {MAX_PIXELS})')
    for name in MODALITY_NAMES:
        parser.add_argument(f'--{name}', metavar='DIR', default=None,
                            help=f'multi-modal models: folder of the {name} images, '
                            'matched to the inputs by file name')
    return parser.parse_args(argv)


def check_modality_dirs(convention: dict, dirs: Dict[str, str], where: str) -> None:
    """Raise ValueError unless ``dirs`` gives exactly the folders the model needs
    besides its inputs, explaining the form."""
    names = [m['name'] for m in convention.get('modalities') or []] \
        if isinstance(convention['input'], list) else []
    if not names:
        if dirs:
            raise ValueError(f'{where} takes one image per sample; '
                             f'--{", --".join(dirs)} apply to multi-modal models')
        return
    if set(dirs) != set(names[1:]):
        raise ValueError(f'{where} reads {names}: give the {names[0]} images as inputs '
                         'and ' + ' and '.join(f'--{m} DIR' for m in names[1:]) +
                         ' (images of the same file names)')
    for name, folder in dirs.items():
        if not osp.isdir(folder):
            raise ValueError(f'--{name} {folder!r} is not a folder')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        import onnxruntime as ort
    except ImportError as e:
        print(f'error: {e}; install it: pip install onnxruntime', file=sys.stderr)
        return 1
    try:
        session = ort.InferenceSession(args.model, providers=['CPUExecutionProvider'])
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own types)
        print(f'error: cannot load {args.model!r}: {e}', file=sys.stderr)
        return 1
    if not args.max_pixels:
        Image.MAX_IMAGE_PIXELS = None  # the user lifted the limit: PIL's too
    try:
        convention = read_convention(session, args.model)
        dirs = {m: getattr(args, m) for m in MODALITY_NAMES
                if getattr(args, m) is not None}
        check_modality_dirs(convention, dirs, args.model)
        images = collect(args.inputs)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    counts: Dict[int, int] = {}
    failures: List[Tuple[str, str]] = []
    heads = convention.get('heads', {})
    for path, name in images:
        out = osp.join(args.out_dir, name + '.png')
        try:
            if isinstance(convention['input'], list):
                maps = {None: segment_modalities(session, modality_inputs(
                    path, name, convention, dirs, args.max_pixels), convention,
                    args.model)}
            else:
                maps = segment_heads(session, read_rgb(path, args.max_pixels),
                                     convention, args.model)
            os.makedirs(osp.dirname(out), exist_ok=True)
            labels = maps.pop(None)
            label_png(labels, convention.get('palette')).save(out)
            for head, head_labels in maps.items():
                out = osp.join(args.out_dir, f'{name}_{head}.png')
                label_png(head_labels, heads[head].get('palette')).save(out)
        except ValueError as e:
            failures.append((path, str(e)))
            print(f'failed: {path}: {e}', file=sys.stderr)
            continue
        except OSError as e:
            print(f'error: cannot write {out!r}: {e.strerror or e}', file=sys.stderr)
            return 1
        for value, count in zip(*np.unique(labels, return_counts=True)):
            counts[int(value)] = counts.get(int(value), 0) + int(count)
    classes = convention.get('classes') or []
    names = {i: classes[i] if i < len(classes) else str(i) for i in counts}
    written = (len(images) - len(failures)) * (1 + len(heads))
    print(f'wrote {written} label PNGs under {args.out_dir}; pixels per class: '
          + ', '.join(f'{names[i]} {counts[i]}' for i in sorted(counts)))
    if failures:
        print(f'error: {len(failures)} of {len(images)} images failed:', file=sys.stderr)
        for path, message in failures:
            print(f'  {path}: {message}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

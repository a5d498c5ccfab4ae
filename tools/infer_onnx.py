"""Segment images with an ONNX file written by tools/export.py, without mmseg or torch.

Needs only numpy, Pillow and onnxruntime. The input convention (channel order,
mean, std) and the classes / palette come from the model's metadata_props, which
tools/export.py writes. For each image, writes <out-dir>/<stem>.png: a palette PNG
whose pixel values are the class indices.

A multi-modal model (NYUDv2 colour + HHA or depth, exported with one input per
modality) takes the first modality's images as inputs and the others from --hha DIR
/ --depth DIR, matched by file name; the metadata's 'modalities' say how each is
prepared (HHA in file channel order, depth as the log of the 16-bit value).

Example:
  python tools/infer_onnx.py fcn8s_voc.onnx photo.jpg photos/ --out-dir out
  python tools/infer_onnx.py nyud_color_hha.onnx nyud/data/images --hha nyud/data/hha \
      --out-dir out
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
REQUIRED = ('mean', 'std', 'channel_order', 'input', 'output')


def read_convention(session: ort.InferenceSession, path: str = 'model') -> dict:
    """The input convention stored by tools/export.py (every value is JSON)."""
    meta = session.get_modelmeta().custom_metadata_map
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ValueError(f'{path}: no input convention in its metadata (missing '
                         f'{missing}); export it with tools/export.py')
    return {key: json.loads(value) for key, value in meta.items()}


def read_rgb(path: str) -> np.ndarray:
    """An image file as RGB uint8 ``(H, W, 3)``, EXIF orientation applied (as
    OpenCV / mmcv read it)."""
    try:
        with Image.open(path) as img:
            return np.asarray(ImageOps.exif_transpose(img).convert('RGB'))
    except OSError as e:
        raise ValueError(f'cannot read image {path!r}: {e}') from None


def preprocess(rgb: np.ndarray, convention: dict) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)`` to the network input ``(1, 3, H, W)`` float32."""
    pixels = rgb[..., ::-1] if convention['channel_order'] == 'bgr' else rgb
    mean = np.asarray(convention['mean'], np.float32)
    std = np.asarray(convention['std'], np.float32)
    x = (pixels.astype(np.float32) - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def segment(session: ort.InferenceSession, rgb: np.ndarray,
            convention: dict) -> Tuple[np.ndarray, np.ndarray]:
    """Logits ``(1, C, H, W)`` and labels ``(H, W)`` of one RGB image."""
    logits = session.run([convention['output']],
                         {convention['input']: preprocess(rgb, convention)})[0]
    return logits, logits[0].argmax(0)


def read_modality(path: str, modality: dict) -> np.ndarray:
    """One modality's image as the network input ``(1, C, H, W)`` float32:
    ``(transform(value) - mean) / std`` in the modality's channel order."""
    if modality['channels'] == 3:
        rgb = read_rgb(path)  # the file's order
        x = rgb[..., ::-1] if modality['channel_order'] == 'bgr' else rgb
        x = x.astype(np.float32)
    else:
        try:
            with Image.open(path) as img:
                x = np.asarray(img)
        except OSError as e:
            raise ValueError(f'cannot read image {path!r}: {e}') from None
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f'{path}: a {modality["name"]} image must be a '
                             f'single-channel integer image ({modality["stored_as"]})')
        x = x.astype(np.float32)[..., None]
    if modality['transform'] == 'log':
        zeros = int(np.count_nonzero(x == 0))
        if zeros:
            raise ValueError(f'{path}: {zeros} pixels have {modality["name"]} 0 (no '
                             'measurement); log(0) would be -inf: fill them first')
        x = np.log(x)
    x = (x - np.asarray(modality['mean'], np.float32)) / np.asarray(
        modality['std'], np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def modality_inputs(path: str, name: str, convention: dict,
                    dirs: Dict[str, str]) -> Dict[str, np.ndarray]:
    """The inputs of a multi-modal model for one image: ``path`` is the first
    modality's file, the others have the same name in their folders."""
    feeds, size = {}, None
    for k, modality in enumerate(convention['modalities']):
        file = path
        if k:
            folder = dirs[modality['name']]
            own = osp.join(folder, name + osp.splitext(path)[1])
            found = [own] if osp.isfile(own) else [
                osp.join(folder, name + s) for s in IMG_SUFFIXES
                if osp.isfile(osp.join(folder, name + s))]
            if len(found) != 1:
                raise ValueError(f'{path}: no single {modality["name"]} image named '
                                 f'{name} in {folder!r} ({found or "none"})')
            file = found[0]
        x = read_modality(file, modality)
        if size is not None and x.shape[2:] != size[1]:
            raise ValueError(f'{file} is {x.shape[2]}x{x.shape[3]} but {size[0]} is '
                             f'{size[1][0]}x{size[1][1]}')
        size = size or (file, x.shape[2:])
        feeds[modality['name']] = x
    return feeds


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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', help='ONNX file from tools/export.py')
    parser.add_argument('inputs', nargs='+', help='image files and/or folders')
    parser.add_argument('--out-dir', required=True, help='output folder')
    for name in ('color', 'hha', 'depth'):
        parser.add_argument(f'--{name}', metavar='DIR', default=None,
                            help=f'multi-modal models: folder of the {name} images')
    args = parser.parse_args(argv)
    try:
        session = ort.InferenceSession(args.model, providers=['CPUExecutionProvider'])
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own types)
        print(f'error: cannot load {args.model!r}: {e}', file=sys.stderr)
        return 1
    try:
        convention = read_convention(session, args.model)
        multimodal = isinstance(convention['input'], list)
        dirs = {m: getattr(args, m) for m in ('color', 'hha', 'depth')
                if getattr(args, m) is not None}
        if multimodal:
            names = [m['name'] for m in convention['modalities']]
            if set(dirs) != set(names[1:]):
                raise ValueError(
                    f'{args.model} reads {names}: give the {names[0]} images as '
                    'inputs and ' + ' and '.join(f'--{m} DIR' for m in names[1:]) +
                    ' (same file names)')
        elif dirs:
            raise ValueError(f'{args.model} takes one image; --{", --".join(dirs)} '
                             'apply to multi-modal models')
        images = collect(args.inputs)
        counts: Dict[int, int] = {}
        for path, name in images:
            if multimodal:
                logits = session.run([convention['output']], modality_inputs(
                    path, name, convention, dirs))[0]
                labels = logits[0].argmax(0)
            else:
                _, labels = segment(session, read_rgb(path), convention)
            out = osp.join(args.out_dir, name + '.png')
            os.makedirs(osp.dirname(out), exist_ok=True)
            label_png(labels, convention.get('palette')).save(out)
            for value, count in zip(*np.unique(labels, return_counts=True)):
                counts[int(value)] = counts.get(int(value), 0) + int(count)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    classes = convention.get('classes') or []
    names = {i: classes[i] if i < len(classes) else str(i) for i in counts}
    print(f'wrote {len(images)} label PNGs under {args.out_dir}; pixels per class: '
          + ', '.join(f'{names[i]} {counts[i]}' for i in sorted(counts)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

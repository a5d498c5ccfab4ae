"""Segment images with an ONNX file written by tools/export.py, without mmseg or torch.

Needs only numpy, Pillow and onnxruntime. The input convention (channel order,
mean, std) and the classes / palette come from the model's metadata_props, which
tools/export.py writes. For each image, writes <out-dir>/<stem>.png: a palette PNG
whose pixel values are the class indices. A multi-head export (SIFT Flow's
semantic + geometric net) also gives <out-dir>/<stem>_<head>.png per other head
(<stem>_geo.png), in that head's colours.

Example:
  python tools/infer_onnx.py fcn8s_voc.onnx photo.jpg photos/ --out-dir out
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


def segment_heads(session: ort.InferenceSession, rgb: np.ndarray,
                  convention: dict) -> Dict[Optional[str], np.ndarray]:
    """Labels ``(H, W)`` of every head (None: the primary) of one RGB image."""
    heads = convention.get('heads', {})
    names = [None] + list(heads)
    outputs = [convention['output']] + [heads[n]['output'] for n in heads]
    logits = session.run(outputs, {convention['input']: preprocess(rgb, convention)})
    return {name: out[0].argmax(0) for name, out in zip(names, logits)}


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
    args = parser.parse_args(argv)
    try:
        session = ort.InferenceSession(args.model, providers=['CPUExecutionProvider'])
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own types)
        print(f'error: cannot load {args.model!r}: {e}', file=sys.stderr)
        return 1
    try:
        convention = read_convention(session, args.model)
        images = collect(args.inputs)
        counts: Dict[int, int] = {}
        heads = convention.get('heads', {})
        for path, name in images:
            maps = segment_heads(session, read_rgb(path), convention)
            out = osp.join(args.out_dir, name + '.png')
            os.makedirs(osp.dirname(out), exist_ok=True)
            labels = maps.pop(None)
            label_png(labels, convention.get('palette')).save(out)
            for head, head_labels in maps.items():
                label_png(head_labels, heads[head].get('palette')).save(
                    osp.join(args.out_dir, f'{name}_{head}.png'))
            for value, count in zip(*np.unique(labels, return_counts=True)):
                counts[int(value)] = counts.get(int(value), 0) + int(count)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    classes = convention.get('classes') or []
    names = {i: classes[i] if i < len(classes) else str(i) for i in counts}
    print(f'wrote {len(images) * (1 + len(heads))} label PNGs under {args.out_dir}; '
          'pixels per class: '
          + ', '.join(f'{names[i]} {counts[i]}' for i in sorted(counts)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""A small synthetic polyp dataset in the polyps912 on-disk layout, for the demo.

Frames are colonoscopy-like: textured pinkish mucosa with darker vessels, one or two
reddish, shaded polyps with a specular highlight, and the black border of the
endoscope's field of view. Masks use the ``masks2`` convention of polyps912
(0 background, 1 polyp, 2 void border). Everything follows from ``seed``.
"""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np

#: frames per split, like polyps912's train/valid/test, only smaller
DEFAULT_COUNTS: Dict[str, int] = {'train': 80, 'valid': 20, 'test': 20}


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    small = rng.standard_normal((max(2, h // scale), max(2, w // scale))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def synth_frame(rng: np.random.Generator, h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one frame and its ``masks2`` label.

    Args:
        rng (np.random.Generator): Source of randomness.
        h (int): Height in pixels.
        w (int): Width in pixels.

    Returns:
        tuple: BGR ``uint8`` image (h, w, 3) and ``uint8`` mask (h, w) with values
        0 (background), 1 (polyp) and 2 (void).
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # mucosa: pink base, low-frequency shading and fine texture
    base = np.array([125, 135, 205], np.float32) + rng.normal(0, 12, 3)
    shade = 1.0 + 0.18 * _smooth_noise(rng, h, w, 24)
    img = base[None, None, :] * shade[..., None]
    img += 6.0 * _smooth_noise(rng, h, w, 3)[..., None]
    for _ in range(rng.integers(2, 5)):  # vessels: dark thin curves
        pts = np.cumsum(rng.normal(0, 9, (6, 2)), 0) + rng.uniform(0, [w, h])
        cv2.polylines(img, [pts.astype(np.int32)], False,
                      (70.0, 60.0, 120.0), int(rng.integers(1, 3)))
    img = cv2.GaussianBlur(img, (3, 3), 0)

    mask = np.zeros((h, w), np.uint8)
    for _ in range(rng.integers(1, 3)):
        cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
        ry, rx = rng.uniform(0.09, 0.2) * h, rng.uniform(0.09, 0.2) * w
        ang = rng.uniform(0, np.pi)
        dy, dx = yy - cy, xx - cx
        u = (dx * np.cos(ang) + dy * np.sin(ang)) / rx
        v = (-dx * np.sin(ang) + dy * np.cos(ang)) / ry
        r2 = u ** 2 + v ** 2 + 0.15 * _smooth_noise(rng, h, w, 8)
        inside = r2 < 1.0
        dome = np.clip(1.0 - r2, 0, 1)[..., None]
        polyp = np.array([70, 80, 190], np.float32) + rng.normal(0, 10, 3)
        img = np.where(inside[..., None], polyp * (0.75 + 0.45 * dome), img)
        glint = np.exp(-((u + 0.3) ** 2 + (v + 0.3) ** 2) / 0.02)[..., None]
        img = img + 110 * glint * inside[..., None]
        mask[inside] = 1
    img += rng.normal(0, 4, img.shape)

    # field of view: an ellipse with clipped corners; outside it is the void border
    fov = ((yy - h / 2) / (0.62 * h)) ** 2 + ((xx - w / 2) / (0.62 * w)) ** 2 < 1.0
    img[~fov] = rng.uniform(0, 12)
    mask[~fov] = 2
    return np.clip(img, 0, 255).astype(np.uint8), mask


def make_demo_dataset(root: str,
                      counts: Dict[str, int] = DEFAULT_COUNTS,
                      size_range: Tuple[int, int] = (88, 120),
                      seed: int = 0) -> str:
    """Write ``<root>/{split}/images/*.bmp`` and ``<root>/{split}/masks2/*.tif``.

    Args:
        root (str): Output folder; created if missing.
        counts (dict): Frames per split. Defaults to 80/20/20.
        size_range (tuple): Inclusive range of frame heights and widths, so frames
            vary in size as polyps912's do. Defaults to (88, 120).
        seed (int): Seed; the same seed writes the same files. Defaults to 0.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    index = 1
    for split, n in counts.items():
        os.makedirs(osp.join(root, split, 'images'), exist_ok=True)
        os.makedirs(osp.join(root, split, 'masks2'), exist_ok=True)
        for _ in range(n):
            h, w = (int(v) for v in rng.integers(size_range[0], size_range[1] + 1, 2))
            img, mask = synth_frame(rng, h, w)
            stem = f'{index:03d}'
            index += 1
            if not cv2.imwrite(osp.join(root, split, 'images', stem + '.bmp'), img):
                raise OSError(f'could not write {stem}.bmp under {root}')
            if not cv2.imwrite(osp.join(root, split, 'masks2', stem + '.tif'), mask):
                raise OSError(f'could not write {stem}.tif under {root}')
    return root


def ensure_demo_dataset(root: str, seed: int = 0) -> bool:
    """Generate the demo dataset unless ``root`` already holds it.

    Args:
        root (str): Dataset folder.
        seed (int): Seed for a fresh dataset. Defaults to 0.

    Returns:
        bool: True when the dataset was generated now.
    """
    done = osp.join(root, '.complete')
    if osp.isfile(done):
        return False
    make_demo_dataset(root, seed=seed)
    with open(done, 'w') as f:
        f.write(f'seed={seed}\n')
    return True

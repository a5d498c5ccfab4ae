"""Synthetic data in the real on-disk formats: one writer per format.

* :func:`write_polyps912`: the polyps912 (EndoScene "polyps_split7") layout,
  ``{split}/images/<id>.bmp`` and ``{split}/masks<N>/<id>.tif``. Two contents use
  it: :func:`make_demo_dataset` (colonoscopy-like frames, :func:`synth_frame`) and
  :func:`make_polyps912_tree` (small noise frames for tests).
* :func:`make_siftflow_tree`: SIFT Flow's ``Images`` (jpg), ``SemanticLabels`` and
  ``GeoLabels`` (``.mat`` files with ``S``, written by scipy) and split lists.
* :func:`make_voc_sbd_tree`: ``VOCdevkit/VOC2012`` (jpg, palette png labels with
  a 255 boundary band, ``ImageSets/Segmentation`` lists) next to
  ``benchmark_RELEASE/dataset`` (jpg, SBD ``cls/*.mat`` structs, lists), through
  :func:`write_palette_png` and :func:`write_sbd_mat`.
* :func:`make_nyud_tree`: NYUDv2 as the reference's ``nyud.tar.gz`` extracts
  (colour / HHA png, 16-bit depth png, ``segmentation/*.mat``, split lists),
  through :func:`write_depth_png` and :func:`write_nyud_mat`.
* :func:`make_pascal_context_tree`: VOC2010 images and ``Main`` lists next to
  PASCAL-Context's ``trainval/*.mat`` (``LabelMap``), ``labels.txt`` (all 459 raw
  labels) and ``59_labels.txt``; :func:`make_mmseg_context_tree`: mmseg's PNG
  layout of the same data.

Images are BGR ``uint8`` arrays, as mmcv reads them. Everything follows from
``seed``.
"""
import os
import os.path as osp
import struct
import zlib
from typing import Callable, Dict, List, Mapping, Sequence, Tuple, Union

import cv2
import numpy as np
from PIL import Image

from ..datasets.pascal_context import CONTEXT59_CLASSES
from ..visualization.palette import voc_palette

#: frames per split of the demo data, like polyps912's train/valid/test, only smaller
DEFAULT_COUNTS: Dict[str, int] = {'train': 80, 'valid': 20, 'test': 20}
#: Default id lists of :func:`make_voc_sbd_tree`. Like the real data, VOC train /
#: val are disjoint and so are SBD train / val, while SBD overlaps both VOC lists.
VOC_TRAIN = ('2007_000032', '2007_000039', '2008_000008', '2008_000015')
VOC_VAL = ('2007_000033', '2007_000042', '2008_000009')
SBD_TRAIN = ('2008_000008', '2008_000009', '2008_000020', '2008_000023',
             '2008_000026')
SBD_VAL = ('2007_000042', '2008_000015', '2008_000030', '2008_000033')
#: JPEG quality of the written VOC / SBD images.
JPEG_QUALITY = 90

Size = Tuple[int, int]
#: ``draw(rng, h, w) -> (BGR image, boolean object mask)`` of one VOC / SBD sample.
ObjectFrame = Callable[[np.random.Generator, int, int], Tuple[np.ndarray, np.ndarray]]


def _imwrite(path: str, img: np.ndarray, params: Sequence[int] = ()) -> None:
    if not cv2.imwrite(path, img, list(params)):
        raise OSError(f'could not write {path}')


# --- frames -----------------------------------------------------------------------

def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    small = rng.standard_normal((max(2, h // scale), max(2, w // scale))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def synth_frame(rng: np.random.Generator, h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one colonoscopy-like frame and its ``masks2`` label.

    Textured pinkish mucosa with darker vessels, one or two reddish, shaded polyps
    with a specular highlight, and the black border of the endoscope's field of
    view. JPEG / BMP coding costs what it costs on real frames, not on noise.

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


def _noise_image(rng: np.random.Generator, size: Size) -> np.ndarray:
    h, w = size
    base = rng.integers(40, 200, size=3)
    noise = rng.integers(0, 40, size=(h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _erode(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] &= mask[:-1]
    out[:-1] &= mask[1:]
    out[:, 1:] &= mask[:, :-1]
    out[:, :-1] &= mask[:, 1:]
    return out


def _dilate(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def polyp_mask(size: Size, num_classes: int, rng: np.random.Generator,
               border: int = 2) -> np.ndarray:
    """A ``masks<num_classes>`` label: background 0, a polyp (1), lumen (2) and
    specularity (3) blobs as ``num_classes`` allows, and the void value
    ``num_classes`` on an image border ``border`` pixels wide."""
    h, w = size
    seg = np.zeros((h, w), dtype=np.uint8)
    yy, xx = np.mgrid[:h, :w]
    cy = rng.integers(h // 3, 2 * h // 3 + 1)
    cx = rng.integers(w // 3, 2 * w // 3 + 1)
    seg[((yy - cy) / (h / 5))**2 + ((xx - cx) / (w / 5))**2 <= 1] = 1
    if num_classes >= 3:
        seg[border + 1:border + 1 + h // 6, border + 1:border + 1 + w // 6] = 2
    if num_classes >= 4:
        seg[h - border - 3:h - border - 1, w - border - 3:w - border - 1] = 3
    seg[:border] = seg[-border:] = num_classes
    seg[:, :border] = seg[:, -border:] = num_classes
    return seg


def box_frame(rng: np.random.Generator, h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """A noise image and one box-shaped object well inside it: cheap test content
    for :func:`make_voc_sbd_tree`."""
    img = _noise_image(rng, (h, w))
    y0, x0 = rng.integers(2, h // 3), rng.integers(2, w // 3)
    y1, x1 = rng.integers(2 * h // 3, h - 2), rng.integers(2 * w // 3, w - 2)
    obj = np.zeros((h, w), dtype=bool)
    obj[y0:y1, x0:x1] = True
    return img, obj


# --- polyps912 --------------------------------------------------------------------

def write_polyps912(root: str, counts: Mapping[str, int],
                    draw: Callable[[int], Tuple[np.ndarray, Dict[str, np.ndarray]]],
                    mask_dirs: Sequence[str] = ('masks2', ),
                    id_format: str = '{}') -> Dict[str, List[str]]:
    """Write frames in the polyps912 layout.

    ``root/{split}/images/<id>.bmp`` and ``root/{split}/<mask_dir>/<id>.tif``, the
    splits in the order of ``counts``; ids number the frames from 1 across the
    splits. Every folder is created, also for a split without frames.

    Args:
        root (str): Folder to write into (created).
        counts (Mapping[str, int]): Frames per split, e.g. ``{'train': 4}``.
        draw (Callable): Frame number (from 1) -> BGR image and
            ``{mask_dir: uint8 mask}``.
        mask_dirs (Sequence[str]): Mask folders. Defaults to ``('masks2',)``.
        id_format (str): Id of a frame number. Defaults to ``'{}'`` (``1``,
            ``2``, ...).

    Returns:
        dict[str, list[str]]: The ids of each split.

    Raises:
        OSError: If a file cannot be written.
    """
    ids: Dict[str, List[str]] = {}
    frame = 0
    for split, count in counts.items():
        for sub in ('images', *mask_dirs):
            os.makedirs(osp.join(root, split, sub), exist_ok=True)
        ids[split] = []
        for _ in range(count):
            frame += 1
            sample_id = id_format.format(frame)
            img, masks = draw(frame)
            _imwrite(osp.join(root, split, 'images', sample_id + '.bmp'), img)
            for mask_dir in mask_dirs:
                _imwrite(osp.join(root, split, mask_dir, sample_id + '.tif'),
                         masks[mask_dir])
            ids[split].append(sample_id)
    return ids


def make_demo_dataset(root: str,
                      counts: Mapping[str, int] = DEFAULT_COUNTS,
                      size_range: Tuple[int, int] = (88, 120),
                      seed: int = 0) -> str:
    """Write the demo data: :func:`synth_frame` frames in the polyps912 layout.

    Ids are zero-padded (``001.bmp``, ``001.tif`` in ``masks2``).

    Args:
        root (str): Output folder; created if missing.
        counts (Mapping[str, int]): Frames per split. Defaults to 80/20/20.
        size_range (tuple): Inclusive range of frame heights and widths, so frames
            vary in size as polyps912's do. Defaults to (88, 120).
        seed (int): Seed; the same seed writes the same files. Defaults to 0.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)

    def draw(_):
        h, w = (int(v) for v in rng.integers(size_range[0], size_range[1] + 1, 2))
        img, mask = synth_frame(rng, h, w)
        return img, {'masks2': mask}

    write_polyps912(root, counts, draw, id_format='{:03d}')
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


def make_polyps912_tree(root: str,
                        counts: Sequence[int] = (4, 2, 2),
                        sizes: Sequence[Size] = ((30, 40), (28, 36)),
                        mask_dir: Union[str, Sequence[str]] = 'masks2',
                        seed: int = 0) -> Dict[str, List[str]]:
    """Write a small polyps912 tree of noise frames for tests.

    Ids are frame numbers ``'1'``, ``'2'``... across the splits. A mask folder
    ``masksN`` holds :func:`polyp_mask` labels: classes 0..N-1 and void = N on
    the image border.

    Args:
        root (str): Folder to write into (created).
        counts (Sequence[int]): Frames of train, valid, test. Defaults to
            (4, 2, 2).
        sizes (Sequence[tuple]): (height, width) of the frames, cycled so that
            sizes vary. Defaults to ((30, 40), (28, 36)).
        mask_dir (str | Sequence[str]): Mask folder(s) to write, each named
            ``masks<N>``. Defaults to ``'masks2'``.
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict[str, list[str]]: The ids of each split.
    """
    rng = np.random.default_rng(seed)
    mask_dirs = [mask_dir] if isinstance(mask_dir, str) else list(mask_dir)

    def draw(frame):
        size = tuple(sizes[(frame - 1) % len(sizes)])
        img = _noise_image(rng, size)
        return img, {d: polyp_mask(size, int(d[len('masks'):]), rng) for d in mask_dirs}

    return write_polyps912(root, dict(zip(('train', 'valid', 'test'), counts)), draw,
                           mask_dirs)


# --- VOC2012 + SBD ----------------------------------------------------------------

def write_palette_png(path: str, seg: np.ndarray) -> None:
    """Save class indices as a VOC palette ('P' mode) PNG."""
    img = Image.fromarray(seg.astype(np.uint8))  # 'L'; a palette makes it 'P'
    img.putpalette(voc_palette())
    img.save(path)


def write_png_header_only(path: str, width: int, height: int) -> None:
    """A PNG (8-bit RGB) whose header declares ``width`` x ``height``, with almost no
    pixel data: a decompression bomb's size in a few bytes, for the pixel limits.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> path = osp.join(tempfile.mkdtemp(), 'bomb.png')
        >>> write_png_header_only(path, 8000, 6000)
        >>> Image.open(path).size, os.path.getsize(path) < 100
        ((8000, 6000), True)
    """
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
                chunk(b'IDAT', zlib.compress(b'\0' * 64)) + chunk(b'IEND', b''))


def write_sbd_mat(path: str, seg: np.ndarray, num_classes: int = 20) -> None:
    """Save a label map as SBD does: struct ``GTcls`` in a compressed v5 file.

    ``Segmentation`` is the ``uint8`` label map, ``Boundaries`` a
    ``num_classes`` x 1 cell of sparse maps of each class's inner edge,
    ``CategoriesPresent`` a column of the present class ids.
    """
    import scipy.io
    import scipy.sparse
    seg = seg.astype(np.uint8)
    boundaries = np.empty((num_classes, 1), dtype=object)
    for k in range(num_classes):
        mask = seg == k + 1
        boundaries[k, 0] = scipy.sparse.csc_matrix(mask & ~_erode(mask))
    present = np.array([c for c in np.unique(seg) if 0 < c <= num_classes],
                       dtype=np.uint8).reshape(-1, 1)
    scipy.io.savemat(
        path, {'GTcls': {'Segmentation': seg, 'Boundaries': boundaries,
                         'CategoriesPresent': present}},
        do_compression=True)


def _write_list(path: str, ids: Sequence[str]) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(i + '\n' for i in ids))


def make_voc_sbd_tree(root: str,
                      voc_train: Sequence[str] = VOC_TRAIN,
                      voc_val: Sequence[str] = VOC_VAL,
                      sbd_train: Sequence[str] = SBD_TRAIN,
                      sbd_val: Sequence[str] = SBD_VAL,
                      sizes: Sequence[Size] = ((30, 40), (40, 30)),
                      voc: bool = True,
                      sbd: bool = True,
                      voc_dir: str = 'VOCdevkit/VOC2012',
                      sbd_dir: str = 'benchmark_RELEASE/dataset',
                      extra_voc_images: Sequence[str] = ('2012_000003', ),
                      draw: ObjectFrame = box_frame,
                      seed: int = 0) -> dict:
    """Write VOC2012 and SBD trees under ``root`` as their archives extract.

    Each id gets one image (the same file content in VOC ``JPEGImages`` and SBD
    ``img`` when both list it) and one object of a class 1..20. VOC labels are
    palette PNGs with a 255 band around the object; SBD labels are ``GTcls``
    ``.mat`` structs of the same object without the band, so the source of a
    loaded label can be told by its 255 pixels. ``extra_voc_images`` are
    detection-only JPEGs without a segmentation label, as in the real VOC.

    Args:
        root (str): Folder to write into.
        voc_train, voc_val, sbd_train, sbd_val (Sequence[str]): Id lists.
        sizes (Sequence[tuple]): (height, width) per id in sorted id order,
            cycled. Defaults to ((30, 40), (40, 30)).
        voc (bool): Write the VOC tree. Defaults to True.
        sbd (bool): Write the SBD tree. Defaults to True.
        voc_dir (str): Defaults to ``'VOCdevkit/VOC2012'``.
        sbd_dir (str): Defaults to ``'benchmark_RELEASE/dataset'``.
        extra_voc_images (Sequence[str]): Unlabelled VOC JPEGs.
        draw (Callable): ``(rng, h, w) -> (BGR image, object mask)``. Defaults
            to :func:`box_frame`.
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: The id lists (``voc_train``, ``voc_val``, ``sbd_train``,
        ``sbd_val``), the expected ``trainaug`` list (sorted), ``overlap`` (ids
        with both a VOC and an SBD label), ``classes`` (id -> object class),
        ``sizes`` (id -> (h, w)) and the folders ``voc_root`` and ``sbd_root``.
    """
    rng = np.random.default_rng(seed)
    voc_ids = list(dict.fromkeys(list(voc_train) + list(voc_val)))
    sbd_ids = list(dict.fromkeys(list(sbd_train) + list(sbd_val)))
    all_ids = sorted(set(voc_ids) | set(sbd_ids) | set(extra_voc_images))
    voc_root, sbd_root = osp.join(root, voc_dir), osp.join(root, sbd_dir)
    classes, id_sizes, images, labels = {}, {}, {}, {}
    for n, sample_id in enumerate(all_ids):
        id_sizes[sample_id] = tuple(sizes[n % len(sizes)])
        classes[sample_id] = int(rng.integers(1, 21))
        images[sample_id], obj = draw(rng, *id_sizes[sample_id])
        labels[sample_id] = np.where(obj, classes[sample_id], 0).astype(np.uint8)
        labels[sample_id][_dilate(obj) & ~_erode(obj)] = 255  # VOC's band
    jpeg = (cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY)

    if voc:
        for sub in ('JPEGImages', 'SegmentationClass'):
            os.makedirs(osp.join(voc_root, sub), exist_ok=True)
        for sample_id in list(voc_ids) + list(extra_voc_images):
            _imwrite(osp.join(voc_root, 'JPEGImages', sample_id + '.jpg'),
                     images[sample_id], jpeg)
        for sample_id in voc_ids:
            write_palette_png(
                osp.join(voc_root, 'SegmentationClass', sample_id + '.png'),
                labels[sample_id])
        lists = osp.join(voc_root, 'ImageSets', 'Segmentation')
        _write_list(osp.join(lists, 'train.txt'), voc_train)
        _write_list(osp.join(lists, 'val.txt'), voc_val)
        _write_list(osp.join(lists, 'trainval.txt'),
                    sorted(set(voc_train) | set(voc_val)))
    if sbd:
        for sub in ('img', 'cls'):
            os.makedirs(osp.join(sbd_root, sub), exist_ok=True)
        for sample_id in sbd_ids:
            _imwrite(osp.join(sbd_root, 'img', sample_id + '.jpg'),
                     images[sample_id], jpeg)
            seg = labels[sample_id].copy()
            seg[seg == 255] = 0  # SBD has no boundary band
            write_sbd_mat(osp.join(sbd_root, 'cls', sample_id + '.mat'), seg)
        _write_list(osp.join(sbd_root, 'train.txt'), sbd_train)
        _write_list(osp.join(sbd_root, 'val.txt'), sbd_val)

    trainaug = sorted((set(voc_train) | set(sbd_train) | set(sbd_val)) -
                      set(voc_val))
    return dict(
        voc_train=list(voc_train), voc_val=list(voc_val),
        sbd_train=list(sbd_train), sbd_val=list(sbd_val), trainaug=trainaug,
        overlap=sorted(set(voc_ids) & set(sbd_ids)), classes=classes,
        sizes=id_sizes, voc_root=voc_root, sbd_root=sbd_root)


# --- NYUDv2 (nyud.tar.gz of fcn.berkeleyvision.org) -------------------------------

#: Default id lists of :func:`make_nyud_tree` (the real ones hold 381 / 414 / 654).
NYUD_TRAIN = ('5003', '5004')
NYUD_VAL = ('5010', )
NYUD_TEST = ('5001', '5002')


def write_nyud_mat(path: str, seg: np.ndarray) -> None:
    """Save a label map as NYUDv2's ``segmentation/img_<id>.mat``: a uint8 variable
    ``segmentation`` (0 void, 1..40) in a compressed v5 file."""
    import scipy.io
    scipy.io.savemat(path, {'segmentation': seg.astype(np.uint8)},
                     do_compression=True)


def write_depth_png(path: str, depth: np.ndarray) -> None:
    """Save depth values (millimetres) as a 16-bit single-channel PNG."""
    if depth.dtype != np.uint16 or depth.ndim != 2:
        raise ValueError('a depth PNG holds a (H, W) uint16 array')
    _imwrite(path, depth)


def make_nyud_tree(root: str,
                   train: Sequence[str] = NYUD_TRAIN,
                   val: Sequence[str] = NYUD_VAL,
                   test: Sequence[str] = NYUD_TEST,
                   sizes: Sequence[Size] = ((30, 40), (36, 28)),
                   num_classes: int = 40,
                   seed: int = 0) -> dict:
    """Write an NYUDv2 tree in the layout of the reference's ``nyud.tar.gz``.

    Per id: ``data/images/img_<id>.png`` (8-bit colour), ``data/hha/img_<id>.png``
    (8-bit, 3 channels), ``data/depth/img_<id>.png`` (16-bit, 500..9000 mm, no
    zeros) and ``segmentation/img_<id>.mat`` (:func:`write_nyud_mat`: a box of a
    class 1..``num_classes`` on a background class, with a void (0) border); the
    list files ``train.txt``, ``val.txt``, ``test.txt`` without a trailing newline,
    as the reference's, and no ``trainval.txt``.

    Args:
        root (str): Folder to write into (created).
        train, val, test (Sequence[str]): Id lists.
        sizes (Sequence[tuple]): (height, width) per id in list order, cycled.
        num_classes (int): Classes of the labels. Defaults to 40.
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: The id lists, ``sizes`` (id -> (h, w)) and ``files`` (id -> dict of
        ``color``, ``hha``, ``depth``, ``label`` paths).
    """
    rng = np.random.default_rng(seed)
    dirs = dict(color='data/images', hha='data/hha', depth='data/depth',
                label='segmentation')
    for sub in dirs.values():
        os.makedirs(osp.join(root, sub), exist_ok=True)
    ids = list(dict.fromkeys(list(train) + list(val) + list(test)))
    id_sizes, files = {}, {}
    for n, sample_id in enumerate(ids):
        h, w = id_sizes[sample_id] = tuple(sizes[n % len(sizes)])
        paths = {k: osp.join(root, d, f'img_{sample_id}' + ('.mat' if k == 'label'
                                                            else '.png'))
                 for k, d in dirs.items()}
        img, obj = box_frame(rng, h, w)
        _imwrite(paths['color'], img)
        Image.fromarray(_noise_image(rng, (h, w))).save(paths['hha'])  # RGB file
        depth = 500 + 8500 * (_smooth_noise(rng, h, w, 8) * 0.2 + 0.5).clip(0, 1)
        write_depth_png(paths['depth'], depth.astype(np.uint16))
        seg = np.where(obj, rng.integers(1, num_classes + 1),
                       rng.integers(1, num_classes + 1)).astype(np.uint8)
        seg[0] = seg[-1] = 0
        write_nyud_mat(paths['label'], seg)
        files[sample_id] = paths
    for name, split_ids in (('train', train), ('val', val), ('test', test)):
        with open(osp.join(root, f'{name}.txt'), 'w') as f:
            f.write('\n'.join(split_ids))
    return dict(train=list(train), val=list(val), test=list(test), sizes=id_sizes,
                files=files)


# --- PASCAL-Context ---------------------------------------------------------------

#: The 459 raw labels of PASCAL-Context's ``labels.txt`` in file order (raw label k
#: is the k-th; the reference keeps a copy as ``data/pascal-context/classes-400.txt``).
_CONTEXT_RAW_LABELS_TEXT = """\
accordion,aeroplane,air conditioner,antenna,artillery,ashtray,atrium,
baby carriage,bag,ball,balloon,bamboo weaving,barrel,baseball bat,basket,
basketball backboard,bathtub,bed,bedclothes,beer,bell,bench,bicycle,binoculars,
bird,bird cage,bird feeder,bird nest,blackboard,board,boat,bone,book,bottle,
bottle opener,bowl,box,bracelet,brick,bridge,broom,brush,bucket,building,bus,
cabinet,cabinet door,cage,cake,calculator,calendar,camel,camera,camera lens,can,
candle,candle holder,cap,car,card,cart,case,casette recorder,cash register,cat,
cd,cd player,ceiling,cell phone,cello,chain,chair,chessboard,chicken,chopstick,
clip,clippers,clock,closet,cloth,clothes tree,coffee,coffee machine,comb,
computer,concrete,cone,container,control booth,controller,cooker,
copying machine,coral,cork,corkscrew,counter,court,cow,crabstick,crane,crate,
cross,crutch,cup,curtain,cushion,cutting board,dais,disc,disc case,dishwasher,
dock,dog,dolphin,door,drainer,dray,drink dispenser,drinking machine,drop,drug,
drum,drum kit,duck,dumbbell,earphone,earrings,egg,electric fan,electric iron,
electric pot,electric saw,electronic keyboard,engine,envelope,equipment,
escalator,exhibition booth,extinguisher,eyeglass,fan,faucet,fax machine,fence,
ferris wheel,fire extinguisher,fire hydrant,fire place,fish,fish tank,fishbowl,
fishing net,fishing pole,flag,flagstaff,flame,flashlight,floor,flower,fly,foam,
food,footbridge,forceps,fork,forklift,fountain,fox,frame,fridge,frog,fruit,
funnel,furnace,game controller,game machine,gas cylinder,gas hood,gas stove,
gift box,glass,glass marble,globe,glove,goal,grandstand,grass,gravestone,ground,
guardrail,guitar,gun,hammer,hand cart,handle,handrail,hanger,hard disk drive,
hat,hay,headphone,heater,helicopter,helmet,holder,hook,horse,
horse-drawn carriage,hot-air balloon,hydrovalve,ice,inflator pump,ipod,iron,
ironing board,jar,kart,kettle,key,keyboard,kitchen range,kite,knife,knife block,
ladder,ladder truck,ladle,laptop,leaves,lid,life buoy,light,light bulb,lighter,
line,lion,lobster,lock,machine,mailbox,mannequin,map,mask,mat,match book,
mattress,menu,metal,meter box,microphone,microwave,mirror,missile,model,money,
monkey,mop,motorbike,mountain,mouse,mouse pad,musical instrument,napkin,net,
newspaper,oar,ornament,outlet,oven,oxygen bottle,pack,pan,paper,paper box,
paper cutter,parachute,parasol,parterre,patio,pelage,pen,pen container,pencil,
person,photo,piano,picture,pig,pillar,pillow,pipe,pitcher,plant,plastic,plate,
platform,player,playground,pliers,plume,poker,poker chip,pole,pool table,
postcard,poster,pot,pottedplant,printer,projector,pumpkin,rabbit,racket,
radiator,radio,rail,rake,ramp,range hood,receiver,recorder,
recreational machines,remote control,road,robot,rock,rocket,rocking horse,rope,
rug,ruler,runway,saddle,sand,saw,scale,scanner,scissors,scoop,screen,
screwdriver,sculpture,scythe,sewer,sewing machine,shed,sheep,shell,shelves,shoe,
shopping cart,shovel,sidecar,sidewalk,sign,signal light,sink,skateboard,ski,sky,
sled,slippers,smoke,snail,snake,snow,snowmobiles,sofa,spanner,spatula,speaker,
speed bump,spice container,spoon,sprayer,squirrel,stage,stair,stapler,stick,
sticky note,stone,stool,stove,straw,stretcher,sun,sunglass,sunshade,
surveillance camera,swan,sweeper,swim ring,swimming pool,swing,switch,table,
tableware,tank,tap,tape,tarp,telephone,telephone booth,tent,tire,toaster,toilet,
tong,tool,toothbrush,towel,toy,toy car,track,train,trampoline,trash bin,tray,
tree,tricycle,tripod,trophy,truck,tube,turtle,tvmonitor,tweezers,typewriter,
umbrella,unknown,vacuum cleaner,vending machine,video camera,video game console,
video player,video tape,violin,wakeboard,wall,wallet,wardrobe,washing machine,
watch,water,water dispenser,water pipe,water skate board,watermelon,whale,wharf,
wheel,wheelchair,window,window blinds,wineglass,wire,wood,wool"""
CONTEXT_RAW_LABELS = tuple(_CONTEXT_RAW_LABELS_TEXT.replace('\n', '').split(','))
#: ``59_labels.txt``: the task, spelled as the reference's ``classes-59.txt`` spells
#: it (``diningtable``, ``clothes``, ``bedcloth``).
CONTEXT_TASK_LABELS = tuple(
    {'table': 'diningtable', 'cloth': 'clothes', 'bedclothes': 'bedcloth'}.get(n, n)
    for n in CONTEXT59_CLASSES)
#: Default id lists of :func:`make_pascal_context_tree` (VOC2010 ``Main`` lists).
CONTEXT_TRAIN = ('2008_000002', '2008_000007', '2008_000008')
CONTEXT_VAL = ('2008_000010', '2008_000012')


def write_label_list(path: str, names: Sequence[str]) -> None:
    """Write a PASCAL-Context label list: ``<k>: <name>`` lines, k from 1."""
    with open(path, 'w') as f:
        f.write(''.join(f'{k}: {name}\n' for k, name in enumerate(names, 1)))


def write_context_mat(path: str, label_map: np.ndarray) -> None:
    """Save raw labels as PASCAL-Context does: variable ``LabelMap`` of a ``.mat``."""
    import scipy.io
    scipy.io.savemat(path, {'LabelMap': label_map}, do_compression=True)


def context_raw_label_map(rng: np.random.Generator, h: int, w: int,
                          every_label: bool = False) -> np.ndarray:
    """A ``uint16`` map of raw labels 0..459 in small blocks, so that the resized
    and cropped maps keep several classes; with ``every_label`` each value occurs
    at least once (needs ``h * w >= 460``)."""
    num = len(CONTEXT_RAW_LABELS) + 1
    if every_label:
        values = np.concatenate([np.arange(num), rng.integers(0, num, h * w - num)])
        return rng.permutation(values).reshape(h, w).astype(np.uint16)
    blocks = rng.integers(0, num, ((h + 3) // 4, (w + 3) // 4))
    return np.kron(blocks, np.ones((4, 4), np.int64))[:h, :w].astype(np.uint16)


def make_pascal_context_tree(root: str,
                             train: Sequence[str] = CONTEXT_TRAIN,
                             val: Sequence[str] = CONTEXT_VAL,
                             sizes: Sequence[Size] = ((30, 40), (40, 30)),
                             voc_dir: str = 'VOC2010',
                             seed: int = 0) -> dict:
    """Write the layout ``PascalContextFCNDataset`` reads, as the archives extract.

    ``<root>/VOC2010/JPEGImages/<id>.jpg`` and ``ImageSets/Main/{train,val}.txt``;
    ``<root>/trainval/<id>.mat`` (``LabelMap`` of raw labels), ``labels.txt`` (all
    459 raw labels) and ``59_labels.txt``. The first id's ``LabelMap`` holds every
    raw label 0..459.

    Args:
        root (str): Folder to write into.
        train, val (Sequence[str]): Id lists.
        sizes (Sequence[tuple]): (height, width) per id in list order, cycled.
        voc_dir (str): Defaults to ``'VOC2010'``.
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: ``train``, ``val``, ``sizes`` (id -> (h, w)), ``raw`` (id -> the
        ``LabelMap``), ``mat`` (id -> its file) and the folders ``voc_root`` and
        ``context_root``.
    """
    rng = np.random.default_rng(seed)
    voc_root = osp.join(root, voc_dir)
    for sub in ('JPEGImages', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(voc_root, sub), exist_ok=True)
    os.makedirs(osp.join(root, 'trainval'), exist_ok=True)
    write_label_list(osp.join(root, 'labels.txt'), CONTEXT_RAW_LABELS)
    write_label_list(osp.join(root, '59_labels.txt'), CONTEXT_TASK_LABELS)
    ids = list(dict.fromkeys(list(train) + list(val)))
    id_sizes, raw, mats = {}, {}, {}
    for n, sample_id in enumerate(ids):
        h, w = id_sizes[sample_id] = tuple(sizes[n % len(sizes)])
        _imwrite(osp.join(voc_root, 'JPEGImages', sample_id + '.jpg'),
                 _noise_image(rng, (h, w)), (cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY))
        raw[sample_id] = context_raw_label_map(rng, h, w, every_label=n == 0)
        mats[sample_id] = osp.join(root, 'trainval', sample_id + '.mat')
        write_context_mat(mats[sample_id], raw[sample_id])
    _write_list(osp.join(voc_root, 'ImageSets', 'Main', 'train.txt'), train)
    _write_list(osp.join(voc_root, 'ImageSets', 'Main', 'val.txt'), val)
    return dict(train=list(train), val=list(val), sizes=id_sizes, raw=raw, mat=mats,
                voc_root=voc_root, context_root=root)


def make_mmseg_context_tree(root: str, labels: Mapping[str, np.ndarray],
                            train: Sequence[str], val: Sequence[str],
                            seed: int = 0) -> str:
    """Write mmseg's PASCAL-Context layout (what its converter produces).

    ``<root>/VOC2010/JPEGImages/<id>.jpg``, ``SegmentationClassContext/<id>.png``
    (labels 0..59 in mmseg's alphabetical ``PascalContextDataset`` order) and
    ``ImageSets/SegmentationContext/{train,val}.txt``.

    Args:
        root (str): Folder to write into.
        labels (Mapping[str, np.ndarray]): id -> label map in mmseg's order.
        train, val (Sequence[str]): Id lists.
        seed (int): Random seed of the images. Defaults to 0.

    Returns:
        str: The ``data_root`` of mmseg's config (``<root>/VOC2010``).
    """
    rng = np.random.default_rng(seed)
    voc = osp.join(root, 'VOC2010')
    for sub in ('JPEGImages', 'SegmentationClassContext'):
        os.makedirs(osp.join(voc, sub), exist_ok=True)
    for sample_id, seg in labels.items():
        _imwrite(osp.join(voc, 'JPEGImages', sample_id + '.jpg'),
                 _noise_image(rng, seg.shape), (cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY))
        Image.fromarray(seg.astype(np.uint8)).save(
            osp.join(voc, 'SegmentationClassContext', sample_id + '.png'))
    lists = osp.join(voc, 'ImageSets', 'SegmentationContext')
    _write_list(osp.join(lists, 'train.txt'), train)
    _write_list(osp.join(lists, 'val.txt'), val)
    return voc


# --- SIFT Flow ----------------------------------------------------------------------

#: Default id lists of :func:`make_siftflow_tree` (real ids are ``<scene>_<name>``).
SIFTFLOW_TRAINVAL = ('coast_arnat59', 'forest_for15', 'highway_art820',
                     'insidecity_a223049', 'mountain_n44009', 'street_par29')
SIFTFLOW_TEST = ('coast_natu975', 'insidecity_art947', 'opencountry_land202')
#: Semantic classes (stored values 1..33) drawn by :func:`siftflow_scene`: the sky,
#: the ground and the objects standing on it.
SIFTFLOW_SKY = 28
SIFTFLOW_GROUNDS = (22, 25, 15, 24)  # road, sea, grass, sand
SIFTFLOW_OBJECTS = (6, 32, 8, 17, 9)  # building, tree, car, mountain, cow
#: Stored geometric value of each semantic value: 1 sky, 2 horizontal, 3 vertical.
SIFTFLOW_GEOMETRY = {SIFTFLOW_SKY: 1, **{g: 2 for g in SIFTFLOW_GROUNDS},
                     **{o: 3 for o in SIFTFLOW_OBJECTS}}


def siftflow_scene(rng: np.random.Generator, h: int, w: int,
                   objects: Sequence[int] = SIFTFLOW_OBJECTS
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw an outdoor scene with its SIFT Flow labels as stored in the ``.mat`` files.

    Sky above a horizon, a ground class below it, one or two objects standing on
    the ground, and a few unlabelled pixels; each class has a colour of its own
    plus noise.

    Args:
        rng (np.random.Generator): Source of randomness.
        h (int): Height in pixels.
        w (int): Width in pixels.
        objects (Sequence[int]): Semantic values the objects are drawn from.

    Returns:
        tuple: BGR ``uint8`` image (h, w, 3), the semantic ``S`` (int16: 0 void,
        1..33) and the geometric ``S`` (int16: -1 void, 1..3), which is
        :data:`SIFTFLOW_GEOMETRY` of the semantic one.
    """
    sem = np.full((h, w), SIFTFLOW_SKY, np.int16)
    horizon = int(rng.integers(h // 3, 2 * h // 3 + 1))
    sem[horizon:] = rng.choice(SIFTFLOW_GROUNDS)
    for _ in range(int(rng.integers(1, 3))):
        oh, ow = int(rng.integers(h // 6, h // 2 + 1)), int(rng.integers(w // 6, w // 2 + 1))
        x0 = int(rng.integers(0, w - ow + 1))
        y1 = min(h, horizon + int(rng.integers(0, h // 8 + 1)))
        sem[max(0, y1 - oh):y1, x0:x0 + ow] = rng.choice(objects)
    void = rng.random((h, w)) < 0.03
    sem[void] = 0
    geo = np.full((h, w), -1, np.int16)
    for value, kind in SIFTFLOW_GEOMETRY.items():
        geo[sem == value] = kind
    colours = np.random.default_rng(7).integers(30, 226, size=(34, 3))
    img = colours[sem] + rng.integers(-20, 21, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8), sem, geo


def write_siftflow_mat(path: str, s: np.ndarray, names: Sequence[str] = ()) -> None:
    """Save a SIFT Flow label file: a MATLAB v5 ``.mat`` with the label map ``S``
    (and the class names ``names``, as the dataset's files carry them)."""
    import scipy.io
    os.makedirs(osp.dirname(path), exist_ok=True)
    content = {'S': np.asarray(s)}
    if names:
        content['names'] = np.array(list(names), dtype=object)
    scipy.io.savemat(path, content)


def make_siftflow_tree(root: str,
                       trainval: Sequence[str] = SIFTFLOW_TRAINVAL,
                       test: Sequence[str] = SIFTFLOW_TEST,
                       sizes: Sequence[Size] = ((32, 40), (40, 32)),
                       seed: int = 0) -> dict:
    """Write a SIFT Flow tree as ``SiftFlowDataset.zip`` extracts, plus the
    reference's ``trainval.txt`` / ``test.txt`` (no newline after the last id,
    as the reference's files).

    Test images draw no ``cow`` object, so the test labels lack cow (and every
    class never drawn, e.g. desert and moon), as in the real test set.

    Args:
        root (str): Folder to write into.
        trainval, test (Sequence[str]): Id lists.
        sizes (Sequence[tuple]): (height, width) per id, cycled. Defaults to
            ((32, 40), (40, 32)); the real images are all 256 x 256.
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: ``trainval``, ``test``, per id its ``sizes``, stored semantic
        ``sem`` and geometric ``geo`` maps (int16), and ``image`` (BGR as written,
        before JPEG coding).
    """
    from ..datasets.siftflow import CATEGORY_DIR, GEOMETRIC_CLASSES, SEMANTIC_CLASSES
    rng = np.random.default_rng(seed)
    jpeg = (cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY)
    out = dict(trainval=list(trainval), test=list(test), sizes={}, sem={}, geo={},
               image={})
    os.makedirs(osp.join(root, 'Images', CATEGORY_DIR), exist_ok=True)
    for n, sample_id in enumerate(list(trainval) + list(test)):
        size = tuple(sizes[n % len(sizes)])
        objects = [o for o in SIFTFLOW_OBJECTS
                   if sample_id not in test or SEMANTIC_CLASSES[o - 1] != 'cow']
        img, sem, geo = siftflow_scene(rng, *size, objects=objects)
        _imwrite(osp.join(root, 'Images', CATEGORY_DIR, sample_id + '.jpg'), img, jpeg)
        write_siftflow_mat(osp.join(root, 'SemanticLabels', CATEGORY_DIR,
                                    sample_id + '.mat'), sem, SEMANTIC_CLASSES)
        write_siftflow_mat(osp.join(root, 'GeoLabels', CATEGORY_DIR,
                                    sample_id + '.mat'), geo, GEOMETRIC_CLASSES)
        out['sizes'][sample_id], out['image'][sample_id] = size, img
        out['sem'][sample_id], out['geo'][sample_id] = sem, geo
    for split in ('trainval', 'test'):
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.write('\n'.join(out[split]))
    return out

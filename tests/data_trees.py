"""Small dataset trees in the real on-disk formats, for tests.

* :func:`make_polyps912_tree`: EndoScene "polyps_split7": ``.bmp`` frames and
  ``.tif`` masks with values 0..N-1 and a void (N) image border.
* :func:`make_voc_sbd_tree`: ``VOCdevkit/VOC2012`` (``.jpg``, palette ``.png``
  labels with a 255 boundary band, ``ImageSets/Segmentation`` lists) next to
  ``benchmark_RELEASE/dataset`` (``img/*.jpg``, ``cls/*.mat`` MATLAB structs
  ``GTcls`` with ``Segmentation``, ``Boundaries`` and ``CategoriesPresent``,
  ``train.txt`` / ``val.txt``).

Usage from other tests::

    from tests.data_trees import make_polyps912_tree, make_voc_sbd_tree
"""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
from PIL import Image

from mmseg_fcn_classic.visualization.palette import voc_palette

#: Default id lists of :func:`make_voc_sbd_tree`. Like the real data, VOC train /
#: val are disjoint and so are SBD train / val, while SBD overlaps both VOC lists.
VOC_TRAIN = ('2007_000032', '2007_000039', '2008_000008', '2008_000015')
VOC_VAL = ('2007_000033', '2007_000042', '2008_000009')
SBD_TRAIN = ('2008_000008', '2008_000009', '2008_000020', '2008_000023',
             '2008_000026')
SBD_VAL = ('2007_000042', '2008_000015', '2008_000030', '2008_000033')

Size = Tuple[int, int]


def write_palette_png(path: str, seg: np.ndarray) -> None:
    """Save class indices as a VOC palette ('P' mode) PNG."""
    img = Image.fromarray(seg.astype(np.uint8))  # 'L'; a palette makes it 'P'
    img.putpalette(voc_palette())
    img.save(path)


def write_sbd_mat(path: str, seg: np.ndarray, num_classes: int = 20) -> None:
    """Save a label map as SBD does: struct ``GTcls`` in a compressed v5 file.

    ``Boundaries`` is a ``num_classes`` x 1 cell of sparse logical maps,
    ``CategoriesPresent`` a column of the present class ids.
    """
    import scipy.io
    import scipy.sparse
    seg = seg.astype(np.uint8)
    boundaries = np.empty((num_classes, 1), dtype=object)
    for k in range(num_classes):
        mask = seg == k + 1
        edge = mask & ~_erode(mask)
        boundaries[k, 0] = scipy.sparse.csc_matrix(edge)
    present = np.array([c for c in np.unique(seg) if 0 < c <= num_classes],
                       dtype=np.uint8).reshape(-1, 1)
    scipy.io.savemat(
        path, {'GTcls': {'Segmentation': seg, 'Boundaries': boundaries,
                         'CategoriesPresent': present}},
        do_compression=True)


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


def _image(rng: np.random.Generator, size: Size) -> np.ndarray:
    h, w = size
    base = rng.integers(40, 200, size=3)
    noise = rng.integers(0, 40, size=(h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def polyp_mask(size: Size, num_classes: int, rng: np.random.Generator,
               border: int = 2) -> np.ndarray:
    """A polyp-like mask: background 0, a polyp (1), lumen (2) and specularity
    (3) blobs as ``num_classes`` allows, and the void value ``num_classes`` on an
    image border ``border`` pixels wide."""
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


def make_polyps912_tree(root: str,
                        counts: Sequence[int] = (4, 2, 2),
                        sizes: Sequence[Size] = ((30, 40), (28, 36)),
                        mask_dir: Union[str, Sequence[str]] = 'masks2',
                        seed: int = 0) -> Dict[str, List[str]]:
    """Write an EndoScene ("polyps_split7") tree under ``root``.

    Layout: ``root/{train,valid,test}/images/<id>.bmp`` and
    ``root/{split}/<mask_dir>/<id>.tif``; ids are frame numbers ``'1'``, ``'2'``...
    numbered across the splits. A mask folder ``masksN`` holds classes 0..N-1 and
    void = N on the image border.

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
    ids: Dict[str, List[str]] = {}
    frame = 0
    for split, count in zip(('train', 'valid', 'test'), counts):
        img_dir = osp.join(root, split, 'images')
        os.makedirs(img_dir, exist_ok=True)
        for d in mask_dirs:
            os.makedirs(osp.join(root, split, d), exist_ok=True)
        ids[split] = []
        for _ in range(count):
            frame += 1
            sample_id = str(frame)
            size = tuple(sizes[(frame - 1) % len(sizes)])
            Image.fromarray(_image(rng, size)).save(
                osp.join(img_dir, sample_id + '.bmp'))
            for d in mask_dirs:
                num_classes = int(d[len('masks'):])
                seg = polyp_mask(size, num_classes, rng)
                Image.fromarray(seg).save(
                    osp.join(root, split, d, sample_id + '.tif'))
            ids[split].append(sample_id)
    return ids


def voc_label(size: Size, cls: int, rng: np.random.Generator,
              band: bool = True) -> np.ndarray:
    """A VOC-like label: background 0, one object of class ``cls`` and, when
    ``band``, the 255 boundary band VOC draws around objects."""
    h, w = size
    y0, x0 = rng.integers(2, h // 3), rng.integers(2, w // 3)
    y1, x1 = rng.integers(2 * h // 3, h - 2), rng.integers(2 * w // 3, w - 2)
    obj = np.zeros((h, w), dtype=bool)
    obj[y0:y1, x0:x1] = True
    seg = np.where(obj, cls, 0).astype(np.uint8)
    if band:
        seg[_dilate(obj) & ~_erode(obj)] = 255
    return seg


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
        sizes (Sequence[tuple]): (height, width) per id, cycled. Defaults to
            ((30, 40), (40, 30)).
        voc (bool): Write the VOC tree. Defaults to True.
        sbd (bool): Write the SBD tree. Defaults to True.
        voc_dir (str): Defaults to ``'VOCdevkit/VOC2012'``.
        sbd_dir (str): Defaults to ``'benchmark_RELEASE/dataset'``.
        extra_voc_images (Sequence[str]): Unlabelled VOC JPEGs.
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
    classes, id_sizes, images = {}, {}, {}
    for n, sample_id in enumerate(all_ids):
        id_sizes[sample_id] = tuple(sizes[n % len(sizes)])
        classes[sample_id] = int(rng.integers(1, 21))
        images[sample_id] = _image(rng, id_sizes[sample_id])
    objects = {i: voc_label(id_sizes[i], classes[i], rng) for i in all_ids}

    if voc:
        for sub in ('JPEGImages', 'SegmentationClass'):
            os.makedirs(osp.join(voc_root, sub), exist_ok=True)
        for sample_id in list(voc_ids) + list(extra_voc_images):
            Image.fromarray(images[sample_id]).save(
                osp.join(voc_root, 'JPEGImages', sample_id + '.jpg'),
                quality=95)
        for sample_id in voc_ids:
            write_palette_png(
                osp.join(voc_root, 'SegmentationClass', sample_id + '.png'),
                objects[sample_id])
        lists = osp.join(voc_root, 'ImageSets', 'Segmentation')
        _write_list(osp.join(lists, 'train.txt'), voc_train)
        _write_list(osp.join(lists, 'val.txt'), voc_val)
        _write_list(osp.join(lists, 'trainval.txt'),
                    sorted(set(voc_train) | set(voc_val)))
    if sbd:
        for sub in ('img', 'cls'):
            os.makedirs(osp.join(sbd_root, sub), exist_ok=True)
        for sample_id in sbd_ids:
            Image.fromarray(images[sample_id]).save(
                osp.join(sbd_root, 'img', sample_id + '.jpg'), quality=95)
            seg = objects[sample_id].copy()
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
